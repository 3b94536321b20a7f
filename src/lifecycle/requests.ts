import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Db, Trx } from '../db/database.ts'
import type { DeferralReason, EnrolmentStatus, WithdrawalReason } from '../db/schema.ts'
import { queueParticipantChange } from '../dfe/participant-changes.ts'
import { AppError } from '../errors.ts'
import { formatDate, usersWithRole } from '../escalations/cases.ts'
import { statusLabels, transitionEnrolment, transitionProblem } from '../participants/lifecycle.ts'
import { describePrincipal, hasRole, type Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { placeInGroup } from '../groups/groups.ts'

// Deferral and withdrawal requests (issue 7, seed 002 §4.2): the participant (or their delivery
// partner's lead on their behalf) asks, the delivery partner records its conversation, the lead
// provider decides. A decision changes the enrolment through the state machine, records the
// deferral or withdrawal, queues DfE's request and emails the participant and the partner's leads, all
// in the caller's transaction.

export const deferralReasonLabels: Record<DeferralReason, string> = {
  bereavement: 'Bereavement',
  'long-term-sickness': 'Long-term sickness',
  'parental-leave': 'Parental leave',
  'career-break': 'Career break',
  other: 'Other',
}

export const didNotReturn = 'did not return from deferral'

/** What the journeys need from the services (the daily job passes only these). */
export type Deps = Pick<Services, 'email' | 'config' | 'jobs' | 'catalogue'>

// ---- Pure rules ----

/** A London date plus whole months, clamped to the month's last day (31 Jan + 1 month = 28/29 Feb). */
export function addMonths(date: string, months: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const first = new Date(Date.UTC(y, m - 1 + months, 1))
  const last = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 0)).getUTCDate()
  first.setUTCDate(Math.min(d, last))
  return first.toISOString().slice(0, 10)
}

/** Why a planned return is not allowed (seed 002: normally no more than 12 months from the start); null when it is. */
export function returnDateProblem(startsOn: string, plannedReturnOn: string, override: boolean): string | null {
  if (plannedReturnOn <= startsOn) return 'The planned return date must be after the deferral starts'
  if (!override && plannedReturnOn > addMonths(startsOn, 12))
    return `The planned return must be no more than 12 months after the deferral starts (by ${formatDate(addMonths(startsOn, 12))}) unless the lead provider agrees an exception`
  return null
}

/**
 * The cohort to return into so no content is missed: the same season a year later (2022-autumn →
 * 2023-autumn) when the provider runs the course in it, else the first later cohort it runs; null
 * when it runs none.
 */
export function proposedCohort(cohort: string, cohortsRun: readonly string[]): string | null {
  const match = /^(\d{4})-(.+)$/.exec(cohort)
  if (match) {
    const sameSeason = `${Number(match[1]) + 1}-${match[2]}`
    if (cohortsRun.includes(sameSeason)) return sameSeason
  }
  return [...cohortsRun].sort().find((c) => c > cohort) ?? null
}

/** The day the participant is contacted to confirm their return: 3 months before it. */
export const contactOn = (plannedReturnOn: string) => addMonths(plannedReturnOn, -3)

// ---- Reading ----

export type EnrolmentSummary = {
  id: string
  participantId: string
  participantUserId: string | null
  fullName: string
  email: string
  leadProviderId: string
  leadProviderCode: string
  leadProviderName: string
  deliveryPartnerId: string | null
  deliveryPartnerName: string | null
  courseIdentifier: string
  courseName: string
  cohort: string
  status: EnrolmentStatus
}

export async function loadEnrolment(db: Db | Trx, enrolmentId: string): Promise<EnrolmentSummary | undefined> {
  const e = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .select([
      'e.id',
      'e.participant_id as participantId',
      'p.user_id as participantUserId',
      'p.full_name as fullName',
      'p.email',
      'e.lead_provider_id as leadProviderId',
      'lp.code as leadProviderCode',
      'lp.name as leadProviderName',
      'e.delivery_partner_id as deliveryPartnerId',
      'dp.name as deliveryPartnerName',
      'e.course_identifier as courseIdentifier',
      'e.cohort',
      'e.status',
    ])
    .where('e.id', '=', enrolmentId)
    .executeTakeFirst()
  return e && { ...e, courseName: findCourse(e.courseIdentifier)?.name ?? e.courseIdentifier }
}

export type TimelineEntry = { at: Date; on: string; text: string; details: string | null }

/** The enrolment's history: its state changes and its requests, oldest first. */
export async function enrolmentTimeline(db: Db | Trx, enrolmentId: string): Promise<TimelineEntry[]> {
  const [transitions, deferrals, withdrawals] = await Promise.all([
    db
      .selectFrom('enrolment_transitions')
      .select(['from_status', 'to_status', sql<string>`effective_on::text`.as('effective_on'), 'reason', 'details', 'recorded_at'])
      .where('enrolment_id', '=', enrolmentId)
      .execute(),
    db.selectFrom('deferral_requests').selectAll().where('enrolment_id', '=', enrolmentId).execute(),
    db.selectFrom('withdrawal_requests').selectAll().where('enrolment_id', '=', enrolmentId).execute(),
  ])
  const entries: TimelineEntry[] = []
  /** Something that happened at a moment, shown on its London date. */
  const happened = (moment: Date | string, text: string, details: string | null) =>
    entries.push({ at: new Date(moment), on: londonDateOf(new Date(moment)), text, details })
  for (const r of deferrals) {
    happened(
      r.requested_at,
      `Deferral requested from ${formatDate(dateText(r.starts_on))}, planned return ${formatDate(dateText(r.planned_return_on))}`,
      `${deferralReasonLabels[r.reason]}: ${r.details}`,
    )
    if (r.conversation_recorded_at) happened(r.conversation_recorded_at, 'Delivery partner’s conversation recorded', r.conversation_notes)
    if (r.decided_at) happened(r.decided_at, r.status === 'approved' ? 'Deferral approved' : 'Deferral declined', r.decision_reason)
  }
  for (const r of withdrawals) {
    happened(
      r.requested_at,
      `Withdrawal requested from ${formatDate(dateText(r.planned_on))}`,
      [withdrawalReasonLabel(r.reason), r.details].filter(Boolean).join(': '),
    )
    if (r.decided_at) happened(r.decided_at, r.status === 'confirmed' ? 'Withdrawal confirmed' : 'Withdrawal declined', r.decision_reason)
  }
  // After the requests: a decision and the change it makes share a time, and the decision reads first.
  for (const t of transitions) {
    const text =
      t.from_status === t.to_status
        ? `Stays ${statusLabels[t.to_status].toLowerCase()}`
        : `${t.from_status ? `${statusLabels[t.from_status]} → ` : ''}${statusLabels[t.to_status]}`
    entries.push({
      at: new Date(t.recorded_at),
      on: t.effective_on,
      text,
      details: [t.reason, t.details].filter(Boolean).join(': ') || null,
    })
  }
  return entries.sort((a, b) => a.at.getTime() - b.at.getTime())
}

export const withdrawalReasonLabel = (reason: string) => {
  const text = reason.replace(/\.$/, '').replace(/-/g, ' ')
  return text.charAt(0).toUpperCase() + text.slice(1)
}

/** Dates come back from PostgreSQL as text or Date depending on the driver path: always 'YYYY-MM-DD'. */
export const dateText = (d: string | Date) => (d instanceof Date ? londonDateOf(d) : String(d).slice(0, 10))

// ---- Requests ----

export type DeferralInput = {
  enrolmentId: string
  reason: DeferralReason
  details: string
  startsOn: string
  plannedReturnOn: string
  override?: boolean
}

/** Refusals that are the form's fault: shown against a field, nothing changed. */
const refuse = (field: string, message: string) => new AppError('validation-failed', message, [{ field, message }])

export async function requestDeferral(trx: Trx, services: Deps, by: Principal, input: DeferralInput): Promise<string> {
  const e = await loadEnrolment(trx, input.enrolmentId)
  if (!e) throw new AppError('not-found', 'Enrolment not found')
  if (e.status !== 'active' && e.status !== 'accepted')
    throw refuse('reason', transitionProblem(e.status, 'deferred') ?? `You cannot defer while ${statusLabels[e.status].toLowerCase()}`)
  const override = input.override === true && hasRole(by, 'lead-provider-admin', e.leadProviderId)
  const problem = returnDateProblem(input.startsOn, input.plannedReturnOn, override)
  if (problem) throw refuse('planned_return', problem)
  await requirePayment(trx, e.id)
  const open = await trx
    .selectFrom('deferral_requests')
    .select('id')
    .where('enrolment_id', '=', e.id)
    .where('status', '=', 'requested')
    .executeTakeFirst()
  if (open) throw refuse('reason', 'A deferral request for this course is already waiting for a decision')
  const proposed = proposedCohort(e.cohort, services.catalogue.cohortsFor(e.leadProviderCode, e.courseIdentifier))
  const block = await trx
    .selectFrom('block_windows')
    .select((eb) => eb.fn.max('block').as('block'))
    .where('lead_provider', '=', e.leadProviderCode)
    .where('course_identifier', '=', e.courseIdentifier)
    .where('cohort', '=', e.cohort)
    .where('goes_live_on', '<=', input.startsOn)
    .executeTakeFirst()
  const row = await trx
    .insertInto('deferral_requests')
    .values({
      enrolment_id: e.id,
      reason: input.reason,
      details: input.details,
      starts_on: input.startsOn,
      planned_return_on: input.plannedReturnOn,
      proposed_cohort: proposed,
      // Before starting there is nothing to pick up: the participant starts the next cohort from block 1.
      proposed_return_block: e.status === 'accepted' ? '1' : block?.block != null ? String(block.block) : '1',
      return_override: override,
      requested_by: describePrincipal(by).actorUserId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'deferral-request.created',
    entityType: 'deferral-request',
    entityId: row.id,
    after: { enrolment_id: e.id, reason: input.reason, starts_on: input.startsOn, planned_return_on: input.plannedReturnOn },
  })
  await tellPartner(trx, services, e, `Deferral requested: ${e.fullName}`, [
    `${e.fullName} has asked to defer ${e.courseName} (${e.cohort}) from ${formatDate(input.startsOn)}, returning ${formatDate(input.plannedReturnOn)}.`,
    `Please talk it through with them and record your conversation: ${services.config.baseUrl}/delivery-partner/lifecycle/deferrals/${row.id}`,
  ])
  return row.id
}

/**
 * Seed 002: school- or self-funded places must have been paid before a deferral. Where no funding is
 * recorded for the place yet the check is skipped (the page says so).
 */
async function requirePayment(trx: Trx, enrolmentId: string) {
  const funding = await trx
    .selectFrom('place_funding')
    .select(['funding', 'paid_on'])
    .where('enrolment_id', '=', enrolmentId)
    .executeTakeFirst()
  if (funding && funding.funding !== 'dfe' && funding.paid_on === null)
    throw refuse('reason', `This ${funding.funding}-funded place has not been paid for yet: a deferral needs the payment first`)
}

export async function recordConversation(trx: Trx, by: Principal, requestId: string, notes: string): Promise<void> {
  const r = await trx.selectFrom('deferral_requests').select(['status']).where('id', '=', requestId).forUpdate().executeTakeFirst()
  if (!r) throw new AppError('not-found', 'Deferral request not found')
  if (r.status !== 'requested') throw refuse('notes', 'This request has already been decided')
  await trx
    .updateTable('deferral_requests')
    .set({ conversation_notes: notes, conversation_recorded_by: describePrincipal(by).actorUserId, conversation_recorded_at: new Date() })
    .where('id', '=', requestId)
    .execute()
  await recordAudit(trx, { by, action: 'deferral-request.conversation-recorded', entityType: 'deferral-request', entityId: requestId })
}

export type Decision = { approve: boolean; reason: string; override?: boolean; plannedReturnOn?: string }

/** The lead provider's decision on a deferral request. */
export async function decideDeferral(
  trx: Trx,
  services: Deps,
  by: Principal,
  requestId: string,
  d: Decision,
): Promise<'approved' | 'declined'> {
  const r = await trx.selectFrom('deferral_requests').selectAll().where('id', '=', requestId).forUpdate().executeTakeFirst()
  if (!r) throw new AppError('not-found', 'Deferral request not found')
  if (r.status !== 'requested') throw refuse('decision', 'This request has already been decided')
  const e = (await loadEnrolment(trx, r.enrolment_id))!
  const actor = describePrincipal(by).actorUserId
  const startsOn = dateText(r.starts_on)
  const plannedReturnOn = d.plannedReturnOn ?? dateText(r.planned_return_on)
  const override = r.return_override || (d.override === true && hasRole(by, 'lead-provider-admin', e.leadProviderId))
  const email = (subject: string, lines: string[]) => tellBoth(trx, services, e, subject, lines)

  if (!d.approve) {
    if (!d.reason.trim()) throw refuse('decision_reason', 'Enter why the deferral is declined')
    await trx
      .updateTable('deferral_requests')
      .set({ status: 'declined', decided_by: actor, decided_at: sql<Date>`now()`, decision_reason: d.reason })
      .where('id', '=', r.id)
      .execute()
    await recordAudit(trx, {
      by,
      action: 'deferral-request.declined',
      entityType: 'deferral-request',
      entityId: r.id,
      after: { reason: d.reason },
    })
    await email(`Deferral declined: ${e.courseName}`, [
      `The request to defer ${e.courseName} (${e.cohort}) from ${formatDate(startsOn)} has been declined.`,
      `Reason: ${d.reason}`,
      'You stay on the course. Please talk to your delivery partner about what support is available.',
    ])
    return 'declined'
  }

  const problem = returnDateProblem(startsOn, plannedReturnOn, override)
  if (problem) throw refuse('planned_return', problem)
  if (e.status === 'accepted') {
    // Deferring before starting moves the place to the next cohort instead (seed 002).
    if (!r.proposed_cohort) throw refuse('decision', 'The lead provider runs no later cohort of this course to move the place to')
    await trx.updateTable('enrolments').set({ cohort: r.proposed_cohort }).where('id', '=', e.id).execute()
    await placeInGroup(trx, by, e.id)
    await queueParticipantChange(trx, services, by, e, 'change-schedule')
    await trx
      .insertInto('enrolment_transitions')
      .values({
        enrolment_id: e.id,
        from_status: 'accepted',
        to_status: 'accepted',
        effective_on: startsOn,
        reason: r.reason,
        details: `Moved from cohort ${e.cohort} to ${r.proposed_cohort} before starting`,
        recorded_by: actor,
      })
      .execute()
    await recordAudit(trx, {
      by,
      action: 'enrolment.cohort-changed',
      entityType: 'enrolment',
      entityId: e.id,
      before: { cohort: e.cohort },
      after: { cohort: r.proposed_cohort, deferral_request_id: r.id },
    })
  } else {
    const problem = transitionProblem(e.status, 'deferred')
    if (problem) throw refuse('decision', problem)
    const deferral = await trx
      .insertInto('deferrals')
      .values({
        participant_id: e.participantId,
        enrolment_id: e.id,
        reason: r.reason,
        deferred_on: startsOn,
        planned_return_on: plannedReturnOn,
        recorded_by: actor,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await trx.updateTable('deferral_requests').set({ deferral_id: deferral.id }).where('id', '=', r.id).execute()
    await transitionEnrolment(trx, by, { enrolmentId: e.id, to: 'deferred', effectiveOn: startsOn, reason: r.reason, details: r.details })
    await queueParticipantChange(trx, services, by, e, 'defer-participant')
  }
  await trx
    .updateTable('deferral_requests')
    .set({
      status: 'approved',
      decided_by: actor,
      decided_at: sql<Date>`now()`,
      decision_reason: d.reason.trim() || null,
      planned_return_on: plannedReturnOn,
      return_override: override,
    })
    .where('id', '=', r.id)
    .execute()
  await recordAudit(trx, { by, action: 'deferral-request.approved', entityType: 'deferral-request', entityId: r.id })
  const arrangements =
    e.status === 'accepted'
      ? `Your place moves to the ${r.proposed_cohort} cohort: you start with it from block 1.`
      : `You rejoin ${r.proposed_cohort ? `the ${r.proposed_cohort} cohort` : 'the course'} at block ${r.proposed_return_block ?? 1}, so you miss no content. Your progress so far is kept. We will contact you 3 months before your return to confirm it.`
  await email(`Deferral approved: ${e.courseName}`, [
    `The deferral of ${e.courseName} (${e.cohort}) for ${e.fullName} is approved, from ${formatDate(startsOn)}.`,
    `Expected return: ${formatDate(plannedReturnOn)}.`,
    arrangements,
    ...(d.reason.trim() ? [`Note from the lead provider: ${d.reason}`] : []),
  ])
  return 'approved'
}

export type WithdrawalInput = { enrolmentId: string; reason: WithdrawalReason; details: string | null; plannedOn: string }

export async function requestWithdrawal(trx: Trx, services: Deps, by: Principal, input: WithdrawalInput): Promise<string> {
  const e = await loadEnrolment(trx, input.enrolmentId)
  if (!e) throw new AppError('not-found', 'Enrolment not found')
  const problem = transitionProblem(e.status, 'withdrawn')
  if (problem) throw refuse('reason', problem)
  const open = await trx
    .selectFrom('withdrawal_requests')
    .select('id')
    .where('enrolment_id', '=', e.id)
    .where('status', '=', 'requested')
    .executeTakeFirst()
  if (open) throw refuse('reason', 'A withdrawal request for this course is already waiting for a decision')
  const row = await trx
    .insertInto('withdrawal_requests')
    .values({
      enrolment_id: e.id,
      reason: input.reason,
      details: input.details,
      planned_on: input.plannedOn,
      requested_by: describePrincipal(by).actorUserId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'withdrawal-request.created',
    entityType: 'withdrawal-request',
    entityId: row.id,
    after: { enrolment_id: e.id, reason: input.reason, planned_on: input.plannedOn },
  })
  await tellPartner(trx, services, e, `Withdrawal requested: ${e.fullName}`, [
    `${e.fullName} is to withdraw from ${e.courseName} (${e.cohort}) from ${formatDate(input.plannedOn)}.`,
    `Please talk it through with them: ${services.config.baseUrl}/delivery-partner/lifecycle/withdrawals/${row.id}`,
  ])
  return row.id
}

export async function decideWithdrawal(
  trx: Trx,
  services: Deps,
  by: Principal,
  requestId: string,
  d: { confirm: boolean; reason: string; refundNote?: string | null },
): Promise<'confirmed' | 'declined'> {
  const r = await trx.selectFrom('withdrawal_requests').selectAll().where('id', '=', requestId).forUpdate().executeTakeFirst()
  if (!r) throw new AppError('not-found', 'Withdrawal request not found')
  if (r.status !== 'requested') throw refuse('decision', 'This request has already been decided')
  const e = (await loadEnrolment(trx, r.enrolment_id))!
  const actor = describePrincipal(by).actorUserId
  const plannedOn = dateText(r.planned_on)
  if (!d.confirm) {
    if (!d.reason.trim()) throw refuse('decision_reason', 'Enter why the withdrawal is declined')
    await trx
      .updateTable('withdrawal_requests')
      .set({ status: 'declined', decided_by: actor, decided_at: sql<Date>`now()`, decision_reason: d.reason })
      .where('id', '=', r.id)
      .execute()
    await recordAudit(trx, { by, action: 'withdrawal-request.declined', entityType: 'withdrawal-request', entityId: r.id })
    await tellBoth(trx, services, e, `Withdrawal declined: ${e.courseName}`, [
      `The request to withdraw from ${e.courseName} (${e.cohort}) has been declined.`,
      `Reason: ${d.reason}`,
    ])
    return 'declined'
  }
  const problem = transitionProblem(e.status, 'withdrawn')
  if (problem) throw refuse('decision', problem)
  const withdrawal = await trx
    .insertInto('withdrawals')
    .values({ participant_id: e.participantId, enrolment_id: e.id, reason: r.reason, withdrawn_on: plannedOn, recorded_by: actor })
    .returning('id')
    .executeTakeFirstOrThrow()
  await transitionEnrolment(trx, by, { enrolmentId: e.id, to: 'withdrawn', effectiveOn: plannedOn, reason: r.reason, details: r.details })
  await queueParticipantChange(trx, services, by, e, 'withdraw-participant')
  await trx
    .updateTable('withdrawal_requests')
    .set({
      status: 'confirmed',
      decided_by: actor,
      decided_at: sql<Date>`now()`,
      decision_reason: d.reason.trim() || null,
      refund_note: d.refundNote?.trim() || null,
      withdrawal_id: withdrawal.id,
    })
    .where('id', '=', r.id)
    .execute()
  await recordAudit(trx, { by, action: 'withdrawal-request.confirmed', entityType: 'withdrawal-request', entityId: r.id })
  await tellBoth(trx, services, e, `Withdrawal confirmed: ${e.courseName}`, [
    `${e.fullName}'s withdrawal from ${e.courseName} (${e.cohort}) is confirmed from ${formatDate(plannedOn)}.`,
    'Access to this course on the platform ends then. All records are kept.',
  ])
  return 'confirmed'
}

/**
 * The participant's answer to "are you returning?". Yes is recorded on the deferral and the
 * enrolment resumes on the planned return date (at once when that date has come); no starts a
 * withdrawal request from that date.
 */
export async function answerReturn(
  trx: Trx,
  services: Deps,
  by: Principal,
  enrolmentId: string,
  returning: boolean,
  today = londonDateOf(new Date()),
): Promise<'confirmed' | 'resumed' | 'withdrawal-requested'> {
  const e = await loadEnrolment(trx, enrolmentId)
  if (!e) throw new AppError('not-found', 'Enrolment not found')
  if (e.status !== 'deferred') throw refuse('returning', transitionProblem(e.status, 'active') ?? 'You are not deferred from this course')
  const deferral = await currentDeferral(trx, e.id)
  if (!returning) {
    await requestWithdrawal(trx, services, by, {
      enrolmentId: e.id,
      reason: 'other',
      details: didNotReturn,
      plannedOn: deferral?.returnOn && deferral.returnOn > today ? deferral.returnOn : today,
    })
    return 'withdrawal-requested'
  }
  if (!deferral?.returnOn || deferral.returnOn <= today) {
    await resumeEnrolment(trx, services, by, e.id, today, 'Return confirmed by the participant')
    return 'resumed'
  }
  if (deferral.confirmedAt) throw refuse('returning', `You have already confirmed your return on ${formatDate(deferral.returnOn)}`)
  await trx
    .updateTable('deferrals')
    .set({ return_confirmed_at: new Date(), return_confirmed_by: describePrincipal(by).actorUserId })
    .where('id', '=', deferral.id)
    .execute()
  await recordAudit(trx, { by, action: 'deferral.return-confirmed', entityType: 'deferral', entityId: deferral.id })
  const plan = await returnPlan(trx, e.id)
  await tellBoth(trx, services, e, `Return confirmed: ${e.courseName}`, [
    `${e.fullName} has confirmed their return to ${e.courseName} on ${formatDate(deferral.returnOn)}.`,
    plan
      ? `They rejoin ${plan.cohort !== e.cohort ? `the ${plan.cohort} cohort` : 'their cohort'} at block ${plan.block}, with their progress so far kept.`
      : 'Their progress so far is kept.',
  ])
  return 'confirmed'
}

/** Where an approved deferral's participant rejoins: the proposed cohort and block. */
async function returnPlan(db: Db | Trx, enrolmentId: string) {
  const r = await db
    .selectFrom('deferral_requests')
    .select(['proposed_cohort', 'proposed_return_block'])
    .where('enrolment_id', '=', enrolmentId)
    .where('status', '=', 'approved')
    .where('deferral_id', 'is not', null)
    .orderBy('decided_at', 'desc')
    .executeTakeFirst()
  return r && r.proposed_cohort ? { cohort: r.proposed_cohort, block: r.proposed_return_block ?? '1' } : undefined
}

/**
 * Ends a deferral: the enrolment becomes active from `on`, in the proposed cohort (progress is kept:
 * the learning records belong to the person and course, not the cohort), and DfE is told. Used on the
 * planned return date for a confirmed return, by a lead-provider admin who resumes someone early, and
 * when the participant confirms on or after the date.
 */
export async function resumeEnrolment(trx: Trx, services: Deps, by: Principal, enrolmentId: string, on: string, details: string) {
  const e = await loadEnrolment(trx, enrolmentId)
  if (!e) throw new AppError('not-found', 'Enrolment not found')
  const problem = transitionProblem(e.status, 'active')
  if (problem || e.status !== 'deferred') throw refuse('resume', problem ?? 'Only a deferred enrolment can be resumed')
  const deferral = await currentDeferral(trx, e.id)
  if (deferral) {
    const from = deferral.fromOn > on ? deferral.fromOn : on
    await trx.updateTable('deferrals').set({ resumed_on: from }).where('id', '=', deferral.id).execute()
  }
  const plan = await returnPlan(trx, e.id)
  const moves = plan && plan.cohort !== e.cohort
  if (moves) {
    await trx.updateTable('enrolments').set({ cohort: plan.cohort }).where('id', '=', e.id).execute()
    await recordAudit(trx, {
      by,
      action: 'enrolment.cohort-changed',
      entityType: 'enrolment',
      entityId: e.id,
      before: { cohort: e.cohort },
      after: { cohort: plan.cohort, on_return: true },
    })
    await queueParticipantChange(trx, services, by, e, 'change-schedule')
  }
  await transitionEnrolment(trx, by, {
    enrolmentId: e.id,
    to: 'active',
    effectiveOn: on,
    details: [details, moves ? `rejoins the ${plan.cohort} cohort at block ${plan.block}` : null].filter(Boolean).join(': '),
  })
  // Into a group of the cohort they rejoin (after the transition: placement skips withdrawn and completed only).
  if (moves) await placeInGroup(trx, by, e.id)
  await queueParticipantChange(trx, services, by, e, 'resume-participant')
  await tellBoth(trx, services, e, `Welcome back: ${e.courseName}`, [
    `${e.fullName} is back on ${e.courseName} from ${formatDate(on)}.`,
    plan
      ? `They continue with the ${plan.cohort} cohort from block ${plan.block}; their progress so far is kept.`
      : 'Their progress so far is kept.',
  ])
}

/**
 * Reverses a confirmed withdrawal (recorded in error, say): a lead-provider admin only, with a
 * reason. The withdrawal stays on record, marked reinstated, and no longer counts; DfE is told
 * (its resume accepts a withdrawn participant).
 */
export async function reinstateEnrolment(trx: Trx, services: Deps, by: Principal, enrolmentId: string, reason: string, on: string) {
  const e = await loadEnrolment(trx, enrolmentId)
  if (!e) throw new AppError('not-found', 'Enrolment not found')
  const problem = transitionProblem(e.status, 'active', hasRole(by, 'lead-provider-admin', e.leadProviderId))
  if (problem || e.status !== 'withdrawn') throw refuse('reason', problem ?? 'Only a withdrawn enrolment can be reinstated')
  if (!reason.trim()) throw refuse('reason', 'Enter why the participant is reinstated')
  const withdrawal = await trx
    .selectFrom('withdrawals')
    .select(['id', 'enrolment_id'])
    .where('participant_id', '=', e.participantId)
    .where((eb) => eb.or([eb('enrolment_id', 'is', null), eb('enrolment_id', '=', e.id)]))
    .where('reinstated_on', 'is', null)
    .orderBy('enrolment_id', (ob) => ob.asc().nullsLast())
    .executeTakeFirst()
  if (withdrawal?.enrolment_id === null)
    throw refuse('reason', 'This withdrawal was imported for every course the person takes: correct it with a withdrawals file instead')
  if (withdrawal)
    await trx
      .updateTable('withdrawals')
      .set({ reinstated_on: on, reinstated_by: describePrincipal(by).actorUserId, reinstated_reason: reason.trim() })
      .where('id', '=', withdrawal.id)
      .execute()
  await transitionEnrolment(trx, by, { enrolmentId: e.id, to: 'active', effectiveOn: on, reason: 'reinstated', details: reason.trim() })
  await queueParticipantChange(trx, services, by, e, 'resume-participant')
  await tellBoth(trx, services, e, `Reinstated: ${e.courseName}`, [
    `${e.fullName}'s withdrawal from ${e.courseName} (${e.cohort}) has been reversed: they are back on the course from ${formatDate(on)}.`,
    `Reason: ${reason.trim()}`,
  ])
}

/** The enrolment's deferral in force (not yet resumed), latest first. */
export async function currentDeferral(db: Db | Trx, enrolmentId: string) {
  const d = await db
    .selectFrom('deferrals')
    .select([
      'id',
      sql<string>`deferred_on::text`.as('fromOn'),
      sql<string | null>`planned_return_on::text`.as('returnOn'),
      'return_confirmed_at as confirmedAt',
    ])
    .where('enrolment_id', '=', enrolmentId)
    .where('resumed_on', 'is', null)
    .orderBy('deferred_on', 'desc')
    .executeTakeFirst()
  return d
}

// ---- Email ----

async function tellPartner(trx: Trx, services: Deps, e: EnrolmentSummary, subject: string, lines: string[]) {
  if (!e.deliveryPartnerId) return
  for (const lead of await usersWithRole(trx, 'delivery-partner-lead', e.deliveryPartnerId))
    await services.email.queue(trx, { to: lead.email, subject, body: [`Hello ${lead.full_name},`, ...lines].join('\n\n') + '\n' })
}

/** Both outcomes are confirmed in writing to the participant and their delivery partner's leads (seed 002). */
async function tellBoth(trx: Trx, services: Deps, e: EnrolmentSummary, subject: string, lines: string[]) {
  await services.email.queue(trx, {
    to: e.email,
    subject,
    body:
      [`Hello ${e.fullName},`, ...lines, `Your course's history: ${services.config.baseUrl}/participant/enrolments/${e.id}`].join('\n\n') +
      '\n',
  })
  await tellPartner(trx, services, e, subject, lines)
}
