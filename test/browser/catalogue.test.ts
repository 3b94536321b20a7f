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
  await page.getByRole('link', { name: 'Settings', exact: true }).click()
  await page.getByRole('link', { name: 'Catalogue', exact: true }).click()
  await expectAccessible(page)
  const table = page.getByRole('table', { name: 'Education Development Trust' })
  assert.match((await table.textContent()) ?? '', /NPQ for Headship \(NPQH\)/)
  assert.match((await table.textContent()) ?? '', /No design yet/) // NPQEL and EHCO have no EDT design in the sources

  await page
    .getByRole('row', { name: /NPQ for Headship/ })
    .getByRole('link', { name: 'Version 1' })
    .click()
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

test('an admin authors a design the sources lack: problems are listed by line, then it saves as a version', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.goto(`${h.baseUrl}/lead-provider/catalogue`)
  await page.getByRole('link', { name: 'Author a design for NPQEL' }).click()
  await expectAccessible(page)
  const skeleton = await page.getByLabel('Design', { exact: true }).inputValue()
  assert.match(skeleton, /course_identifier: npq-executive-leadership/)

  await page.getByLabel('Design', { exact: true }).fill(skeleton.replace('credits: 3', 'credits: 4'))
  await page.getByRole('button', { name: 'Save as a new version' }).click()
  assert.match(await page.title(), /^Error: /)
  assert.match(
    (await page.locator('.govuk-error-summary').textContent()) ?? '',
    /Line 9: block 1 activities add up to 6 credits, but the source states 5[\s\S]*Line 5: the published blocks add up to 6 credits/,
  )
  await expectAccessible(page)

  await page.getByLabel('Design', { exact: true }).fill(skeleton)
  await page.getByLabel('What changed').fill('First NPQEL design')
  await page.getByRole('button', { name: 'Save as a new version' }).click()
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /Version 1 created/)
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /NPQ for Executive Leadership/)
  await expectAccessible(page)
})

test('publishing a provisional block makes a new version; a running cohort moves to it only when the admin says so', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.goto(`${h.baseUrl}/lead-provider/catalogue/edt/npq-leading-literacy`)
  await page.getByRole('button', { name: 'Publish block 2' }).click()
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /Block 2 published in version 2/)
  await expectAccessible(page)
  assert.match((await page.getByRole('heading', { level: 3, name: /2022-autumn/ }).textContent()) ?? '', /runs version 1/)
  await page.getByLabel('Version for 2022-autumn').selectOption({ label: 'Version 2' })
  await page.getByRole('button', { name: 'Move 2022-autumn' }).click()
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /2022-autumn now runs version 2/)
  assert.match((await page.getByRole('heading', { level: 3, name: /2022-autumn/ }).textContent()) ?? '', /runs version 2/)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /80 credits/)
  assert.match((await page.getByRole('heading', { level: 3, name: /2022-spring/ }).textContent()) ?? '', /runs version 1/)
})

test('block dates: derived defaults, and an admin changes them with clear errors for bad dates', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.goto(`${h.baseUrl}/lead-provider/catalogue/edt/npq-headship`)
  const dates = page.getByRole('table', { name: 'Block dates' }).nth(2) // 2022-autumn, the third cohort listed
  assert.match((await dates.textContent()) ?? '', /Block 1\s*1 October 2022/)
  await page.getByRole('link', { name: 'Change block dates for 2022-autumn' }).click()
  await expectAccessible(page)

  await page.locator('#completesBy-2').fill('2020-01-01')
  await page.getByRole('button', { name: 'Save block dates' }).click()
  assert.match(await page.title(), /^Error: /)
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /Block 2 must be due on or after the day it goes live/)
  await expectAccessible(page)

  await page.locator('#completesBy-2').fill('2023-06-30')
  await page.getByRole('button', { name: 'Save block dates' }).click()
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /Block dates for 2022-autumn saved/)
  const saved = page.getByRole('table', { name: 'Block dates' }).nth(2)
  assert.match((await saved.getByRole('row', { name: /Block 2/ }).textContent()) ?? '', /30 June 2023\s*An admin/)
})

test('cohorts and schedules: every cohort with its output dates, the provider’s own where it has them', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.goto(`${h.baseUrl}/lead-provider/catalogue`)
  await page.getByRole('link', { name: /Cohorts and schedules/ }).click()
  await expectAccessible(page)
  const cohort3 = page.getByRole('table', { name: /^2022-autumn leadership: NPQSL, NPQH, NPQEYL/ })
  assert.match((await cohort3.textContent()) ?? '', /retained-2\s*24 January 2024\s*24 February 2024\s*24 March 2024\s*25%/)
  assert.match(
    (await page.getByRole('heading', { level: 3, name: /2021-autumn/ }).textContent()) ?? '',
    /Cohort 1 \(November 2021\)[\s\S]*self-reporting[\s\S]*your schedule/,
  )
  assert.match((await page.getByRole('heading', { level: 3, name: /2023-autumn/ }).textContent()) ?? '', /DfE schedule/)
})
