import fs from 'node:fs'
import path from 'node:path'
import { run } from 'node:test'
import { spec } from 'node:test/reporters'
import pg from 'pg'
import { chromiumPath } from '../src/test-support/browser-path.ts'
import { defaultTestDatabaseUrl } from '../src/test-support/postgres-url.ts'

// `npm test`: every suite this machine can run.
//   unit      *.test.ts beside the code (pure rules, no database)
//   pglite    *.db.test.ts against the embedded database
//   postgres  *.db.test.ts again against real PostgreSQL, when one is reachable
//   browser   test/browser/*.test.ts in Chromium with axe, when Chromium is installed
// A suite that cannot run here is skipped and named; with NPQ_REQUIRE_ALL_SUITES=1 (CI) that is a failure.
// Arguments filter test files by substring: `npm test -- accounts`.

const root = path.resolve(import.meta.dirname, '..')
const filters = process.argv.slice(2)
const requireAll = process.env.NPQ_REQUIRE_ALL_SUITES === '1'

function findFiles(dir: string, match: (name: string) => boolean): string[] {
  const found: string[] = []
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) found.push(...findFiles(full, match))
    else if (match(entry.name)) found.push(full)
  }
  return found.filter((f) => filters.length === 0 || filters.some((s) => f.includes(s))).sort()
}

const unitFiles = findFiles(path.join(root, 'src'), (n) => n.endsWith('.test.ts') && !n.endsWith('.db.test.ts'))
const dbFiles = findFiles(path.join(root, 'src'), (n) => n.endsWith('.db.test.ts'))
const browserFiles = fs.existsSync(path.join(root, 'test/browser'))
  ? findFiles(path.join(root, 'test/browser'), (n) => n.endsWith('.test.ts'))
  : []

type SuiteResult = { name: string; passed: number; failed: number; skipped: number; ran: boolean; reason?: string }

async function runSuite(name: string, files: string[], env: Record<string, string>, concurrency: number): Promise<SuiteResult> {
  const result: SuiteResult = { name, passed: 0, failed: 0, skipped: 0, ran: true }
  if (files.length === 0) return result
  process.stdout.write(`\n── ${name}: ${files.length} file(s) ──\n`)
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    const stream = run({ files, concurrency, isolation: 'process', timeout: 10 * 60_000 })
    stream.on('test:pass', (data) => {
      if (data.details.type === 'suite') return
      if (data.skip || data.todo) result.skipped++
      else result.passed++
    })
    stream.on('test:fail', (data) => {
      if (data.details.type !== 'suite') result.failed++
    })
    await new Promise<void>((resolve, reject) => {
      const reporter = stream.compose(spec)
      reporter.on('data', (chunk: string | Buffer) => process.stdout.write(chunk))
      reporter.on('end', resolve)
      reporter.on('error', reject)
    })
  } finally {
    process.env = saved
  }
  return result
}

async function postgresReachable(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 })
  try {
    await client.connect()
    await client.query('select 1')
    return null
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  } finally {
    await client.end().catch(() => {})
  }
}

const results: SuiteResult[] = []
results.push(await runSuite('unit', unitFiles, { NPQ_TEST_DATABASE: 'none' }, 4))
results.push(await runSuite('pglite', dbFiles, { NPQ_TEST_DATABASE: 'pglite' }, 2))

const postgresUrl = process.env.TEST_DATABASE_URL ?? defaultTestDatabaseUrl
const postgresProblem = dbFiles.length ? await postgresReachable(postgresUrl) : null
if (postgresProblem) {
  results.push({
    name: 'postgres',
    passed: 0,
    failed: 0,
    skipped: 0,
    ran: false,
    reason: `no PostgreSQL at ${postgresUrl} (${postgresProblem}); set TEST_DATABASE_URL`,
  })
} else {
  results.push(await runSuite('postgres', dbFiles, { NPQ_TEST_DATABASE: 'postgres', TEST_DATABASE_URL: postgresUrl }, 2))
}

const chromium = chromiumPath()
if (!chromium) {
  results.push({
    name: 'browser',
    passed: 0,
    failed: 0,
    skipped: 0,
    ran: false,
    reason: 'Chromium not found (install Debian’s chromium, or set CHROMIUM_PATH)',
  })
} else {
  results.push(await runSuite('browser', browserFiles, { NPQ_TEST_DATABASE: 'pglite', CHROMIUM_PATH: chromium }, 1))
}

process.stdout.write('\n── summary ──\n')
for (const r of results) {
  process.stdout.write(
    r.ran
      ? `${r.name.padEnd(9)} ${r.passed} passed, ${r.failed} failed${r.skipped ? `, ${r.skipped} skipped` : ''}\n`
      : `${r.name.padEnd(9)} SKIPPED: ${r.reason}\n`,
  )
}
const skippedSuites = results.filter((r) => !r.ran)
const passed = results.reduce((n, r) => n + r.passed, 0)
const failed = results.reduce((n, r) => n + r.failed, 0)
const skipped = results.reduce((n, r) => n + r.skipped, 0)
if (skippedSuites.length && requireAll) {
  process.stdout.write(`NPQ_REQUIRE_ALL_SUITES=1 and ${skippedSuites.map((s) => s.name).join(', ')} could not run: failing.\n`)
}
process.stdout.write(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`)
process.exitCode = failed > 0 || (requireAll && skippedSuites.length > 0) || passed === 0 ? 1 : 0
