import { recordAudit } from '../audit/audit.ts'
import type { DeclarationType } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { inTransaction } from '../db/transaction.ts'
import type { Db, Trx } from '../db/database.ts'
import type { DeclarationState } from '../db/schema.ts'
import { queueDfeRequest } from '../dfe/requests.ts'
import { AppError } from '../errors.ts'
import { describePrincipal, type Principal } from '../policy/principal.ts'
import type { ReportQuery } from '../reports/engagement-reports.ts'
import type { Services } from '../services.ts'
import { outputEvaluations, type EnrolmentOutputs } from '../outputs/report.ts'
import { changeDeclarationState } from './state.ts'

// Declarations of outputs to DfE (issue 6, INTERFACES.md `npq declare`). A declaration is made only
// for an output that is `eligible` as of the date — re-evaluated inside the transaction that writes
// it — dated on its evidence date, and keeps a snapshot of the evidence and engagement it was made
// on. One live declaration per participant, course and type: the partial unique index decides races,
// and an idempotency key makes a repeated request (a double-clicked form, a retried command) return
// what the first one made.

export type DeclareRequest = ReportQuery & {
  declarationType: DeclarationType
  /** Only these participants (the review page's selection); all eligible ones when absent. */
  participantIds?: string[]
  dryRun?: boolean
  /** Names this request: the same key and participant never declare twice. */
  requestKey?: string
}

export type DeclaredRow = {
  participant_id: string
  course_identifier: string
  declaration_type: DeclarationType
  declaration_date: string
  has_passed: boolean | null
  state: DeclarationState
}

export type DeclareResult = {
  created: (DeclaredRow & { id: string | null })[]
  /** Participants asked for who could not be declared, and why. */
  refused: { participant_id: string; course_identifier: string | null; reason: string }[]
}

/** With DfE sync on, a queued request is also sent as soon as its transaction commits (not at the next sweep). */
const sendNow = (services: Services) => (services.dfe.enabled ? services.jobs : undefined)

/** The snapshot kept with a declaration: the criterion, its date, the records behind it and engagement. */
export function snapshotOf(e: EnrolmentOutputs, type: DeclarationType) {
  const output = e.outputs.find((o) => o.declaration_type === type)!
  const criterion = output.evidence!
  const records =
    criterion === 'credits-90-and-assessment'
      ? [...e.records.assessment, ...e.records['credits-increase'].filter((r) => r.on <= output.evidence_on!)]
      : e.records[criterion].filter((r) => r.on === output.evidence_on)
  return {
    evidence: { criterion, evidence_on: output.evidence_on, review_date: output.review_date, records },
    engagement: {
      credits_earned: e.engagement.creditsEarned,
      credits_available: e.engagement.creditsAvailable,
      engagement_percent: e.engagement.percent,
      blocks: e.engagement.blocks,
    },
  }
}

/** Declares every eligible participant in scope (or the ones asked for) for one output type. */
export async function declareOutputs(
  services: Services,
  by: Principal,
  request: DeclareRequest,
  today = londonDateOf(new Date()),
  db: Db | Trx = services.db,
): Promise<DeclareResult> {
  const work = async (trx: Trx): Promise<DeclareResult> => {
    const enrolments = await outputEvaluations(services, request, trx)
    const wanted = request.participantIds ? new Set(request.participantIds) : null
    const leadProviderId = (await leadProviderIdOf(trx, request.leadProvider))!
    const result: DeclareResult = { created: [], refused: [] }
    const seen = new Set<string>()
    for (const e of enrolments) {
      if (wanted && !wanted.has(e.participantId)) continue
      seen.add(e.participantId)
      const output = e.outputs.find((o) => o.declaration_type === request.declarationType)
      const refuse = (reason: string) =>
        result.refused.push({ participant_id: e.participantId, course_identifier: e.courseIdentifier, reason })
      if (!output) {
        if (wanted) refuse(`${e.courseIdentifier} has no ${request.declarationType} output`)
        continue
      }
      if (output.status !== 'eligible') {
        if (wanted) refuse(output.status === 'declared' ? 'Already declared' : `Not eligible: ${output.reasons.join('; ')}`)
        continue
      }
      const row: DeclaredRow = {
        participant_id: e.participantId,
        course_identifier: e.courseIdentifier,
        declaration_type: request.declarationType,
        declaration_date: output.evidence_on!,
        has_passed: request.declarationType === 'completed' ? e.assessmentPassed : null,
        state: 'submitted',
      }
      if (row.declaration_date > today) {
        refuse(`Its evidence is dated ${row.declaration_date}, after today`)
        continue
      }
      // DfE's rules, no looser here: dated before a withdrawal, and never inside a deferral.
      const { withdrawnOn, deferrals } = e.facts
      if (withdrawnOn !== null && row.declaration_date >= withdrawnOn) {
        refuse(`Withdrawn on ${withdrawnOn}: a declaration must be dated before the withdrawal`)
        continue
      }
      const deferral = deferrals.find((d) => d.from <= row.declaration_date && (d.resumedOn === null || d.resumedOn > row.declaration_date))
      if (deferral) {
        refuse(`Deferred from ${deferral.from} on the evidence date ${row.declaration_date}`)
        continue
      }
      if (request.dryRun) {
        result.created.push({ ...row, id: null })
        continue
      }
      const snapshot = snapshotOf(e, request.declarationType)
      const key = `${request.requestKey ?? 'declare'}/${e.participantId}/${e.courseIdentifier}/${request.declarationType}`
      // On a conflict (the same request again, or another live declaration made meanwhile — the
      // partial unique index waits for the other transaction) nothing is written.
      const made = await trx
        .insertInto('declarations')
        .values({
          enrolment_id: e.enrolmentId,
          participant_id: e.participantId,
          lead_provider_id: leadProviderId,
          delivery_partner_id: e.deliveryPartnerId,
          course_identifier: e.courseIdentifier,
          cohort: request.cohort,
          declaration_type: request.declarationType,
          declaration_date: row.declaration_date,
          has_passed: row.has_passed,
          evidence: JSON.stringify(snapshot.evidence),
          engagement: JSON.stringify(snapshot.engagement),
          idempotency_key: key,
          declared_by: describePrincipal(by).actorUserId,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst()
      if (!made) {
        refuse('Already declared')
        continue
      }
      await trx
        .insertInto('declaration_state_changes')
        .values({
          declaration_id: made.id,
          from_state: null,
          to_state: 'submitted',
          source: 'platform',
          changed_by: describePrincipal(by).actorUserId,
        })
        .execute()
      await recordAudit(trx, {
        by,
        action: 'declaration.created',
        entityType: 'declaration',
        entityId: made.id,
        after: { ...row, evidence: snapshot.evidence },
      })
      await queueDfeRequest(trx, { leadProviderId, kind: 'submit-declaration', subjectId: made.id, queuedBy: by, jobs: sendNow(services) })
      result.created.push({ ...row, id: made.id })
    }
    if (wanted) {
      for (const id of wanted) {
        if (!seen.has(id)) result.refused.push({ participant_id: id, course_identifier: null, reason: 'Not in this cohort and course' })
      }
    }
    return result
  }
  return request.dryRun ? work(db as Trx) : inTransaction(db, work)
}

async function leadProviderIdOf(trx: Trx, code: string): Promise<string | undefined> {
  const row = await trx
    .selectFrom('organisations')
    .select('id')
    .where('kind', '=', 'lead-provider')
    .where('code', '=', code)
    .executeTakeFirst()
  return row?.id
}

/**
 * Voids a declaration (DfE's rules): submitted, eligible, payable or ineligible → voided; paid →
 * awaiting-clawback, with a clawback raised; anything already voided or clawed back is refused.
 * The void is queued for DfE in the same transaction.
 */
export async function voidDeclaration(
  services: Services,
  by: Principal,
  input: { declarationId: string; reason: string },
  today = londonDateOf(new Date()),
): Promise<{ state: DeclarationState }> {
  const reason = input.reason.trim()
  if (!reason)
    throw new AppError('validation-failed', 'Give a reason for voiding', [
      { field: 'reason', message: 'Enter why the declaration is being voided' },
    ])
  return inTransaction(services.db, async (trx) => {
    const declaration = await trx
      .selectFrom('declarations')
      .select(['id', 'state', 'lead_provider_id'])
      .where('id', '=', input.declarationId)
      .forUpdate()
      .executeTakeFirst()
    if (!declaration) throw new AppError('not-found', 'Declaration not found')
    const to: DeclarationState | null = ['submitted', 'eligible', 'payable', 'ineligible'].includes(declaration.state)
      ? 'voided'
      : declaration.state === 'paid'
        ? 'awaiting-clawback'
        : null
    if (!to) {
      throw new AppError('conflict', `This declaration is already ${declaration.state.replace('-', ' ')}: it cannot be voided again`)
    }
    await changeDeclarationState(trx, { declarationId: declaration.id, to, source: 'platform', reason, by })
    if (to === 'awaiting-clawback') {
      await trx
        .insertInto('clawbacks')
        .values({ declaration_id: declaration.id, raised_on: today, raised_by: describePrincipal(by).actorUserId })
        .execute()
    }
    await queueDfeRequest(trx, {
      leadProviderId: declaration.lead_provider_id,
      kind: 'void-declaration',
      subjectId: declaration.id,
      queuedBy: by,
      jobs: sendNow(services),
    })
    return { state: to }
  })
}
