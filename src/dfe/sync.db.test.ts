import assert from 'node:assert/strict'
import { after, afterEach, before, test } from 'node:test'
import type { DfeRequestKind } from '../db/schema.ts'
import { changeDeclarationState } from '../declarations/state.ts'
import { systemPrincipal as by } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { dfeDeclarationState } from './client.ts'
import { queueDfeRequest } from './requests.ts'
import { backoffSeconds, cancelDfeRequest, DfeSync } from './sync.ts'
import {
  dfeDeclaration,
  dfeDeclarationBody,
  dfeParticipant,
  dfeWorld,
  startFakeDfe,
  type DfeWorld,
  type FakeAnswer,
  type SeenRequest,
} from './test-fixtures.ts'

// Sending and failing: a stand-in DfE answers 500, hangs past the timeout, refuses, then accepts.
// Requests stay queued and visible with their errors and an attempt row per call, and succeed later;
// one participant's requests go in order; DfE's answers and statements move declaration states.

let services: TestServices
let world: DfeWorld
let answer: (r: SeenRequest) => FakeAnswer = () => ({ status: 500 })
let fake: Awaited<ReturnType<typeof startFakeDfe>>
let sync: DfeSync
const token = 'sync-test-secret-token'

before(async () => {
  services = await createTestServices()
  world = await dfeWorld(services.db)
  fake = await startFakeDfe((r) => answer(r))
  sync = new DfeSync(services.db, { url: fake.url, token }, services.logger, { timeoutMs: 300 })
})
after(async () => {
  await fake?.close()
  await services?.dispose()
})
// Each test leaves nothing queued, so the next one's syncAll sends only its own requests.
afterEach(async () => {
  await services.db
    .updateTable('dfe_requests')
    .set({ status: 'cancelled', cancelled_at: new Date() })
    .where('status', '=', 'queued')
    .execute()
  fake.seen.length = 0
})

const queue = (kind: DfeRequestKind, subjectId: string | null) =>
  services.db.transaction().execute((trx) => queueDfeRequest(trx, { leadProviderId: world.leadProviderId, kind, subjectId, queuedBy: by }))
const requestRow = (id: string) => services.db.selectFrom('dfe_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
const attemptsOf = (id: string) =>
  services.db.selectFrom('dfe_request_attempts').selectAll().where('request_id', '=', id).orderBy('attempted_at').orderBy('id').execute()
const declarationRow = (id: string) => services.db.selectFrom('declarations').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

test('a 500 keeps the request queued with DfE’s words, an attempt row and a backoff; it is sent later', async () => {
  const p = await dfeParticipant(world)
  const declarationId = await dfeDeclaration(world, p)
  const id = await queue('submit-declaration', declarationId)

  answer = () => ({ status: 500, body: { errors: [{ title: 'Internal error', detail: 'try later' }] } })
  assert.deepEqual(await sync.syncAll(), { sent: 0, failed: 1, queued: 1 })
  const failed = await requestRow(id)
  assert.equal(failed.status, 'queued')
  assert.equal(failed.attempts, 1)
  assert.equal(failed.last_error, 'DfE answered 500: Internal error: try later')
  assert.ok(failed.next_attempt_at.getTime() > Date.now() + 30_000, 'backs off')
  assert.equal(failed.claimed_until, null)
  const [attempt] = await attemptsOf(id)
  assert.equal(attempt?.status_code, 500)
  assert.deepEqual(attempt?.response, { errors: [{ title: 'Internal error', detail: 'try later' }] })
  assert.ok((attempt?.duration_ms ?? -1) >= 0)

  // Not due yet: the scheduled sync leaves it; `npq dfe sync` (force) sends it now.
  assert.deepEqual(await sync.syncAll(), { sent: 0, failed: 0, queued: 1 })
  answer = (r) =>
    r.method === 'GET'
      ? { status: 200, body: { data: [] } }
      : { status: 200, body: dfeDeclarationBody('11111111-2222-4333-8444-555555555555', 'eligible') }
  assert.deepEqual(await sync.syncAll({ force: true }), { sent: 1, failed: 0, queued: 0 })
  // After a failure it first asks DfE whether the declaration was made after all, then posts.
  assert.deepEqual(
    fake.seen.slice(1).map((r) => `${r.method} ${decodeURIComponent(r.url)}`),
    [
      `GET /api/v3/participant-declarations?filter[participant_id]=${p.participantId}&page[page]=1&page[per_page]=1000`,
      'POST /api/v3/participant-declarations',
    ],
  )
  assert.equal(fake.seen[2]!.authorization, `Bearer ${token}`)
  const sent = await requestRow(id)
  assert.equal(sent.status, 'sent')
  assert.equal(sent.last_error, null)
  assert.equal(sent.attempts, 2)
  assert.equal((await attemptsOf(id)).length, 3)
  const declaration = await declarationRow(declarationId)
  assert.equal(declaration.dfe_declaration_id, '11111111-2222-4333-8444-555555555555')
  assert.equal(declaration.state, 'eligible')
  const change = await services.db
    .selectFrom('declaration_state_changes')
    .selectAll()
    .where('declaration_id', '=', declarationId)
    .executeTakeFirstOrThrow()
  assert.deepEqual([change.from_state, change.to_state, change.source], ['submitted', 'eligible', 'dfe'])
})

test('no answer within the timeout: queued with the error and an attempt without a status; DfE may have made it, so it is found, not posted again', async () => {
  const p = await dfeParticipant(world)
  const declarationId = await dfeDeclaration(world, p, { type: 'started' })
  const id = await queue('submit-declaration', declarationId)
  answer = () => 'hang'
  const started = Date.now()
  assert.deepEqual(await sync.syncAll(), { sent: 0, failed: 1, queued: 1 })
  assert.ok(Date.now() - started < 5000)
  const failed = await requestRow(id)
  assert.equal(failed.last_error, 'No answer from DfE within 0.3 seconds')
  const [attempt] = await attemptsOf(id)
  assert.equal(attempt?.status_code, null)
  assert.equal(attempt?.error, 'No answer from DfE within 0.3 seconds')
  assert.ok((attempt?.duration_ms ?? 0) >= 290)

  // DfE did make it: the list for the participant has it (the spec's underscored state is accepted).
  answer = (r) =>
    r.method === 'GET'
      ? {
          status: 200,
          body: {
            data: [
              dfeDeclarationBody('aaaaaaaa-0000-4000-8000-000000000001', 'voided').data,
              dfeDeclarationBody('aaaaaaaa-0000-4000-8000-000000000002', 'payable').data,
            ],
          },
        }
      : { status: 500 }
  assert.equal((await sync.send(id, { force: true })).outcome, 'sent')
  assert.deepEqual(
    fake.seen.map((r) => r.method),
    ['POST', 'GET'],
  )
  const declaration = await declarationRow(declarationId)
  assert.equal(declaration.dfe_declaration_id, 'aaaaaaaa-0000-4000-8000-000000000002')
  assert.equal(declaration.state, 'payable')
})

test('a refusal (422) stays queued and visible until an admin cancels it; a void after it waits, then has nothing to void', async () => {
  const p = await dfeParticipant(world)
  const declarationId = await dfeDeclaration(world, p)
  const submit = await queue('submit-declaration', declarationId)
  const voiding = await queue('void-declaration', declarationId)
  assert.equal((await requestRow(voiding)).path, '/participant-declarations/{dfe_declaration_id}/void')
  answer = () => ({ status: 422, body: { errors: [{ title: 'cohort', detail: 'The funding contract for this cohort has ended' }] } })
  assert.deepEqual(await sync.syncAll({ force: true }), { sent: 0, failed: 1, queued: 2 })
  assert.equal(fake.seen.length, 1, 'the void waits for its submit')
  assert.equal((await requestRow(voiding)).attempts, 0)
  const refused = await requestRow(submit)
  assert.equal(refused.last_error, 'DfE answered 422: cohort: The funding contract for this cohort has ended')
  assert.ok(refused.next_attempt_at.getTime() - Date.now() > 50_000)
  // Still there on the next run (forced): tried again, refused again, never dropped.
  await sync.syncAll({ force: true })
  assert.equal((await requestRow(submit)).attempts, 2)
  assert.equal((await requestRow(submit)).status, 'queued')

  const admin: typeof by = {
    kind: 'user',
    userId: (
      await services.db
        .insertInto('users')
        .values({ email: 'lp-admin@dfe.test', full_name: 'LP Admin', password_hash: null })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id,
    email: 'lp-admin@dfe.test',
    fullName: 'LP Admin',
    roles: [],
  }
  assert.equal(await cancelDfeRequest(services.db, submit, admin), 'cancelled')
  assert.equal(await cancelDfeRequest(services.db, submit, admin), 'not-queued')
  const cancelled = await requestRow(submit)
  assert.equal(cancelled.status, 'cancelled')
  assert.equal(cancelled.cancelled_by, admin.userId)
  assert.ok(cancelled.cancelled_at)
  const audit = await services.db
    .selectFrom('audit_events')
    .selectAll()
    .where('entity_id', '=', submit)
    .where('action', '=', 'dfe-request.cancelled')
    .executeTakeFirst()
  assert.equal(audit?.actor_user_id, admin.userId)

  // The void may go now, but DfE never had the declaration: it says so instead of calling DfE.
  fake.seen.length = 0
  assert.deepEqual(await sync.syncAll({ force: true }), { sent: 0, failed: 1, queued: 1 })
  assert.equal(fake.seen.length, 0)
  assert.match((await requestRow(voiding)).last_error ?? '', /DfE has no id for this declaration/)
  assert.equal((await attemptsOf(voiding))[0]?.status_code, null)
})

test('one participant’s requests go in order: the void follows its submit to DfE’s id; states follow DfE’s answers', async () => {
  const p = await dfeParticipant(world)
  const other = await dfeParticipant(world)
  const declarationId = await dfeDeclaration(world, p, { state: 'paid' })
  const otherDeclaration = await dfeDeclaration(world, other)
  await queue('submit-declaration', declarationId)
  // Voided here (paid → awaiting clawback) before the submit reached DfE.
  await services.db.transaction().execute(async (trx) => {
    await changeDeclarationState(trx, { declarationId, to: 'awaiting-clawback', source: 'platform', reason: 'Declared in error', by })
    await queueDfeRequest(trx, { leadProviderId: world.leadProviderId, kind: 'void-declaration', subjectId: declarationId, queuedBy: by })
  })
  await queue('submit-declaration', otherDeclaration)
  answer = (r) => {
    if (r.method === 'POST') {
      const participant = (r.body as { data: { attributes: { participant_id: string } } }).data.attributes.participant_id
      return {
        status: 200,
        body: dfeDeclarationBody(
          participant === p.participantId ? 'dddddddd-0000-4000-8000-000000000001' : 'dddddddd-0000-4000-8000-000000000002',
          'paid',
        ),
      }
    }
    return { status: 200, body: dfeDeclarationBody('dddddddd-0000-4000-8000-000000000001', 'awaiting_clawback') }
  }
  assert.deepEqual(await sync.syncAll(), { sent: 3, failed: 0, queued: 0 })
  // The void waited for the first submit (the other participant's went meanwhile).
  assert.deepEqual(
    fake.seen.map((r) => `${r.method} ${r.url}`),
    [
      'POST /api/v3/participant-declarations',
      'POST /api/v3/participant-declarations',
      'PUT /api/v3/participant-declarations/dddddddd-0000-4000-8000-000000000001/void',
    ],
  )
  // DfE said paid, but the platform had already voided it: our later change stands.
  assert.equal((await declarationRow(declarationId)).state, 'awaiting-clawback')
  assert.equal((await declarationRow(otherDeclaration)).state, 'paid')
})

test('pulling statements moves declarations to the states DfE reports, naming the statement', async () => {
  const p = await dfeParticipant(world)
  const declarationId = await dfeDeclaration(world, p)
  await services.db
    .updateTable('declarations')
    .set({ dfe_declaration_id: 'eeeeeeee-0000-4000-8000-000000000001' })
    .where('id', '=', declarationId)
    .execute()
  const id = await queue('pull-statements', null)
  assert.equal(await queue('pull-statements', null), id, 'one pull waiting is enough')
  answer = (r) =>
    r.url.startsWith('/api/v3/statements')
      ? {
          status: 200,
          body: {
            data: [
              { id: 'ffffffff-0000-4000-8000-000000000001', type: 'statement', attributes: { month: 'May', year: '2025', paid: true } },
            ],
          },
        }
      : {
          status: 200,
          body: {
            data: [
              dfeDeclarationBody('eeeeeeee-0000-4000-8000-000000000001', 'paid', { statement_id: 'ffffffff-0000-4000-8000-000000000001' })
                .data,
              dfeDeclarationBody('eeeeeeee-0000-4000-8000-00000000ffff', 'paid').data,
            ],
          },
        }
  assert.deepEqual(await sync.syncAll(), { sent: 1, failed: 0, queued: 0 })
  assert.equal((await declarationRow(declarationId)).state, 'paid')
  const change = await services.db
    .selectFrom('declaration_state_changes')
    .selectAll()
    .where('declaration_id', '=', declarationId)
    .executeTakeFirstOrThrow()
  assert.equal(change.reason, 'DfE statement May 2025 (paid)')
  assert.equal(change.source, 'dfe')
  assert.equal((await attemptsOf(id)).length, 2)

  // The next pull asks only for what changed since (with an hour's margin).
  fake.seen.length = 0
  await sync.send(await queue('pull-statements', null), { force: true })
  assert.match(decodeURIComponent(fake.seen[1]!.url), /filter\[updated_since\]=\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/)
})

test('the token never reaches the logs or the sync log, and the request exists only if the caller’s change commits', async () => {
  const p = await dfeParticipant(world)
  const declarationId = await dfeDeclaration(world, p)
  await assert.rejects(
    services.db.transaction().execute(async (trx) => {
      await queueDfeRequest(trx, {
        leadProviderId: world.leadProviderId,
        kind: 'submit-declaration',
        subjectId: declarationId,
        queuedBy: by,
      })
      throw new Error('the declaring failed')
    }),
    /the declaring failed/,
  )
  assert.equal((await services.db.selectFrom('dfe_requests').select('id').where('subject_id', '=', declarationId).execute()).length, 0)
  const id = await queue('submit-declaration', declarationId)
  assert.equal(await queue('submit-declaration', declarationId), id, 'never submitted twice')
  answer = () => ({ status: 401, body: { error: 'HTTP Token: Access denied' } })
  await sync.syncAll({ force: true })
  assert.equal((await requestRow(id)).last_error, 'DfE answered 401: HTTP Token: Access denied')
  const attempts = JSON.stringify(await attemptsOf(id))
  assert.doesNotMatch(attempts, new RegExp(token))
  assert.ok(services.logLines.some((l) => l.includes('DfE request failed')))
  assert.ok(services.logLines.every((l) => !l.includes(token)))
})

test('with DfE sync off nothing is sent and the requests wait', async () => {
  const off = new DfeSync(services.db, null, services.logger)
  const p = await dfeParticipant(world)
  const id = await queue('submit-declaration', await dfeDeclaration(world, p))
  assert.equal(off.enabled, false)
  assert.deepEqual(await off.syncAll({ force: true }), { sent: 0, failed: 0, queued: 1 })
  assert.deepEqual(await off.send(id), { outcome: 'skipped', reason: 'sync-off' })
  assert.equal(fake.seen.length, 0)
})

test('DfE’s states: dasherised and underscored both map to ours; the backoff doubles up to its cap', () => {
  assert.equal(dfeDeclarationState('awaiting-clawback'), 'awaiting-clawback')
  assert.equal(dfeDeclarationState('awaiting_clawback'), 'awaiting-clawback')
  assert.equal(dfeDeclarationState('clawed_back'), 'clawed-back')
  assert.equal(dfeDeclarationState('eligible'), 'eligible')
  assert.equal(dfeDeclarationState('archived'), null)
  assert.deepEqual(
    [1, 2, 3, 4].map((n) => backoffSeconds(n, 500)),
    [60, 120, 240, 480],
  )
  assert.equal(backoffSeconds(30, 500), 6 * 3600)
  assert.equal(backoffSeconds(30, 422), 24 * 3600)
})
