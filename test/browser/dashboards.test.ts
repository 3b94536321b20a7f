import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// The dashboards in the browser on the demo data: North Star's lead sees the cohort overview (status
// table, the engagement chart with its table, the at-risk list, events needing registers), filters it
// by course, and opens Priya's page from a link; EDT's admin sees the delivery partners compared,
// outputs by review date, declarations and money. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''

test('a delivery partner lead reads the dashboard and opens a participant page', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'delivery-partner-lead@demo.test')
  await page.goto(`${h.baseUrl}/delivery-partner/dashboard`)
  await expectAccessible(page)
  assert.equal(await page.locator('h1').textContent(), 'Dashboard')
  const text = await main(page)
  assert.match(text, /North Star/)
  assert.match(text, /Participants by status/)
  assert.match(text, /NPQ for Headship/)
  // The chart is hidden from assistive technology; its table says the same.
  assert.equal(await page.locator('main svg').getAttribute('aria-hidden'), 'true')
  const table = page.getByRole('table', { name: /Engagement distribution/ })
  assert.equal(await table.getByRole('row').count(), 11)
  await page.getByText('How we work out who is at risk').click()
  assert.match(await main(page), /last 8 weeks/)

  // Filter by course (a GET form).
  await page.getByLabel('Course').selectOption({ label: 'NPQ for Headship' })
  await page.getByRole('button', { name: 'Show' }).click()
  await expectAccessible(page)
  assert.match(page.url(), /course=npq-headship/)

  // Priya's page, from the status table's participant links or the at-risk list, else by address.
  const enrolment = await h.services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select('e.id')
    .where('p.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', 'npq-headship')
    .executeTakeFirstOrThrow()
  const link = page.locator(`a[href="/delivery-partner/participants/${enrolment.id}"]`)
  if (await link.count()) await link.first().click()
  else await page.goto(`${h.baseUrl}/delivery-partner/participants/${enrolment.id}`)
  await expectAccessible(page)
  assert.equal(await page.locator('h1').textContent(), 'Priya Patel')
  const priya = await main(page)
  for (const heading of ['Engagement by block', 'Outputs', 'Registers', 'Meetings', 'Escalation', 'Timeline'])
    assert.match(priya, new RegExp(heading))
  assert.match(priya, /Block 1/)
  await page.getByRole('link', { name: 'Back to dashboard' }).click()
  await expectAccessible(page)
})

test('a lead provider admin compares delivery partners', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.goto(`${h.baseUrl}/lead-provider/dashboard`)
  await expectAccessible(page)
  const comparison = page.getByRole('table', { name: /by delivery partner/ })
  assert.match((await comparison.textContent()) ?? '', /North Star Teaching School Hub/)
  const text = await main(page)
  assert.match(text, /Outputs due by review date/)
  assert.match(text, /Expected in the next 12 months/)
  await page.getByLabel('Delivery partner').selectOption({ label: 'North Star Teaching School Hub' })
  await page.getByRole('button', { name: 'Show' }).click()
  await expectAccessible(page)
  assert.match(page.url(), /partner=north-star-tsh/)
})
