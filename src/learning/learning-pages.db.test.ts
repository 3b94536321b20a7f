import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { systemPrincipal } from '../test-support/fixtures.ts'
import { startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'
import { correctLearningRecord } from './corrections.ts'

// The participant's course page: what they have completed, "Mark as complete" for self-study, and
// video progress posted as JSON.

const password = 'demo-password-for-tests'
const coursePage = '/participant/courses/npq-headship'
let services: TestServices
let app: FastifyInstance

let close: () => Promise<void>

before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

async function participant() {
  const agent = new Agent(app)
  await agent.signIn('participant@demo.test', password)
  return agent
}

/** The status tag and whether a "Mark as complete" button is shown, in the row of an activity. */
function rowOf(html: string, code: string): { status: string | null; button: boolean } {
  const start = html.indexOf(`id="activity-${code}"`)
  assert.ok(start > 0, `no row for ${code}`)
  const row = html.slice(start, html.indexOf('</tr>', start))
  const tag = /<strong class="govuk-tag[^"]*">\s*([^<]*?)\s*<\/strong>/.exec(row)
  return { status: tag ? tag[1]! : null, button: /Mark as complete/.test(row) }
}

const priya = () => services.db.selectFrom('participants').select('id').where('email', '=', 'participant@demo.test')
/** The demo participant's records of an activity (the demo data has completed most of the course for her). */
const recordsOf = (code: string) =>
  services.db
    .selectFrom('learning_records')
    .selectAll()
    .where('participant_id', '=', priya())
    .where('activity_code', '=', code)
    .orderBy('recorded_at')
    .execute()

const progress = (agent: Agent, code: string, payload: Record<string, unknown>) =>
  app.inject({
    method: 'POST',
    url: `${coursePage}/activities/${code}/progress`,
    payload,
    headers: { cookie: agent.cookieHeader(), 'content-type': 'application/json' },
  })

test('the course page shows each self-study activity’s status, and no button for events', async () => {
  const agent = await participant()
  const page = await agent.get(coursePage)
  assert.equal(page.statusCode, 200)
  assert.deepEqual(rowOf(page.body, 'NPQH-B4-REC-4.1'), { status: 'Not started', button: true })
  assert.deepEqual(rowOf(page.body, 'NPQH-B1-S1.1b'), { status: 'Completed', button: false })
  assert.deepEqual(rowOf(page.body, 'NPQH-B4-VIDEO'), { status: 'Completed', button: false })
  assert.deepEqual(rowOf(page.body, 'NPQH-B1-F2F'), { status: null, button: false })
  assert.match(page.body, /Mark as complete<span class="govuk-visually-hidden"> for Recorded webinar/)
  assert.match(page.body, /href="\/participant\/learn\/npq-headship">Go to the course content in Learn/)
})

test('a participant marks a self-study activity as complete: an automatic record at now, audited, shown as Completed', async () => {
  const agent = await participant()
  const before = Date.now()
  const res = await agent.post(`${coursePage}/activities/NPQH-B4-REC-4.1/complete`, {}, { csrfFrom: coursePage })
  assert.equal(res.statusCode, 303)
  assert.equal(res.headers.location, `${coursePage}#activity-NPQH-B4-REC-4.1`)
  const [record] = await recordsOf('NPQH-B4-REC-4.1')
  assert.ok(record)
  assert.equal(record.source, 'automatic')
  assert.equal(record.progress_percent, null)
  assert.equal(record.course_identifier, 'npq-headship')
  assert.ok(new Date(record.occurred_at).getTime() >= before - 1000)
  const user = await services.db.selectFrom('users').select('id').where('email', '=', 'participant@demo.test').executeTakeFirstOrThrow()
  assert.equal(record.recorded_by, user.id)
  const audit = await services.db.selectFrom('audit_events').selectAll().where('entity_id', '=', record.id).executeTakeFirstOrThrow()
  assert.equal(audit.action, 'learning-record.created')
  assert.equal(audit.actor_user_id, user.id)

  const page = await agent.get(coursePage)
  assert.deepEqual(rowOf(page.body, 'NPQH-B4-REC-4.1'), { status: 'Completed', button: false })
})

test('video progress is posted as JSON with the CSRF token, and shown as In progress', async () => {
  // Her Block 4 video records were entered in error: retracted, they no longer count.
  for (const record of await recordsOf('NPQH-B4-VIDEO')) {
    await services.db
      .transaction()
      .execute((trx) => correctLearningRecord(trx, systemPrincipal, record.id, { retract: true, reason: 'test' }))
  }
  const agent = await participant()
  assert.deepEqual(rowOf((await agent.get(coursePage)).body, 'NPQH-B4-VIDEO'), { status: 'Not started', button: true })
  const csrf = csrfToken((await agent.get(coursePage)).body)
  const res = await progress(agent, 'NPQH-B4-VIDEO', { percent: 40, _csrf: csrf })
  assert.equal(res.statusCode, 200, res.body)
  assert.deepEqual(res.json(), { data: { activity_code: 'NPQH-B4-VIDEO', progress_percent: 40, completed: false } })
  const record = (await recordsOf('NPQH-B4-VIDEO')).at(-1)!
  assert.equal(Number(record.progress_percent), 40)
  assert.equal(record.source, 'automatic')
  assert.deepEqual(rowOf((await agent.get(coursePage)).body, 'NPQH-B4-VIDEO'), { status: 'In progress 40%', button: true })

  const done = await progress(agent, 'NPQH-B4-VIDEO', { percent: 100, _csrf: csrf })
  assert.equal(done.json().data.completed, true)
  assert.deepEqual(rowOf((await agent.get(coursePage)).body, 'NPQH-B4-VIDEO'), { status: 'Completed', button: false })

  for (const percent of [120, -1, 'half', null]) {
    const bad = await progress(agent, 'NPQH-B4-VIDEO', { percent, _csrf: csrf })
    assert.equal(bad.statusCode, 400, String(percent))
    assert.equal(bad.json().error.code, 'validation-failed')
    assert.equal(bad.json().error.fields[0].field, 'percent')
  }
  const count = (await recordsOf('NPQH-B4-VIDEO')).length
  const forged = await progress(agent, 'NPQH-B4-VIDEO', { percent: 50 })
  assert.equal(forged.statusCode, 403)
  assert.equal((await recordsOf('NPQH-B4-VIDEO')).length, count)
})

test('events, unknown activities, other people and signed-out visitors cannot record', async () => {
  const agent = await participant()
  const event = await agent.post(`${coursePage}/activities/NPQH-B1-F2F/complete`, {}, { csrfFrom: coursePage })
  assert.equal(event.statusCode, 400)
  assert.match(event.body, /recorded by your facilitator/)
  const unknown = await agent.post(`${coursePage}/activities/NPQH-B9-NOPE/complete`, {}, { csrfFrom: coursePage })
  assert.equal(unknown.statusCode, 404)
  const otherCourse = await agent.post(
    '/participant/courses/npq-senior-leadership/activities/NPQSL-B1-VIDEO/complete',
    {},
    { csrfFrom: coursePage },
  )
  assert.equal(otherCourse.statusCode, 404)
  const noCsrf = await agent.post(`${coursePage}/activities/NPQH-B4-REC-4.2/complete`, {}, { csrf: null })
  assert.equal(noCsrf.statusCode, 403)
  assert.equal((await recordsOf('NPQH-B4-REC-4.2')).length, 0)

  // The line manager can see the participant, but only the participant records their own learning.
  const lineManager = new Agent(app)
  await lineManager.signIn('line-manager@demo.test', password)
  const res = await lineManager.post(`${coursePage}/activities/NPQH-B4-REC-4.2/complete`, {}, { csrfFrom: '/line-manager' })
  assert.equal(res.statusCode, 404)
  assert.equal((await recordsOf('NPQH-B4-REC-4.2')).length, 0)

  const signedOut = await new Agent(app).post(`${coursePage}/activities/NPQH-B4-REC-4.2/complete`, {}, { csrf: null })
  assert.equal(signedOut.statusCode, 303)
  assert.match(String(signedOut.headers.location), /^\/sign-in/)
})
