import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import type { ContingencyMethod, RegisterStatus } from '../db/schema.ts'
import { londonDateOf, londonMoment } from '../dates/london.ts'
import { AppError, type FieldError } from '../errors.ts'
import { participantsOnCourse, type EventDetails } from '../events/events.ts'
import type { Principal } from '../policy/principal.ts'
import { currentRegisterEntries, recordRegisterEntry } from './register-entries.ts'
import { completionDateProblem, type RegisterRules } from './register-rules.ts'

// An event's register as facilitators take it: everyone booked, plus anyone already on it (walk-ins,
// entries imported); marks in one go, walk-ins, contingency completions. The register is "taken" once
// everyone booked has a mark. Every change goes through recordRegisterEntry (superseded, audited).

export const contingencyMethodLabels: Record<ContingencyMethod, string> = {
  recording: 'Watched the recording',
  'mop-up-session': 'Mop-up session',
  'slides-with-notes': 'Slides with notes',
  'another-delivery-partner-event': 'Another delivery partner’s event',
}

export type RegisterRow = {
  participantId: string
  fullName: string
  email: string
  booked: boolean
  entry: {
    status: RegisterStatus
    completedAt: Date | string | null
    completedOn: string | null
    note: string | null
    contingencyMethod: ContingencyMethod | null
    changeReason: string | null
  } | null
}

export async function loadRegister(db: Db | Trx, eventId: string): Promise<RegisterRow[]> {
  const [booked, entries] = await Promise.all([
    db
      .selectFrom('bookings as b')
      .innerJoin('participants as p', 'p.id', 'b.participant_id')
      .select(['p.id', 'p.full_name', 'p.email'])
      .where('b.event_id', '=', eventId)
      .where('b.status', '=', 'booked')
      .execute(),
    currentRegisterEntries(db)
      .innerJoin('participants as p', 'p.id', 'r.participant_id')
      .select([
        'p.id',
        'p.full_name',
        'p.email',
        'r.status',
        'r.completed_at',
        'r.completed_on',
        'r.note',
        'r.contingency_method',
        'r.change_reason',
      ])
      .where('r.event_id', '=', eventId)
      .execute(),
  ])
  const rows = new Map<string, RegisterRow>()
  for (const b of booked) rows.set(b.id, { participantId: b.id, fullName: b.full_name, email: b.email, booked: true, entry: null })
  for (const e of entries) {
    const row = rows.get(e.id) ?? { participantId: e.id, fullName: e.full_name, email: e.email, booked: false, entry: null }
    row.entry = {
      status: e.status,
      completedAt: e.completed_at,
      completedOn: e.completed_on,
      note: e.note,
      contingencyMethod: e.contingency_method,
      changeReason: e.change_reason,
    }
    rows.set(e.id, row)
  }
  return [...rows.values()].sort((a, b) => a.fullName.localeCompare(b.fullName) || a.participantId.localeCompare(b.participantId))
}

/** Participants who may be added as walk-ins: the event's delivery partner's (any, for a central event), on its course and cohort, not on the register yet. */
export async function walkInCandidates(db: Db | Trx, event: EventDetails, onRegister: string[]) {
  return participantsOnCourse(db, event, {
    deliveryPartnerIds: event.delivery_partner_id !== null ? [event.delivery_partner_id] : undefined,
    excluding: onRegister,
  }).execute()
}

const fail = (message: string, fields: FieldError[]) => new AppError('validation-failed', message, fields)
const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)

/** Locks the event's row so that two people saving one register are applied one after the other. */
async function lockEvent(trx: Trx, eventId: string) {
  await trx.selectFrom('events').select('id').where('id', '=', eventId).forUpdate().execute()
}

function requireReason(rules: RegisterRules, reason: string, field: string): string | null {
  if (!rules.markNeedsReason) return null
  if (reason.trim() === '')
    throw fail('Enter why the locked register is being changed', [{ field, message: 'Enter why the locked register is being changed' }])
  if (reason.length > 2000) throw fail('The reason is too long', [{ field, message: 'The reason must be 2000 characters or fewer' }])
  return reason.trim()
}

/** Sets the register as taken once everyone booked has a mark (it stays taken). */
async function markTakenIfComplete(trx: Trx, by: Principal, event: EventDetails): Promise<void> {
  const row = await trx.selectFrom('events').select('register_taken_at').where('id', '=', event.id).executeTakeFirstOrThrow()
  if (row.register_taken_at) return
  const rows = await loadRegister(trx, event.id)
  if (rows.some((r) => r.booked && !r.entry)) return
  const takenAt = new Date().toISOString()
  await trx
    .updateTable('events')
    .set({ register_taken_at: takenAt, register_taken_by: by.kind === 'user' ? by.userId : null })
    .where('id', '=', event.id)
    .execute()
  await recordAudit(trx, {
    by,
    action: 'event.register-taken',
    entityType: 'event',
    entityId: event.id,
    after: { registerTakenAt: takenAt, entries: rows.length },
  })
}

export type MarkInput = { participantIds: string[]; status: 'attended' | 'absent'; reason: string }

/** Marks the selected participants attended or absent in one go. All or nothing. */
export async function markParticipants(trx: Trx, by: Principal, event: EventDetails, rules: RegisterRules, input: MarkInput) {
  if (!rules.canMark) throw fail(rules.markRefusal!, [{ field: 'participants', message: rules.markRefusal! }])
  if (input.participantIds.length === 0) {
    const message = `Select the participants to mark as ${input.status}`
    throw fail(message, [{ field: 'participants', message }])
  }
  const changeReason = requireReason(rules, input.reason, 'reason')
  await lockEvent(trx, event.id)
  const rows = await loadRegister(trx, event.id)
  const unknown = input.participantIds.filter((id) => !rows.some((r) => r.participantId === id))
  if (unknown.length) {
    const message = `${unknown.length === 1 ? 'A selected participant is' : `${unknown.length} selected participants are`} not on this register: add them as a walk-in first`
    throw fail(message, [{ field: 'participants', message }])
  }
  const counts = { created: 0, updated: 0, unchanged: 0 }
  for (const id of new Set(input.participantIds)) {
    const current = rows.find((r) => r.participantId === id)!.entry
    // Marking again keeps the note a facilitator gave; a change of status starts without one.
    const outcome = await recordRegisterEntry(trx, by, {
      eventId: event.id,
      participantId: id,
      status: input.status,
      completedAt: null,
      completedOn: null,
      note: current?.status === input.status ? current.note : null,
      changeReason,
    })
    counts[outcome]++
  }
  await markTakenIfComplete(trx, by, event)
  return counts
}

/** Adds a participant who came without booking, as attended. */
export async function addWalkIn(
  trx: Trx,
  by: Principal,
  event: EventDetails,
  rules: RegisterRules,
  input: { participantId: string; reason: string },
) {
  if (!rules.canMark) throw fail(rules.markRefusal!, [{ field: 'walkIn', message: rules.markRefusal! }])
  const id = input.participantId.trim()
  if (id === '') throw fail('Select the participant who attended', [{ field: 'walkIn', message: 'Select the participant who attended' }])
  const changeReason = requireReason(rules, input.reason, 'walkInReason')
  await lockEvent(trx, event.id)
  const rows = await loadRegister(trx, event.id)
  const onRegister = rows.find((r) => r.participantId === id)
  if (onRegister) {
    const message = `${onRegister.fullName} is already on this register`
    throw fail(message, [{ field: 'walkIn', message }])
  }
  const candidates = await walkInCandidates(
    trx,
    event,
    rows.map((r) => r.participantId),
  )
  if (!candidates.some((c) => c.id === id)) {
    const known = isUuid(id) && (await trx.selectFrom('participants').select('id').where('id', '=', id).executeTakeFirst())
    const where = event.deliveryPartner ? ` with ${event.deliveryPartner.name}` : ''
    const message = known
      ? `That participant is not on ${event.course_identifier} in cohort ${event.cohort}${where}`
      : 'Select a participant from the list'
    throw fail(message, [{ field: 'walkIn', message }])
  }
  await recordRegisterEntry(trx, by, {
    eventId: event.id,
    participantId: id,
    status: 'attended',
    completedAt: null,
    completedOn: null,
    note: 'Walk-in',
    changeReason,
  })
  await markTakenIfComplete(trx, by, event)
  return candidates.find((c) => c.id === id)!
}

export type ContingencyInput = {
  participantId: string
  method: string
  completedOn: string | null
  /** Whether any part of the date was typed (to tell "enter a date" from "enter a real date"). */
  dateTyped: boolean
  note: string
}

/** Records that someone marked absent made the session up, how and when. */
export async function recordContingency(
  trx: Trx,
  by: Principal,
  event: EventDetails,
  rules: RegisterRules,
  input: ContingencyInput,
  now = new Date(),
) {
  if (!rules.canRecordContingency)
    throw fail(rules.contingencyRefusal!, [{ field: 'contingencyParticipant', message: rules.contingencyRefusal! }])
  await lockEvent(trx, event.id)
  const rows = await loadRegister(trx, event.id)
  const errors: FieldError[] = []
  const id = input.participantId.trim()
  const row = rows.find((r) => r.participantId === id)
  if (id === '') errors.push({ field: 'contingencyParticipant', message: 'Select the participant who completed a contingency activity' })
  else if (!row) errors.push({ field: 'contingencyParticipant', message: 'Select a participant on this register' })
  else if (row.entry?.status !== 'absent' && row.entry?.status !== 'contingency-completed') {
    errors.push({ field: 'contingencyParticipant', message: `${row.fullName} is not marked absent: mark them absent first` })
  }
  const method = Object.hasOwn(contingencyMethodLabels, input.method) ? (input.method as ContingencyMethod) : null
  if (!method) errors.push({ field: 'method', message: 'Select what the participant did instead' })
  if (input.completedOn === null) {
    errors.push({
      field: 'completedOn-day',
      message: input.dateTyped ? 'The completion date must be a real date' : 'Enter the date the contingency activity was completed',
    })
  } else {
    const problem = completionDateProblem(input.completedOn, rules.startsOn, londonDateOf(now))
    if (problem) errors.push({ field: 'completedOn-day', message: problem })
  }
  const note = input.note.trim()
  if (note === '') errors.push({ field: 'note', message: 'Enter a note saying what was done' })
  else if (note.length > 2000) errors.push({ field: 'note', message: 'The note must be 2000 characters or fewer' })
  if (errors.length) throw fail('The contingency completion cannot be recorded', errors)

  // The start of the London day it was done: a moment that is never in the future.
  const completedAt = londonMoment(input.completedOn!, '00:00')!.toISOString()
  await recordRegisterEntry(trx, by, {
    eventId: event.id,
    participantId: id,
    status: 'contingency-completed',
    completedAt,
    completedOn: input.completedOn,
    note,
    contingencyMethod: method,
  })
  return row!
}
