import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Agent, textOf } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import { organisation, person, systemPrincipal as by } from '../test-support/fixtures.ts'
import type { TestServices } from '../test-support/services.ts'
import { queueDfeRequest } from './requests.ts'
import { DfeSync } from './sync.ts'
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

// The DfE sync log without a browser: who sees which requests, the filter and its error, a request
// with its attempts, "Retry now" (sync off, then on) and "Cancel request" with its audit entry.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
let world: DfeWorld
let fake: Awaited<ReturnType<typeof startFakeDfe>>
let answer: (r: SeenRequest) => FakeAnswer = () => ({
  status: 422,
  body: { errors: [{ title: 'participant_id', detail: 'The participant has no accepted application' }] },
})
let failedId: string
let participantName: string

before(async () => {
  ;({ services, app, close } = await startDemoApp())
  world = await dfeWorld(services.db, 'edt')
  fake = await startFakeDfe((r) => answer(r))
  const p = await dfeParticipant(world, { name: 'Nadia Hussain' })
  participantName = 'Nadia Hussain'
  const declarationId = await dfeDeclaration(world, p)
  failedId = await services.db
    .transaction()
    .execute((trx) =>
      queueDfeRequest(trx, { leadProviderId: world.leadProviderId, kind: 'submit-declaration', subjectId: declarationId, queuedBy: by }),
    )
  const sync = new DfeSync(services.db, { url: fake.url, token: 'page-test-token' }, services.logger, { timeoutMs: 2000 })
  assert.equal((await sync.send(failedId)).outcome, 'failed')
  const ucl = await organisation(services.db, 'lead-provider', 'ucl')
  await person(services, 'ucl-admin@dfe.test', 'lead-provider-admin', ucl, demoPassword)
})
after(async () => {
  await fake?.close()
  await close?.()
})

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const requestRow = (id: string) => services.db.selectFrom('dfe_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow()

test('only lead-provider admins see the sync log, each their own provider’s requests', async () => {
  const signedOut = await new Agent(app).get('/lead-provider/dfe-sync')
  assert.equal(signedOut.statusCode, 303)
  for (const email of ['participant@demo.test', 'delivery-partner-lead@demo.test', 'facilitator@demo.test']) {
    assert.equal((await (await as(email)).get('/lead-provider/dfe-sync')).statusCode, 403, email)
  }
  const ucl = await as('ucl-admin@dfe.test')
  const list = await ucl.get('/lead-provider/dfe-sync')
  assert.equal(list.statusCode, 200)
  assert.doesNotMatch(list.body, new RegExp(participantName))
  assert.equal((await ucl.get(`/lead-provider/dfe-sync/${failedId}`)).statusCode, 404)
  // Reached from the Finance section of the menu.
  const finance = await ucl.get('/lead-provider/finance')
  assert.match(finance.body, /href="\/lead-provider\/dfe-sync"/)
})

test('the list shows a failed request with its error; the filter narrows it and a bad status is an error', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const list = await admin.get('/lead-provider/dfe-sync')
  assert.equal(list.statusCode, 200)
  assert.match(list.body, /DfE sync is off/)
  const row = textOf(list.body, 'tbody')
  assert.match(
    row ?? '',
    /Submit declaration Nadia Hussain: started declaration, .* Failed 1 DfE answered 422: participant_id: The participant has no accepted application/,
  )
  assert.match((await admin.get('/lead-provider/dfe-sync?status=failed')).body, /Nadia Hussain/)
  assert.doesNotMatch((await admin.get('/lead-provider/dfe-sync?status=sent')).body, /Nadia Hussain/)
  const bad = await admin.get('/lead-provider/dfe-sync?status=lost')
  assert.equal(bad.statusCode, 400)
  assert.match(textOf(bad.body, 'div', 'govuk-error-summary') ?? '', /Select a status from the list/)
  assert.match(bad.body, /<title>Error: /)
})

test('a request’s page shows what was sent and every attempt; Retry now says when sync is off, and sends when it is on', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const page = await admin.get(`/lead-provider/dfe-sync/${failedId}`)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /POST \/participant-declarations/)
  assert.match(page.body, /&quot;declaration_type&quot;: &quot;started&quot;/)
  assert.match(page.body, /DfE answered 422/)
  assert.match(page.body, /The participant has no accepted application/)

  const off = await admin.post(`/lead-provider/dfe-sync/${failedId}/retry`, {}, { csrfFrom: `/lead-provider/dfe-sync/${failedId}` })
  assert.equal(off.statusCode, 409)
  assert.match(textOf(off.body, 'div', 'govuk-error-summary') ?? '', /DfE sync is off/)
  assert.equal((await requestRow(failedId)).attempts, 1)

  const saved = services.dfe
  services.dfe = new DfeSync(services.db, { url: fake.url, token: 'page-test-token' }, services.logger, { timeoutMs: 2000 })
  try {
    // A retry first asks DfE whether it has the declaration already (no), then posts it.
    answer = (r) =>
      r.method === 'GET'
        ? { status: 200, body: { data: [] } }
        : { status: 200, body: dfeDeclarationBody('12345678-1234-4234-8234-123456789012', 'eligible') }
    const response = await admin.post(`/lead-provider/dfe-sync/${failedId}/retry`, {}, { csrfFrom: `/lead-provider/dfe-sync/${failedId}` })
    assert.equal(response.statusCode, 303)
    assert.equal(response.headers.location, `/lead-provider/dfe-sync/${failedId}?done=sent`)
    const shown = await admin.get(response.headers.location as string)
    assert.match(shown.body, /DfE accepted the request/)
    assert.equal((await requestRow(failedId)).status, 'sent')
    assert.doesNotMatch(shown.body, /Retry now/)
  } finally {
    services.dfe = saved
  }
})

test('Cancel request: it is never sent, the log says who cancelled it, and a second cancel is refused', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const p = await dfeParticipant(world, { name: 'Owen Price' })
  await services.db
    .insertInto('deferrals')
    .values({ participant_id: p.participantId, reason: 'career-break', deferred_on: '2025-02-01' })
    .execute()
  const id = await services.db
    .transaction()
    .execute((trx) =>
      queueDfeRequest(trx, { leadProviderId: world.leadProviderId, kind: 'defer-participant', subjectId: p.enrolmentId, queuedBy: by }),
    )

  // Another provider's admin cannot cancel it.
  const ucl = await as('ucl-admin@dfe.test')
  const refused = await ucl.post(`/lead-provider/dfe-sync/${id}/cancel`, {}, { csrfFrom: '/lead-provider/dfe-sync' })
  assert.equal(refused.statusCode, 404)
  assert.equal((await requestRow(id)).status, 'queued')
  // Nor anyone without the form's CSRF token.
  assert.equal((await admin.post(`/lead-provider/dfe-sync/${id}/cancel`, {}, { csrf: null })).statusCode, 403)

  const cancelled = await admin.post(`/lead-provider/dfe-sync/${id}/cancel`, {}, { csrfFrom: `/lead-provider/dfe-sync/${id}` })
  assert.equal(cancelled.statusCode, 303)
  const row = await requestRow(id)
  const adminUser = await services.db
    .selectFrom('users')
    .select('id')
    .where('email', '=', 'lead-provider-admin@demo.test')
    .executeTakeFirstOrThrow()
  assert.equal(row.status, 'cancelled')
  assert.equal(row.cancelled_by, adminUser.id)
  const audit = await services.db
    .selectFrom('audit_events')
    .selectAll()
    .where('entity_id', '=', id)
    .where('action', '=', 'dfe-request.cancelled')
    .executeTakeFirst()
  assert.equal(audit?.actor_user_id, adminUser.id)
  const page = await admin.get(cancelled.headers.location as string)
  assert.match(page.body, /Request cancelled/)
  assert.match(page.body, /Cancelled/)

  const again = await admin.post(`/lead-provider/dfe-sync/${id}/cancel`, {}, { csrfFrom: '/lead-provider/dfe-sync' })
  assert.equal(again.statusCode, 409)
  assert.match(textOf(again.body, 'div', 'govuk-error-summary') ?? '', /no longer queued/)
})

test('Get statements from DfE now queues one pull for the admin’s lead provider (sent once sync is on)', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const response = await admin.post('/lead-provider/dfe-sync/pull', {}, { csrfFrom: '/lead-provider/dfe-sync' })
  assert.equal(response.statusCode, 303)
  const id = (response.headers.location as string).split('/').at(-1)!
  const row = await requestRow(id)
  assert.deepEqual(
    [row.kind, row.status, row.lead_provider_id, row.method, row.path],
    ['pull-statements', 'queued', world.leadProviderId, 'GET', '/statements'],
  )
  assert.match((await admin.get(response.headers.location as string)).body, /Not tried yet/)
})
