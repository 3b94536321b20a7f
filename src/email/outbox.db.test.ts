import assert from 'node:assert/strict'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { EmailOutbox } from './outbox.ts'
import { createServices } from '../services.ts'
import { createPostgresDatabase, createTestServices, testConfig, testDatabaseKind, type TestServices } from '../test-support/services.ts'

const open: TestServices[] = []
after(async () => {
  for (const s of open) await s.dispose()
})

async function waitFor<T>(check: () => Promise<T | undefined>, seconds = 30): Promise<T> {
  const until = Date.now() + seconds * 1000
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > until) throw new Error('timed out waiting')
    await sleep(200)
  }
}

test('an email is queued with the change that causes it: rolled back, nothing is sent; committed, the job delivers it', async () => {
  const services = await createTestServices({ work: true })
  open.push(services)
  await services.db
    .transaction()
    .execute(async (trx) => {
      await services.email.queue(trx, { to: 'gone@school.test', subject: 'Never', body: 'rolled back' })
      throw new Error('roll back')
    })
    .catch(() => {})
  const id = await services.db
    .transaction()
    .execute((trx) => services.email.queue(trx, { to: 'Jane@School.test', subject: 'Hello', body: 'Welcome' }))

  const sent = await waitFor(async () => {
    const row = await services.db.selectFrom('email_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
    return row.status === 'sent' ? row : undefined
  })
  assert.equal(sent.to_address, 'jane@school.test')
  assert.equal(sent.attempts, 1)
  assert.equal(
    await services.db.selectFrom('email_outbox').select('id').where('to_address', '=', 'gone@school.test').executeTakeFirst(),
    undefined,
  )
})

test('a failed delivery stays queued with its error and is retried; delivering twice at once sends once', async () => {
  const services = await createTestServices()
  open.push(services)
  let calls = 0
  let fail = true
  const transport = {
    name: 'flaky',
    deliver: async () => {
      calls++
      await sleep(50)
      if (fail) throw new Error('SMTP 421 try later')
      return 'ref-1'
    },
  }
  const outbox = new EmailOutbox(services.db, services.jobs, transport, services.logger)
  const id = await services.db.transaction().execute((trx) => outbox.queue(trx, { to: 'a@school.test', subject: 'S', body: 'B' }))

  await assert.rejects(outbox.deliver(id), /421/)
  let row = await services.db.selectFrom('email_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  assert.equal(row.status, 'queued')
  assert.equal(row.attempts, 1)
  assert.match(row.last_error!, /421/)

  fail = false
  await Promise.all([outbox.deliver(id), outbox.deliver(id)])
  row = await services.db.selectFrom('email_outbox').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  assert.equal(row.status, 'sent')
  assert.equal(row.provider_reference, 'ref-1')
  assert.equal(calls, 2)
})

test('jobs survive a restart: a job queued while no worker runs is done by the next process', async () => {
  // A real data directory (embedded) or a fresh database (PostgreSQL): both outlive the first process.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-jobs-'))
  const pgDatabase = testDatabaseKind() === 'postgres' ? await createPostgresDatabase() : null
  const config = testConfig({ LOG_LEVEL: 'silent', ...(pgDatabase ? { DATABASE_URL: pgDatabase.url } : { NPQ_DATA_DIR: dir }) })
  try {
    const first = await createServices({ config, owner: 'server', work: false })
    const id = await first.db
      .transaction()
      .execute((trx) => first.email.queue(trx, { to: 'later@school.test', subject: 'Later', body: 'B' }))
    await first.close()

    const second = await createServices({ config, owner: 'server', work: true })
    try {
      await waitFor(async () => {
        const row = await second.db.selectFrom('email_outbox').select('status').where('id', '=', id).executeTakeFirstOrThrow()
        return row.status === 'sent' ? true : undefined
      })
    } finally {
      await second.close()
    }
  } finally {
    await pgDatabase?.drop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
