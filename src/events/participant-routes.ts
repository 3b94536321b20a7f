import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, forbidden, notFound } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { bookEvent, bookingProblem, cancelBooking, cancellationProblem, enrolmentForEvent, sameActivityBooking } from './booking.ts'
import { eventTitle, freePlaces, kindLabels, loadEvent, loadEvents, type EventDetails } from './events.ts'
import { formatMoment, formatSpan } from './times.ts'

// The participant's Events zone: the events open to them (their delivery partner's, shared ones and
// the lead provider's central ones, for their course and cohort), their bookings, and each event's
// page with Book / Join the waiting list / Cancel.

type Params = { id: string }

async function participantOf(services: Services, principal: Principal | null): Promise<{ id: string; fullName: string }> {
  if (!principal || principal.kind !== 'user') throw forbidden()
  const p = await services.db
    .selectFrom('participants')
    .select(['id', 'full_name'])
    .where('user_id', '=', principal.userId)
    .executeTakeFirst()
  if (!p) throw forbidden()
  return { id: p.id, fullName: p.full_name }
}

/** Upcoming events open to a participant, and any they have booked or are waiting for. */
async function eventsFor(services: Services, participantId: string, now: Date): Promise<EventDetails[]> {
  const rows = await services.db
    .selectFrom('events as ev')
    .innerJoin('enrolments as e', (j) =>
      j
        .onRef('e.lead_provider_id', '=', 'ev.lead_provider_id')
        .onRef('e.course_identifier', '=', 'ev.course_identifier')
        .onRef('e.cohort', '=', 'ev.cohort'),
    )
    .select('ev.id')
    .where('e.participant_id', '=', participantId)
    .where('ev.ends_at', '>', now)
    .where((eb) =>
      eb.or([
        eb('ev.delivery_partner_id', 'is', null),
        eb('ev.delivery_partner_id', '=', eb.ref('e.delivery_partner_id')),
        eb.exists(
          eb
            .selectFrom('event_shared_partners as s')
            .select('s.event_id')
            .whereRef('s.event_id', '=', 'ev.id')
            .whereRef('s.delivery_partner_id', '=', 'e.delivery_partner_id'),
        ),
      ]),
    )
    .union(
      services.db
        .selectFrom('bookings as b')
        .innerJoin('events as ev', 'ev.id', 'b.event_id')
        .select('ev.id')
        .where('b.participant_id', '=', participantId)
        .where('b.status', '<>', 'cancelled')
        .where('ev.ends_at', '>', now),
    )
    .execute()
  return loadEvents(
    services.db,
    rows.map((r) => r.id),
  )
}

async function myBookings(services: Services, participantId: string) {
  const rows = await services.db
    .selectFrom('bookings')
    .select(['event_id', 'status'])
    .where('participant_id', '=', participantId)
    .where('status', '<>', 'cancelled')
    .execute()
  return new Map(rows.map((r) => [r.event_id, r.status]))
}

function statusTag(e: EventDetails, mine: string | undefined, now: Date): { text: string; classes: string } {
  if (e.status === 'cancelled') return { text: 'Cancelled', classes: 'govuk-tag--red' }
  if (mine === 'booked') return { text: 'Booked', classes: 'govuk-tag--green' }
  if (mine === 'waiting') return { text: 'On waiting list', classes: 'govuk-tag--yellow' }
  if (e.booking_opens_at && new Date(e.booking_opens_at) > now) return { text: 'Booking not open yet', classes: 'govuk-tag--grey' }
  if (e.booking_closes_at && new Date(e.booking_closes_at) <= now) return { text: 'Booking closed', classes: 'govuk-tag--grey' }
  if (freePlaces(e) === 0) return { text: 'Full', classes: 'govuk-tag--orange' }
  return { text: `${freePlaces(e)} ${freePlaces(e) === 1 ? 'place' : 'places'} left`, classes: 'govuk-tag--blue' }
}

export function registerParticipantEventRoutes(app: FastifyInstance, services: Services): void {
  app.get('/participant/events', { config: { access: 'signed-in' } }, async (req, reply) => {
    const participant = await participantOf(services, req.principal)
    const now = new Date()
    const [events, mine] = await Promise.all([eventsFor(services, participant.id, now), myBookings(services, participant.id)])
    const rows = events.map((e) => ({
      id: e.id,
      title: eventTitle(e),
      kind: kindLabels[e.kind],
      when: formatSpan(e.starts_at, e.ends_at),
      where: e.venue ?? (e.joining_link ? 'Online' : ''),
      tag: statusTag(e, mine.get(e.id), now),
      mine: mine.has(e.id),
    }))
    return reply.render('events/views/participant-events.njk', {
      title: 'Events',
      booked: rows.filter((r) => r.mine),
      open: rows.filter((r) => !r.mine),
    })
  })

  const showEvent = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply, extra: Record<string, unknown> = {}) => {
    const participant = await participantOf(services, req.principal)
    const event = await loadEvent(services.db, req.params.id)
    if (!event) throw notFound('Event')
    const now = new Date()
    const mine = (await myBookings(services, participant.id)).get(event.id)
    const enrolment = await services.db.transaction().execute((trx) => enrolmentForEvent(trx, event, participant.id))
    if (!enrolment && !mine) throw notFound('Event')
    const problem = bookingProblem({
      event,
      enrolmentStatus: enrolment?.status ?? null,
      onThisEvent: mine ?? null,
      sameActivity: mine ? null : await sameActivityBooking(services.db, event, participant.id),
      waitingListWanted: true,
      now,
    })
    return reply.render(
      'events/views/participant-event.njk',
      {
        title: eventTitle(event),
        event,
        kind: kindLabels[event.kind],
        when: formatSpan(event.starts_at, event.ends_at),
        tag: statusTag(event, mine, now),
        mine,
        full: freePlaces(event) === 0,
        canBook: !mine && problem === null,
        cannotBookBecause: mine ? null : problem,
        canCancel: mine !== undefined && cancellationProblem(event, now) === null,
        cancelCutOff: formatMoment(event.cancel_by ?? event.starts_at),
        opens: event.booking_opens_at ? formatMoment(event.booking_opens_at) : null,
        done: (req.query as { done?: string }).done,
        ...extra,
      },
      extra.errorList ? 400 : 200,
    )
  }

  app.get<{ Params: Params }>('/participant/events/:id', { config: { access: 'signed-in' } }, (req, reply) => showEvent(req, reply))

  const act = (
    path: string,
    work: (participantId: string, req: FastifyRequest<{ Params: Params; Body: Record<string, string> }>) => Promise<string>,
  ) =>
    app.post<{ Params: Params; Body: Record<string, string> }>(path, { config: { access: 'signed-in' } }, async (req, reply) => {
      const participant = await participantOf(services, req.principal)
      try {
        const done = await work(participant.id, req)
        return reply.redirect(`/participant/events/${req.params.id}?done=${done}`, 303)
      } catch (error) {
        if (!(error instanceof AppError) || !['invalid-transition', 'validation-failed'].includes(error.code)) throw error
        return showEvent(req, reply, formErrors([{ field: 'event-actions', message: error.message }]))
      }
    })

  act('/participant/events/:id/book', async (participantId, req) => {
    const result = await services.db
      .transaction()
      .execute((trx) =>
        bookEvent(trx, services, req.principal!, req.params.id, participantId, { waitingList: req.body?.waiting_list === 'yes' }),
      )
    return result.status
  })
  act('/participant/events/:id/cancel', async (participantId, req) => {
    await services.db.transaction().execute((trx) => cancelBooking(trx, services, req.principal!, req.params.id, participantId))
    return 'cancelled'
  })
}
