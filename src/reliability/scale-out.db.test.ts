import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import pg from 'pg'
import pino from 'pino'
import { londonDateOf } from '../dates/london.ts'
import { inTransaction } from '../db/transaction.ts'
import { createServices } from '../services.ts'
import { fakeSmtp, freePort } from '../test-support/fake-smtp.ts'
import { createPostgresDatabase, testConfig, testDatabaseKind } from '../test-support/services.ts'

// Issue 10, item 8: scale-out. The platform run as a deployment runs it — two web processes
// (NPQ_PROCESS=web) and two workers (`npm run worker`'s src/worker.ts, and NPQ_PROCESS=worker), real
// child processes started at the same moment on one fresh PostgreSQL database — and:
//   - a session signed in through web process A works on web process B (and ends there for both); a
//     CSRF token from a page of A is accepted by B; sign-in throttling counts failures made on either;
//   - every email queued goes out exactly once although two workers take jobs from the one queue;
//   - a cron schedule fires once per tick although both workers run the cron pass;
//   - two `npq declare` runs started at the same moment for the same cohort declare each person once.
// The embedded database allows one process only (NPQ_PROCESS=web|worker is refused without
// DATABASE_URL, checked in both suites); everything else runs in the postgres suite.

const embedded = testDatabaseKind() === 'pglite'
const skip = embedded ? 'PostgreSQL only: the embedded database allows one process' : false
const root = path.resolve(import.meta.dirname, '../..')
const bin = path.join(root, 'bin/npq.js')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-scale-out-'))
const password = 'demo-password-for-tests'
const sessionSecret = crypto.randomBytes(24).toString('base64url')
const N = 600 // people in the declaration run
const today = londonDateOf(new Date())

let databaseUrl = ''
let dropDatabase = async () => {}
/** When the test moved the session sweep's schedule to every minute (database time). */
let cronFrom: Date
// A provider takes a moment to accept a message, so both workers get a share of the queue.
const smtp = fakeSmtp({ acceptDelayMs: 20 })

// ── the processes ───────────────────────────────────────────────────────────────────────────────────

type Proc = { name: string; port: number; child: ChildProcess; log: string }
const procs: Proc[] = []

function baseEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH!,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    NPQ_DEMO_PASSWORD: password,
    SESSION_SECRET: sessionSecret,
    HOST: '127.0.0.1',
    EMAIL_TRANSPORT: 'smtp',
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  }
}

async function start(name: string, script: string, env: Record<string, string>): Promise<Proc> {
  const port = await freePort()
  const child = spawn(process.execPath, [path.join(root, script)], { cwd: root, env: { ...baseEnv(), PORT: String(port), ...env } })
  const proc: Proc = { name, port, child, log: '' }
  procs.push(proc)
  child.stdout!.on('data', (chunk: Buffer) => (proc.log += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (proc.log += chunk.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start in 120s:\n${proc.log.slice(-3000)}`)), 120_000)
    const check = () => {
      if (/NPQ (worker|delivery platform) running/.test(proc.log)) {
        clearTimeout(timer)
        child.stdout!.off('data', check)
        child.stderr!.off('data', check)
        child.off('exit', exited)
        resolve()
      }
    }
    const exited = (code: number | null, signal: string | null) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited (${code ?? signal}) while starting:\n${proc.log.slice(-3000)}`))
    }
    child.stdout!.on('data', check)
    child.stderr!.on('data', check)
    child.once('exit', exited)
  })
  return proc
}

async function stopAll(): Promise<void> {
  await Promise.all(
    procs.map(async ({ child }) => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }),
  )
}

const proc = (name: string) => procs.find((p) => p.name === name)!
const workers = () => procs.filter((p) => p.name.startsWith('worker'))

/** The jobs a worker finished, from its log (LOG_LEVEL=debug: one `job done` line per job). */
function jobsDone(p: Proc, job: string): string[] {
  const ids: string[] = []
  for (const line of p.log.split('\n')) {
    if (!line.startsWith('{')) continue
    const entry = JSON.parse(line) as { msg?: string; job?: string; jobId?: string }
    if (entry.msg === 'job done' && entry.job === job) ids.push(entry.jobId!)
  }
  return ids
}

type Run = { code: number | null; stdout: string; stderr: string }

function npq(args: string[]): Promise<Run> {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: baseEnv() })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

async function npqOk(args: string[]): Promise<unknown> {
  const result = await npq(args)
  assert.equal(result.code, 0, `npq ${args.join(' ')}: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

async function query<T extends Record<string, unknown>>(text: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseUrl })
  await client.connect()
  try {
    return (await client.query(text, params)).rows as T[]
  } finally {
    await client.end()
  }
}
const countOf = async (text: string, params: unknown[] = []) => Number((await query<{ n: string }>(text, params))[0]!.n)

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeout = 60_000) {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(250)
  }
}

// ── a browser, reduced to what matters here: cookies kept across requests, to any of the processes ──

class Browser {
  readonly cookies = new Map<string, string>()

  async request(p: Proc, method: 'GET' | 'POST', url: string, form?: Record<string, string>) {
    const response = await fetch(`http://127.0.0.1:${p.port}${url}`, {
      method,
      redirect: 'manual',
      headers: {
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    })
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';')
      const [name, ...value] = pair!.split('=')
      const expired = attributes.some((a) => /^\s*(max-age=0|expires=thu, 01 jan 1970)/i.test(a))
      if (expired || value.join('=') === '') this.cookies.delete(name!.trim())
      else this.cookies.set(name!.trim(), value.join('='))
    }
    return { status: response.status, location: response.headers.get('location'), body: await response.text() }
  }

  async csrfFrom(p: Proc, url: string): Promise<string> {
    const page = await this.request(p, 'GET', url)
    const match = /name="_csrf" value="([^"]+)"/.exec(page.body)
    assert.ok(match, `no CSRF token on ${url} from ${p.name}`)
    return match[1]!
  }

  async signIn(p: Proc, email: string, pass: string) {
    const csrf = await this.csrfFrom(p, '/sign-in')
    return this.request(p, 'POST', '/sign-in', { _csrf: csrf, email, password: pass })
  }
}

// ── the deployment: one fresh database, four processes started together ───────────────────────────

before(async () => {
  if (embedded) return
  const created = await createPostgresDatabase()
  databaseUrl = created.url
  dropDatabase = created.drop
  // All at once on the empty database: migrations, the catalogue sync, pg-boss's schema and the demo
  // data (loaded once, under a lock) must each happen once.
  await Promise.all([
    start('web-a', 'src/main.ts', { NPQ_PROCESS: 'web' }),
    start('web-b', 'src/main.ts', { NPQ_PROCESS: 'web' }),
    start('worker-1', 'src/worker.ts', { LOG_LEVEL: 'debug' }),
    start('worker-2', 'src/main.ts', { NPQ_PROCESS: 'worker', LOG_LEVEL: 'debug' }),
  ])
  // A schedule that fires every minute, so the test sees a tick: the session sweep's, moved from 03:17
  // daily. Every cron pass reads the schedules from the database.
  const [row] = await query<{ now: Date }>(
    `update pgboss.schedule set cron = '* * * * *', updated_on = now() where name = 'session-sweep' returning now() as now`,
  )
  assert.ok(row, 'the session sweep is scheduled')
  cronFrom = row.now
})

after(async () => {
  await stopAll()
  await smtp.close()
  await dropDatabase()
  fs.rmSync(tmp, { recursive: true, force: true })
})

// ── the tests ───────────────────────────────────────────────────────────────────────────────────────

test('NPQ_PROCESS=web or worker without DATABASE_URL: refused in one line, before anything is opened', async () => {
  for (const [script, env] of [
    ['src/main.ts', { NPQ_PROCESS: 'web' }],
    ['src/worker.ts', {}],
  ] as const) {
    const dataDir = path.join(tmp, `refused-${script.replace(/\W/g, '-')}`)
    const child = spawn(process.execPath, [path.join(root, script)], {
      cwd: root,
      env: { PATH: process.env.PATH!, NODE_ENV: 'test', NPQ_DATA_DIR: dataDir, ...env },
    })
    let stderr = ''
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    const code = await new Promise((resolve) => child.on('close', resolve))
    assert.equal(code, 1)
    const role = script === 'src/worker.ts' ? 'worker' : 'web'
    assert.equal(
      stderr,
      `Configuration error: NPQ_PROCESS=${role} needs DATABASE_URL (the embedded database allows one process only: unset NPQ_PROCESS)\n`,
    )
    assert.equal(fs.existsSync(dataDir), false, 'no embedded database was created')
  }
})

test('started together on an empty database: migrated once, demo data loaded once, a worker serves only /health', { skip }, async () => {
  assert.equal(await countOf(`select count(*) as n from users where email = 'participant@demo.test'`), 1)
  assert.equal(await countOf(`select count(*) as n from organisations where kind = 'lead-provider' and code = 'edt'`), 1)
  assert.equal(await countOf(`select count(*) - count(distinct name) as n from kysely_migration`), 0)
  for (const p of procs) {
    const health = await fetch(`http://127.0.0.1:${p.port}/health`)
    assert.equal(health.status, 200, p.name)
    assert.deepEqual(await health.json(), { status: 'ok', database: 'ok' })
  }
  for (const w of workers()) assert.equal((await fetch(`http://127.0.0.1:${w.port}/sign-in`)).status, 404, `${w.name} serves no pages`)
  // Schedules are the workers' business: the web processes neither write them nor run the cron pass.
  assert.ok((await countOf(`select count(*) as n from pgboss.schedule`)) >= 5)
})

test('a session signed in through web process A works on web process B, and signing out on B ends it on A', { skip }, async () => {
  const a = proc('web-a')
  const b = proc('web-b')
  const browser = new Browser()
  const signedIn = await browser.signIn(a, 'participant@demo.test', password)
  assert.equal(signedIn.status, 303, signedIn.body.slice(0, 500))
  assert.ok(browser.cookies.has('npq_session'))

  const home = await browser.request(b, 'GET', '/participant')
  assert.equal(home.status, 200, `B: ${home.status} ${home.location ?? ''}`)
  assert.match(home.body, /Priya Patel/)
  assert.equal((await browser.request(a, 'GET', '/participant')).status, 200)

  // A form from A posted to B: the CSRF secret (a cookie signed with SESSION_SECRET) is the same in both.
  const session = browser.cookies.get('npq_session')!
  const csrf = await browser.csrfFrom(a, '/participant')
  const out = await browser.request(b, 'POST', '/sign-out', { _csrf: csrf })
  assert.equal(out.status, 303)
  assert.equal(out.location, '/signed-out')
  // The session is gone from the database, so A no longer accepts it either (the old cookie sent again).
  assert.equal(browser.cookies.has('npq_session'), false)
  browser.cookies.set('npq_session', session)
  const again = await browser.request(a, 'GET', '/participant')
  assert.equal(again.status, 303, 'A sends a signed-out visitor to sign in')
  assert.match(again.location ?? '', /^\/sign-in/)

  // A CSRF token is refused on B without its cookie, as on A.
  const stranger = new Browser()
  const refused = await stranger.request(b, 'POST', '/sign-in', { _csrf: csrf, email: 'participant@demo.test', password })
  assert.equal(refused.status, 403)
})

test('sign-in throttling counts failures made on any web process', { skip }, async () => {
  const a = proc('web-a')
  const b = proc('web-b')
  const browser = new Browser()
  // Five failures for one address in 15 minutes, spread over A and B, throttle it everywhere.
  for (const p of [a, b, a, b, a]) {
    const r = await browser.signIn(p, 'moderator@demo.test', 'not the password')
    assert.equal(r.status, 400)
    assert.match(r.body, /Enter a correct email address and password/)
  }
  for (const p of [b, a]) {
    const r = await browser.signIn(p, 'moderator@demo.test', password)
    assert.equal(r.status, 400, `${p.name}: the right password is not accepted while throttled`)
    assert.match(r.body, /too many attempts to sign in/)
  }
  // Another address is not affected.
  assert.equal((await new Browser().signIn(b, 'assessor@demo.test', password)).status, 303)
})

test('two workers: every email queued is sent exactly once, and each worker sent some', { skip }, async (t) => {
  const mine = Array.from({ length: 200 }, (_, i) => `scale.out.${i}@school.test`)
  const queuedAt = performance.now()
  // Queued the way every feature queues email (the message and its job in one transaction), from
  // another process, in four transactions.
  const services = await createServices({
    config: testConfig({ DATABASE_URL: databaseUrl }),
    owner: 'cli',
    work: false,
    background: false,
    logger: pino({ level: 'silent' }),
  })
  try {
    for (let t = 0; t < 4; t++) {
      await inTransaction(services.db, async (trx) => {
        for (const to of mine.slice(t * 50, t * 50 + 50)) await services.email.queue(trx, { to, subject: 'Scale-out test', body: 'Hello' })
      })
    }
  } finally {
    await services.close()
  }
  // Emails also come from pages: a sign-in link requested through each web process.
  for (const p of [proc('web-a'), proc('web-b')]) {
    const browser = new Browser()
    const csrf = await browser.csrfFrom(p, '/sign-in/email-link')
    const r = await browser.request(p, 'POST', '/sign-in/email-link', { _csrf: csrf, email: 'line-manager@demo.test' })
    assert.equal(r.status, 200, `${p.name}: ${r.status}`)
    assert.match(r.body, /Check your email/)
  }

  const pending = () => countOf(`select count(*) as n from email_outbox where status <> 'sent'`)
  await waitFor('every email to be sent', async () => (await pending()) === 0, 90_000).catch(async (error: Error) => {
    const states = await query(`select status, count(*) as n, max(last_error) as error from email_outbox group by 1`)
    const jobs = await query(`select name, state, count(*) as n from pgboss.job where name = 'send-email' group by 1, 2`)
    throw new Error(
      `${error.message}: ${JSON.stringify(states)} ${JSON.stringify(jobs)}\n${workers()
        .map((w) => `${w.name}: ${w.log.slice(-1500)}`)
        .join('\n')}`,
    )
  })
  const took = (performance.now() - queuedAt) / 1000
  await sleep(2000) // anything sent twice would arrive now
  const outbox = (await query<{ to_address: string }>(`select to_address from email_outbox order by 1`)).map((r) => r.to_address)
  assert.ok(outbox.length >= mine.length + 2)
  assert.deepEqual([...smtp.received].sort(), [...outbox].sort(), 'the messages received are the outbox, each once')
  assert.equal(await countOf(`select count(*) as n from email_outbox where subject = 'Your link to sign in to the NPQ platform'`), 2)
  assert.equal(
    await countOf(`select count(*) as n from email_outbox where attempts <> 1`),
    0,
    'each email was claimed once: no worker tried one another was sending',
  )

  // Each delivery job ran once, in one of the two workers, and both took a share.
  const done = workers().map((w) => jobsDone(w, 'send-email'))
  const all = done.flat()
  assert.equal(new Set(all).size, all.length, 'no job ran in both workers')
  assert.equal(all.length, outbox.length, 'one job per email')
  for (const [i, ids] of done.entries())
    assert.ok(ids.length > 0, `${workers()[i]!.name} sent some (${done.map((d) => d.length).join(' / ')})`)
  t.diagnostic(
    `${outbox.length} emails, ${mine.length + 2} of them queued by this test, all sent ${took.toFixed(1)} s after the first was queued; per worker ${done.map((d) => d.length).join(' / ')}`,
  )
})

test('two `npq declare` runs from two processes at the same moment: each person declared once', { skip }, async (t) => {
  const ids = Array.from({ length: N }, () => crypto.randomUUID())
  const participantsCsv = path.join(tmp, 'participants.csv')
  const activityCsv = path.join(tmp, 'activity.csv')
  fs.writeFileSync(
    participantsCsv,
    [
      'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed',
      ...ids.map(
        (id, i) =>
          `${id},Scale Person ${i},scale.person.${i}@school.test,${7_000_000 + i},edt,north-star-tsh,npq-leading-teaching,2022-autumn,100001,yes,yes`,
      ),
    ].join('\n') + '\n',
  )
  // Each has a self-study credit, so each is eligible for `started`.
  fs.writeFileSync(
    activityCsv,
    ['participant_id,activity_code,occurred_at,source', ...ids.map((id) => `${id},NPQLT-B1-S1.1a,2022-11-20T09:00:00Z,automatic`)].join(
      '\n',
    ) + '\n',
  )
  assert.equal(((await npqOk(['import', 'participants', participantsCsv, '--quiet'])) as { created: number }).created, N)
  assert.equal(((await npqOk(['import', 'activity', activityCsv, '--quiet'])) as { created: number }).created, N)

  const counts = async () => ({
    declarations: await countOf(`select count(*) as n from declarations`),
    audit: await countOf(`select count(*) as n from audit_events where action = 'declaration.created'`),
    dfe: await countOf(`select count(*) as n from dfe_requests where kind = 'submit-declaration'`),
  })
  const before = await counts()
  const args = ['declare', '--lead-provider', 'edt', '--cohort', '2022-autumn', '--course', 'npq-leading-teaching', '--type', 'started']
  // While both run: the most transactions open for over half a second at once (each run is one).
  let overlapping = 0
  let running = true
  const watch = (async () => {
    while (running) {
      const n = await countOf(
        `select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
         and xact_start < now() - interval '500 milliseconds'`,
      )
      overlapping = Math.max(overlapping, n)
      await sleep(100)
    }
  })()
  const [one, two] = await Promise.all([npq([...args, '--as-of', today]), npq([...args, '--as-of', today])]).finally(
    () => (running = false),
  )
  await watch
  assert.equal(one.code, 0, one.stderr)
  assert.equal(two.code, 0, two.stderr)
  const declared = [one, two].map((r) => (JSON.parse(r.stdout) as { participant_id: string }[]).map((d) => d.participant_id))
  const union = declared.flat()
  assert.equal(new Set(union).size, union.length, `no one declared by both runs (${declared[0]!.length} + ${declared[1]!.length})`)
  for (const id of ids) assert.ok(union.includes(id), 'every new person declared by one of the runs')
  t.diagnostic(`the two runs declared ${declared[0]!.length} and ${declared[1]!.length}; ${overlapping} transactions open at once`)
  assert.ok(overlapping >= 2, 'the two runs were in the database at the same time')

  const after = await counts()
  assert.deepEqual(after, {
    declarations: before.declarations + union.length,
    audit: before.audit + union.length,
    dfe: before.dfe + union.length,
  })
  assert.equal(
    await countOf(
      `select count(*) as n from (select participant_id from declarations where declaration_type = 'started' and state <> 'voided'
       group by participant_id, course_identifier having count(*) > 1) twice`,
    ),
    0,
    'no one has two live started declarations',
  )
  assert.deepEqual(await npqOk([...args, '--as-of', today]), [], 'a third run declares nothing')
})

test('two workers running the cron pass: a schedule fires once per tick', { skip }, async () => {
  // The first minute boundary after the schedule changed, plus up to one 30-second cron pass, plus
  // the pass's forwarding and the workers' polling: up to ~100 s after before() ran, most of it spent
  // in the tests above.
  const sweeps = () =>
    query<{ id: string; state: string; retry_count: number }>(
      `select id, state, retry_count from pgboss.job where name = 'session-sweep' and created_on > $1 order by created_on`,
      [cronFrom],
    )
  await waitFor('a tick of the every-minute schedule to run', async () => (await sweeps()).some((j) => j.state === 'completed'), 120_000)
  const elapsedMinutes = Number(
    (await query<{ m: string }>(`select ceil(extract(epoch from now() - $1::timestamptz) / 60) as m`, [cronFrom]))[0]!.m,
  )
  await sleep(1000)
  const jobs = (await sweeps()).filter((j) => j.state === 'completed')
  assert.ok(jobs.length >= 1 && jobs.length <= elapsedMinutes, `${jobs.length} sweeps in ${elapsedMinutes} minute(s)`)
  assert.ok(
    jobs.every((j) => j.retry_count === 0),
    'each ran once, first time',
  )
  // Each tick was forwarded once (the cron pass files an occurrence under its minute), whichever
  // worker's pass saw it, however many passes saw it.
  const slots = await query<{ slot: string; n: string }>(
    `select data->>'slot' as slot, count(*) as n from pgboss.job
     where name = '__pgboss__send-it' and data->>'name' = 'session-sweep' and created_on > $1 group by 1 order by 1`,
    [cronFrom],
  )
  assert.ok(slots.length >= jobs.length, `${slots.length} ticks forwarded, ${jobs.length} sweeps`)
  assert.ok(
    slots.every((s) => Number(s.n) === 1),
    JSON.stringify(slots),
  )
  // And each sweep ran in one worker only.
  const ran = workers().flatMap((w) => jobsDone(w, 'session-sweep'))
  const completedIds = new Set(jobs.map((j) => j.id))
  const ranNow = ran.filter((id) => completedIds.has(id))
  assert.deepEqual([...ranNow].sort(), [...completedIds].sort(), 'each sweep logged once, by one worker')
})
