import { sql } from 'kysely'
import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import type { ApiRegistry } from '../api/registry.ts'
import { cohortPattern, courseIdentifiers } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Db, Trx } from '../db/database.ts'
import { contingencyMethods, eventKinds, registerStatuses } from '../db/schema.ts'
import { AppError, notFound, type FieldError } from '../errors.ts'
import { calendarDate, moment } from '../imports/fields.ts'
import type { Principal } from '../policy/principal.ts'
import { can, type Action } from '../policy/policy.ts'
import { currentRegisterEntries, recordRegisterEntry } from '../registers/register-entries.ts'
import { completionDateProblem, registerRules } from '../registers/register-rules.ts'
import { loadRegister } from '../registers/register.ts'
import type { Services } from '../services.ts'
import { bookEvent, cancelBooking, enrolmentForEvent } from './booking.ts'
import { eventFor, eventRefOf, eventTitle, freePlaces, loadEvents, type EventDetails } from './events.ts'
import { cancelEvent, scheduleEvents, updateEvent, type EventInput } from './scheduling.ts'

// Events, bookings and registers for a lead provider's own systems (a delivery partner's calendar
// tools): the same rules as the pages, through scheduling.ts, booking.ts, register-rules.ts and
// register-entries.ts.
// An event is named by its `event_id` (events.event_ref, as in the `events` and `attendance` imports);
// another lead provider's event does not exist as far as a token can tell. A request with a problem
// changes nothing: 400 for a malformed request, 422 (`unprocessable`, every problem listed) for
// values the rules refuse, 409 (`invalid-transition`) for what the event's state does not allow.

type ApiClient = Principal & { kind: 'api-client' }

/** What the operations use of the services (booking and scheduling use no more than these). */
export type EventApiServices = Pick<Services, 'db' | 'config' | 'catalogue' | 'designs' | 'email'>

const MAX_REGISTER_ENTRIES = 1000

const eventJson = z
  .object({
    event_id: z.string(),
    lead_provider: z.string(),
    delivery_partner: z.string().nullable().meta({ description: 'Null for a lead provider’s central event' }),
    course_identifier: z.string(),
    cohort: z.string(),
    activity_code: z.string().nullable(),
    kind: z.enum(eventKinds),
    title: z.string().meta({ description: 'The title participants see: the scheduler’s, or the kind and activity' }),
    description: z.string().nullable(),
    starts_at: z.string(),
    ends_at: z.string(),
    venue: z.string().nullable(),
    joining_link: z.string().nullable(),
    capacity: z.number().int(),
    booked: z.number().int(),
    waiting: z.number().int(),
    free_places: z.number().int(),
    booking_opens_at: z.string().nullable(),
    booking_closes_at: z.string().nullable(),
    cancel_by: z.string().nullable(),
    reminder_days_before: z.number().int().nullable(),
    series_id: z.string().nullable().meta({ description: 'Shared by the sessions of a series' }),
    status: z.enum(['scheduled', 'cancelled']),
    cancelled_at: z.string().nullable(),
    cancelled_reason: z.string().nullable(),
    register_taken_at: z.string().nullable(),
    facilitators: z.array(z.string()).meta({ description: 'Facilitators’ email addresses' }),
    shared_with: z.array(z.string()).meta({ description: 'Other delivery partners whose participants may book' }),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'Event' })

const bookingJson = z
  .object({
    event_id: z.string(),
    participant_id: z.uuid(),
    full_name: z.string(),
    email: z.string(),
    status: z.enum(['booked', 'waiting', 'cancelled']),
    waiting_position: z.number().int().nullable().meta({ description: 'Place on the waiting list (1 is next), for status waiting' }),
    requested_at: z.string(),
    booked_at: z.string().nullable(),
    cancelled_at: z.string().nullable(),
  })
  .meta({ id: 'Booking' })

const registerEntryJson = z
  .object({
    participant_id: z.uuid(),
    full_name: z.string(),
    status: z.enum(registerStatuses),
    completed_at: z.string().nullable(),
    contingency_method: z.enum(contingencyMethods).nullable(),
    note: z.string().nullable(),
    recorded_at: z.string(),
  })
  .meta({ id: 'RegisterEntry' })

const registerJson = z.object({ event_id: z.string(), register_taken_at: z.string().nullable(), entries: z.array(registerEntryJson) })

const eventIdParam = z.object({
  event_id: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/, 'must be an event_id')
    .meta({ description: 'The event’s event_id' }),
})

const optionalText = (max: number) => z.string().trim().max(max, `must be at most ${max} characters`).nullable().optional()
const optionalMoment = moment.nullable().optional()

// The fields an event's scheduler sets; the lead provider, delivery partner, course and cohort are
// given when it is created and never change.
const changeableFields = {
  kind: z.enum(eventKinds, `must be one of ${eventKinds.join(', ')}`),
  activity_code: z.string().trim().min(1).max(100).nullable().optional().meta({
    description:
      'The design activity the event delivers (an activity evidenced by registers); null only for welcome events and tutor sessions',
  }),
  title: optionalText(200),
  description: optionalText(5000),
  starts_at: moment,
  ends_at: moment,
  venue: optionalText(500),
  joining_link: optionalText(2000).meta({ description: 'https:// link for an online event; give a venue, a joining link or both' }),
  capacity: z.number('must be a whole number').int('must be a whole number').min(1, 'must be at least 1').max(100000),
  booking_opens_at: optionalMoment,
  booking_closes_at: optionalMoment,
  cancel_by: optionalMoment.meta({ description: 'Participants may cancel until then (null: until the start)' }),
  reminder_days_before: z.number().int().min(0).max(60).nullable().optional(),
  facilitators: z.array(z.email('must be an email address')).max(50).optional().meta({ description: 'Facilitators’ email addresses' }),
  shared_with: z
    .array(z.string().min(1).max(100))
    .max(50)
    .optional()
    .meta({ description: 'Other delivery partners (delivery_partner_id)' }),
}

const createBody = z.strictObject({
  delivery_partner: z
    .string()
    .min(1)
    .max(100)
    .nullable()
    .optional()
    .meta({ description: 'The delivery_partner_id running it; null or absent for a central event of the lead provider' }),
  course_identifier: z.enum(courseIdentifiers, 'must be a DfE course identifier, e.g. npq-headship'),
  cohort: z.string().regex(cohortPattern, 'must be a cohort like 2022-autumn'),
  ...changeableFields,
})

const patchBody = z
  .strictObject({
    ...changeableFields,
    kind: changeableFields.kind.optional(),
    starts_at: moment.optional(),
    ends_at: moment.optional(),
    capacity: changeableFields.capacity.optional(),
  })
  .refine((b) => Object.keys(b).length > 0, 'give at least one field to change')

const registerBody = z.object({
  entries: z
    .array(
      z.strictObject({
        participant_id: z.uuid('must be a UUID'),
        status: z.enum(registerStatuses, `must be one of ${registerStatuses.join(', ')}`),
        completed_at: moment.nullable().optional().meta({ description: 'Required for contingency-completed: when the catch-up was done' }),
        contingency_method: z
          .enum(contingencyMethods, `must be one of ${contingencyMethods.join(', ')}`)
          .nullable()
          .optional()
          .meta({ description: 'How the missed session was made up (contingency-completed only)' }),
        note: optionalText(2000),
      }),
    )
    .min(1, `send 1 to ${MAX_REGISTER_ENTRIES} entries`)
    .max(MAX_REGISTER_ENTRIES, `send 1 to ${MAX_REGISTER_ENTRIES} entries`),
})

const iso = (d: Date | string) => new Date(d).toISOString()
const isoOrNull = (d: Date | string | null) => (d === null ? null : iso(d))
const dateOrNull = (s: string | null | undefined) => (s === null || s === undefined ? null : new Date(s))

function eventToJson(e: EventDetails): z.infer<typeof eventJson> {
  return {
    event_id: e.event_ref,
    lead_provider: e.leadProvider.code,
    delivery_partner: e.deliveryPartner?.code ?? null,
    course_identifier: e.course_identifier,
    cohort: e.cohort,
    activity_code: e.activity_code,
    kind: e.kind,
    title: eventTitle(e),
    description: e.description,
    starts_at: iso(e.starts_at),
    ends_at: iso(e.ends_at),
    venue: e.venue,
    joining_link: e.joining_link,
    capacity: e.capacity,
    booked: e.booked,
    waiting: e.waiting,
    free_places: freePlaces(e),
    booking_opens_at: isoOrNull(e.booking_opens_at),
    booking_closes_at: isoOrNull(e.booking_closes_at),
    cancel_by: isoOrNull(e.cancel_by),
    reminder_days_before: e.reminder_days_before,
    series_id: e.series_ref,
    status: e.status,
    cancelled_at: isoOrNull(e.cancelled_at),
    cancelled_reason: e.cancelled_reason,
    register_taken_at: isoOrNull(e.register_taken_at),
    facilitators: e.facilitators.map((f) => f.email),
    shared_with: e.sharedWith.map((s) => s.code),
    created_at: iso(e.created_at),
    updated_at: iso(e.updated_at),
  }
}

// Problems of scheduling.ts are named by the pages' fields: the API names its own.
const apiFieldOf: Record<string, string> = {
  course: 'cohort',
  activity: 'activity_code',
  starts: 'starts_at',
  ends: 'ends_at',
  booking_opens: 'booking_opens_at',
  booking_closes: 'booking_closes_at',
  reminder_days: 'reminder_days_before',
}

/** A refused event as the API reports it: every problem, with the body field it concerns. */
async function asUnprocessable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (error) {
    if (!(error instanceof AppError) || error.code !== 'validation-failed') throw error
    throw new AppError(
      'unprocessable',
      error.message,
      error.fieldErrors.map((f) => ({ ...f, field: `body.${apiFieldOf[f.field] ?? f.field}` })),
    )
  }
}

export function addEventOperations(api: ApiRegistry, services: EventApiServices): void {
  const { db } = services

  /** The event named by its event_id, if this token may do `action` to it (another provider's is not found). */
  async function eventByRef(trx: Trx | Db, principal: ApiClient, ref: string, action: Action): Promise<EventDetails> {
    const row = await trx.selectFrom('events').select('id').where('event_ref', '=', ref).executeTakeFirst()
    if (!row) throw notFound('Event')
    return eventFor(trx, principal, row.id, action)
  }

  const reload = async (trx: Trx, id: string) => (await loadEvents(trx, [id]))[0]!

  async function partnerIds(trx: Trx, leadProviderId: string, codes: string[]): Promise<Map<string, string>> {
    if (codes.length === 0) return new Map()
    const rows = await trx
      .selectFrom('organisations as o')
      .innerJoin('delivery_partnerships as p', 'p.delivery_partner_id', 'o.id')
      .select(['o.id', 'o.code'])
      .where('o.kind', '=', 'delivery-partner')
      .where('p.lead_provider_id', '=', leadProviderId)
      .where('o.code', 'in', codes)
      .execute()
    return new Map(rows.map((r) => [r.code, r.id]))
  }

  /** Facilitators' and partners' ids from their emails and codes; every unknown one is a problem. */
  async function people(
    trx: Trx,
    leadProviderId: string,
    body: { facilitators?: string[]; shared_with?: string[] },
    problems: FieldError[],
  ): Promise<{ facilitatorUserIds?: string[]; sharedWithPartnerIds?: string[] }> {
    const result: { facilitatorUserIds?: string[]; sharedWithPartnerIds?: string[] } = {}
    if (body.facilitators) {
      const emails = body.facilitators.map((e) => e.toLowerCase())
      const users = emails.length
        ? await trx
            .selectFrom('users')
            .select(['id', 'email'])
            .where(sql<string>`lower(email)`, 'in', emails)
            .execute()
        : []
      const byEmail = new Map(users.map((u) => [u.email.toLowerCase(), u.id]))
      for (const [i, email] of emails.entries())
        if (!byEmail.has(email))
          problems.push({ field: `body.facilitators.${i}`, message: `${email} is not a facilitator of the delivery partner` })
      result.facilitatorUserIds = emails.flatMap((e) => byEmail.get(e) ?? [])
    }
    if (body.shared_with) {
      const found = await partnerIds(trx, leadProviderId, body.shared_with)
      for (const [i, code] of body.shared_with.entries())
        if (!found.has(code))
          problems.push({ field: `body.shared_with.${i}`, message: `${code} is not a delivery partner of your lead provider` })
      result.sharedWithPartnerIds = body.shared_with.flatMap((c) => found.get(c) ?? [])
    }
    return result
  }

  // ----- Events -----

  api.add({
    method: 'GET',
    path: '/events',
    operationId: 'listEvents',
    summary: 'Your lead provider’s events, in order of their start, a page at a time',
    tag: 'Events',
    query: z.object({
      delivery_partner: z
        .string()
        .max(100)
        .optional()
        .meta({ description: 'Events this delivery partner runs or is invited to (shared with it)' }),
      course_identifier: z.enum(courseIdentifiers).optional(),
      cohort: z.string().regex(cohortPattern, 'Use a cohort like 2022-autumn').optional().meta({ description: 'e.g. 2022-autumn' }),
      from: calendarDate.optional().meta({ description: 'Events starting on or after this (London) date' }),
      to: calendarDate.optional().meta({ description: 'Events starting on or before this (London) date' }),
      updated_since: moment.optional().meta({ description: 'Events scheduled, changed or cancelled at or after this moment' }),
      page: z.coerce.number('must be a whole number').int().min(1).default(1),
      per_page: z.coerce.number('must be a whole number').int().min(1).max(500).default(100),
    }),
    response: z.object({
      data: z.array(eventJson),
      meta: z.object({ page: z.number().int(), per_page: z.number().int(), total: z.number().int(), total_pages: z.number().int() }),
    }),
    handler: async ({ principal, query }) => {
      let q = db.selectFrom('events as ev').where('ev.lead_provider_id', '=', principal.leadProviderId)
      if (query.delivery_partner) {
        const code = query.delivery_partner
        q = q.where((eb) =>
          eb.or([
            eb(
              'ev.delivery_partner_id',
              'in',
              eb.selectFrom('organisations').select('id').where('code', '=', code).where('kind', '=', 'delivery-partner'),
            ),
            eb(
              'ev.id',
              'in',
              eb
                .selectFrom('event_shared_partners as s')
                .innerJoin('organisations as o', 'o.id', 's.delivery_partner_id')
                .select('s.event_id')
                .where('o.code', '=', code),
            ),
          ]),
        )
      }
      if (query.course_identifier) q = q.where('ev.course_identifier', '=', query.course_identifier)
      if (query.cohort) q = q.where('ev.cohort', '=', query.cohort)
      if (query.from) q = q.where('ev.starts_on', '>=', query.from)
      if (query.to) q = q.where('ev.starts_on', '<=', query.to)
      if (query.updated_since) q = q.where('ev.updated_at', '>=', new Date(query.updated_since))
      const { n } = await q.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow()
      const rows = await q
        .select('ev.id')
        .orderBy('ev.starts_at')
        .orderBy('ev.event_ref')
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
        .execute()
      const events = await loadEvents(
        db,
        rows.map((r) => r.id),
      )
      const total = Number(n)
      return {
        data: events.map(eventToJson),
        meta: { page: query.page, per_page: query.per_page, total, total_pages: Math.ceil(total / query.per_page) },
      }
    },
  })

  api.add({
    method: 'GET',
    path: '/events/:event_id',
    operationId: 'getEvent',
    summary: 'One event, with its bookings and waiting list counted, its facilitators and the partners it is shared with',
    tag: 'Events',
    params: eventIdParam,
    response: z.object({ data: eventJson }),
    handler: async ({ principal, params }) => ({ data: eventToJson(await eventByRef(db, principal, params.event_id, 'view')) }),
  })

  api.add({
    method: 'POST',
    path: '/events',
    operationId: 'scheduleEvent',
    summary: 'Schedule an event of one of your delivery partners (or a central event): 422 lists every problem',
    tag: 'Events',
    body: createBody,
    status: 201,
    response: z.object({ data: eventJson }),
    handler: async ({ principal, body }) => {
      const event = await db.transaction().execute(async (trx) => {
        const problems: FieldError[] = []
        let deliveryPartnerId: string | null = null
        if (body.delivery_partner) {
          deliveryPartnerId = (await partnerIds(trx, principal.leadProviderId, [body.delivery_partner])).get(body.delivery_partner) ?? null
          if (!deliveryPartnerId)
            problems.push({
              field: 'body.delivery_partner',
              message: `${body.delivery_partner} is not a delivery partner of your lead provider`,
            })
        }
        const { facilitatorUserIds = [], sharedWithPartnerIds = [] } = await people(trx, principal.leadProviderId, body, problems)
        if (problems.length) throw new AppError('unprocessable', 'The event cannot be scheduled', problems)
        const input: EventInput = {
          leadProviderId: principal.leadProviderId,
          deliveryPartnerId,
          courseIdentifier: body.course_identifier,
          cohort: body.cohort,
          kind: body.kind,
          activityCode: body.activity_code ?? null,
          title: body.title || null,
          description: body.description || null,
          startsAt: new Date(body.starts_at),
          endsAt: new Date(body.ends_at),
          venue: body.venue || null,
          joiningLink: body.joining_link || null,
          capacity: body.capacity,
          bookingOpensAt: dateOrNull(body.booking_opens_at),
          bookingClosesAt: dateOrNull(body.booking_closes_at),
          cancelBy: dateOrNull(body.cancel_by),
          reminderDaysBefore: body.reminder_days_before ?? null,
          facilitatorUserIds,
          sharedWithPartnerIds,
        }
        const [id] = await asUnprocessable(() => scheduleEvents(trx, services, principal, [input]))
        return reload(trx, id!)
      })
      return { data: eventToJson(event) }
    },
  })

  api.add({
    method: 'PATCH',
    path: '/events/:event_id',
    operationId: 'changeEvent',
    summary: 'Change an event (only the fields sent): booked participants are emailed when its time or place changes',
    tag: 'Events',
    params: eventIdParam,
    body: patchBody,
    response: z.object({ data: eventJson }),
    handler: async ({ principal, params, body }) => {
      const event = await db.transaction().execute(async (trx) => {
        await sql`select id from events where event_ref = ${params.event_id} for update`.execute(trx)
        const e = await eventByRef(trx, principal, params.event_id, 'manage')
        const problems: FieldError[] = []
        const found = await people(trx, principal.leadProviderId, body, problems)
        if (problems.length) throw new AppError('unprocessable', 'The event cannot be changed', problems)
        const pick = <T>(value: T | undefined, current: T): T => (value === undefined ? current : value)
        const input: EventInput = {
          leadProviderId: e.lead_provider_id,
          deliveryPartnerId: e.delivery_partner_id,
          courseIdentifier: e.course_identifier,
          cohort: e.cohort,
          kind: body.kind ?? e.kind,
          activityCode: pick(body.activity_code, e.activity_code),
          title: pick(body.title, e.title) || null,
          description: pick(body.description, e.description) || null,
          startsAt: new Date(body.starts_at ?? e.starts_at),
          endsAt: new Date(body.ends_at ?? e.ends_at),
          venue: pick(body.venue, e.venue) || null,
          joiningLink: pick(body.joining_link, e.joining_link) || null,
          capacity: body.capacity ?? e.capacity,
          bookingOpensAt:
            body.booking_opens_at === undefined ? dateOrNull(isoOrNull(e.booking_opens_at)) : dateOrNull(body.booking_opens_at),
          bookingClosesAt:
            body.booking_closes_at === undefined ? dateOrNull(isoOrNull(e.booking_closes_at)) : dateOrNull(body.booking_closes_at),
          cancelBy: body.cancel_by === undefined ? dateOrNull(isoOrNull(e.cancel_by)) : dateOrNull(body.cancel_by),
          reminderDaysBefore: pick(body.reminder_days_before, e.reminder_days_before),
          facilitatorUserIds: found.facilitatorUserIds ?? e.facilitators.map((f) => f.userId),
          sharedWithPartnerIds: found.sharedWithPartnerIds ?? e.sharedWith.map((s) => s.id),
        }
        await asUnprocessable(() => updateEvent(trx, services, principal, e.id, input))
        return reload(trx, e.id)
      })
      return { data: eventToJson(event) }
    },
  })

  api.add({
    method: 'POST',
    path: '/events/:event_id/cancel',
    operationId: 'cancelEvent',
    summary: 'Cancel an event: its bookings and waiting list are cancelled and everyone on them is emailed',
    tag: 'Events',
    params: eventIdParam,
    body: z.strictObject({ reason: z.string('give the reason').trim().min(1, 'give the reason').max(2000) }),
    response: z.object({ data: eventJson }),
    handler: async ({ principal, params, body }) => {
      const event = await db.transaction().execute(async (trx) => {
        await sql`select id from events where event_ref = ${params.event_id} for update`.execute(trx)
        const e = await eventByRef(trx, principal, params.event_id, 'manage')
        await asUnprocessable(() => cancelEvent(trx, services, principal, e.id, body.reason))
        return reload(trx, e.id)
      })
      return { data: eventToJson(event) }
    },
  })

  // ----- Bookings -----

  async function bookingsOf(trx: Trx | Db, event: EventDetails, participantId?: string) {
    const rows = await trx
      .selectFrom('bookings as b')
      .innerJoin('participants as p', 'p.id', 'b.participant_id')
      .select(['b.participant_id', 'p.full_name', 'p.email', 'b.status', 'b.requested_at', 'b.booked_at', 'b.cancelled_at'])
      .where('b.event_id', '=', event.id)
      .orderBy('b.requested_at')
      .orderBy('b.id')
      .execute()
    // The waiting list's order is the order of requests (as promoteWaiting takes it).
    let waiting = 0
    const bookings = rows.map((r): z.infer<typeof bookingJson> => ({
      event_id: event.event_ref,
      participant_id: r.participant_id,
      full_name: r.full_name,
      email: r.email,
      status: r.status,
      waiting_position: r.status === 'waiting' ? ++waiting : null,
      requested_at: iso(r.requested_at),
      booked_at: isoOrNull(r.booked_at),
      cancelled_at: isoOrNull(r.cancelled_at),
    }))
    return participantId ? bookings.filter((b) => b.participant_id === participantId) : bookings
  }

  api.add({
    method: 'GET',
    path: '/events/:event_id/bookings',
    operationId: 'listBookings',
    summary: 'An event’s bookings and waiting list, in the order they were requested (cancelled ones too, unless filtered)',
    tag: 'Bookings',
    params: eventIdParam,
    query: z.object({ status: z.enum(['booked', 'waiting', 'cancelled']).optional() }),
    response: z.object({ data: z.array(bookingJson) }),
    handler: async ({ principal, params, query }) => {
      const event = await eventByRef(db, principal, params.event_id, 'view')
      const bookings = await bookingsOf(db, event)
      return { data: query.status ? bookings.filter((b) => b.status === query.status) : bookings }
    },
  })

  api.add({
    method: 'POST',
    path: '/events/:event_id/bookings',
    operationId: 'bookEvent',
    summary: 'Book a participant on an event (on their behalf); with waiting_list, a full event puts them on its waiting list',
    tag: 'Bookings',
    params: eventIdParam,
    body: z.strictObject({
      participant_id: z.uuid('must be a UUID'),
      waiting_list: z
        .boolean()
        .optional()
        .meta({ description: 'Join the waiting list when the event is full (otherwise a full event is refused)' }),
    }),
    status: 201,
    response: z.object({ data: bookingJson }),
    handler: async ({ principal, params, body }) => {
      const participantId = body.participant_id.toLowerCase()
      const booking = await db.transaction().execute(async (trx) => {
        const event = await eventByRef(trx, principal, params.event_id, 'manage')
        const field = 'body.participant_id'
        const known = await trx
          .selectFrom('enrolments')
          .select('id')
          .where('participant_id', '=', participantId)
          .where('lead_provider_id', '=', event.lead_provider_id)
          .executeTakeFirst()
        if (!known)
          throw new AppError('unprocessable', `Unknown participant ${participantId}`, [
            { field, message: `unknown participant ${participantId}` },
          ])
        if (!(await enrolmentForEvent(trx, event, participantId))) {
          const message = `participant ${participantId} is not on this event’s course and cohort with a delivery partner it is open to`
          throw new AppError('unprocessable', 'This event is not open to the participant', [{ field, message }])
        }
        await bookEvent(trx, services, principal, event.id, participantId, { waitingList: body.waiting_list ?? false })
        return (await bookingsOf(trx, event, participantId)).find((b) => b.status !== 'cancelled')!
      })
      return { data: booking }
    },
  })

  api.add({
    method: 'POST',
    path: '/events/:event_id/bookings/:participant_id/cancel',
    operationId: 'cancelBooking',
    summary:
      'Cancel a participant’s booking or place on the waiting list (any time before the event): the first person waiting gets the place',
    tag: 'Bookings',
    params: eventIdParam.extend({ participant_id: z.uuid('must be a UUID') }),
    response: z.object({ data: bookingJson }),
    handler: async ({ principal, params }) => {
      const participantId = params.participant_id.toLowerCase()
      const booking = await db.transaction().execute(async (trx) => {
        const event = await eventByRef(trx, principal, params.event_id, 'manage')
        await cancelBooking(trx, services, principal, event.id, participantId, { onBehalf: true })
        return (await bookingsOf(trx, event, participantId)).filter((b) => b.status === 'cancelled').at(-1)!
      })
      return { data: booking }
    },
  })

  // ----- Registers -----

  /** The register is taken once everyone booked has an entry (as the register page has it); it stays taken. */
  async function markTakenIfComplete(trx: Trx, by: Principal, eventId: string): Promise<void> {
    const row = await trx.selectFrom('events').select('register_taken_at').where('id', '=', eventId).executeTakeFirstOrThrow()
    if (row.register_taken_at) return
    const rows = await loadRegister(trx, eventId)
    if (rows.some((r) => r.booked && !r.entry)) return
    const takenAt = new Date().toISOString()
    await trx.updateTable('events').set({ register_taken_at: takenAt, register_taken_by: null }).where('id', '=', eventId).execute()
    await recordAudit(trx, {
      by,
      action: 'event.register-taken',
      entityType: 'event',
      entityId: eventId,
      after: { registerTakenAt: takenAt, entries: rows.length },
    })
  }

  async function registerOf(trx: Trx | Db, event: EventDetails): Promise<z.infer<typeof registerJson>> {
    const rows = await currentRegisterEntries(trx)
      .innerJoin('participants as p', 'p.id', 'r.participant_id')
      .select(['r.participant_id', 'p.full_name', 'r.status', 'r.completed_at', 'r.contingency_method', 'r.note', 'r.recorded_at'])
      .where('r.event_id', '=', event.id)
      .orderBy('p.full_name')
      .orderBy('r.participant_id')
      .execute()
    const taken = await trx.selectFrom('events').select('register_taken_at').where('id', '=', event.id).executeTakeFirstOrThrow()
    return {
      event_id: event.event_ref,
      register_taken_at: isoOrNull(taken.register_taken_at),
      entries: rows.map((r) => ({
        participant_id: r.participant_id,
        full_name: r.full_name,
        status: r.status,
        completed_at: isoOrNull(r.completed_at),
        contingency_method: r.contingency_method,
        note: r.note,
        recorded_at: iso(r.recorded_at),
      })),
    }
  }

  api.add({
    method: 'GET',
    path: '/events/:event_id/register',
    operationId: 'getRegister',
    summary: 'An event’s register as it stands: each participant’s current entry',
    tag: 'Registers',
    params: eventIdParam,
    response: z.object({ data: registerJson }),
    handler: async ({ principal, params }) => ({ data: await registerOf(db, await eventByRef(db, principal, params.event_id, 'view')) }),
  })

  api.add({
    method: 'POST',
    path: '/events/:event_id/register',
    operationId: 'recordRegister',
    summary: `Record up to ${MAX_REGISTER_ENTRIES} register entries: all of them, or none when any has a problem (422 lists each). Participants not sent keep their entries`,
    tag: 'Registers',
    params: eventIdParam,
    body: registerBody,
    response: z.object({
      data: registerJson.extend({
        received: z.number().int(),
        created: z.number().int(),
        updated: z.number().int().meta({ description: 'Entries that superseded a different current entry' }),
        unchanged: z.number().int(),
      }),
    }),
    handler: async ({ principal, params, body }) => {
      const result = await db.transaction().execute(async (trx) => {
        await sql`select id from events where event_ref = ${params.event_id} for update`.execute(trx)
        const event = await eventByRef(trx, principal, params.event_id, 'take-register')
        const now = new Date()
        // The pages' rules: nothing before the start or on a cancelled event; attended and absent marks
        // lock 14 days after the event (a token may not change locked marks); contingency completions
        // come later by nature, dated between the event and today.
        const rules = registerRules({
          startsAt: event.starts_at,
          cancelled: event.status === 'cancelled',
          now,
          mayChangeLocked: can(principal, 'change-locked-register', { type: 'event', event: eventRefOf(event) }),
        })
        if (rules.contingencyRefusal) throw new AppError('invalid-transition', rules.contingencyRefusal)

        const ids = [...new Set(body.entries.map((e) => e.participant_id.toLowerCase()))]
        const known = await trx
          .selectFrom('enrolments')
          .select(['participant_id', 'course_identifier', 'cohort'])
          .where('participant_id', 'in', ids)
          .where('lead_provider_id', '=', event.lead_provider_id)
          .execute()
        const current = new Map((await loadRegister(trx, event.id)).map((r) => [r.participantId, r.entry]))
        const today = londonDateOf(now)
        const problems: FieldError[] = []
        const seen = new Set<string>()
        for (const [index, entry] of body.entries.entries()) {
          const participantId = entry.participant_id.toLowerCase()
          // The registry's error format, with the entry's index, participant and a code (as learning records have).
          const problem = (field: string, code: string, message: string) => {
            const found: FieldError & { index: number; participant_id: string; code: string } = {
              field: `body.entries.${index}.${field}`,
              message,
              index,
              participant_id: participantId,
              code,
            }
            problems.push(found)
          }
          if (seen.has(participantId)) problem('participant_id', 'duplicate-entry', 'this participant has an earlier entry in the batch')
          seen.add(participantId)
          const theirs = known.filter((e) => e.participant_id === participantId)
          if (theirs.length === 0) problem('participant_id', 'unknown-participant', `unknown participant ${participantId}`)
          else if (!theirs.some((e) => e.course_identifier === event.course_identifier && e.cohort === event.cohort))
            problem(
              'participant_id',
              'not-on-course',
              `participant ${participantId} is not on ${event.course_identifier} in cohort ${event.cohort}, the event’s course and cohort`,
            )
          else if (!current.has(participantId) && !(await enrolmentForEvent(trx, event, participantId)))
            problem(
              'participant_id',
              'not-on-course',
              `participant ${participantId} is with a delivery partner this event is not open to (record another partner’s event as a contingency on their own)`,
            )
          const contingency = entry.status === 'contingency-completed'
          const completedAt = entry.completed_at ?? null
          if (contingency && completedAt === null)
            problem('completed_at', 'completed-at-required', 'is required for contingency-completed: when the catch-up was done')
          if (!contingency && completedAt !== null)
            problem('completed_at', 'completed-at-not-allowed', 'must be empty unless the status is contingency-completed')
          if (completedAt !== null) {
            const completedOn = londonDateOf(new Date(completedAt))
            const dateProblem = completionDateProblem(completedOn, rules.startsOn, today)
            if (new Date(completedAt) > now) problem('completed_at', 'completed-at-in-future', `${completedAt} is in the future`)
            else if (dateProblem) problem('completed_at', 'completed-at-before-event', dateProblem)
          }
          if (!contingency && entry.contingency_method)
            problem('contingency_method', 'contingency-method-not-allowed', 'must be empty unless the status is contingency-completed')
          // A locked mark may be sent again as it is, but not changed.
          const was = current.get(participantId)
          const changes = !was || was.status !== entry.status || (was.note ?? null) !== (entry.note || null)
          if (!contingency && !rules.canMark && changes) problem('status', 'register-locked', rules.markRefusal!)
        }
        if (problems.length)
          throw new AppError('unprocessable', `${problems.length} problem(s) in the register entries: none were recorded`, problems)

        const counts = { received: body.entries.length, created: 0, updated: 0, unchanged: 0 }
        for (const entry of body.entries) {
          const completedAt = entry.completed_at ? new Date(entry.completed_at) : null
          const outcome = await recordRegisterEntry(trx, principal, {
            eventId: event.id,
            participantId: entry.participant_id.toLowerCase(),
            status: entry.status,
            completedAt: completedAt ? completedAt.toISOString() : null,
            completedOn: completedAt ? londonDateOf(completedAt) : null,
            note: entry.note || null,
            contingencyMethod: entry.contingency_method,
          })
          counts[outcome]++
        }
        await markTakenIfComplete(trx, principal, event.id)
        return { ...(await registerOf(trx, event)), ...counts }
      })
      return { data: result }
    },
  })
}
