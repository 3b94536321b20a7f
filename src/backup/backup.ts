import fs from 'node:fs'
import path from 'node:path'
import { pipeline } from 'node:stream/promises'
import { PGlite } from '@electric-sql/pglite'
import pg from 'pg'
import { to as copyTo } from 'pg-copy-streams'
import { DatabaseInUseError, lockDataDir, openDatabase, pgdataDir } from '../db/database.ts'
import { migrations } from '../db/migrate.ts'
import { BackupError, readBackup, reason } from './archive.ts'
import { backupCommand } from './snapshot.ts'

// `npq backup <file>` and `npq restore <file>` for the embedded database (docs/RELIABILITY.md).
// PostgreSQL (DATABASE_URL) is backed up with pg_dump and pg_restore, which do it better than we could.

export type Where = { databaseUrl: string | undefined; dataDir: string }
type Options = { force?: boolean; progress?: (line: string) => void }

export type BackupResult = { file: string; bytes: number; postgres_version: string; files: number }

export async function backupDatabase(where: Where, file: string, options: Options = {}): Promise<BackupResult> {
  const progress = options.progress ?? (() => {})
  if (where.databaseUrl) {
    throw new BackupError(
      'npq backup copies the embedded database; with DATABASE_URL set, back up PostgreSQL with pg_dump (docs/RELIABILITY.md)',
      2,
    )
  }
  const dataDir = path.resolve(where.dataDir)
  if (!fs.existsSync(path.join(pgdataDir(dataDir), 'PG_VERSION'))) {
    throw new BackupError(`There is no embedded database in ${dataDir} to back up (NPQ_DATA_DIR)`)
  }
  const out = path.resolve(file)
  if (fs.existsSync(out) && !options.force)
    throw new BackupError(`${out} already exists: choose another name, or add --force to replace it`)
  if (!fs.statSync(path.dirname(out), { throwIfNoEntry: false })?.isDirectory()) {
    throw new BackupError(`cannot write ${out}: the folder ${path.dirname(out)} does not exist`)
  }
  // Written beside the target and renamed when complete and checked: a failed backup leaves no file
  // that looks like one, and does not spoil the backup it was to replace.
  const partial = path.join(path.dirname(out), `.${path.basename(out)}.partial-${process.pid}`)

  // Through the running server when there is one, otherwise this process opens the files: the same
  // request either way (src/backup/snapshot.ts).
  const database = await openDatabase({ dataDir, owner: 'cli', poolSize: 1 })
  try {
    progress(`backup: copying ${database.description}`)
    // A client of its own rather than the pool's: Kysely ends the pool only once it has used it.
    const client = new pg.Client({ connectionString: database.connectionString })
    await client.connect()
    try {
      await pipeline(client.query(copyTo(backupCommand)), fs.createWriteStream(partial, { flags: 'wx' }))
    } catch (error) {
      // A server started before this version hands the command to PostgreSQL, which cannot parse it.
      if (error instanceof pg.DatabaseError && error.code === '42601') {
        throw new BackupError(
          `${database.description} cannot be backed up: its server started before npq backup existed; restart it, then back up`,
        )
      }
      if (error instanceof pg.DatabaseError) throw new BackupError(`the backup failed: ${error.message}`)
      throw error
    } finally {
      await client.end()
    }
    progress('backup: checking the archive')
    const archive = await readBackup(partial)
    fs.renameSync(partial, out)
    progress('backup: done')
    return { file: out, bytes: fs.statSync(out).size, postgres_version: archive.postgresVersion, files: archive.files }
  } finally {
    fs.rmSync(partial, { force: true })
    await database.close()
  }
}

export type RestoreResult = {
  data_dir: string
  file: string
  /** Where the database that was there went (--force), or null. */
  moved_aside: string | null
  migrations_in_backup: number
  /** Applied at the next start, as always. */
  migrations_pending: number
}

export async function restoreDatabase(where: Where, file: string, options: Options = {}): Promise<RestoreResult> {
  const progress = options.progress ?? (() => {})
  if (where.databaseUrl) {
    throw new BackupError(
      'npq restore restores the embedded database; with DATABASE_URL set, restore PostgreSQL with pg_restore (docs/RELIABILITY.md)',
      2,
    )
  }
  const dataDir = path.resolve(where.dataDir)
  const source = path.resolve(file)
  const dataDirExisted = fs.existsSync(dataDir)
  let lock: { release(): void }
  try {
    // Held throughout, so no server or command opens the database while its files are replaced.
    lock = lockDataDir(dataDir, 'npq restore')
  } catch (error) {
    if (error instanceof DatabaseInUseError)
      throw new BackupError(`${error.message}. Stop it before restoring: a restore replaces the database's files.`)
    throw error
  }
  const pgdata = pgdataDir(dataDir)
  const staging = `${pgdata}.restoring-${process.pid}`
  let restored = false
  try {
    const existing = fs.existsSync(pgdata) && fs.readdirSync(pgdata).length > 0
    if (existing && !options.force) {
      throw new BackupError(
        `${dataDir} already holds a database: add --force to move it aside (kept as pgdata.replaced-<time> beside it) and restore`,
      )
    }
    progress(`restore: checking ${source}`)
    const archive = await readBackup(source)

    // Opened in a staging folder first: the files and the database in them are checked before the
    // data directory is touched, and a refusal leaves it exactly as it was.
    progress('restore: opening the backup')
    fs.rmSync(staging, { recursive: true, force: true })
    const applied = await openStaged(staging, archive.tar, source, archive.postgresVersion)

    let movedAside: string | null = null
    if (existing) {
      movedAside = `${pgdata}.replaced-${new Date().toISOString().replace(/[:.]/g, '-')}`
      fs.renameSync(pgdata, movedAside)
    } else {
      fs.rmSync(pgdata, { recursive: true, force: true }) // an empty folder
    }
    fs.renameSync(staging, pgdata)
    restored = true
    progress('restore: done')
    return {
      data_dir: dataDir,
      file: source,
      moved_aside: movedAside,
      migrations_in_backup: applied.length,
      migrations_pending: Object.keys(migrations).filter((name) => !applied.includes(name)).length,
    }
  } finally {
    fs.rmSync(staging, { recursive: true, force: true })
    lock.release()
    if (!restored && !dataDirExisted) fs.rmSync(dataDir, { recursive: true, force: true }) // created only for the lock
  }
}

/** Loads the archive into `dir` and returns the migrations its database has applied. */
async function openStaged(dir: string, tar: Uint8Array, source: string, postgresVersion: string): Promise<string[]> {
  let db: PGlite
  try {
    db = await PGlite.create(dir, { loadDataDir: new Blob([tar]) })
  } catch (error) {
    throw new BackupError(
      `cannot open the database in ${source}: ${reason(error) || 'PGlite refused it'} ` +
        `(its files are PostgreSQL ${postgresVersion}'s; they open only with the PostgreSQL major version they were written by)`,
    )
  }
  try {
    const table = await db.query<{ name: string | null }>(`select to_regclass('public.kysely_migration')::text as name`)
    if (!table.rows[0]?.name) throw new BackupError(`${source} is not an npq backup: its database has no npq tables`)
    const { rows } = await db.query<{ name: string }>('select name from kysely_migration order by name')
    const applied = rows.map((r) => r.name)
    const unknown = applied.filter((name) => !(name in migrations))
    if (unknown.length > 0) {
      throw new BackupError(
        `${source} comes from a newer version of the platform (migrations ${unknown.join(', ')} are unknown to this one): upgrade, then restore`,
      )
    }
    return applied
  } finally {
    await db.close()
  }
}
