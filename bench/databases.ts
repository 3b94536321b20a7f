import crypto from 'node:crypto'
import pg from 'pg'
import { loadConfig } from '../src/config.ts'
import { createServices, type Services } from '../src/services.ts'

// Where the benchmark's data lives: its own PostgreSQL database, on the server of DATABASE_URL (or
// TEST_DATABASE_URL, or the local default), created when missing and never one with other data in it.

const localServer = 'postgres://postgres:postgres@127.0.0.1:5432/postgres'

/** The benchmark database: DATABASE_URL as given, else `npq_bench` on TEST_DATABASE_URL's server (or the local one). */
export function benchDatabaseUrl(): string {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL
  const url = new URL(process.env.TEST_DATABASE_URL ?? localServer)
  url.pathname = '/npq_bench'
  return url.toString()
}

/** A throwaway database name on the same server (the tiny run). */
export function throwawayDatabaseUrl(): string {
  const url = new URL(process.env.TEST_DATABASE_URL ?? process.env.DATABASE_URL ?? localServer)
  url.pathname = `/npq_bench_tiny_${crypto.randomBytes(4).toString('hex')}`
  return url.toString()
}

function databaseName(url: string): string {
  const name = decodeURIComponent(new URL(url).pathname.replace(/^\//, ''))
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name "${name}" must be lower-case letters, digits and _`)
  return name
}

async function withMaintenanceClient<T>(url: string, work: (client: pg.Client, name: string) => Promise<T>): Promise<T> {
  const name = databaseName(url)
  const maintenance = new URL(url)
  maintenance.pathname = '/postgres'
  const client = new pg.Client({ connectionString: maintenance.toString() })
  await client.connect()
  try {
    return await work(client, name)
  } finally {
    await client.end()
  }
}

/** Creates the database if it does not exist (dropping it first with `fresh`). Returns whether it was created. */
export async function ensureDatabase(url: string, options: { fresh?: boolean } = {}): Promise<boolean> {
  return withMaintenanceClient(url, async (client, name) => {
    if (options.fresh) await client.query(`drop database if exists ${name} with (force)`)
    const exists = await client.query('select 1 from pg_database where datname = $1', [name])
    if (exists.rowCount) return false
    await client.query(`create database ${name}`)
    return true
  })
}

export async function dropDatabase(url: string): Promise<void> {
  await withMaintenanceClient(url, (client, name) => client.query(`drop database if exists ${name} with (force)`))
}

/** The platform's services on the benchmark database: migrations applied, designs synced, no job workers. */
export async function openServices(url: string): Promise<Services> {
  const config = loadConfig({ DATABASE_URL: url, NODE_ENV: 'development', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' })
  return createServices({ config, owner: 'cli', work: false })
}

/** Progress on stderr: one line per step, with the seconds since the start. */
export function progressLog(quiet = false): (line: string) => void {
  const started = performance.now()
  return (line) => {
    if (!quiet) process.stderr.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(7)}s] ${line}\n`)
  }
}

export const formatCount = (n: number) => n.toLocaleString('en-GB')
