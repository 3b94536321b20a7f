import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import type { BookingStatus } from '../db/schema.ts'
import { londonDateOf } from '../dates/london.ts'
import { AppError, notFound } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import { eventTitle, freePlaces, isUuid, loadEvent, type EventDetails, type EventServices } from './events.ts'
import { sendEventEmail } from './notifications.ts'
import { formatMoment } from './times.ts'
import { withdrawalInForce, deferredOn } from '../participants/in-force.ts'

// Booking: a participant takes a place on an event open to them, or joins its waiting list when it is
// full; cancelling before the cut-off frees the place for the first person waiting, who is emailed.
// Each booking runs with the event and the participant locked, so two people cannot take the last
// place and one person cannot book two dates of the same activity at once.

/** Enrolment statuses that may not book (issue 7 sets them). */
export const notBookingStatuses: Record<string, string> = {
  deferred: 'You cannot book events while your place on the course is deferred',
  withdrawn: 'You cannot book events because you have withdrawn from the course',
}

export type BookingFacts = {
  event: Pick<EventDetails, 'status' | 'starts_at' | 'booking_opens_at' | 'booking_closes_at' | 'capacity' | 'booked'>
  /** The participant's enrolment the event is open to, if any. */
  enrolmentStatus: string | null
  onThisEvent: BookingStatus | null
  /** Another active booking of theirs for the same activity (a different date of the same session). */
  sameActivity: { title: string; startsAt: Date | string } | null
  waitingListWanted: boolean
  now: Date
}

/** Why this booking cannot be made (a sentence for the person), or null: the pure rule. */
export function bookingProblem(f: BookingFacts): string | null {
  const { event, now } = f
  if (f.enrolmentStatus === null) return 'This event is not open to you'
  if (notBookingStatuses[f.enrolmentStatus]) return notBookingStatuses[f.enrolmentStatus]!
  if (event.status === 'cancelled') return 'This event has been cancelled'
  if (new Date(event.starts_at) <= now) return 'This event has already started'
  if (event.booking_opens_at && new Date(event.booking_opens_at) > now)
    return `Booking for this event opens on ${formatMoment(event.booking_opens_at)}`
  if (event.booking_closes_at && new Date(event.booking_closes_at) <= now)
    return `Booking for this event closed on ${formatMoment(event.booking_closes_at)}`
  if (f.onThisEvent === 'booked') return 'You are already booked on this event'
  if (f.onThisEvent === 'waiting') return 'You are already on the waiting list for this event'
  if (f.sameActivity)
    return `You are already booked on this session on another date (${f.sameActivity.title}, ${formatMoment(f.sameActivity.startsAt)}): cancel that booking first`
  if (freePlaces(event) === 0 && !f.waitingListWanted) return 'This event is full: join the waiting list instead'
  return null
}

/** The participant's enrolment this event is open to: same lead provider, course and cohort, and the event's delivery partner or one it is shared with (any, for a central event). */
export async function enrolmentForEvent(trx: Trx, event: EventDetails, participantId: string, today = londonDateOf(new Date())) {
  const partners = [event.delivery_partner_id, ...event.sharedWith.map((s) => s.id)].filter((id): id is string => id !== null)
  let q = trx
    .selectFrom('enrolments')
    .select(['id', 'status', 'delivery_partner_id'])
    .where('participant_id', '=', participantId)
    .where('lead_provider_id', '=', event.lead_provider_id)
    .where('course_identifier', '=', event.course_identifier)
    .where('cohort', '=', event.cohort)
  if (event.delivery_partner_id !== null) q = q.where('delivery_partner_id', 'in', partners)
  const enrolment = await q.executeTakeFirst()
  if (!enrolment) return undefined
  // Recorded withdrawals and deferrals say, by date, what the participant is today.
  const withdrawn = await trx
    .selectFrom('withdrawals')
    .select('id')
    .where('participant_id', '=', participantId)
    // A row without an enrolment (the CSV imports) applies to all the participant's enrolments.
    .where((eb) => eb.or([eb('enrolment_id', 'is', null), eb('enrolment_id', '=', enrolment.id)]))
    .where('withdrawn_on', '<=', today)
    .where(withdrawalInForce)
    .executeTakeFirst()
  const deferred = await trx
    .selectFrom('deferrals')
    .select('id')
    .where('participant_id', '=', participantId)
    .where((eb) => eb.or([eb('enrolment_id', 'is', null), eb('enrolment_id', '=', enrolment.id)]))
    .where(deferredOn(today))
    .executeTakeFirst()
  return { ...enrolment, status: withdrawn ? 'withdrawn' : deferred ? 'deferred' : enrolment.status }
}

/** Another live booking of the participant's for the same activity (a different date of the same session). */
export async function sameActivityBooking(
  db: Db | Trx,
  event: Pick<EventDetails, 'id' | 'activity_code' | 'course_identifier' | 'cohort'>,
  participantId: string,
): Promise<BookingFacts['sameActivity']> {
  if (!event.activity_code) return null
  const other = await db
    .selectFrom('bookings as b')
    .innerJoin('events as ev', 'ev.id', 'b.event_id')
    .select(['ev.title', 'ev.kind', 'ev.activity_code', 'ev.starts_at'])
    .where('b.participant_id', '=', participantId)
    .where('b.status', '<>', 'cancelled')
    .where('b.event_id', '<>', event.id)
    .where('ev.status', '=', 'scheduled')
    .where('ev.activity_code', '=', event.activity_code)
    .where('ev.course_identifier', '=', event.course_identifier)
    .where('ev.cohort', '=', event.cohort)
    .executeTakeFirst()
  return other ? { title: eventTitle(other), startsAt: other.starts_at } : null
}

export type BookingResult = { bookingId: string; status: 'booked' | 'waiting' }

/**
 * Books a place (or a place on the waiting list, when asked for and the event is full). `by` is the
 * participant, or a delivery-partner lead booking on their behalf (the caller has checked that).
 */
export async function bookEvent(
  trx: Trx,
  services: EventServices,
  by: Principal,
  eventId: string,
  participantId: string,
  options: { waitingList?: boolean; now?: Date } = {},
): Promise<BookingResult> {
  const now = options.now ?? new Date()
  // A made-up id is not found (rather than an error from PostgreSQL's uuid type).
  if (!isUuid(eventId)) throw notFound('Event')
  if (!isUuid(participantId)) throw notFound('Participant')
  await sql`select id from events where id = ${eventId} for update`.execute(trx)
  await sql`select id from participants where id = ${participantId} for update`.execute(trx)
  const event = await loadEvent(trx, eventId)
  if (!event) throw notFound('Event')
  const enrolment = await enrolmentForEvent(trx, event, participantId, londonDateOf(now))
  const mine = await trx
    .selectFrom('bookings')
    .select(['status'])
    .where('event_id', '=', eventId)
    .where('participant_id', '=', participantId)
    .where('status', '<>', 'cancelled')
    .executeTakeFirst()
  const sameActivity = await sameActivityBooking(trx, event, participantId)
  const problem = bookingProblem({
    event,
    enrolmentStatus: enrolment?.status ?? null,
    onThisEvent: mine?.status ?? null,
    sameActivity,
    waitingListWanted: options.waitingList ?? false,
    now,
  })
  if (problem) throw new AppError('invalid-transition', problem, [{ field: 'event', message: problem }])

  const status = freePlaces(event) > 0 ? 'booked' : 'waiting'
  const booking = await trx
    .insertInto('bookings')
    .values({
      event_id: eventId,
      participant_id: participantId,
      status,
      requested_at: now,
      booked_at: status === 'booked' ? now : null,
      booked_by: by.kind === 'user' ? by.userId : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: status === 'booked' ? 'booking.booked' : 'booking.waiting',
    entityType: 'booking',
    entityId: booking.id,
    after: { event_id: eventId, participant_id: participantId, status },
  })
  await sendEventEmail(trx, services, status === 'booked' ? 'booked' : 'waiting', { ...event, booked: event.booked + 1 }, participantId)
  return { bookingId: booking.id, status }
}

/** Whether the participant may still cancel themselves (a lead can cancel for them at any time before the event). */
export function cancellationProblem(event: Pick<EventDetails, 'starts_at' | 'cancel_by' | 'status'>, now: Date): string | null {
  if (event.status === 'cancelled') return 'This event has been cancelled'
  if (new Date(event.starts_at) <= now) return 'This event has already started'
  const cutOff = event.cancel_by ?? event.starts_at
  if (new Date(cutOff) <= now) return `Cancellations closed on ${formatMoment(cutOff)}: contact your delivery partner`
  return null
}

/** Cancels a booking or a place on the waiting list; a freed place goes to the first person waiting. */
export async function cancelBooking(
  trx: Trx,
  services: EventServices,
  by: Principal,
  eventId: string,
  participantId: string,
  options: { onBehalf?: boolean; now?: Date } = {},
): Promise<void> {
  const now = options.now ?? new Date()
  if (!isUuid(eventId)) throw notFound('Event')
  await sql`select id from events where id = ${eventId} for update`.execute(trx)
  const event = await loadEvent(trx, eventId)
  if (!event) throw notFound('Event')
  const booking = isUuid(participantId)
    ? await trx
        .selectFrom('bookings')
        .select(['id', 'status'])
        .where('event_id', '=', eventId)
        .where('participant_id', '=', participantId)
        .where('status', '<>', 'cancelled')
        .executeTakeFirst()
    : undefined
  if (!booking) throw new AppError('invalid-transition', 'There is no booking to cancel', [{ field: 'event', message: 'Not booked' }])
  const problem = options.onBehalf
    ? new Date(event.starts_at) <= now
      ? 'This event has already started'
      : null
    : cancellationProblem(event, now)
  if (problem) throw new AppError('invalid-transition', problem, [{ field: 'event', message: problem }])
  await trx
    .updateTable('bookings')
    .set({ status: 'cancelled', cancelled_at: now, cancelled_by: by.kind === 'user' ? by.userId : null })
    .where('id', '=', booking.id)
    .execute()
  await recordAudit(trx, {
    by,
    action: 'booking.cancelled',
    entityType: 'booking',
    entityId: booking.id,
    before: { status: booking.status },
    after: { status: 'cancelled' },
  })
  await sendEventEmail(trx, services, 'booking-cancelled', event, participantId)
  await promoteWaiting(trx, services, eventId, now)
}

/** Gives free places to the people waiting, in the order they joined the list, and emails each. */
export async function promoteWaiting(trx: Trx, services: EventServices, eventId: string, now = new Date()): Promise<number> {
  const event = await loadEvent(trx, eventId)
  if (!event || event.status === 'cancelled' || new Date(event.starts_at) <= now) return 0
  const places = freePlaces(event)
  if (places === 0) return 0
  const promoted = await trx
    .selectFrom('bookings')
    .select(['id', 'participant_id'])
    .where('event_id', '=', eventId)
    .where('status', '=', 'waiting')
    .orderBy('requested_at')
    .orderBy('id')
    .limit(places)
    .execute()
  for (const [i, b] of promoted.entries()) {
    await trx.updateTable('bookings').set({ status: 'booked', booked_at: now, promoted_at: now }).where('id', '=', b.id).execute()
    await recordAudit(trx, {
      by: { kind: 'system', name: 'waiting-list' },
      action: 'booking.promoted',
      entityType: 'booking',
      entityId: b.id,
      before: { status: 'waiting' },
      after: { status: 'booked' },
    })
    await sendEventEmail(trx, services, 'promoted', { ...event, booked: event.booked + i + 1 }, b.participant_id)
  }
  return promoted.length
}
