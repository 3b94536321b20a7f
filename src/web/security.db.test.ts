import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, test } from 'node:test'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { sql } from 'kysely'
import { randomToken } from '../accounts/tokens.ts'
import { loadDemoData } from '../demo/demo.ts'
import { safeUrl } from '../logging.ts'
import { buildApp } from '../routes.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { organisation, person } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { CSRF_COOKIE, routeTable, SESSION_COOKIE, type RouteRecord } from './app.ts'

// The security promises of issue 10, each proved against the whole application, most of them by
// walking its route table so that a route added later is checked without anyone listing it:
// security headers and a per-response CSP nonce on every kind of response; no-store on everything a
// signed-in person sees; a CSRF token on every state-changing form (and an API that ignores session
// cookies); Secure cookies and HSTS in production; no personal data or link secrets in the logs.

const demoPassword = 'demo-password-for-tests'
const productionSecret = 'a-production-session-secret-of-forty-characters'
let dev: { services: TestServices; app: FastifyInstance }
let prod: { services: TestServices; app: FastifyInstance; email: string }

// Personal data a test request carries, which must never reach the log.
const trn = '4567123'
const email = 'jo.bloggs@oakfield-school.test'
const dateOfBirth = '1984-03-21'

before(async () => {
  const services = await createTestServices()
  await loadDemoData(services)
  const app = await buildApp(services)
  // Code that logs personal data carelessly, and fails with it in the error (as a database error does).
  app.get('/test-only/careless', { config: { access: 'public' } }, (req) => {
    req.log.info({ participant: { trn, email, date_of_birth: dateOfBirth }, note: `for ${email}` }, `looked up ${email}`)
    throw Object.assign(new Error(`participant ${trn} (${email}) could not be saved`), {
      detail: `Key (trn, date_of_birth)=(${trn}, ${dateOfBirth}) already exists.`,
    })
  })
  await app.ready()
  dev = { services, app }

  const prodServices = await createTestServices({ env: { NODE_ENV: 'production', SESSION_SECRET: productionSecret } })
  const lp = await organisation(prodServices.db, 'lead-provider', 'edt', 'Education Development Trust')
  await person(prodServices, 'admin@edt.test', 'lead-provider-admin', lp)
  const prodApp = await buildApp(prodServices)
  await prodApp.ready()
  prod = { services: prodServices, app: prodApp, email: 'admin@edt.test' }
})
after(async () => {
  await dev.app.close()
  await dev.services.dispose()
  await prod.app.close()
  await prod.services.dispose()
})

// ---- helpers ----

/** The demo account whose pages a path belongs to. */
function accountFor(url: string): string {
  const area = url.split('/')[1] ?? ''
  const byArea: Record<string, string> = {
    'lead-provider': 'lead-provider-admin',
    'delivery-partner': 'delivery-partner-lead',
    participant: 'participant',
    facilitator: 'facilitator',
    'line-manager': 'line-manager',
    assessor: 'assessor',
    moderator: 'moderator',
    school: 'school-contact',
  }
  return `${byArea[area] ?? 'lead-provider-admin'}@demo.test`
}

const agents = new Map<string, Agent>()
async function agentFor(url: string): Promise<Agent> {
  const account = accountFor(url)
  let agent = agents.get(account)
  if (!agent) {
    agent = new Agent(dev.app)
    await agent.signIn(account, demoPassword)
    agents.set(account, agent)
  }
  return agent
}

/** A path with its parameters filled (ids are UUIDs; a made-up one is as good as any before the CSRF check). */
const fillParams = (url: string) => url.replace(/:[A-Za-z_]+/g, () => crypto.randomUUID()).replace(/\*$/, 'x')

function cspOf(res: LightMyRequestResponse): Map<string, string[]> {
  const header = res.headers['content-security-policy']
  assert.equal(typeof header, 'string', 'no Content-Security-Policy')
  return new Map(
    (header as string)
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...values]) => [name!, values]),
  )
}

type Nonces = { script: string; style: string }

/** Checks the headers every response carries, and returns the response's CSP nonces. */
function checkSecurityHeaders(res: LightMyRequestResponse, label: string, production: boolean): Nonces {
  const csp = cspOf(res)
  const nonces: string[] = []
  for (const directive of ['script-src', 'style-src']) {
    const values = csp.get(directive) ?? []
    assert.ok(values.includes("'self'"), `${label}: ${directive} ${values.join(' ')}`)
    for (const unsafe of ["'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", '*', 'data:', 'http:', 'https:']) {
      assert.ok(!values.includes(unsafe), `${label}: ${directive} allows ${unsafe}`)
    }
    const nonce = values.find((v) => v.startsWith("'nonce-"))
    assert.ok(nonce, `${label}: ${directive} has no nonce`)
    nonces.push(nonce.slice("'nonce-".length, -1))
  }
  assert.deepEqual(csp.get('default-src'), ["'self'"], label)
  assert.deepEqual(csp.get('object-src'), ["'none'"], label)
  assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], label)
  assert.deepEqual(csp.get('base-uri'), ["'self'"], label)
  assert.deepEqual(csp.get('form-action'), ["'self'"], label)
  assert.equal(csp.has('upgrade-insecure-requests'), production, label)

  assert.equal(res.headers['x-content-type-options'], 'nosniff', label)
  assert.equal(res.headers['x-frame-options'], 'DENY', label)
  assert.equal(res.headers['referrer-policy'], 'no-referrer', label)
  assert.equal(res.headers['x-powered-by'], undefined, label)
  assert.equal(res.headers['server'], undefined, label)
  const hsts = res.headers['strict-transport-security'] as string | undefined
  if (production) {
    assert.match(hsts ?? '', /max-age=(\d+)/, label)
    assert.ok(Number(/max-age=(\d+)/.exec(hsts!)![1]) >= 31_536_000, `${label}: HSTS shorter than a year`)
    assert.match(hsts!, /includeSubDomains/, label)
  } else {
    assert.equal(hsts, undefined, `${label}: HSTS outside production would pin localhost to https`)
  }
  return { script: nonces[0]!, style: nonces[1]! }
}

/** On an HTML page, every inline script and style carries this response's nonce. */
function checkInlineCode(html: string, nonces: Nonces, label: string) {
  for (const match of html.matchAll(/<(script|style)\b([^>]*)>/g)) {
    const attributes = match[2]!
    if (match[1] === 'script' && /\bsrc=/.test(attributes)) continue
    const nonce = match[1] === 'script' ? nonces.script : nonces.style
    assert.match(attributes, new RegExp(`nonce="${nonce}"`), `${label}: inline <${match[1]}> without this response's nonce`)
  }
  assert.doesNotMatch(html, /\sstyle="/, `${label}: a style attribute, which the CSP blocks`)
  assert.doesNotMatch(html, /\son(click|load|submit|change|input)="/, `${label}: an inline event handler, which the CSP blocks`)
}

/**
 * A fingerprint of every table but sessions (whose expiry slides with each request) and pg-boss's own
 * bookkeeping (it times its maintenance there): any write changes it.
 */
async function databaseFingerprint(services: TestServices): Promise<Map<string, string>> {
  const tables = await sql<{ schema: string; name: string }>`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') 
      and table_name <> 'sessions' and (table_schema, table_name) <> ('pgboss', 'version')
    order by 1, 2`.execute(services.db)
  const fingerprint = new Map<string, string>()
  for (const { schema, name } of tables.rows) {
    const table = sql.table(`${schema}.${name}`)
    const row = await sql<{
      hash: string
    }>`select md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as hash from ${table} t`.execute(services.db)
    fingerprint.set(`${schema}.${name}`, row.rows[0]!.hash)
  }
  return fingerprint
}

// ---- headers ----

test('security headers and a fresh CSP nonce on a public page, a signed-in page, the API, a static file and an error', async () => {
  const admin = await agentFor('/lead-provider')
  const anonymous = new Agent(dev.app)
  const responses: [string, () => Promise<LightMyRequestResponse>][] = [
    ['public page', () => anonymous.get('/')],
    ['sign-in page', () => anonymous.get('/sign-in')],
    ['signed-in page', () => admin.get('/lead-provider')],
    ['API document', () => anonymous.get('/api/v1/openapi.json')],
    ['API without a token', () => anonymous.get('/api/v1/participants')],
    ['static file (ours)', () => anonymous.get('/public/application.css')],
    ['static file (GOV.UK Frontend)', () => anonymous.get('/govuk/govuk-frontend.min.css')],
    ['page not found', () => anonymous.get('/no-such-page')],
  ]
  for (const [label, fetch] of responses) {
    const first = await fetch()
    const second = await fetch()
    assert.ok(first.statusCode < 500, `${label}: ${first.statusCode}`)
    const nonces = checkSecurityHeaders(first, label, false)
    const again = checkSecurityHeaders(second, label, false)
    for (const kind of ['script', 'style'] as const) {
      assert.ok(nonces[kind].length >= 16, `${label}: a short ${kind} nonce`)
      assert.notEqual(nonces[kind], again[kind], `${label}: the ${kind} nonce was reused`)
    }
    if (String(first.headers['content-type']).startsWith('text/html')) checkInlineCode(first.body, nonces, label)
  }
  // The layout's own inline script is there, and carries the nonce.
  const page = await admin.get('/lead-provider')
  assert.match(page.body, new RegExp(`<script nonce="${checkSecurityHeaders(page, 'layout', false).script}">`))
})

test('in production: HSTS, upgrade-insecure-requests, and the same headers everywhere', async () => {
  const agent = new Agent(prod.app)
  const anonymous = new Agent(prod.app)
  await agent.signIn(prod.email, 'a long test password')
  for (const [label, res] of [
    ['public page', await anonymous.get('/sign-in')],
    ['signed-in page', await agent.get('/lead-provider')],
    ['API', await anonymous.get('/api/v1/participants')],
    ['static file', await anonymous.get('/public/application.css')],
  ] as const) {
    assert.ok(res.statusCode < 500, `${label}: ${res.statusCode}`)
    checkSecurityHeaders(res, `production ${label}`, true)
  }
  // Development pages do not exist in production.
  assert.equal((await anonymous.get('/dev/emails')).statusCode, 404)
})

test('nothing a signed-in person is sent may be cached: every signed-in page is no-store (walks the route table)', async (t) => {
  const pages = routeTable(dev.app).filter((r) => r.method === 'GET' && r.access === 'signed-in' && !r.url.includes(':'))
  assert.ok(pages.length > 40, `only ${pages.length} signed-in pages found`)
  t.diagnostic(`${pages.length} signed-in pages checked`)
  const problems: string[] = []
  for (const route of pages) {
    const res = await (await agentFor(route.url)).get(route.url)
    const cacheControl = String(res.headers['cache-control'] ?? '')
    if (!/\bno-store\b/.test(cacheControl)) problems.push(`${route.url}: cache-control "${cacheControl}" (${res.statusCode})`)
    if (res.statusCode >= 500) problems.push(`${route.url}: ${res.statusCode}`)
    else checkSecurityHeaders(res, route.url, false)
  }
  assert.deepEqual(problems, [])

  // Redirects, API answers and downloads too; public static files may be cached.
  const admin = await agentFor('/lead-provider')
  assert.match(String((await admin.get('/')).headers['cache-control']), /no-store/)
  assert.match(String((await admin.get('/api/v1/participants')).headers['cache-control']), /no-store/)
  assert.doesNotMatch(String((await admin.get('/public/application.css')).headers['cache-control']), /no-store/)
  const prodStatic = await new Agent(prod.app).get('/public/application.css')
  assert.match(String(prodStatic.headers['cache-control']), /max-age=86400/)
})

// ---- CSRF ----

test('every state-changing form route refuses a request without its CSRF token, and changes nothing (walks the route table)', async (t) => {
  const stateChanging = routeTable(dev.app).filter((r) => ['POST', 'PUT', 'PATCH', 'DELETE'].includes(r.method))
  // The CSRF check skips only the bearer-token API (checked below) and routes without an access rule (static files, GET only).
  assert.deepEqual(
    stateChanging.filter((r) => r.access === undefined),
    [],
  )
  const forms = stateChanging.filter((r) => r.access !== 'api')
  assert.ok(forms.length > 100, `only ${forms.length} form routes found`)
  t.diagnostic(`${forms.length} state-changing form routes checked, 3 requests each`)
  for (const known of ['/sign-in', '/sign-out', '/set-password/:token', '/sign-in/link/:token', '/reset-password']) {
    assert.ok(
      forms.some((r) => r.url === known && r.method === 'POST'),
      known,
    )
  }

  // Sign everyone in and pick up a token another browser was given, before taking the fingerprint.
  for (const route of forms) await agentFor(route.url)
  const otherBrowser = new Agent(dev.app)
  const someoneElsesToken = csrfToken((await otherBrowser.get('/sign-in')).body)
  const before = await databaseFingerprint(dev.services)

  const failures: string[] = []
  const check = (route: RouteRecord, what: string, res: LightMyRequestResponse) => {
    if (res.statusCode !== 403 || !res.body.includes('This form has expired')) {
      failures.push(`${route.method} ${route.url} ${what}: ${res.statusCode}`)
    }
  }
  for (const route of forms) {
    const agent = await agentFor(route.url)
    const url = fillParams(route.url)
    const send = (payload: string, contentType: string) =>
      dev.app.inject({
        method: route.method as 'POST',
        url,
        payload,
        headers: { cookie: agent.cookieHeader(), 'content-type': contentType },
      })
    check(route, 'without a token', await send('confirm=yes', 'application/x-www-form-urlencoded'))
    check(
      route,
      "with another browser's token",
      await send(`_csrf=${encodeURIComponent(someoneElsesToken)}`, 'application/x-www-form-urlencoded'),
    )
    check(route, 'as text/plain', await send('_csrf=anything', 'text/plain'))
  }
  assert.deepEqual(failures, [])

  const afterwards = await databaseFingerprint(dev.services)
  const changed = [...afterwards].filter(([table, hash]) => before.get(table) !== hash).map(([table]) => table)
  assert.deepEqual(changed, [], 'requests without a CSRF token changed the database')

  // The same form with its token goes through: the refusals above are the CSRF check, not a broken route.
  const participant = await agentFor('/participant')
  const signedOut = await participant.post('/sign-out', {}, { csrfFrom: '/participant' })
  assert.equal(signedOut.statusCode, 303)
  agents.delete('participant@demo.test')
})

test('the API, which needs no CSRF token, ignores session cookies: only a bearer token reaches it (walks the route table)', async (t) => {
  const api = routeTable(dev.app).filter((r) => r.access === 'api' && r.method !== 'HEAD')
  assert.ok(api.some((r) => r.method !== 'GET'))
  t.diagnostic(`${api.length} API operations checked`)
  const admin = await agentFor('/lead-provider')
  const problems: string[] = []
  for (const route of api) {
    const res = await dev.app.inject({
      method: route.method as 'GET',
      url: fillParams(route.url),
      headers: { cookie: admin.cookieHeader(), ...(route.method === 'GET' ? {} : { 'content-type': 'application/json' }) },
      ...(route.method === 'GET' ? {} : { payload: '{}' }),
    })
    if (res.statusCode !== 401 || res.json<{ error: { code: string } }>().error.code !== 'unauthenticated') {
      problems.push(`${route.method} ${route.url}: ${res.statusCode}`)
    }
  }
  assert.deepEqual(problems, [])
})

// ---- cookies ----

test('cookies: HttpOnly and SameSite always; Secure in production (session and CSRF, set and cleared)', async () => {
  const cookieOf = (res: LightMyRequestResponse, name: string) => res.cookies.find((c) => c.name === name)
  for (const [label, app, account, password, home, production] of [
    ['development', dev.app, 'participant@demo.test', demoPassword, '/participant', false],
    ['production', prod.app, prod.email, 'a long test password', '/lead-provider', true],
  ] as const) {
    const agent = new Agent(app)
    const page = await agent.get('/sign-in')
    const signedIn = await agent.signIn(account, password)
    const signedOut = await agent.post('/sign-out', {}, { csrfFrom: home })
    const cookies = [
      ['CSRF cookie', cookieOf(page, CSRF_COOKIE)],
      ['session cookie', cookieOf(signedIn, SESSION_COOKIE)],
      ['session cookie cleared', cookieOf(signedOut, SESSION_COOKIE)],
    ] as const
    for (const [what, cookie] of cookies) {
      assert.ok(cookie, `${label}: no ${what}`)
      assert.equal(cookie.httpOnly, true, `${label} ${what}: HttpOnly`)
      assert.equal(cookie.sameSite, 'Lax', `${label} ${what}: SameSite`)
      assert.equal(cookie.path, '/', `${label} ${what}: Path`)
      assert.equal(cookie.domain, undefined, `${label} ${what}: Domain`)
      assert.equal(cookie.secure === true, production, `${label} ${what}: Secure`)
    }
  }
})

// ---- logs ----

test('personal data (TRN, email address, date of birth) never reaches the logs', async () => {
  const { app, services } = dev
  const from = services.logLines.length
  const query = `email=${encodeURIComponent(email)}&trn=${trn}&date_of_birth=${dateOfBirth}`
  const careless = await app.inject({ method: 'GET', url: `/test-only/careless?${query}` })
  assert.equal(careless.statusCode, 500)
  await new Agent(app).post('/sign-in', { email, password: `trn ${trn} born ${dateOfBirth}` })
  await new Agent(app).post('/reset-password', { email })
  const participant = await agentFor('/participant')
  await participant.get(`/participant?${query}`)
  await app.inject({ method: 'GET', url: `/api/v1/participants?${query}`, headers: { authorization: `Bearer ${email}` } })

  const logged = services.logLines.slice(from).join('\n')
  // The log did record these requests and the error (with its reference), only without the personal data.
  assert.match(logged, /"url":"\/test-only\/careless"/)
  assert.match(logged, /"msg":"unhandled error"/)
  assert.match(logged, /"url":"\/sign-in"/)
  for (const secret of [trn, email, dateOfBirth, encodeURIComponent(email), 'oakfield-school']) {
    assert.ok(!logged.includes(secret), `${secret} is in the log:\n${logged}`)
  }
})

test('one-time-link and calendar-feed secrets in paths never reach the logs (walks the route table)', async (t) => {
  const { app, services } = dev
  const secretRoutes = routeTable(app).filter((r) => /:token\b/.test(r.url) && r.method !== 'HEAD')
  assert.ok(secretRoutes.length >= 8, `only ${secretRoutes.length} routes with a :token`)
  t.diagnostic(`${secretRoutes.length} routes with a secret in the path checked`)
  const from = services.logLines.length
  const sent: string[] = []
  for (const route of secretRoutes) {
    const secret = randomToken()
    const url = route.url.replace(/:token\b/, secret).replace(/:[A-Za-z_]+/g, () => crypto.randomUUID())
    assert.ok(!safeUrl(url).includes(secret), `${route.url}: safeUrl keeps the secret`)
    await app.inject({ method: route.method as 'GET', url, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    sent.push(secret)
  }
  const logged = services.logLines.slice(from).join('\n')
  for (const route of secretRoutes) assert.match(logged, new RegExp(`"method":"${route.method}"`))
  for (const secret of sent) assert.ok(!logged.includes(secret), `a link secret is in the log`)
})
