import { recordAudit } from '../audit/audit.ts'
import { findActivity } from '../catalogue/activities.ts'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Trx } from '../db/database.ts'
import type { EventKind } from '../db/schema.ts'
import { AppError, type FieldError } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import { promoteWaiting } from './booking.ts'
import { kindsDeliveringNothing, loadEvent, type EventServices } from './events.ts'
import { sendEventEmail } from './notifications.ts'

// Scheduling events: delivery-partner leads schedule their partner's events, lead-provider admins
// their central ones (UCL's induction conference). Every rule an event must satisfy is checked here
// once, for the pages and the API alike; a failed check changes nothing.

export type EventInput = {
  leadProviderId: string
  /** Null for a lead provider's central event. */
  deliveryPartnerId: string | null
  courseIdentifier: string
  cohort: string
  kind: EventKind
  activityCode: string | null
  title: string | null
  description: string | null
  startsAt: Date
  endsAt: Date
  venue: string | null
  joiningLink: string | null
  capacity: number
  bookingOpensAt: Date | null
  bookingClosesAt: Date | null
  cancelBy: Date | null
  reminderDaysBefore: number | null
  facilitatorUserIds: string[]
  sharedWithPartnerIds: string[]
}

/** Handbook timings (London wall-clock), offered as defaults on the scheduling form. */
export const defaultTimings: {
  leadProvider: string
  kind: EventKind
  group?: 'leadership' | 'specialist'
  starts: string
  ends: string
  source: string
}[] = [
  { leadProvider: 'ucl', kind: 'peer-learning-group', group: 'specialist', starts: '14:00', ends: '17:00', source: 'seed 001 §5' },
  { leadProvider: 'ucl', kind: 'peer-learning-group', group: 'leadership', starts: '15:30', ends: '17:30', source: 'seed 001 §5' },
  { leadProvider: 'ucl', kind: 'f2f', group: 'leadership', starts: '09:30', ends: '16:00', source: 'seed 001 §5' },
  { leadProvider: 'ucl', kind: 'conference', group: 'specialist', starts: '12:30', ends: '17:30', source: 'seed 001 §5' },
]

export function defaultTiming(leadProvider: string, kind: EventKind, courseIdentifier: string): { starts: string; ends: string } | null {
  const group = findCourse(courseIdentifier)?.group
  const found = defaultTimings.find((t) => t.leadProvider === leadProvider && t.kind === kind && (!t.group || t.group === group))
  return found ? { starts: found.starts, ends: found.ends } : null
}

/** Every problem with an event as it would be saved (field names are the form's). */
export async function eventProblems(
  trx: Trx,
  services: EventServices,
  input: EventInput,
  existing: { id: string; booked: number } | null,
): Promise<FieldError[]> {
  const problems: FieldError[] = []
  const lp = await trx.selectFrom('organisations').select('code').where('id', '=', input.leadProviderId).executeTakeFirst()
  if (!lp) return [{ field: 'lead_provider', message: 'Unknown lead provider' }]
  if (!services.catalogue.cohortsFor(lp.code, input.courseIdentifier).includes(input.cohort)) {
    problems.push({ field: 'course', message: `${lp.code} does not run this course in cohort ${input.cohort}` })
  } else if (input.activityCode === null) {
    if (!kindsDeliveringNothing.includes(input.kind))
      problems.push({ field: 'activity', message: 'Select the activity this event delivers' })
  } else {
    const design = await services.designs.designForCohort(lp.code, input.courseIdentifier, input.cohort, trx)
    const found = design ? findActivity(design, input.activityCode) : null
    if (!found) problems.push({ field: 'activity', message: `${input.activityCode} is not an activity of this course and cohort` })
    else if (found.activity.evidence !== 'register')
      problems.push({
        field: 'activity',
        message: `${input.activityCode} is not an event activity: it is evidenced by ${found.activity.evidence} records`,
      })
  }
  if (!(input.endsAt > input.startsAt)) problems.push({ field: 'ends', message: 'The end must be after the start' })
  if (!Number.isInteger(input.capacity) || input.capacity < 1)
    problems.push({ field: 'capacity', message: 'Capacity must be a whole number, 1 or more' })
  else if (existing && input.capacity < existing.booked)
    problems.push({ field: 'capacity', message: `Capacity cannot be below the ${existing.booked} places already booked` })
  if (!input.venue && !input.joiningLink) problems.push({ field: 'venue', message: 'Enter the venue address or an online joining link' })
  if (input.joiningLink && !/^https:\/\/[^\s]+$/.test(input.joiningLink))
    problems.push({ field: 'joining_link', message: 'The joining link must start with https://' })
  if (input.bookingOpensAt && input.bookingClosesAt && input.bookingClosesAt <= input.bookingOpensAt)
    problems.push({ field: 'booking_closes', message: 'Booking must close after it opens' })
  if (input.bookingOpensAt && input.bookingOpensAt >= input.startsAt)
    problems.push({ field: 'booking_opens', message: 'Booking must open before the event starts' })
  if (input.cancelBy && input.cancelBy > input.startsAt)
    problems.push({ field: 'cancel_by', message: 'The cancellation cut-off must be before the event starts' })
  if (
    input.reminderDaysBefore !== null &&
    (!Number.isInteger(input.reminderDaysBefore) || input.reminderDaysBefore < 0 || input.reminderDaysBefore > 60)
  )
    problems.push({ field: 'reminder_days', message: 'Reminder days must be a whole number from 0 to 60' })

  if (input.facilitatorUserIds.length) {
    // Facilitators of the event's delivery partner, or (central events) of any partner of the lead provider.
    let q = trx
      .selectFrom('role_assignments as r')
      .select('r.user_id')
      .where('r.role', '=', 'facilitator')
      .where('r.user_id', 'in', input.facilitatorUserIds)
    q =
      input.deliveryPartnerId !== null
        ? q.where('r.organisation_id', '=', input.deliveryPartnerId)
        : q.where('r.organisation_id', 'in', (eb) =>
            eb.selectFrom('delivery_partnerships').select('delivery_partner_id').where('lead_provider_id', '=', input.leadProviderId),
          )
    const found = new Set((await q.execute()).map((r) => r.user_id))
    if (input.facilitatorUserIds.some((id) => !found.has(id)))
      problems.push({ field: 'facilitators', message: 'Facilitators must be facilitators of the delivery partner' })
  }
  if (input.sharedWithPartnerIds.length) {
    if (input.deliveryPartnerId === null)
      problems.push({ field: 'shared_with', message: 'A central event is open to every delivery partner already' })
    const partners = await trx
      .selectFrom('delivery_partnerships')
      .select('delivery_partner_id')
      .where('lead_provider_id', '=', input.leadProviderId)
      .where('delivery_partner_id', 'in', input.sharedWithPartnerIds)
      .execute()
    if (partners.length !== new Set(input.sharedWithPartnerIds).size || input.sharedWithPartnerIds.includes(input.deliveryPartnerId ?? ''))
      problems.push({ field: 'shared_with', message: 'Share only with other delivery partners of the lead provider' })
  }
  return problems
}

const columns = (input: EventInput) => ({
  lead_provider_id: input.leadProviderId,
  delivery_partner_id: input.deliveryPartnerId,
  course_identifier: input.courseIdentifier,
  cohort: input.cohort,
  kind: input.kind,
  activity_code: input.activityCode,
  title: input.title,
  description: input.description,
  starts_at: input.startsAt,
  ends_at: input.endsAt,
  starts_on: londonDateOf(input.startsAt),
  venue: input.venue,
  joining_link: input.joiningLink,
  capacity: input.capacity,
  booking_opens_at: input.bookingOpensAt,
  booking_closes_at: input.bookingClosesAt,
  cancel_by: input.cancelBy,
  reminder_days_before: input.reminderDaysBefore,
})

async function setPeople(trx: Trx, eventId: string, input: EventInput) {
  await trx.deleteFrom('event_facilitators').where('event_id', '=', eventId).execute()
  await trx.deleteFrom('event_shared_partners').where('event_id', '=', eventId).execute()
  const facilitators = [...new Set(input.facilitatorUserIds)]
  const shared = [...new Set(input.sharedWithPartnerIds)]
  if (facilitators.length)
    await trx
      .insertInto('event_facilitators')
      .values(facilitators.map((user_id) => ({ event_id: eventId, user_id })))
      .execute()
  if (shared.length)
    await trx
      .insertInto('event_shared_partners')
      .values(shared.map((delivery_partner_id) => ({ event_id: eventId, delivery_partner_id })))
      .execute()
}

/** A reference for events scheduled on the platform (imports bring their own). */
async function newEventRef(trx: Trx, input: EventInput): Promise<string> {
  const prefix = `${input.activityCode ?? input.kind}-${londonDateOf(input.startsAt)}`.replace(/[^A-Za-z0-9._:/-]/g, '-')
  for (let n = 1; ; n++) {
    const ref = n === 1 ? prefix : `${prefix}-${n}`
    const taken = await trx.selectFrom('events').select('id').where('event_ref', '=', ref).executeTakeFirst()
    if (!taken) return ref
  }
}

const sessionFields = ['activity', 'starts', 'ends']

/** Schedules events (one, or a series sharing `seriesRef`); all or nothing. */
export async function scheduleEvents(
  trx: Trx,
  services: EventServices,
  by: Principal,
  inputs: EventInput[],
  options: { seriesRef?: string } = {},
): Promise<string[]> {
  const problems: FieldError[] = []
  for (const [i, input] of inputs.entries()) {
    // In a series, the problems of one session's times and activity point at that session's fields.
    for (const p of await eventProblems(trx, services, input, null))
      problems.push(
        inputs.length > 1 && sessionFields.includes(p.field)
          ? { ...p, field: `${p.field}-${i + 1}`, message: `Session ${i + 1}: ${p.message}` }
          : p,
      )
  }
  if (problems.length) throw new AppError('validation-failed', 'The event cannot be scheduled', problems)
  const ids: string[] = []
  for (const input of inputs) {
    const row = await trx
      .insertInto('events')
      .values({
        event_ref: await newEventRef(trx, input),
        ...columns(input),
        series_ref: options.seriesRef ?? null,
        created_by: by.kind === 'user' ? by.userId : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await setPeople(trx, row.id, input)
    await recordAudit(trx, { by, action: 'event.scheduled', entityType: 'event', entityId: row.id, after: columns(input) })
    ids.push(row.id)
  }
  return ids
}

/**
 * Changes an event. Its lead provider, delivery partner, course and cohort stay; the activity cannot
 * change once a register has entries. Booked participants are emailed when the time or place changes;
 * extra capacity goes to the waiting list.
 */
export async function updateEvent(
  trx: Trx,
  services: EventServices,
  by: Principal,
  eventId: string,
  input: EventInput,
  options: { now?: Date } = {},
): Promise<void> {
  const event = await loadEvent(trx, eventId)
  if (!event) throw new AppError('not-found', 'Event not found')
  if (event.status === 'cancelled') throw new AppError('invalid-transition', 'A cancelled event cannot be changed')
  const fixed = {
    leadProviderId: event.lead_provider_id,
    deliveryPartnerId: event.delivery_partner_id,
    courseIdentifier: event.course_identifier,
    cohort: event.cohort,
  }
  const wanted = { ...input, ...fixed }
  const problems = await eventProblems(trx, services, wanted, { id: eventId, booked: event.booked })
  if (wanted.activityCode !== event.activity_code) {
    const register = await trx.selectFrom('register_entries').select('id').where('event_id', '=', eventId).executeTakeFirst()
    if (register) problems.push({ field: 'activity', message: 'The activity cannot change: the register already has entries' })
  }
  if (problems.length) throw new AppError('validation-failed', 'The event cannot be changed', problems)
  const before = columns({
    ...fixed,
    kind: event.kind,
    activityCode: event.activity_code,
    title: event.title,
    description: event.description,
    startsAt: new Date(event.starts_at),
    endsAt: new Date(event.ends_at),
    venue: event.venue,
    joiningLink: event.joining_link,
    capacity: event.capacity,
    bookingOpensAt: event.booking_opens_at ? new Date(event.booking_opens_at) : null,
    bookingClosesAt: event.booking_closes_at ? new Date(event.booking_closes_at) : null,
    cancelBy: event.cancel_by ? new Date(event.cancel_by) : null,
    reminderDaysBefore: event.reminder_days_before,
    facilitatorUserIds: [],
    sharedWithPartnerIds: [],
  })
  await trx
    .updateTable('events')
    .set({ ...columns(wanted), updated_at: new Date() })
    .where('id', '=', eventId)
    .execute()
  await setPeople(trx, eventId, wanted)
  await recordAudit(trx, { by, action: 'event.updated', entityType: 'event', entityId: eventId, before, after: columns(wanted) })
  const moved =
    before.starts_at.getTime() !== wanted.startsAt.getTime() ||
    before.ends_at.getTime() !== wanted.endsAt.getTime() ||
    before.venue !== wanted.venue ||
    before.joining_link !== wanted.joiningLink
  if (moved) {
    const updated = (await loadEvent(trx, eventId))!
    const booked = await trx
      .selectFrom('bookings')
      .select('participant_id')
      .where('event_id', '=', eventId)
      .where('status', '=', 'booked')
      .execute()
    for (const b of booked) await sendEventEmail(trx, services, 'event-changed', updated, b.participant_id)
  }
  await promoteWaiting(trx, services, eventId, options.now)
}

/** Cancels an event: its bookings and waiting list are cancelled and everyone on them is emailed. */
export async function cancelEvent(trx: Trx, services: EventServices, by: Principal, eventId: string, reason: string): Promise<void> {
  const event = await loadEvent(trx, eventId)
  if (!event) throw new AppError('not-found', 'Event not found')
  if (event.status === 'cancelled') throw new AppError('invalid-transition', 'This event is already cancelled')
  if (!reason.trim())
    throw new AppError('validation-failed', 'Give the reason', [{ field: 'reason', message: 'Enter the reason for cancelling' }])
  const register = await trx.selectFrom('register_entries').select('id').where('event_id', '=', eventId).executeTakeFirst()
  if (register) throw new AppError('invalid-transition', 'This event has a register: it took place and cannot be cancelled')
  const now = new Date()
  await trx
    .updateTable('events')
    .set({ status: 'cancelled', cancelled_at: now, cancelled_reason: reason.trim(), updated_at: now })
    .where('id', '=', eventId)
    .execute()
  const active = await trx
    .selectFrom('bookings')
    .select(['id', 'participant_id'])
    .where('event_id', '=', eventId)
    .where('status', '<>', 'cancelled')
    .execute()
  await trx
    .updateTable('bookings')
    .set({ status: 'cancelled', cancelled_at: now, cancelled_by: by.kind === 'user' ? by.userId : null })
    .where('event_id', '=', eventId)
    .where('status', '<>', 'cancelled')
    .execute()
  await recordAudit(trx, {
    by,
    action: 'event.cancelled',
    entityType: 'event',
    entityId: eventId,
    after: { reason: reason.trim(), bookings: active.length },
  })
  const cancelled = (await loadEvent(trx, eventId))!
  for (const b of active) await sendEventEmail(trx, services, 'event-cancelled', cancelled, b.participant_id)
}
