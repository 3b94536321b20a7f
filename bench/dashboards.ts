import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { sql } from 'kysely'
import type { FastifyInstance } from 'fastify'
import { createSession } from '../src/accounts/sessions.ts'
import { refreshFigures } from '../src/dashboards/figure-store.ts'
import { clearDashboardCache, dashboardCache, dashboardClock } from '../src/dashboards/figures.ts'
import { buildApp } from '../src/routes.ts'
import type { Services } from '../src/services.ts'
import { SESSION_COOKIE } from '../src/web/app.ts'
import { benchDatabaseUrl, formatCount, openServices, progressLog } from './databases.ts'
import { defaultAsOf } from './plan.ts'

// Issue 9 item 7 (part): the dashboards' server time on the national-scale database (bench/generate.ts).
// `npm run bench` runs it after bench/run.ts's measurements; alone: `node bench/dashboards.ts [--runs 40]`.
//
// Each page is requested through the application (Fastify's inject: routing, session, access, SQL,
// engine, templates; no network), signed in as a delivery partner lead of each generated partner and
// as an admin of each lead provider (users and sessions made here), with the dashboards' clock at the
// benchmark's date. Measured:
//  - the figures job: what the worker's `figures-refresh` does every ten minutes and after midnight,
//    the engine and output evaluation of every lead provider's cohorts into `enrolment_figures`;
//  - cold: the first request for each dashboard in a process, which reads the stored figures (and
//    computes money for the lead provider);
//  - warm: later requests (until the next refresh), where the live SQL counts still run each time:
//    the delivery partner's dashboard (no filter and by cohort and course), the lead provider's (no
//    filter, by cohort, by partner) and participant pages (computed for one person on every request).
// Target: warm p95 < 50 ms for each kind of page.

export type DashboardBenchResult = {
  asOf: string
  runs: number
  figuresJob: { ms: number; cohorts: number; enrolments: number }
  cold: { deliveryPartnerMs: { p50: number; max: number }; leadProviderMs: { max: number; each: Record<string, number> } }
  warm: Record<'deliveryPartner' | 'leadProvider' | 'participant', { p50: number; p95: number; max: number; n: number }>
  checks: { name: string; ok: boolean; detail: string }[]
  targets: { name: string; target: string; measured: string; met: boolean }[]
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0
}
const round = (n: number) => Math.round(n * 10) / 10
const stats = (ms: number[]) => ({
  p50: round(percentile(ms, 50)),
  p95: round(percentile(ms, 95)),
  max: round(Math.max(0, ...ms)),
  n: ms.length,
})

/** A signed-in session for a bench user with one role (made once, reused by later runs). */
export async function sessionFor(services: Services, email: string, role: string, organisationId: string): Promise<string> {
  const { db } = services
  const user = await db
    .insertInto('users')
    .values({ email, full_name: `Bench ${role}`, password_hash: null, status: 'active' })
    .onConflict((oc) => oc.column('email').doUpdateSet({ status: 'active' }))
    .returning('id')
    .executeTakeFirstOrThrow()
  const has = await db
    .selectFrom('role_assignments')
    .select('id')
    .where('user_id', '=', user.id)
    .where('role', '=', role)
    .where('organisation_id', '=', organisationId)
    .executeTakeFirst()
  if (!has) await db.insertInto('role_assignments').values({ user_id: user.id, role, organisation_id: organisationId }).execute()
  return `${SESSION_COOKIE}=${await createSession(db, user.id)}`
}

export async function runDashboardBench(
  url: string,
  options: { asOf?: string; runs?: number; quiet?: boolean } = {},
): Promise<DashboardBenchResult> {
  const log = progressLog(options.quiet)
  const asOf = options.asOf ?? defaultAsOf
  const runs = options.runs ?? 40
  const services = await openServices(url)
  const checks: DashboardBenchResult['checks'] = []
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail })
  let app: FastifyInstance | undefined
  const clock = dashboardClock.now
  const ttl = dashboardCache.ttlMs
  try {
    const { db } = services
    // The dashboards' "today" is the benchmark's date, noon in London.
    dashboardClock.now = () => new Date(`${asOf}T12:00:00Z`)
    dashboardCache.ttlMs = 60 * 60_000
    clearDashboardCache(services)
    app = await buildApp(services)

    const partners = await db
      .selectFrom('organisations as dp')
      .innerJoin('enrolments as e', 'e.delivery_partner_id', 'dp.id')
      .select(['dp.id', 'dp.code'])
      .distinct()
      .where('dp.kind', '=', 'delivery-partner')
      .where('dp.code', 'like', 'bench-dp-%')
      .orderBy('dp.code')
      .execute()
    const providers = await db
      .selectFrom('organisations as lp')
      .select(['lp.id', 'lp.code'])
      .where('lp.kind', '=', 'lead-provider')
      .where(({ exists, selectFrom }) => exists(selectFrom('enrolments as e').select('e.id').whereRef('e.lead_provider_id', '=', 'lp.id')))
      .orderBy('lp.code')
      .execute()
    if (partners.length === 0) throw new Error('no generated delivery partners: run `npm run bench:generate` first')
    const dpSessions = new Map<string, string>()
    for (const p of partners)
      dpSessions.set(p.code, await sessionFor(services, `bench-dashboard-${p.code}@bench.test`, 'delivery-partner-lead', p.id))
    const lpSessions = new Map<string, string>()
    for (const p of providers)
      lpSessions.set(p.code, await sessionFor(services, `bench-dashboard-${p.code}@bench.test`, 'lead-provider-admin', p.id))

    const get = async (path: string, cookie: string) => {
      const started = performance.now()
      const res = await app!.inject({ method: 'GET', url: path, headers: { cookie } })
      const ms = performance.now() - started
      if (res.statusCode !== 200) check(`GET ${path}`, false, `status ${res.statusCode}`)
      return { ms, body: res.body }
    }

    // The figures job, as the worker runs it for the day.
    const jobStarted = performance.now()
    const stored = await refreshFigures(services, dashboardClock.now(), 0)
    const figuresJob = {
      ms: Math.round(performance.now() - jobStarted),
      cohorts: stored.length,
      enrolments: stored.reduce((n, r) => n + r.enrolments, 0),
    }
    log(`figures job: ${formatCount(figuresJob.enrolments)} enrolments in ${figuresJob.cohorts} cohorts, ${formatCount(figuresJob.ms)} ms`)

    // Cold: each lead provider's dashboard, then each partner's (the partner's figures are their own units).
    const lpCold: Record<string, number> = {}
    for (const p of providers) {
      const r = await get('/lead-provider/dashboard', lpSessions.get(p.code)!)
      lpCold[p.code] = round(r.ms)
      check(
        `the ${p.code} dashboard compares its partners`,
        r.body.includes('Delivery partners compared') && r.body.includes('bench-dp'),
        '',
      )
      log(`cold: lead provider ${p.code}: ${formatCount(Math.round(r.ms))} ms`)
    }
    const dpCold: number[] = []
    for (const p of partners) {
      const r = await get('/delivery-partner/dashboard', dpSessions.get(p.code)!)
      dpCold.push(r.ms)
      check(
        `the ${p.code} dashboard has its participants`,
        r.body.includes('Participants by status') && !r.body.includes('No participants in this selection'),
        '',
      )
    }
    log(`cold: ${partners.length} delivery partners: p50 ${round(percentile(dpCold, 50))} ms, max ${round(Math.max(...dpCold))} ms`)

    // Participants to open: spread over the partners.
    const sample = await sql<{ id: string; dp: string; lp: string }>`
      select e.id, dp.code as dp, lp.code as lp from enrolments e
      join organisations dp on dp.id = e.delivery_partner_id join organisations lp on lp.id = e.lead_provider_id
      where dp.code like 'bench-dp-%' order by md5(e.id::text) limit ${runs}`.execute(db)

    // Warm.
    const cohorts = await db.selectFrom('enrolments').select(['cohort', 'course_identifier']).distinct().execute()
    const warm = { deliveryPartner: [] as number[], leadProvider: [] as number[], participant: [] as number[] }
    for (let i = 0; i < runs; i++) {
      const p = partners[i % partners.length]!
      const c = cohorts[i % cohorts.length]!
      const dpPath =
        i % 2 === 0 ? '/delivery-partner/dashboard' : `/delivery-partner/dashboard?cohort=${c.cohort}&course=${c.course_identifier}`
      warm.deliveryPartner.push((await get(dpPath, dpSessions.get(p.code)!)).ms)
      const lp = providers[i % providers.length]!
      const lpPath = [
        '/lead-provider/dashboard',
        `/lead-provider/dashboard?cohort=${c.cohort}`,
        `/lead-provider/dashboard?partner=${partners[(i * 7) % partners.length]!.code}`,
      ][i % 3]!
      warm.leadProvider.push((await get(lpPath, lpSessions.get(lp.code)!)).ms)
      const s = sample.rows[i % Math.max(1, sample.rows.length)]
      if (s) {
        const area = i % 2 === 0 ? 'delivery-partner' : 'lead-provider'
        const cookie = area === 'delivery-partner' ? dpSessions.get(s.dp)! : lpSessions.get(s.lp)!
        const r = await get(`/${area}/participants/${s.id}`, cookie)
        warm.participant.push(r.ms)
        if (i === 0) check('a participant page shows engagement by block', r.body.includes('Engagement by block'), '')
      }
    }
    const result: DashboardBenchResult = {
      asOf,
      runs,
      figuresJob,
      cold: {
        deliveryPartnerMs: { p50: round(percentile(dpCold, 50)), max: round(Math.max(...dpCold)) },
        leadProviderMs: { max: Math.max(...Object.values(lpCold)), each: lpCold },
      },
      warm: { deliveryPartner: stats(warm.deliveryPartner), leadProvider: stats(warm.leadProvider), participant: stats(warm.participant) },
      checks,
      targets: [],
    }
    for (const [name, key] of [
      ['delivery partner dashboard', 'deliveryPartner'],
      ['lead provider dashboard', 'leadProvider'],
      ['participant page', 'participant'],
    ] as const) {
      const p95 = result.warm[key].p95
      result.targets.push({ name: `${name}: server time p95 (figures stored)`, target: '< 50 ms', measured: `${p95} ms`, met: p95 < 50 })
    }
    return result
  } finally {
    dashboardClock.now = clock
    dashboardCache.ttlMs = ttl
    await app?.close()
    await services.close()
  }
}

export function formatDashboardTable(r: DashboardBenchResult): string {
  const lines = [
    `dashboards, as of ${r.asOf} (${r.runs} warm runs of each page)`,
    `  figures job (worker): ${formatCount(r.figuresJob.enrolments)} enrolments in ${r.figuresJob.cohorts} cohorts, ${formatCount(r.figuresJob.ms)} ms`,
    `  cold (first read of the stored figures in a process): lead provider ${Object.entries(r.cold.leadProviderMs.each)
      .map(([k, v]) => `${k} ${formatCount(v)} ms`)
      .join(', ')}; delivery partner p50 ${r.cold.deliveryPartnerMs.p50} ms, max ${r.cold.deliveryPartnerMs.max} ms`,
  ]
  for (const [name, s] of [
    ['delivery partner dashboard', r.warm.deliveryPartner],
    ['lead provider dashboard', r.warm.leadProvider],
    ['participant page', r.warm.participant],
  ] as const)
    lines.push(`  warm ${name}: p50 ${s.p50} ms, p95 ${s.p95} ms, max ${s.max} ms`)
  lines.push('targets:')
  for (const t of r.targets) lines.push(`  ${t.met ? 'met    ' : 'MISSED '} ${t.name}: ${t.measured} (target ${t.target})`)
  const failed = r.checks.filter((c) => !c.ok)
  lines.push(failed.length === 0 ? `dashboard checks: all ${r.checks.length} passed` : `dashboard checks: ${failed.length} FAILED`)
  for (const c of failed) lines.push(`  FAILED ${c.name}: ${c.detail}`)
  return `${lines.join('\n')}\n`
}

/** For bench/run.ts: runs, prints (stderr with --json), and fails the process on a failed check. */
export async function benchDashboards(
  url: string,
  options: { tiny?: boolean; quiet?: boolean; json?: boolean; asOf?: string },
): Promise<void> {
  const result = await runDashboardBench(url, { asOf: options.asOf, runs: options.tiny ? 3 : 40, quiet: options.quiet })
  ;(options.json ? process.stderr : process.stdout).write(formatDashboardTable(result))
  if (result.checks.some((c) => !c.ok)) process.exitCode = 1
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '40' },
      'as-of': { type: 'string', default: defaultAsOf },
      json: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
    },
  })
  runDashboardBench(benchDatabaseUrl(), { asOf: values['as-of'], runs: Number(values.runs), quiet: values.quiet })
    .then((result) => {
      process.stdout.write(values.json ? `${JSON.stringify(result, null, 2)}\n` : formatDashboardTable(result))
      if (result.checks.some((c) => !c.ok)) process.exitCode = 1
    })
    .catch((error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exit(1)
    })
}
