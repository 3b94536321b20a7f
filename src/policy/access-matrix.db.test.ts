import assert from 'node:assert/strict'
import fs from 'node:fs'
import { after, before, test } from 'node:test'
import ExcelJS from 'exceljs'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { loadDemoData } from '../demo/demo.ts'
import { buildApp } from '../routes.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { buildAccessWorld, formerLineManager, matrixPassword, type AccessWorld, type PersonKey } from '../test-support/access-world.ts'
import { demoPassword } from '../test-support/demo-app.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { routeTable } from '../web/app.ts'
import {
  expectations,
  paramKindsByName,
  principals,
  scalarKinds,
  type MatrixOwner,
  type Owner,
  type ResourceKind,
  type RouteExpectation,
  type Who,
} from './access-expectations.ts'
import { isRole, type Role } from './roles.ts'

// The access matrix of issue 10: every route of the built application (pages, downloads and the API),
// requested as every role, signed out and with API tokens of two lead providers, with a resource of the
// principal's own and of another participant, delivery partner and lead provider (see
// src/test-support/access-world.ts). Each answer must be what access-expectations.ts says, and no answer
// may carry the data of people the principal may not see (names, emails, TRNs and what they wrote),
// whatever its status, in pages, CSV, XLSX, iCal or files. One app and one session per principal serve
// every request (in-process inject): reads first, then filters and feeds, then every form and API write.
//
// ACCESS_MATRIX_DISCOVER=<file> records what each principal reached instead of asserting it (to classify
// new routes: a positive status was reached, a negative one refused).

type Result = { status: number; location: string; text: string }
type Prepared = { method: string; url: string; body: Record<string, unknown> | undefined; json: boolean }

let services: TestServices
let app: FastifyInstance
let world: AccessWorld
const agents = new Map<Who, Agent>()
const csrf = new Map<Who, string>()
const discover = process.env.ACCESS_MATRIX_DISCOVER
const observed: Record<string, Record<string, Partial<Record<Who, number>>>> = {}
let requests = 0
const checked = { routes: 0, variants: 0, searches: 0 }

const demoEmail: Partial<Record<Who, string>> = {
  participant: 'participant@demo.test',
  'line-manager': 'line-manager@demo.test',
  facilitator: 'facilitator@demo.test',
  'delivery-partner-lead': 'delivery-partner-lead@demo.test',
  'lead-provider-admin': 'lead-provider-admin@demo.test',
  assessor: 'assessor@demo.test',
  moderator: 'moderator@demo.test',
  'school-contact': 'school-contact@demo.test',
  'former-line-manager': formerLineManager,
}

before(async () => {
  services = await createTestServices()
  await loadDemoData(services)
  world = await buildAccessWorld(services)
  app = await buildApp(services)
  await app.ready()
  for (const who of principals) {
    if (who === 'api-own' || who === 'api-other') continue
    const agent = new Agent(app)
    const email = demoEmail[who]
    if (email) await agent.signIn(email, who === 'former-line-manager' ? matrixPassword : demoPassword)
    // One CSRF token per agent serves every form (it is bound to the agent's CSRF cookie).
    csrf.set(who, csrfToken((await agent.get('/sign-in')).body))
    agents.set(who, agent)
  }
})

after(async () => {
  if (discover) fs.writeFileSync(discover, JSON.stringify(observed, null, 1))
  process.stdout.write(
    `# access matrix: ${checked.routes} routes, ${checked.variants} route × owner requests and ${checked.searches} filtered searches, ` +
      `each as ${principals.length} principals: ${requests} requests\n`,
  )
  await app?.close()
  await services?.dispose()
})

// ---- Whose data each principal must never see ----

/** People each principal may see nothing of, on any page, whatever the status: outside their organisations. */
const strangers: Record<Who, PersonKey[]> = {
  participant: ['sam', 'petra', 'sienna', 'xanthe', 'otherStaff'],
  'line-manager': ['petra', 'sienna', 'xanthe', 'otherStaff'],
  facilitator: ['sienna', 'xanthe', 'otherStaff'],
  'delivery-partner-lead': ['sienna', 'xanthe', 'otherStaff'],
  // EDT's admins see North Star's EDT places, not its UCL ones (Sam Whitfield).
  'lead-provider-admin': ['sam', 'xanthe', 'otherStaff'],
  // Marking is anonymous: assessors and moderators see script references, never names.
  assessor: ['priya', 'sam', 'petra', 'sienna', 'xanthe', 'otherStaff'],
  moderator: ['priya', 'sam', 'petra', 'sienna', 'xanthe', 'otherStaff'],
  'school-contact': ['petra', 'sienna', 'xanthe', 'otherStaff'],
  'former-line-manager': ['priya', 'sam', 'petra', 'sienna', 'xanthe', 'otherStaff'],
  'signed-out': ['priya', 'sam', 'petra', 'sienna', 'xanthe', 'otherStaff'],
  'api-own': ['sam', 'xanthe', 'otherStaff'],
  'api-other': ['priya', 'sam', 'petra', 'sienna'],
}
/** Who each principal is, so a refusal page naming the person signed in is not taken for a leak. */
const self: Partial<Record<Who, PersonKey>> = { participant: 'priya' }
const roleOf = (who: Who): Role | undefined => (isRole(who) ? who : undefined)

/** What of others' data a response shows: on a refusal, nobody's but the principal's own. */
function leaksIn(who: Who, refused: boolean, text: string): string[] {
  const keys = refused ? (Object.keys(world.identities) as PersonKey[]).filter((k) => k !== self[who]) : strangers[who]
  const found = keys.flatMap((k) => world.identities[k].filter((s) => text.includes(s)).map((s) => `${k}'s ${s}`))
  const role = roleOf(who)
  for (const { marker, readers } of world.privateMarkers) {
    if (text.includes(marker) && (refused || !role || !readers.includes(role))) found.push(`private ${marker}`)
  }
  return found
}

// ---- Requests ----

/** A response's text: spreadsheets are unzipped and read cell by cell. */
async function bodyText(res: LightMyRequestResponse): Promise<string> {
  if (!String(res.headers['content-type'] ?? '').includes('spreadsheetml')) return res.body
  const book = new ExcelJS.Workbook()
  await book.xlsx.load(res.rawPayload as unknown as ExcelJS.Buffer)
  const cells: string[] = []
  book.eachSheet((sheet) => sheet.eachRow((row) => row.eachCell((cell) => void cells.push(cell.text))))
  return cells.join('\n')
}

const formOf = (body: Record<string, unknown> = {}) => Object.fromEntries(Object.entries(body).map(([k, v]) => [k, String(v)]))

async function send(who: Who, r: Prepared): Promise<Result> {
  requests++
  let res: LightMyRequestResponse
  const isApi = r.url.startsWith('/api/')
  const method = r.method as 'GET'
  if (who === 'api-own' || who === 'api-other') {
    const token = who === 'api-own' ? world.apiTokens.own : world.apiTokens.other
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (method === 'GET') res = await app.inject({ method, url: r.url, headers })
    else if (isApi || r.json)
      res = await app.inject({
        method,
        url: r.url,
        headers: { ...headers, 'content-type': 'application/json' },
        payload: JSON.stringify(r.body ?? {}),
      })
    else
      res = await app.inject({
        method,
        url: r.url,
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams(formOf(r.body)).toString(),
      })
  } else {
    const agent = agents.get(who)!
    const token = csrf.get(who)!
    if (method === 'GET') res = await agent.get(r.url)
    else if (isApi || r.json)
      res = await app.inject({
        method,
        url: r.url,
        headers: { cookie: agent.cookieHeader(), 'content-type': 'application/json' },
        payload: JSON.stringify(isApi ? (r.body ?? {}) : { _csrf: token, ...r.body }),
      })
    else res = await agent.post(r.url, formOf(r.body), { csrf: token })
  }
  return { status: res.statusCode, location: String(res.headers.location ?? ''), text: await bodyText(res) }
}

/** Refused: 401, 403, 404 or sent to sign in. Anything else reached the handler (a 400 for an empty form included). */
const isRefused = (r: Result) => [401, 403, 404].includes(r.status) || (r.status === 303 && r.location.startsWith('/sign-in'))

// ---- Filling routes in: path parameters, query strings and bodies for each owner ----

const routeKey = (method: string, url: string) => `${method} ${url}`
const paramNames = (url: string) => [...url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!)
const kindOf = (e: RouteExpectation, name: string): ResourceKind | undefined => e.params?.[name] ?? paramKindsByName[name]
const isScalar = (kind: ResourceKind) => (scalarKinds as readonly string[]).includes(kind)

/** The owner's resource of a kind; for a place in a programme that differs by owner only where it can, the principal's own. */
function valueOf(kind: ResourceKind, owner: Owner): string | undefined {
  const ids = world.ids[kind]
  return ids[owner] ?? (isScalar(kind) ? ids.own : undefined)
}

/** `{kind}` and `{own:kind}` filled in for an owner; undefined when the owner has no such resource. */
function fillText(template: string, owner: Owner): string | undefined {
  let missing = false
  const text = template.replace(/\{(own:)?([a-z-]+)\}/g, (_m, own: string | undefined, kind: string) => {
    const value = valueOf(kind as ResourceKind, own ? 'own' : owner)
    if (value === undefined) missing = true
    return value ?? ''
  })
  return missing ? undefined : text
}

function fillBody(body: unknown, owner: Owner): unknown {
  if (typeof body === 'string') return fillText(body, owner)
  if (Array.isArray(body)) return body.map((b) => fillBody(b, owner))
  if (body && typeof body === 'object') return Object.fromEntries(Object.entries(body).map(([k, v]) => [k, fillBody(v, owner)]))
  return body
}
const hasHole = (value: unknown): boolean =>
  value === undefined || (typeof value === 'object' && value !== null && Object.values(value).some(hasHole))

const placeholders = (e: RouteExpectation) => `${e.query ?? ''} ${JSON.stringify(e.body ?? {})}`.match(/\{(?!own:)[a-z-]+\}/g) ?? []

function prepare(method: string, route: string, e: RouteExpectation, owner: MatrixOwner): Prepared | undefined {
  const names = paramNames(route)
  const pathValue = (name: string, o: Owner) => valueOf(kindOf(e, name)!, o)
  let values: (string | undefined)[] = names.map((n) => pathValue(n, owner === 'nested' || owner === 'mixed' ? 'own' : owner))
  // What fills the query and body: another lead provider's records for `mixed` when the route names some there.
  let rest: Owner = owner === 'nested' || owner === 'mixed' ? 'own' : owner
  if (owner === 'mixed' && names.length > 0 && placeholders(e).length > 0) rest = 'other'
  else if (owner === 'nested' || owner === 'mixed') {
    // Another's id in the last record parameter of the principal's own path.
    const last = names.filter((n) => !isScalar(kindOf(e, n)!)).at(-1)
    if (!last || names.length < 2) return undefined
    const ids = world.ids[kindOf(e, last)!]
    const foreign = owner === 'mixed' ? ids.other : (ids.peer ?? ids.sibling)
    values = names.map((n, i) => (n === last ? foreign : values[i]))
  }
  if (values.some((v) => v === undefined)) return undefined
  let i = 0
  const path = route.replace(/:([A-Za-z_]+)/g, () => encodeURIComponent(values[i++]!))
  const query = e.query === undefined ? '' : fillText(e.query, rest)
  const body = e.body === undefined ? undefined : fillBody(e.body, rest)
  if (query === undefined || (e.body !== undefined && hasHole(body))) return undefined
  return { method, url: query ? `${path}?${query}` : path, body: body as Record<string, unknown> | undefined, json: Boolean(e.json) }
}

/** Each owner's request of a route, without repeats (an owner with nothing different to offer is left out). */
function variants(method: string, route: string, e: RouteExpectation): [MatrixOwner, Prepared][] {
  const seen = new Set<string>()
  const out: [MatrixOwner, Prepared][] = []
  for (const owner of ['own', 'peer', 'sibling', 'other', 'nested', 'mixed'] as const) {
    const r = prepare(method, route, e, owner)
    const signature = r && `${r.url} ${JSON.stringify(r.body)}`
    if (!r || seen.has(signature!)) continue
    seen.add(signature!)
    out.push([owner, r])
  }
  return out
}

/** Audit rows so far: every change writes one, in the same transaction, so a count that moves means something changed. */
async function auditCount(): Promise<number> {
  const row = await services.db
    .selectFrom('audit_events')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** The audit rows written since `before` rows, as text (entity, before and after). */
async function auditSince(before: number): Promise<string> {
  const rows = await services.db
    .selectFrom('audit_events')
    .select(['entity_id', 'before', 'after'])
    .orderBy('occurred_at', 'desc')
    .limit((await auditCount()) - before)
    .execute()
  return JSON.stringify(rows)
}

const isUuid = (id: string | undefined) => id !== undefined && /^[0-9a-f-]{36}$/i.test(id)
/** Ids (named) of the other lead provider's world: its organisations, people and records. Nobody else's change may touch them. */
const foreignIds = (): [string, string][] =>
  [
    ['other lead provider', world.orgIds.otherLeadProvider] as [string, string],
    ['other delivery partner', world.orgIds.otherDeliveryPartner] as [string, string],
    ...Object.entries(world.ids).map(([kind, ids]): [string, string] => [kind, ids.other ?? '']),
  ].filter(([, id]) => isUuid(id))
/** Ids (named) of the demo lead provider's world, which the other lead provider's token may not touch. */
const homeIds = (): [string, string][] =>
  Object.entries(world.ids).flatMap(([kind, ids]) =>
    (['own', 'peer', 'sibling'] as const).map((o): [string, string] => [`${o} ${kind}`, ids[o] ?? '']).filter(([, id]) => isUuid(id)),
  )

function note(route: string, variant: string, who: Who, result: Result) {
  const byVariant = (observed[route] ??= {})
  ;(byVariant[variant] ??= {})[who] = isRefused(result) ? -result.status : result.status
}

/** Every owner's request of one route as every principal: the mismatches and leaks found. */
async function checkRoute(method: string, route: string): Promise<string[]> {
  const key = routeKey(method, route)
  const e = expectations[key]
  if (!e || e.static) return []
  const problems: string[] = []
  checked.routes++
  for (const [owner, r] of variants(method, route, e)) {
    checked.variants++
    const allowed = new Set(e[owner] ?? [])
    for (const who of principals) {
      const before = method === 'GET' ? 0 : await auditCount()
      const result = await send(who, r)
      const written = method === 'GET' || (await auditCount()) === before ? '' : await auditSince(before)
      note(key, owner, who, result)
      const refused = isRefused(result)
      const at = `${who} ${method} ${r.url} (${owner})`
      if (result.status >= 500) problems.push(`${at}: ${result.status}`)
      // Nothing changes on a refusal, and nobody changes another lead provider's records (but that provider's own token).
      if (written && refused) problems.push(`${at}: refused (${result.status}) yet changed something: ${written}`)
      const touched = (who === 'api-other' ? homeIds() : foreignIds()).filter(([, id]) => written.includes(id))
      if (touched.length)
        problems.push(`${at}: changed another lead provider's record (${touched.map(([name]) => name).join(', ')}): ${written}`)
      else if (!discover && refused === allowed.has(who)) {
        problems.push(`${at}: ${result.status} ${result.location}, expected ${allowed.has(who) ? 'to be let in' : 'a refusal'}`)
      }
      if (!e.developmentOnly) for (const leak of leaksIn(who, refused, result.text)) problems.push(`${at} shows ${leak}`)
    }
  }
  return problems
}

/** A list page's filters, each with the principal's own codes and another organisation's. */
async function checkSearches(route: string): Promise<string[]> {
  const key = routeKey('GET', route)
  const e = expectations[key]
  const problems: string[] = []
  for (const search of e?.searches ?? []) {
    const seen = new Set<string>()
    for (const owner of ['own', 'peer', 'sibling', 'other'] as const) {
      const query = fillText(search, owner)
      if (query === undefined || seen.has(query)) continue
      seen.add(query)
      checked.searches++
      const url = `${prepare('GET', route, e!, 'own')!.url.split('?')[0]}?${query}`
      for (const who of principals) {
        const result = await send(who, { method: 'GET', url, body: undefined, json: false })
        note(key, `search ${search} (${owner})`, who, result)
        const refused = isRefused(result)
        if (result.status >= 500) problems.push(`${who} GET ${url}: ${result.status}`)
        else if (!discover && !refused && !e!.own.includes(who))
          problems.push(`${who} GET ${url}: ${result.status}, a filter opened the page`)
        for (const leak of leaksIn(who, refused, result.text)) problems.push(`${who} GET ${url} (${owner}) shows ${leak}`)
      }
    }
  }
  return problems
}

// ---- Tests ----

/** The route table, without HEAD (Fastify answers it with the GET handler). */
const routes = () => routeTable(app).filter((r) => r.method !== 'HEAD')

test('every route of the application is classified in access-expectations.ts (and nothing else is)', () => {
  const keys = new Set(routes().map((r) => routeKey(r.method, r.url)))
  assert.ok(keys.size > 300, `only ${keys.size} routes: is the route table being collected?`)
  const unclassified = [...keys].filter((k) => !expectations[k])
  const stale = Object.keys(expectations).filter((k) => !keys.has(k))
  const unnamed = [...keys].flatMap((k) => {
    const e = expectations[k]
    return e
      ? paramNames(k.split(' ')[1]!)
          .filter((n) => !kindOf(e, n))
          .map((n) => `${k} :${n}`)
      : []
  })
  assert.deepEqual(unclassified, [], `routes nobody has said who may use (add them to access-expectations.ts):\n${unclassified.join('\n')}`)
  assert.deepEqual(stale, [], `expectations for routes that no longer exist:\n${stale.join('\n')}`)
  assert.deepEqual(unnamed, [], `parameters without a resource kind (say it in the route's params):\n${unnamed.join('\n')}`)
})

test('the people the matrix looks for are there to be found (so a clean result means something)', async () => {
  const shows = async (who: Who, url: string, person: PersonKey) => {
    const result = await send(who, { method: 'GET', url, body: undefined, json: false })
    assert.ok(
      world.identities[person].some((s) => result.text.includes(s)),
      `${who} GET ${url} does not show ${person}`,
    )
  }
  await shows('lead-provider-admin', `/lead-provider/participants/${world.ids.enrolment.peer}`, 'petra')
  await shows('lead-provider-admin', `/lead-provider/participants/${world.ids.enrolment.sibling}`, 'sienna')
  await shows('delivery-partner-lead', '/delivery-partner/projects', 'petra')
  await shows('api-other', '/api/v1/participants', 'xanthe')
  await shows('api-own', '/api/v1/participants', 'petra')
  await shows('line-manager', '/line-manager', 'sam')
  // Downloads are read too: a spreadsheet cell by cell, a CSV as text.
  await shows('lead-provider-admin', '/lead-provider/reports?cohort=2022-autumn&course=npq-headship&format=xlsx', 'petra')
  await shows('delivery-partner-lead', '/delivery-partner/reports?cohort=2022-autumn&course=npq-headship&format=csv', 'petra')
})

/** Reads, then the API's writes, then the pages' forms (some change things), signing out last. */
function grouped(kind: 'read' | 'write') {
  const groups = new Map<string, { method: string; url: string }[]>()
  const rank = (r: { method: string; url: string }) => (r.url === '/sign-out' ? 2 : r.url.startsWith('/api/') ? 0 : 1)
  const list = routes()
    .filter((r) => (kind === 'read') === (r.method === 'GET'))
    .sort((a, b) => rank(a) - rank(b))
  for (const r of list) {
    const [, first, second] = r.url.split('/')
    const area = first === 'api' ? `/api/${second}` : `/${first}`
    groups.set(area, [...(groups.get(area) ?? []), r])
  }
  return groups
}

test('every page, download and API read answers each principal as expected, showing nobody else’s data', async (t) => {
  for (const [area, list] of grouped('read')) {
    await t.test(`GET ${area} (${list.length} routes)`, async () => {
      const problems: string[] = []
      for (const r of list) problems.push(...(await checkRoute(r.method, r.url)))
      assert.deepEqual(problems, [])
    })
  }
})

test('search filters naming another organisation, course or person show nothing of theirs', async () => {
  const problems: string[] = []
  for (const r of routes().filter((r) => r.method === 'GET')) problems.push(...(await checkSearches(r.url)))
  assert.deepEqual(problems, [])
})

test('a calendar feed serves only its own person’s events', async () => {
  const feed = async (token: string) => (await app.inject({ method: 'GET', url: `/calendar/${token}.ics` })).body
  const priya = await feed(world.feeds.priya)
  const xanthe = await feed(world.feeds.xanthe)
  const facilitator = await feed(world.feeds.facilitator)
  assert.ok(priya.includes(world.eventTitles.own), 'the demo participant’s feed has her booked event')
  assert.ok(xanthe.includes(world.eventTitles.other), 'another lead provider’s participant’s feed has hers')
  assert.ok(facilitator.includes(world.eventTitles.own), 'the facilitator’s feed has the event she facilitates')
  for (const [name, text, foreign] of [
    ['participant', priya, [world.eventTitles.other, world.eventTitles.sibling]],
    ['other participant', xanthe, [world.eventTitles.own, world.eventTitles.sibling]],
    ['facilitator', facilitator, [world.eventTitles.other, world.eventTitles.sibling]],
  ] as const) {
    for (const title of foreign) assert.ok(!text.includes(title), `the ${name}’s feed shows ${title}`)
  }
  // A made-up token (of the right form) opens nothing.
  const made = await app.inject({ method: 'GET', url: `/calendar/cal_${'x'.repeat(43)}.ics` })
  assert.equal(made.statusCode, 404)
})

test('every form and API write answers each principal as expected, showing nobody else’s data', async (t) => {
  for (const [area, list] of grouped('write')) {
    await t.test(`${area} (${list.length} routes)`, async () => {
      const problems: string[] = []
      for (const r of list) problems.push(...(await checkRoute(r.method, r.url)))
      assert.deepEqual(problems, [])
    })
  }
})
