import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { londonDateOf } from '../../src/dates/london.ts'
import { loadCases } from '../../src/escalations/cases.ts'
import { openEscalationCases } from '../../src/escalations/open-cases.ts'
import { caseKey, escalations } from '../../src/outputs/report.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Working an escalation case in the browser, on the demo data with the daily job run as of today: a
// delivery-partner lead (North Star, an EDT partner) finds a participant to contact in the queue, fixes
// a form error, logs a contact attempt and proposes removal; EDT's admin approves it (a joint decision),
// and the participant shows as withdrawn. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
  await openEscalationCases(h.services, londonDateOf(new Date()))
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''

/** An open EDT case at North Star whose participant is to be contacted today. */
async function caseToWork() {
  const today = londonDateOf(new Date())
  const live = new Map(
    (await escalations(h.services, { leadProvider: 'edt', deliveryPartner: 'north-star-tsh', asOf: today })).map((x) => [
      caseKey(x.enrolment.enrolmentId, x.output.declaration_type, x.reviewDate),
      x.stage,
    ]),
  )
  const open = await loadCases(h.services.db, { open: true })
  const c = open.find(
    (c) =>
      c.leadProviderCode === 'edt' &&
      c.deliveryPartnerCode === 'north-star-tsh' &&
      live.get(caseKey(c.enrolmentId, c.declarationType, c.reviewDate)) === 'contact',
  )
  assert.ok(c, 'the demo data has a North Star participant to contact')
  return c
}

test('a partner’s lead logs contact and proposes removal; the lead provider approves; the participant is withdrawn', async () => {
  const c = await caseToWork()
  const [year, month, day] = londonDateOf(new Date()).split('-').map(Number) as [number, number, number]

  const lead = await (await h.browser.newContext()).newPage()
  await signIn(lead, h.baseUrl, 'delivery-partner-lead@demo.test')
  await lead.getByRole('link', { name: 'Participants', exact: true }).click()
  await lead.getByRole('link', { name: 'Escalations', exact: true }).click()
  await expectAccessible(lead)
  assert.equal(await lead.getByRole('heading', { level: 1 }).textContent(), 'Escalations')
  assert.ok((await lead.locator('#queue tbody tr').count()) > 0)

  await lead.locator(`#queue a[href="/delivery-partner/escalations/${c.id}"]`).click()
  await expectAccessible(lead)
  assert.equal(await lead.getByRole('heading', { level: 1 }).textContent(), c.fullName)
  assert.equal((await lead.locator('#stage').textContent())?.trim(), 'Contact')
  assert.match(await main(lead), /You can propose removal once you have logged at least one contact attempt/)

  // A contact attempt without its outcome: the error summary, and the form keeps what was entered.
  await lead.locator('#contact_date-day').fill(String(day))
  await lead.locator('#contact_date-month').fill(String(month))
  await lead.locator('#contact_date-year').fill(String(year))
  await lead.getByRole('radio', { name: 'Phone' }).check()
  await lead.getByLabel('Notes (optional)').fill('Left a voicemail and sent an email')
  await lead.getByRole('button', { name: 'Log contact attempt' }).click()
  assert.match(await lead.title(), /^Error: /)
  assert.match((await lead.locator('.govuk-error-summary').textContent()) ?? '', /Select what came of the contact attempt/)
  await expectAccessible(lead)
  await lead.getByRole('radio', { name: 'No response' }).check()
  await lead.getByRole('button', { name: 'Log contact attempt' }).click()
  await expectAccessible(lead)
  assert.match(await main(lead), /The contact attempt is logged/)
  assert.match((await lead.locator('#history-table').textContent()) ?? '', /Contact attempt by phone: no response/)

  await lead.getByLabel('Why should the participant be removed?').fill('No reply to three calls and two emails since the review date')
  await lead.getByRole('button', { name: 'Propose removal' }).click()
  await expectAccessible(lead)
  assert.match(await main(lead), /Removal is proposed/)
  assert.equal((await lead.locator('#stage').textContent())?.trim(), 'Removal proposed')

  await lead.locator('.govuk-back-link').click()
  await expectAccessible(lead)
  assert.equal(await lead.locator('#queue tbody tr:first-child a').getAttribute('href'), `/delivery-partner/escalations/${c.id}`)
  await lead.getByRole('link', { name: 'Partnership meeting pack' }).click()
  await expectAccessible(lead)
  assert.match(await main(lead), /North Star Teaching School Hub with Education Development Trust/)

  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.getByRole('link', { name: 'Participants', exact: true }).click()
  await admin.getByRole('link', { name: 'Escalations', exact: true }).click()
  await expectAccessible(admin)
  // Removals waiting for sign-off come first.
  assert.equal(await admin.locator('#queue tbody tr:first-child a').getAttribute('href'), `/lead-provider/escalations/${c.id}`)
  await admin.locator('#queue tbody tr:first-child a').click()
  await expectAccessible(admin)
  await admin.getByRole('radio', { name: 'Approve: remove the participant' }).check()
  await admin.getByRole('button', { name: 'Record decision' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /The participant is removed from the course/)
  assert.match((await admin.locator('#participant-status').textContent()) ?? '', /^Withdrawn from .* \(disengaged and unresponsive\)$/)

  await lead.goto(`${h.baseUrl}/delivery-partner/escalations`)
  await expectAccessible(lead)
  assert.match((await lead.locator('#closed').textContent()) ?? '', new RegExp(`${c.fullName}[\\s\\S]*Removed from the course`))
  const withdrawal = await h.services.db
    .selectFrom('withdrawals')
    .selectAll()
    .where('participant_id', '=', c.participantId)
    .executeTakeFirstOrThrow()
  assert.equal(withdrawal.reason, 'disengaged-and-unresponsive')
})
