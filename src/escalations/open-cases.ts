import { sql } from 'kysely'
import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Trx } from '../db/database.ts'
import { defineJob, type JobDefinition } from '../jobs/queue.ts'
import { caseKey, escalations, type Escalation } from '../outputs/report.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { closedReasonLabels, formatDate, loadCases, usersWithRole, type CaseRow, type ClosedReason } from './cases.ts'
import { stageLabels } from './queue.ts'
import { withdrawalInForce, deferredOn } from '../participants/in-force.ts'

// The daily escalation job (DOMAIN.md "Escalation", INTERFACES.md `escalations`): for every lead
// provider and cohort, the escalations as of the day. Each one not yet open becomes a case (one per
// enrolment, output and review date) from the day after the review date; a case whose output has been
// met since is closed (criteria-met), as is one whose participant deferred or withdrew. Each open
// case's stage is recorded when it changes (a `stage-changed` action), and the partner's leads get one
// email per run listing their cases that changed. Running it again on the same day changes nothing:
// a lead provider's run is one transaction under an advisory lock, so two runs never interleave.

export const escalationCasesJobName = 'escalation-cases'

/** What the job reads: escalations() uses only the database, the catalogue and the designs. */
export type EscalationJobDeps = Pick<Services, 'db' | 'catalogue' | 'designs' | 'email' | 'config' | 'logger'>

export type CaseRunResult = { opened: number; reopened: number; closed: number; stageChanges: number; emails: number }

const system: Principal = { kind: 'system', name: 'escalation-cases' }

type Change = { c: CaseRow; now: string }

/** Opens, closes and updates escalation cases as of a London date; the job calls it with today. */
export async function openEscalationCases(deps: EscalationJobDeps, asOf: string): Promise<CaseRunResult> {
  const total: CaseRunResult = { opened: 0, reopened: 0, closed: 0, stageChanges: 0, emails: 0 }
  const leadProviders = await deps.db
    .selectFrom('organisations')
    .select(['id', 'code'])
    .where('kind', '=', 'lead-provider')
    .orderBy('code')
    .execute()
  const failures: unknown[] = []
  for (const lp of leadProviders) {
    if (deps.catalogue.coursesOf(lp.code).length === 0) continue
    // One provider's failure does not hold up the others; the job fails afterwards so it is retried.
    try {
      const run = await deps.db.transaction().execute((trx) => runForLeadProvider(trx, deps, lp, asOf))
      for (const k of Object.keys(total) as (keyof CaseRunResult)[]) total[k] += run[k]
    } catch (error) {
      deps.logger.error({ err: error, leadProvider: lp.code, asOf }, 'escalation cases not updated for a lead provider')
      failures.push(error)
    }
  }
  if (total.opened || total.reopened || total.closed || total.stageChanges) deps.logger.info({ asOf, ...total }, 'escalation cases updated')
  if (failures.length)
    throw failures.length === 1 ? failures[0] : new AggregateError(failures, 'escalation cases not updated for some lead providers')
  return total
}

async function runForLeadProvider(trx: Trx, deps: EscalationJobDeps, lp: { id: string; code: string }, asOf: string) {
  const result: CaseRunResult = { opened: 0, reopened: 0, closed: 0, stageChanges: 0, emails: 0 }
  await sql`select pg_advisory_xact_lock(hashtext(${`escalation-cases:${lp.id}`}))`.execute(trx)

  const runs = new Set(deps.catalogue.coursesOf(lp.code).flatMap((c) => deps.catalogue.cohortsFor(lp.code, c)))
  const enrolled = await trx.selectFrom('enrolments').select('cohort').distinct().where('lead_provider_id', '=', lp.id).execute()
  const live = new Map<string, Escalation>()
  for (const { cohort } of enrolled.filter((r) => runs.has(r.cohort)).sort((a, b) => a.cohort.localeCompare(b.cohort))) {
    // escalations() reads only db, catalogue and designs of the services (see EscalationJobDeps).
    for (const x of await escalations(deps as Services, { leadProvider: lp.code, cohort, asOf }, trx)) {
      live.set(caseKey(x.enrolment.enrolmentId, x.output.declaration_type, x.reviewDate), x)
    }
  }

  const existing = await trx
    .selectFrom('escalation_cases as c')
    .innerJoin('enrolments as e', 'e.id', 'c.enrolment_id')
    .select(['c.id', 'c.enrolment_id', 'c.declaration_type', sql<string>`c.review_date::text`.as('review_date'), 'c.closed_reason'])
    .where('e.lead_provider_id', '=', lp.id)
    .execute()
  const byKey = new Map(existing.map((c) => [caseKey(c.enrolment_id, c.declaration_type, c.review_date), c]))

  for (const [key, x] of live) {
    if (x.stage === 'resolved') continue
    const found = byKey.get(key)
    if (!found) {
      const row = await trx
        .insertInto('escalation_cases')
        .values({
          enrolment_id: x.enrolment.enrolmentId,
          participant_id: x.enrolment.participantId,
          course_identifier: x.enrolment.courseIdentifier,
          declaration_type: x.output.declaration_type,
          review_date: x.reviewDate,
          opened_on: asOf,
        })
        .onConflict((oc) => oc.columns(['enrolment_id', 'declaration_type', 'review_date']).doNothing())
        .returning('id')
        .executeTakeFirst()
      if (!row) continue
      await recordAudit(trx, {
        by: system,
        action: 'escalation.opened',
        entityType: 'escalation-case',
        entityId: row.id,
        after: { enrolment_id: x.enrolment.enrolmentId, declaration_type: x.output.declaration_type, review_date: x.reviewDate },
      })
      result.opened++
    } else if (found.closed_reason !== null && found.closed_reason !== 'removed') {
      // Escalated again after closing: the participant came back from a deferral, or evidence was retracted.
      await trx.updateTable('escalation_cases').set({ closed_on: null, closed_reason: null }).where('id', '=', found.id).execute()
      await addSystemAction(
        trx,
        found.id,
        asOf,
        'note',
        `Reopened: the output is still not met (the case was closed: ${closedReasonLabels[found.closed_reason].toLowerCase()})`,
      )
      await recordAudit(trx, { by: system, action: 'escalation.reopened', entityType: 'escalation-case', entityId: found.id })
      result.reopened++
    }
  }

  const open = await loadCases(trx, { leadProviderIds: [lp.id], open: true })
  const lastStage = new Map<string, string | null>()
  if (open.length) {
    const recorded = await trx
      .selectFrom('escalation_actions')
      .select(['case_id', 'notes'])
      .where(
        'case_id',
        'in',
        open.map((c) => c.id),
      )
      .where('kind', '=', 'stage-changed')
      .orderBy('recorded_at')
      .orderBy('id')
      .execute()
    for (const r of recorded) lastStage.set(r.case_id, r.notes)
  }

  const changes: Change[] = []
  for (const c of open) {
    const x = live.get(caseKey(c.enrolmentId, c.declarationType, c.reviewDate))
    if (!x || x.stage === 'resolved') {
      const reason: ClosedReason = x ? 'criteria-met' : await whyNoLongerEscalated(trx, c.participantId, asOf)
      await trx.updateTable('escalation_cases').set({ closed_on: asOf, closed_reason: reason }).where('id', '=', c.id).execute()
      if (reason === 'criteria-met') await addSystemAction(trx, c.id, asOf, 'stage-changed', 'resolved')
      else await addSystemAction(trx, c.id, asOf, 'note', `Closed: ${closedReasonLabels[reason].toLowerCase()}`)
      await recordAudit(trx, {
        by: system,
        action: 'escalation.closed',
        entityType: 'escalation-case',
        entityId: c.id,
        after: { closed_reason: reason },
      })
      result.closed++
      changes.push({ c, now: `closed (${closedReasonLabels[reason].toLowerCase()})` })
      continue
    }
    if (lastStage.get(c.id) === x.stage) continue
    await addSystemAction(trx, c.id, asOf, 'stage-changed', x.stage)
    result.stageChanges++
    changes.push({ c, now: stageLabels[x.stage].toLowerCase() })
  }
  result.emails = await emailLeads(trx, deps, changes)
  return result
}

async function addSystemAction(trx: Trx, caseId: string, on: string, kind: 'stage-changed' | 'note', notes: string) {
  await trx.insertInto('escalation_actions').values({ case_id: caseId, kind, on_date: on, notes, recorded_by: null }).execute()
}

/** Why an open case's participant is no longer escalated: withdrawn, deferred, or (evidence corrected) met. */
async function whyNoLongerEscalated(trx: Trx, participantId: string, asOf: string): Promise<ClosedReason> {
  const withdrawn = await trx
    .selectFrom('withdrawals')
    .select('id')
    .where('participant_id', '=', participantId)
    .where('withdrawn_on', '<=', asOf)
    .where(withdrawalInForce)
    .executeTakeFirst()
  if (withdrawn) return 'withdrawn'
  const deferred = await trx
    .selectFrom('deferrals')
    .select('id')
    .where('participant_id', '=', participantId)
    .where(deferredOn(asOf))
    .executeTakeFirst()
  return deferred ? 'deferred' : 'criteria-met'
}

/** One email per delivery-partner lead listing their partner's cases that changed in this run. */
async function emailLeads(trx: Trx, deps: EscalationJobDeps, changes: Change[]): Promise<number> {
  const byPartner = new Map<string, Change[]>()
  for (const change of changes) {
    const dp = change.c.deliveryPartnerId
    if (!dp) continue
    byPartner.set(dp, [...(byPartner.get(dp) ?? []), change])
  }
  let sent = 0
  for (const [dp, list] of byPartner) {
    const partner = list[0]!.c.deliveryPartnerName ?? ''
    const leadProvider = list[0]!.c.leadProviderName
    const lines = list.map(
      ({ c, now }) =>
        `- ${c.fullName}, ${c.courseName} (${c.cohort}), ${c.outputLabel.toLowerCase()}, review date ${formatDate(c.reviewDate)}: now ${now}\n  ${deps.config.baseUrl}/delivery-partner/escalations/${c.id}`,
    )
    for (const lead of await usersWithRole(trx, 'delivery-partner-lead', dp)) {
      await deps.email.queue(trx, {
        to: lead.email,
        subject: `Escalations at ${partner} (${leadProvider}): ${list.length} case${list.length === 1 ? '' : 's'} changed stage`,
        body:
          [
            `Hello ${lead.full_name},`,
            `These escalation cases of ${partner}'s ${leadProvider} participants changed stage:`,
            lines.join('\n'),
            `The escalation queue: ${deps.config.baseUrl}/delivery-partner/escalations`,
          ].join('\n\n') + '\n',
      })
      sent++
    }
  }
  return sent
}

/** Daily at 06:00 London. A job sent with `{ asOf }` runs for that date (a manual run: jobs.send). */
export function escalationJobDefinitions(deps: EscalationJobDeps): JobDefinition[] {
  return [
    defineJob({
      name: escalationCasesJobName,
      schema: z.object({ asOf: z.iso.date().optional() }),
      retryLimit: 3,
      retryDelay: 300,
      schedule: '0 6 * * *',
      handler: async ({ asOf }) => {
        await openEscalationCases(deps, asOf ?? londonDateOf(new Date()))
      },
    }),
  ]
}
