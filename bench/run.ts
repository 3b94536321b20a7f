import crypto from 'node:crypto'
import os from 'node:os'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { from as copyFrom } from 'pg-copy-streams'
import { createApiToken } from '../src/api/api-tokens.ts'
import { findCourse } from '../src/catalogue/courses.ts'
import { londonDateOf } from '../src/dates/london.ts'
import { escalationsReport, outputsReport } from '../src/outputs/report.ts'
import { engagementReport, type EngagementRow } from '../src/reports/engagement-reports.ts'
import { buildApp } from '../src/routes.ts'
import type { Services } from '../src/services.ts'
import { benchDatabaseUrl, dropDatabase, formatCount, openServices, progressLog, throwawayDatabaseUrl } from './databases.ts'
import { generate } from './generate.ts'
import { defaultAsOf, nationalPlan, planCourseCohorts, plannedActivities, type CourseCohort } from './plan.ts'

// `npm run bench [-- --json] [--as-of 2025-12-31] [--dp-runs 20] [--ingest-events 200000]`
//
// On the database bench/generate.ts wrote (DATABASE_URL, default npq_bench), in one run:
//  - the Engagement report for one delivery partner (several runs over different partners, lead
//    providers and cohorts: p50, p95), against a raw SQL aggregate over the same rows (the floor);
//  - the Engagement report for every participant (every lead provider × cohort), against the floor;
//  - batch ingest of learning records through the HTTP API (POST /api/v1/learning-records, the app
//    started in this process, several concurrent requests), against COPY of as many rows into the same
//    table.
// `--tiny` makes its own throwaway database, generates 300 participants, runs every measurement once,
// drops the database, and fails on any error or disagreement (never on timing): CI runs it.

type Options = {
  asOf: string
  dpRuns: number
  warmups: number
  ingestEvents: number
  batchSize: number
  concurrency: number
  quiet: boolean
}

type Scope = { leadProvider: string; leadProviderId: string; cohort: string; deliveryPartner?: string; deliveryPartnerId?: string }

type Timed = { ms: number; rows: number }

export type BenchResult = {
  database: Record<string, number | string>
  machine: {
    cpus: number
    cpuModel: string
    memoryGb: number
    node: string
    postgres: string
    /** The settings that decide ingest and report speed (ops/postgresql/npq.conf sets them). */
    postgresSettings: string
    loadAverage: { before: number; after: number }
  }
  asOf: string
  deliveryPartner: {
    runs: number
    reportMs: { p50: number; p95: number; max: number }
    floorMs: { p50: number; p95: number; max: number }
    ratio: { p50: number; p95: number }
    rowsPerRun: { min: number; max: number }
  }
  everyone: { scopes: number; rows: number; reportMs: number; floorMs: number; ratio: number; slowestScope: string }
  /** The outputs report (issue 6) over the same partner scopes, and escalations for each whole provider. */
  outputs: {
    deliveryPartnerMs: { p50: number; p95: number }
    ratioToEngagement: { p50: number; p95: number }
    escalationsMs: number
    escalationRows: number
  }
  ingest: {
    events: number
    batchSize: number
    concurrency: number
    apiSeconds: number
    apiEventsPerSecond: number
    copySeconds: number
    copyRowsPerSecond: number
    ratio: number
  }
  checks: { name: string; ok: boolean; detail: string }[]
  targets: { name: string; target: string; measured: string; met: boolean }[]
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!
}
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits

async function time<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now()
  const value = await work()
  return { ms: performance.now() - started, value }
}

// --- The floor: one SQL statement over the same rows ----------------------------------------------

type FloorRow = { participant_id: string; course_identifier: string; delivery_partner: string | null; items: number; credits: number }

/**
 * The raw SQL aggregate the report is measured against: for the same enrolments and as-of date, the
 * distinct activity codes evidenced by the first completions of learning records and first attendances
 * on registers (learning_completions and attendance_firsts, the tables the report reads) and current
 * signed meeting logs, and the sum of their credits, per enrolment, in
 * one statement and without the engine's rules. Each enrolment's rows are read through the same
 * indexes the report uses and aggregated on the spot (a lateral subquery), which is the cheapest plan
 * we found for one statement (a union over the whole scope, then grouping, was slower than the report).
 */
async function floorQuery(services: Services, scope: Scope, asOf: string, credits: string, shorts: string): Promise<FloorRow[]> {
  const { rows } = await services.database.pool.query<FloorRow>(
    `with scope as (
       select e.participant_id, e.course_identifier, dp.code as delivery_partner
       from enrolments e left join organisations dp on dp.id = e.delivery_partner_id
       where e.lead_provider_id = $1 and e.cohort = $2 and ($3::uuid is null or e.delivery_partner_id = $3)
     )
     select s.participant_id, s.course_identifier, s.delivery_partner, x.items, x.credits
     from scope s cross join lateral (
       select count(c.credits)::int as items, coalesce(sum(c.credits), 0)::float8 as credits
       from (
         select c.activity_code as code from learning_completions c
         where c.participant_id = s.participant_id and c.course_identifier = s.course_identifier and c.first_on <= $4
         union
         select a.activity_code from attendance_firsts a
         where a.participant_id = s.participant_id and a.course_identifier = s.course_identifier and a.lead_provider_id = $1
           and a.first_on <= $4
         union
         select ($6::jsonb ->> s.course_identifier) || '-MEETING-' || m.meeting_number from meeting_logs m
         where m.participant_id = s.participant_id and m.course_identifier = s.course_identifier
           and m.held_on <= $4 and m.signed_by_line_manager and m.signed_by_participant
           and not exists (select 1 from meeting_logs l where l.supersedes = m.id)
       ) d
       cross join lateral (select ($5::jsonb ->> d.code)::float8 as credits) c
     ) x
     order by s.participant_id, s.course_identifier`,
    [scope.leadProviderId, scope.cohort, scope.deliveryPartnerId ?? null, asOf, credits, shorts],
  )
  return rows
}

/** Credits per activity code (codes name their course) and each course's short name, per provider and cohort. */
function creditTables(courseCohorts: CourseCohort[]): Map<string, { credits: string; shorts: string }> {
  const tables = new Map<string, { credits: string; shorts: string }>()
  for (const key of new Set(courseCohorts.map((c) => `${c.leadProvider}/${c.cohort}`))) {
    const ccs = courseCohorts.filter((c) => `${c.leadProvider}/${c.cohort}` === key)
    const credits = Object.fromEntries(ccs.flatMap((c) => plannedActivities(c).map((a) => [a.code, a.credits])))
    const shorts = Object.fromEntries(ccs.map((c) => [c.course, findCourse(c.course)!.shortName]))
    tables.set(key, { credits: JSON.stringify(credits), shorts: JSON.stringify(shorts) })
  }
  return tables
}

// --- Ingest: the API against COPY ------------------------------------------------------------------

type IngestEvent = {
  event_id: string
  participant_id: string
  activity_code: string
  occurred_at: string
  source: 'automatic'
  progress_percent?: number
}

/** New events for the run: self-study activities of EDT participants in cohorts without self-reporting. */
async function ingestEvents(services: Services, courseCohorts: CourseCohort[], count: number, prefix: string, baseMs: number) {
  const ccs = courseCohorts.filter((c) => c.leadProvider === 'edt' && !c.selfReporting)
  const enrolments = await services.db
    .selectFrom('enrolments as e')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select(['e.participant_id', 'e.course_identifier', 'e.cohort'])
    .where('lp.code', '=', 'edt')
    .where(
      'e.cohort',
      'in',
      ccs.map((c) => c.cohort),
    )
    .orderBy('e.participant_id')
    .limit(20_000)
    .execute()
  const codes = new Map(
    ccs.map((c) => [
      `${c.course}/${c.cohort}`,
      plannedActivities(c)
        .filter((a) => a.evidence === 'activity')
        .map((a) => ({ code: a.code, isVideo: a.isVideo })),
    ]),
  )
  const usable = enrolments.filter((e) => codes.get(`${e.course_identifier}/${e.cohort}`)?.length)
  if (usable.length === 0) throw new Error('no EDT enrolments in a cohort without self-reporting to ingest for')
  const events: IngestEvent[] = []
  for (let i = 0; i < count; i++) {
    const e = usable[i % usable.length]!
    const list = codes.get(`${e.course_identifier}/${e.cohort}`)!
    const activity = list[(i * 7919) % list.length]!
    // Distinct moments: every event is new, in this run and against every earlier one.
    const event: IngestEvent = {
      event_id: `${prefix}-${i}`,
      participant_id: e.participant_id,
      activity_code: activity.code,
      occurred_at: new Date(baseMs - i * 1000 - (i % 997)).toISOString(),
      source: 'automatic',
    }
    if (activity.isVideo || i % 3 === 0) event.progress_percent = (i * 37) % 101
    events.push(event)
  }
  return events
}

async function ingestThroughApi(app: FastifyInstance, token: string, events: IngestEvent[], options: Options) {
  const address = app.server.address()
  if (!address || typeof address === 'string') throw new Error('the app is not listening on a port')
  const url = `http://127.0.0.1:${address.port}/api/v1/learning-records`
  // Bodies are serialised before the clock starts: the client's work is not the server's.
  const bodies: string[] = []
  for (let i = 0; i < events.length; i += options.batchSize) bodies.push(JSON.stringify({ events: events.slice(i, i + options.batchSize) }))
  let next = 0
  let created = 0
  const failures: string[] = []
  const worker = async () => {
    while (next < bodies.length) {
      const body = bodies[next++]!
      const response = await fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      })
      const text = await response.text()
      if (response.status !== 200) {
        failures.push(`HTTP ${response.status}: ${text.slice(0, 300)}`)
        continue
      }
      const parsed = JSON.parse(text) as { data?: { received?: number; created?: number } }
      created += parsed.data?.created ?? 0
    }
  }
  const { ms } = await time(() => Promise.all(Array.from({ length: Math.min(options.concurrency, bodies.length) }, worker)))
  return { ms, created, failures }
}

async function copyIntoLearningRecords(url: string, courseOf: Map<string, string>, events: IngestEvent[]) {
  const escape = (v: string | number | undefined) => (v === undefined ? '\\N' : String(v))
  const lines = events.map((e) =>
    [
      e.participant_id,
      courseOf.get(e.activity_code.split('-')[0]!)!,
      e.activity_code,
      e.occurred_at,
      londonDateOf(new Date(e.occurred_at)),
      e.source,
      escape(e.progress_percent),
      e.event_id,
    ].join('\t'),
  )
  const payload = Buffer.from(`${lines.join('\n')}\n`)
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const stream = client.query(
      copyFrom(
        `copy learning_records (participant_id, course_identifier, activity_code, occurred_at, evidence_on, source,
           progress_percent, client_event_id) from stdin`,
      ),
    )
    const { ms } = await time(() => pipeline(Readable.from([payload]), stream))
    return { ms, rows: Number(stream.rowCount) }
  } finally {
    await client.end()
  }
}

// --- The run -----------------------------------------------------------------------------------------

export async function runBenchmark(url: string, options: Options): Promise<BenchResult> {
  const log = progressLog(options.quiet)
  // Other work on the machine shows up in the timings: the 1-minute load average says how much there was.
  const loadBefore = os.loadavg()[0]!
  const checks: BenchResult['checks'] = []
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail })
  const services = await openServices(url)
  let app: FastifyInstance | undefined
  try {
    const db = services.db
    const courseCohorts = await planCourseCohorts(services)
    const credits = creditTables(courseCohorts)
    const counts = async (table: string) =>
      Number((await services.database.pool.query<{ n: string }>(`select count(*) as n from ${table}`)).rows[0]!.n)
    const database: BenchResult['database'] = {
      participants: await counts('participants'),
      enrolments: await counts('enrolments'),
      deliveryPartners: await counts(`organisations where kind = 'delivery-partner'`),
      learningRecords: await counts('learning_records'),
      events: await counts('events'),
      registerEntries: await counts('register_entries'),
      meetingLogs: await counts('meeting_logs'),
      learningRecordsSize: (
        await services.database.pool.query<{ size: string }>(`select pg_size_pretty(pg_total_relation_size('learning_records')) as size`)
      ).rows[0]!.size,
    }
    if (database.enrolments === 0) throw new Error('the database has no enrolments: run `npm run bench:generate` first')
    // Start from the tables as autovacuum keeps them (earlier runs' ingested rows included), so that
    // index-only scans see an up-to-date visibility map.
    log('vacuum (analyze)')
    await services.database.pool.query('vacuum (analyze)')
    log(
      `database: ${Object.entries(database)
        .map(([k, v]) => `${k} ${typeof v === 'number' ? formatCount(v) : v}`)
        .join(', ')}`,
    )

    // Scopes: every (lead provider, cohort) with enrolments, and every delivery partner within them.
    const scopeRows = await db
      .selectFrom('enrolments as e')
      .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
      .innerJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
      .select(['lp.code as lp', 'lp.id as lpId', 'e.cohort', 'dp.code as dp', 'dp.id as dpId'])
      .where(
        'lp.code',
        'in',
        nationalPlan.map((p) => p.code),
      )
      .groupBy(['lp.code', 'lp.id', 'e.cohort', 'dp.code', 'dp.id'])
      .orderBy('lp.code')
      .orderBy('e.cohort')
      .orderBy('dp.code')
      .execute()
    const dpScopes: Scope[] = scopeRows.map((r) => ({
      leadProvider: r.lp,
      leadProviderId: r.lpId,
      cohort: r.cohort,
      deliveryPartner: r.dp,
      deliveryPartnerId: r.dpId,
    }))
    const wholeScopes: Scope[] = [...new Map(dpScopes.map((s) => [`${s.leadProvider}/${s.cohort}`, s])).values()].map((s) => ({
      leadProvider: s.leadProvider,
      leadProviderId: s.leadProviderId,
      cohort: s.cohort,
    }))
    const report = (scope: Scope) =>
      engagementReport(services, {
        leadProvider: scope.leadProvider,
        cohort: scope.cohort,
        deliveryPartner: scope.deliveryPartner,
        asOf: options.asOf,
      })
    const floor = (scope: Scope) => {
      const table = credits.get(`${scope.leadProvider}/${scope.cohort}`)
      if (!table) throw new Error(`no designs planned for ${scope.leadProvider} ${scope.cohort}`)
      return floorQuery(services, scope, options.asOf, table.credits, table.shorts)
    }
    const selfReporting = (scope: Scope) =>
      courseCohorts.some((c) => c.leadProvider === scope.leadProvider && c.cohort === scope.cohort && c.selfReporting)
    /** The report and the floor must cover the same enrolments; for EDT without self-reporting they must agree on credits. */
    const compare = (scope: Scope, rows: EngagementRow[], floorRows: FloorRow[]) => {
      const name = `${scope.leadProvider} ${scope.cohort}${scope.deliveryPartner ? ` ${scope.deliveryPartner}` : ''}`
      const sameRows =
        rows.length === floorRows.length &&
        rows.every((r, i) => r.participant_id === floorRows[i]!.participant_id && r.course_identifier === floorRows[i]!.course_identifier)
      check(`report and floor cover the same enrolments (${name})`, sameRows, `${rows.length} report rows, ${floorRows.length} floor rows`)
      if (sameRows && scope.leadProvider === 'edt' && !selfReporting(scope)) {
        const differ = rows.filter((r, i) => r.credits_earned !== floorRows[i]!.credits).length
        check(`report credits equal the floor's sum of credits (${name})`, differ === 0, `${differ} of ${rows.length} enrolments differ`)
      }
    }

    // 1. One delivery partner: warm-up runs, then dpRuns runs over partners spread across providers and cohorts.
    const picks = Array.from(
      { length: options.dpRuns },
      (_, i) => dpScopes[Math.floor((i * dpScopes.length) / options.dpRuns) % dpScopes.length]!,
    )
    for (let i = 0; i < options.warmups; i++) {
      const scope = picks[i % picks.length]!
      await report(scope)
      await floor(scope)
    }
    const dpReport: Timed[] = []
    const dpFloor: Timed[] = []
    for (const [i, scope] of picks.entries()) {
      // Alternate which goes first, so neither always finds the other's pages in the cache.
      let r: { ms: number; value: EngagementRow[] }
      let f: { ms: number; value: FloorRow[] }
      if (i % 2 === 0) {
        r = await time(() => report(scope))
        f = await time(() => floor(scope))
      } else {
        f = await time(() => floor(scope))
        r = await time(() => report(scope))
      }
      compare(scope, r.value, f.value)
      dpReport.push({ ms: r.ms, rows: r.value.length })
      dpFloor.push({ ms: f.ms, rows: f.value.length })
      log(
        `one delivery partner ${i + 1}/${picks.length} (${scope.leadProvider} ${scope.cohort} ${scope.deliveryPartner}, ${r.value.length} enrolments): ` +
          `report ${r.ms.toFixed(1)} ms, floor ${f.ms.toFixed(1)} ms`,
      )
    }
    const ratios = dpReport.map((r, i) => r.ms / dpFloor[i]!.ms)
    const deliveryPartner: BenchResult['deliveryPartner'] = {
      runs: picks.length,
      reportMs: {
        p50: round(
          percentile(
            dpReport.map((r) => r.ms),
            50,
          ),
        ),
        p95: round(
          percentile(
            dpReport.map((r) => r.ms),
            95,
          ),
        ),
        max: round(Math.max(...dpReport.map((r) => r.ms))),
      },
      floorMs: {
        p50: round(
          percentile(
            dpFloor.map((r) => r.ms),
            50,
          ),
        ),
        p95: round(
          percentile(
            dpFloor.map((r) => r.ms),
            95,
          ),
        ),
        max: round(Math.max(...dpFloor.map((r) => r.ms))),
      },
      ratio: { p50: round(percentile(ratios, 50), 2), p95: round(percentile(ratios, 95), 2) },
      rowsPerRun: { min: Math.min(...dpReport.map((r) => r.rows)), max: Math.max(...dpReport.map((r) => r.rows)) },
    }

    // 2. Every participant: every lead provider × cohort, one after the other.
    let reportMs = 0
    let floorMs = 0
    let rows = 0
    let slowest = { ms: 0, name: '' }
    for (const [i, scope] of wholeScopes.entries()) {
      const r = await time(() => report(scope))
      const f = await time(() => floor(scope))
      compare(scope, r.value, f.value)
      reportMs += r.ms
      floorMs += f.ms
      rows += r.value.length
      if (r.ms > slowest.ms)
        slowest = { ms: r.ms, name: `${scope.leadProvider} ${scope.cohort} (${formatCount(r.value.length)} enrolments, ${round(r.ms)} ms)` }
      log(
        `everyone ${i + 1}/${wholeScopes.length} (${scope.leadProvider} ${scope.cohort}, ${r.value.length} enrolments): report ${r.ms.toFixed(0)} ms, floor ${f.ms.toFixed(0)} ms`,
      )
    }
    check('the report covers every enrolment', rows === database.enrolments, `${rows} report rows, ${database.enrolments} enrolments`)
    const everyone: BenchResult['everyone'] = {
      scopes: wholeScopes.length,
      rows,
      reportMs: round(reportMs),
      floorMs: round(floorMs),
      ratio: round(reportMs / floorMs, 2),
      slowestScope: slowest.name,
    }

    // 3. Outputs: the same delivery-partner scopes, against the engagement report of the same scope
    // (outputs read everything it reads and more: every attendance, videos, deferrals, assessments).
    const outputRatios: number[] = []
    const outputMs: number[] = []
    for (const [i, scope] of picks.entries()) {
      const query = { leadProvider: scope.leadProvider, cohort: scope.cohort, deliveryPartner: scope.deliveryPartner, asOf: options.asOf }
      const o = await time(() => outputsReport(services, query))
      const e = await time(() => report(scope))
      check(
        `the outputs report covers the engagement report's enrolments (${scope.leadProvider} ${scope.cohort} ${scope.deliveryPartner})`,
        o.value.length === e.value.length,
        `${o.value.length} outputs rows, ${e.value.length} engagement rows`,
      )
      outputMs.push(o.ms)
      outputRatios.push(o.ms / e.ms)
      log(`outputs, one delivery partner ${i + 1}/${picks.length}: ${o.ms.toFixed(1)} ms (engagement ${e.ms.toFixed(1)} ms)`)
    }
    let escalationsMs = 0
    let escalationRows = 0
    for (const lp of [...new Set(wholeScopes.map((s) => s.leadProvider))]) {
      const x = await time(() => escalationsReport(services, { leadProvider: lp, asOf: options.asOf }))
      escalationsMs += x.ms
      escalationRows += x.value.length
      log(`escalations, ${lp} (every cohort): ${x.value.length} rows, ${x.ms.toFixed(0)} ms`)
    }
    const outputs: BenchResult['outputs'] = {
      deliveryPartnerMs: { p50: round(percentile(outputMs, 50)), p95: round(percentile(outputMs, 95)) },
      ratioToEngagement: { p50: round(percentile(outputRatios, 50), 2), p95: round(percentile(outputRatios, 95), 2) },
      escalationsMs: round(escalationsMs),
      escalationRows,
    }

    // 4. Ingest: the API (the app in this process, real HTTP), then COPY of as many new rows.
    const runId = crypto.randomBytes(4).toString('hex')
    const edt = await db
      .selectFrom('organisations')
      .select('id')
      .where('kind', '=', 'lead-provider')
      .where('code', '=', 'edt')
      .executeTakeFirstOrThrow()
    const { token } = await createApiToken(db, { kind: 'system', name: 'bench' }, edt.id, `bench ${runId}`)
    app = await buildApp(services)
    await app.listen({ port: 0, host: '127.0.0.1' })
    const now = Date.now()
    const apiEvents = await ingestEvents(services, courseCohorts, options.ingestEvents, `bench-${runId}-api`, now - 3_600_000)
    const copyEvents = await ingestEvents(services, courseCohorts, options.ingestEvents, `bench-${runId}-copy`, now - 3_600_000 - 500)
    log(`ingest: ${formatCount(apiEvents.length)} events through the API, ${options.batchSize} a request, ${options.concurrency} at once`)
    const api = await ingestThroughApi(app, token, apiEvents, options)
    check(
      'the API accepted every batch',
      api.failures.length === 0,
      api.failures[0] ?? `${Math.ceil(apiEvents.length / options.batchSize)} requests`,
    )
    check('the API created every event', api.created === apiEvents.length, `${api.created} created of ${apiEvents.length}`)
    log(`ingest: API ${api.ms.toFixed(0)} ms; COPY of ${formatCount(copyEvents.length)} rows`)
    const courseOf = new Map(courseCohorts.map((c) => [findCourse(c.course)!.shortName, c.course]))
    const copy = await copyIntoLearningRecords(url, courseOf, copyEvents)
    check('COPY wrote every row', copy.rows === copyEvents.length, `${copy.rows} rows of ${copyEvents.length}`)
    log(`ingest: COPY ${copy.ms.toFixed(0)} ms`)
    const apiRate = (apiEvents.length / api.ms) * 1000
    const copyRate = (copyEvents.length / copy.ms) * 1000
    const ingest: BenchResult['ingest'] = {
      events: apiEvents.length,
      batchSize: options.batchSize,
      concurrency: options.concurrency,
      apiSeconds: round(api.ms / 1000, 2),
      apiEventsPerSecond: Math.round(apiRate),
      copySeconds: round(copy.ms / 1000, 2),
      copyRowsPerSecond: Math.round(copyRate),
      ratio: round(apiRate / copyRate, 2),
    }

    const postgres = (await services.database.pool.query<{ v: string }>("select current_setting('server_version') as v")).rows[0]!.v
    const settings = await services.database.pool.query<{ name: string; setting: string }>(
      `select name, current_setting(name) as setting from pg_settings
       where name in ('shared_buffers', 'max_wal_size', 'wal_compression', 'work_mem') order by name`,
    )
    const postgresSettings = settings.rows.map((r) => `${r.name} ${r.setting}`).join(', ')
    return {
      database,
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGb: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
        postgres,
        postgresSettings,
        loadAverage: { before: round(loadBefore, 2), after: round(os.loadavg()[0]!, 2) },
      },
      asOf: options.asOf,
      deliveryPartner,
      everyone,
      outputs,
      ingest,
      checks,
      targets: [
        {
          name: 'one delivery partner: report / floor (p50 of per-run ratios)',
          target: '≤ 1.5',
          measured: String(deliveryPartner.ratio.p50),
          met: deliveryPartner.ratio.p50 <= 1.5,
        },
        { name: 'every participant: report / floor', target: '≤ 1.5', measured: String(everyone.ratio), met: everyone.ratio <= 1.5 },
        {
          name: 'one delivery partner: report p95',
          target: '< 100 ms',
          measured: `${deliveryPartner.reportMs.p95} ms`,
          met: deliveryPartner.reportMs.p95 < 100,
        },
        {
          name: 'ingest through the API',
          target: '≥ 20,000 events/s',
          measured: `${formatCount(ingest.apiEventsPerSecond)}/s`,
          met: ingest.apiEventsPerSecond >= 20_000,
        },
        { name: 'ingest: API / COPY', target: '≥ 0.3', measured: String(ingest.ratio), met: ingest.ratio >= 0.3 },
      ],
    }
  } finally {
    await app?.close()
    await services.close()
  }
}

export function formatTable(r: BenchResult): string {
  const d = r.database
  const n = (v: number | string | undefined) => (typeof v === 'number' ? formatCount(v) : String(v))
  const lines = [
    `NPQ benchmark, as of ${r.asOf}: ${n(d.participants)} participants, ${n(d.enrolments)} enrolments, ${n(d.deliveryPartners)} delivery partners, ` +
      `${n(d.learningRecords)} learning records (${d.learningRecordsSize}), ${n(d.events)} events, ${n(d.registerEntries)} register entries, ${n(d.meetingLogs)} meeting logs`,
    `machine: ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGb} GB; Node ${r.machine.node}; PostgreSQL ${r.machine.postgres}; ` +
      `load average ${r.machine.loadAverage.before} before, ${r.machine.loadAverage.after} after\n` +
      `PostgreSQL settings: ${r.machine.postgresSettings}`,
    '',
  ]
  const rows: string[][] = [
    ['measurement', 'p50', 'p95', 'total / rate', 'rows'],
    [
      `engagement report, one delivery partner (${r.deliveryPartner.runs} runs)`,
      `${r.deliveryPartner.reportMs.p50} ms`,
      `${r.deliveryPartner.reportMs.p95} ms`,
      '',
      `${n(r.deliveryPartner.rowsPerRun.min)}–${n(r.deliveryPartner.rowsPerRun.max)}`,
    ],
    ['raw SQL floor, same scopes', `${r.deliveryPartner.floorMs.p50} ms`, `${r.deliveryPartner.floorMs.p95} ms`, '', ''],
    ['  ratio report / floor (per run)', `${r.deliveryPartner.ratio.p50}×`, `${r.deliveryPartner.ratio.p95}×`, '', ''],
    [
      `engagement report, every participant (${r.everyone.scopes} provider × cohort reports)`,
      '',
      '',
      `${n(r.everyone.reportMs)} ms`,
      n(r.everyone.rows),
    ],
    ['raw SQL floor, same scopes', '', '', `${n(r.everyone.floorMs)} ms`, n(r.everyone.rows)],
    ['  ratio report / floor', '', '', `${r.everyone.ratio}×`, ''],
    [
      `outputs report, one delivery partner (same runs)`,
      `${r.outputs.deliveryPartnerMs.p50} ms`,
      `${r.outputs.deliveryPartnerMs.p95} ms`,
      '',
      '',
    ],
    ['  ratio outputs / engagement (per run)', `${r.outputs.ratioToEngagement.p50}×`, `${r.outputs.ratioToEngagement.p95}×`, '', ''],
    ['escalations, every provider (all cohorts)', '', '', `${n(r.outputs.escalationsMs)} ms`, n(r.outputs.escalationRows)],
    [
      `ingest through the API (${r.ingest.batchSize}/request, ${r.ingest.concurrency} concurrent)`,
      '',
      '',
      `${n(r.ingest.apiEventsPerSecond)} events/s (${r.ingest.apiSeconds} s)`,
      n(r.ingest.events),
    ],
    ['COPY into learning_records', '', '', `${n(r.ingest.copyRowsPerSecond)} rows/s (${r.ingest.copySeconds} s)`, n(r.ingest.events)],
    ['  ratio API / COPY', '', '', `${r.ingest.ratio}×`, ''],
  ]
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)))
  const align = (row: string[]) => row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ')
  lines.push(align(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(align), '', 'targets:')
  for (const t of r.targets) lines.push(`  ${t.met ? 'met    ' : 'MISSED '} ${t.name}: ${t.measured} (target ${t.target})`)
  lines.push(`slowest provider × cohort report: ${r.everyone.slowestScope}`)
  const failed = r.checks.filter((c) => !c.ok)
  lines.push(failed.length === 0 ? `checks: all ${r.checks.length} passed` : `checks: ${failed.length} FAILED`)
  for (const c of failed) lines.push(`  FAILED ${c.name}: ${c.detail}`)
  return `${lines.join('\n')}\n`
}

async function main() {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      tiny: { type: 'boolean', default: false },
      'as-of': { type: 'string', default: defaultAsOf },
      'dp-runs': { type: 'string' },
      warmups: { type: 'string' },
      'ingest-events': { type: 'string' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(
      'npm run bench -- [--json] [--as-of 2025-12-31] [--dp-runs 20] [--warmups 2] [--ingest-events 200000] [--batch-size 5000] [--concurrency 4]\n' +
        'npm run bench -- --tiny   (CI: throwaway database, 300 participants, every measurement once)\n',
    )
    return
  }
  const int = (value: string | undefined, fallback: number, name: string) => {
    const n = value === undefined ? fallback : Number(value)
    if (!Number.isInteger(n) || n < 0) {
      process.stderr.write(`--${name} must be a whole number\n`)
      process.exit(2)
    }
    return n
  }
  if (!/^\d{4}-\d{2}-\d{2}$/.test(values['as-of'])) {
    process.stderr.write('--as-of must be a date like 2025-12-31\n')
    process.exit(2)
  }
  const tiny = values.tiny
  const options: Options = {
    asOf: values['as-of'],
    dpRuns: Math.max(1, int(values['dp-runs'], tiny ? 1 : 20, 'dp-runs')),
    warmups: int(values.warmups, tiny ? 0 : 2, 'warmups'),
    ingestEvents: Math.max(1, int(values['ingest-events'], tiny ? 2000 : 200_000, 'ingest-events')),
    batchSize: Math.max(1, int(values['batch-size'], tiny ? 500 : 5000, 'batch-size')),
    concurrency: Math.max(1, int(values.concurrency, tiny ? 2 : 4, 'concurrency')),
    quiet: values.quiet,
  }
  let url = benchDatabaseUrl()
  if (tiny) url = throwawayDatabaseUrl()
  let result: BenchResult
  try {
    if (tiny) await generate(url, { participants: 300, recordsPerParticipant: 100, quiet: values.quiet })
    result = await runBenchmark(url, options)
    await (await import('./dashboards.ts')).benchDashboards(url, { tiny, quiet: values.quiet, json: values.json, asOf: options.asOf })
    await (await import('./participant-pages.ts')).benchParticipantPages(url, { tiny, quiet: values.quiet, json: values.json })
    await (await import('./staff-pages.ts')).benchStaffPages(url, { tiny, quiet: values.quiet, json: values.json })
  } finally {
    if (tiny) await dropDatabase(url)
  }
  if (tiny) process.stderr.write('(--tiny: 300 participants, every measurement once; the timings mean nothing, only the checks count)\n')
  if (values.json) {
    process.stderr.write(formatTable(result))
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
  } else {
    process.stdout.write(formatTable(result))
  }
  if (result.checks.some((c) => !c.ok)) process.exit(1)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    process.exit(1)
  })
}
