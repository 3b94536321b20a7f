import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { createSession } from '../src/accounts/sessions.ts'
import type { Db } from '../src/db/database.ts'
import { buildApp } from '../src/routes.ts'
import { SESSION_COOKIE } from '../src/web/app.ts'
import { benchDatabaseUrl, openServices, progressLog } from './databases.ts'

// Issue 9 item 7 (part): the participant's own pages on the national-scale database (bench/generate.ts):
// Home (news, calendar, what is due, where to continue: progress computed for the person), Progress,
// Learn and Events, each requested through the application (Fastify's inject: routing, session, access,
// SQL, engine, templates; no network) as participants spread over every lead provider and cohort, each
// given an account here. Nothing is cached between requests. Target: p95 < 50 ms per page.
// `node bench/participant-pages.ts [--runs 60]`; `npm run bench` runs it after the other measurements.

export type ParticipantPagesResult = {
  runs: number
  pages: Record<string, { p50: number; p95: number; max: number; n: number }>
  checks: { name: string; ok: boolean; detail: string }[]
  targets: { name: string; target: string; measured: string; met: boolean }[]
}

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0
}
const round = (n: number) => Math.round(n * 10) / 10

export const participantPages = ['/participant', '/participant/progress', '/participant/learn', '/participant/events']

export async function runParticipantPagesBench(
  url: string,
  options: { runs?: number; quiet?: boolean } = {},
): Promise<ParticipantPagesResult> {
  const log = progressLog(options.quiet)
  const runs = options.runs ?? 60
  const services = await openServices(url)
  const checks: ParticipantPagesResult['checks'] = []
  let app: FastifyInstance | undefined
  try {
    const { db } = services
    app = await buildApp(services)
    const cookies = await participantSessions(db, 'bench-participant', Math.min(runs, 40))
    if (!cookies.length) throw new Error('no generated participants: run `npm run bench:generate` first')
    log(`participant pages: ${cookies.length} participants, ${runs} requests per page`)

    const times: Record<string, number[]> = Object.fromEntries(participantPages.map((p) => [p, []]))
    for (let i = 0; i < runs + 5; i++) {
      const cookie = cookies[i % cookies.length]!
      for (const page of participantPages) {
        const started = performance.now()
        const res = await app.inject({ method: 'GET', url: page, headers: { cookie } })
        const ms = performance.now() - started
        if (res.statusCode !== 200) checks.push({ name: `GET ${page}`, ok: false, detail: `status ${res.statusCode}` })
        if (i >= 5) times[page]!.push(ms) // the first rounds warm the process (templates, designs)
        if (i === 5 && page === '/participant/progress') {
          checks.push({ name: 'Progress shows engagement', ok: res.body.includes('engagement'), detail: '' })
        }
      }
    }
    const pages = Object.fromEntries(
      Object.entries(times).map(([page, ms]) => [
        page,
        { p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)), max: round(Math.max(0, ...ms)), n: ms.length },
      ]),
    )
    return {
      runs,
      pages,
      checks,
      targets: Object.entries(pages).map(([page, s]) => ({
        name: `GET ${page}: server time p95`,
        target: '< 50 ms',
        measured: `${s.p95} ms`,
        met: s.p95 < 50,
      })),
    }
  } finally {
    await app?.close()
    await services.close()
  }
}

export function formatParticipantPages(r: ParticipantPagesResult): string {
  const lines = ['', `Participant pages (${r.runs} requests each, as different participants)`]
  for (const [page, s] of Object.entries(r.pages)) lines.push(`  ${page.padEnd(24)} p50 ${s.p50} ms  p95 ${s.p95} ms  max ${s.max} ms`)
  for (const t of r.targets) lines.push(`  ${t.met ? 'met   ' : 'MISSED'} ${t.name}: ${t.measured} (target ${t.target})`)
  for (const c of r.checks.filter((x) => !x.ok)) lines.push(`  FAILED ${c.name} ${c.detail}`)
  return `${lines.join('\n')}\n`
}

/** `npm run bench` (and `--tiny` in CI): a few runs, printed after the other measurements; a failed check fails the bench. */
export async function benchParticipantPages(url: string, options: { tiny?: boolean; quiet?: boolean; json?: boolean }): Promise<void> {
  const result = await runParticipantPagesBench(url, { runs: options.tiny ? 3 : 60, quiet: options.quiet })
  ;(options.json ? process.stderr : process.stdout).write(formatParticipantPages(result))
  if (result.checks.some((c) => !c.ok)) process.exitCode = 1
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '60' }, quiet: { type: 'boolean', default: false } } })
  runParticipantPagesBench(benchDatabaseUrl(), { runs: Number(values.runs), quiet: values.quiet })
    .then((r) => {
      process.stdout.write(formatParticipantPages(r))
      if (r.checks.some((c) => !c.ok)) process.exit(1)
    })
    .catch((error: unknown) => {
      process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
      process.exit(1)
    })
}

/**
 * Session cookies of up to `count` generated participants spread over lead providers, cohorts and
 * partners (a stable sample), each signed in as a user `${prefix}-<i>@bench.test` made or reused here.
 */
export async function participantSessions(db: Db, prefix: string, count: number): Promise<string[]> {
  const sample = await sql<{ participant_id: string; dp: string }>`
    select distinct on (e.participant_id) e.participant_id, e.delivery_partner_id as dp from enrolments e
    where e.delivery_partner_id is not null and e.status = 'active'
    order by e.participant_id, e.cohort
    limit 5000`.execute(db)
  const chosen = sample.rows.filter((_, i) => i % Math.max(1, Math.floor(sample.rows.length / count)) === 0).slice(0, count)
  const cookies: string[] = []
  for (const [i, s] of chosen.entries()) {
    const email = `${prefix}-${i}@bench.test`
    const user = await db
      .insertInto('users')
      .values({ email, full_name: `${prefix} ${i}`, password_hash: null, status: 'active' })
      .onConflict((oc) => oc.column('email').doUpdateSet({ status: 'active' }))
      .returning('id')
      .executeTakeFirstOrThrow()
    await db.updateTable('participants').set({ user_id: null }).where('user_id', '=', user.id).execute()
    await db.updateTable('participants').set({ user_id: user.id }).where('id', '=', s.participant_id).execute()
    const has = await db
      .selectFrom('role_assignments')
      .select('id')
      .where('user_id', '=', user.id)
      .where('role', '=', 'participant')
      .executeTakeFirst()
    if (!has) await db.insertInto('role_assignments').values({ user_id: user.id, role: 'participant', organisation_id: s.dp }).execute()
    cookies.push(`${SESSION_COOKIE}=${await createSession(db, user.id)}`)
  }
  return cookies
}
