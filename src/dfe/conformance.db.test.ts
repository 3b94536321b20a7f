import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { DfeRequestKind } from '../db/schema.ts'
import { systemPrincipal as by } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { startPrism, type Prism } from './prism.ts'
import { queueDfeRequest } from './requests.ts'
import { DfeSync } from './sync.ts'
import { dfeDeclaration, dfeParticipant, dfeWorld, type DfeWorld } from './test-fixtures.ts'

// Every kind of request the platform sends, built from real rows and sent to Prism mocking DfE's v3
// spec with --errors: a 2xx from Prism means the method, path, query, token and body conform.

let services: TestServices
let prism: Prism
let world: DfeWorld
let sync: DfeSync
const token = 'conformance-test-token'

before(async () => {
  ;[services, prism] = await Promise.all([createTestServices(), startPrism()])
  world = await dfeWorld(services.db)
  sync = new DfeSync(services.db, { url: prism.url, token }, services.logger, { timeoutMs: 20_000 })
})
after(async () => {
  await prism?.close()
  await services?.dispose()
})

const queue = (kind: DfeRequestKind, subjectId: string | null) =>
  services.db.transaction().execute((trx) => queueDfeRequest(trx, { leadProviderId: world.leadProviderId, kind, subjectId, queuedBy: by }))

async function sendAndExpectSent(id: string) {
  const result = await sync.send(id, { force: true })
  const attempts = await services.db
    .selectFrom('dfe_request_attempts')
    .select(['status_code', 'error'])
    .where('request_id', '=', id)
    .orderBy('attempted_at')
    .execute()
  assert.equal(result.outcome, 'sent', `${JSON.stringify(result)}\n${prism.violations().join('\n')}`)
  assert.ok(attempts.length > 0 && attempts.every((a) => a.status_code !== null && a.status_code >= 200 && a.status_code < 300))
  return services.db.selectFrom('dfe_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
}

test('declarations: started, retained and completed (with has_passed and the delivery partner) are accepted; DfE’s id is stored', async () => {
  const p = await dfeParticipant(world)
  for (const type of ['started', 'retained-1', 'retained-2', 'completed'] as const) {
    const declarationId = await dfeDeclaration(world, p, { type, hasPassed: type === 'completed' ? false : undefined })
    const request = await sendAndExpectSent(await queue('submit-declaration', declarationId))
    const attributes = (request.body as { data: { attributes: Record<string, unknown> } }).data.attributes
    assert.equal(attributes.delivery_partner_id, '524df095-f9bf-4f9d-ba4c-772545a99e60')
    assert.equal(attributes.declaration_date, '2024-11-05T00:00:00Z')
    assert.equal('has_passed' in attributes, type === 'completed')
    const declaration = await services.db
      .selectFrom('declarations')
      .select('dfe_declaration_id')
      .where('id', '=', declarationId)
      .executeTakeFirstOrThrow()
    assert.match(declaration.dfe_declaration_id ?? '', /^[0-9a-f-]{36}$/)
  }
})

test('a void goes to DfE’s id for the declaration once its submit has succeeded', async () => {
  const p = await dfeParticipant(world, { course: 'npq-leading-teaching' })
  const declarationId = await dfeDeclaration(world, p)
  const submit = await queue('submit-declaration', declarationId)
  const voiding = await queue('void-declaration', declarationId)
  assert.deepEqual(await sync.send(voiding, { force: true }), { outcome: 'skipped', reason: 'waiting-for-earlier' })
  await sendAndExpectSent(submit)
  await sendAndExpectSent(voiding)
  const declaration = await services.db
    .selectFrom('declarations')
    .select('dfe_declaration_id')
    .where('id', '=', declarationId)
    .executeTakeFirstOrThrow()
  const [attempt] = await services.db.selectFrom('dfe_request_attempts').select('id').where('request_id', '=', voiding).execute()
  assert.ok(attempt && declaration.dfe_declaration_id)
})

test('defer, resume and withdraw carry the course and DfE’s reason; change-schedule the schedule and cohort year', async () => {
  const p = await dfeParticipant(world, { course: 'npq-senco' })
  await services.db
    .insertInto('deferrals')
    .values({ participant_id: p.participantId, reason: 'parental-leave', deferred_on: '2025-01-10' })
    .execute()
  await services.db
    .insertInto('withdrawals')
    .values({ participant_id: p.participantId, reason: 'quality-of-programme-structure-not-suitable.', withdrawn_on: '2025-06-01' })
    .execute()
  for (const kind of ['defer-participant', 'resume-participant', 'withdraw-participant'] as const) {
    const request = await sendAndExpectSent(await queue(kind, p.enrolmentId))
    assert.equal(request.path, `/participants/npq/${p.participantId}/${kind.replace('-participant', '')}`)
  }
  const moved = await sendAndExpectSent(await queue('change-schedule', p.enrolmentId))
  assert.equal(moved.path, `/participants/npq/${p.participantId}/change-schedule`)
})

test('an outcome for a completed declaration, from the newest assessment result', async () => {
  const p = await dfeParticipant(world, { course: 'npq-senior-leadership' })
  const completed = await dfeDeclaration(world, p, { type: 'completed', hasPassed: false })
  await sendAndExpectSent(await queue('submit-declaration', completed))
  await services.db
    .insertInto('assessment_attempts')
    .values([
      { participant_id: p.participantId, attempt: 1, result: 'failed', marked_at: '2025-03-01T10:00:00Z' },
      { participant_id: p.participantId, attempt: 2, result: 'passed', externally_moderated_at: '2025-07-14T23:30:00Z' },
    ])
    .execute()
  const request = await sendAndExpectSent(await queue('post-outcome', completed))
  assert.deepEqual((request.body as { data: unknown }).data, {
    type: 'npq-outcome-confirmation',
    // 23:30 UTC on 14 July is 15 July in London.
    attributes: { course_identifier: 'npq-senior-leadership', state: 'passed', completion_date: '2025-07-15' },
  })
})

test('the pulls: applications, statements and declaration states, page by page', async () => {
  for (const kind of ['pull-applications', 'pull-statements'] as const) {
    await sendAndExpectSent(await queue(kind, null))
  }
})

test('Prism really checks: a body outside the spec is refused with 422 and stays queued with DfE’s words', async () => {
  const p = await dfeParticipant(world, { course: 'npq-early-years-leadership' })
  const row = await services.db
    .insertInto('dfe_requests')
    .values({
      lead_provider_id: world.leadProviderId,
      kind: 'defer-participant',
      subject_id: p.enrolmentId,
      participant_id: p.participantId,
      method: 'PUT',
      path: `/participants/npq/${p.participantId}/defer`,
      body: JSON.stringify({ data: { type: 'participant-defer', attributes: { course_identifier: p.course, reason: 'holiday' } } }),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  const result = await sync.send(row.id, { force: true })
  assert.equal(result.outcome, 'failed')
  const request = await services.db.selectFrom('dfe_requests').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow()
  assert.equal(request.status, 'queued')
  assert.match(request.last_error ?? '', /^DfE answered 422/)
  assert.ok(prism.violations().some((l) => l.includes('reason')))
})

test('applications: accept (funded place and schedule), change funded place and reject go to DfE’s application id', async () => {
  const application = (n: number, schedule: string | null) =>
    services.db
      .insertInto('applications')
      .values({
        lead_provider_id: world.leadProviderId,
        source: 'dfe',
        dfe_application_id: `0d2a8b1e-5b7c-4e8f-9a1b-00000000000${n}`,
        trn: `300000${n}`,
        full_name: `Applicant ${n}`,
        email: `applicant${n}@school.test`,
        course_identifier: 'npq-senior-leadership',
        cohort: '2025',
        eligible_for_funding: true,
        schedule_identifier: schedule,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  const accepted = await application(1, 'npq-leadership-autumn')
  const acceptRequest = await sendAndExpectSent(await queue('accept-application', accepted.id))
  assert.equal(acceptRequest.path, '/npq-applications/0d2a8b1e-5b7c-4e8f-9a1b-000000000001/accept')
  assert.deepEqual((acceptRequest.body as { data: { attributes: unknown } }).data.attributes, {
    funded_place: true,
    schedule_identifier: 'npq-leadership-autumn',
  })
  await services.db.updateTable('applications').set({ funded_place: false }).where('id', '=', accepted.id).execute()
  const change = await sendAndExpectSent(await queue('change-funded-place', accepted.id))
  assert.equal(change.path, '/npq-applications/0d2a8b1e-5b7c-4e8f-9a1b-000000000001/change-funded-place')
  assert.deepEqual(change.body, { data: { type: 'npq-application-change-funded-place', attributes: { funded_place: false } } })
  const rejected = await application(2, null)
  const rejectRequest = await sendAndExpectSent(await queue('reject-application', rejected.id))
  assert.equal(rejectRequest.path, '/npq-applications/0d2a8b1e-5b7c-4e8f-9a1b-000000000002/reject')
})
