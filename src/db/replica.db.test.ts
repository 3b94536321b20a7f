import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { figureJobDefinitions, refreshFigures } from '../dashboards/figure-store.ts'
import { loadDemoData } from '../demo/demo.ts'
import { outputsReport } from '../outputs/report.ts'
import { engagementReport } from '../reports/engagement-reports.ts'
import { buildApp } from '../routes.ts'
import { createServices, type Services } from '../services.ts'
import { Agent } from '../test-support/agent.ts'
import { createTestServices, testConfig, testDatabaseKind, type TestServices } from '../test-support/services.ts'

// DATABASE_REPLICA_URL: the figures job's scheduled sweep, reports counted on request and `npq report`
// read through the replica's pool; signing in, pages that act, the stored figures a page needs and a
// refresh sent after a change read the primary. The "replica" here is the same database reached with its
// own application_name, so which pool a query went through shows in pg_stat_activity.

const skip = testDatabaseKind() === 'postgres' ? false : 'PostgreSQL only: the embedded database has no replica'
const password = 'demo-password-for-tests'
let primary: TestServices
const opened: Services[] = []

before(async () => {
  if (skip) return
  primary = await createTestServices()
  await loadDemoData(primary)
})
after(async () => {
  for (const s of opened) await s.close()
  await primary?.dispose()
})

/** Services on the test database whose replica pool identifies itself as `name`. */
async function withReplica(name: string): Promise<Services> {
  const url = primary.databaseUrl!
  const replicaUrl = `${url}${url.includes('?') ? '&' : '?'}application_name=${name}`
  const services = await createServices({
    config: testConfig({ DATABASE_URL: url, DATABASE_REPLICA_URL: replicaUrl }),
    owner: 'server',
    work: false,
    logger: primary.logger,
    dataDir: 'memory://',
  })
  opened.push(services)
  return services
}

const replicaConnections = async (name: string) =>
  Number(
    (await sql<{ n: string }>`select count(*) as n from pg_stat_activity where application_name = ${name}`.execute(primary.db)).rows[0]!.n,
  )

test('pages that sign in, act or read stored figures use the primary; a report counted now uses the replica', { skip }, async () => {
  const services = await withReplica('npq_replica_pages')
  const app = await buildApp(services)
  try {
    const admin = new Agent(app)
    await admin.signIn('lead-provider-admin@demo.test', password)
    for (const page of ['/lead-provider/dashboard', '/lead-provider/declarations', '/lead-provider/money', '/lead-provider/reports'])
      assert.equal((await admin.get(page)).statusCode, 200, page)
    assert.equal(await replicaConnections('npq_replica_pages'), 0, 'nothing went to the replica')
    const report = await admin.get('/lead-provider/reports?report=engagement&lead_provider=edt&cohort=2022-autumn&as_of=2024-01-31')
    assert.equal(report.statusCode, 200)
    assert.match(report.body, /Priya Patel/)
    assert.ok((await replicaConnections('npq_replica_pages')) > 0, 'the report counted now read the replica')
  } finally {
    await app.close()
  }
})

test('the scheduled sweep reads the replica; a refresh sent after a change reads the primary', { skip }, async () => {
  const afterChange = await withReplica('npq_replica_change')
  const [job] = figureJobDefinitions(() => afterChange)
  await job!.handler({ changed: { leadProviderId: null } })
  assert.equal(await replicaConnections('npq_replica_change'), 0)
  assert.ok((await primary.db.selectFrom('figure_runs').select('cohort').execute()).length > 0)

  const sweep = await withReplica('npq_replica_sweep')
  const runs = await refreshFigures(sweep, new Date(), 0)
  assert.ok(runs.length > 0)
  assert.ok((await replicaConnections('npq_replica_sweep')) > 0)
})

test('`npq report` reads the replica', { skip }, async () => {
  const services = await withReplica('npq_replica_cli')
  const query = { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2024-01-31' }
  assert.deepEqual(await engagementReport(services, query), await engagementReport(primary, query))
  assert.deepEqual(await outputsReport(services, query), await outputsReport(primary, query))
  assert.ok((await replicaConnections('npq_replica_cli')) > 0)
})
