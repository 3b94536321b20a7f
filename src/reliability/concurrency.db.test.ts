import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { createApiToken } from '../api/api-tokens.ts'
import { londonDateOf } from '../dates/london.ts'
import { importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { ids, loadOutputsCohort } from '../outputs/test-fixtures.ts'
import { buildApp } from '../routes.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { person, systemPrincipal } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'

// Issue 10, item 3: the same declaration, booking, register entry, import or ingest batch sent twice
// (or more) at once, through the real entry points, has exactly one effect — one row, one audit entry,
// one email where the action emails, one DfE request where it is declared — and every response is a
// success or a clear 4xx, never a 5xx. On real PostgreSQL the requests overlap in the database; on
// PGlite the embedded server runs one transaction at a time, so there it checks the same outcome.

const password = 'a long test password'
const DAY = 86_400_000
let services: TestServices
let app: FastifyInstance
let token: string
let edt: string
let northStar: string

before(async () => {
  services = await createTestServices()
  await loadOutputsCohort(services)
  const db = services.db
  const org = async (code: string) =>
    (await db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id
  edt = await org('edt')
  northStar = await org('north-star')
  await person(services, 'ada@edt.test', 'lead-provider-admin', edt, password)
  await person(services, 'fran@north-star.test', 'facilitator', northStar, password)
  // Ana signs in as herself to book.
  const anaUser = await person(services, 'ana.user@school.test', 'participant', northStar, password)
  await db.updateTable('participants').set({ user_id: anaUser }).where('id', '=', ids.ana).execute()
  token = (await createApiToken(db, systemPrincipal, edt, 'EDT platform')).token
  app = await buildApp(services)
  await app.ready()
})
after(async () => {
  await app.close()
  await services.dispose()
})

async function signedIn(email: string): Promise<Agent> {
  const agent = new Agent(app)
  await agent.signIn(email, password)
  return agent
}

const api = (method: 'GET' | 'POST', url: string, payload?: object) =>
  app.inject({ method, url: `/api/v1${url}`, headers: { authorization: `Bearer ${token}` }, ...(payload ? { payload } : {}) })

/** Posts a form (repeated fields allowed) with a CSRF token fetched once, so the posts themselves overlap. */
const postForm = (agent: Agent, url: string, csrf: string, fields: [string, string][]) =>
  app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams([['_csrf', csrf], ...fields]).toString(),
    headers: { cookie: agent.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
  })

/** Every response a success or a clear refusal: never a server error. */
function noServerErrors(responses: LightMyRequestResponse[]) {
  for (const r of responses) assert.ok(r.statusCode < 500, `${r.statusCode}: ${r.body.slice(0, 500)}`)
}
const ok = (r: LightMyRequestResponse) => r.statusCode >= 200 && r.statusCode < 400

const emailCount = async () =>
  Number(
    (
      await services.db
        .selectFrom('email_outbox')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
const audits = (action: string, entityIds?: string[]) =>
  services.db
    .selectFrom('audit_events')
    .selectAll()
    .where('action', '=', action)
    .$if(entityIds !== undefined, (q) => q.where('entity_id', 'in', entityIds!))
    .execute()

/** A north-star NPQLT event (2022-autumn) starting `offsetDays` from now, with these participants booked. */
async function event(ref: string, activityCode: string, offsetDays: number, booked: string[] = [], facilitator?: string) {
  const startsAt = new Date(Date.now() + offsetDays * DAY)
  const row = await services.db
    .insertInto('events')
    .values({
      event_ref: ref,
      lead_provider_id: edt,
      delivery_partner_id: northStar,
      course_identifier: 'npq-leading-teaching',
      cohort: '2022-autumn',
      activity_code: activityCode,
      kind: 'f2f',
      title: `Session ${ref}`,
      venue: 'North Star TSH, 1 High Street',
      starts_at: startsAt.toISOString(),
      ends_at: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
      starts_on: londonDateOf(startsAt),
      capacity: 20,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  if (facilitator) {
    const user = await services.db.selectFrom('users').select('id').where('email', '=', facilitator).executeTakeFirstOrThrow()
    await services.db.insertInto('event_facilitators').values({ event_id: row.id, user_id: user.id }).execute()
  }
  for (const p of booked) {
    await services.db
      .insertInto('bookings')
      .values({ event_id: row.id, participant_id: p, status: 'booked', booked_at: new Date().toISOString() })
      .execute()
  }
  return row.id
}

const registerEntriesOf = (eventId: string) =>
  services.db.selectFrom('register_entries').selectAll().where('event_id', '=', eventId).orderBy('participant_id').execute()

test('declaration: the same declaration posted three times at once (a double click and another tab) → one declaration', async () => {
  const admin = await signedIn('ada@edt.test')
  const reviewUrl = '/lead-provider/declarations?cohort=2022-autumn&course=npq-leading-teaching&type=started&as_of=2023-07-01'
  const page = await admin.get(reviewUrl)
  assert.equal(page.statusCode, 200)
  const csrf = csrfToken(page.body)
  const requestKey = /name="request_key" value="([^"]+)"/.exec(page.body)?.[1]
  assert.ok(requestKey, 'the review page names its request')
  const form = (key: string): [string, string][] => [
    ['cohort', '2022-autumn'],
    ['course', 'npq-leading-teaching'],
    ['type', 'started'],
    ['as_of', '2023-07-01'],
    ['participant', ids.ana],
    ['request_key', key],
  ]
  const emailsBefore = await emailCount()
  // The same form twice (same request key), and the same declaration from another tab (a new key).
  const responses = await Promise.all([
    postForm(admin, '/lead-provider/declarations', csrf, form(requestKey)),
    postForm(admin, '/lead-provider/declarations', csrf, form(requestKey)),
    postForm(admin, '/lead-provider/declarations', csrf, form('another-tab')),
  ])
  noServerErrors(responses)
  assert.ok(responses.every((r) => r.statusCode === 200))
  assert.equal(responses.filter((r) => /Already declared/.test(r.body)).length, 2, 'the others say it is already declared')

  const declarations = await services.db.selectFrom('declarations').selectAll().where('participant_id', '=', ids.ana).execute()
  assert.equal(declarations.length, 1)
  assert.equal(declarations[0]!.declaration_type, 'started')
  const id = declarations[0]!.id
  assert.equal((await audits('declaration.created', [id])).length, 1)
  assert.equal((await audits('declaration.created')).length, 1)
  const requests = await services.db.selectFrom('dfe_requests').select('kind').where('subject_id', '=', id).execute()
  assert.deepEqual(
    requests.map((r) => r.kind),
    ['submit-declaration'],
  )
  assert.equal(
    (await services.db.selectFrom('declaration_state_changes').select('id').where('declaration_id', '=', id).execute()).length,
    1,
  )
  assert.equal(await emailCount(), emailsBefore, 'declaring sends no email')
})

test('booking: the same participant booking the same event four times at once (two pages, two API calls) → one booking', async () => {
  const eventId = await event('CONC-BOOK', 'NPQLT-B5-F2F', 30)
  const ana = await signedIn('ana.user@school.test')
  const eventUrl = `/participant/events/${eventId}`
  const page = await ana.get(eventUrl)
  assert.equal(page.statusCode, 200)
  const csrf = csrfToken(page.body)
  const emailsBefore = await emailCount()

  const responses = await Promise.all([
    postForm(ana, `${eventUrl}/book`, csrf, []),
    api('POST', '/events/CONC-BOOK/bookings', { participant_id: ids.ana }),
    postForm(ana, `${eventUrl}/book`, csrf, []),
    api('POST', '/events/CONC-BOOK/bookings', { participant_id: ids.ana }),
  ])
  noServerErrors(responses)
  assert.equal(responses.filter(ok).length, 1, responses.map((r) => r.statusCode).join(' '))
  // The refusals are clear: the page shows it again with the error (400), the API says 409.
  for (const r of responses.filter((r) => !ok(r))) assert.ok([400, 409].includes(r.statusCode), String(r.statusCode))

  const bookings = await services.db.selectFrom('bookings').selectAll().where('event_id', '=', eventId).execute()
  assert.equal(bookings.length, 1)
  assert.equal(bookings[0]!.status, 'booked')
  assert.equal((await audits('booking.booked', [bookings[0]!.id])).length, 1)
  const bookingAudits = (await services.db.selectFrom('audit_events').selectAll().where('entity_type', '=', 'booking').execute()).filter(
    (a) => (a.after as { event_id?: string } | null)?.event_id === eventId,
  )
  assert.deepEqual(
    bookingAudits.map((a) => a.action),
    ['booking.booked'],
  )
  assert.equal(await emailCount(), emailsBefore + 1)
  const emails = await services.db
    .selectFrom('email_outbox')
    .select(['to_address', 'subject'])
    .where('subject', 'like', '%CONC-BOOK%')
    .execute()
  assert.equal(emails.length, 1, JSON.stringify(emails))
  assert.match(emails[0]!.subject, /^Booking confirmed: Session CONC-BOOK/)
})

test('register entry: the same mark sent five times at once (two register pages, two API calls, an import) → one entry', async () => {
  const eventId = await event('CONC-REGISTER', 'NPQLT-B2-LIVE', -2, [ids.ana, ids.ben], 'fran@north-star.test')
  const fran = await signedIn('fran@north-star.test')
  const registerUrl = `/events/${eventId}/register`
  const page = await fran.get(registerUrl)
  assert.equal(page.statusCode, 200)
  const csrf = csrfToken(page.body)
  const emailsBefore = await emailCount()
  const mark: [string, string][] = [
    ['participants', ids.ana],
    ['mark', 'attended'],
  ]
  const entry = { entries: [{ participant_id: ids.ana, status: 'attended' }] }

  const file = `event_id,participant_id,status\nCONC-REGISTER,${ids.ana},attended\n`

  // …and the same mark in an attendance import at the same moment.
  const [imported, ...responses] = await Promise.all([
    importFile(services, importers.attendance!, file, systemPrincipal),
    postForm(fran, registerUrl, csrf, mark),
    api('POST', '/events/CONC-REGISTER/register', entry),
    postForm(fran, registerUrl, csrf, mark),
    api('POST', '/events/CONC-REGISTER/register', entry),
  ])
  noServerErrors(responses)
  assert.equal(imported.rows, 1)
  assert.deepEqual(
    responses.map((r) => r.statusCode),
    [303, 200, 303, 200],
  )
  const apiCounts = [responses[1]!, responses[3]!].map((r) => (r.json() as { data: { created: number; unchanged: number } }).data)
  assert.ok(apiCounts.reduce((n, c) => n + c.created, 0) + imported.created <= 1, JSON.stringify([imported, ...apiCounts]))

  const entries = await registerEntriesOf(eventId)
  assert.equal(entries.length, 1)
  assert.equal(entries[0]!.participant_id, ids.ana)
  assert.equal(entries[0]!.status, 'attended')
  assert.equal(entries[0]!.supersedes, null)
  assert.equal((await audits('register-entry.recorded', [entries[0]!.id])).length, 1)
  const recorded = await audits('register-entry.recorded')
  assert.equal(recorded.filter((a) => (a.after as { eventId?: string }).eventId === eventId).length, 1)
  assert.equal(await emailCount(), emailsBefore, 'a register mark sends no email')
})

test('import: the same file imported twice at once (attendance and participants by command, an upload applied twice) → one set of rows', async () => {
  const cliEvent = await event('CONC-IMPORT-CLI', 'NPQLT-B3-LIVE', -3, [ids.ana, ids.ben])
  const attendance = (ref: string) =>
    `event_id,participant_id,status,completed_at,note\n${ref},${ids.ana},attended,,\n${ref},${ids.ben},absent,,Unwell\n`
  const run = () => importFile(services, importers.attendance!, attendance('CONC-IMPORT-CLI'), systemPrincipal)
  const results = await Promise.allSettled([run(), run()])
  for (const r of results) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '')
  const counts = results.map((r) => (r.status === 'fulfilled' ? `${r.value.created}/${r.value.updated}/${r.value.unchanged}` : ''))
  assert.deepEqual(counts.sort(), ['0/0/2', '2/0/0'], 'one import creates both entries, the other finds them unchanged')
  const entries = await registerEntriesOf(cliEvent)
  assert.deepEqual(
    entries.map((e) => `${e.participant_id} ${e.status} ${e.supersedes}`),
    [`${ids.ana} attended null`, `${ids.ben} absent null`],
  )
  assert.equal(
    (
      await audits(
        'register-entry.recorded',
        entries.map((e) => e.id),
      )
    ).length,
    2,
  )
  assert.equal((await audits('register-entry.recorded')).filter((a) => (a.after as { eventId?: string }).eventId === cliEvent).length, 2)

  // Participants: new people in a file imported twice at once are created once (no duplicate-key error).
  const newIds = ['00000000-0000-4000-8000-00000000c0c1', '00000000-0000-4000-8000-00000000c0c2']
  const participants = [
    'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed',
    `${newIds[0]},Concurrent One,con.one@school.test,4000001,edt,north-star,npq-leading-teaching,2022-autumn,100001,yes,yes`,
    `${newIds[1]},Concurrent Two,con.two@school.test,4000002,edt,north-star,npq-leading-teaching,2022-autumn,100001,yes,yes`,
  ].join('\n')
  const runParticipants = () => importFile(services, importers.participants!, participants, systemPrincipal)
  const people = await Promise.allSettled([runParticipants(), runParticipants()])
  for (const r of people) assert.equal(r.status, 'fulfilled', r.status === 'rejected' ? String(r.reason) : '')
  assert.deepEqual(
    people.map((r) => (r.status === 'fulfilled' ? `${r.value.created}/${r.value.updated}/${r.value.unchanged}` : '')).sort(),
    ['0/0/2', '2/0/0'],
  )
  assert.equal((await services.db.selectFrom('participants').select('id').where('id', 'in', newIds).execute()).length, 2)
  assert.equal((await services.db.selectFrom('enrolments').select('id').where('participant_id', 'in', newIds).execute()).length, 2)
  assert.equal((await audits('participant.created', newIds)).length, 2)

  // The upload page: one uploaded file applied twice at once (a double click) → applied once.
  const pageEvent = await event('CONC-IMPORT-PAGE', 'NPQLT-B3-LIVE', -4, [ids.ana, ids.ben])
  const admin = await signedIn('ada@edt.test')
  const uploaded = await admin.upload(
    '/lead-provider/imports',
    { kind: 'attendance' },
    { field: 'file', filename: 'register.csv', content: attendance('CONC-IMPORT-PAGE') },
  )
  assert.equal(uploaded.statusCode, 303, uploaded.body.slice(0, 500))
  const previewUrl = uploaded.headers.location as string
  const preview = await admin.get(previewUrl)
  assert.equal(preview.statusCode, 200)
  const csrf = csrfToken(preview.body)
  const applied = await Promise.all([postForm(admin, `${previewUrl}/apply`, csrf, []), postForm(admin, `${previewUrl}/apply`, csrf, [])])
  noServerErrors(applied)
  assert.deepEqual(
    applied.map((r) => r.statusCode),
    [303, 303],
  )
  assert.equal((await registerEntriesOf(pageEvent)).length, 2)
  const uploadId = previewUrl.split('/').at(-1)!
  assert.equal((await audits('import.applied', [uploadId])).length, 1)
  const upload = await services.db.selectFrom('import_uploads').select('result').where('id', '=', uploadId).executeTakeFirstOrThrow()
  assert.deepEqual(upload.result, { kind: 'attendance', rows: 2, created: 2, updated: 0, unchanged: 0 })
  assert.match((await admin.get(previewUrl)).body, /2 new, 0 updated, 0 unchanged/)
})

test('ingest batch: the same batch of learning records posted five times at once → one set of learning records', async () => {
  const events = ['S1.1a', 'S1.1b', 'DIAGNOSTIC'].map((key, i) => ({
    event_id: `conc-${key}`,
    participant_id: ids.cy,
    activity_code: `NPQLT-B1-${key}`,
    occurred_at: `2022-11-2${i}T09:15:00Z`,
    source: 'automatic',
  }))
  const responses = await Promise.all([1, 2, 3, 4, 5].map(() => api('POST', '/learning-records', { events })))
  noServerErrors(responses)
  assert.deepEqual(
    responses.map((r) => r.statusCode),
    [200, 200, 200, 200, 200],
  )
  const results = responses.map((r) => (r.json() as { data: { received: number; created: number; unchanged: number } }).data)
  assert.equal(
    results.reduce((n, r) => n + r.created, 0),
    3,
    JSON.stringify(results),
  )
  assert.ok(results.every((r) => r.received === 3 && r.created + r.unchanged === 3))

  const rows = await services.db
    .selectFrom('learning_records')
    .select(['client_event_id', 'activity_code'])
    .where('participant_id', '=', ids.cy)
    .where('client_event_id', 'like', `%:conc-%`)
    .orderBy('activity_code')
    .execute()
  assert.deepEqual(
    rows.map((r) => r.activity_code),
    ['NPQLT-B1-DIAGNOSTIC', 'NPQLT-B1-S1.1a', 'NPQLT-B1-S1.1b'],
  )
  // Each request is audited with what it did: the records were created by exactly one of them.
  const ingested = await audits('learning-records.ingested')
  const created = ingested.map((a) => (a.after as { created: number }).created).filter((n) => n > 0)
  assert.deepEqual(created, [3])
  assert.equal((await services.db.selectFrom('learning_records').select('id').where('participant_id', '=', ids.cy).execute()).length, 3)
})
