import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Agent } from '../test-support/agent.ts'
import { startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'

// Signing in with an emailed one-time link: offered on the sign-in page, the same answer whether or not
// an account exists, the link works once, and only a few are sent per account in 15 minutes.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

const linkEmails = (to: string) =>
  services.db
    .selectFrom('email_outbox')
    .select('body')
    .where('to_address', '=', to)
    .where('subject', '=', 'Your link to sign in to the NPQ platform')
    .orderBy('created_at')
    .execute()

test('a line manager signs in with an emailed link, which works once', async () => {
  const agent = new Agent(app)
  const signIn = await agent.get('/sign-in')
  assert.match(signIn.body, /href="\/sign-in\/email-link">Email me a link to sign in</)
  const invalid = await agent.post('/sign-in/email-link', { email: 'not an email' })
  assert.equal(invalid.statusCode, 400)
  assert.match(invalid.body, /govuk-error-summary/)

  const sent = await agent.post('/sign-in/email-link', { email: 'Line-Manager@demo.test', returnTo: '/line-manager' })
  assert.equal(sent.statusCode, 200)
  assert.match(sent.body, /If there is an account for that email address/)
  const [email] = await linkEmails('line-manager@demo.test')
  const match = /\/sign-in\/link\/([A-Za-z0-9_-]+)\?returnTo=%2Fline-manager/.exec(email!.body)
  assert.ok(match, email!.body)
  const url = `/sign-in/link/${match[1]}`

  // Opening the link asks to continue (mail scanners do not use it up); continuing signs in.
  assert.equal((await agent.get(url)).statusCode, 200)
  const used = await agent.post(url, { returnTo: '/line-manager' })
  assert.equal(used.statusCode, 303)
  assert.equal(used.headers.location, '/line-manager')
  assert.equal((await agent.get('/line-manager')).statusCode, 200)

  // Once only.
  const again = new Agent(app)
  assert.equal((await again.get(url)).statusCode, 404)
  const reused = await again.post(url, {}, { csrfFrom: '/sign-in' })
  assert.equal(reused.statusCode, 404)
  assert.match(reused.body, /This link has expired/)
  assert.notEqual((await again.get('/line-manager')).statusCode, 200)
  const lm = await services.db.selectFrom('users').select('id').where('email', '=', 'line-manager@demo.test').executeTakeFirstOrThrow()
  const audit = await services.db
    .selectFrom('audit_events')
    .select('after')
    .where('entity_id', '=', lm.id)
    .where('action', '=', 'session.started')
    .execute()
  assert.ok(audit.some((a) => JSON.stringify(a.after).includes('sign-in-link')))
})

test('no account: the same answer and no email; more than three links in 15 minutes: no more are sent', async () => {
  const agent = new Agent(app)
  const nobody = await agent.post('/sign-in/email-link', { email: 'nobody@nowhere.test' })
  assert.equal(nobody.statusCode, 200)
  assert.match(nobody.body, /If there is an account for that email address/)
  assert.equal((await linkEmails('nobody@nowhere.test')).length, 0)

  for (let i = 0; i < 5; i++) {
    const r = await agent.post('/sign-in/email-link', { email: 'facilitator@demo.test' })
    assert.equal(r.statusCode, 200)
  }
  assert.equal((await linkEmails('facilitator@demo.test')).length, 3)
  // A return address elsewhere is ignored.
  const evil = await agent.get('/sign-in/email-link?returnTo=//evil.example')
  assert.doesNotMatch(evil.body, /evil/)
})
