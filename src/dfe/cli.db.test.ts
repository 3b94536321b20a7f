import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { openDatabase } from '../db/database.ts'
import { migrateToLatest } from '../db/migrate.ts'
import { systemPrincipal as by } from '../test-support/fixtures.ts'
import { createPostgresDatabase, testDatabaseKind } from '../test-support/services.ts'
import { queueDfeRequest } from './requests.ts'
import { dfeDeclaration, dfeDeclarationBody, dfeParticipant, dfeWorld, startFakeDfe } from './test-fixtures.ts'

// `npx npq dfe sync` as users run it: off without DFE_API_URL and DFE_API_TOKEN (exit 1, saying how
// many requests wait), then sending them and printing {sent, failed, queued} on stdout.

const bin = path.resolve(import.meta.dirname, '../../bin/npq.js')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-dfe-cli-'))
const token = 'cli-test-token'
let env: Record<string, string>
let drop = async () => {}
let fake: Awaited<ReturnType<typeof startFakeDfe>>

before(async () => {
  env = { PATH: process.env.PATH!, NODE_ENV: 'development', LOG_LEVEL: 'silent' }
  if (testDatabaseKind() === 'postgres') {
    const created = await createPostgresDatabase()
    env.DATABASE_URL = created.url
    drop = created.drop
  } else {
    env.NPQ_DATA_DIR = dir
  }
  fake = await startFakeDfe((r) =>
    r.method === 'GET'
      ? { status: 200, body: { data: [] } }
      : r.method === 'POST' &&
          (r.body as { data: { attributes: { declaration_type: string } } }).data.attributes.declaration_type === 'completed'
        ? { status: 422, body: { errors: [{ title: 'has_passed', detail: 'must be given' }] } }
        : { status: 200, body: dfeDeclarationBody('c0ffee00-0000-4000-8000-000000000001', 'eligible') },
  )
  // Two requests queued by the platform: one DfE accepts, one it refuses.
  const database = await openDatabase({ databaseUrl: env.DATABASE_URL, dataDir: dir, owner: 'server' })
  try {
    await migrateToLatest(database.db)
    const world = await dfeWorld(database.db)
    const p = await dfeParticipant(world)
    for (const type of ['started', 'completed'] as const) {
      const declarationId = await dfeDeclaration(world, p, { type })
      await database.db.transaction().execute((trx) =>
        queueDfeRequest(trx, {
          leadProviderId: world.leadProviderId,
          kind: 'submit-declaration',
          subjectId: declarationId,
          queuedBy: by,
        }),
      )
    }
  } finally {
    await database.close()
  }
})
after(async () => {
  await fake?.close()
  await drop()
  fs.rmSync(dir, { recursive: true, force: true })
})

function npq(args: string[], extra: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  // Asynchronous: the stand-in DfE answers from this process while the command runs.
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...env, ...extra } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += String(c)))
    child.stderr.on('data', (c: Buffer) => (stderr += String(c)))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

test('without DFE_API_URL and DFE_API_TOKEN, dfe sync says it is off and how many requests wait (exit 1)', async () => {
  const { code, stdout, stderr } = await npq(['dfe', 'sync'])
  assert.equal(code, 1, stderr)
  assert.equal(stdout, '')
  assert.match(stderr, /^npq: DfE sync is off: set DFE_API_URL and DFE_API_TOKEN to send the 2 queued request\(s\)\n$/)
})

test('dfe sync sends the queued requests now and prints {sent, failed, queued}; the refused one stays queued', async () => {
  const run = await npq(['dfe', 'sync', '--format', 'json'], { DFE_API_URL: fake.url, DFE_API_TOKEN: token })
  assert.equal(run.code, 0, run.stderr)
  assert.deepEqual(JSON.parse(run.stdout), { sent: 1, failed: 1, queued: 1 })
  assert.match(run.stderr, /DfE sync: 1 sent, 1 failed, 1 still queued/)
  assert.doesNotMatch(run.stdout + run.stderr, new RegExp(token))
  assert.ok(fake.seen.every((r) => r.authorization === `Bearer ${token}`))

  // Run again: the refused one is tried again now (DfE has no such declaration; refused again); nothing is sent twice.
  const again = await npq(['dfe', 'sync'], { DFE_API_URL: fake.url, DFE_API_TOKEN: token })
  assert.deepEqual(JSON.parse(again.stdout), { sent: 0, failed: 1, queued: 1 })
  assert.equal(fake.seen.filter((r) => r.method === 'POST').length, 3)
})
