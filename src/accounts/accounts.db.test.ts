import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { loadUserPrincipal } from './principals.ts'
import { resolveSession } from './sessions.ts'
import { organisation, person, systemPrincipal } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'

let services: TestServices
let lp: string
let dp: string
before(async () => {
  services = await createTestServices()
  lp = await organisation(services.db, 'lead-provider', 'edt', 'Education Development Trust')
  dp = await organisation(services.db, 'delivery-partner', 'hub-1', 'Hub One')
  await services.db.insertInto('delivery_partnerships').values({ lead_provider_id: lp, delivery_partner_id: dp }).execute()
  await person(services, 'admin@lp.test', 'lead-provider-admin', lp)
})
after(() => services.dispose())

test('signing in with the right password starts a session; a wrong one does not say which part was wrong', async () => {
  const ok = await services.accounts.signIn('Admin@LP.test ', 'a long test password', '10.0.0.1')
  assert.equal(ok.outcome, 'signed-in')
  if (ok.outcome === 'signed-in') assert.equal(await resolveSession(services.db, ok.sessionToken), ok.userId)

  const wrongPassword = await services.accounts.signIn('admin@lp.test', 'wrong password', '10.0.0.1')
  const noAccount = await services.accounts.signIn('nobody@lp.test', 'wrong password', '10.0.0.1')
  assert.deepEqual(wrongPassword, { outcome: 'invalid' })
  assert.deepEqual(noAccount, { outcome: 'invalid' })
})

test('sign-in is throttled after repeated failures, for known and unknown addresses alike', async () => {
  await person(services, 'victim@lp.test', 'assessor', lp)
  for (let i = 0; i < 5; i++) await services.accounts.signIn('victim@lp.test', `guess ${i}`, '10.0.0.2')
  for (let i = 0; i < 5; i++) await services.accounts.signIn('ghost@lp.test', `guess ${i}`, '10.0.0.3')
  assert.deepEqual(await services.accounts.signIn('victim@lp.test', 'a long test password', '10.0.0.4'), { outcome: 'throttled' })
  assert.deepEqual(await services.accounts.signIn('ghost@lp.test', 'anything', '10.0.0.4'), { outcome: 'throttled' })
  // Someone else signing in from a different address is not affected.
  assert.equal((await services.accounts.signIn('admin@lp.test', 'a long test password', '10.0.0.5')).outcome, 'signed-in')
})

test('an invitation creates the account, queues an email with a one-time link, and is audited', async () => {
  const admin = (await loadUserPrincipal(
    services.db,
    (await services.db.selectFrom('users').select('id').where('email', '=', 'admin@lp.test').executeTakeFirstOrThrow()).id,
  ))!
  const { userId } = await services.accounts.invite(admin, {
    email: 'New.Facilitator@hub.test',
    fullName: 'Nia Facilitator',
    role: 'facilitator',
    organisationId: dp,
  })
  const user = await services.db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow()
  assert.equal(user.email, 'new.facilitator@hub.test')
  assert.equal(user.status, 'invited')
  assert.equal(user.password_hash, null)

  const email = await services.db
    .selectFrom('email_outbox')
    .selectAll()
    .where('to_address', '=', 'new.facilitator@hub.test')
    .executeTakeFirstOrThrow()
  const token = /set-password\/([A-Za-z0-9_-]+)/.exec(email.body)![1]!
  assert.ok(email.body.includes('Hub One'))

  const audit = await services.db.selectFrom('audit_events').selectAll().where('entity_id', '=', userId).orderBy('id').execute()
  assert.deepEqual(
    audit.map((a) => a.action),
    ['user.created', 'role.assigned'],
  )
  assert.equal(audit[0]!.actor_user_id, admin.kind === 'user' ? admin.userId : null)

  // The link sets a password once.
  await assert.rejects(services.accounts.setPasswordWithLink(token, 'short', '10.0.0.9'), /10 characters/)
  const { sessionToken } = await services.accounts.setPasswordWithLink(token, 'a brand new password', '10.0.0.9')
  assert.equal(await resolveSession(services.db, sessionToken), userId)
  await assert.rejects(services.accounts.setPasswordWithLink(token, 'another new password', '10.0.0.9'), /expired or has already been used/)
  assert.equal((await services.accounts.signIn('new.facilitator@hub.test', 'a brand new password', '10.0.0.9')).outcome, 'signed-in')
})

test('inviting someone to a role they already hold is a clear conflict, and changes nothing', async () => {
  const before = await services.db.selectFrom('email_outbox').select('id').execute()
  await assert.rejects(
    services.accounts.invite(systemPrincipal, {
      email: 'admin@lp.test',
      fullName: 'Admin',
      role: 'lead-provider-admin',
      organisationId: lp,
    }),
    /already has that role/,
  )
  assert.equal((await services.db.selectFrom('email_outbox').select('id').execute()).length, before.length)
})

test('a role must belong to the right kind of organisation, and inviters are checked by the policy', async () => {
  await assert.rejects(
    services.accounts.invite(systemPrincipal, { email: 'x@lp.test', fullName: 'X', role: 'facilitator', organisationId: lp }),
    /belongs to a delivery partner/,
  )
  const dpLeadId = await person(services, 'lead@hub.test', 'delivery-partner-lead', dp)
  const dpLead = (await loadUserPrincipal(services.db, dpLeadId))!
  await assert.rejects(
    services.accounts.invite(dpLead, { email: 'y@lp.test', fullName: 'Y', role: 'assessor', organisationId: lp }),
    /permission/,
  )
  assert.equal(await services.db.selectFrom('users').select('id').where('email', '=', 'y@lp.test').executeTakeFirst(), undefined)
})

test('one person can hold several roles, and the principal carries all of them', async () => {
  const userId = await person(services, 'two.hats@hub.test', 'facilitator', dp)
  await services.accounts.createUser(systemPrincipal, {
    email: 'two.hats@hub.test',
    fullName: 'Two Hats',
    role: 'delivery-partner-lead',
    organisationId: dp,
  })
  const principal = await loadUserPrincipal(services.db, userId)
  assert.ok(principal && principal.kind === 'user')
  assert.deepEqual(principal.roles.map((r) => r.role).sort(), ['delivery-partner-lead', 'facilitator'])
  assert.deepEqual(principal.roles[0]!.leadProviderIds, [lp])
})

test('a password reset says nothing about whether the account exists', async () => {
  const before = (await services.db.selectFrom('email_outbox').select('id').execute()).length
  await services.accounts.requestPasswordReset('nobody-here@lp.test')
  assert.equal((await services.db.selectFrom('email_outbox').select('id').execute()).length, before)
  await services.accounts.requestPasswordReset('admin@lp.test')
  assert.equal((await services.db.selectFrom('email_outbox').select('id').execute()).length, before + 1)
})
