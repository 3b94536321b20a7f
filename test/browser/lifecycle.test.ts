import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { londonDateOf } from '../../src/dates/london.ts'
import { addMonths } from '../../src/lifecycle/requests.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// A deferral in the browser on the demo data: Priya asks to defer her NPQH, North Star's lead records
// the conversation, EDT's admin approves it; Priya sees the timeline. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''
const fillDate = async (page: Page, name: string, date: string) => {
  const [y, m, d] = date.split('-')
  await page.locator(`#${name}-day`).fill(String(Number(d)))
  await page.locator(`#${name}-month`).fill(String(Number(m)))
  await page.locator(`#${name}-year`).fill(y!)
}

test('a participant requests a deferral, the delivery partner records the conversation, the lead provider approves', async () => {
  const today = londonDateOf(new Date())
  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'My programme' }).click()
  await priya.locator('main').getByRole('link', { name: 'Your courses' }).click()
  await expectAccessible(priya)
  await priya
    .getByRole('link', { name: /Headship/ })
    .first()
    .click()
  await expectAccessible(priya)
  const courseUrl = priya.url()
  await priya.getByRole('button', { name: 'Request a deferral' }).click()
  await expectAccessible(priya)

  // A return more than 12 months away: the error summary, nothing sent.
  await priya.getByRole('radio', { name: 'Parental leave' }).check()
  await priya.getByLabel('Details').fill('Baby due in the spring')
  await fillDate(priya, 'planned_return', addMonths(today, 14))
  await priya.getByRole('button', { name: 'Send deferral request' }).click()
  assert.match(await priya.title(), /^Error: /)
  assert.match((await priya.locator('.govuk-error-summary').textContent()) ?? '', /no more than 12 months/)
  await expectAccessible(priya)
  await fillDate(priya, 'planned_return', addMonths(today, 9))
  await priya.getByRole('button', { name: 'Send deferral request' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Your deferral request is sent/)

  const lead = await (await h.browser.newContext()).newPage()
  await signIn(lead, h.baseUrl, 'delivery-partner-lead@demo.test')
  await lead.getByRole('link', { name: 'Participants', exact: true }).click()
  await lead.getByRole('link', { name: 'Deferrals and withdrawals' }).click()
  await expectAccessible(lead)
  await lead.locator('#requests').getByRole('link', { name: 'Priya Patel' }).click()
  await expectAccessible(lead)
  await lead.getByRole('button', { name: 'Record conversation' }).click()
  assert.match((await lead.locator('.govuk-error-summary').textContent()) ?? '', /Enter what you discussed/)
  await expectAccessible(lead)
  await lead.getByLabel(/What did you discuss/).fill('Talked through part-time study; a deferral is best')
  await lead.getByRole('button', { name: 'Record conversation' }).click()
  await expectAccessible(lead)
  assert.match(await main(lead), /Your conversation is recorded/)

  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.getByRole('link', { name: 'Participants', exact: true }).click()
  await admin.getByRole('link', { name: 'Deferrals and withdrawals' }).click()
  await expectAccessible(admin)
  await admin.locator('#requests').getByRole('link', { name: 'Priya Patel' }).first().click()
  await expectAccessible(admin)
  assert.match((await admin.locator('#request-summary').textContent()) ?? '', /2023-autumn cohort/)
  await admin.getByRole('radio', { name: 'Approve the deferral' }).check()
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Record decision' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /The deferral is approved/)

  await priya.goto(courseUrl)
  await expectAccessible(priya)
  assert.equal((await priya.locator('#enrolment-status').textContent())?.trim(), 'Deferred')
  const timeline = (await priya.locator('#timeline-table').textContent()) ?? ''
  assert.match(timeline, /Deferral requested[\s\S]*conversation recorded[\s\S]*Deferral approved[\s\S]*Active → Deferred/)
  assert.match(await main(priya), /Are you returning\?/)
  const email = await h.services.db
    .selectFrom('email_outbox')
    .select('body')
    .where('to_address', '=', 'participant@demo.test')
    .where('subject', 'like', 'Deferral approved%')
    .executeTakeFirstOrThrow()
  assert.match(email.body, /Expected return/)
})
