import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'
import { addMonths } from './requests.ts'
import { londonDateOf } from '../dates/london.ts'

// The lifecycle pages without a browser: bad input shows its message and changes nothing; a withdrawal
// requested by the participant, confirmed by the lead provider, and then refused a second time.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const dateParts = (name: string, date: string) => {
  const [y, m, d] = date.split('-')
  return { [`${name}-day`]: String(Number(d)), [`${name}-month`]: String(Number(m)), [`${name}-year`]: y! }
}
const today = londonDateOf(new Date())

async function priyasCourse(course: string) {
  const e = await services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select('e.id')
    .where('p.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', course)
    .executeTakeFirstOrThrow()
  return e.id
}

test('a deferral request with a return over 12 months away, or missing answers, is refused with messages and nothing saved', async () => {
  const id = await priyasCourse('npq-headship')
  const priya = await as('participant@demo.test')
  const page = await priya.get(`/participant/enrolments/${id}/defer`)
  assert.equal(page.statusCode, 200)
  const far = await priya.post(`/participant/enrolments/${id}/defer`, {
    reason: 'career-break',
    details: 'A year abroad',
    ...dateParts('starts', today),
    ...dateParts('planned_return', addMonths(today, 14)),
  })
  assert.equal(far.statusCode, 400)
  assert.match(far.body, /no more than 12 months after the deferral starts/)
  assert.match(far.body, /href="#planned_return-day"/)
  const empty = await priya.post(`/participant/enrolments/${id}/defer`, {})
  assert.equal(empty.statusCode, 400)
  assert.match(empty.body, /Select the reason for the deferral/)
  assert.match(empty.body, /Enter the planned return date as a real date/)
  assert.equal((await services.db.selectFrom('deferral_requests').select('id').where('enrolment_id', '=', id).execute()).length, 0)
  // Someone else's course is not found.
  const lead = await as('delivery-partner-lead@demo.test')
  assert.equal((await lead.get(`/participant/enrolments/${id}`)).statusCode, 404)
})

test('a withdrawal: requested, confirmed by the lead provider with a refund note, shown on the timeline; asking again is refused', async () => {
  const id = await priyasCourse('npq-early-headship-coaching-offer')
  const priya = await as('participant@demo.test')
  const sent = await priya.post(`/participant/enrolments/${id}/withdraw`, {
    reason: 'change-in-career',
    details: 'Leaving teaching',
    ...dateParts('planned_on', today),
  })
  assert.equal(sent.statusCode, 303)
  const request = await services.db.selectFrom('withdrawal_requests').select('id').where('enrolment_id', '=', id).executeTakeFirstOrThrow()

  const admin = await as('lead-provider-admin@demo.test')
  assert.match((await admin.get('/lead-provider/lifecycle')).body, /Priya Patel/)
  const url = `/lead-provider/lifecycle/withdrawals/${request.id}`
  const noDecision = await admin.post(`${url}/decision`, {}, { csrfFrom: url })
  assert.equal(noDecision.statusCode, 400)
  assert.match(noDecision.body, /Select your decision/)
  const confirmed = await admin.post(`${url}/decision`, { decision: 'approve', refund_note: 'No refund: DfE funded' }, { csrfFrom: url })
  assert.equal(confirmed.statusCode, 303)
  assert.equal(
    (await services.db.selectFrom('enrolments').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status,
    'withdrawn',
  )

  const course = await priya.get(`/participant/enrolments/${id}`)
  assert.match(course.body, /You withdrew from this course/)
  assert.match(course.body, /Withdrawal confirmed/)
  assert.match(course.body, /Group 1, facilitated by/, 'her delivery partner’s group and its facilitator')
  assert.doesNotMatch(course.body, /Request to withdraw/)
  const again = await priya.post(
    `/participant/enrolments/${id}/withdraw`,
    { reason: 'change-in-career', ...dateParts('planned_on', today) },
    { csrfFrom: `/participant/enrolments/${id}` },
  )
  assert.equal(again.statusCode, 400)
  assert.match(again.body, /already withdrawn/)
  // Her learning on that course is read-only now.
  const learn = await priya.post(
    '/participant/courses/npq-early-headship-coaching-offer/activities/ANY/complete',
    {},
    { csrfFrom: `/participant/enrolments/${id}` },
  )
  assert.equal(learn.statusCode, 409)
  // Signing in, she is told why that course is closed; its content says so too, without buttons.
  const home = await priya.get('/participant')
  assert.match(home.body, /You withdrew from the (NPQ )?Early Headship Coaching Offer on \d+ \w+ \d{4}\. You can no longer use this course/)
  const content = await priya.get('/participant/courses/npq-early-headship-coaching-offer')
  assert.match(content.body, /id="course-notice"/)
  assert.doesNotMatch(content.body, /Mark as complete/)
  // Priya still signs in and uses her other course.
  assert.equal((await priya.get(`/participant/enrolments/${await priyasCourse('npq-headship')}`)).statusCode, 200)

  // The lead provider reverses it (recorded in error): a reason is needed; others cannot.
  const page = `/lead-provider/lifecycle/enrolments/${id}`
  assert.match((await admin.get(page)).body, /Reinstate the participant/)
  const noReason = await admin.post(`${page}/reinstate`, { reason: '', ...dateParts('on', today) }, { csrfFrom: page })
  assert.equal(noReason.statusCode, 400)
  assert.match(noReason.body, /Enter why the participant is reinstated/)
  const lead = await as('delivery-partner-lead@demo.test')
  const notTheirs = await lead.post(`${page}/reinstate`, { reason: 'x', ...dateParts('on', today) }, { csrfFrom: '/delivery-partner' })
  assert.equal(notTheirs.statusCode, 404)
  const selfReinstate = await priya.post(
    `${page}/reinstate`,
    { reason: 'x', ...dateParts('on', today) },
    { csrfFrom: `/participant/enrolments/${id}` },
  )
  assert.equal(selfReinstate.statusCode, 404)
  assert.equal(
    (await services.db.selectFrom('enrolments').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status,
    'withdrawn',
  )
  const reinstated = await admin.post(
    `${page}/reinstate`,
    { reason: 'Withdrawn by mistake', ...dateParts('on', today) },
    { csrfFrom: page },
  )
  assert.equal(reinstated.statusCode, 303)
  const back = await priya.get(`/participant/enrolments/${id}`)
  assert.match(back.body, /id="enrolment-status">Active</)
  assert.match(back.body, /Withdrawn by mistake/)
})
