import { recordAudit } from '../audit/audit.ts'
import type { Trx } from '../db/database.ts'
import type { EnrolmentStatus } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { describePrincipal, hasRole, type Principal } from '../policy/principal.ts'

// One state machine for an enrolment (issue 7): accepted → active; active ⇄ deferred; accepted,
// active or deferred → withdrawn; active → completed; and, for a lead-provider admin only,
// withdrawn → active (a withdrawal reversed: DfE's resume accepts a withdrawn participant). (Before acceptance an application has its own
// states: applied → accepted / rejected / expired.) Every transition is validated here, kept in
// enrolment_transitions (the timeline people see) and audited, in the caller's transaction.

const allowed: Record<EnrolmentStatus, readonly EnrolmentStatus[]> = {
  accepted: ['active', 'withdrawn'],
  active: ['deferred', 'withdrawn', 'completed'],
  deferred: ['active', 'withdrawn'],
  withdrawn: ['active'],
  completed: [],
}

/** Moves only a lead-provider admin of the enrolment's provider may make. */
const adminOnly: readonly string[] = ['withdrawn→active']
export const needsAdmin = (from: EnrolmentStatus, to: EnrolmentStatus) => adminOnly.includes(`${from}→${to}`)

export const statusLabels: Record<EnrolmentStatus, string> = {
  accepted: 'Accepted',
  active: 'Active',
  deferred: 'Deferred',
  withdrawn: 'Withdrawn',
  completed: 'Completed',
}

/** Whether an enrolment may move between two states (pure). */
export function canTransition(from: EnrolmentStatus, to: EnrolmentStatus): boolean {
  return allowed[from].includes(to)
}

/**
 * Why a move is refused, in words for a page or the CLI; null when it is allowed. `byAdmin`: the
 * person is a lead-provider admin of the enrolment's provider.
 */
export function transitionProblem(from: EnrolmentStatus, to: EnrolmentStatus, byAdmin = false): string | null {
  if (canTransition(from, to)) {
    if (needsAdmin(from, to) && !byAdmin)
      return 'The participant has withdrawn from this course: only a lead-provider admin can reinstate them'
    return null
  }
  if (from === to) return `The enrolment is already ${statusLabels[from].toLowerCase()}`
  if (from === 'withdrawn') return 'The participant has withdrawn from this course: nothing more can change'
  if (from === 'completed') return 'The participant has completed this course'
  return `An enrolment that is ${statusLabels[from].toLowerCase()} cannot become ${statusLabels[to].toLowerCase()}`
}

export type Transition = {
  enrolmentId: string
  to: EnrolmentStatus
  /** The London date the change takes effect (a deferral's start, a withdrawal's date). */
  effectiveOn: string
  reason?: string | null
  details?: string | null
}

/**
 * Moves an enrolment to a new state: locks the row, checks the move, updates the status, records the
 * transition and an audit entry. An impossible move is an AppError ('invalid-transition') and changes
 * nothing.
 */
export async function transitionEnrolment(trx: Trx, by: Principal, t: Transition): Promise<{ from: EnrolmentStatus; to: EnrolmentStatus }> {
  const current = await trx
    .selectFrom('enrolments')
    .select(['status', 'lead_provider_id'])
    .where('id', '=', t.enrolmentId)
    .forUpdate()
    .executeTakeFirst()
  if (!current) throw new AppError('not-found', 'Enrolment not found')
  const problem = transitionProblem(current.status, t.to, hasRole(by, 'lead-provider-admin', current.lead_provider_id))
  if (problem) throw new AppError('invalid-transition', problem)
  await trx.updateTable('enrolments').set({ status: t.to }).where('id', '=', t.enrolmentId).execute()
  await trx
    .insertInto('enrolment_transitions')
    .values({
      enrolment_id: t.enrolmentId,
      from_status: current.status,
      to_status: t.to,
      effective_on: t.effectiveOn,
      reason: t.reason ?? null,
      details: t.details ?? null,
      recorded_by: describePrincipal(by).actorUserId,
    })
    .execute()
  await recordAudit(trx, {
    by,
    action: 'enrolment.transitioned',
    entityType: 'enrolment',
    entityId: t.enrolmentId,
    before: { status: current.status },
    after: { status: t.to, effective_on: t.effectiveOn, reason: t.reason ?? null },
  })
  return { from: current.status, to: t.to }
}
