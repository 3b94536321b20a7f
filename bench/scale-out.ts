import { spawn, type ChildProcess } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { freePort } from '../src/test-support/fake-smtp.ts'
import { benchDatabaseUrl, openServices, progressLog } from './databases.ts'
import { participantSessions } from './participant-pages.ts'

// Issue 10 item 8 (docs/DEPLOYMENT.md): request throughput of one web process against two, on the
// national-scale database (bench/generate.ts). Each web process is the real thing (`NPQ_PROCESS=web
// node src/main.ts`, NODE_ENV=production, a child process); the load is the participant page mix
// (Home, Progress, Learn, Events; bench/participant-pages.ts) as 40 different signed-in participants,
// over real HTTP with keep-alive, `--connections` requests in flight at once, spread round-robin over
// the processes as a load balancer would. Phases alternate 1, 2, 1, 2 processes so that drift on a
// shared machine shows. The load generator runs on the same machine and takes some of its CPU.
//
// node bench/scale-out.ts [--seconds 20] [--connections 16] [--rounds 2] [--json]
// DATABASE_URL chooses the database (default npq_bench); the run adds 40 users and sessions to it.

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '20' },
    warmup: { type: 'string', default: '5' },
    connections: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    json: { type: 'boolean', default: false },
  },
})
const seconds = Number(values.seconds)
const warmupSeconds = Number(values.warmup)
const connections = Number(values.connections)
const rounds = Number(values.rounds)
const root = path.resolve(import.meta.dirname, '..')
const pages = ['/participant', '/participant/progress', '/participant/learn', '/participant/events']
const log = progressLog(values.json)
const url = benchDatabaseUrl()

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0
const round1 = (n: number) => Math.round(n * 10) / 10

// ── participants with sessions ──────────────────────────────────────────────────────────────────────

async function participantCookies(): Promise<string[]> {
  const services = await openServices(url)
  try {
    const { db } = services
    const cookies = await participantSessions(db, 'bench-scale-out', 40)
    if (!cookies.length) throw new Error('no generated participants: run `npm run bench:generate` first')
    return cookies
  } finally {
    await services.close()
  }
}

// ── web processes ───────────────────────────────────────────────────────────────────────────────────

type Web = { port: number; child: ChildProcess; log: string }
const sessionSecret = crypto.randomBytes(32).toString('base64url')

async function startWeb(): Promise<Web> {
  const port = await freePort()
  const child = spawn(process.execPath, [path.join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      PATH: process.env.PATH!,
      NODE_ENV: 'production',
      NPQ_PROCESS: 'web',
      DATABASE_URL: url,
      SESSION_SECRET: sessionSecret,
      LOG_LEVEL: 'warn',
      HOST: '127.0.0.1',
      PORT: String(port),
    },
  })
  const web: Web = { port, child, log: '' }
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      web.log += chunk.toString()
      if (/running at/.test(web.log)) resolve()
    }
    child.stdout!.on('data', onData)
    child.stderr!.on('data', onData)
    child.once('exit', (code) => reject(new Error(`web process exited (${code}):\n${web.log.slice(-2000)}`)))
  })
  child.removeAllListeners('exit')
  return web
}

async function stopWeb(web: Web): Promise<void> {
  if (web.child.exitCode !== null) return
  const exited = new Promise((resolve) => web.child.once('exit', resolve))
  web.child.kill('SIGTERM')
  await exited
}

/** CPU seconds (user + system) a process has used, from /proc (Linux). */
function cpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return (Number(fields[11]) + Number(fields[12])) / 100 // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0 // the process has ended
  }
}

/** Every PostgreSQL server process on this machine (the server is local in this benchmark). */
function postgresPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        return fs.readFileSync(`/proc/${d}/comm`, 'utf8').trim() === 'postgres'
      } catch {
        return false
      }
    })
    .map(Number)
}

function cpuNow(webs: Web[]) {
  const pg = new Map(postgresPids().map((pid) => [pid, cpuSeconds(pid)]))
  return { web: webs.reduce((sum, w) => sum + cpuSeconds(w.child.pid!), 0), pg, client: process.cpuUsage() }
}

function cpuSince(webs: Web[], before: ReturnType<typeof cpuNow>) {
  let pg = 0
  for (const pid of postgresPids()) pg += cpuSeconds(pid) - (before.pg.get(pid) ?? 0)
  const client = process.cpuUsage(before.client)
  return { web: cpuNow(webs).web - before.web, pg, client: (client.user + client.system) / 1e6 }
}

const rssMb = (web: Web) => {
  const status = fs.readFileSync(`/proc/${web.child.pid}/status`, 'utf8')
  return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) / 1024)
}

// ── the load ────────────────────────────────────────────────────────────────────────────────────────

const agent = new http.Agent({ keepAlive: true, maxSockets: connections * 2 })

function get(port: number, page: string, cookie: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.get({ host: '127.0.0.1', port, path: page, agent, headers: { cookie } }, (response) => {
      response.resume()
      response.on('end', () => resolve(response.statusCode ?? 0))
    })
    request.on('error', reject)
  })
}

type Phase = {
  processes: number
  requests: number
  perSecond: number
  p50: number
  p95: number
  p99: number
  errors: number
  load: string
  /** CPU milliseconds per request: the web processes, every PostgreSQL process, the load generator. */
  cpuMsPerRequest: { web: number; postgres: number; client: number }
}

async function phase(webs: Web[], cookies: string[]): Promise<Phase> {
  let next = 0
  const run = async (ms: number, record: number[] | null) => {
    const until = performance.now() + ms
    let errors = 0
    await Promise.all(
      Array.from({ length: connections }, async () => {
        while (performance.now() < until) {
          const i = next++
          const web = webs[i % webs.length]!
          const started = performance.now()
          const status = await get(web.port, pages[i % pages.length]!, cookies[Math.floor(i / pages.length) % cookies.length]!)
          if (status !== 200) errors++
          record?.push(performance.now() - started)
        }
      }),
    )
    return errors
  }
  await run(warmupSeconds * 1000, null)
  const before = os.loadavg()[0]!
  const times: number[] = []
  const cpuBefore = cpuNow(webs)
  const started = performance.now()
  const errors = await run(seconds * 1000, times)
  const elapsed = (performance.now() - started) / 1000
  const cpu = cpuSince(webs, cpuBefore)
  times.sort((a, b) => a - b)
  const perRequest = (s: number) => round1((s * 1000) / Math.max(1, times.length))
  return {
    processes: webs.length,
    requests: times.length,
    perSecond: round1(times.length / elapsed),
    p50: round1(percentile(times, 50)),
    p95: round1(percentile(times, 95)),
    p99: round1(percentile(times, 99)),
    errors,
    load: `${before.toFixed(2)} → ${os.loadavg()[0]!.toFixed(2)}`,
    cpuMsPerRequest: { web: perRequest(cpu.web), postgres: perRequest(cpu.pg), client: perRequest(cpu.client) },
  }
}

async function main() {
  log(
    `scale-out: database ${new URL(url).pathname.slice(1)}, ${connections} connections, ${seconds} s a phase after ${warmupSeconds} s warm-up`,
  )
  const cookies = await participantCookies()
  log(`${cookies.length} participants signed in; starting two web processes (NPQ_PROCESS=web, NODE_ENV=production)`)
  const webs = await Promise.all([startWeb(), startWeb()])
  const results: Phase[] = []
  try {
    for (let r = 0; r < rounds; r++) {
      for (const n of [1, 2]) {
        const result = await phase(webs.slice(0, n), cookies)
        results.push(result)
        log(`${n} web process(es): ${result.perSecond} requests/s, p50 ${result.p50} ms, p95 ${result.p95} ms (load ${result.load})`)
      }
    }
    const rss = webs.map(rssMb)
    const mean = (n: number, key: 'perSecond' | 'p95') => {
      const of = results.filter((x) => x.processes === n)
      return round1(of.reduce((s, x) => s + x[key], 0) / of.length)
    }
    const summary = {
      database: new URL(url).pathname.slice(1),
      machine: `${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, ${Math.round(os.totalmem() / 2 ** 30)} GB; Node ${process.version}`,
      connections,
      seconds,
      pages,
      phases: results,
      ratio: Math.round((mean(2, 'perSecond') / mean(1, 'perSecond')) * 100) / 100,
      rssMb: rss,
    }
    if (values.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`)
    else {
      const lines = [
        '',
        `scale-out: participant page mix (${pages.join(', ')}), ${connections} requests in flight, ${seconds} s a phase`,
        `machine: ${summary.machine}`,
        '',
        'web processes  requests    req/s    p50 ms   p95 ms   p99 ms  errors  CPU ms/request: web  postgres  client  load average (1 min)',
        ...results.map(
          (x) =>
            `${String(x.processes).padStart(13)}  ${String(x.requests).padStart(8)}  ${String(x.perSecond).padStart(7)}  ${String(x.p50).padStart(8)}  ${String(x.p95).padStart(7)}  ${String(x.p99).padStart(7)}  ${String(x.errors).padStart(6)}  ${String(x.cpuMsPerRequest.web).padStart(19)}  ${String(x.cpuMsPerRequest.postgres).padStart(8)}  ${String(x.cpuMsPerRequest.client).padStart(6)}  ${x.load}`,
        ),
        '',
        `mean requests/s: 1 process ${mean(1, 'perSecond')}, 2 processes ${mean(2, 'perSecond')} (×${summary.ratio}); mean p95: ${mean(1, 'p95')} ms, ${mean(2, 'p95')} ms`,
        `web process memory after the run (RSS): ${rss.join(' MB, ')} MB`,
      ]
      process.stdout.write(`${lines.join('\n')}\n`)
    }
  } finally {
    agent.destroy()
    await Promise.all(webs.map(stopWeb))
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  process.exit(1)
})
