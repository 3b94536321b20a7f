import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createApiToken } from '../api/api-tokens.ts'
import { londonDateOf } from '../dates/london.ts'
import { importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { buildApp } from '../routes.ts'
import { organisation, person, systemPrincipal as by } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'

// The events API (issue 5): events, bookings and registers for a lead provider's own systems, each
// bad input a JSON error with a code that changes nothing, and another provider's token seeing nothing.

let services: TestServices
let app: FastifyInstance
let edtToken: string
let uclToken: string
const ids = {
  ana: '00000000-0000-4000-8000-0000000000d1',
  ben: '00000000-0000-4000-8000-0000000000d2',
  cat: '00000000-0000-4000-8000-0000000000d3',
  dev: '00000000-0000-4000-8000-0000000000d4', // East Coast
  eve: '00000000-0000-4000-8000-0000000000d5', // deferred
  fay: '00000000-0000-4000-8000-0000000000d6', // NPQH, not NPQLT
  nobody: '00000000-0000-4000-8000-0000000000d9',
}

before(async () => {
  services = await createTestServices()
  const edt = await organisation(services.db, 'lead-provider', 'edt', 'Education Development Trust')
  const ucl = await organisation(services.db, 'lead-provider', 'ucl', 'UCL')
  const run = (kind: string, text: string) => importFile(services, importers[kind]!, text, by)
  await run('delivery-partners', 'delivery_partner_id,name,lead_provider\nnorth-star,North Star TSH,edt\neast-coast,East Coast TSH,edt\n')
  const northStar = (await services.db.selectFrom('organisations').select('id').where('code', '=', 'north-star').executeTakeFirstOrThrow())
    .id
  const header =
    'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed'
  const row = (id: string, name: string, dp: string, trn: string, course = 'npq-leading-teaching') =>
    `${id},${name},${name.toLowerCase()}@school.test,${trn},edt,${dp},${course},2022-autumn,100001,yes,yes`
  await run(
    'participants',
    [
      header,
      row(ids.ana, 'Ana', 'north-star', '2000001'),
      row(ids.ben, 'Ben', 'north-star', '2000002'),
      row(ids.cat, 'Cat', 'north-star', '2000003'),
      row(ids.dev, 'Dev', 'east-coast', '2000004'),
      row(ids.eve, 'Eve', 'north-star', '2000005'),
      row(ids.fay, 'Fay', 'north-star', '2000006', 'npq-headship'),
    ].join('\n'),
  )
  await services.db.updateTable('enrolments').set({ status: 'deferred' }).where('participant_id', '=', ids.eve).execute()
  await person(services, 'fran@north-star.test', 'facilitator', northStar)
  app = await buildApp(services)
  await app.ready()
  edtToken = (await createApiToken(services.db, by, edt, 'EDT calendar')).token
  uclToken = (await createApiToken(services.db, by, ucl, 'UCL calendar')).token
})
after(async () => {
  await app.close()
  await services.dispose()
})

const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: unknown, token = edtToken) =>
  app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${token}` },
    ...(payload === undefined ? {} : { payload: payload as object }),
  })

const future = (days: number, hour = 9) => new Date(Date.UTC(new Date().getUTCFullYear() + 1, 0, 10 + days, hour)).toISOString()
const past = (days: number, hour = 9) => new Date(Date.now() - days * 86_400_000 + (hour - 12) * 3_600_000).toISOString()

const eventBody = (over: Record<string, unknown> = {}) => ({
  delivery_partner: 'north-star',
  course_identifier: 'npq-leading-teaching',
  cohort: '2022-autumn',
  kind: 'f2f',
  activity_code: 'NPQLT-B1-F2F',
  title: 'Block 1 face-to-face',
  starts_at: future(0, 9),
  ends_at: future(0, 16),
  venue: 'North Star TSH, 1 High Street',
  capacity: 2,
  ...over,
})

async function schedule(over: Record<string, unknown> = {}): Promise<string> {
  const res = await call('POST', '/events', eventBody(over))
  assert.equal(res.statusCode, 201, res.body)
  return res.json().data.event_id
}

/** Everything a refused request must leave alone. */
const snapshot = async () => {
  const count = async (table: 'events' | 'bookings' | 'register_entries' | 'audit_events' | 'email_outbox') =>
    Number(
      (
        await services.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    )
  const events = await services.db
    .selectFrom('events')
    .select(['event_ref', 'capacity', 'ends_at', 'status', 'updated_at'])
    .orderBy('event_ref')
    .execute()
  return JSON.stringify({
    events,
    bookings: await count('bookings'),
    register: await count('register_entries'),
    audit: await count('audit_events'),
    emails: await count('email_outbox'),
  })
}

/** The request is refused with this status and code, and nothing changes. */
async function refused(status: number, code: string, work: () => Promise<{ statusCode: number; body: string }>) {
  const before = await snapshot()
  const res = await work()
  assert.equal(res.statusCode, status, res.body)
  const error = JSON.parse(res.body).error as {
    code: string
    message: string
    fields?: { field: string; message: string; code?: string; index?: number }[]
  }
  assert.equal(error.code, code)
  assert.equal(await snapshot(), before, 'a refused request changes nothing')
  return error
}

test('the OpenAPI document lists every events, bookings and registers operation', async () => {
  const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json()
  const operations = Object.entries(doc.paths as Record<string, Record<string, { operationId: string }>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => `${method.toUpperCase()} ${path} ${op.operationId}`),
  )
  for (const expected of [
    'GET /api/v1/events listEvents',
    'POST /api/v1/events scheduleEvent',
    'GET /api/v1/events/{event_id} getEvent',
    'PATCH /api/v1/events/{event_id} changeEvent',
    'POST /api/v1/events/{event_id}/cancel cancelEvent',
    'GET /api/v1/events/{event_id}/bookings listBookings',
    'POST /api/v1/events/{event_id}/bookings bookEvent',
    'POST /api/v1/events/{event_id}/bookings/{participant_id}/cancel cancelBooking',
    'GET /api/v1/events/{event_id}/register getRegister',
    'POST /api/v1/events/{event_id}/register recordRegister',
  ])
    assert.ok(operations.includes(expected), `${expected} in ${operations.join(', ')}`)
  const list = doc.paths['/api/v1/events'].get
  assert.deepEqual(
    list.parameters.map((p: { name: string }) => p.name),
    ['delivery_partner', 'course_identifier', 'cohort', 'from', 'to', 'updated_since', 'page', 'per_page'],
  )
  const register = doc.paths['/api/v1/events/{event_id}/register'].post
  assert.ok(JSON.stringify(register.requestBody).includes('contingency_method'))
  assert.ok(JSON.stringify(doc.paths['/api/v1/events/{event_id}'].get.responses['200']).includes('free_places'))
})

test('scheduling an event, reading it back, and another lead provider’s token finding nothing', async () => {
  const res = await call(
    'POST',
    '/events',
    eventBody({
      facilitators: ['Fran@north-star.test'],
      shared_with: ['east-coast'],
      booking_closes_at: future(-1),
      reminder_days_before: 2,
    }),
  )
  assert.equal(res.statusCode, 201, res.body)
  const created = res.json().data
  assert.match(created.event_id, /^NPQLT-B1-F2F-/)
  assert.equal(created.lead_provider, 'edt')
  assert.equal(created.delivery_partner, 'north-star')
  assert.deepEqual(created.facilitators, ['fran@north-star.test'])
  assert.deepEqual(created.shared_with, ['east-coast'])
  assert.equal(created.status, 'scheduled')
  const audit = await services.db
    .selectFrom('audit_events')
    .select('actor')
    .where('action', '=', 'event.scheduled')
    .executeTakeFirstOrThrow()
  assert.match(audit.actor, /^api-token:/)

  const got = await call('GET', `/events/${created.event_id}`)
  assert.equal(got.statusCode, 200, got.body)
  assert.deepEqual(got.json().data, created)
  assert.deepEqual([created.booked, created.waiting, created.free_places], [0, 0, 2])

  for (const [method, url, payload] of [
    ['GET', `/events/${created.event_id}`, undefined],
    ['PATCH', `/events/${created.event_id}`, { capacity: 5 }],
    ['POST', `/events/${created.event_id}/cancel`, { reason: 'no' }],
    ['GET', `/events/${created.event_id}/bookings`, undefined],
    ['POST', `/events/${created.event_id}/bookings`, { participant_id: ids.ana }],
    ['POST', `/events/${created.event_id}/bookings/${ids.ana}/cancel`, undefined],
    ['GET', `/events/${created.event_id}/register`, undefined],
    ['POST', `/events/${created.event_id}/register`, { entries: [{ participant_id: ids.ana, status: 'attended' }] }],
    ['GET', '/events/no-such-event', undefined],
  ] as const) {
    const error = await refused(404, 'not-found', () =>
      call(method, url, payload, method === 'GET' && url.endsWith('no-such-event') ? edtToken : uclToken),
    )
    assert.equal(error.message, 'Event not found')
  }
  const uclList = (await call('GET', '/events', undefined, uclToken)).json()
  assert.deepEqual(uclList.data, [])
  assert.equal((await call('GET', '/events', undefined, 'npq_not-a-token')).statusCode, 401)
})

test('scheduling refuses an end before the start, an unknown partner or facilitator, and a malformed body', async () => {
  const endBefore = await refused(422, 'unprocessable', () => call('POST', '/events', eventBody({ ends_at: future(0, 8) })))
  assert.deepEqual(
    endBefore.fields?.map((f) => `${f.field}: ${f.message}`),
    ['body.ends_at: The end must be after the start'],
  )
  const unknown = await refused(422, 'unprocessable', () =>
    call('POST', '/events', eventBody({ delivery_partner: 'nowhere', facilitators: ['nobody@x.test'], shared_with: ['elsewhere'] })),
  )
  assert.deepEqual(unknown.fields?.map((f) => f.field).sort(), ['body.delivery_partner', 'body.facilitators.0', 'body.shared_with.0'])
  const notEvent = await refused(422, 'unprocessable', () =>
    call('POST', '/events', eventBody({ activity_code: 'NPQLT-B1-M1', venue: null })),
  )
  assert.deepEqual(notEvent.fields?.map((f) => f.field).sort(), ['body.activity_code', 'body.venue'])
  const malformed = await refused(400, 'validation-failed', () =>
    call('POST', '/events', eventBody({ capacity: 0, starts_at: 'tomorrow', lead_provider: 'ucl' })),
  )
  assert.deepEqual(malformed.fields?.map((f) => f.field).sort(), ['body', 'body.capacity', 'body.starts_at'])
})

test('listing events: filters and pages', async () => {
  const first = await schedule({ starts_at: future(30, 9), ends_at: future(30, 12), title: 'List A' })
  const second = await schedule({ starts_at: future(31, 9), ends_at: future(31, 12), delivery_partner: 'east-coast', title: 'List B' })
  const all = (await call('GET', '/events?per_page=500')).json()
  assert.ok(all.data.length >= 2)
  const starts = all.data.map((e: { starts_at: string }) => e.starts_at)
  assert.deepEqual(starts, [...starts].sort())

  const day = (iso: string) => iso.slice(0, 10)
  const window = (await call('GET', `/events?from=${day(future(30))}&to=${day(future(31))}`)).json()
  assert.deepEqual(
    window.data.map((e: { event_id: string }) => e.event_id),
    [first, second],
  )
  const eastCoast = (await call('GET', `/events?delivery_partner=east-coast&from=${day(future(30))}`)).json()
  assert.deepEqual(
    eastCoast.data.map((e: { event_id: string }) => e.event_id),
    [second],
  )
  const paged = (await call('GET', `/events?from=${day(future(30))}&to=${day(future(31))}&per_page=1&page=2`)).json()
  assert.deepEqual(paged.meta, { page: 2, per_page: 1, total: 2, total_pages: 2 })
  assert.deepEqual(
    paged.data.map((e: { event_id: string }) => e.event_id),
    [second],
  )
  assert.equal((await call('GET', `/events?course_identifier=npq-headship`)).json().data.length, 0)
  assert.ok((await call('GET', `/events?cohort=2022-autumn&course_identifier=npq-leading-teaching`)).json().data.length >= 2)

  const since = new Date().toISOString()
  assert.equal((await call('GET', `/events?updated_since=${encodeURIComponent(since)}`)).json().data.length, 0)
  await call('PATCH', `/events/${first}`, { venue: 'The new hall' })
  assert.deepEqual(
    (await call('GET', `/events?updated_since=${encodeURIComponent(since)}`)).json().data.map((e: { event_id: string }) => e.event_id),
    [first],
  )
  const bad = await refused(400, 'validation-failed', () => call('GET', '/events?from=2022-13-01&per_page=0&updated_since=yesterday'))
  assert.deepEqual(bad.fields?.map((f) => f.field).sort(), ['query.from', 'query.per_page', 'query.updated_since'])
})

test('bookings: places, a waiting list, promotion; full, double and not-open bookings refused', async () => {
  const eventId = await schedule({ starts_at: future(40), ends_at: future(40, 16), shared_with: ['east-coast'] })
  const book = (participantId: string, extra: Record<string, unknown> = {}) =>
    call('POST', `/events/${eventId}/bookings`, { participant_id: participantId, ...extra })

  const ana = await book(ids.ana)
  assert.equal(ana.statusCode, 201, ana.body)
  assert.deepEqual(
    { ...ana.json().data, requested_at: undefined, booked_at: undefined },
    {
      event_id: eventId,
      participant_id: ids.ana,
      full_name: 'Ana',
      email: 'ana@school.test',
      status: 'booked',
      waiting_position: null,
      requested_at: undefined,
      booked_at: undefined,
      cancelled_at: null,
    },
  )
  assert.equal((await book(ids.dev)).json().data.status, 'booked') // East Coast: the event is shared with it

  const full = await refused(409, 'invalid-transition', () => book(ids.cat))
  assert.equal(full.message, 'This event is full: join the waiting list instead')
  const double = await refused(409, 'invalid-transition', () => book(ids.ana, { waiting_list: true }))
  assert.equal(double.message, 'You are already booked on this event')
  await refused(409, 'invalid-transition', () => book(ids.eve, { waiting_list: true })) // deferred
  const otherCourse = await refused(422, 'unprocessable', () => book(ids.fay))
  assert.equal(otherCourse.fields?.[0]?.field, 'body.participant_id')
  const nobody = await refused(422, 'unprocessable', () => book(ids.nobody))
  assert.equal(nobody.fields?.[0]?.message, `unknown participant ${ids.nobody}`)
  await refused(400, 'validation-failed', () => book('not-a-uuid'))

  const cat = await book(ids.cat, { waiting_list: true })
  assert.equal(cat.statusCode, 201, cat.body)
  assert.equal(cat.json().data.status, 'waiting')
  assert.equal(cat.json().data.waiting_position, 1)
  const ben = await book(ids.ben, { waiting_list: true })
  assert.equal(ben.json().data.waiting_position, 2, ben.body)
  const event = (await call('GET', `/events/${eventId}`)).json().data
  assert.deepEqual([event.booked, event.waiting, event.free_places], [2, 2, 0])

  // Dev's place is cancelled: Cat, first on the list, is booked and emailed.
  const cancelled = await call('POST', `/events/${eventId}/bookings/${ids.dev}/cancel`)
  assert.equal(cancelled.statusCode, 200, cancelled.body)
  assert.equal(cancelled.json().data.status, 'cancelled')
  const list = (await call('GET', `/events/${eventId}/bookings`)).json().data as {
    participant_id: string
    status: string
    waiting_position: number | null
  }[]
  assert.deepEqual(
    list.map((b) => [b.participant_id, b.status, b.waiting_position]),
    [
      [ids.ana, 'booked', null],
      [ids.dev, 'cancelled', null],
      [ids.cat, 'booked', null],
      [ids.ben, 'waiting', 1],
    ],
  )
  const waiting = (await call('GET', `/events/${eventId}/bookings?status=waiting`)).json().data
  assert.deepEqual(
    waiting.map((b: { participant_id: string }) => b.participant_id),
    [ids.ben],
  )
  const email = await services.db
    .selectFrom('email_outbox')
    .select('subject')
    .where('to_address', '=', 'cat@school.test')
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow()
  assert.match(email.subject, /^A place has come free/)
  const nothingToCancel = await refused(409, 'invalid-transition', () => call('POST', `/events/${eventId}/bookings/${ids.dev}/cancel`))
  assert.equal(nothingToCancel.message, 'There is no booking to cancel')
})

test('booking a past, cancelled or not-yet-open event is refused', async () => {
  // Welcome events deliver no activity, so booking one is not "another date of the same session".
  const welcome = { kind: 'welcome', activity_code: null }
  const pastEvent = await schedule({ ...welcome, starts_at: past(3), ends_at: past(3, 15) })
  assert.equal(
    (await refused(409, 'invalid-transition', () => call('POST', `/events/${pastEvent}/bookings`, { participant_id: ids.ana }))).message,
    'This event has already started',
  )
  const notOpen = await schedule({ ...welcome, starts_at: future(60), ends_at: future(60, 16), booking_opens_at: future(50) })
  assert.match(
    (await refused(409, 'invalid-transition', () => call('POST', `/events/${notOpen}/bookings`, { participant_id: ids.ana }))).message,
    /^Booking for this event opens on /,
  )
  const toCancel = await schedule({ ...welcome, starts_at: future(61), ends_at: future(61, 16) })
  assert.equal((await call('POST', `/events/${toCancel}/bookings`, { participant_id: ids.ana })).statusCode, 201)
  await refused(400, 'validation-failed', () => call('POST', `/events/${toCancel}/cancel`, { reason: ' ' }))
  const cancelled = await call('POST', `/events/${toCancel}/cancel`, { reason: 'Venue closed' })
  assert.equal(cancelled.statusCode, 200, cancelled.body)
  assert.deepEqual(
    [cancelled.json().data.status, cancelled.json().data.cancelled_reason, cancelled.json().data.booked],
    ['cancelled', 'Venue closed', 0],
  )
  assert.equal(
    (await refused(409, 'invalid-transition', () => call('POST', `/events/${toCancel}/bookings`, { participant_id: ids.ben }))).message,
    'This event has been cancelled',
  )
  await refused(409, 'invalid-transition', () => call('POST', `/events/${toCancel}/cancel`, { reason: 'Again' }))
  await refused(409, 'invalid-transition', () => call('PATCH', `/events/${toCancel}`, { capacity: 9 }))
})

test('changing an event: capacity below the bookings and an end before the start are refused; a change is saved', async () => {
  const eventId = await schedule({
    activity_code: 'NPQLT-B1-LIVE',
    kind: 'live-webinar',
    starts_at: future(70),
    ends_at: future(70, 16),
    capacity: 3,
  })
  for (const id of [ids.ana, ids.ben])
    assert.equal((await call('POST', `/events/${eventId}/bookings`, { participant_id: id })).statusCode, 201)
  const capacity = await refused(422, 'unprocessable', () => call('PATCH', `/events/${eventId}`, { capacity: 1 }))
  assert.deepEqual(
    capacity.fields?.map((f) => `${f.field}: ${f.message}`),
    ['body.capacity: Capacity cannot be below the 2 places already booked'],
  )
  const ends = await refused(422, 'unprocessable', () => call('PATCH', `/events/${eventId}`, { ends_at: future(70, 8) }))
  assert.deepEqual(
    ends.fields?.map((f) => f.field),
    ['body.ends_at'],
  )
  await refused(400, 'validation-failed', () => call('PATCH', `/events/${eventId}`, {}))
  await refused(400, 'validation-failed', () => call('PATCH', `/events/${eventId}`, { cohort: '2023-autumn' }))

  const changed = await call('PATCH', `/events/${eventId}`, {
    capacity: 2,
    venue: null,
    joining_link: 'https://meet.test/abc',
    title: 'Moved online',
  })
  assert.equal(changed.statusCode, 200, changed.body)
  const e = changed.json().data
  assert.deepEqual([e.capacity, e.venue, e.joining_link, e.title, e.free_places], [2, null, 'https://meet.test/abc', 'Moved online', 0])
  const moved = await services.db
    .selectFrom('email_outbox')
    .select('subject')
    .where('to_address', '=', 'ana@school.test')
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow()
  assert.equal(moved.subject, 'Event changed: Moved online', 'the booked are told of the move')
})

test('registers: a batch all or nothing, every bad entry listed; repeated, nothing changes', async () => {
  const eventId = await schedule({ starts_at: past(2), ends_at: past(2, 15) })
  const futureEvent = await schedule({ starts_at: future(80), ends_at: future(80, 16) })
  const record = (id: string, entries: unknown[]) => call('POST', `/events/${id}/register`, { entries })

  const notYet = await refused(409, 'invalid-transition', () => record(futureEvent, [{ participant_id: ids.ana, status: 'attended' }]))
  assert.equal(notYet.message, 'The register opens when the event starts')

  const bad = await refused(422, 'unprocessable', () =>
    record(eventId, [
      { participant_id: ids.ana, status: 'attended' },
      { participant_id: ids.fay, status: 'attended' }, // NPQH
      { participant_id: ids.nobody, status: 'absent' },
      { participant_id: ids.ben, status: 'contingency-completed', contingency_method: 'recording' },
      { participant_id: ids.cat, status: 'attended', completed_at: past(1), contingency_method: 'recording' },
      { participant_id: ids.ana, status: 'absent' },
      { participant_id: ids.eve, status: 'contingency-completed', completed_at: future(1) },
      { participant_id: ids.dev, status: 'attended' }, // East Coast: the event is not shared with it
    ]),
  )
  assert.deepEqual(
    bad.fields?.map((f) => `${f.index} ${f.field} ${f.code}`),
    [
      '1 body.entries.1.participant_id not-on-course',
      '2 body.entries.2.participant_id unknown-participant',
      '3 body.entries.3.completed_at completed-at-required',
      '4 body.entries.4.completed_at completed-at-not-allowed',
      '4 body.entries.4.contingency_method contingency-method-not-allowed',
      '5 body.entries.5.participant_id duplicate-entry',
      '6 body.entries.6.completed_at completed-at-in-future',
      '7 body.entries.7.participant_id not-on-course',
    ],
  )
  const early = await refused(422, 'unprocessable', () =>
    record(eventId, [{ participant_id: ids.ben, status: 'contingency-completed', completed_at: past(5), contingency_method: 'recording' }]),
  )
  assert.deepEqual(
    early.fields?.map((f) => `${f.field} ${f.code} ${f.message}`),
    ['body.entries.0.completed_at completed-at-before-event The completion date must be on or after the date of the event'],
  )
  await refused(400, 'validation-failed', () => record(eventId, [{ participant_id: ids.ana, status: 'present' }]))
  await refused(400, 'validation-failed', () => record(eventId, []))

  const catchUp = past(1)
  const entries = [
    { participant_id: ids.ana, status: 'attended' },
    {
      participant_id: ids.ben,
      status: 'contingency-completed',
      completed_at: catchUp,
      contingency_method: 'recording',
      note: 'watched it',
    },
    { participant_id: ids.cat, status: 'absent' },
  ]
  const res = await record(eventId, entries)
  assert.equal(res.statusCode, 200, res.body)
  const data = res.json().data
  assert.deepEqual([data.received, data.created, data.updated, data.unchanged], [3, 3, 0, 0])
  assert.ok(data.register_taken_at, 'nobody was booked, so everyone booked has an entry')
  assert.deepEqual(
    data.entries.map(
      (e: {
        participant_id: string
        status: string
        completed_at: string | null
        contingency_method: string | null
        note: string | null
      }) => [e.participant_id, e.status, e.completed_at, e.contingency_method, e.note],
    ),
    [
      [ids.ana, 'attended', null, null, null],
      [ids.ben, 'contingency-completed', catchUp, 'recording', 'watched it'],
      [ids.cat, 'absent', null, null, null],
    ],
  )
  const ben = await services.db
    .selectFrom('register_entries')
    .select(['completed_on', 'contingency_method'])
    .where('participant_id', '=', ids.ben)
    .executeTakeFirstOrThrow()
  assert.deepEqual(ben, { completed_on: londonDateOf(new Date(catchUp)), contingency_method: 'recording' })

  const again = (await record(eventId, entries)).json().data
  assert.deepEqual([again.created, again.updated, again.unchanged], [0, 0, 3])
  const corrected = (await record(eventId, [{ participant_id: ids.cat, status: 'attended' }])).json().data
  assert.deepEqual([corrected.created, corrected.updated, corrected.unchanged], [0, 1, 0])

  const register = await call('GET', `/events/${eventId}/register`)
  assert.equal(register.statusCode, 200, register.body)
  assert.deepEqual(
    register.json().data.entries.map((e: { participant_id: string; status: string }) => `${e.participant_id} ${e.status}`),
    [`${ids.ana} attended`, `${ids.ben} contingency-completed`, `${ids.cat} attended`],
  )
  const audit = await services.db
    .selectFrom('audit_events')
    .select('actor')
    .where('action', '=', 'register-entry.corrected')
    .executeTakeFirstOrThrow()
  assert.match(audit.actor, /^api-token:/)
})

test('registers: marks lock 14 days after the event (a token cannot change them); contingency completions still come in', async () => {
  const eventId = await schedule({ activity_code: 'NPQLT-B1-LIVE', kind: 'live-webinar', starts_at: past(20), ends_at: past(20, 15) })
  const record = (entries: unknown[]) => call('POST', `/events/${eventId}/register`, { entries })
  const locked = await refused(422, 'unprocessable', () => record([{ participant_id: ids.ana, status: 'attended' }]))
  assert.deepEqual(
    locked.fields?.map((f) => `${f.field} ${f.code}`),
    ['body.entries.0.status register-locked'],
  )
  const catchUp = await record([
    { participant_id: ids.ana, status: 'contingency-completed', completed_at: past(1), contingency_method: 'mop-up-session' },
  ])
  assert.equal(catchUp.statusCode, 200, catchUp.body)
  assert.equal(catchUp.json().data.entries[0].contingency_method, 'mop-up-session')
})
