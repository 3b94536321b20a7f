import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { buildApp } from '../routes.ts'
import { Agent, textOf } from '../test-support/agent.ts'
import { organisation, person } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { SESSION_COOKIE } from '../web/app.ts'
import { LOCKOUT_FAILURES, LOCKOUT_MINUTES, LOCKOUT_WINDOW_MINUTES } from './accounts.ts'
import { lockedMessage } from './routes.ts'
import { resolveSession } from './sessions.ts'
import { hashToken } from './tokens.ts'

// Sessions and sign-in under attack: a planted session never becomes a signed-in one, signing out and
// resetting a password end sessions on the server, and repeated failures lock an address (known or
// not, in the same words) until the period ends or the password is reset.

const password = 'a long test password'
let services: TestServices
let app: FastifyInstance
let lp: string

before(async () => {
  services = await createTestServices()
  lp = await organisation(services.db, 'lead-provider', 'edt', 'Education Development Trust')
  app = await buildApp(services)
  await app.ready()
})
after(async () => {
  await app.close()
  await services.dispose()
})

let people = 0
async function newPerson(): Promise<string> {
  const email = `person-${++people}@lp.test`
  await person(services, email, 'lead-provider-admin', lp)
  return email
}

/** Whether a session cookie value gets someone into a signed-in page. */
async function signedInWith(token: string): Promise<boolean> {
  const res = await app.inject({ method: 'GET', url: '/lead-provider', headers: { cookie: `${SESSION_COOKIE}=${token}` } })
  return res.statusCode === 200
}

async function failuresAgo(email: string, minutesAgo: number[]): Promise<void> {
  for (const minutes of minutesAgo) {
    await services.db
      .insertInto('sign_in_attempts')
      .values({ email, ip: '192.0.2.1', succeeded: false, attempted_at: sql<Date>`now() - ${`${minutes} minutes`}::interval` })
      .execute()
  }
}

test('session fixation: a session id planted before sign-in is never the one after it', async () => {
  const email = await newPerson()
  // An id the attacker made up: replaced at sign-in, and it never resolves.
  const browser = new Agent(app)
  browser.setCookie(SESSION_COOKIE, 'attacker-chosen-session-id')
  await browser.signIn(email, password)
  const issued = browser.cookie(SESSION_COOKIE)!
  assert.notEqual(issued, 'attacker-chosen-session-id')
  assert.equal(await signedInWith('attacker-chosen-session-id'), false)
  assert.equal(await signedInWith(issued), true)

  // A real session planted in the victim's browser (the attacker's own) is replaced, and ended on the server.
  const attacker = new Agent(app)
  await attacker.signIn(await newPerson(), password)
  const planted = attacker.cookie(SESSION_COOKIE)!
  const victim = new Agent(app)
  victim.setCookie(SESSION_COOKIE, planted)
  await victim.signIn(email, password)
  const fresh = victim.cookie(SESSION_COOKIE)!
  assert.notEqual(fresh, planted)
  assert.equal(await signedInWith(planted), false)
  assert.equal(
    await services.db.selectFrom('sessions').select('id_hash').where('id_hash', '=', hashToken(planted)).executeTakeFirst(),
    undefined,
  )
  const user = await services.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()
  assert.equal(await resolveSession(services.db, fresh), user.id)
})

test('signing out ends the session on the server: the old cookie no longer works', async () => {
  const agent = new Agent(app)
  await agent.signIn(await newPerson(), password)
  const token = agent.cookie(SESSION_COOKIE)!
  assert.equal(await signedInWith(token), true)

  const out = await agent.post('/sign-out', {}, { csrfFrom: '/lead-provider' })
  assert.equal(out.statusCode, 303)
  assert.equal(out.headers.location, '/signed-out')
  const cleared = out.cookies.find((c) => c.name === SESSION_COOKIE)!
  assert.equal(cleared.value, '')
  // Someone who kept a copy of the cookie gets nothing.
  assert.equal(await signedInWith(token), false)
  const replay = await app.inject({ method: 'GET', url: '/lead-provider', headers: { cookie: `${SESSION_COOKIE}=${token}` } })
  assert.equal(replay.statusCode, 303)
  assert.match(replay.headers.location as string, /^\/sign-in/)
  assert.equal(
    await services.db.selectFrom('sessions').select('id_hash').where('id_hash', '=', hashToken(token)).executeTakeFirst(),
    undefined,
  )
})

test('a password reset ends every other session of the person, and starts a new one', async () => {
  const email = await newPerson()
  const laptop = new Agent(app)
  const phone = new Agent(app)
  await laptop.signIn(email, password)
  await phone.signIn(email, password)
  const old = [laptop.cookie(SESSION_COOKIE)!, phone.cookie(SESSION_COOKIE)!]

  const other = new Agent(app)
  await other.signIn(await newPerson(), password)
  await other.post('/reset-password', { email })
  const mail = await services.db
    .selectFrom('email_outbox')
    .select('body')
    .where('to_address', '=', email)
    .where('subject', '=', 'Set a new password for the NPQ platform')
    .executeTakeFirstOrThrow()
  const link = /\/set-password\/[A-Za-z0-9_-]+/.exec(mail.body)![0]
  // Someone else was signed in on this browser: that session ends too.
  const previous = other.cookie(SESSION_COOKIE)!
  const set = await other.post(link, { password: 'a new and different password', confirmPassword: 'a new and different password' })
  assert.equal(set.statusCode, 303)

  for (const token of old) assert.equal(await signedInWith(token), false)
  assert.equal(await signedInWith(previous), false)
  const fresh = other.cookie(SESSION_COOKIE)!
  assert.ok(!old.includes(fresh) && fresh !== previous)
  assert.equal(await signedInWith(fresh), true)
})

test(`lockout: ${LOCKOUT_FAILURES} failures within ${LOCKOUT_WINDOW_MINUTES} minutes lock an address, known or not`, async () => {
  const known = await newPerson()
  const unknown = 'nobody-by-that-name@lp.test'
  for (const email of [known, unknown]) {
    // Most failures earlier in the hour (before the 15-minute throttle window), the last few now.
    const now = 3
    await failuresAgo(
      email,
      Array.from({ length: LOCKOUT_FAILURES - now }, (_, i) => 40 - i),
    )
    for (let i = 0; i < now; i++) {
      assert.equal((await services.accounts.signIn(email, `wrong guess ${i}`, '198.51.100.1')).outcome, 'invalid')
    }
    assert.equal(await services.accounts.isLocked(email), true, email)
  }
  // Even the right password is refused while locked, and the attempt is not counted.
  const before = await services.db
    .selectFrom('sign_in_attempts')
    .select(sql<number>`count(*)`.as('n'))
    .executeTakeFirstOrThrow()
  assert.deepEqual(await services.accounts.signIn(known, password, '198.51.100.2'), { outcome: 'locked' })
  const afterwards = await services.db
    .selectFrom('sign_in_attempts')
    .select(sql<number>`count(*)`.as('n'))
    .executeTakeFirstOrThrow()
  assert.equal(Number(afterwards.n), Number(before.n))

  // The page says the same for an address with an account and one without, and starts no session.
  const bodies: string[] = []
  for (const email of [known, unknown]) {
    const agent = new Agent(app)
    const res = await agent.post('/sign-in', { email, password })
    assert.equal(res.statusCode, 400)
    assert.equal(agent.cookie(SESSION_COOKIE), undefined)
    assert.ok(res.body.includes(lockedMessage), email)
    bodies.push(`${textOf(res.body, 'ul', 'govuk-error-summary__list')} | ${textOf(res.body, 'p', 'govuk-error-message')}`)
  }
  assert.match(lockedMessage, /Wait 1 hour, or reset your password/)
  assert.equal(bodies[0], bodies[1])
  assert.match(bodies[0]!, /too many attempts to sign in with this email address/)
  // Someone else is not affected.
  assert.equal((await services.accounts.signIn(await newPerson(), password, '198.51.100.3')).outcome, 'signed-in')
})

test('a lock lasts its period; failures spread over more than the window, or before a success, do not lock', async () => {
  const expired = await newPerson()
  await failuresAgo(
    expired,
    Array.from({ length: LOCKOUT_FAILURES }, (_, i) => LOCKOUT_MINUTES + 1 + i),
  )
  assert.equal(await services.accounts.isLocked(expired), false)
  assert.equal((await services.accounts.signIn(expired, password, '198.51.100.4')).outcome, 'signed-in')

  const spread = await newPerson()
  const step = Math.ceil((LOCKOUT_WINDOW_MINUTES + 10) / (LOCKOUT_FAILURES - 1))
  await failuresAgo(
    spread,
    Array.from({ length: LOCKOUT_FAILURES }, (_, i) => 1 + i * step),
  )
  assert.equal(await services.accounts.isLocked(spread), false)

  // A successful sign-in starts the count again.
  const careless = await newPerson()
  await failuresAgo(careless, [50, 45, 40, 35, 30, 29, 28, 27, 26])
  assert.equal((await services.accounts.signIn(careless, password, '198.51.100.5')).outcome, 'signed-in')
  assert.equal((await services.accounts.signIn(careless, 'one more slip', '198.51.100.5')).outcome, 'invalid')
  assert.equal(await services.accounts.isLocked(careless), false)
})

test('a successful password reset unlocks the account at once', async () => {
  const email = await newPerson()
  await failuresAgo(
    email,
    Array.from({ length: LOCKOUT_FAILURES }, (_, i) => 1 + i),
  )
  assert.deepEqual(await services.accounts.signIn(email, password, '198.51.100.6'), { outcome: 'locked' })

  // Asking for a reset is allowed while locked, and says nothing either way.
  const agent = new Agent(app)
  const asked = await agent.post('/reset-password', { email })
  assert.equal(asked.statusCode, 200)
  const mail = await services.db.selectFrom('email_outbox').select('body').where('to_address', '=', email).executeTakeFirstOrThrow()
  const token = /\/set-password\/([A-Za-z0-9_-]+)/.exec(mail.body)![1]!
  await services.accounts.setPasswordWithLink(token, 'my fresh new password', '198.51.100.6')

  assert.equal(await services.accounts.isLocked(email), false)
  assert.equal((await services.accounts.signIn(email, 'my fresh new password', '198.51.100.6')).outcome, 'signed-in')
})

test('session and CSRF cookies are HttpOnly and SameSite (Secure only in production: see web/security.db.test.ts)', async () => {
  const agent = new Agent(app)
  const page = await agent.get('/sign-in')
  const csrf = page.cookies.find((c) => c.name === 'npq_csrf')!
  assert.equal(csrf.httpOnly, true)
  assert.equal(csrf.sameSite, 'Lax')
  const signedIn = await agent.signIn(await newPerson(), password)
  const session = signedIn.cookies.find((c) => c.name === SESSION_COOKIE)!
  assert.equal(session.httpOnly, true)
  assert.equal(session.sameSite, 'Lax')
  assert.equal(session.path, '/')
  assert.notEqual(session.secure, true)
})
