import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import fc from 'fast-check'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { z } from 'zod'
import { createApiToken } from '../api/api-tokens.ts'
import { loadDemoData } from '../demo/demo.ts'
import { formatProblem } from '../imports/csv.ts'
import { ImportError, importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { buildApp } from '../routes.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { demoPassword } from '../test-support/demo-app.ts'
import { systemPrincipal } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { routeTable, SESSION_COOKIE } from '../web/app.ts'
import {
  checksumDifference,
  databaseChecksum,
  fuzzRuns,
  fuzzSeed,
  hostileBody,
  hostileJson,
  hostileString,
  installWriteLog,
  selected,
  validish,
  writeMark,
  writesSince,
  type JsonSchema,
} from './hostile.ts'
import {
  bodyEncoding,
  databasePools,
  encodeForm,
  encodeSegment,
  formBody,
  formsOf,
  htmlRejectionProblem,
  isErrorSummaryPage,
  jsonForm,
  jsonRejectionProblem,
  paramCandidates,
  paramNames,
  routePattern,
  type BodyEncoding,
  type DbPools,
  type FormField,
} from './hostile-targets.ts'

// Issue 10, item 2: hostile input against every import kind, every /api/v1 operation and every POST
// form handler, each found from the application itself (the importers registry, the OpenAPI document
// the API registry generates from its zod schemas, the route table with its access rules and the forms
// the pages render). For every generated case: never a 5xx (an import never fails with anything but
// ImportError), every rejection a clear 4xx message (an error summary or error page; {error: {code,
// message}}; file:line:column), and a rejected request or import writes nothing.
//
// NPQ_FUZZ_RUNS cases per target (default small, for CI); NPQ_FUZZ_RUNS=10000 for the full run,
// NPQ_FUZZ_TARGET=<part of a test name> to run a few targets, NPQ_FUZZ_SEED=<seed> to reproduce.

// Defaults sized for CI on a 2-core machine (under 3 minutes per database): ~130 form handlers render
// whole pages, so they get fewer cases each than the 10 import kinds and 16 API operations.
const importRuns = fuzzRuns(60)
const apiRuns = fuzzRuns(150)
const formRuns = fuzzRuns(10)

// Set up before the tests are declared: the targets are read from the running application.
const services: TestServices = await createTestServices()
await loadDemoData(services)
const app: FastifyInstance = await buildApp(services)
await app.ready()
const edt = await services.db.selectFrom('organisations').select('id').where('code', '=', 'edt').executeTakeFirstOrThrow()
const token = (await createApiToken(services.db, systemPrincipal, edt.id, 'Hostile input')).token
const pools: DbPools = await databasePools(services.db)
await installWriteLog(services.db)
process.stdout.write(`hostile input: seed ${fuzzSeed} (NPQ_FUZZ_SEED=${fuzzSeed} reproduces)\n`)
after(async () => {
  await app.close()
  await services.dispose()
})

/** fc.assert with this file's seed, naming the seed and the counterexample when it fails. */
async function check<T>(name: string, property: fc.IAsyncProperty<T>, numRuns: number, examples: T[] = []): Promise<void> {
  const details = await fc.check(property, { numRuns, seed: fuzzSeed, examples, endOnFailure: numRuns > 1000 })
  if (details.failed) {
    let shown: string
    try {
      shown = fc.stringify(details.counterexample).slice(0, 3000)
    } catch {
      shown = '(too deeply nested to print: rerun with the seed)'
    }
    throw new Error(
      `${name}: failed after ${details.numRuns} case(s) with seed ${details.seed}, path "${details.counterexamplePath}" ` +
        `(NPQ_FUZZ_SEED=${details.seed} NPQ_FUZZ_TARGET="${name}")\n` +
        `counterexample: ${shown}\n${details.errorInstance instanceof Error ? details.errorInstance.stack : String(details.errorInstance)}`,
    )
  }
}

const writesWhere = async (mark: number, allowed: readonly string[] = []) => {
  const writes = await writesSince(services.db, mark)
  return Object.fromEntries(Object.entries(writes).filter(([key]) => !allowed.includes(key.split(' ')[1]!)))
}

// ---- imports ----

type CsvShape = { bom: boolean; crlf: boolean; quoteAll: boolean; blankLines: boolean; finalNewline: boolean; broken: boolean }

function csvText(header: string[], rows: string[][], shape: CsvShape): string {
  const field = (v: string) => (shape.quoteAll || /[",\r\n]|^\s|\s$/.test(v) ? `"${v.replace(/"/g, '""')}"` : v)
  const eol = shape.crlf ? '\r\n' : '\n'
  const lines = [header, ...rows].map((r) => r.map(field).join(','))
  if (shape.blankLines && lines.length > 1) lines.splice(1, 0, '', '   ')
  if (shape.broken && lines.length > 1) lines[lines.length - 1] = `"${lines[lines.length - 1]}`
  return (shape.bom ? '\uFEFF' : '') + lines.join(eol) + (shape.finalNewline ? eol : '')
}

const csvShape: fc.Arbitrary<CsvShape> = fc.record({
  bom: fc.boolean(),
  crlf: fc.boolean(),
  quoteAll: fc.boolean(),
  blankLines: fc.boolean(),
  finalNewline: fc.boolean(),
  broken: fc.integer({ min: 0, max: 15 }).map((n) => n === 0),
})

/** Regressions: files that once broke a property, replayed before the generated ones (fast-check's examples). */
const importRegressions: Record<string, string[]> = {
  // A column name with a carriage return and other control characters was echoed raw by the CLI's
  // file:line:column message, splitting it over lines (imports/csv.ts now escapes them).
  participants: ['course_identifier,participant_id,"a\r\u0012\u001b[2Jb",email\r\n'],
}

for (const [kind, importer] of Object.entries(importers)) {
  const name = `import ${kind}`
  test(
    `${name}: generated CSV files are imported whole or rejected whole, with every problem's line`,
    { skip: !selected(name) },
    async () => {
      const columns = [...importer.required, ...importer.optional]
      const rowSchema = z.toJSONSchema(importer.row, { io: 'input', unrepresentable: 'any' }) as JsonSchema
      const cell = (column: string): fc.Arbitrary<string> =>
        fc.oneof(
          {
            weight: 5,
            arbitrary: validish(rowSchema.properties?.[column], pools, column).map((v) => (typeof v === 'string' ? v : String(v))),
          },
          { weight: 2, arbitrary: hostileString },
          { weight: 1, arbitrary: fc.constantFrom("=cmd|' /C calc'!A0", '=HYPERLINK("http://x")', '+1', '@A1', '') },
        )
      const validHeader = fc
        .subarray([...importer.optional])
        .chain((optional) =>
          fc.shuffledSubarray([...importer.required, ...optional], { minLength: importer.required.length + optional.length }),
        )
      const header = fc.oneof(
        { weight: 8, arbitrary: validHeader },
        {
          weight: 2,
          arbitrary: fc
            .tuple(validHeader, fc.nat(), hostileString, fc.constantFrom('unknown', 'drop', 'duplicate', 'case', 'pad'))
            .map(([h, i, junk, how]) => {
              const copy = [...h]
              const at = h.length ? i % h.length : 0
              if (how === 'unknown') copy.splice(at, 0, junk)
              if (how === 'drop') copy.splice(at, 1)
              if (how === 'duplicate' && h.length) copy.push(h[at]!)
              if (how === 'case' && h.length) copy[at] = ` ${h[at]!.toUpperCase()} `
              if (how === 'pad' && h.length) copy[at] = `${h[at]}\t`
              return copy
            }),
        },
      )
      const file = fc.oneof(
        {
          weight: 12,
          arbitrary: header.chain((h) =>
            fc
              .tuple(
                fc.array(
                  fc
                    .tuple(fc.tuple(...h.map((c) => cell(c.trim().toLowerCase()))), fc.integer({ min: -1, max: 12 }))
                    .map(([r, ragged]) => (ragged === -1 ? r.slice(0, -1) : ragged === 12 ? [...r, 'extra'] : r)),
                  { maxLength: 4 },
                ),
                csvShape,
              )
              .map(([rows, shape]) => csvText(h, rows, shape)),
          ),
        },
        { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 200 }) },
        { weight: 1, arbitrary: fc.constantFrom('', '\uFEFF', '\n\n', '"', 'a,b\n"unterminated', columns.join(',')) },
      )
      const options = fc.record({
        dryRun: fc.integer({ min: 0, max: 5 }).map((n) => n === 0),
        asAdmin: fc.boolean(),
      })

      await check(
        name,
        fc.asyncProperty(file, options, async (text, { dryRun, asAdmin }) => {
          const leadProvider = asAdmin
            ? await services.db.selectFrom('organisations').select(['id', 'code']).where('code', '=', 'edt').executeTakeFirstOrThrow()
            : null
          const mark = await writeMark(services.db)
          const before = await databaseChecksum(services.db)
          try {
            await importFile(services, importer, text, systemPrincipal, { leadProvider, dryRun })
          } catch (error) {
            if (!(error instanceof ImportError))
              throw new Error(`the import failed with ${String(error)} instead of a list of problems`, { cause: error })
            assert.ok(error.problems.length > 0, 'an ImportError without problems')
            for (const p of error.problems) {
              const line = formatProblem('file.csv', p)
              assert.ok(Number.isInteger(p.line) && p.line >= 1, `a problem without a line: ${line}`)
              // A problem about a column the file lacks has column 0 (or null): it is printed with its name only.
              assert.ok(p.column === null || (Number.isInteger(p.column) && p.column >= 0), `a problem with a bad column: ${line}`)
              assert.ok(p.message.trim().length > 0, `a problem without a message: ${line}`)
              assert.match(line, /^file\.csv:\d+(:\d+)?( \(.*\))?: \S/)
            }
            assert.deepEqual(await writesWhere(mark), {}, 'a rejected import wrote')
            assert.deepEqual(checksumDifference(before, await databaseChecksum(services.db)), [], 'a rejected import changed the database')
            return
          }
          if (dryRun) {
            assert.deepEqual(await writesWhere(mark), {}, 'a dry run wrote')
            return
          }
          // Imported: the same file again changes nothing.
          const again = writeMark(services.db)
          const second = await importFile(services, importer, text, systemPrincipal, { leadProvider })
          assert.equal(second.created + second.updated, 0, `the same file a second time changed rows: ${JSON.stringify(second)}`)
          assert.deepEqual(await writesWhere(await again), {}, 'the same file a second time wrote')
        }),
        importRuns,
        (importRegressions[kind] ?? []).map(
          (text) => [text, { dryRun: false, asAdmin: false }] as [string, { dryRun: boolean; asAdmin: boolean }],
        ),
      )
    },
  )
}

// ---- the JSON API ----

type Operation = { method: string; path: string; operationId: string; parameters: Parameter[]; body: JsonSchema | undefined }
type Parameter = { name: string; in: 'path' | 'query'; required: boolean; schema: JsonSchema }

function apiOperations(): Operation[] {
  const doc = services.api.document() as {
    paths: Record<
      string,
      Record<string, { operationId: string; parameters?: Parameter[]; requestBody?: { content: Record<string, { schema: JsonSchema }> } }>
    >
  }
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      operationId: op.operationId,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content['application/json']?.schema,
    })),
  )
}

type ApiCase = {
  path: Record<string, string>
  query: [string, string][]
  body: { kind: 'json'; value: unknown } | { kind: 'raw'; payload: string; contentType: string } | { kind: 'none' }
  auth: string | null
  /** Wraps the JSON body in this many arrays (a deeply nested payload). */
  deep: number
}

const querySerialise = (name: string, value: unknown): [string, string][] =>
  Array.isArray(value)
    ? value.map((v) => [name, typeof v === 'string' ? v : JSON.stringify(v)])
    : [[name, typeof value === 'string' ? value : (JSON.stringify(value) ?? '')]]

/** Regressions for the API, replayed before the generated cases (fast-check's examples). */
const apiRegressions: Record<string, Omit<ApiCase, 'auth'>[]> = {
  // A path segment over 100 characters: Fastify's own 414 with `error` a string, not an error object (web/app.ts).
  getEvent: [{ path: { event_id: 'x'.repeat(150) }, query: [], body: { kind: 'none' }, deep: 0 }],
  // A broken %-escape in the path: Fastify's own 400, likewise.
  listBookings: [{ path: { event_id: '\ud800' }, query: [], body: { kind: 'none' }, deep: 0 }],
  // A lone surrogate, and a body nested 100,000 arrays deep.
  recordLearning: [
    { path: {}, query: [], body: { kind: 'json', value: { events: [{ activity_code: '\ud800' }] } }, deep: 0 },
    { path: {}, query: [], body: { kind: 'json', value: { events: [] } }, deep: 100_000 },
  ],
}

for (const op of apiOperations()) {
  const name = `api ${op.operationId}`
  test(
    `${name}: generated requests get a success or a clear 4xx, and a rejected one writes nothing`,
    { skip: !selected(name) },
    async () => {
      const paramValue = (p: Parameter) =>
        fc.oneof(
          {
            weight: 4,
            arbitrary: validish(p.schema, { ...pools, ids: paramCandidates(op.path.replace(/\{(\w+)\}/g, ':$1'), p.name, pools) }, p.name),
          },
          { weight: 1, arbitrary: hostileJson },
        )
      const pathParams = fc.record(
        Object.fromEntries(
          op.parameters
            .filter((p) => p.in === 'path')
            .map((p) => [p.name, paramValue(p).map((v) => String(typeof v === 'string' ? v : JSON.stringify(v)))]),
        ),
      )
      const queryParams = fc
        .tuple(
          fc.record(Object.fromEntries(op.parameters.filter((p) => p.in === 'query').map((p) => [p.name, paramValue(p)])), {
            requiredKeys: [],
          }),
          fc.array(fc.tuple(hostileString, hostileString), { maxLength: 2 }),
        )
        .map(([known, extra]) => [...Object.entries(known).flatMap(([k, v]) => querySerialise(k, v)), ...extra])
      const body: fc.Arbitrary<ApiCase['body']> = op.body
        ? fc.oneof(
            { weight: 10, arbitrary: hostileBody(op.body, pools).map((value) => ({ kind: 'json' as const, value })) },
            { weight: 1, arbitrary: hostileJson.map((value) => ({ kind: 'json' as const, value })) },
            {
              weight: 1,
              arbitrary: fc
                .tuple(
                  fc.constantFrom('{"events": [', '{', 'null', '"x"', '[]', '{"a":1}{"b":2}', 'events=1', '\u0000'),
                  fc.constantFrom(
                    'application/json',
                    'text/plain',
                    'application/x-www-form-urlencoded',
                    'application/xml',
                    'multipart/form-data',
                  ),
                )
                .map(([payload, contentType]) => ({ kind: 'raw' as const, payload, contentType })),
            },
          )
        : fc.oneof(
            { weight: 6, arbitrary: fc.constant({ kind: 'none' as const }) },
            { weight: 1, arbitrary: hostileJson.map((value) => ({ kind: 'json' as const, value })) },
          )
      const auth = fc.oneof(
        { weight: 12, arbitrary: fc.constant(`Bearer ${token}`) },
        {
          weight: 1,
          arbitrary: fc.constantFrom(null, 'Bearer', 'Bearer npq_nope', `bearer ${token}x`, `Basic ${token}`, `Bearer ${token} extra`),
        },
      )
      const deep = fc.oneof({ weight: 15, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 100_000 }) })
      const request: fc.Arbitrary<ApiCase> = fc.record({ path: pathParams, query: queryParams, body, auth, deep })

      await check(
        name,
        fc.asyncProperty(request, async (c) => {
          const url =
            '/api/v1' +
            op.path.slice('/api/v1'.length).replace(/\{(\w+)\}/g, (_, p: string) => encodeSegment(c.path[p] ?? '')) +
            (c.query.length
              ? `?${new URLSearchParams(c.query.map(([k, v]): [string, string] => [k, v.replace(/[\uD800-\uDFFF]/g, '\uFFFD')])).toString()}`
              : '')
          const headers: Record<string, string> = c.auth ? { authorization: c.auth } : {}
          let payload: string | undefined
          if (c.body.kind === 'json') {
            payload = JSON.stringify(c.body.value) ?? 'null'
            if (c.deep) payload = `${'['.repeat(c.deep)}${payload}${']'.repeat(c.deep)}`
            headers['content-type'] = 'application/json'
          } else if (c.body.kind === 'raw') {
            payload = c.body.payload
            headers['content-type'] = c.body.contentType
          }
          const mark = await writeMark(services.db)
          const res = await app.inject({ method: op.method as 'GET', url, headers, ...(payload === undefined ? {} : { payload }) })
          assert.ok(res.statusCode < 500, `${op.method} ${url}: ${res.statusCode} ${res.body.slice(0, 300)}${serverError(res)}`)
          if (res.statusCode >= 400) {
            const problem = jsonRejectionProblem(res)
            assert.equal(problem, null, `${op.method} ${url}: ${problem}`)
            // Authenticating a token records when it was last used (api_tokens.last_used_at): not the request's write.
            assert.deepEqual(
              await writesWhere(mark, ['api_tokens']),
              {},
              `${op.method} ${url}: a rejected request (${res.statusCode}) wrote`,
            )
          }
        }),
        apiRuns,
        (apiRegressions[op.operationId] ?? []).map((c) => [{ ...c, auth: `Bearer ${token}` }] as [ApiCase]),
      )
    },
  )
}

// ---- forms ----

/** The demo account whose pages a path belongs to (the role that uses the route). */
function accountFor(url: string): string | null {
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

type Session = { agent: Agent; csrf: string; email: string | null }
const sessions = new Map<string, Session>()

async function sessionFor(email: string | null): Promise<Session> {
  const key = email ?? 'anonymous'
  const known = sessions.get(key)
  if (known && (email === null || known.agent.cookie(SESSION_COOKIE))) return known
  const agent = new Agent(app)
  if (email) await agent.signIn(email, demoPassword)
  let page = await agent.get(email ? '/' : '/sign-in')
  if (page.statusCode >= 300 && page.statusCode < 400) page = await agent.get(String(page.headers.location))
  const csrf = csrfToken(page.body)
  const session = { agent, csrf, email }
  sessions.set(key, session)
  return session
}

/** Every POST form on every page a role can reach (parameters filled with real ids), by form action. */
let scraped: Promise<Map<string, Map<string, FormField>>> | undefined
function scrapedForms(): Promise<Map<string, Map<string, FormField>>> {
  scraped ??= (async () => {
    const byAction = new Map<string, Map<string, FormField>>()
    const gets = routeTable(app).filter(
      (r) =>
        r.method === 'GET' &&
        (r.access === 'signed-in' || r.access === 'public') &&
        !/\.(csv|xlsx|ics|json)$|download|\/dev\/|\*/.test(r.url),
    )
    for (const route of gets) {
      const session = await sessionFor(route.access === 'public' && !route.url.startsWith('/account') ? null : accountFor(route.url))
      const fillings = paramNames(route.url).length ? [0, 1, 2] : [0]
      for (const i of fillings) {
        const url = route.url.replace(/:([A-Za-z_]+)/g, (_, p: string) => {
          const candidates = paramCandidates(route.url, p, pools)
          return encodeSegment(candidates[i % Math.max(candidates.length, 1)] ?? 'x')
        })
        const res = await session.agent.get(url)
        if (res.statusCode !== 200 || !String(res.headers['content-type'] ?? '').startsWith('text/html')) continue
        for (const form of formsOf(res.body, url)) {
          const fields = byAction.get(form.action) ?? new Map<string, FormField>()
          for (const [fieldName, field] of form.fields) {
            const into = fields.get(fieldName) ?? { values: new Set<string>() }
            for (const v of field.values) into.values.add(v)
            fields.set(fieldName, into)
          }
          byAction.set(form.action, fields)
        }
      }
    }
    return byAction
  })()
  return scraped
}

const formRoutes = routeTable(app).filter(
  (r) => r.method === 'POST' && (r.access === 'signed-in' || r.access === 'public') && !r.url.startsWith('/dev/'),
)

// Tables a rejected form may still write, and why: a failed sign-in is recorded, to slow guessing.
const writtenOnRejection: Record<string, string[]> = { '/sign-in': ['sign_in_attempts'] }

/** What the server logged about a 5xx: the unhandled error's message and where it was thrown. */
function serverError(res: LightMyRequestResponse): string {
  if (res.statusCode < 500) return ''
  const line = [...services.logLines].reverse().find((l) => l.includes('unhandled error'))
  if (!line) return ''
  const entry = JSON.parse(line) as { err?: { message?: string; stack?: string } }
  return `\nserver: ${entry.err?.stack?.split('\n').slice(0, 6).join('\n') ?? entry.err?.message ?? line}`
}

type FormCase = { url: string; pairs: [string, string][]; encoding: BodyEncoding; json: Record<string, unknown> }

/**
 * Regressions: the cases that found a 5xx, replayed before the generated ones (fast-check's examples).
 * `id(table)` is a real row id, which several of them need to get past "not found".
 */
const formRegressions: Record<string, (id: (table: string) => string) => FormCase[]> = {
  // A path id that is not a uuid reached PostgreSQL's uuid type: 500 (events/booking.ts).
  '/participant/events/:id/book': () => [formCase('/participant/events/x/book'), formCase('/participant/events//book', [], 'json')],
  '/participant/events/:id/cancel': () => [formCase('/participant/events//cancel')],
  '/lead-provider/events/:id/bookings/:participant/cancel': (id) => [formCase(`/lead-provider/events/${id('events')}/bookings//cancel`)],
  '/delivery-partner/events/:id/bookings/:participant/cancel': (id) => [
    formCase(`/delivery-partner/events/${id('events')}/bookings/x/cancel`),
  ],
  // The same, in declarations/routes.ts and lifecycle/routes.ts.
  '/lead-provider/declarations/:id/void': () => [formCase('/lead-provider/declarations//void', [['reason', 'application-accepted']])],
  '/delivery-partner/lifecycle/deferrals/:id/conversation': () => [formCase('/delivery-partner/lifecycle/deferrals/x/conversation')],
  '/lead-provider/lifecycle/deferrals/:id/decision': () => [formCase('/lead-provider/lifecycle/deferrals/x/decision')],
  '/lead-provider/lifecycle/withdrawals/:id/decision': () => [formCase('/lead-provider/lifecycle/withdrawals/x/decision')],
  // A repeated field arrives as an array, which has no .trim(): 500 (applications/routes.ts, declarations/agreements.ts).
  '/lead-provider/applications/:id/accept': () =>
    pools.idsOfTable('applications').map((a) =>
      formCase(`/lead-provider/applications/${a}/accept`, [
        ['override', ''],
        ['override', ''],
        ['deliveryPartner', ''],
        ['cohort', ''],
        ['schedule', ''],
        ['schedule', ''],
      ]),
    ),
  '/lead-provider/enrolments/:id/agreements': (id) => [
    formCase(`/lead-provider/enrolments/${id('enrolments')}/agreements`, [
      ['school_contract_signed_on', '2020-01-01'],
      ['sponsorship_agreement_signed_on', '0'],
      ['sponsorship_agreement_signed_on', '2020-01-01'],
    ]),
  ],
  // A member that is not a uuid reached PostgreSQL (people/people.ts).
  '/delivery-partner/people/groups': (id) => [
    formCase('/delivery-partner/people/groups', [
      ['kind', 'community'],
      ['name', '!'],
      ['members', '!'],
      ['members', id('enrolments')],
    ]),
  ],
  // A lone surrogate in a JSON body reached a json column: 500 (web/app.ts now makes it U+FFFD).
  '/lead-provider/forums/:forumId/threads': (id) => [
    {
      ...formCase(
        `/lead-provider/forums/${id('forums')}/threads`,
        [
          ['title', 'x'],
          ['body', 'y'],
        ],
        'json',
      ),
      json: { title: '\ud800', body: 'y' },
    },
  ],
  // A path segment over 100 characters, or a broken %-escape: Fastify's own JSON 414/400, not a page (web/app.ts).
  '/lead-provider/catalogue/:lp/:course/edit': () => [
    formCase(`/lead-provider/catalogue/${' '.repeat(150)}/npq-headship/edit`.replace(/ /g, '%20')),
    formCase('/lead-provider/catalogue/%ED%A0/npq-headship/edit'),
  ],
}

function formCase(url: string, pairs: [string, string][] = [], encoding: BodyEncoding = 'form'): FormCase {
  return { url, pairs, encoding, json: Object.fromEntries(pairs) }
}

for (const route of formRoutes) {
  const name = `form POST ${route.url}`
  test(
    `${name}: generated form posts get a success or a clear 4xx, and a rejected one writes nothing`,
    { skip: !selected(name) },
    async () => {
      const byAction = await scrapedForms()
      const pattern = routePattern(route.url)
      const actions = [...byAction.keys()].filter((a) => pattern.test(a))
      const fields = new Map<string, FormField>()
      for (const action of actions) for (const [k, v] of byAction.get(action)!) fields.set(k, v)
      const email = route.access === 'public' && !['/sign-out'].includes(route.url) ? null : accountFor(route.url)
      const filled = fc
        .tuple(
          ...paramNames(route.url).map((p) =>
            fc.oneof(
              { weight: 4, arbitrary: fc.constantFrom(...paramCandidates(route.url, p, pools), 'x') },
              { weight: 1, arbitrary: hostileString },
            ),
          ),
        )
        .map((values) => {
          let i = 0
          return route.url.replace(/:[A-Za-z_]+/g, () => encodeSegment(values[i++]!))
        })
      const url = actions.length
        ? fc.oneof({ weight: 2, arbitrary: fc.constantFrom(...actions) }, { weight: 1, arbitrary: filled })
        : filled
      const post = fc
        .tuple(url, formBody(fields, pools), bodyEncoding)
        .chain(([u, pairs, encoding]) => jsonForm(pairs).map((json) => ({ url: u, pairs, encoding, json })))

      await check(
        name,
        fc.asyncProperty(post, async ({ url: target, pairs, encoding, json }) => {
          const session = await sessionFor(email)
          const { payload, contentType } = encodeForm(pairs, session.csrf, encoding, json)
          const mark = await writeMark(services.db)
          const res: LightMyRequestResponse = await app.inject({
            method: 'POST',
            url: target,
            payload,
            headers: { cookie: session.agent.cookieHeader(), 'content-type': contentType },
          })
          const label = `POST ${target} (${encoding}) → ${res.statusCode}`
          assert.ok(res.statusCode < 500, `${label}: ${res.body.slice(0, 300)}${serverError(res)}`)
          const rejected = res.statusCode >= 400 || (res.statusCode === 200 && isErrorSummaryPage(res))
          if (res.statusCode >= 400) {
            // Pages answer with HTML; the few JSON endpoints the pages' scripts call, with an API error.
            const json = String(res.headers['content-type'] ?? '').startsWith('application/json')
            const problem = json ? jsonRejectionProblem(res) : htmlRejectionProblem(res)
            assert.equal(problem, null, `${label}: ${problem}`)
          }
          if (rejected) assert.deepEqual(await writesWhere(mark, writtenOnRejection[route.url]), {}, `${label}: a rejected form wrote`)
          // A form that signed the person out (or replaced the session): sign in again for the next case.
          const signedOut = res.statusCode === 303 && String(res.headers.location ?? '').startsWith('/sign-in')
          if (signedOut || res.cookies.some((c) => c.name === SESSION_COOKIE)) sessions.delete(email ?? 'anonymous')
        }),
        formRuns,
        formRegressions[route.url]?.((table) => pools.idsOfTable(table)[0] ?? 'x').map((c) => [c] as [FormCase]) ?? [],
      )
    },
  )
}
