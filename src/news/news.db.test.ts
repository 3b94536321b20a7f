import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'

// Programme news without a browser: North Star's lead and EDT's admin write news; Priya reads theirs on
// Home (course-specific news only for her course, future news only from its date, withdrawn news gone);
// bad input changes nothing; another partner's participants never see it; Markdown cannot inject script.

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
const today = londonDateOf(new Date())
const parts = (date: string) => {
  const [y, m, d] = date.split('-')
  return { 'published-day': String(Number(d)), 'published-month': String(Number(m)), 'published-year': y! }
}
const tomorrow = new Date(Date.parse(`${today}T12:00:00Z`) + 86_400_000).toISOString().slice(0, 10)

test('news from the partner and the provider reaches their participants, on its date, for its course, until withdrawn', async () => {
  const lead = await as('delivery-partner-lead@demo.test')
  const admin = await as('lead-provider-admin@demo.test')
  const count = async () => (await services.db.selectFrom('programme_news').select('id').execute()).length
  const before = await count()

  // Bad input: every problem at once, nothing written.
  const bad = await lead.post(
    '/delivery-partner/news',
    { title: '', body: '', course: 'npq-nonsense', 'published-day': '31', 'published-month': '2', 'published-year': '2026' },
    { csrfFrom: '/delivery-partner/news/new' },
  )
  assert.equal(bad.statusCode, 400)
  assert.match(bad.body, /govuk-error-summary/)
  assert.match(bad.body, /Enter a title/)
  assert.match(bad.body, /Enter the news/)
  assert.match(bad.body, /Choose one of your courses, or all courses/)
  assert.match(bad.body, /Enter the date to publish it as a real date/)
  assert.equal(await count(), before)

  const post = (agent: Agent, base: string, form: Record<string, string>) => agent.post(base, form, { csrfFrom: `${base}/new` })
  assert.equal(
    (
      await post(lead, '/delivery-partner/news', {
        title: 'Hub conference on 12 March',
        body: 'Book your place **now**.\n\n<script>alert(1)</script>',
        course: '',
        ...parts(today),
      })
    ).statusCode,
    303,
  )
  assert.equal(
    (await post(lead, '/delivery-partner/news', { title: 'Tomorrow’s news', body: 'Not yet.', course: '', ...parts(tomorrow) })).statusCode,
    303,
  )
  assert.equal(
    (
      await post(admin, '/lead-provider/news', {
        title: 'NPQH module 3 is live',
        body: 'For headship.',
        course: 'npq-headship',
        ...parts(today),
      })
    ).statusCode,
    303,
  )
  assert.equal(
    (
      await post(admin, '/lead-provider/news', {
        title: 'For senior leaders only',
        body: 'NPQSL.',
        course: 'npq-senior-leadership',
        ...parts(today),
      })
    ).statusCode,
    303,
  )

  const priya = await as('participant@demo.test')
  const home = (await priya.get('/participant')).body
  assert.match(home, /Hub conference on 12 March/)
  assert.match(home, /<strong>now<\/strong>/)
  assert.ok(!home.includes('<script>alert(1)</script>'), 'raw HTML is escaped')
  assert.match(home, /NPQH module 3 is live/)
  assert.ok(!home.includes('For senior leaders only'), 'another course’s news')
  assert.ok(!(await priya.get('/participant/news')).body.includes('Tomorrow’s news'), 'not before its date')

  // Another partner's participant (the UCL demo participant is North Star's too; make one at East Coast).
  const list = await lead.get('/delivery-partner/news')
  assert.match(list.body, /Hub conference on 12 March/)
  const id = (
    await services.db.selectFrom('programme_news').select('id').where('title', '=', 'Hub conference on 12 March').executeTakeFirstOrThrow()
  ).id
  // The provider's admin cannot withdraw the partner's news.
  assert.equal((await admin.post(`/lead-provider/news/${id}/withdraw`, {}, { csrfFrom: '/lead-provider/news' })).statusCode, 404)
  assert.equal((await lead.post(`/delivery-partner/news/${id}/withdraw`, {}, { csrfFrom: '/delivery-partner/news' })).statusCode, 303)
  assert.ok(!(await priya.get('/participant/news')).body.includes('Hub conference on 12 March'))
  assert.match((await lead.get('/delivery-partner/news')).body, /Withdrawn/)
  const audit = await services.db.selectFrom('audit_events').select('action').where('entity_id', '=', id).execute()
  assert.deepEqual(audit.map((a) => a.action).sort(), ['news.published', 'news.withdrawn'])

  // Participants and facilitators cannot write news.
  assert.equal((await priya.get('/delivery-partner/news')).statusCode, 403)
  assert.equal((await (await as('facilitator@demo.test')).get('/lead-provider/news/new')).statusCode, 403)
})

test('Home shows the participant’s calendar, what is due, and where to continue; Progress shows engagement against 90%', async () => {
  const sam = await as('ucl-participant@demo.test')
  const home = await sam.get('/participant')
  assert.equal(home.statusCode, 200)
  // The demo's third meeting is in three weeks: in the calendar; the second's log waits for Liam, not Sam.
  assert.match(home.body, /Line manager meeting 3/)
  assert.ok(!home.body.includes('Sign the log of meeting 2'))
  const progress = await sam.get('/participant/progress')
  assert.equal(progress.statusCode, 200)
  assert.match(progress.body, /NPQ for Leading Behaviour and Culture|Leading behaviour and culture/i)
  assert.match(progress.body, /engagement/)
  assert.match(progress.body, /(At or above 90%|more percentage points to reach the 90%)/)
  assert.match(progress.body, /Milestones/)
  const priya = await as('participant@demo.test')
  const priyaHome = (await priya.get('/participant')).body
  assert.match(priyaHome, /What is due/)
  assert.match(priyaHome, /Your calendar/)
  // Another person's progress is never shown: the page is always the signed-in participant's own.
  assert.ok(!(await priya.get('/participant/progress')).body.includes('Sam Whitfield'))
  assert.equal((await (await as('facilitator@demo.test')).get('/participant/progress')).statusCode, 403)
})
