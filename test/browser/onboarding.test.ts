import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Onboarding in the browser: the admin sends the agreements, the school contact opens the emailed
// link and signs, the admin sees it signed, and the participant's Home shows the welcome checklist.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

test('an admin sends the agreements, the school contact signs through the link, the participant sees the checklist', async () => {
  const db = h.services.db
  const org = async (kind: 'lead-provider' | 'delivery-partner' | 'school', code: string) =>
    (await db.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow()).id
  // A newly accepted place for the demo participant, at the school whose contact is Sarah Collins.
  const participant = await db
    .selectFrom('participants')
    .select('id')
    .where('email', '=', 'participant@demo.test')
    .executeTakeFirstOrThrow()
  const enrolment = await db
    .insertInto('enrolments')
    .values({
      participant_id: participant.id,
      lead_provider_id: await org('lead-provider', 'edt'),
      delivery_partner_id: await org('delivery-partner', 'north-star-tsh'),
      school_id: await org('school', '100001'),
      course_identifier: 'npq-senior-leadership',
      cohort: '2022-autumn',
      status: 'accepted',
    })
    .returning('id')
    .executeTakeFirstOrThrow()

  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.getByRole('link', { name: 'Participants', exact: true }).click()
  await admin.getByRole('link', { name: 'Onboarding', exact: true }).click()
  await expectAccessible(admin)
  await admin.getByRole('link', { name: 'Priya Patel', exact: true }).click()
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Send agreements' }).click()
  await expectAccessible(admin)
  assert.match((await admin.locator('.govuk-notification-banner').textContent()) ?? '', /The agreements are sent/)

  // The school contact opens the link from the email (read from the outbox).
  const email = await db
    .selectFrom('email_outbox')
    .select('body')
    .where('to_address', '=', 'school-contact@demo.test')
    .where('subject', 'like', 'Agreements to sign%')
    .orderBy('created_at', 'desc')
    .executeTakeFirstOrThrow()
  const links = [...email.body.matchAll(/(http\S+\/agreements\/\S+)/g)].map((m) => m[1]!)
  assert.equal(links.length, 2)
  const contact = await (await h.browser.newContext()).newPage()
  await contact.goto(links[0]!)
  await expectAccessible(contact)
  await contact.getByRole('button', { name: 'Sign' }).click()
  await expectAccessible(contact)
  assert.match((await contact.locator('.govuk-error-summary').textContent()) ?? '', /Enter your full name to sign/)
  await contact.getByLabel('Your full name').fill('Sarah Collins')
  await contact.getByRole('button', { name: 'Sign' }).click()
  await expectAccessible(contact)
  assert.match((await contact.locator('.govuk-panel').textContent()) ?? '', /School contract signed/)
  // The link is used up.
  await contact.goto(links[0]!)
  await expectAccessible(contact)
  assert.match((await contact.locator('main').textContent()) ?? '', /already been signed through this link/)

  await admin.reload()
  await expectAccessible(admin)
  const contractRow = admin.locator('.govuk-summary-list__row').filter({ hasText: 'School contract' })
  assert.match((await contractRow.textContent()) ?? '', /Signed \d{1,2} [A-Z][a-z]+ \d{4} by Sarah Collins/)

  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await expectAccessible(priya)
  // Each place still being set up has a checklist; this one's follows its heading.
  const checklist = priya.locator('h2:has-text("Getting started: NPQ for Senior Leadership") + .govuk-task-list')
  assert.equal(await checklist.count(), 1)
  const text = (await checklist.textContent()) ?? ''
  assert.match(text, /School contract signed\s*Done/)
  assert.match(text, /Sponsorship agreement signed[\s\S]*To do/)
  assert.match(text, /Line manager or mentor confirmed[\s\S]*To do/)
  await checklist.getByRole('link', { name: 'First block started' }).click()
  await expectAccessible(priya)
  assert.match(priya.url(), /\/participant\/courses\/npq-senior-leadership$/)
  assert.equal(
    (await db.selectFrom('enrolments').select('status').where('id', '=', enrolment.id).executeTakeFirstOrThrow()).status,
    'accepted',
  )
})
