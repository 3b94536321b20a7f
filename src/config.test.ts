import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ConfigError, loadConfig } from './config.ts'

test('defaults give a development platform on port 3000 with the embedded database in ./data', () => {
  const config = loadConfig({})
  assert.equal(config.port, 3000)
  assert.equal(config.env, 'development')
  assert.equal(config.databaseUrl, undefined)
  assert.match(config.dataDir, /\/data$/)
  assert.equal(config.baseUrl, 'http://localhost:3000')
})

test('a bad setting stops with one line naming it', () => {
  for (const [env, name] of [
    [{ PORT: 'eighty' }, 'PORT'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ NPQ_DEMO_PASSWORD: 'short' }, 'NPQ_DEMO_PASSWORD'],
    [{ NODE_ENV: 'production' }, 'SESSION_SECRET'],
    [{ EMAIL_TRANSPORT: 'smtp' }, 'SMTP_URL'],
    [{ DFE_API_URL: 'https://example.test/api/v3' }, 'DFE_API_TOKEN'],
  ] as const) {
    assert.throws(
      () => loadConfig(env),
      (error: unknown) => error instanceof ConfigError && error.message.includes(name) && !error.message.includes('\n'),
      `expected an error naming ${name}`,
    )
  }
})

test('an empty DATABASE_URL means the embedded database', () => {
  assert.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, undefined)
})

test('DfE sync is off until both DFE_API_URL and DFE_API_TOKEN are set', () => {
  assert.equal(loadConfig({}).dfe, null)
  assert.deepEqual(loadConfig({ DFE_API_URL: 'https://dfe.example/api/v3/', DFE_API_TOKEN: 'secret' }).dfe, {
    url: 'https://dfe.example/api/v3',
    token: 'secret',
  })
})

test('NPQ_PROCESS: all by default; web and worker only on PostgreSQL, refused in one line on the embedded database', () => {
  assert.equal(loadConfig({}).processRole, 'all')
  const url = 'postgres://u:p@db.example:5432/npq'
  assert.equal(loadConfig({ NPQ_PROCESS: 'web', DATABASE_URL: url }).processRole, 'web')
  assert.equal(loadConfig({ NPQ_PROCESS: 'worker', DATABASE_URL: url }).processRole, 'worker')
  for (const role of ['web', 'worker']) {
    assert.throws(
      () => loadConfig({ NPQ_PROCESS: role }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message ===
          `Configuration error: NPQ_PROCESS=${role} needs DATABASE_URL (the embedded database allows one process only: unset NPQ_PROCESS)`,
    )
  }
  assert.throws(
    () => loadConfig({ NPQ_PROCESS: 'jobs', DATABASE_URL: url }),
    (error: unknown) => error instanceof ConfigError && error.message.includes('NPQ_PROCESS') && !error.message.includes('\n'),
  )
})

test('DATABASE_REPLICA_URL: a URL, only beside DATABASE_URL', () => {
  const url = 'postgres://u:p@db.example:5432/npq'
  const replica = 'postgres://u:p@replica.example:5432/npq'
  assert.equal(loadConfig({ DATABASE_URL: url }).databaseReplicaUrl, undefined)
  assert.equal(loadConfig({ DATABASE_URL: url, DATABASE_REPLICA_URL: replica }).databaseReplicaUrl, replica)
  assert.throws(
    () => loadConfig({ DATABASE_REPLICA_URL: replica }),
    (error: unknown) =>
      error instanceof ConfigError &&
      error.message === 'Configuration error: DATABASE_REPLICA_URL needs DATABASE_URL (a replica of the embedded database cannot exist)',
  )
  assert.throws(
    () => loadConfig({ DATABASE_URL: url, DATABASE_REPLICA_URL: 'not a url' }),
    (error: unknown) => error instanceof ConfigError && error.message.startsWith('Configuration error: DATABASE_REPLICA_URL'),
  )
})
