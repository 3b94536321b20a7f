import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'

// Onboarding without a browser: the admin sends the agreements, the school contact signs each
// through its emailed link, a used link is refused, the enrolment becomes active once both are signed
// and the participant has an account; invoices and payments with their errors.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const orgId = async (kind: 'lead-provider' | 'delivery-partner' | 'school', code: string) =>
  (await services.db.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow())
    .id

/** A newly accepted place for a person with no account yet, at the demo school with a school contact. */
async function acceptedEnrolment(school = '100001') {
  const n = crypto.randomBytes(3).toString('hex')
  const participantId = crypto.randomUUID()
  await services.db
    .insertInto('participants')
    .values({
      id: participantId,
      full_name: `Nia Okafor ${n}`,
      email: `nia.${n}@schools.demo.test`,
      trn: String(3000000 + (parseInt(n, 16) % 999999)),
    })
    .execute()
  const e = await services.db
    .insertInto('enrolments')
    .values({
      participant_id: participantId,
      lead_provider_id: await orgId('lead-provider', 'edt'),
      delivery_partner_id: await orgId('delivery-partner', 'north-star-tsh'),
      school_id: await orgId('school', school),
      course_identifier: 'npq-senior-leadership',
      cohort: '2022-autumn',
      status: 'accepted',
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return { id: e.id, name: `Nia Okafor ${n}`, email: `nia.${n}@schools.demo.test` }
}

const linksTo = async (address: string) => {
  const emails = await services.db
    .selectFrom('email_outbox')
    .select('body')
    .where('to_address', '=', address)
    .orderBy('created_at')
    .execute()
  return emails.flatMap((e) => [...e.body.matchAll(/\/agreements\/([A-Za-z0-9_-]+)/g)].map((m) => `/agreements/${m[1]}`))
}

test('send → sign through the link → dates and who; a used link is refused; both signed and an account → active', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const e = await acceptedEnrolment()
  const list = await admin.get('/lead-provider/onboarding')
  assert.equal(list.statusCode, 200)
  assert.match(list.body, new RegExp(e.name))

  const before = (await linksTo('school-contact@demo.test')).length
  const sent = await admin.post(`/lead-provider/onboarding/${e.id}/send`, {}, { csrfFrom: `/lead-provider/onboarding/${e.id}` })
  assert.equal(sent.statusCode, 303)
  const links = (await linksTo('school-contact@demo.test')).slice(before)
  assert.equal(links.length, 2)
  const requests = await services.db
    .selectFrom('agreement_requests')
    .select(['kind', 'sent_by', 'sent_at'])
    .where('enrolment_id', '=', e.id)
    .orderBy('kind')
    .execute()
  const adminId = (
    await services.db.selectFrom('users').select('id').where('email', '=', 'lead-provider-admin@demo.test').executeTakeFirstOrThrow()
  ).id
  assert.deepEqual(
    requests.map((r) => [r.kind, r.sent_by]),
    [
      ['school-contract', adminId],
      ['sponsorship-agreement', adminId],
    ],
  )

  // The school contact, not signed in, opens the first link: a missing name is refused and nothing changes.
  const contact = new Agent(app)
  const page = await contact.get(links[0]!)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /Sign the school contract/)
  const blank = await contact.post(links[0]!, { signed_by_name: '  ' })
  assert.equal(blank.statusCode, 400)
  assert.match(blank.body, /Enter your full name to sign/)
  assert.equal(
    (await services.db.selectFrom('enrolments').select('school_contract_signed_on').where('id', '=', e.id).executeTakeFirstOrThrow())
      .school_contract_signed_on,
    null,
  )

  const signed = await contact.post(links[0]!, { signed_by_name: 'Sarah Collins' })
  assert.equal(signed.statusCode, 200)
  assert.match(signed.body, /School contract signed/)
  const contactId = (
    await services.db.selectFrom('users').select('id').where('email', '=', 'school-contact@demo.test').executeTakeFirstOrThrow()
  ).id
  const afterOne = await services.db.selectFrom('enrolments').selectAll().where('id', '=', e.id).executeTakeFirstOrThrow()
  assert.equal(afterOne.school_contract_signed_on, londonDateOf(new Date()))
  assert.equal(afterOne.school_contract_recorded_by, contactId)
  assert.equal(afterOne.sponsorship_agreement_signed_on, null)
  const row = await services.db
    .selectFrom('agreement_requests')
    .select(['signed_by_name', 'signed_by_user', 'signed_at'])
    .where('enrolment_id', '=', e.id)
    .where('kind', '=', 'school-contract')
    .executeTakeFirstOrThrow()
  assert.equal(row.signed_by_name, 'Sarah Collins')
  assert.equal(row.signed_by_user, contactId)
  assert.ok(row.signed_at)

  // The same link again: refused with a clear message, the first signing kept.
  const again = await contact.post(links[0]!, { signed_by_name: 'Someone Else' }, { csrfFrom: '/sign-in' })
  assert.equal(again.statusCode, 409)
  assert.match(again.body, /already been signed through this link/)
  assert.equal((await contact.get(links[0]!)).statusCode, 409)
  assert.equal(
    (
      await services.db
        .selectFrom('agreement_requests')
        .select('signed_by_name')
        .where('enrolment_id', '=', e.id)
        .where('kind', '=', 'school-contract')
        .executeTakeFirstOrThrow()
    ).signed_by_name,
    'Sarah Collins',
  )
  // An unknown token is a clear 404.
  assert.equal((await contact.get('/agreements/not-a-real-token')).statusCode, 404)

  // Both signed, but the participant has no account yet: still accepted.
  assert.equal((await contact.post(links[1]!, { signed_by_name: 'Sarah Collins' })).statusCode, 200)
  assert.equal(
    (await services.db.selectFrom('enrolments').select('status').where('id', '=', e.id).executeTakeFirstOrThrow()).status,
    'accepted',
  )

  // Inviting the participant gives them an account (a set-password email) and activates the place.
  const invited = await admin.post(`/lead-provider/onboarding/${e.id}/participant`, {}, { csrfFrom: `/lead-provider/onboarding/${e.id}` })
  assert.equal(invited.statusCode, 303)
  assert.match(invited.headers.location as string, /done=activated/)
  const enrolment = await services.db.selectFrom('enrolments').select('status').where('id', '=', e.id).executeTakeFirstOrThrow()
  assert.equal(enrolment.status, 'active')
  const transition = await services.db
    .selectFrom('enrolment_transitions')
    .select(['from_status', 'to_status'])
    .where('enrolment_id', '=', e.id)
    .executeTakeFirstOrThrow()
  assert.deepEqual(transition, { from_status: 'accepted', to_status: 'active' })
  const email = await services.db.selectFrom('email_outbox').select('body').where('to_address', '=', e.email).executeTakeFirstOrThrow()
  assert.match(email.body, /\/set-password\//)
  // No longer on the onboarding list once active.
  assert.doesNotMatch((await admin.get('/lead-provider/onboarding')).body, new RegExp(e.name))
})

test('a resend replaces unused links; an expired link is refused', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const e = await acceptedEnrolment()
  const first = (await linksTo('school-contact@demo.test')).length
  await admin.post(`/lead-provider/onboarding/${e.id}/send`, {}, { csrfFrom: `/lead-provider/onboarding/${e.id}` })
  const old = (await linksTo('school-contact@demo.test')).slice(first)
  await admin.post(`/lead-provider/onboarding/${e.id}/send`, {}, { csrfFrom: `/lead-provider/onboarding/${e.id}` })
  const fresh = (await linksTo('school-contact@demo.test')).slice(first + 2)
  assert.equal(fresh.length, 2)
  const contact = new Agent(app)
  const replaced = await contact.post(old[0]!, { signed_by_name: 'Sarah Collins' }, { csrfFrom: '/sign-in' })
  assert.equal(replaced.statusCode, 409)
  assert.match(replaced.body, /replaced by a newer one/)

  await services.db
    .updateTable('agreement_requests')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .where('enrolment_id', '=', e.id)
    .execute()
  const expired = await contact.post(fresh[0]!, { signed_by_name: 'Sarah Collins' }, { csrfFrom: '/sign-in' })
  assert.equal(expired.statusCode, 409)
  assert.match(expired.body, /This link has expired/)
  const stored = await services.db
    .selectFrom('enrolments')
    .select(['school_contract_signed_on', 'status'])
    .where('id', '=', e.id)
    .executeTakeFirstOrThrow()
  assert.deepEqual(stored, { school_contract_signed_on: null, status: 'accepted' })
})

test('a school with no contact: the admin must name one, who is invited and sent the agreements; the line manager is invited', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const e = await acceptedEnrolment('100003')
  const url = `/lead-provider/onboarding/${e.id}`
  const hasContact = await services.db
    .selectFrom('role_assignments')
    .select('id')
    .where('role', '=', 'school-contact')
    .where('organisation_id', '=', await orgId('school', '100003'))
    .executeTakeFirst()
  assert.equal(hasContact, undefined, 'demo school 100003 has no school contact')
  const missing = await admin.post(`${url}/send`, { contact_name: '', contact_email: 'not-an-email' }, { csrfFrom: url })
  assert.equal(missing.statusCode, 400)
  assert.match(missing.body, /Enter the school contact’s full name/)
  assert.match(missing.body, /Enter an email address in the correct format/)
  assert.equal((await services.db.selectFrom('agreement_requests').select('id').where('enrolment_id', '=', e.id).execute()).length, 0)

  assert.equal(
    (await admin.post(`${url}/send`, { contact_name: 'Omar Haddad', contact_email: 'omar@school3.demo.test' }, { csrfFrom: url }))
      .statusCode,
    303,
  )
  const emails = await services.db.selectFrom('email_outbox').select('subject').where('to_address', '=', 'omar@school3.demo.test').execute()
  assert.deepEqual(
    emails.map((m) => m.subject).sort(),
    ['Agreements to sign for ' + e.name + '’s NPQ', 'You have been invited to the NPQ platform'].sort(),
  )

  assert.equal(
    (
      await admin.post(
        `${url}/line-manager`,
        { line_manager_name: 'Grace Lee', line_manager_email: 'grace@school3.demo.test' },
        { csrfFrom: url },
      )
    ).statusCode,
    303,
  )
  const lm = await services.db
    .selectFrom('enrolments as e')
    .innerJoin('users as u', 'u.id', 'e.line_manager_user_id')
    .select('u.email')
    .where('e.id', '=', e.id)
    .executeTakeFirstOrThrow()
  assert.equal(lm.email, 'grace@school3.demo.test')
})

test('invoice and payment: money and dates are checked, and nothing is saved on an error', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const e = await acceptedEnrolment()
  const url = `/lead-provider/onboarding/${e.id}`
  const funding = () => services.db.selectFrom('place_funding').selectAll().where('enrolment_id', '=', e.id).executeTakeFirst()

  const notMoney = await admin.post(
    `${url}/funding`,
    { funding: 'school', invoice_sent_on: '2022-09-01', amount: 'twelve pounds', paid_on: '' },
    { csrfFrom: url },
  )
  assert.equal(notMoney.statusCode, 400)
  assert.match(notMoney.body, /The invoice amount must be an amount in pounds and pence/)
  const tooPrecise = await admin.post(
    `${url}/funding`,
    { funding: 'school', invoice_sent_on: '2022-09-01', amount: '12.345', paid_on: '' },
    { csrfFrom: url },
  )
  assert.match(tooPrecise.body, /no more than 2 decimal places/)
  const paidBefore = await admin.post(
    `${url}/funding`,
    { funding: 'self', invoice_sent_on: '2022-09-10', amount: '1250', paid_on: '2022-09-01' },
    { csrfFrom: url },
  )
  assert.equal(paidBefore.statusCode, 400)
  assert.match(paidBefore.body, /must be the same as or after the date the invoice was sent/)
  const noFunding = await admin.post(`${url}/funding`, { invoice_sent_on: '', amount: '', paid_on: '' }, { csrfFrom: url })
  assert.match(noFunding.body, /Select who pays for the place/)
  assert.equal(await funding(), undefined)

  assert.equal(
    (
      await admin.post(
        `${url}/funding`,
        { funding: 'school', invoice_sent_on: '2022-09-10', amount: '£1,250.50', paid_on: '' },
        { csrfFrom: url },
      )
    ).statusCode,
    303,
  )
  assert.deepEqual(
    { ...(await funding())!, recorded_at: null, recorded_by: null },
    {
      enrolment_id: e.id,
      funding: 'school',
      invoice_sent_on: '2022-09-10',
      amount_pence: 125_050,
      paid_on: null,
      recorded_at: null,
      recorded_by: null,
    },
  )
  assert.equal(
    (
      await admin.post(
        `${url}/funding`,
        { funding: 'school', invoice_sent_on: '2022-09-10', amount: '1250.50', paid_on: '2022-10-01' },
        { csrfFrom: url },
      )
    ).statusCode,
    303,
  )
  assert.equal((await funding())!.paid_on, '2022-10-01')
  assert.match((await admin.get(url)).body, /Paid 2022-10-01/)

  // Another lead provider's admin cannot see or change it.
  const other = await services.db
    .selectFrom('role_assignments as r')
    .innerJoin('organisations as o', 'o.id', 'r.organisation_id')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select('u.email')
    .where('r.role', '=', 'lead-provider-admin')
    .where('o.code', '<>', 'edt')
    .executeTakeFirst()
  if (other) assert.equal((await (await as(other.email)).get(url)).statusCode, 404)
})

test('the participant’s Home shows the welcome checklist for a place being set up', async () => {
  const participantId = (
    await services.db.selectFrom('participants').select('id').where('email', '=', 'participant@demo.test').executeTakeFirstOrThrow()
  ).id
  await services.db
    .insertInto('enrolments')
    .values({
      participant_id: participantId,
      lead_provider_id: await orgId('lead-provider', 'edt'),
      delivery_partner_id: await orgId('delivery-partner', 'north-star-tsh'),
      school_id: await orgId('school', '100001'),
      course_identifier: 'npq-senior-leadership',
      cohort: '2022-autumn',
      status: 'accepted',
    })
    .execute()
  const home = await (await as('participant@demo.test')).get('/participant')
  assert.equal(home.statusCode, 200)
  assert.match(home.body, /Getting started: /)
  for (const item of [
    'School contract signed',
    'Sponsorship agreement signed',
    'Induction booked',
    'Line manager or mentor confirmed',
    'First block started',
  ]) {
    assert.match(home.body, new RegExp(item))
  }
  assert.match(home.body, /href="\/participant\/courses\/npq-senior-leadership"/)
})

test('agreements signed on paper and recorded by hand activate the place too, once the participant has an account', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const e = await acceptedEnrolment()
  const page = `/lead-provider/onboarding/${e.id}`
  assert.equal((await admin.post(`${page}/participant`, {}, { csrfFrom: page })).statusCode, 303)
  const form = `/lead-provider/enrolments/${e.id}/agreements`
  const today = londonDateOf(new Date())
  const recorded = await admin.post(form, { school_contract_signed_on: today, sponsorship_agreement_signed_on: today }, { csrfFrom: form })
  assert.equal(recorded.statusCode, 303)
  assert.match(recorded.headers.location as string, /done=activated/)
  assert.equal(
    (await services.db.selectFrom('enrolments').select('status').where('id', '=', e.id).executeTakeFirstOrThrow()).status,
    'active',
  )
})

test('the list says what to do next for each place, linking to where it is done', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const e = await acceptedEnrolment()
  const list = await admin.get('/lead-provider/onboarding')
  assert.match(list.body, new RegExp(`href="/lead-provider/onboarding/${e.id}#send-form">Send the agreements`))
  const page = `/lead-provider/onboarding/${e.id}`
  await admin.post(`${page}/send`, {}, { csrfFrom: page })
  assert.match((await admin.get('/lead-provider/onboarding')).body, new RegExp(`${e.id}#participant-form">Invite the participant`))
  assert.match((await admin.get(page)).body, /Record the dates the agreements were signed/)
})
