import crypto from 'node:crypto'
import { Writable } from 'node:stream'
import pg from 'pg'
import pino from 'pino'
import { loadConfig, type Config } from '../config.ts'
import { createLogger } from '../logging.ts'
import { createServices, type Services } from '../services.ts'
import { defaultTestDatabaseUrl } from './postgres-url.ts'

// Services for a database test: a throwaway in-memory PGlite, or a fresh PostgreSQL database that
// is dropped afterwards, chosen by NPQ_TEST_DATABASE (set by scripts/test.ts).

export type TestServices = Services & { logLines: string[]; databaseUrl: string | undefined; dispose(): Promise<void> }

export function testDatabaseKind(): 'pglite' | 'postgres' {
  return process.env.NPQ_TEST_DATABASE === 'postgres' ? 'postgres' : 'pglite'
}

/** A fresh empty PostgreSQL database (for suites on real PostgreSQL), and how to drop it. */
export async function createPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const adminUrl = process.env.TEST_DATABASE_URL ?? defaultTestDatabaseUrl
  const name = `npq_test_${crypto.randomBytes(6).toString('hex')}`
  const admin = new pg.Client({ connectionString: adminUrl })
  await admin.connect()
  await admin.query(`create database ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl })
      await client.connect()
      await client.query(`drop database if exists ${name} with (force)`)
      await client.end()
    },
  }
}

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', NPQ_DEMO_PASSWORD: 'demo-password-for-tests', ...overrides })
}

export async function createTestServices(options: { env?: Record<string, string>; work?: boolean } = {}): Promise<TestServices> {
  let drop = async () => {}
  let databaseUrl: string | undefined
  if (testDatabaseKind() === 'postgres') {
    const created = await createPostgresDatabase()
    databaseUrl = created.url
    drop = created.drop
  }
  const config = testConfig({ ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}), ...options.env })
  const logLines: string[] = []
  const sink = new Writable({
    write(chunk, _enc, done) {
      logLines.push(...String(chunk).split('\n').filter(Boolean))
      done()
    },
  })
  const logger = createLogger('info', sink as unknown as pino.DestinationStream)
  const services = await createServices({ config, owner: 'server', work: options.work ?? false, logger, dataDir: 'memory://' })
  return Object.assign(services, {
    logLines,
    databaseUrl,
    async dispose() {
      await services.close()
      await drop()
    },
  })
}
