import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { roles } from '../policy/roles.ts'
import { createTestServices, testConfig, type TestServices } from '../test-support/services.ts'
import { loadDemoData } from './demo.ts'

let services: TestServices
before(async () => {
  services = await createTestServices()
})
after(() => services.dispose())

test('demo data: lead providers, delivery partners, cohorts, participants and an account for every role', async () => {
  const result = await loadDemoData(services)
  assert.ok(result.created > 0)
  assert.equal(result.generatedPassword, null, 'NPQ_DEMO_PASSWORD was given')
  const count = async (kind: 'lead-provider' | 'delivery-partner') =>
    (await services.db.selectFrom('organisations').select('id').where('kind', '=', kind).execute()).length
  assert.ok((await count('lead-provider')) >= 2)
  assert.ok((await count('delivery-partner')) >= 3)
  const cohorts = await services.db.selectFrom('enrolments').select('cohort').distinct().execute()
  assert.ok(cohorts.length >= 2)
  for (const role of roles) {
    const account = await services.db
      .selectFrom('users as u')
      .innerJoin('role_assignments as r', 'r.user_id', 'u.id')
      .select(['u.status', 'u.is_demo'])
      .where('u.email', '=', `${role}@demo.test`)
      .where('r.role', '=', role)
      .executeTakeFirst()
    assert.deepEqual(account, { status: 'active', is_demo: true }, role)
    assert.equal((await services.accounts.signIn(`${role}@demo.test`, 'demo-password-for-tests', '127.0.0.1')).outcome, 'signed-in')
  }
})

test('loading it again changes nothing', async () => {
  const before = await services.db.selectFrom('audit_events').select('id').execute()
  const again = await loadDemoData(services)
  assert.equal(again.created, 0)
  assert.equal((await services.db.selectFrom('audit_events').select('id').execute()).length, before.length)
})

test('demo accounts do not exist in production: the command refuses and sign-in refuses them', async () => {
  const production = { ...services, config: testConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40) }) }
  await assert.rejects(loadDemoData(production), /development only/)
  const { Accounts } = await import('../accounts/accounts.ts')
  const accounts = new Accounts(services.db, services.email, production.config)
  assert.deepEqual(await accounts.signIn('participant@demo.test', 'demo-password-for-tests', '127.0.0.2'), { outcome: 'invalid' })
})
