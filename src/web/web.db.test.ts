import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { loadDemoData } from '../demo/demo.ts'
import { buildApp } from '../routes.ts'
import { createApp } from './app.ts'
import { Agent, textOf } from '../test-support/agent.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'

const password = 'demo-password-for-tests'
let services: TestServices
let app: FastifyInstance

before(async () => {
  services = await createTestServices()
  await loadDemoData(services)
  app = await buildApp(services)
  app.get('/test-only/boom', { config: { access: 'public' } }, () => {
    throw new Error('kaboom: secret internals')
  })
  await app.ready()
})
after(async () => {
  await app.close()
  await services.dispose()
})

test('the start page invites people to sign in', async () => {
  const res = await new Agent(app).get('/')
  assert.equal(res.statusCode, 200)
  assert.match(res.body, /Run your National Professional Qualifications/)
  assert.match(res.body, /href="\/sign-in"/)
})

test('a wrong password shows the GOV.UK error summary without saying whether the account exists', async () => {
  const agent = new Agent(app)
  const wrong = await agent.post('/sign-in', { email: 'participant@demo.test', password: 'not the password' })
  const unknown = await agent.post('/sign-in', { email: 'no-such-person@demo.test', password: 'not the password' })
  for (const res of [wrong, unknown]) {
    assert.equal(res.statusCode, 400)
    assert.match(res.body, /<title>Error: Sign in/)
    assert.match(res.body, /govuk-error-summary/)
    assert.match(res.body, /href="#email">Enter a correct email address and password/)
  }
  assert.equal(agent.cookie('npq_session'), undefined)
})

test('missing fields are named in the error summary', async () => {
  const res = await new Agent(app).post('/sign-in', { email: '', password: '' })
  assert.equal(res.statusCode, 400)
  assert.match(res.body, /href="#email">Enter your email address/)
  assert.match(res.body, /href="#password">Enter your password/)
})

test('each role signs in to its own home page with navigation for that role', async () => {
  const homes: [string, string, RegExp][] = [
    ['participant@demo.test', '/participant', /Your NPQ/],
    ['line-manager@demo.test', '/line-manager', /Participants you support/],
    ['facilitator@demo.test', '/facilitator', /North Star Teaching School Hub/],
    ['delivery-partner-lead@demo.test', '/delivery-partner', /North Star Teaching School Hub/],
    ['lead-provider-admin@demo.test', '/lead-provider', /Education Development Trust/],
    ['assessor@demo.test', '/assessor', /Education Development Trust/],
    ['moderator@demo.test', '/moderator', /Education Development Trust/],
    ['school-contact@demo.test', '/school', /Oakfield Primary School/],
  ]
  for (const [email, home, heading] of homes) {
    const agent = new Agent(app)
    const signedIn = await agent.signIn(email, password)
    assert.equal(signedIn.headers.location, '/')
    const root = await agent.get('/')
    assert.equal(root.headers.location, home, email)
    const page = await agent.get(home)
    assert.equal(page.statusCode, 200, email)
    assert.match(textOf(page.body, 'h1') ?? '', heading, email)
    assert.match(page.body, /govuk-service-navigation/)
    assert.match(page.body, />\s*Sign out\s*</)
  }
})

test('navigation groups a role’s pages; each group has a landing page and its pages a sub-navigation', async () => {
  const admin = new Agent(app)
  await admin.signIn('lead-provider-admin@demo.test', password)
  const home = await admin.get('/lead-provider')
  const topLinks = [...home.body.matchAll(/class="govuk-service-navigation__link" href="([^"]+)"/g)].map((m) => m[1])
  assert.deepEqual(topLinks, [
    '/lead-provider',
    '/lead-provider/participants',
    '/lead-provider/delivery',
    '/lead-provider/learning',
    '/lead-provider/assessments',
    '/lead-provider/finance',
    '/lead-provider/settings',
  ])
  assert.doesNotMatch(home.body, /moj-sub-navigation/)

  const landings: [string, string, string[]][] = [
    [
      '/lead-provider/participants',
      'Participants',
      ['applications', 'onboarding', 'lifecycle', 'groups', 'projects', 'meetings', 'escalations'],
    ],
    ['/lead-provider/delivery', 'Delivery', ['dashboard', 'events', 'reports', 'imports']],
    ['/lead-provider/learning', 'Learning', ['content', 'forums', 'surveys', 'news', 'contacts']],
    ['/lead-provider/assessments', 'Assessment', ['assessment', 'assessment/marking']],
    ['/lead-provider/finance', 'Finance', ['declarations', 'money', 'dfe-sync']],
    ['/lead-provider/settings', 'Settings', ['catalogue', 'users', 'api-tokens', 'privacy']],
  ]
  for (const [url, heading, pages] of landings) {
    const page = await admin.get(url)
    assert.equal(page.statusCode, 200, url)
    assert.equal(textOf(page.body, 'h1'), heading)
    assert.match(page.body, new RegExp(`class="govuk-service-navigation__link" href="${url}" aria-current="true"`))
    const main = /<main[\s\S]*<\/main>/.exec(page.body)![0]
    assert.deepEqual(
      [...main.matchAll(/<a class="govuk-link" href="\/lead-provider\/([^"]+)"/g)].map((m) => m[1]),
      pages,
      url,
    )
    // A page inside the group: the group is current in the top bar, its pages below it.
    const inside = await admin.get(`/lead-provider/${pages[0]}`)
    assert.equal(inside.statusCode, 200, pages[0])
    assert.match(inside.body, new RegExp(`class="govuk-service-navigation__link" href="${url}" aria-current="true"`))
    assert.match(inside.body, new RegExp(`<nav class="moj-sub-navigation[^"]*" aria-label="${heading}"`))
    assert.match(inside.body, new RegExp(`<a class="moj-sub-navigation__link" aria-current="page" href="/lead-provider/${pages[0]}">`))
  }

  const lead = new Agent(app)
  await lead.signIn('delivery-partner-lead@demo.test', password)
  const participants = await lead.get('/delivery-partner/participants')
  assert.equal(participants.statusCode, 200)
  assert.match(participants.body, /href="\/delivery-partner\/escalations"[\s\S]*href="\/delivery-partner\/lifecycle"/)
  assert.equal((await lead.get('/lead-provider/finance')).statusCode, 403, 'another role’s group')
  assert.equal((await new Agent(app).get('/lead-provider/settings')).statusCode, 303, 'signed out')
})

test('the participant sees both enrolments (NPQH and EHCO at once)', async () => {
  const agent = new Agent(app)
  await agent.signIn('participant@demo.test', password)
  const page = await agent.get('/participant')
  assert.match(page.body, /NPQ for Headship/)
  assert.match(page.body, /Early Headship Coaching Offer/)
})

test('a page for another role is forbidden, and shows nothing of it', async () => {
  const agent = new Agent(app)
  await agent.signIn('participant@demo.test', password)
  for (const url of ['/lead-provider', '/lead-provider/users', '/lead-provider/api-tokens', '/delivery-partner', '/school']) {
    const res = await agent.get(url)
    assert.equal(res.statusCode, 403, url)
    assert.match(res.body, /You do not have permission to view this page/)
    assert.doesNotMatch(res.body, /East Coast|Laura Bennett|Oakfield/)
  }
})

test('signed-out visitors are sent to sign in, and come back afterwards', async () => {
  const agent = new Agent(app)
  const res = await agent.get('/lead-provider/users')
  assert.equal(res.statusCode, 303)
  assert.equal(res.headers.location, '/sign-in?returnTo=%2Flead-provider%2Fusers')
  const signIn = await agent.get(res.headers.location as string)
  assert.match(signIn.body, /name="returnTo" value="\/lead-provider\/users"/)
  const done = await agent.post('/sign-in', { email: 'lead-provider-admin@demo.test', password, returnTo: '/lead-provider/users' })
  assert.equal(done.headers.location, '/lead-provider/users')
  const offsite = await new Agent(app).post('/sign-in', { email: 'lead-provider-admin@demo.test', password, returnTo: '//evil.example' })
  assert.equal(offsite.headers.location, '/')
})

test('a form without a valid CSRF token is refused and changes nothing', async () => {
  const agent = new Agent(app)
  const res = await agent.post('/sign-in', { email: 'participant@demo.test', password }, { csrf: null })
  assert.equal(res.statusCode, 403)
  assert.match(res.body, /form has expired/)
  assert.equal(agent.cookie('npq_session'), undefined)
  const forged = await agent.post('/sign-in', { email: 'participant@demo.test', password }, { csrf: 'forged-token' })
  assert.equal(forged.statusCode, 403)
})

test('signing out ends the session on the server, and a new sign-in gets a new session', async () => {
  const agent = new Agent(app)
  await agent.signIn('facilitator@demo.test', password)
  const first = agent.cookie('npq_session')!
  await agent.signIn('facilitator@demo.test', password)
  const second = agent.cookie('npq_session')!
  assert.notEqual(first, second)
  const stale = await app.inject({ method: 'GET', url: '/facilitator', headers: { cookie: `npq_session=${first}` } })
  assert.equal(stale.statusCode, 303, 'the session replaced at sign-in no longer works')

  const out = await agent.post('/sign-out', {}, { csrfFrom: '/facilitator' })
  assert.equal(out.headers.location, '/signed-out')
  const replay = await app.inject({ method: 'GET', url: '/facilitator', headers: { cookie: `npq_session=${second}` } })
  assert.equal(replay.statusCode, 303)
  const user = await services.db.selectFrom('users').select('id').where('email', '=', 'facilitator@demo.test').executeTakeFirstOrThrow()
  const audit = await services.db
    .selectFrom('audit_events')
    .select('action')
    .where('entity_id', '=', user.id)
    .where('action', 'like', 'session.%')
    .orderBy('id')
    .execute()
  assert.deepEqual(audit.map((a) => a.action).slice(-3), ['session.started', 'session.started', 'session.ended'])
})

test('session cookies are httpOnly and SameSite', async () => {
  const res = await new Agent(app).post('/sign-in', { email: 'assessor@demo.test', password })
  const cookie = res.cookies.find((c) => c.name === 'npq_session')!
  assert.equal(cookie.httpOnly, true)
  assert.equal(cookie.sameSite, 'Lax')
})

test('security headers: a CSP with a per-request nonce and no unsafe-inline', async () => {
  const res = await new Agent(app).get('/sign-in')
  const csp = String(res.headers['content-security-policy'])
  assert.doesNotMatch(csp, /unsafe-inline/)
  const nonce = /'nonce-([^']+)'/.exec(csp)?.[1]
  assert.ok(nonce)
  assert.match(res.body, new RegExp(`<script nonce="${nonce}">`))
  assert.match(csp, /frame-ancestors 'none'/)
  assert.equal(res.headers['x-content-type-options'], 'nosniff')
  const again = await new Agent(app).get('/sign-in')
  assert.notEqual(/'nonce-([^']+)'/.exec(String(again.headers['content-security-policy']))?.[1], nonce)
})

test('an unknown page is a GOV.UK 404; under /api it is JSON', async () => {
  const page = await new Agent(app).get('/no/such/page')
  assert.equal(page.statusCode, 404)
  assert.match(page.body, /Page not found/)
  assert.match(page.body, /govuk-template/)
  const api = await app.inject({ method: 'GET', url: '/api/v1/no-such-thing' })
  assert.equal(api.statusCode, 404)
  assert.deepEqual(api.json(), { error: { code: 'not-found', message: 'Not found' } })
})

test('an unhandled error shows a 500 page with a reference that is in the log, and no stack trace', async () => {
  const res = await new Agent(app).get('/test-only/boom')
  assert.equal(res.statusCode, 500)
  assert.doesNotMatch(res.body, /kaboom|at \w+ \(/)
  const reference = /id="error-reference">([^<]+)</.exec(res.body)?.[1]
  assert.ok(reference)
  assert.ok(services.logLines.some((line) => line.includes(reference) && line.includes('kaboom')))
})

test('a route added without an access rule stops the app from starting', async () => {
  const bare = await createApp(services)
  assert.throws(() => bare.get('/forgotten', async () => 'open to all?'), /has no access rule/)
  await bare.close()
})

test('/health reports the database', async () => {
  const res = await app.inject({ method: 'GET', url: '/health' })
  assert.equal(res.statusCode, 200)
  assert.deepEqual(res.json(), { status: 'ok', database: 'ok' })
})

test('invitations through the pages: a lead-provider admin invites, the email link sets a password, the person lands on their home', async () => {
  const admin = new Agent(app)
  await admin.signIn('lead-provider-admin@demo.test', password)
  const form = await admin.get('/lead-provider/users/invite')
  const eastCoast = /value="([^"]+)"[^>]*>East Coast Teaching School Hub/.exec(form.body)![1]!

  const invalid = await admin.post('/lead-provider/users/invite', { fullName: '', email: 'not-an-email', role: '', organisationId: '' })
  assert.equal(invalid.statusCode, 400)
  assert.match(invalid.body, /href="#fullName">Enter the person’s full name/)
  assert.match(invalid.body, /href="#email">Enter an email address in the correct format/)
  assert.match(invalid.body, /href="#role">Select a role/)

  const wrongKind = await admin.post('/lead-provider/users/invite', {
    fullName: 'Ed Lead',
    email: 'ed.lead@east.test',
    role: 'assessor',
    organisationId: eastCoast,
  })
  assert.equal(wrongKind.statusCode, 400)
  assert.match(wrongKind.body, /must belong to a lead provider/)

  const sent = await admin.post('/lead-provider/users/invite', {
    fullName: 'Ed Lead',
    email: 'ed.lead@east.test',
    role: 'delivery-partner-lead',
    organisationId: eastCoast,
  })
  assert.equal(sent.statusCode, 303)
  const list = await admin.get(sent.headers.location as string)
  assert.match(list.body, /Invitation sent to ed.lead@east.test/)
  assert.match(list.body, /Ed Lead/)

  const emails = await admin.get('/dev/emails')
  const emailUrl = /href="(\/dev\/emails\/[^"]+)">You have been invited/.exec(emails.body)![1]!
  const email = await admin.get(emailUrl)
  const link = /href="http:\/\/localhost:3000(\/set-password\/[^"]+)"/.exec(email.body)![1]!

  const invitee = new Agent(app)
  const mismatch = await invitee.post(link, { password: 'a lovely long password', confirmPassword: 'something else entirely' })
  assert.equal(mismatch.statusCode, 400)
  assert.match(mismatch.body, /The passwords do not match/)
  const done = await invitee.post(link, { password: 'a lovely long password', confirmPassword: 'a lovely long password' })
  assert.equal(done.statusCode, 303)
  const home = await invitee.get('/')
  assert.equal(home.headers.location, '/delivery-partner')
  assert.match((await invitee.get('/delivery-partner')).body, /East Coast Teaching School Hub/)
  assert.equal((await new Agent(app).get(link)).statusCode, 404, 'the link works once')
})

test('a delivery-partner lead can invite facilitators to their own hub only', async () => {
  const lead = new Agent(app)
  await lead.signIn('delivery-partner-lead@demo.test', password)
  const form = await lead.get('/delivery-partner/users/invite')
  assert.doesNotMatch(form.body, /Assessor|East Coast/)
  const northStar = /value="([^"]+)"[^>]*>North Star Teaching School Hub/.exec(form.body)![1]!
  const ok = await lead.post('/delivery-partner/users/invite', {
    fullName: 'Fran Fac',
    email: 'fran@north.test',
    role: 'facilitator',
    organisationId: northStar,
  })
  assert.equal(ok.statusCode, 303)
  const other = await services.db.selectFrom('organisations').select('id').where('code', '=', 'east-coast-tsh').executeTakeFirstOrThrow()
  const denied = await lead.post(
    '/delivery-partner/users/invite',
    { fullName: 'Sly', email: 'sly@east.test', role: 'facilitator', organisationId: other.id },
    { csrfFrom: '/delivery-partner/users/invite' },
  )
  assert.equal(denied.statusCode, 403)
  assert.equal(await services.db.selectFrom('users').select('id').where('email', '=', 'sly@east.test').executeTakeFirst(), undefined)
})
