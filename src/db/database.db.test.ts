import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import pg from 'pg'
import { createTestServices, testDatabaseKind, type TestServices } from '../test-support/services.ts'
import { DatabaseInUseError, openDatabase } from './database.ts'
import { migrateToLatest, migrations } from './migrate.ts'

let services: TestServices
before(async () => {
  services = await createTestServices()
})
after(async () => {
  await services.dispose()
})

test('migrations are applied at start and applying them again changes nothing', async () => {
  const applied = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(services.db)
  assert.deepEqual(
    applied.rows.map((r) => r.name),
    Object.keys(migrations),
  )
  const again = await migrateToLatest(services.db)
  assert.deepEqual(again, [])
})

test('the audit log is append-only: the database refuses updates and deletes', async () => {
  await services.db
    .insertInto('audit_events')
    .values({ actor: 'test', action: 'thing.done', entity_type: 'thing', entity_id: '1' })
    .execute()
  await assert.rejects(services.db.updateTable('audit_events').set({ action: 'changed' }).execute(), /append-only/)
  await assert.rejects(services.db.deleteFrom('audit_events').execute(), /append-only/)
})

test('parallel queries on the pool each get their own answer', async () => {
  const results = await Promise.all(
    Array.from({ length: 200 }, (_, i) => sql<{ n: number; s: string }>`select ${i}::int as n, ${`s${i}`}::text as s`.execute(services.db)),
  )
  results.forEach((r, i) => assert.deepEqual(r.rows[0], { n: i, s: `s${i}` }))
})

test('concurrent transactions commit or roll back whole', async () => {
  await sql`create table tx_probe (id int primary key)`.execute(services.db)
  await Promise.all(
    Array.from({ length: 30 }, (_, i) =>
      services.db
        .transaction()
        .execute(async (trx) => {
          await sql`insert into tx_probe values (${i})`.execute(trx)
          await sql`insert into tx_probe values (${i + 1000})`.execute(trx)
          if (i % 3 === 0) throw new Error('roll back')
        })
        .catch(() => {}),
    ),
  )
  const { rows } = await sql<{ count: number }>`select count(*)::int as count from tx_probe`.execute(services.db)
  assert.equal(rows[0]!.count, 40) // 20 committed transactions × 2 rows
})

test(
  'the embedded database has one owner; the CLI goes through the running server',
  { skip: testDatabaseKind() !== 'pglite' },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-lock-'))
    const server = await openDatabase({ dataDir: dir, owner: 'server' })
    try {
      await migrateToLatest(server.db)
      await server.db.insertInto('organisations').values({ kind: 'lead-provider', code: 'edt', name: 'EDT' }).execute()
      await assert.rejects(openDatabase({ dataDir: dir, owner: 'server' }), DatabaseInUseError)
      const cli = await openDatabase({ dataDir: dir, owner: 'cli' })
      try {
        assert.match(cli.description, /running server/)
        const rows = await cli.db.selectFrom('organisations').select('code').execute()
        assert.deepEqual(rows, [{ code: 'edt' }])
      } finally {
        await cli.close()
      }
    } finally {
      await server.close()
    }
    assert.equal(fs.existsSync(path.join(dir, 'npq.lock')), false)
    // After the server stops, a command opens the files itself and sees the same data.
    const reopened = await openDatabase({ dataDir: dir, owner: 'cli' })
    try {
      assert.match(reopened.description, /embedded PGlite/)
      assert.equal((await reopened.db.selectFrom('organisations').select('code').execute()).length, 1)
    } finally {
      await reopened.close()
      fs.rmSync(dir, { recursive: true, force: true })
    }
  },
)

test(
  'a client that vanishes inside a transaction does not hang the embedded database',
  { skip: testDatabaseKind() !== 'pglite' },
  async () => {
    const database = await openDatabase({ dataDir: 'memory://', owner: 'server' })
    try {
      const client = new pg.Client({ connectionString: database.connectionString })
      client.on('error', () => {})
      await client.connect()
      await client.query('begin')
      await client.query('create table vanished (id int)')
      client.connection.stream.destroy()
      const { rows } = await sql<{ name: string | null }>`select to_regclass('vanished')::text as name`.execute(database.db)
      assert.deepEqual(rows, [{ name: null }], 'its transaction was rolled back')
    } finally {
      await database.close()
    }
  },
)

test('a lock left by a process that died does not block the next start', { skip: testDatabaseKind() !== 'pglite' }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-stale-'))
  fs.writeFileSync(path.join(dir, 'npq.lock'), JSON.stringify({ pid: 2 ** 22 + 12345, owner: 'server', port: 1 }))
  const db = await openDatabase({ dataDir: dir, owner: 'server' })
  await db.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('the platform does not start on a catalogue with problems', async () => {
  const { createServices } = await import('../services.ts')
  const { testConfig } = await import('../test-support/services.ts')
  const { CatalogueError } = await import('../catalogue/load.ts')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-bad-catalogue-'))
  fs.mkdirSync(path.join(dir, 'designs/edt'), { recursive: true })
  fs.writeFileSync(path.join(dir, 'designs/edt/npq-headship.yaml'), 'lead_provider: edt\ncourse_identifier: npq-headship\nstyle: credits\n')
  process.env.NPQ_CATALOGUE_DIR = dir
  try {
    await assert.rejects(createServices({ config: testConfig(), owner: 'server', work: false, dataDir: 'memory://' }), (error: unknown) => {
      assert.ok(error instanceof CatalogueError)
      assert.match(error.message, /npq-headship\.yaml:1: source: /)
      return true
    })
  } finally {
    delete process.env.NPQ_CATALOGUE_DIR
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
