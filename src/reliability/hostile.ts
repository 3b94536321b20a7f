import fc from 'fast-check'
import { sql } from 'kysely'
import type { Db } from '../db/database.ts'

// Hostile input for the property-based tests of issue 10 (hostile-input.db.test.ts): what to send
// (strings and JSON values an attacker or a careless script would send, and valid-looking values
// generated from the JSON Schemas the zod request schemas produce), how many cases, and how to tell
// that a rejected request wrote nothing.

/** Cases per target: small by default (CI), NPQ_FUZZ_RUNS=10000 for the full run. */
export const fuzzRuns = (fallback: number): number => {
  const n = Number(process.env.NPQ_FUZZ_RUNS ?? '')
  return Number.isInteger(n) && n > 0 ? n : fallback
}

/**
 * One seed for the whole file, printed with every failure so that it reproduces. Fixed by default, so
 * that CI runs the same cases each time (a failure there is never a fluke); NPQ_FUZZ_SEED=<n> runs
 * others, NPQ_FUZZ_SEED=random a new one each run.
 */
export const fuzzSeed: number = (() => {
  const given = process.env.NPQ_FUZZ_SEED
  if (given === 'random') return Math.floor(Math.random() * 2 ** 31)
  const n = Number(given ?? '')
  return given && Number.isInteger(n) ? n : 20_261_204
})()

/** Only targets whose name contains NPQ_FUZZ_TARGET (or one of its comma-separated parts) run: for a full run of a few. */
export const selected = (name: string): boolean =>
  !process.env.NPQ_FUZZ_TARGET || process.env.NPQ_FUZZ_TARGET.split(',').some((part) => name.includes(part.trim()))

// ---- strings ----

const nasty = [
  '',
  ' ',
  '\t',
  '\r\n',
  '\u0000',
  'a\u0000b',
  '\uFEFF',
  '\u202Eevil',
  '\uD800',
  'Ω≈ç√∫',
  '😀👩‍👩‍👧',
  'ﷺ',
  'null',
  'undefined',
  'true',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '0',
  '-1',
  '-999999999999',
  '1e309',
  '99999999999999999999999',
  '0x10',
  '1.5',
  "' OR '1'='1",
  "'; drop table participants; --",
  '" OR ""="',
  '\\',
  '%',
  '_',
  '$1',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  '{{ 7*7 }}',
  '{% raw %}',
  '${7*7}',
  "=cmd|' /C calc'!A0",
  '+SUM(1+1)',
  '-2+3',
  '@SUM(1)',
  '../../../../etc/passwd',
  '%2e%2e%2f',
  'javascript:alert(1)',
  '__proto__',
  'constructor',
  '0000-00-00',
  '2023-02-30',
  '2023-13-01',
  '9999-12-31',
  '0001-01-01',
  '275760-09-13',
  '-000001-01-01',
  '2023-01-01T25:61:00Z',
  '2023-01-01T00:00:00+99:99',
  '2023-01-01T00:00:00',
  '2023-06-01T10:00:00Z',
  '2023-06-01',
  '2022-autumn',
  '2099-spring',
  'yes',
  'no',
  'YES',
  'on',
  'x'.repeat(256),
  'x'.repeat(10_001),
  '\u00e9'.repeat(5000),
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f6',
]

/** Strings that break naive code: control and unusual characters, injections, odd numbers and dates, huge values. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...nasty) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 1, arbitrary: fc.double().map(String) },
  { weight: 1, arbitrary: fc.string({ maxLength: 5 }).map((s) => s.repeat(20_000).slice(0, 100_000)) },
)

/** Any JSON value, hostile ones preferred. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, {}, []) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 200 }).map((depth) => nest(depth)) },
  { weight: 1, arbitrary: fc.constant({ __proto__: { admin: true }, constructor: { prototype: {} } } as unknown) },
)

function nest(depth: number): unknown {
  let value: unknown = 'deep'
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value }
  return value
}

// ---- values from JSON Schema (what z.toJSONSchema gives for a request schema) ----

export type JsonSchema = {
  type?: string | string[]
  enum?: unknown[]
  const?: unknown
  format?: string
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  items?: JsonSchema
  minItems?: number
  maxItems?: number
  properties?: Record<string, JsonSchema>
  required?: string[]
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  allOf?: JsonSchema[]
  default?: unknown
}

export type ValuePools = {
  /** Real ids in the database, so that generated requests reach past "not found". */
  ids: readonly string[]
  /** Real values by field name (codes, cohorts, activity codes, …). */
  byName: (name: string) => readonly string[]
}

/** A value meant to be valid for the schema (or nearly), built from real ids and values where it can. */
export function validish(schema: JsonSchema | undefined, pools: ValuePools, name = '', depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 6) return fc.jsonValue({ maxDepth: 2 })
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum) return fc.constantFrom(...schema.enum)
  const alternatives = schema.anyOf ?? schema.oneOf
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => validish(s, pools, name, depth + 1)))
  if (schema.allOf?.length) return validish(schema.allOf[0], pools, name, depth + 1)
  const types = [schema.type ?? 'any'].flat()
  return fc.oneof(...types.map((t) => validishOfType(t, schema, pools, name, depth)))
}

function validishOfType(type: string, schema: JsonSchema, pools: ValuePools, name: string, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case 'null':
      return fc.constant(null)
    case 'boolean':
      return fc.boolean()
    case 'integer':
    case 'number': {
      const min = schema.minimum ?? (schema.exclusiveMinimum !== undefined ? schema.exclusiveMinimum + 1 : -1000)
      const max = schema.maximum ?? (schema.exclusiveMaximum !== undefined ? schema.exclusiveMaximum - 1 : 1000)
      const lo = Math.max(Math.ceil(Math.min(min, max)), -1e6)
      const hi = Math.min(Math.floor(Math.max(min, max)), 1e6)
      return type === 'integer'
        ? fc.integer({ min: lo, max: hi })
        : fc.oneof(fc.integer({ min: lo, max: hi }), fc.double({ min: lo, max: hi, noNaN: true }))
    }
    case 'string':
      return validishString(schema, pools, name)
    case 'array':
      return fc.array(validish(schema.items, pools, name, depth + 1), {
        minLength: Math.min(schema.minItems ?? 0, 3),
        maxLength: Math.max(Math.min(schema.maxItems ?? 3, 3), Math.min(schema.minItems ?? 0, 3)),
      })
    case 'object': {
      const props = Object.entries(schema.properties ?? {})
      const required = new Set(schema.required ?? [])
      const record: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [key, s] of props) record[key] = validish(s, pools, key, depth + 1)
      return fc.record(record, { requiredKeys: props.map(([k]) => k).filter((k) => required.has(k)) })
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

function validishString(schema: JsonSchema, pools: ValuePools, name: string): fc.Arbitrary<string> {
  const known = pools.byName(name)
  const options: fc.Arbitrary<string>[] = []
  if (known.length) options.push(fc.constantFrom(...known))
  switch (schema.format) {
    case 'uuid':
      options.push(fc.uuid({ version: [4] }))
      if (pools.ids.length) options.push(fc.constantFrom(...pools.ids))
      break
    case 'date':
      options.push(isoDate)
      break
    case 'date-time':
      options.push(isoMoment)
      break
    case 'email':
      options.push(fc.emailAddress())
      break
    default:
      if (schema.pattern) options.push(fc.stringMatching(new RegExp(schema.pattern)))
      else if (/(_on|date|from|until|as_of)$/.test(name)) options.push(isoDate)
      else if (/(_at|starts|ends)$/.test(name)) options.push(isoMoment)
      else options.push(fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 30, 30) }))
  }
  return fc.oneof(...options)
}

export const isoDate: fc.Arbitrary<string> = fc
  .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString().slice(0, 10))
export const isoMoment: fc.Arbitrary<string> = fc
  .date({ min: new Date('2020-01-01T00:00:00Z'), max: new Date('2027-12-31T00:00:00Z'), noInvalidDate: true })
  .map((d) => d.toISOString())

/** Mostly valid-looking, sometimes hostile: each value of a generated request. */
export const mixed = (valid: fc.Arbitrary<unknown>): fc.Arbitrary<unknown> =>
  fc.oneof({ weight: 3, arbitrary: valid }, { weight: 1, arbitrary: hostileJson })

/** A JSON body from a schema, with hostile replacements at any depth, extra fields and missing ones. */
export function hostileBody(schema: JsonSchema | undefined, pools: ValuePools, depth = 0): fc.Arbitrary<unknown> {
  if (!schema || depth > 4) return mixed(validish(schema, pools))
  const alternatives = schema.anyOf ?? schema.oneOf
  if (alternatives?.length) return fc.oneof(...alternatives.map((s) => hostileBody(s, pools, depth + 1)))
  if (schema.type === 'object' && schema.properties) {
    const record: Record<string, fc.Arbitrary<unknown>> = {}
    for (const [key, s] of Object.entries(schema.properties)) record[key] = fieldValue(s, pools, key, depth)
    const keys = Object.keys(record)
    const required = new Set(schema.required ?? [])
    return fc
      .oneof(
        { weight: 6, arbitrary: fc.tuple(fc.record(record, { requiredKeys: keys.filter((k) => required.has(k)) }), extraFields) },
        { weight: 1, arbitrary: fc.tuple(fc.record(record, { requiredKeys: [] }), extraFields) },
      )
      .map(([body, extra]) => ({ ...extra, ...(body as Record<string, unknown>) }))
  }
  if (schema.type === 'array') {
    return fc.oneof(
      { weight: 4, arbitrary: fc.array(hostileBody(schema.items, pools, depth + 1), { maxLength: 4 }) },
      { weight: 1, arbitrary: hostileJson },
    )
  }
  return mixed(validish(schema, pools))
}

function fieldValue(schema: JsonSchema, pools: ValuePools, name: string, depth: number): fc.Arbitrary<unknown> {
  const typed = schema.type === 'object' || schema.type === 'array' ? hostileBody(schema, pools, depth + 1) : validish(schema, pools, name)
  return fc.oneof({ weight: 4, arbitrary: typed }, { weight: 1, arbitrary: hostileJson })
}

const extraFields: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({}) },
  {
    weight: 1,
    arbitrary: fc.dictionary(fc.oneof(hostileString, fc.constantFrom('id', 'created_at', 'lead_provider_id')), hostileJson, { maxKeys: 3 }),
  },
)

// ---- writes ----

/**
 * A row-level trigger on every table but sessions (whose expiry slides with each request) logs each
 * insert, update and delete in `hostile_writes`, inside the writing transaction: a rolled-back write
 * leaves nothing there, a committed one a row per row written. Cheaper and stricter than a checksum,
 * so it runs after every generated case.
 */
export async function installWriteLog(db: Db): Promise<void> {
  await sql`create table if not exists hostile_writes (n bigserial primary key, table_name text not null, op text not null)`.execute(db)
  await sql`
    create or replace function hostile_log_write() returns trigger language plpgsql as $$
    begin
      insert into hostile_writes (table_name, op) values (tg_table_name, tg_op);
      return null;
    end $$`.execute(db)
  const tables = await sql<{ name: string }>`
    select table_name as name from information_schema.tables
    where table_schema = 'public' and table_type = 'BASE TABLE' and table_name not in ('sessions', 'hostile_writes')`.execute(db)
  for (const { name } of tables.rows) {
    await sql`create trigger hostile_log_write after insert or update or delete on ${sql.table(name)}
      for each row execute function hostile_log_write()`.execute(db)
  }
}

/** Where the write log stands: the id of its last row. */
export async function writeMark(db: Db): Promise<number> {
  const row = await sql<{ n: string | null }>`select max(n) as n from hostile_writes`.execute(db)
  return Number(row.rows[0]?.n ?? 0)
}

/** The tables written since a mark, with how many rows. */
export async function writesSince(db: Db, mark: number): Promise<Record<string, number>> {
  const rows = await sql<{ table_name: string; op: string; count: string }>`
    select table_name, op, count(*) as count from hostile_writes where n > ${mark} group by 1, 2 order by 1, 2`.execute(db)
  return Object.fromEntries(rows.rows.map((r) => [`${r.op.toLowerCase()} ${r.table_name}`, Number(r.count)]))
}

/**
 * A checksum of every table but sessions, the write log and pg-boss's own bookkeeping: row counts and
 * an md5 of the rows. Used around imports, which could touch any table.
 */
export async function databaseChecksum(db: Db): Promise<Map<string, string>> {
  const tables = await sql<{ schema: string; name: string }>`
    select table_schema as schema, table_name as name from information_schema.tables
    where table_type = 'BASE TABLE' and table_schema = 'public' and table_name not in ('sessions', 'hostile_writes')
    order by 1, 2`.execute(db)
  const parts = tables.rows.map(
    ({ schema, name }) =>
      sql`select ${`${schema}.${name}`}::text as name, count(*)::text || ':' || md5(coalesce(string_agg(t::text, '|' order by t::text), '')) as sum from ${sql.table(`${schema}.${name}`)} t`,
  )
  const rows = await sql<{ name: string; sum: string }>`${sql.join(parts, sql` union all `)}`.execute(db)
  return new Map(rows.rows.map((r) => [r.name, r.sum]))
}

export function checksumDifference(before: Map<string, string>, after: Map<string, string>): string[] {
  return [...after].filter(([name, sum]) => before.get(name) !== sum).map(([name]) => name)
}
