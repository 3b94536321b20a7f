import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { loadDemoData } from '../demo/demo.ts'
import { buildApp } from '../routes.ts'
import { Agent } from '../test-support/agent.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { createApiToken } from './api-tokens.ts'

let services: TestServices
let app: FastifyInstance
let edtToken: string
let uclToken: string

before(async () => {
  services = await createTestServices()
  await loadDemoData(services)
  app = await buildApp(services)
  await app.ready()
  const lp = async (code: string) =>
    (await services.db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id
  edtToken = (await createApiToken(services.db, { kind: 'system', name: 'test' }, await lp('edt'), 'EDT finance')).token
  uclToken = (await createApiToken(services.db, { kind: 'system', name: 'test' }, await lp('ucl'), 'UCL finance')).token
})
after(async () => {
  await app.close()
  await services.dispose()
})

const get = (url: string, token?: string) => app.inject({ method: 'GET', url, headers: token ? { authorization: `Bearer ${token}` } : {} })

test('the OpenAPI document is generated from the schemas that validate requests', async () => {
  const res = await get('/api/v1/openapi.json')
  assert.equal(res.statusCode, 200)
  const doc = res.json()
  assert.equal(doc.openapi, '3.1.0')
  assert.deepEqual(doc.components.securitySchemes.bearerAuth, { type: 'http', scheme: 'bearer' })
  const list = doc.paths['/api/v1/participants'].get
  assert.equal(list.operationId, 'listParticipants')
  const cohort = list.parameters.find((p: { name: string }) => p.name === 'cohort')
  assert.equal(cohort.in, 'query')
  assert.equal(cohort.schema.pattern, '^[0-9]{4}-(autumn|spring)$')
  const course = list.parameters.find((p: { name: string }) => p.name === 'course_identifier')
  assert.ok(course.schema.enum.includes('npq-headship'))
  const row = list.responses['200'].content['application/json'].schema
  assert.ok(JSON.stringify(row).includes('participant_id'))
  assert.ok(doc.paths['/api/v1/delivery-partners'].get)
})

test('no token, a wrong token or a revoked token is a 401 JSON error', async () => {
  for (const token of [undefined, 'npq_not-a-real-token']) {
    const res = await get('/api/v1/participants', token)
    assert.equal(res.statusCode, 401)
    assert.equal(res.json().error.code, 'unauthenticated')
  }
})

test('a lead provider’s token sees its own participants only', async () => {
  const edt = (await get('/api/v1/participants', edtToken)).json().data as { participant_id: string; course_identifier: string }[]
  const ucl = (await get('/api/v1/participants', uclToken)).json().data as { participant_id: string }[]
  assert.ok(edt.length > 0 && ucl.length > 0)
  const edtIds = new Set(edt.map((r) => r.participant_id))
  assert.ok(ucl.every((r) => !edtIds.has(r.participant_id)))
  const sorted = [...edt].sort((a, b) => a.participant_id.localeCompare(b.participant_id))
  assert.deepEqual(
    edt.map((r) => r.participant_id),
    sorted.map((r) => r.participant_id),
  )

  const filtered = (await get('/api/v1/participants?cohort=2022-autumn&course_identifier=npq-headship', edtToken)).json().data as {
    cohort: string
    course_identifier: string
  }[]
  assert.ok(filtered.length > 0)
  assert.ok(filtered.every((r) => r.cohort === '2022-autumn' && r.course_identifier === 'npq-headship'))

  const partners = (await get('/api/v1/delivery-partners', edtToken)).json().data as { delivery_partner_id: string }[]
  assert.deepEqual(partners.map((p) => p.delivery_partner_id).sort(), ['east-coast-tsh', 'north-star-tsh'])
})

test('a bad query is a 400 with a code and the field named', async () => {
  const res = await get('/api/v1/participants?cohort=autumn-2022&course_identifier=npq-nonsense', edtToken)
  assert.equal(res.statusCode, 400)
  const { error } = res.json()
  assert.equal(error.code, 'validation-failed')
  assert.deepEqual(error.fields.map((f: { field: string }) => f.field).sort(), ['query.cohort', 'query.course_identifier'])
})

test('tokens are created and revoked by lead-provider admins in the pages; the secret is shown once', async () => {
  const admin = new Agent(app)
  await admin.signIn('lead-provider-admin@demo.test', 'demo-password-for-tests')
  const empty = await admin.post('/lead-provider/api-tokens', { name: '' })
  assert.equal(empty.statusCode, 400)
  assert.match(empty.body, /Enter a name for the token/)
  const created = await admin.post('/lead-provider/api-tokens', { name: 'Calendar sync' })
  const token = /id="new-token">([^<]+)</.exec(created.body)![1]!
  assert.equal((await get('/api/v1/delivery-partners', token)).statusCode, 200)
  const page = await admin.get('/lead-provider/api-tokens')
  assert.doesNotMatch(page.body, new RegExp(token))
  const row = await services.db.selectFrom('api_tokens').select('id').where('name', '=', 'Calendar sync').executeTakeFirstOrThrow()
  assert.match(page.body, new RegExp(`action="/lead-provider/api-tokens/${row.id}/revoke"`))
  assert.equal(
    (await admin.post(`/lead-provider/api-tokens/${row.id}/revoke`, {}, { csrfFrom: '/lead-provider/api-tokens' })).statusCode,
    303,
  )
  assert.equal((await get('/api/v1/delivery-partners', token)).statusCode, 401)
  const audit = await services.db.selectFrom('audit_events').select('action').where('entity_id', '=', row.id).orderBy('id').execute()
  assert.deepEqual(
    audit.map((a) => a.action),
    ['api-token.created', 'api-token.revoked'],
  )
})

test('the catalogue API shows a lead provider its own designs, as the CLI does', async () => {
  const list = (await get('/api/v1/catalogue/designs', edtToken)).json().data as { course_identifier: string; design_version: number }[]
  assert.ok(list.some((d) => d.course_identifier === 'npq-headship' && d.design_version === 1))
  const npqh = await get('/api/v1/catalogue/designs/npq-headship?cohort=2022-autumn', edtToken)
  assert.equal(npqh.statusCode, 200)
  assert.equal(npqh.json().credits_available, 237)
  assert.equal(npqh.json().cohort.outputs[0].review_date, '2022-11-24')
  const ucl = await get('/api/v1/catalogue/designs/npq-headship', uclToken)
  assert.equal(ucl.json().lead_provider, 'ucl')
  assert.equal(ucl.json().credits_available, 100)
  assert.equal((await get('/api/v1/catalogue/designs/npq-executive-leadership', edtToken)).statusCode, 404)
  const bad = await get('/api/v1/catalogue/designs/npq-nope?cohort=soon', edtToken)
  assert.equal(bad.statusCode, 400)
  assert.deepEqual(
    bad
      .json()
      .error.fields.map((f: { field: string }) => f.field)
      .sort(),
    ['path.course_identifier', 'query.cohort'],
  )
})
