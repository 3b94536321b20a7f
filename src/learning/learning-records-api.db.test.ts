import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { createApiToken } from '../api/api-tokens.ts'
import { loadDemoData } from '../demo/demo.ts'
import { buildApp } from '../routes.ts'
import { systemPrincipal } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { correctLearningRecord } from './corrections.ts'
import { currentLearningRecords } from './current.ts'

// POST /api/v1/learning-records (batches of events, all or nothing, idempotent by event id) and
// POST /api/v1/learning-records/{id}/corrections.

let services: TestServices
let app: FastifyInstance
let edtToken: string
let uclToken: string
let edtTokenId: string
let priya: string // EDT, NPQH and EHCO, 2022-autumn (no self-reporting)
let selfReporter: string // EDT, NPQLTD, 2021-autumn (self-reporting)
let uclHead: string // UCL, NPQH, 2023-autumn
let literacy: string // EDT, NPQLL, 2022-autumn: block 2 is provisional

before(async () => {
  services = await createTestServices()
  await loadDemoData(services)
  app = await buildApp(services)
  await app.ready()
  const db = services.db
  const lp = async (code: string) =>
    (await db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id
  const edt = await createApiToken(db, systemPrincipal, await lp('edt'), 'EDT platform')
  edtToken = edt.token
  edtTokenId = edt.id
  uclToken = (await createApiToken(db, systemPrincipal, await lp('ucl'), 'UCL platform')).token
  priya = (await db.selectFrom('participants').select('id').where('email', '=', 'participant@demo.test').executeTakeFirstOrThrow()).id
  const enrolled = async (leadProvider: string, course: string) =>
    (
      await db
        .selectFrom('enrolments as e')
        .innerJoin('organisations as o', 'o.id', 'e.lead_provider_id')
        .select('e.participant_id')
        .where('o.code', '=', leadProvider)
        .where('e.course_identifier', '=', course)
        .orderBy('e.participant_id')
        .executeTakeFirstOrThrow()
    ).participant_id
  selfReporter = await enrolled('edt', 'npq-leading-teaching-development')
  uclHead = await enrolled('ucl', 'npq-headship')
  literacy = crypto.randomUUID()
  await db
    .insertInto('participants')
    .values({ id: literacy, full_name: 'Lee Literacy', email: 'lee@school.test', trn: '3000001' })
    .execute()
  await db
    .insertInto('enrolments')
    .values({
      participant_id: literacy,
      lead_provider_id: await lp('edt'),
      course_identifier: 'npq-leading-literacy',
      cohort: '2022-autumn',
    })
    .execute()
})
after(async () => {
  await app.close()
  await services.dispose()
})

type Event = {
  event_id?: unknown
  participant_id?: unknown
  activity_code?: unknown
  occurred_at?: unknown
  source?: unknown
  progress_percent?: unknown
  [k: string]: unknown
}

const post = (url: string, payload: unknown, token?: string) =>
  app.inject({ method: 'POST', url, payload: payload as object, headers: token ? { authorization: `Bearer ${token}` } : {} })
const send = (events: unknown[], token = edtToken) => post('/api/v1/learning-records', { events }, token)

const recordCount = async () =>
  Number(
    (
      await services.db
        .selectFrom('learning_records')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

const event = (over: Partial<Event> = {}): Event => ({
  event_id: `ev-${crypto.randomUUID()}`,
  participant_id: priya,
  activity_code: 'NPQH-B1-DIAGNOSTIC',
  occurred_at: '2022-11-20T09:15:00Z',
  source: 'automatic',
  ...over,
})

test('a valid batch is recorded with one statement and one audit entry; sending it again changes nothing', async () => {
  const events = [
    event({
      event_id: 'batch-1',
      participant_id: priya.toUpperCase(),
      activity_code: 'NPQH-B1-DIAGNOSTIC',
      occurred_at: '2022-11-20T09:15:00Z',
    }),
    event({ event_id: 'batch-2', activity_code: 'NPQH-B1-VIDEO', occurred_at: '2022-11-20T23:30:00-01:00', progress_percent: 95 }),
    event({
      event_id: 'batch-3',
      activity_code: 'NPQLTD-B1-MIT',
      participant_id: selfReporter,
      source: 'self-report',
      progress_percent: null,
    }),
  ]
  const auditBefore = await services.db.selectFrom('audit_events').select('id').where('action', '=', 'learning-records.ingested').execute()
  const res = await send(events)
  assert.equal(res.statusCode, 200, res.body)
  assert.deepEqual(res.json(), { data: { received: 3, created: 3, unchanged: 0 } })

  const video = await services.db
    .selectFrom('learning_records')
    .selectAll()
    .where('client_event_id', 'like', '%:batch-2')
    .executeTakeFirstOrThrow()
  assert.equal(video.evidence_on, '2022-11-21') // 00:30 on 21 November in London
  assert.equal(Number(video.progress_percent), 95)
  assert.equal(video.course_identifier, 'npq-headship')
  assert.equal(video.source, 'automatic')
  assert.ok(video.client_event_id?.endsWith(':batch-2'))

  const audits = await services.db.selectFrom('audit_events').selectAll().where('action', '=', 'learning-records.ingested').execute()
  assert.equal(audits.length, auditBefore.length + 1)
  const audit = audits.at(-1)!
  assert.equal(audit.actor, `api-token:${edtTokenId}`)
  assert.deepEqual(audit.after, { received: 3, created: 3, unchanged: 0 })

  // Again, and with an exact repeat inside the batch: nothing new.
  const again = await send([...events, events[0]])
  assert.equal(again.statusCode, 200, again.body)
  assert.deepEqual(again.json(), { data: { received: 4, created: 0, unchanged: 4 } })
  // The same moment written with another offset is the same content.
  const sameMoment = await send([{ ...events[0], occurred_at: '2022-11-20T09:15:00+00:00' }])
  assert.deepEqual(sameMoment.json(), { data: { received: 1, created: 0, unchanged: 1 } })
})

test('an event id sent again with different content, or twice in one batch, is a conflicting duplicate', async () => {
  const first = event({ event_id: 'dup-1', activity_code: 'NPQH-B1-S1.1b', occurred_at: '2022-11-21T10:00:00Z' })
  assert.equal((await send([first])).statusCode, 200)
  const before = await recordCount()

  const changed = await send([event({ event_id: 'fresh-1' }), { ...first, occurred_at: '2022-11-21T11:00:00Z' }])
  assert.equal(changed.statusCode, 422, changed.body)
  const body = changed.json()
  assert.equal(body.error.code, 'unprocessable')
  assert.deepEqual(body.error.fields, [
    {
      field: 'body.events.1.event_id',
      index: 1,
      event_id: 'dup-1',
      code: 'conflicting_duplicate',
      message: 'event dup-1 was already recorded with different content',
    },
  ])
  assert.equal(await recordCount(), before) // the fresh event was not kept either

  const twice = await send([
    event({ event_id: 'twice', occurred_at: '2022-11-22T10:00:00Z' }),
    event({ event_id: 'twice', occurred_at: '2022-11-22T10:05:00Z' }),
  ])
  assert.equal(twice.statusCode, 422)
  assert.deepEqual(
    twice.json().error.fields.map((f: { index: number; code: string; message: string }) => [f.index, f.code, f.message]),
    [[1, 'conflicting_duplicate', 'event twice is also at index 0 with different content']],
  )
  assert.equal(await recordCount(), before)

  // Another lead provider's event ids are its own.
  const ucl = await send([event({ event_id: 'dup-1', participant_id: uclHead, activity_code: 'NPQH-SDL-1' })], uclToken)
  assert.equal(ucl.statusCode, 200, ucl.body)
})

test('a batch with bad events writes nothing and lists every problem with its index, event id, field and code', async () => {
  const before = await recordCount()
  const future = new Date(Date.now() + 86_400_000).toISOString()
  const events: unknown[] = [
    event({ event_id: 'ok-1', activity_code: 'NPQH-B1-S1.1c' }), // 0: fine
    event({ event_id: 'bad-1', activity_code: 'XYZ-B1-NOPE' }), // 1
    event({ event_id: 'bad-2', activity_code: 'NPQH-B9-NOPE' }), // 2
    event({ event_id: 'bad-3', participant_id: crypto.randomUUID() }), // 3
    event({ event_id: 'bad-4', participant_id: uclHead }), // 4: UCL's participant on npq-headship
    event({ event_id: 'bad-5', activity_code: 'NPQSL-B1-DIAGNOSTIC' }), // 5: not on that course
    event({ event_id: 'bad-6', participant_id: literacy, activity_code: 'NPQLL-B2-DIAGNOSTIC' }), // 6: provisional block
    event({ event_id: 'bad-7', occurred_at: future }), // 7
    event({ event_id: 'bad-8', activity_code: 'NPQH-B1-MIT', source: 'self-report' }), // 8
    event({ event_id: 'bad-9', activity_code: 'NPQH-B1-F2F' }), // 9
    event({ event_id: 'bad-10', participant_id: 'not-a-uuid', source: 'phone', progress_percent: 120 }), // 10
    {
      event_id: 'bad-11',
      participant_id: priya,
      activity_code: 'NPQH-B1-VIDEO',
      occurred_at: '20/11/2022 09:15',
      progress_percent: '50',
      colour: 'red',
    }, // 11
    event({ event_id: 'x'.repeat(201) }), // 12
    event({ event_id: '' }), // 13
    'not an object', // 14
    event({ event_id: 'bad-15', occurred_at: '2022-11-20T09:15:00' }), // 15: no offset
  ]
  const res = await send(events)
  assert.equal(res.statusCode, 422, res.body)
  const body = res.json()
  assert.equal(body.error.code, 'unprocessable')
  assert.match(body.error.message, /15 of 16 events have problems; nothing was recorded/)
  const rows = body.error.fields.map((f: { index: number; event_id: string | null; field: string; code: string; message: string }) => [
    f.index,
    f.event_id,
    f.field,
    f.code,
    f.message,
  ])
  assert.deepEqual(rows, [
    [1, 'bad-1', 'body.events.1.activity_code', 'unknown_activity', 'unknown activity code XYZ-B1-NOPE'],
    [
      2,
      'bad-2',
      'body.events.2.activity_code',
      'unknown_activity',
      'NPQH-B9-NOPE is not an activity of npq-headship in cohort 2022-autumn',
    ],
    [3, 'bad-3', 'body.events.3.participant_id', 'unknown_participant', `unknown participant ${(events[3] as Event).participant_id}`],
    [4, 'bad-4', 'body.events.4.participant_id', 'unknown_participant', `unknown participant ${uclHead}`],
    [5, 'bad-5', 'body.events.5.activity_code', 'not_enrolled', `participant ${priya} is not enrolled on npq-senior-leadership`],
    [6, 'bad-6', 'body.events.6.activity_code', 'block_not_published', 'NPQLL-B2-DIAGNOSTIC is in a block that is not published yet'],
    [7, 'bad-7', 'body.events.7.occurred_at', 'in_the_future', `${future} is in the future`],
    [8, 'bad-8', 'body.events.8.source', 'self_reporting_not_used', 'cohort 2022-autumn does not use self-reporting with edt'],
    [
      9,
      'bad-9',
      'body.events.9.source',
      'evidenced_by_register',
      "NPQH-B1-F2F is an event: attendance is evidenced by the facilitator's register, not activity rows",
    ],
    [10, 'bad-10', 'body.events.10.participant_id', 'invalid', 'must be a UUID'],
    [10, 'bad-10', 'body.events.10.source', 'invalid', 'must be automatic or self-report'],
    [10, 'bad-10', 'body.events.10.progress_percent', 'invalid', 'must be from 0 to 100'],
    [11, 'bad-11', 'body.events.11.occurred_at', 'invalid', 'must be an ISO 8601 timestamp with an offset or Z, e.g. 2022-11-24T14:05:00Z'],
    [11, 'bad-11', 'body.events.11.source', 'missing', 'is required'],
    [11, 'bad-11', 'body.events.11.progress_percent', 'invalid', 'must be a number from 0 to 100'],
    [11, 'bad-11', 'body.events.11.colour', 'unknown_field', 'unknown field "colour"'],
    [12, 'x'.repeat(201), 'body.events.12.event_id', 'invalid', 'must be a string of 1 to 200 characters'],
    [13, '', 'body.events.13.event_id', 'invalid', 'must be a string of 1 to 200 characters'],
    [14, null, 'body.events.14', 'invalid', 'must be an object'],
    [15, 'bad-15', 'body.events.15.occurred_at', 'invalid', 'must be an ISO 8601 timestamp with an offset or Z, e.g. 2022-11-24T14:05:00Z'],
  ])
  assert.equal(await recordCount(), before)
})

test('missing fields, meeting-evidenced activities and the size of a batch', async () => {
  const missing = await send([{ event_id: 'm-1', participant_id: priya }])
  assert.equal(missing.statusCode, 422)
  assert.deepEqual(
    missing.json().error.fields.map((f: { field: string; code: string; message: string }) => [f.field, f.code, f.message]),
    [
      ['body.events.0.activity_code', 'missing', 'is required'],
      ['body.events.0.occurred_at', 'missing', 'is required'],
      ['body.events.0.source', 'missing', 'is required'],
    ],
  )

  const meeting = await send([event({ event_id: 'meet-1', participant_id: uclHead, activity_code: 'NPQH-MEETING-1' })], uclToken)
  assert.equal(meeting.statusCode, 422)
  assert.deepEqual(
    meeting.json().error.fields.map((f: { code: string; message: string }) => [f.code, f.message]),
    [['evidenced_by_meeting_log', 'NPQH-MEETING-1 is evidenced by the signed meeting log, not activity rows']],
  )

  for (const payload of [{ events: [] }, {}, { events: 'many' }]) {
    const res = await post('/api/v1/learning-records', payload, edtToken)
    assert.equal(res.statusCode, 400, JSON.stringify(payload))
    assert.equal(res.json().error.code, 'validation-failed')
    assert.equal(res.json().error.fields[0].field, 'body.events')
  }
  const tooMany = await send(Array.from({ length: 10_001 }, () => ({})))
  assert.equal(tooMany.statusCode, 400)
  assert.deepEqual(tooMany.json().error.fields, [{ field: 'body.events', message: 'send 1 to 10000 events' }])
})

test('10,000 events in one batch are recorded', async () => {
  const start = Date.parse('2022-12-01T00:00:00Z')
  const events = Array.from({ length: 10_000 }, (_, i) =>
    event({
      event_id: `big-${i}`,
      activity_code: 'NPQH-B1-VIDEO',
      occurred_at: new Date(start + i * 60_000).toISOString(),
      progress_percent: i % 101,
    }),
  )
  const res = await send(events)
  assert.equal(res.statusCode, 200, res.body.slice(0, 500))
  assert.deepEqual(res.json(), { data: { received: 10_000, created: 10_000, unchanged: 0 } })
  const again = await send(events)
  assert.deepEqual(again.json(), { data: { received: 10_000, created: 0, unchanged: 10_000 } })
})

test('without a valid token nothing is recorded; the request body never reaches the log', async () => {
  for (const token of [undefined, 'npq_not-a-real-token']) {
    const res = await post('/api/v1/learning-records', { events: [event()] }, token)
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().error.code, 'unauthenticated')
  }
  const marker = `secret-marker-${crypto.randomUUID()}`
  await send([event({ event_id: marker })])
  await send([event({ event_id: marker, participant_id: crypto.randomUUID() })])
  assert.ok(!services.logLines.some((l) => l.includes(marker) || l.includes(priya)))
})

test('the OpenAPI document shows the event schema', async () => {
  const doc = (await app.inject({ method: 'GET', url: '/api/v1/openapi.json' })).json()
  const op = doc.paths['/api/v1/learning-records'].post
  assert.equal(op.operationId, 'recordLearning')
  const items = op.requestBody.content['application/json'].schema.properties.events.items
  assert.deepEqual(items.required, ['event_id', 'participant_id', 'activity_code', 'occurred_at', 'source'])
  assert.ok(doc.paths['/api/v1/learning-records/{id}/corrections'].post)
})

test('corrections: retract, correct, a chain of corrections; a superseded record is refused; audited', async () => {
  const sent = [
    event({ event_id: 'corr-1', activity_code: 'NPQH-B1-S1.1d', occurred_at: '2022-11-25T10:00:00Z' }),
    event({ event_id: 'corr-2', activity_code: 'NPQH-B1-VIDEO', occurred_at: '2022-11-25T10:00:00Z', progress_percent: 40 }),
  ]
  assert.equal((await send(sent)).statusCode, 200)
  const idOf = async (eventId: string) =>
    (
      await services.db
        .selectFrom('learning_records')
        .select('id')
        .where('client_event_id', 'like', `%:${eventId}`)
        .executeTakeFirstOrThrow()
    ).id
  const s11d = await idOf('corr-1')
  const video = await idOf('corr-2')
  const isCurrent = async (id: string) =>
    Boolean(await currentLearningRecords(services.db).select('lr.id').where('lr.id', '=', id).executeTakeFirst())
  assert.ok((await isCurrent(s11d)) && (await isCurrent(video)))

  const retract = await post(
    `/api/v1/learning-records/${s11d}/corrections`,
    { retract: true, reason: 'Sent for the wrong participant' },
    edtToken,
  )
  assert.equal(retract.statusCode, 201, retract.body)
  const retraction = retract.json().data
  assert.equal(retraction.supersedes, s11d)
  assert.equal(retraction.retracted, true)
  assert.equal(retraction.activity_code, 'NPQH-B1-S1.1d')
  assert.equal(retraction.reason, 'Sent for the wrong participant')
  assert.ok(!(await isCurrent(s11d)) && !(await isCurrent(retraction.id)))
  // The retracted evidence sent again stays retracted.
  assert.deepEqual((await send([sent[0]])).json(), { data: { received: 1, created: 0, unchanged: 1 } })

  const corrected = await post(
    `/api/v1/learning-records/${video}/corrections`,
    { progress_percent: 100, occurred_at: '2022-11-26T23:30:00-01:00', reason: 'The player reported too early' },
    edtToken,
  )
  assert.equal(corrected.statusCode, 201, corrected.body)
  const correction = corrected.json().data
  assert.equal(correction.progress_percent, 100)
  assert.equal(correction.occurred_at, '2022-11-27T00:30:00.000Z')
  assert.equal(correction.evidence_on, '2022-11-27')
  assert.equal(correction.retracted, false)
  assert.ok(!(await isCurrent(video)) && (await isCurrent(correction.id)))

  const twice = await post(`/api/v1/learning-records/${video}/corrections`, { retract: true, reason: 'again' }, edtToken)
  assert.equal(twice.statusCode, 409)
  assert.equal(twice.json().error.code, 'conflict')
  assert.match(twice.json().error.message, new RegExp(`already been corrected or retracted: correct the latest record, ${correction.id}`))

  // The latest record of a chain can be corrected again.
  const chain = await post(`/api/v1/learning-records/${correction.id}/corrections`, { progress_percent: 90, reason: 'Rewound' }, edtToken)
  assert.equal(chain.statusCode, 201, chain.body)
  assert.equal(chain.json().data.occurred_at, '2022-11-27T00:30:00.000Z')
  assert.equal(await isCurrent(correction.id), false)

  const audit = await services.db
    .selectFrom('audit_events')
    .selectAll()
    .where('entity_id', 'in', [s11d, video])
    .where('action', 'like', 'learning-record.%')
    .orderBy('occurred_at')
    .execute()
  assert.deepEqual(
    audit.map((a) => [a.action, a.entity_id, a.actor]),
    [
      ['learning-record.retracted', s11d, `api-token:${edtTokenId}`],
      ['learning-record.corrected', video, `api-token:${edtTokenId}`],
    ],
  )
  const videoAudit = audit[1]!
  assert.equal((videoAudit.before as { progress_percent: number }).progress_percent, 40)
  assert.equal((videoAudit.after as { progress_percent: number; reason: string }).progress_percent, 100)
  assert.equal((videoAudit.after as { reason: string }).reason, 'The player reported too early')
})

test('corrections: another provider’s record is not found; bad bodies are refused', async () => {
  assert.equal((await send([event({ event_id: 'corr-x', activity_code: 'NPQH-B1-S1.1e' })])).statusCode, 200)
  const id = (
    await services.db.selectFrom('learning_records').select('id').where('client_event_id', 'like', '%:corr-x').executeTakeFirstOrThrow()
  ).id
  const other = await post(`/api/v1/learning-records/${id}/corrections`, { retract: true, reason: 'mine now' }, uclToken)
  assert.equal(other.statusCode, 404)
  assert.equal(
    (await post(`/api/v1/learning-records/${crypto.randomUUID()}/corrections`, { retract: true, reason: 'x' }, edtToken)).statusCode,
    404,
  )
  assert.equal((await post(`/api/v1/learning-records/${id}/corrections`, { retract: true, reason: 'x' })).statusCode, 401)

  const bad: [unknown, string, string][] = [
    [{ retract: true }, 'body.reason', 'give the reason for the correction'],
    [{ retract: true, reason: '   ' }, 'body.reason', 'give the reason for the correction'],
    [{ reason: 'nothing to change' }, 'body.occurred_at', 'give occurred_at or progress_percent to correct, or retract: true'],
    [{ retract: true, progress_percent: 10, reason: 'both' }, 'body.retract', 'retract the record, or correct its values, not both'],
    [{ progress_percent: 101, reason: 'too much' }, 'body.progress_percent', 'must be from 0 to 100'],
    [
      { occurred_at: 'yesterday', reason: 'vague' },
      'body.occurred_at',
      'must be an ISO 8601 timestamp with an offset or Z, e.g. 2022-11-24T14:05:00Z',
    ],
  ]
  for (const [body, field, message] of bad) {
    const res = await post(`/api/v1/learning-records/${id}/corrections`, body, edtToken)
    assert.equal(res.statusCode, 400, JSON.stringify(body))
    assert.deepEqual(res.json().error.fields, [{ field, message }], JSON.stringify(body))
  }
  const future = await post(
    `/api/v1/learning-records/${id}/corrections`,
    { occurred_at: '2999-01-01T00:00:00Z', reason: 'later' },
    edtToken,
  )
  assert.equal(future.statusCode, 400)
  assert.equal(await currentLearningRecords(services.db).select('lr.id').where('lr.id', '=', id).executeTakeFirst().then(Boolean), true)
})

test('correctLearningRecord names the person who corrected, and refuses a retraction of a retraction', async () => {
  const admin = await services.db
    .selectFrom('users')
    .select('id')
    .where('email', '=', 'lead-provider-admin@demo.test')
    .executeTakeFirstOrThrow()
  const by = { kind: 'user' as const, userId: admin.id, email: 'lead-provider-admin@demo.test', fullName: 'Admin', roles: [] }
  assert.equal((await send([event({ event_id: 'corr-u', activity_code: 'NPQH-B1-S1.1f' })])).statusCode, 200)
  const id = (
    await services.db.selectFrom('learning_records').select('id').where('client_event_id', 'like', '%:corr-u').executeTakeFirstOrThrow()
  ).id
  const retraction = await services.db
    .transaction()
    .execute((trx) => correctLearningRecord(trx, by, id, { retract: true, reason: 'Duplicate of a paper record' }))
  assert.equal(retraction.recorded_by, admin.id)
  const audit = await services.db.selectFrom('audit_events').selectAll().where('entity_id', '=', id).executeTakeFirstOrThrow()
  assert.equal(audit.actor_user_id, admin.id)
  assert.equal(audit.action, 'learning-record.retracted')
  await assert.rejects(
    services.db.transaction().execute((trx) => correctLearningRecord(trx, by, retraction.id, { retract: true, reason: 'again' })),
    /already retracted/,
  )
  await assert.rejects(
    services.db.transaction().execute((trx) => correctLearningRecord(trx, by, id, { occurredAt: '2022-11-20T09:00:00Z', reason: 'again' })),
    /already been corrected or retracted/,
  )
})
