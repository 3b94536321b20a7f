import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import pg from 'pg'
import pino from 'pino'
import { openDatabase } from '../db/database.ts'
import { migrateToLatest } from '../db/migrate.ts'
import { loadDemoData } from '../demo/demo.ts'
import { createServices } from '../services.ts'
import { createPostgresDatabase, testConfig, testDatabaseKind } from '../test-support/services.ts'
import { BackupError } from './archive.ts'
import { backupDatabase, restoreDatabase } from './backup.ts'

// Backups round-trip: the demo data, backed up (also while a server holds the database and a transaction
// is open) and restored into a fresh directory, is the same database — every table's row count, and
// every participant, declaration and audit event exactly. Bad input is refused and changes nothing.
// The embedded database's part runs in the pglite suite; the postgres suite checks the pg_dump and
// pg_restore commands of docs/RELIABILITY.md instead.

const embedded = testDatabaseKind() === 'pglite'
const onlyEmbedded = embedded ? false : 'embedded database: runs in the pglite suite'
const bin = path.resolve(import.meta.dirname, '../../bin/npq.js')
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-backup-'))
const dataDir = path.join(tmp, 'data')
const silent = pino({ level: 'silent' })

before(async () => {
  if (!embedded) return
  const services = await createServices({ config: testConfig(), owner: 'server', work: false, logger: silent, dataDir })
  try {
    await loadDemoData(services)
  } finally {
    await services.close()
  }
})
after(() => fs.rmSync(tmp, { recursive: true, force: true }))

type Queryable = { query(sql: string): Promise<{ rows: Record<string, unknown>[] }> }

/** Rows in every table of every schema (the platform's and pg-boss's). */
async function tableCounts(db: Queryable): Promise<Record<string, number>> {
  const { rows } = await db.query(
    `select table_schema, table_name from information_schema.tables
     where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema') order by 1, 2`,
  )
  const counts: Record<string, number> = {}
  for (const { table_schema, table_name } of rows) {
    const name = `"${String(table_schema)}"."${String(table_name)}"`
    counts[name] = Number((await db.query(`select count(*) as n from ${name}`)).rows[0]!.n)
  }
  return counts
}

const exactTables = ['participants', 'declarations', 'audit_events']
async function exactRows(db: Queryable): Promise<Record<string, unknown[]>> {
  const rows: Record<string, unknown[]> = {}
  for (const table of exactTables) rows[table] = (await db.query(`select * from ${table} order by id`)).rows
  return rows
}

function npq(args: string[], env: Record<string, string>) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    env: { PATH: process.env.PATH!, LOG_LEVEL: 'silent', ...env },
    encoding: 'utf8',
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** As npq(), without blocking this process: for commands that talk to a database served by it. */
function npqAsync(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { PATH: process.env.PATH!, LOG_LEVEL: 'silent', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Every file under a folder with its size and time: to show that a refusal changed nothing. */
function listing(dir: string): string[] {
  if (!fs.existsSync(dir)) return []
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .map((entry) => {
      const full = path.join(entry.parentPath, entry.name)
      const stat = fs.statSync(full)
      return `${path.relative(dir, full)} ${entry.isFile() ? stat.size : 'dir'} ${stat.mtimeMs}`
    })
    .sort()
}

test(
  'a backup through the running server waits for an open transaction, and restores to the same database',
  { skip: onlyEmbedded },
  async () => {
    const server = await openDatabase({ dataDir, owner: 'server' })
    const file = path.join(tmp, 'while-running.tar.gz')
    let source: { counts: Record<string, number>; rows: Record<string, unknown[]> }
    try {
      const client = await server.pool.connect()
      await client.query('begin')
      await client.query(`insert into audit_events (actor, action, entity_type, entity_id) values ('test', 'backup.probe', 'test', '1')`)
      // This process is the server here, so the backup goes through its connection, as a command's would.
      let finished = false
      const backup = backupDatabase({ databaseUrl: undefined, dataDir }, file).finally(() => (finished = true))
      await new Promise((resolve) => setTimeout(resolve, 1000))
      assert.equal(finished, false, 'the backup waits until the transaction ends')
      await client.query('commit')
      client.release()
      const result = await backup
      assert.equal(result.file, file)
      assert.equal(result.postgres_version, '18')
      assert.ok(result.bytes > 100_000)
      source = { counts: await tableCounts(server.pool), rows: await exactRows(server.pool) }
    } finally {
      await server.close()
    }

    const fresh = path.join(tmp, 'fresh')
    const restored = await restoreDatabase({ databaseUrl: undefined, dataDir: fresh }, file)
    assert.deepEqual(restored, {
      data_dir: fresh,
      file,
      moved_aside: null,
      migrations_in_backup: restored.migrations_in_backup,
      migrations_pending: 0,
    })
    const copy = await openDatabase({ dataDir: fresh, owner: 'server' })
    try {
      assert.deepEqual(await migrateToLatest(copy.db), [])
      const counts = await tableCounts(copy.pool)
      assert.ok(Object.keys(counts).length > 50, 'every table, pg-boss’s too')
      assert.deepEqual(counts, source.counts)
      const rows = await exactRows(copy.pool)
      assert.deepEqual(rows, source.rows)
      assert.ok(rows.participants!.length > 10 && rows.declarations!.length > 0)
      assert.ok(
        (rows.audit_events as { action: string }[]).some((row) => row.action === 'backup.probe'),
        'the transaction the backup waited for is in it',
      )
    } finally {
      await copy.close()
    }
  },
)

test('npq backup and npq restore: exit codes, JSON on stdout, and refusals that change nothing', { skip: onlyEmbedded }, async () => {
  const env = { NPQ_DATA_DIR: dataDir }
  const running = path.join(tmp, 'cli-running.tar.gz')
  const server = await openDatabase({ dataDir, owner: 'server' })
  try {
    const backedUp = await npqAsync(['backup', running], env)
    assert.equal(backedUp.code, 0, backedUp.stderr)
    assert.equal(JSON.parse(backedUp.stdout).file, running)
    assert.match(backedUp.stderr, /running server's embedded database/)

    // Not while the server holds the directory, even with --force.
    const unchanged = listing(dataDir).filter((f) => !f.startsWith('npq.lock'))
    const refused = npq(['restore', running, '--force'], env)
    assert.equal(refused.code, 1)
    assert.match(refused.stderr, new RegExp(`in use by process ${process.pid} \\(server\\)\\. Stop it before restoring`))
    assert.equal(refused.stdout, '')
    assert.deepEqual(
      listing(dataDir).filter((f) => !f.startsWith('npq.lock')),
      unchanged,
    )
  } finally {
    await server.close()
  }

  // No server: the command opens the files itself, and lets go of them.
  const stopped = path.join(tmp, 'cli-stopped.tar.gz')
  const direct = npq(['backup', stopped, '--quiet'], env)
  assert.equal(direct.code, 0, direct.stderr)
  assert.doesNotMatch(direct.stderr, /backup: /)
  assert.equal(fs.existsSync(path.join(dataDir, 'npq.lock')), false)
  const again = npq(['backup', stopped], env)
  assert.equal(again.code, 1)
  assert.match(again.stderr, /already exists: choose another name, or add --force/)
  assert.equal(npq(['backup', stopped, '--force', '--quiet'], env).code, 0)
  assert.equal(npq(['backup', path.join(tmp, 'no-such-folder', 'b.tar.gz')], env).code, 1)
  const nothing = npq(['backup', path.join(tmp, 'empty.tar.gz')], { NPQ_DATA_DIR: path.join(tmp, 'no-database') })
  assert.equal(nothing.code, 1)
  assert.match(nothing.stderr, /no embedded database in .*no-database to back up/)

  // Bad files: refused with the reason, and the target directory is not even created.
  const target = path.join(tmp, 'cli-restored')
  const garbage = path.join(tmp, 'garbage.tar.gz')
  fs.writeFileSync(garbage, 'not a backup at all\n')
  const truncated = path.join(tmp, 'truncated.tar.gz')
  fs.writeFileSync(truncated, fs.readFileSync(stopped).subarray(0, 200_000))
  for (const [file, reason] of [
    [path.join(tmp, 'missing.tar.gz'), /cannot read .*missing\.tar\.gz \(no such file\)/],
    [garbage, /garbage\.tar\.gz is not an npq backup: it is not gzip-compressed/],
    [truncated, /truncated\.tar\.gz is not an npq backup: it is damaged or incomplete/],
  ] as const) {
    const bad = npq(['restore', file, '--quiet'], { NPQ_DATA_DIR: target })
    assert.equal(bad.code, 1, file)
    assert.match(bad.stderr, reason)
    assert.equal(bad.stdout, '')
    assert.equal(fs.existsSync(target), false)
  }
  const withPostgres = { NPQ_DATA_DIR: target, DATABASE_URL: 'postgres://npq@127.0.0.1:1/npq' }
  const backupPg = npq(['backup', path.join(tmp, 'pg.tar.gz')], withPostgres)
  assert.equal(backupPg.code, 2)
  assert.match(backupPg.stderr, /pg_dump/)
  const restorePg = npq(['restore', stopped], withPostgres)
  assert.equal(restorePg.code, 2)
  assert.match(restorePg.stderr, /pg_restore/)

  const restored = npq(['restore', stopped, '--quiet'], { NPQ_DATA_DIR: target })
  assert.equal(restored.code, 0, restored.stderr)
  assert.equal(JSON.parse(restored.stdout).moved_aside, null)

  // A database already there is kept unless --force, and then moved aside, not deleted.
  const existing = listing(target)
  const over = npq(['restore', running], { NPQ_DATA_DIR: target })
  assert.equal(over.code, 1)
  assert.match(over.stderr, /already holds a database: add --force/)
  assert.deepEqual(listing(target), existing)
  const forced = npq(['restore', running, '--force', '--quiet'], { NPQ_DATA_DIR: target })
  assert.equal(forced.code, 0, forced.stderr)
  const aside = JSON.parse(forced.stdout).moved_aside as string
  assert.match(path.basename(aside), /^pgdata\.replaced-/)
  assert.deepEqual(
    listing(aside),
    existing.filter((f) => f.startsWith('pgdata/')).map((f) => f.slice('pgdata/'.length)),
  )
})

test('restore refuses an archive that holds no npq database', { skip: onlyEmbedded }, async () => {
  const other = path.join(tmp, 'other')
  const { PGlite } = await import('@electric-sql/pglite')
  const db = await PGlite.create(other)
  await db.exec('create table things (id int)')
  const archive = path.join(tmp, 'other.tar.gz')
  fs.writeFileSync(archive, await (await db.dumpDataDir('gzip')).bytes())
  await db.close()
  const target = path.join(tmp, 'not-npq')
  await assert.rejects(restoreDatabase({ databaseUrl: undefined, dataDir: target }, archive), (error: unknown) => {
    assert.ok(error instanceof BackupError)
    assert.equal(error.exitCode, 1)
    assert.match(error.message, /is not an npq backup: its database has no npq tables/)
    return true
  })
  assert.equal(fs.existsSync(target), false)
})

/** pg_dump and pg_restore of the machine, where PostgreSQL's client tools are installed. */
function postgresTool(name: string): string | null {
  const onPath = spawnSync(name, ['--version'], { encoding: 'utf8' })
  if (onPath.status === 0) return name
  const root = '/usr/lib/postgresql'
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  return versions.map((v) => path.join(root, v, 'bin', name)).find((p) => fs.existsSync(p)) ?? null
}

const pgDump = postgresTool('pg_dump')
const pgRestore = postgresTool('pg_restore')

test(
  'PostgreSQL: the pg_dump and pg_restore commands of docs/RELIABILITY.md round-trip the database',
  { skip: embedded ? 'PostgreSQL: runs in the postgres suite' : !pgDump || !pgRestore ? 'pg_dump/pg_restore not installed' : false },
  async () => {
    const source = await createPostgresDatabase()
    const copy = await createPostgresDatabase()
    const dump = path.join(tmp, 'npq.dump')
    try {
      const services = await createServices({
        config: testConfig({ DATABASE_URL: source.url }),
        owner: 'server',
        work: false,
        logger: silent,
      })
      try {
        await loadDemoData(services)
      } finally {
        await services.close()
      }
      const dumped = spawnSync(pgDump!, ['--format=custom', '--no-owner', `--file=${dump}`, source.url], { encoding: 'utf8' })
      assert.equal(dumped.status, 0, dumped.stderr)
      const restored = spawnSync(pgRestore!, ['--no-owner', '--exit-on-error', `--dbname=${copy.url}`, dump], { encoding: 'utf8' })
      assert.equal(restored.status, 0, restored.stderr)

      const read = async (url: string) => {
        const client = new pg.Client({ connectionString: url })
        await client.connect()
        try {
          return { counts: await tableCounts(client), rows: await exactRows(client) }
        } finally {
          await client.end()
        }
      }
      const [before, after] = [await read(source.url), await read(copy.url)]
      assert.ok(Object.keys(before.counts).length > 50)
      assert.deepEqual(after.counts, before.counts)
      assert.deepEqual(after.rows, before.rows)
      assert.ok(after.rows.participants!.length > 10)
    } finally {
      await copy.drop()
      await source.drop()
    }
  },
)
