import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import { findCourse } from '../catalogue/courses.ts'
import type { Db, Trx } from '../db/database.ts'
import type { contactChannels, contactOutcomes, escalationActionKinds, escalationClosedReasons } from '../db/schema.ts'
import { queueParticipantChange } from '../dfe/participant-changes.ts'
import { AppError } from '../errors.ts'
import { transitionEnrolment } from '../participants/lifecycle.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import type { EscalationStage } from '../outputs/escalation-stage.ts'
import { outputLabels, stageLabels } from './queue.ts'
import { awaitingSignOff, partiesToSignOff, removalSignOffOf, signOffComplete, type Party } from './policy.ts'
import { withdrawalInForce } from '../participants/in-force.ts'

// Escalation cases and everything done in them (DOMAIN.md "Escalation", seed 004): extended deadlines
// agreed with a reason, contact attempts, support offered, and removal proposed and signed off as the
// lead provider's policy says. Every change is an append-only action with an audit entry, written in
// one transaction with the case row locked, so two people deciding at once cannot both act.

export type ActionKind = (typeof escalationActionKinds)[number]
export type ContactChannel = (typeof contactChannels)[number]
export type ContactOutcome = (typeof contactOutcomes)[number]
export type ClosedReason = (typeof escalationClosedReasons)[number]
type User = Principal & { kind: 'user' }

export const channelLabels: Record<ContactChannel, string> = {
  email: 'Email',
  phone: 'Phone',
  meeting: 'Meeting',
  letter: 'Letter',
  other: 'Other',
}

export const outcomeLabels: Record<ContactOutcome, string> = {
  'no-response': 'No response',
  responded: 'Responded',
  'support-accepted': 'Support accepted',
  'deferral-requested': 'Asked to defer',
  'withdrawal-requested': 'Asked to withdraw',
}

export const closedReasonLabels: Record<ClosedReason, string> = {
  'criteria-met': 'Criteria met',
  deferred: 'Participant deferred',
  withdrawn: 'Participant withdrew',
  removed: 'Removed from the course',
}

export type CaseRow = {
  id: string
  enrolmentId: string
  participantId: string
  fullName: string
  courseIdentifier: string
  courseName: string
  cohort: string
  declarationType: string
  outputLabel: string
  reviewDate: string
  openedOn: string
  extendedDeadline: string | null
  closedOn: string | null
  closedReason: ClosedReason | null
  leadProviderId: string
  leadProviderCode: string
  leadProviderName: string
  deliveryPartnerId: string | null
  deliveryPartnerCode: string | null
  deliveryPartnerName: string | null
}

export type CaseFilter = {
  ids?: string[]
  deliveryPartnerIds?: string[]
  leadProviderIds?: string[]
  /** Open cases (by review date), or closed ones (most recently closed first). */
  open?: boolean
  limit?: number
}

/** Cases with their participant, course and organisations, within one scope (the caller checks access). */
export async function loadCases(db: Db | Trx, filter: CaseFilter): Promise<CaseRow[]> {
  for (const ids of [filter.ids, filter.deliveryPartnerIds, filter.leadProviderIds]) if (ids && ids.length === 0) return []
  let q = db
    .selectFrom('escalation_cases as c')
    .innerJoin('enrolments as e', 'e.id', 'c.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'c.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .select([
      'c.id',
      'c.enrolment_id as enrolmentId',
      'c.participant_id as participantId',
      'p.full_name as fullName',
      'c.course_identifier as courseIdentifier',
      'e.cohort',
      'c.declaration_type as declarationType',
      sql<string>`c.review_date::text`.as('reviewDate'),
      sql<string>`c.opened_on::text`.as('openedOn'),
      sql<string | null>`c.extended_deadline::text`.as('extendedDeadline'),
      sql<string | null>`c.closed_on::text`.as('closedOn'),
      'c.closed_reason as closedReason',
      'lp.id as leadProviderId',
      'lp.code as leadProviderCode',
      'lp.name as leadProviderName',
      'dp.id as deliveryPartnerId',
      'dp.code as deliveryPartnerCode',
      'dp.name as deliveryPartnerName',
    ])
  if (filter.ids) q = q.where('c.id', 'in', filter.ids)
  if (filter.deliveryPartnerIds) q = q.where('e.delivery_partner_id', 'in', filter.deliveryPartnerIds)
  if (filter.leadProviderIds) q = q.where('e.lead_provider_id', 'in', filter.leadProviderIds)
  if (filter.open !== undefined) q = q.where('c.closed_on', filter.open ? 'is' : 'is not', null)
  q = filter.open === false ? q.orderBy('c.closed_on', 'desc') : q.orderBy('c.review_date')
  q = q.orderBy('p.full_name').orderBy('c.id')
  if (filter.limit) q = q.limit(filter.limit)
  const rows = await q.execute()
  return rows.map((r) => ({
    ...r,
    courseName: findCourse(r.courseIdentifier)?.name ?? r.courseIdentifier,
    outputLabel: outputLabels[r.declarationType] ?? r.declarationType,
  }))
}

export async function loadCase(db: Db | Trx, id: string): Promise<CaseRow | undefined> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return undefined
  return (await loadCases(db, { ids: [id] }))[0]
}

export type ActionRow = {
  id: string
  caseId: string
  kind: ActionKind
  onDate: string
  channel: ContactChannel | null
  outcome: ContactOutcome | null
  extendedDeadline: string | null
  organisationId: string | null
  organisationKind: string | null
  organisationName: string | null
  notes: string | null
  recordedBy: string | null
  recordedAt: Date
}

/** Every action of the cases in date order (in the order recorded within a day). */
export async function loadActions(db: Db | Trx, caseIds: string[]): Promise<ActionRow[]> {
  if (caseIds.length === 0) return []
  return db
    .selectFrom('escalation_actions as a')
    .leftJoin('organisations as o', 'o.id', 'a.organisation_id')
    .leftJoin('users as u', 'u.id', 'a.recorded_by')
    .select([
      'a.id',
      'a.case_id as caseId',
      'a.kind',
      sql<string>`a.on_date::text`.as('onDate'),
      'a.channel',
      'a.outcome',
      sql<string | null>`a.extended_deadline::text`.as('extendedDeadline'),
      'a.organisation_id as organisationId',
      'o.kind as organisationKind',
      'o.name as organisationName',
      'a.notes',
      'u.full_name as recordedBy',
      'a.recorded_at as recordedAt',
    ])
    .where('a.case_id', 'in', caseIds)
    .orderBy('a.on_date')
    .orderBy('a.recorded_at')
    .orderBy('a.id')
    .execute()
}

/** The interventions tried: what people did, not the daily job's stage records. */
export const isIntervention = (a: { kind: ActionKind }) => a.kind !== 'stage-changed'

/** A removal proposal that has not been decided: the latest proposal with no rejection or approval after it. */
export function pendingProposal(actions: ActionRow[]): ActionRow | null {
  let pending: ActionRow | null = null
  for (const a of actions) {
    if (a.kind === 'removal-proposed') pending = a
    if (a.kind === 'removal-rejected' || a.kind === 'removal-approved') pending = null
  }
  return pending
}

const longDate = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' })
export const formatDate = (iso: string) => longDate.format(new Date(`${iso}T12:00:00Z`))

/** An action in words, for the case history, the partnership pack and emails. */
export function describeAction(a: ActionRow): { what: string; details: string } {
  const notes = a.notes ?? ''
  switch (a.kind) {
    case 'extension-agreed':
      return { what: `Extended deadline agreed: ${formatDate(a.extendedDeadline!)}`, details: notes }
    case 'contact-attempt':
      return {
        what: `Contact attempt by ${channelLabels[a.channel!].toLowerCase()}: ${outcomeLabels[a.outcome!].toLowerCase()}`,
        details: notes,
      }
    case 'support-offered':
      return { what: 'Support offered', details: notes }
    case 'removal-proposed':
      return { what: `Removal proposed${a.organisationName ? ` by ${a.organisationName}` : ''}`, details: notes }
    case 'removal-approved':
      return { what: `Removal approved${a.organisationName ? ` by ${a.organisationName}` : ''}`, details: notes }
    case 'removal-rejected':
      // The partner taking back its own proposal is not a rejection by the other side.
      return a.organisationKind === 'delivery-partner'
        ? { what: `Removal proposal withdrawn${a.organisationName ? ` by ${a.organisationName}` : ''}`, details: notes }
        : { what: `Removal rejected${a.organisationName ? ` by ${a.organisationName}` : ''}`, details: notes }
    case 'stage-changed':
      return { what: `Stage: ${(stageLabels[notes as EscalationStage] ?? notes).toLowerCase()}`, details: '' }
    case 'note':
      return { what: 'Note', details: notes }
  }
}

/** Locks an open case for a change; a closed one cannot change. */
async function lockOpenCase(trx: Trx, caseId: string): Promise<void> {
  const row = await trx.selectFrom('escalation_cases').select('closed_on').where('id', '=', caseId).forUpdate().executeTakeFirst()
  if (!row) throw new AppError('not-found', 'Escalation case not found')
  if (row.closed_on !== null) throw new AppError('invalid-transition', 'This case is closed: nothing more can be recorded in it')
}

type NewAction = {
  kind: ActionKind
  onDate: string
  channel?: ContactChannel
  outcome?: ContactOutcome
  extendedDeadline?: string
  organisationId?: string | null
  notes?: string | null
}

async function addAction(trx: Trx, by: User, c: CaseRow, action: NewAction): Promise<string> {
  const row = await trx
    .insertInto('escalation_actions')
    .values({
      case_id: c.id,
      kind: action.kind,
      on_date: action.onDate,
      channel: action.channel ?? null,
      outcome: action.outcome ?? null,
      extended_deadline: action.extendedDeadline ?? null,
      organisation_id: action.organisationId ?? null,
      notes: action.notes || null,
      recorded_by: by.userId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  // Notes can hold personal circumstances: the audit log keeps what was done, the case keeps why.
  await recordAudit(trx, {
    by,
    action: `escalation.${action.kind}`,
    entityType: 'escalation-case',
    entityId: c.id,
    after: {
      action_id: row.id,
      on_date: action.onDate,
      channel: action.channel,
      outcome: action.outcome,
      extended_deadline: action.extendedDeadline,
      organisation_id: action.organisationId,
    },
  })
  return row.id
}

export async function agreeExtension(trx: Trx, by: User, c: CaseRow, input: { deadline: string; reason: string; today: string }) {
  await lockOpenCase(trx, c.id)
  await addAction(trx, by, c, {
    kind: 'extension-agreed',
    onDate: input.today,
    extendedDeadline: input.deadline,
    notes: input.reason,
    organisationId: c.deliveryPartnerId,
  })
  await trx.updateTable('escalation_cases').set({ extended_deadline: input.deadline }).where('id', '=', c.id).execute()
}

export async function logContactAttempt(
  trx: Trx,
  by: User,
  c: CaseRow,
  input: { on: string; channel: ContactChannel; outcome: ContactOutcome; notes: string },
) {
  await lockOpenCase(trx, c.id)
  await addAction(trx, by, c, {
    kind: 'contact-attempt',
    onDate: input.on,
    channel: input.channel,
    outcome: input.outcome,
    notes: input.notes,
    organisationId: c.deliveryPartnerId,
  })
}

export async function recordSupportOffered(trx: Trx, by: User, c: CaseRow, input: { notes: string; today: string }) {
  await lockOpenCase(trx, c.id)
  await addAction(trx, by, c, { kind: 'support-offered', onDate: input.today, notes: input.notes, organisationId: c.deliveryPartnerId })
}

export type RemovalOutcome = 'proposed' | 'removed' | 'rejected'

/**
 * A delivery-partner lead proposes removal (after at least one contact attempt). The proposal is the
 * partner's approval; when the policy leaves sign-off with the partner, it is also the decision.
 */
export async function proposeRemoval(
  trx: Trx,
  services: Services,
  by: User,
  c: CaseRow,
  input: { reason: string; confirmed: boolean; today: string },
): Promise<RemovalOutcome> {
  await lockOpenCase(trx, c.id)
  const actions = await loadActions(trx, [c.id])
  if (pendingProposal(actions)) throw new AppError('invalid-transition', 'A removal is already proposed in this case')
  if (!actions.some((a) => a.kind === 'contact-attempt')) {
    throw new AppError('validation-failed', 'Log at least one contact attempt before proposing removal', [
      { field: 'removal_reason', message: 'Log at least one contact attempt before proposing removal' },
    ])
  }
  const rule = removalSignOffOf(services.catalogue, c.leadProviderCode)
  const decides = signOffComplete(rule, ['delivery-partner'])
  if (decides && !input.confirmed) {
    throw new AppError('validation-failed', 'Confirm that you are removing the participant', [
      { field: 'removal_confirm', message: `Confirm that ${c.deliveryPartnerName ?? 'your partner'} signs off this removal` },
    ])
  }
  await addAction(trx, by, c, { kind: 'removal-proposed', onDate: input.today, notes: input.reason, organisationId: c.deliveryPartnerId })
  if (decides) {
    await completeRemoval(trx, services, by, c, { organisationId: c.deliveryPartnerId, notes: null, today: input.today })
    return 'removed'
  }
  await tellLeadProviderAdmins(trx, services, c, input.reason)
  return 'proposed'
}

/**
 * An approval or rejection of the pending proposal by one party: a rejection by either ends it; an
 * approval that brings in the last sign-off the policy needs removes the participant.
 */
export async function decideRemoval(
  trx: Trx,
  services: Services,
  by: User,
  c: CaseRow,
  input: { party: Party; organisationId: string; decision: 'approve' | 'reject'; notes: string; today: string },
): Promise<RemovalOutcome> {
  await lockOpenCase(trx, c.id)
  const actions = await loadActions(trx, [c.id])
  const proposal = pendingProposal(actions)
  if (!proposal) throw new AppError('invalid-transition', 'There is no removal proposal to decide in this case')
  const rule = removalSignOffOf(services.catalogue, c.leadProviderCode)
  if (!partiesToSignOff(rule).includes(input.party)) {
    throw new AppError('forbidden', 'Sign-off of this removal sits with the delivery partner')
  }
  const awaiting = awaitingSignOff(rule, ['delivery-partner'])
  if (input.decision === 'reject') {
    await addAction(trx, by, c, { kind: 'removal-rejected', onDate: input.today, notes: input.notes, organisationId: input.organisationId })
    return 'rejected'
  }
  if (!awaiting.includes(input.party)) {
    throw new AppError('invalid-transition', 'Your approval is not needed: the removal waits for the other party’s sign-off')
  }
  // With at most two parties and the proposer's approval in, the one awaited completes the decision.
  await completeRemoval(trx, services, by, c, { organisationId: input.organisationId, notes: input.notes, today: input.today })
  return 'removed'
}

/**
 * The decision to remove: recorded, then the participant's withdrawal (reason disengaged-and-unresponsive,
 * on the decision date), the case closed as removed, the participant's other open cases closed as
 * withdrawn, DfE's withdraw request queued, and the partner's leads told.
 */
async function completeRemoval(
  trx: Trx,
  services: Services,
  by: User,
  c: CaseRow,
  input: { organisationId: string | null; notes: string | null; today: string },
) {
  const existing = await trx
    .selectFrom('withdrawals')
    .select(sql<string>`withdrawn_on::text`.as('on'))
    .where('participant_id', '=', c.participantId)
    .where((eb) => eb.or([eb('enrolment_id', 'is', null), eb('enrolment_id', '=', c.enrolmentId)]))
    .where(withdrawalInForce)
    .executeTakeFirst()
  if (existing) {
    throw new AppError(
      'invalid-transition',
      `The participant is already withdrawn (from ${formatDate(existing.on)}): this case closes at the next daily check`,
    )
  }
  await addAction(trx, by, c, { kind: 'removal-approved', onDate: input.today, notes: input.notes, organisationId: input.organisationId })
  const withdrawal = await trx
    .insertInto('withdrawals')
    .values({
      participant_id: c.participantId,
      enrolment_id: c.enrolmentId,
      reason: 'disengaged-and-unresponsive',
      withdrawn_on: input.today,
      recorded_by: by.userId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  // The enrolment's state machine says whether it can still be withdrawn (and keeps the timeline).
  await transitionEnrolment(trx, by, {
    enrolmentId: c.enrolmentId,
    to: 'withdrawn',
    effectiveOn: input.today,
    reason: 'disengaged-and-unresponsive',
    details: 'Removed after an escalation case',
  })
  await recordAudit(trx, {
    by,
    action: 'withdrawal.recorded',
    entityType: 'withdrawal',
    entityId: withdrawal.id,
    after: { participant_id: c.participantId, reason: 'disengaged-and-unresponsive', withdrawn_on: input.today, escalation_case_id: c.id },
  })
  await trx.updateTable('escalation_cases').set({ closed_on: input.today, closed_reason: 'removed' }).where('id', '=', c.id).execute()
  await recordAudit(trx, {
    by,
    action: 'escalation.closed',
    entityType: 'escalation-case',
    entityId: c.id,
    after: { closed_reason: 'removed' },
  })
  // A withdrawal is the participant's, not one course's: their other open cases end with it.
  const others = await trx
    .updateTable('escalation_cases')
    .set({ closed_on: input.today, closed_reason: 'withdrawn' })
    .where('participant_id', '=', c.participantId)
    .where('id', '<>', c.id)
    .where('closed_on', 'is', null)
    .returning('id')
    .execute()
  for (const o of others) {
    await recordAudit(trx, {
      by,
      action: 'escalation.closed',
      entityType: 'escalation-case',
      entityId: o.id,
      after: { closed_reason: 'withdrawn' },
    })
  }
  await queueParticipantChange(trx, services, by, { id: c.enrolmentId, leadProviderId: c.leadProviderId }, 'withdraw-participant')
  if (c.deliveryPartnerId) {
    for (const lead of await usersWithRole(trx, 'delivery-partner-lead', c.deliveryPartnerId)) {
      await services.email.queue(trx, {
        to: lead.email,
        subject: `Participant removed: ${c.fullName}`,
        body:
          [
            `Hello ${lead.full_name},`,
            `${c.fullName} has been removed from ${c.courseName} (${c.cohort}) and recorded as withdrawn from ${formatDate(input.today)}, reason: disengaged and unresponsive.`,
            `The escalation case: ${services.config.baseUrl}/delivery-partner/escalations/${c.id}`,
          ].join('\n\n') + '\n',
      })
    }
  }
}

/** Active users holding a role in an organisation (delivery-partner leads, lead-provider admins). */
export async function usersWithRole(db: Db | Trx, role: 'delivery-partner-lead' | 'lead-provider-admin', organisationId: string) {
  return db
    .selectFrom('role_assignments as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id', 'u.email', 'u.full_name'])
    .where('r.role', '=', role)
    .where('r.organisation_id', '=', organisationId)
    .where('u.status', '=', 'active')
    .orderBy('u.email')
    .execute()
}

/** A joint decision needs the lead provider: its admins hear of the proposal at once. */
async function tellLeadProviderAdmins(trx: Trx, services: Services, c: CaseRow, reason: string) {
  for (const admin of await usersWithRole(trx, 'lead-provider-admin', c.leadProviderId)) {
    await services.email.queue(trx, {
      to: admin.email,
      subject: `Removal proposed: ${c.fullName}`,
      body:
        [
          `Hello ${admin.full_name},`,
          `${c.deliveryPartnerName ?? 'A delivery partner'} proposes removing ${c.fullName} from ${c.courseName} (${c.cohort}): ${c.outputLabel.toLowerCase()} was not met by its review date, ${formatDate(c.reviewDate)}.`,
          `Their reason: ${reason}`,
          `The decision is made jointly: approve or reject it at ${services.config.baseUrl}/lead-provider/escalations/${c.id}`,
        ].join('\n\n') + '\n',
    })
  }
}
