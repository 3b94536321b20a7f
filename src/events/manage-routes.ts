import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, forbidden, notFound } from '../errors.ts'
import { can } from '../policy/policy.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { bookEvent, cancelBooking } from './booking.ts'
import {
  eventFor,
  eventRefOf,
  eventTitle,
  kindLabels,
  kindsDeliveringNothing,
  loadEvents,
  participantsOnCourse,
  type EventDetails,
} from './events.ts'
import crypto from 'node:crypto'
import { formOfEvent, readEventForm, sessionSuffixes, type EventForm, type Offer } from './event-form.ts'
import { cancelEvent, defaultTiming, scheduleEvents, updateEvent } from './scheduling.ts'
import { formatSpan } from './times.ts'
import { eventKinds } from '../db/schema.ts'
import { findCourse } from '../catalogue/courses.ts'

// Scheduling and running events: delivery-partner leads for their partner (/delivery-partner/events),
// lead-provider admins for their central events and to oversee partners' (/lead-provider/events).

type Area = 'delivery-partner' | 'lead-provider'
type User = Principal & { kind: 'user' }
type Params = { id: string }
type Body = Record<string, string | string[]>

const areas: { area: Area; role: 'delivery-partner-lead' | 'lead-provider-admin' }[] = [
  { area: 'delivery-partner', role: 'delivery-partner-lead' },
  { area: 'lead-provider', role: 'lead-provider-admin' },
]

export function registerEventManagementRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services
  for (const { area, role } of areas) {
    const base = `/${area}/events`
    const userOf = (req: FastifyRequest): User & { organisationId: string } => {
      const p = req.principal
      const organisationId = p ? organisationsWithRole(p, role)[0] : undefined
      if (!p || p.kind !== 'user' || !organisationId) throw forbidden()
      return { ...p, organisationId }
    }

    /** What this person may schedule: lead provider, course and cohort (and their delivery partner, or none for central events). */
    async function offersOf(user: User & { organisationId: string }): Promise<(Offer & { value: string; text: string })[]> {
      let q = db
        .selectFrom('enrolments as e')
        .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
        .select(['e.lead_provider_id', 'lp.code', 'lp.name', 'e.course_identifier', 'e.cohort'])
        .distinct()
      q =
        area === 'delivery-partner'
          ? q.where('e.delivery_partner_id', '=', user.organisationId)
          : q.where('e.lead_provider_id', '=', user.organisationId)
      const rows = await q.orderBy('e.cohort', 'desc').orderBy('lp.code').orderBy('e.course_identifier').execute()
      return rows
        .filter((r) => services.catalogue.cohortsFor(r.code, r.course_identifier).includes(r.cohort))
        .map((r) => ({
          leadProviderId: r.lead_provider_id,
          deliveryPartnerId: area === 'delivery-partner' ? user.organisationId : null,
          courseIdentifier: r.course_identifier,
          cohort: r.cohort,
          value: `${r.code}|${r.course_identifier}|${r.cohort}`,
          text: `${r.name}: ${findCourse(r.course_identifier)?.name ?? r.course_identifier}, ${r.cohort}`,
        }))
    }

    async function formContext(offer: Offer & { value: string; text: string }, form: EventForm, sessions: number) {
      const lp = await db.selectFrom('organisations').select('code').where('id', '=', offer.leadProviderId).executeTakeFirstOrThrow()
      const design = await services.designs.designForCohort(lp.code, offer.courseIdentifier, offer.cohort)
      const activities = (design?.blocks ?? [])
        .flatMap((b) => b.activities)
        .concat(design?.programmeActivities ?? [])
        .filter((a) => a.evidence === 'register')
      const facilitators = await db
        .selectFrom('role_assignments as r')
        .innerJoin('users as u', 'u.id', 'r.user_id')
        .select(['u.id', 'u.full_name', 'u.email'])
        .where('r.role', '=', 'facilitator')
        .where(
          'r.organisation_id',
          'in',
          offer.deliveryPartnerId
            ? [offer.deliveryPartnerId]
            : db.selectFrom('delivery_partnerships').select('delivery_partner_id').where('lead_provider_id', '=', offer.leadProviderId),
        )
        .orderBy('u.full_name')
        .execute()
      const partners = offer.deliveryPartnerId
        ? await db
            .selectFrom('delivery_partnerships as d')
            .innerJoin('organisations as o', 'o.id', 'd.delivery_partner_id')
            .select(['o.id', 'o.name'])
            .where('d.lead_provider_id', '=', offer.leadProviderId)
            .where('o.id', '<>', offer.deliveryPartnerId)
            .orderBy('o.name')
            .execute()
        : []
      const chosen = (name: string) =>
        new Set(Array.isArray(form[name]) ? (form[name] as string[]) : form[name] ? [form[name] as string] : [])
      // Handbook timings for the kind chosen at step 1 fill empty start and end times.
      const timing = form.kind ? defaultTiming(lp.code, form.kind as never, offer.courseIdentifier) : null
      const values: EventForm = { ...form }
      const sessionRows = sessionSuffixes(sessions).map((suffix, i) => {
        values[`starts${suffix}`] ??= timing?.starts
        values[`ends${suffix}`] ??= timing?.ends
        return {
          suffix,
          heading: sessions > 1 ? `Session ${i + 1}` : null,
          activityItems: [
            { value: '', text: 'None (welcome events and tutor sessions only)' },
            ...activities.map((a) => ({ value: a.code, text: `${a.code}: ${a.title}`, selected: form[`activity${suffix}`] === a.code })),
          ],
        }
      })
      return {
        offer,
        values,
        sessions,
        sessionRows,
        kindItems: [
          { value: '', text: 'Select the kind of event' },
          ...eventKinds.map((k) => ({ value: k, text: kindLabels[k], selected: form.kind === k })),
        ],
        facilitatorItems: facilitators.map((f) => ({
          value: f.id,
          text: `${f.full_name} (${f.email})`,
          checked: chosen('facilitators').has(f.id),
        })),
        partnerItems: partners.map((p) => ({ value: p.id, text: p.name, checked: chosen('shared_with').has(p.id) })),
        deliversNothing: kindsDeliveringNothing,
      }
    }

    const findOffer = async (user: User & { organisationId: string }, value: string) =>
      (await offersOf(user)).find((o) => o.value === value)

    app.get(base, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req)
      const rows = await db
        .selectFrom('events as ev')
        .select('ev.id')
        .where((eb) =>
          area === 'lead-provider'
            ? eb('ev.lead_provider_id', '=', user.organisationId)
            : eb.or([
                eb('ev.delivery_partner_id', '=', user.organisationId),
                eb.exists(
                  eb
                    .selectFrom('event_shared_partners as s')
                    .select('s.event_id')
                    .whereRef('s.event_id', '=', 'ev.id')
                    .where('s.delivery_partner_id', '=', user.organisationId),
                ),
              ]),
        )
        .where('ev.ends_at', '>', new Date(Date.now() - 60 * 24 * 3600 * 1000))
        .execute()
      const events = await loadEvents(
        db,
        rows.map((r) => r.id),
      )
      const now = new Date()
      return reply.render('events/views/manage-events.njk', {
        title: 'Events',
        base,
        upcoming: events.filter((e) => new Date(e.ends_at) > now).map(summary),
        recent: events.filter((e) => new Date(e.ends_at) <= now).map(summary),
        done: (req.query as { done?: string }).done,
      })
    })

    const summary = (e: EventDetails) => ({
      id: e.id,
      title: eventTitle(e),
      kind: kindLabels[e.kind],
      when: formatSpan(e.starts_at, e.ends_at),
      runBy: e.deliveryPartner?.name ?? `${e.leadProvider.name} (central)`,
      places: `${e.booked} of ${e.capacity}${e.waiting ? `, ${e.waiting} waiting` : ''}`,
      status: e.status,
      registerTaken: e.register_taken_at !== null,
    })

    const renderForm = async (
      reply: FastifyReply,
      user: User & { organisationId: string },
      offer: Offer & { value: string; text: string },
      form: EventForm,
      extra: Record<string, unknown> & { action: string; heading: string; sessions?: number },
    ) =>
      reply.render(
        'events/views/event-form.njk',
        {
          title: extra.heading,
          base,
          ...(await formContext(offer, form, extra.sessions ?? 1)),
          ...extra,
        },
        extra.errorList ? 400 : 200,
      )

    app.get<{ Querystring: { offer?: string; kind?: string; sessions?: string; chosen?: string } }>(
      `${base}/new`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const offers = await offersOf(user)
        const offer = req.query.offer ? offers.find((o) => o.value === req.query.offer) : undefined
        if (!offer) {
          // `chosen` comes with the step-1 form: submitted without a choice, it is an error.
          const wrong = req.query.offer !== undefined || req.query.chosen !== undefined
          return reply.render(
            'events/views/choose-offer.njk',
            {
              title: 'Schedule an event',
              base,
              offerItems: offers.map((o) => ({ value: o.value, text: o.text })),
              kindItems: [{ value: '', text: 'Choose later' }, ...eventKinds.map((k) => ({ value: k, text: kindLabels[k] }))],
              ...(wrong ? formErrors([{ field: 'offer', message: 'Select the course and cohort' }]) : {}),
            },
            wrong ? 400 : 200,
          )
        }
        const sessions = sessionsOf(req.query.sessions)
        return renderForm(
          reply,
          user,
          offer,
          { kind: req.query.kind },
          { action: newAction(offer.value, sessions), heading: headingOf(sessions), sessions },
        )
      },
    )

    const sessionsOf = (value: string | undefined) => Math.min(6, Math.max(1, Number.parseInt(value ?? '1', 10) || 1))
    const newAction = (offer: string, sessions: number) =>
      `${base}/new?offer=${encodeURIComponent(offer)}${sessions > 1 ? `&sessions=${sessions}` : ''}`
    const headingOf = (sessions: number) => (sessions > 1 ? `Schedule a series of ${sessions} sessions` : 'Schedule an event')

    app.post<{ Querystring: { offer?: string; sessions?: string }; Body: Body }>(
      `${base}/new`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const offer = await findOffer(user, req.query.offer ?? '')
        if (!offer) throw notFound('Course and cohort')
        const sessions = sessionsOf(req.query.sessions)
        const form = req.body ?? {}
        const page = { action: newAction(offer.value, sessions), heading: headingOf(sessions), sessions }
        const { inputs, problems } = readEventForm(form, offer, sessions)
        if (!inputs) return renderForm(reply, user, offer, form, { ...page, ...formErrors(problems) })
        try {
          const ids = await db
            .transaction()
            .execute((trx) =>
              scheduleEvents(trx, services, user, inputs, sessions > 1 ? { seriesRef: `series-${crypto.randomUUID()}` } : {}),
            )
          return reply.redirect(sessions > 1 ? `${base}?done=series` : `${base}/${ids[0]}?done=scheduled`, 303)
        } catch (error) {
          if (error instanceof AppError && error.code === 'validation-failed')
            return renderForm(reply, user, offer, form, { ...page, ...formErrors(error.fieldErrors) })
          throw error
        }
      },
    )

    const eventPage = async (req: FastifyRequest<{ Params: Params }>, reply: FastifyReply, extra: Record<string, unknown> = {}) => {
      const user = userOf(req)
      const event = await eventFor(db, user, req.params.id, 'view')
      const canManage = can(user, 'manage', { type: 'event', event: eventRefOf(event) })
      const bookings = await db
        .selectFrom('bookings as b')
        .innerJoin('participants as p', 'p.id', 'b.participant_id')
        .select(['b.participant_id', 'b.status', 'p.full_name', 'p.email', 'b.requested_at'])
        .where('b.event_id', '=', event.id)
        .where('b.status', '<>', 'cancelled')
        .orderBy('b.status')
        .orderBy('b.requested_at')
        .execute()
      const partners = [event.delivery_partner_id, ...event.sharedWith.map((s) => s.id)].filter((id): id is string => id !== null)
      const candidates = participantsOnCourse(db, event, {
        deliveryPartnerIds: area === 'delivery-partner' ? [user.organisationId] : partners.length ? partners : undefined,
        excluding: bookings.map((b) => b.participant_id),
      })
      const people = canManage && event.status === 'scheduled' ? await candidates.limit(500).execute() : []
      return reply.render(
        'events/views/manage-event.njk',
        {
          title: eventTitle(event),
          base,
          event,
          kind: kindLabels[event.kind],
          when: formatSpan(event.starts_at, event.ends_at),
          booked: bookings.filter((b) => b.status === 'booked'),
          waiting: bookings.filter((b) => b.status === 'waiting'),
          canManage,
          upcoming: new Date(event.starts_at) > new Date(),
          participantItems: [
            { value: '', text: 'Select a participant' },
            ...people.map((p) => ({ value: p.id, text: `${p.full_name} (${p.email})` })),
          ],
          done: (req.query as { done?: string }).done,
          ...extra,
        },
        extra.errorList ? 400 : 200,
      )
    }

    app.get<{ Params: Params }>(`${base}/:id`, { config: { access: 'signed-in' } }, (req, reply) => eventPage(req, reply))

    const manage = (
      path: string,
      work: (
        user: User & { organisationId: string },
        event: EventDetails,
        body: Body,
        params: Params & Record<string, string>,
      ) => Promise<string>,
      field: string,
    ) =>
      app.post<{ Params: Params & Record<string, string>; Body: Body }>(
        `${base}/:id${path}`,
        { config: { access: 'signed-in' } },
        async (req, reply) => {
          const user = userOf(req)
          const event = await eventFor(db, user, req.params.id, 'manage')
          try {
            const done = await work(user, event, req.body ?? {}, req.params)
            return reply.redirect(`${base}/${event.id}?done=${done}`, 303)
          } catch (error) {
            if (!(error instanceof AppError) || !['invalid-transition', 'validation-failed'].includes(error.code)) throw error
            return eventPage(
              req,
              reply,
              formErrors([{ field, message: error.fieldErrors[0]?.field === 'reason' ? error.fieldErrors[0].message : error.message }]),
            )
          }
        },
      )

    manage(
      '/book',
      async (user, event, body) => {
        const participantId = String(body.participant ?? '')
        if (!/^[0-9a-f-]{36}$/i.test(participantId)) throw new AppError('validation-failed', 'Select a participant to book')
        const result = await db
          .transaction()
          .execute((trx) => bookEvent(trx, services, user, event.id, participantId, { waitingList: true }))
        return result.status === 'booked' ? 'booked-for' : 'waiting-for'
      },
      'participant',
    )
    manage(
      '/bookings/:participant/cancel',
      async (user, event, _body, params) => {
        await db.transaction().execute((trx) => cancelBooking(trx, services, user, event.id, params.participant!, { onBehalf: true }))
        return 'booking-cancelled'
      },
      'bookings',
    )
    manage(
      '/cancel',
      async (user, event, body) => {
        await db.transaction().execute((trx) => cancelEvent(trx, services, user, event.id, String(body.reason ?? '')))
        return 'cancelled'
      },
      'reason',
    )

    const editPage = async (
      req: FastifyRequest<{ Params: Params }>,
      reply: FastifyReply,
      form: EventForm | null,
      errors: Record<string, unknown> = {},
    ) => {
      const user = userOf(req)
      const event = await eventFor(db, user, req.params.id, 'manage')
      if (event.status === 'cancelled') throw new AppError('invalid-transition', 'A cancelled event cannot be changed')
      const lp = event.leadProvider
      const offer = {
        leadProviderId: event.lead_provider_id,
        deliveryPartnerId: event.delivery_partner_id,
        courseIdentifier: event.course_identifier,
        cohort: event.cohort,
        value: `${lp.code}|${event.course_identifier}|${event.cohort}`,
        text: `${lp.name}: ${event.course_identifier}, ${event.cohort}`,
      }
      return {
        user,
        event,
        offer,
        render: () =>
          renderForm(reply, user, offer, form ?? formOfEvent(event), {
            action: `${base}/${event.id}/edit`,
            heading: 'Change event',
            ...errors,
          }),
      }
    }

    app.get<{ Params: Params }>(`${base}/:id/edit`, { config: { access: 'signed-in' } }, async (req, reply) =>
      (await editPage(req, reply, null)).render(),
    )

    app.post<{ Params: Params; Body: Body }>(`${base}/:id/edit`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const form = req.body ?? {}
      const { user, event, offer } = await editPage(req, reply, form)
      const { inputs, problems } = readEventForm(form, offer)
      const input = inputs?.[0]
      if (!input) return (await editPage(req, reply, form, formErrors(problems))).render()
      try {
        await db.transaction().execute((trx) => updateEvent(trx, services, user, event.id, input))
        return reply.redirect(`${base}/${event.id}?done=changed`, 303)
      } catch (error) {
        if (error instanceof AppError && ['validation-failed', 'invalid-transition'].includes(error.code))
          return (
            await editPage(
              req,
              reply,
              form,
              formErrors(error.fieldErrors.length ? error.fieldErrors : [{ field: 'title', message: error.message }]),
            )
          ).render()
        throw error
      }
    })
  }
}
