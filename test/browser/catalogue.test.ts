import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// A lead-provider admin browses the catalogue: courses, a design with its blocks, totals and
// cohorts' output dates, and its versions.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

test('a lead-provider admin browses courses and a design with its blocks, credits, cohorts and output dates', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Catalogue', exact: true }).click()
  await expectAccessible(page)
  const table = page.getByRole('table', { name: 'Education Development Trust' })
  assert.match((await table.textContent()) ?? '', /NPQ for Headship \(NPQH\)/)
  assert.match((await table.textContent()) ?? '', /No design yet/) // NPQEL and EHCO have no EDT design in the sources

  await page.getByRole('row', { name: /NPQ for Headship/ }).getByRole('link', { name: 'Version 1' }).click()
  await expectAccessible(page)
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /NPQ for Headship/)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /237 credits/)
  const block1 = page.getByRole('table', { name: 'Block 1' })
  assert.match((await block1.textContent()) ?? '', /NPQH-B1-DIAGNOSTIC/)
  assert.match((await block1.getByRole('row').last().textContent()) ?? '', /Total\s*50/)
  const outputs = page.getByRole('table', { name: /Outputs/ }).nth(2)
  assert.match((await outputs.textContent()) ?? '', /24 November 2022/) // 2022-autumn started review date (Annex 1)
})

test('provisional blocks are listed but not counted', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.goto(`${h.baseUrl}/lead-provider/catalogue/edt/npq-leading-literacy`)
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /47 credits/)
  assert.ok(await page.getByRole('table', { name: /Block 2 \(provisional/ }).isVisible())
})

test('another lead provider’s design is not found, and other roles are forbidden', async () => {
  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  const other = await admin.goto(`${h.baseUrl}/lead-provider/catalogue/ucl/npq-headship`)
  assert.equal(other?.status(), 404)
  const dp = await (await h.browser.newContext()).newPage()
  await signIn(dp, h.baseUrl, 'delivery-partner-lead@demo.test')
  const forbidden = await dp.goto(`${h.baseUrl}/lead-provider/catalogue`)
  assert.equal(forbidden?.status(), 403)
})
