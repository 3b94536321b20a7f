import fc from 'fast-check'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { sql } from 'kysely'
import type { Db } from '../db/database.ts'
import { textOf } from '../test-support/agent.ts'
import { hostileJson, hostileString, isoDate, isoMoment, type ValuePools } from './hostile.ts'

// Finding the targets of the hostile-input tests from the application itself — the route table, the
// forms its pages render, the values in its database — so that a route, form field or import column
// added later is fuzzed without anyone listing it.

// ---- values in the database ----

export type DbPools = ValuePools & { idsOfTable: (table: string) => readonly string[] }

export async function databasePools(db: Db): Promise<DbPools> {
  const columns = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select c.table_name, c.column_name, c.data_type from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name
    where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.data_type in ('uuid', 'text', 'character varying', 'date', 'integer')
      and c.table_name not in ('sessions', 'hostile_writes', 'kysely_migration', 'kysely_migration_lock')`.execute(db)
  const idsByTable = new Map<string, string[]>()
  const valuesByName = new Map<string, Set<string>>()
  const wanted = /(^id$|_id$|code|cohort|course|identifier|kind|status|type|reference|urn|trn|email|source|result|reason|number)/
  for (const { table_name, column_name, data_type } of columns.rows) {
    if (!wanted.test(column_name)) continue
    const rows = await sql<{ v: string }>`
      select distinct ${sql.ref(column_name)}::text as v from ${sql.table(table_name)} where ${sql.ref(column_name)} is not null limit 12`.execute(
      db,
    )
    const values = rows.rows.map((r) => r.v)
    if (column_name === 'id' && data_type === 'uuid') idsByTable.set(table_name, values)
    const set = valuesByName.get(column_name) ?? new Set()
    for (const v of values) set.add(v)
    valuesByName.set(column_name, set)
  }
  const orgCodes = await db.selectFrom('organisations').select(['kind', 'code']).execute()
  const codes = (kind: string) => orgCodes.filter((o) => o.kind === kind).map((o) => o.code)
  const aliases: Record<string, string[]> = {
    lead_provider: codes('lead-provider'),
    delivery_partner: codes('delivery-partner'),
    delivery_partner_id: codes('delivery-partner'),
  }
  const ids = [...idsByTable.values()].flat()
  return {
    ids,
    idsOfTable: (table) => idsByTable.get(table) ?? [],
    byName: (name) => aliases[name] ?? [...(valuesByName.get(name) ?? [])],
  }
}

/** The table a path parameter names: `/events/:id` → events, `:enrolmentId` → enrolments. */
export function paramCandidates(url: string, param: string, pools: DbPools): string[] {
  const segments = url.split('/')
  const at = segments.indexOf(`:${param}`)
  const before = segments[at - 1]?.replace(/-/g, '_') ?? ''
  const fromName = param
    .replace(/Id$/, '')
    .replace(/([a-z])([A-Z])/g, '$1_$2')
    .toLowerCase()
  const tables = [before, `${fromName}s`, fromName, `${before}s`]
  for (const t of tables) {
    const ids = pools.idsOfTable(t)
    if (ids.length) return [...ids]
  }
  const named = pools.byName(param)
  return named.length ? [...named] : [...pools.ids.slice(0, 20)]
}

export const paramNames = (url: string): string[] => [...url.matchAll(/:([A-Za-z_]+)/g)].map((m) => m[1]!)

export const routePattern = (url: string): RegExp =>
  new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\]/g, (c) => (c === '*' ? '.*' : `\\${c}`)).replace(/:[A-Za-z_]+/g, '[^/]+')}$`)

/** Percent-encodes a path segment; a lone surrogate (which encodeURIComponent refuses) becomes a broken escape. */
export const encodeSegment = (s: string): string => {
  try {
    return encodeURIComponent(s)
  } catch {
    return '%ED%A0'
  }
}

// ---- forms the pages render ----

export type FormField = { values: Set<string> }
export type ScrapedForm = { action: string; fields: Map<string, FormField> }

const attr = (tag: string, name: string): string | undefined => {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag)
  return m ? decodeEntities(m[1]!) : undefined
}
const decodeEntities = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')

/** The POST forms of a page, with their fields and the values the page offers (options, radios, defaults). */
export function formsOf(html: string, pageUrl: string): ScrapedForm[] {
  const forms: ScrapedForm[] = []
  for (const m of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/g)) {
    const tag = m[1]!
    if ((attr(tag, 'method') ?? 'get').toLowerCase() !== 'post') continue
    const action = (attr(tag, 'action') || pageUrl).split('?')[0]!.split('#')[0]!
    const fields = new Map<string, FormField>()
    const add = (name: string | undefined, value: string | undefined) => {
      if (!name || name === '_csrf') return
      const field = fields.get(name) ?? { values: new Set() }
      if (value !== undefined) field.values.add(value)
      fields.set(name, field)
    }
    for (const input of m[2]!.matchAll(/<(input|textarea|button)\b([^>]*)>/g)) add(attr(input[2]!, 'name'), attr(input[2]!, 'value'))
    for (const select of m[2]!.matchAll(/<select\b([^>]*)>([\s\S]*?)<\/select>/g)) {
      const name = attr(select[1]!, 'name')
      add(name, undefined)
      for (const option of select[2]!.matchAll(/<option\b([^>]*)>/g)) add(name, attr(option[1]!, 'value'))
    }
    forms.push({ action, fields })
  }
  return forms
}

// ---- generated form posts ----

/** A form body: the route's fields (scraped) with offered, plausible or hostile values, repeated keys, extra fields. */
export function formBody(fields: Map<string, FormField>, pools: ValuePools): fc.Arbitrary<[string, string][]> {
  const entries = [...fields]
  const one = (name: string, field: FormField): fc.Arbitrary<string[]> => {
    const offered = [...field.values]
    const plausible: fc.Arbitrary<string>[] = [fc.string({ maxLength: 20 })]
    if (offered.length) plausible.push(fc.constantFrom(...offered))
    const named = pools.byName(name)
    if (named.length) plausible.push(fc.constantFrom(...named))
    if (/(date|_on|from|until|day)/.test(name)) plausible.push(isoDate)
    if (/(_at|time|starts|ends)/.test(name)) plausible.push(isoMoment, fc.constantFrom('09:30', '23:59', '24:00', '9am'))
    if (/(count|number|capacity|places|percent|minutes|words|limit|days|price|amount|credits|attempt)/.test(name))
      plausible.push(fc.integer({ min: -5, max: 500 }).map(String))
    const value = fc.oneof({ weight: 4, arbitrary: fc.oneof(...plausible) }, { weight: 2, arbitrary: hostileString })
    return fc.oneof(
      { weight: 8, arbitrary: value.map((v) => [v]) },
      { weight: 1, arbitrary: fc.array(value, { minLength: 2, maxLength: 3 }) },
      { weight: 1, arbitrary: fc.constant<string[]>([]) },
    )
  }
  const known = fc.tuple(
    ...entries.map(([name, field]) => one(name, field).map((values) => values.map((v): [string, string] => [name, v]))),
  )
  const extra = fc.array(fc.tuple(fc.oneof(hostileString, fc.constantFrom('id', 'status', '__proto__', 'constructor')), hostileString), {
    maxLength: 2,
  })
  return fc.tuple(entries.length ? known : fc.constant([]), extra).map(([pairs, more]) => [...pairs.flat(), ...more])
}

export type BodyEncoding = 'form' | 'json' | 'text' | 'multipart'
export const bodyEncoding: fc.Arbitrary<BodyEncoding> = fc.oneof(
  { weight: 12, arbitrary: fc.constant<BodyEncoding>('form') },
  { weight: 1, arbitrary: fc.constant<BodyEncoding>('json') },
  { weight: 1, arbitrary: fc.constant<BodyEncoding>('text') },
  { weight: 1, arbitrary: fc.constant<BodyEncoding>('multipart') },
)

/** A JSON object in place of a form: the same field names with values of any JSON type. */
export const jsonForm = (pairs: [string, string][]): fc.Arbitrary<Record<string, unknown>> =>
  fc
    .tuple(...pairs.map(() => fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: hostileJson })))
    .map((values) => Object.fromEntries(pairs.map(([k, v], i) => [k, values[i] === undefined ? v : values[i]])))

export function encodeForm(
  pairs: [string, string][],
  csrf: string,
  encoding: BodyEncoding,
  json: Record<string, unknown>,
): { payload: string; contentType: string } {
  switch (encoding) {
    case 'json':
      return { payload: JSON.stringify({ ...json, _csrf: csrf }), contentType: 'application/json' }
    case 'text':
      return { payload: pairs.map(([k, v]) => `${k}=${v}`).join('\n'), contentType: 'text/plain' }
    case 'multipart': {
      const boundary = '----npqhostile'
      const part = ([k, v]: [string, string]) =>
        `--${boundary}\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, '')}"\r\n\r\n${v}\r\n`
      return {
        payload: [['_csrf', csrf] as [string, string], ...pairs].map(part).join('') + `--${boundary}--\r\n`,
        contentType: `multipart/form-data; boundary=${boundary}`,
      }
    }
    default: {
      const body = new URLSearchParams()
      body.append('_csrf', csrf)
      for (const [k, v] of pairs) body.append(k, v.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))
      return { payload: body.toString(), contentType: 'application/x-www-form-urlencoded' }
    }
  }
}

// ---- what a rejection must look like ----

/** A clear HTML rejection: a GOV.UK error summary with its messages, or an error page with a heading and text. */
export function htmlRejectionProblem(res: LightMyRequestResponse): string | null {
  if (!String(res.headers['content-type'] ?? '').startsWith('text/html')) return `a ${res.statusCode} that is not an HTML page`
  const summary = textOf(res.body, 'div', 'govuk-error-summary')
  if (summary) return /There is a problem\s+\S/.test(summary) ? null : `an error summary without messages: ${summary}`
  const heading = textOf(res.body, 'h1')
  if (!heading) return `a ${res.statusCode} page without a heading`
  if (res.statusCode === 400 || res.statusCode === 409 || res.statusCode === 422) {
    const paragraph = textOf(res.body, 'p', 'govuk-body')
    if (!paragraph) return `a ${res.statusCode} page (${heading}) that does not say what is wrong`
  }
  return null
}

/** A clear JSON rejection: `{error: {code, message}}`. */
export function jsonRejectionProblem(res: LightMyRequestResponse): string | null {
  let body: unknown
  try {
    body = JSON.parse(res.body)
  } catch {
    return `a ${res.statusCode} that is not JSON: ${res.body.slice(0, 200)}`
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } }).error
  if (typeof error?.code !== 'string' || !error.code) return `a ${res.statusCode} without an error code: ${res.body.slice(0, 200)}`
  if (typeof error.message !== 'string' || !error.message.trim()) return `a ${res.statusCode} without a message: ${res.body.slice(0, 200)}`
  return null
}

export const isErrorSummaryPage = (res: LightMyRequestResponse): boolean => res.body.includes('govuk-error-summary')

export type Inject = FastifyInstance['inject']
