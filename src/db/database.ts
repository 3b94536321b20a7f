import fs from 'node:fs'
import path from 'node:path'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, PostgresDialect, type Transaction } from 'kysely'
import pg from 'pg'
import { backupCommand, snapshotDataDir } from '../backup/snapshot.ts'
import { EmbeddedServer } from './embedded-server.ts'
import type { Schema } from './schema.ts'

// Dates stay calendar dates ('2026-11-23'), never shifted through a JS Date in some time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value)
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value))

export type Db = Kysely<Schema>
export type Trx = Transaction<Schema>

export type Database = {
  db: Db
  pool: pg.Pool
  /** A connection string usable by other clients of the same database (pg-boss). */
  connectionString: string
  kind: 'postgres' | 'embedded'
  /** How the process reached the database, for a line in the log. */
  description: string
  close(): Promise<void>
}

export class DatabaseInUseError extends Error {}

/** Where PGlite keeps its files inside an embedded data directory (NPQ_DATA_DIR). */
export const pgdataDir = (dataDir: string) => path.join(dataDir, 'pgdata')

type OpenOptions = {
  databaseUrl?: string | undefined
  /** Embedded data directory, or 'memory://' for a throwaway database (tests). */
  dataDir: string
  /** The server owns the embedded database; the CLI reaches it through the server when it runs. */
  owner: 'server' | 'cli'
  poolSize?: number
}

export async function openDatabase(options: OpenOptions): Promise<Database> {
  const poolSize = options.poolSize ?? 10
  if (options.databaseUrl) {
    return fromConnectionString(options.databaseUrl, 'postgres', `PostgreSQL (${redactUrl(options.databaseUrl)})`, poolSize, async () => {})
  }
  if (options.dataDir === 'memory://') {
    return openEmbedded('memory://', poolSize, async () => {}, 'embedded PGlite (in memory)')
  }

  const dataDir = path.resolve(options.dataDir)
  fs.mkdirSync(dataDir, { recursive: true })
  const lockFile = path.join(dataDir, 'npq.lock')
  const holder = readLock(lockFile)
  if (holder) {
    if (options.owner === 'cli' && holder.port) {
      const url = `postgres://postgres@127.0.0.1:${holder.port}/postgres`
      return fromConnectionString(
        url,
        'embedded',
        `the running server's embedded database (process ${holder.pid}, ${dataDir})`,
        poolSize,
        async () => {},
      )
    }
    throw new DatabaseInUseError(
      `The embedded database in ${dataDir} is in use by process ${holder.pid} (${holder.owner})` +
        (holder.port ? '' : ', which does not share it') +
        '. Stop that process, or set DATABASE_URL to use PostgreSQL.',
    )
  }
  takeLock(lockFile, { pid: process.pid, owner: options.owner, port: null })
  try {
    return await openEmbedded(
      pgdataDir(dataDir),
      poolSize,
      async () => fs.rmSync(lockFile, { force: true }),
      `embedded PGlite (${dataDir})`,
      (port) => fs.writeFileSync(lockFile, JSON.stringify({ pid: process.pid, owner: options.owner, port })),
    )
  } catch (error) {
    fs.rmSync(lockFile, { force: true })
    throw error
  }
}

async function openEmbedded(
  dir: string,
  poolSize: number,
  release: () => Promise<void>,
  description: string,
  onListening?: (port: number) => void,
): Promise<Database> {
  const pglite = await PGlite.create(dir)
  const server = new EmbeddedServer(pglite, { [backupCommand]: snapshotDataDir })
  const port = await server.start()
  onListening?.(port)
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`
  return fromConnectionString(url, 'embedded', description, poolSize, async () => {
    await server.stop()
    await pglite.close()
    await release()
  })
}

/** A read-only replica of the PostgreSQL database: its own pool, the same schema, a moment behind. */
export function openReplica(url: string, poolSize = 5): Database {
  return fromConnectionString(url, 'postgres', `PostgreSQL replica (${redactUrl(url)})`, poolSize, async () => {})
}

function fromConnectionString(
  connectionString: string,
  kind: Database['kind'],
  description: string,
  poolSize: number,
  closeUnderlying: () => Promise<void>,
): Database {
  const pool = new pg.Pool({ connectionString, max: poolSize })
  // A dropped connection (database restart) must not crash the process; the pool reconnects.
  pool.on('error', () => {})
  // The pool stops listening to a client while it is checked out (a request's query or transaction):
  // a connection dropped then emits 'error' on the client, which unheard crashes the process. The
  // query in flight fails with the same error (a 500 for that request), and the pool discards the
  // broken client when it is released.
  pool.on('connect', (client) => client.on('error', () => {}))
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) })
  let closed = false
  return {
    db,
    pool,
    connectionString,
    kind,
    description,
    async close() {
      if (closed) return
      closed = true
      await db.destroy()
      await closeUnderlying()
    },
  }
}

type Lock = { pid: number; owner: string; port: number | null }

/**
 * Holds an embedded data directory without opening the database (`npq restore` replaces its files).
 * Throws DatabaseInUseError naming the process that has it.
 */
export function lockDataDir(dataDir: string, owner: string): { release(): void } {
  fs.mkdirSync(dataDir, { recursive: true })
  const lockFile = path.join(dataDir, 'npq.lock')
  const holder = readLock(lockFile)
  if (holder) throw new DatabaseInUseError(`The embedded database in ${dataDir} is in use by process ${holder.pid} (${holder.owner})`)
  takeLock(lockFile, { pid: process.pid, owner, port: null })
  return { release: () => fs.rmSync(lockFile, { force: true }) }
}

function readLock(lockFile: string): Lock | null {
  let lock: Lock
  try {
    lock = JSON.parse(fs.readFileSync(lockFile, 'utf8')) as Lock
  } catch {
    return null
  }
  if (lock.pid === process.pid) return lock
  try {
    process.kill(lock.pid, 0)
    return lock
  } catch {
    fs.rmSync(lockFile, { force: true }) // left behind by a process that died
    return null
  }
}

function takeLock(lockFile: string, lock: Lock) {
  try {
    fs.writeFileSync(lockFile, JSON.stringify(lock), { flag: 'wx' })
  } catch {
    throw new DatabaseInUseError(`The embedded database lock ${lockFile} was taken by another process just now. Try again.`)
  }
}

export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return 'unparseable URL'
  }
}
