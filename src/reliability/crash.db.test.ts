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

// Issue 10, item 4: crashes. The real server (`node src/main.ts`, a child process) is killed with SIGKILL
// in the middle of an import, ingest batches, a declaration run and an email job; restarted on the same
// data, each is all or nothing, every write acknowledged before the kill is there, and queued jobs run
// after the restart, each email going out once. In the postgres suite the database also drops every
// connection while the server is serving: it keeps serving, failing requests meanwhile with a clean 5xx.

const embedded = testDatabaseKind() === 'pglite'
const root = path.resolve(import.meta.dirname, '../..')
const bin = path.join(root, 'bin/npq.js')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-crash-'))
const dataDir = path.join(tmp, 'data')
const N = embedded ? 600 : 1500 // people in the import, declarations in the run
const today = londonDateOf(new Date())

let databaseUrl: string | undefined
let dropDatabase = async () => {}
let port = 0
let server: ChildProcess | null = null
let serverLog = ''
let token = ''
const smtp = fakeSmtp()

// ── the server, the command and the database, as an operator sees them ──────────────────────────────

function env(): Record<string, string> {
  return {
    PATH: process.env.PATH!,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    NPQ_DEMO_PASSWORD: 'demo-password-for-tests',
    HOST: '127.0.0.1',
    PORT: String(port),
    EMAIL_TRANSPORT: 'smtp',
    SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { NPQ_DATA_DIR: dataDir }),
  }
}

async function startServer(): Promise<void> {
  const child = spawn(process.execPath, [path.join(root, 'src/main.ts')], { cwd: root, env: env() })
  server = child
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 120s:\n${serverLog.slice(-3000)}`)), 120_000)
    const onData = (chunk: Buffer) => {
      serverLog += chunk.toString()
      if (/running at/.test(serverLog.slice(-2000))) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`the server exited (${code ?? signal}) while starting:\n${serverLog.slice(-3000)}`))
    })
  })
  child.removeAllListeners('exit')
}

async function killServer(): Promise<void> {
  const child = server!
  server = null
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the server had already exited:\n${serverLog.slice(-3000)}`)
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exited
}

type Run = {
  child: ChildProcess
  stderr(): string
  done: Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>
}

/** `npq …` without waiting for it: through the server's socket on the embedded database, straight to PostgreSQL otherwise. */
function npq(args: string[]): Run {
  const child = spawn(process.execPath, [bin, ...args], { cwd: root, env: env() })
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  const done = new Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
  })
  return { child, stderr: () => stderr, done }
}

/** The command has started its work (its services are up: it says so on stderr before reading the file). */
const importBegun = (run: Run) => /import participants: /.test(run.stderr())

async function npqOk(args: string[]): Promise<unknown> {
  const result = await npq(args).done
  assert.equal(result.code, 0, `npq ${args.join(' ')}: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

/** The database as any client reaches it: the running server's socket (embedded), or PostgreSQL. */
function databaseClientUrl(): string {
  if (databaseUrl) return databaseUrl
  const lock = JSON.parse(fs.readFileSync(path.join(dataDir, 'npq.lock'), 'utf8')) as { port: number }
  return `postgres://postgres@127.0.0.1:${lock.port}/postgres`
}

async function query<T extends Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: databaseClientUrl() })
  client.on('error', () => {})
  await client.connect()
  try {
    return (await client.query(sql, params)).rows as T[]
  } finally {
    await client.end().catch(() => {})
  }
}

const countOf = async (sql: string, params: unknown[] = []) => Number((await query<{ n: string }>(sql, params))[0]!.n)

/**
 * Resolves once another client has held the database in one transaction for `ms`: on PostgreSQL a
 * transaction that old in pg_stat_activity; on the embedded database, which serves one client's
 * transaction at a time, a `select 1` that gets no answer for that long.
 */
async function transactionUnderway(run: Run, ms = 400, timeout = 60_000): Promise<void> {
  const deadline = Date.now() + timeout
  let exited = false
  void run.done.then(() => (exited = true))
  while (Date.now() < deadline && !exited) {
    // A new connection each time: on the embedded database even connecting waits for the transaction.
    const client = new pg.Client({ connectionString: databaseClientUrl() })
    client.on('error', () => {})
    const probe = (async () => {
      await client.connect()
      if (!databaseUrl) return (await client.query('select 1'), false)
      const n = await client.query(
        `select count(*) as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()
         and state <> 'idle' and xact_start < now() - make_interval(secs => $1::float / 1000)`,
        [ms],
      )
      return Number(n.rows[0].n) > 0
    })()
    const busy = await Promise.race([probe, new Promise<true>((resolve) => setTimeout(() => resolve(true), databaseUrl ? 10_000 : ms))])
    void probe.catch(() => {}).finally(() => void client.end().catch(() => {}))
    if (busy) return // on the embedded database the probe is left waiting; the kill ends it
    await sleep(50)
  }
  throw new Error(`no long transaction began (the command ${exited ? 'had finished' : 'was still running'}): ${run.stderr().slice(-1000)}`)
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function api(method: string, url: string, body?: unknown): Promise<{ status: number; text: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  })
  return { status: response.status, text: await response.text() }
}

// ── acknowledged writes: small ingest batches posted all the time; those answered 2xx must survive ──

const acknowledged: string[] = []
/** Set when the tests are over: every loop of requests stops, also after a failure. */
let finished = false
/** Each acknowledged write is a different event (the same content under another id counts as unchanged). */
let writes = 0
let people: string[] = []

function learningEvent(eventId: string, i: number, activity = 'NPQLT-B2-S2.1a') {
  return {
    event_id: eventId,
    participant_id: people[i % people.length]!,
    activity_code: activity,
    occurred_at: new Date(Date.UTC(2022, 10, 25, 9) + i * 1000).toISOString(),
    source: 'automatic',
  }
}

/** Posts one-event batches one after another until stopped; records the event ids answered with 2xx. */
function writeAllTheTime(prefix: string) {
  let stopped = false
  let sequence = 0
  const loop = (async () => {
    while (!stopped && !finished) {
      const id = `${prefix}-${sequence++}`
      try {
        const r = await api('POST', '/api/v1/learning-records', { events: [learningEvent(id, writes++, 'NPQLT-B3-S3.1a')] })
        if (r.status >= 200 && r.status < 300) acknowledged.push(id)
      } catch {
        await sleep(50) // the server is down
      }
    }
  })()
  return async () => {
    stopped = true
    await loop
  }
}

async function assertAcknowledgedWritesPresent() {
  assert.ok(acknowledged.length > 0)
  const rows = await query<{ id: string }>(`select client_event_id as id from learning_records where client_event_id like '%:ack-%'`)
  const present = new Set(rows.map((r) => r.id.slice(r.id.indexOf(':') + 1)))
  const missing = acknowledged.filter((id) => !present.has(id))
  assert.deepEqual(missing, [], `${missing.length} of ${acknowledged.length} acknowledged writes lost`)
}

async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeout = 60_000) {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(200)
  }
}

// ── the world: demo data, N new people on EDT's NPQLT 2022-autumn, and an API token ────────────────

const participantIds = Array.from({ length: N }, () => crypto.randomUUID())
const participantsCsv = path.join(tmp, 'participants.csv')
const activityCsv = path.join(tmp, 'activity.csv')

before(async () => {
  await new Promise((resolve) => setTimeout(resolve, 0))
  if (!embedded) {
    const created = await createPostgresDatabase()
    databaseUrl = created.url
    dropDatabase = created.drop
  }
  port = await freePort()
  await startServer() // the first start loads the demo data
  token = ((await npqOk(['api-tokens', 'create', '--lead-provider', 'edt', '--name', 'Crash test'])) as { token: string }).token
  people = (
    await query<{ id: string }>(
      `select participant_id as id from enrolments where course_identifier = 'npq-leading-teaching' and cohort = '2022-autumn' order by 1`,
    )
  ).map((r) => r.id)
  assert.ok(people.length > 0)
  const header =
    'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed'
  fs.writeFileSync(
    participantsCsv,
    [
      header,
      ...participantIds.map(
        (id, i) =>
          `${id},Crash Person ${i},crash.person.${i}@school.test,${6_000_000 + i},edt,north-star-tsh,npq-leading-teaching,2022-autumn,100001,yes,yes`,
      ),
    ].join('\n') + '\n',
  )
  fs.writeFileSync(
    activityCsv,
    [
      'participant_id,activity_code,occurred_at,source',
      ...participantIds.map((id) => `${id},NPQLT-B1-S1.1a,2022-11-20T09:00:00Z,automatic`),
    ].join('\n') + '\n',
  )
})

after(async () => {
  finished = true
  if (server) await killServer().catch(() => {})
  await smtp.close()
  await dropDatabase()
  fs.rmSync(tmp, { recursive: true, force: true })
})

// ── the scenarios ───────────────────────────────────────────────────────────────────────────────────

const importCounts = async () => ({
  participants: await countOf(`select count(*) as n from participants`),
  enrolments: await countOf(`select count(*) as n from enrolments`),
  audit: await countOf(`select count(*) as n from audit_events where action = 'participant.created'`),
})

test('import: the server killed in the middle of `npq import participants` → none of the file, every acknowledged write kept', async () => {
  const stopWriting = writeAllTheTime('ack-import')
  await waitFor('acknowledged writes', () => acknowledged.length >= 3)
  const before = await importCounts()

  const run = npq(['import', 'participants', participantsCsv])
  await waitFor('the import to begin', () => importBegun(run), 60_000)
  await transactionUnderway(run)
  await killServer()
  if (!embedded) run.child.kill('SIGKILL') // on PostgreSQL the command itself holds the transaction
  const outcome = await run.done
  assert.notEqual(outcome.code, 0, 'the command did not report success')
  assert.equal(outcome.stdout, '', 'the command printed no result')
  await stopWriting()

  await startServer()
  const afterKill = await importCounts()
  assert.deepEqual(afterKill, before, 'nothing of the file: it was killed before it committed')
  await assertAcknowledgedWritesPresent()

  // Run again, it imports the whole file.
  const again = (await npqOk(['import', 'participants', participantsCsv, '--quiet'])) as { created: number; unchanged: number }
  assert.equal(again.created, N)
  assert.deepEqual(await importCounts(), {
    participants: before.participants + N,
    enrolments: before.enrolments + N,
    audit: before.audit + N,
  })
})

test('ingest: the server killed with batches of learning records in flight → each batch all or none, every answered one kept', async () => {
  const size = 2000
  const answered: number[] = []
  let sent = 0
  let stop = false
  const stream = async () => {
    while (!stop && !finished) {
      const batch = sent++
      const events = Array.from({ length: size }, (_, i) => learningEvent(`batch-${batch}-${i}`, batch * size + i))
      try {
        const r = await api('POST', '/api/v1/learning-records', { events })
        assert.equal(r.status, 200, r.text.slice(0, 300))
        answered.push(batch)
      } catch (error) {
        if (error instanceof assert.AssertionError) throw error
        return // the server is gone
      }
    }
  }
  const streams = [stream(), stream(), stream()]
  await waitFor('three answered batches', () => answered.length >= 3)
  await killServer()
  stop = true
  await Promise.all(streams)
  const inFlight = Array.from({ length: sent }, (_, b) => b).filter((b) => !answered.includes(b))
  assert.ok(inFlight.length > 0, 'batches were in flight at the kill')

  await startServer()
  const rows = await query<{ batch: string; n: string }>(
    `select split_part(split_part(client_event_id, ':', 2), '-', 2) as batch, count(*) as n from learning_records
     where client_event_id like '%:batch-%' group by 1`,
  )
  const stored = new Map(rows.map((r) => [Number(r.batch), Number(r.n)]))
  for (let b = 0; b < sent; b++) {
    const n = stored.get(b) ?? 0
    assert.ok(n === 0 || n === size, `batch ${b}: ${n} of ${size} records`)
    if (answered.includes(b)) assert.equal(n, size, `answered batch ${b} is all there`)
  }
  await assertAcknowledgedWritesPresent()
  // The batches cut off are sent again, as a client does when it got no answer: all of each is recorded.
  for (const b of inFlight) {
    const events = Array.from({ length: size }, (_, i) => learningEvent(`batch-${b}-${i}`, b * size + i))
    const r = await api('POST', '/api/v1/learning-records', { events })
    assert.equal(r.status, 200, r.text.slice(0, 300))
  }
  assert.equal(await countOf(`select count(*) as n from learning_records where client_event_id like '%:batch-%'`), sent * size)
})

const declarationCounts = async () => ({
  declarations: await countOf(`select count(*) as n from declarations`),
  audit: await countOf(`select count(*) as n from audit_events where action = 'declaration.created'`),
  dfe: await countOf(`select count(*) as n from dfe_requests`),
})

test('declaration run: the server killed in the middle of `npq declare` for a cohort → no declaration of the run; run again, each once', async () => {
  // The new people each have a self-study credit, so each is eligible for `started`.
  const imported = (await npqOk(['import', 'activity', activityCsv, '--quiet'])) as { created: number }
  assert.equal(imported.created, N)
  const stopWriting = writeAllTheTime('ack-declare')
  await waitFor('acknowledged writes', () => acknowledged.length >= 3)
  const before = await declarationCounts()
  const args = ['declare', '--lead-provider', 'edt', '--cohort', '2022-autumn', '--course', 'npq-leading-teaching', '--type', 'started']

  const run = npq([...args, '--as-of', today])
  // The command's start (migrations checked, the catalogue synced) is short; the run is one long transaction.
  await transactionUnderway(run, 1500)
  await killServer()
  if (!embedded) run.child.kill('SIGKILL')
  const outcome = await run.done
  assert.notEqual(outcome.code, 0)
  assert.equal(outcome.stdout, '')
  await stopWriting()

  await startServer()
  assert.deepEqual(await declarationCounts(), before, 'no declaration of the run')
  await assertAcknowledgedWritesPresent()

  const declared = (await npqOk([...args, '--as-of', today])) as { participant_id: string }[]
  assert.ok(declared.length >= N)
  const after = await declarationCounts()
  assert.equal(after.declarations, before.declarations + declared.length)
  assert.equal(after.audit, before.audit + declared.length)
  assert.equal(
    await countOf(
      `select count(*) as n from (select participant_id from declarations where declaration_type = 'started'
       and participant_id = any($1::uuid[]) group by 1 having count(*) = 1) once`,
      [participantIds],
    ),
    N,
    'each new person declared once',
  )
  assert.deepEqual(await npqOk([...args, '--as-of', today]), [], 'running it again declares nothing')
})

test('job: the server killed with emails queued and one being sent → after the restart each goes out once', async () => {
  const mine = Array.from({ length: 6 }, (_, i) => `crash.email.${i}@school.test`)
  // Earlier emails (demo data, invitations) are all delivered first, so the job held active is one of ours.
  // One cut off mid-send by an earlier kill in this file stays claimed for 10 minutes with no job on it:
  // it holds nothing, so only emails queued or being sent right now count.
  await waitFor(
    'the outbox to empty',
    async () =>
      (await countOf(
        `select count(*) as n from email_outbox where status = 'queued' or (status = 'sending' and claimed_at > now() - interval '5 seconds')`,
      )) === 0,
  )
  smtp.setMode('hang')

  // Queued the way every feature queues email: the message and its job in one committed transaction.
  const services = await createServices({
    config: testConfig(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    owner: 'cli',
    work: false,
    logger: pino({ level: 'silent' }),
    dataDir,
  })
  try {
    await inTransaction(services.db, async (trx) => {
      for (const to of mine) await services.email.queue(trx, { to, subject: 'Crash test', body: 'Hello' })
    })
  } finally {
    await services.close()
  }
  await waitFor('a delivery to start', () => smtp.hung.size > 0, 30_000)
  const states = async () =>
    (await query<{ status: string }>(`select status from email_outbox where to_address = any($1) order by status`, [mine])).map(
      (r) => r.status,
    )
  assert.deepEqual(await states(), ['queued', 'queued', 'queued', 'queued', 'queued', 'sending'])
  await killServer()
  smtp.setMode('answer')

  await startServer()
  // The queued jobs resume: each of those emails goes out once.
  await waitFor('the queued emails', () => mine.filter((to) => smtp.received.includes(to)).length >= 5, 60_000)
  assert.deepEqual(await states(), ['sending', 'sent', 'sent', 'sent', 'sent', 'sent'])
  // The one cut off while sending is not lost: it stays claimed until the claim times out (10 minutes),
  // then the outbox sweep queues it again. Ten minutes on: the claim is older than that, the sweep runs.
  await query(`update email_outbox set claimed_at = claimed_at - interval '11 minutes' where status = 'sending' and to_address = any($1)`, [
    mine,
  ])
  const sweeper = await createServices({
    config: testConfig(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    owner: 'cli',
    work: false,
    logger: pino({ level: 'silent' }),
    dataDir,
  })
  try {
    assert.ok((await sweeper.email.sweep()) >= 1)
  } finally {
    await sweeper.close()
  }
  await waitFor('the email cut off', () => mine.every((to) => smtp.received.includes(to)), 60_000)
  assert.deepEqual(await states(), ['sent', 'sent', 'sent', 'sent', 'sent', 'sent'])
  await sleep(3000)
  assert.deepEqual(
    mine.map((to) => smtp.received.filter((r) => r === to).length),
    [1, 1, 1, 1, 1, 1],
    'each email went out exactly once',
  )
})

test(
  'database restart while serving: every connection dropped, repeatedly → clean 5xx meanwhile, the server reconnects, nothing acknowledged lost',
  { skip: embedded ? 'PostgreSQL: the embedded database lives inside the server process (the kills above cover it)' : false },
  async () => {
    const statuses: number[] = []
    const failures: string[] = []
    let stop = false
    const traffic = async (i: number) => {
      let n = 0
      while (!stop && !finished) {
        const id = `ack-outage-${i}-${n++}`
        try {
          const r =
            n % 2
              ? await api('POST', '/api/v1/learning-records', { events: [learningEvent(id, writes++, 'NPQLT-B3-S3.1a')] })
              : await api('GET', n % 4 === 0 ? '/health' : '/sign-in')
          statuses.push(r.status)
          if (r.status >= 200 && r.status < 300 && n % 2) acknowledged.push(id)
          if (r.status >= 500 && /at .*\.ts:\d+/.test(r.text)) failures.push(`a stack trace in a ${r.status}`)
        } catch (error) {
          failures.push(`no answer: ${String(error)}`)
        }
      }
    }
    const terminate = () =>
      query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()`)
    const loops = [traffic(1), traffic(2), traffic(3)]
    await sleep(1000)
    for (let i = 0; i < 5; i++) {
      await terminate()
      await sleep(400)
    }
    await sleep(2000)
    stop = true
    await Promise.all(loops)
    assert.deepEqual(failures, [], 'every request was answered, without a stack trace')
    assert.ok(
      statuses.every((s) => s < 400 || s >= 500),
      statuses.filter((s) => s >= 400 && s < 500).join(' '),
    )
    assert.ok(server && server.exitCode === null && server.signalCode === null, 'the server is still running')

    // Afterwards everything works: pages, the API, the health check and the job queue.
    for (const url of ['/health', '/sign-in']) assert.equal((await api('GET', url)).status, 200, url)
    const after = await api('POST', '/api/v1/learning-records', { events: [learningEvent('ack-outage-after', writes++, 'NPQLT-B3-S3.1a')] })
    assert.equal(after.status, 200, after.text)
    acknowledged.push('ack-outage-after')
    await assertAcknowledgedWritesPresent()
    const services = await createServices({
      config: testConfig({ DATABASE_URL: databaseUrl! }),
      owner: 'cli',
      work: false,
      logger: pino({ level: 'silent' }),
    })
    try {
      await inTransaction(services.db, (trx) => services.email.queue(trx, { to: 'after.outage@school.test', subject: 'After', body: 'Hi' }))
    } finally {
      await services.close()
    }
    await waitFor('the job queue to deliver again', () => smtp.received.includes('after.outage@school.test'), 60_000)
    const errors = statuses.filter((s) => s >= 500)
    // Each request the outage cut short says so: "unavailable, try again", not an unexplained failure.
    assert.deepEqual(
      errors.filter((s) => s !== 503),
      [],
      'a request cut short by the outage is a 503',
    )
    process.stdout.write(`# outage: ${statuses.length} requests, ${errors.length} answered 5xx (${[...new Set(errors)].join(', ')})\n`)
  },
)
