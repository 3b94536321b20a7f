import type { Db, Trx } from '../db/database.ts'
import type { BookingStatus } from '../db/schema.ts'
import { eventTitle, loadEvents, type EventDetails } from '../events/events.ts'
import { participantEventPath } from '../events/notifications.ts'
import { formatSpan } from '../events/times.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'

// Each person's events, seen from each role they hold: a participant's bookings, the events a
// facilitator runs, a delivery partner's events for its leads, a lead provider's central events for its
// admins. The Home pages list the upcoming ones; the private calendar feed carries them all, with recent
// cancellations as CANCELLED so calendar programs remove them.

export type Viewpoint = 'participant' | 'facilitator' | 'delivery-partner-lead' | 'lead-provider-admin'

export type MyEvent = {
  event: EventDetails
  viewpoint: Viewpoint
  /** Where this person sees the event. */
  path: string
  /** The participant's booking (participant viewpoint only). */
  booking: BookingStatus | null
  /** Cancelled for this person: the event, or their booking. */
  cancelled: boolean
}

/** How long cancelled events stay in a feed (as CANCELLED) so subscribed calendars remove them. */
export const CANCELLED_KEPT_DAYS = 30
/** How far back a feed goes, so past events stay in people's calendars. */
export const FEED_HISTORY_DAYS = 120

const DAY = 86_400_000

const pathFor = (viewpoint: Viewpoint, eventId: string): string =>
  ({
    participant: participantEventPath(eventId),
    facilitator: `/events/${eventId}/register`,
    'delivery-partner-lead': `/delivery-partner/events/${eventId}`,
    'lead-provider-admin': `/lead-provider/events/${eventId}`,
  })[viewpoint]

type Window = {
  /** Events ending at or after this moment. */
  endsFrom: Date
  /** Include cancelled events (and cancelled bookings) cancelled at or after this moment; null: none. */
  cancelledSince: Date | null
  /** Participants: include places on the waiting list. */
  waiting: boolean
}

/** The events a person sees from one of their roles, soonest first. */
export async function eventsFrom(
  db: Db | Trx,
  principal: Principal & { kind: 'user' },
  viewpoint: Viewpoint,
  window: Window,
): Promise<MyEvent[]> {
  const bookings = new Map<string, { status: BookingStatus; cancelledAt: Date | string | null }>()
  let ids: string[]
  if (viewpoint === 'participant') {
    const rows = await db
      .selectFrom('bookings as b')
      .innerJoin('participants as p', 'p.id', 'b.participant_id')
      .innerJoin('events as ev', 'ev.id', 'b.event_id')
      .select(['b.event_id', 'b.status', 'b.booked_at', 'b.cancelled_at'])
      .where('p.user_id', '=', principal.userId)
      .where('ev.ends_at', '>=', window.endsFrom)
      .orderBy('b.requested_at')
      .execute()
    for (const r of rows) {
      const included =
        r.status === 'booked' ||
        (r.status === 'waiting' && window.waiting) ||
        // A cancelled place stays (as cancelled) only if it was ever booked, so it was in their calendar.
        (r.status === 'cancelled' &&
          r.booked_at !== null &&
          window.cancelledSince !== null &&
          new Date(r.cancelled_at!) >= window.cancelledSince)
      // An active booking wins over an earlier cancelled one on the same event.
      if (included && (!bookings.has(r.event_id) || r.status !== 'cancelled'))
        bookings.set(r.event_id, { status: r.status, cancelledAt: r.cancelled_at })
    }
    ids = [...bookings.keys()]
  } else {
    let q = db.selectFrom('events as ev').select('ev.id').where('ev.ends_at', '>=', window.endsFrom)
    if (viewpoint === 'facilitator') {
      q = q.where('ev.id', 'in', (eb) => eb.selectFrom('event_facilitators').select('event_id').where('user_id', '=', principal.userId))
    } else if (viewpoint === 'delivery-partner-lead') {
      const partners = organisationsWithRole(principal, 'delivery-partner-lead')
      if (partners.length === 0) return []
      q = q.where('ev.delivery_partner_id', 'in', partners)
    } else {
      const providers = organisationsWithRole(principal, 'lead-provider-admin')
      if (providers.length === 0) return []
      q = q.where('ev.delivery_partner_id', 'is', null).where('ev.lead_provider_id', 'in', providers)
    }
    const since = window.cancelledSince
    q = since
      ? q.where((eb) => eb.or([eb('ev.status', '=', 'scheduled'), eb('ev.cancelled_at', '>=', since)]))
      : q.where('ev.status', '=', 'scheduled')
    ids = (await q.execute()).map((r) => r.id)
  }
  const events = await loadEvents(db, ids)
  return events
    .filter((event) => event.status === 'scheduled' || window.cancelledSince !== null)
    .map((event) => {
      const booking = bookings.get(event.id)?.status ?? null
      return {
        event,
        viewpoint,
        path: pathFor(viewpoint, event.id),
        booking,
        cancelled: event.status === 'cancelled' || booking === 'cancelled',
      }
    })
}

/** The viewpoints a person has events from, in the order their roles are shown. */
export function viewpointsOf(principal: Principal & { kind: 'user' }): Viewpoint[] {
  const held = new Set(principal.roles.map((r) => r.role))
  return (['participant', 'facilitator', 'delivery-partner-lead', 'lead-provider-admin'] as const).filter((v) => held.has(v))
}

/** A row of a Home page's "Your events". */
export type EventRow = {
  id: string
  title: string
  when: string
  place: string
  path: string
  booking: BookingStatus | null
  deliveryPartner: string | null
  booked: number
  waiting: number
  capacity: number
}

/** Upcoming events (not yet ended, not cancelled) from one role, for its Home page. */
export async function upcomingEvents(
  db: Db | Trx,
  principal: Principal & { kind: 'user' },
  viewpoint: Viewpoint,
  now = new Date(),
  limit = 50,
): Promise<EventRow[]> {
  const mine = await eventsFrom(db, principal, viewpoint, { endsFrom: now, cancelledSince: null, waiting: true })
  return mine
    .filter((m) => !m.cancelled)
    .slice(0, limit)
    .map(({ event: e, path, booking }) => ({
      id: e.id,
      title: eventTitle(e),
      when: formatSpan(e.starts_at, e.ends_at),
      place: e.venue ?? (e.joining_link ? 'Online' : ''),
      path,
      booking,
      deliveryPartner: e.deliveryPartner?.name ?? null,
      booked: e.booked,
      waiting: e.waiting,
      capacity: e.capacity,
    }))
}

/**
 * Everything in a person's calendar feed, from every role they hold: events of the last
 * FEED_HISTORY_DAYS onwards, and events (or bookings) cancelled in the last CANCELLED_KEPT_DAYS as
 * cancelled. An event seen from two roles appears once (the first role's view).
 */
export async function feedEvents(db: Db | Trx, principal: Principal & { kind: 'user' }, now = new Date()): Promise<MyEvent[]> {
  const window: Window = {
    endsFrom: new Date(now.getTime() - FEED_HISTORY_DAYS * DAY),
    cancelledSince: new Date(now.getTime() - CANCELLED_KEPT_DAYS * DAY),
    waiting: false,
  }
  const seen = new Map<string, MyEvent>()
  for (const viewpoint of viewpointsOf(principal)) {
    for (const m of await eventsFrom(db, principal, viewpoint, window)) {
      const earlier = seen.get(m.event.id)
      // A cancelled booking does not hide the event the person still runs or facilitates.
      if (!earlier || (earlier.cancelled && !m.cancelled)) seen.set(m.event.id, m)
    }
  }
  return [...seen.values()].sort((a, b) => new Date(a.event.starts_at).getTime() - new Date(b.event.starts_at).getTime())
}
