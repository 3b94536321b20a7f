import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { outputEvaluations } from '../../src/outputs/report.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Declaring outputs in the browser: a lead-provider admin reviews who is eligible for an output as
// of a review date, declares them in bulk, opens one declaration and voids it (a reason is needed),
// and records a participant's agreements. Expected names come from outputEvaluations().

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

test('a lead-provider admin reviews, declares in bulk and voids a declaration', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Finance', exact: true }).click()
  await page.getByRole('link', { name: 'Declarations', exact: true }).click()
  await expectAccessible(page)
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Declare outputs')

  // A review date in the future is refused with an error summary.
  await page.getByLabel('Review date').fill('2999-01-01')
  await page.getByRole('button', { name: 'Show participants' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /Review date must be today or in the past/)

  await page.getByLabel('Cohort').selectOption('2022-autumn')
  // The demo declared started and retained-1 at their review dates; retained-2 is still to declare.
  await page.getByLabel('Output').selectOption('retained-2')
  await page.getByLabel('Review date').fill('2024-01-24')
  await page.getByRole('button', { name: 'Show participants' }).click()
  await expectAccessible(page)
  const expected = (await outputEvaluations(h.services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2024-01-24' })).filter(
    (e) => e.outputs.find((o) => o.declaration_type === 'retained-2')?.status === 'eligible',
  )
  assert.ok(expected.length > 1)
  assert.equal(await page.getByRole('heading', { name: `Eligible (${expected.length})` }).count(), 1)

  // Untick one: only the others are declared.
  const kept = expected[0]!
  await page.getByRole('checkbox', { name: new RegExp(kept.fullName) }).uncheck()
  await page.getByRole('button', { name: 'Declare retained-2 for selected participants' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-panel').textContent()) ?? '', new RegExp(`${expected.length - 1} retained 2 declarations? made`))

  // Back to the review: the one left is still eligible, the others are declared.
  await page.getByRole('link', { name: 'Back to the review' }).click()
  await expectAccessible(page)
  assert.equal(await page.getByRole('heading', { name: 'Eligible (1)' }).count(), 1)

  // Open a declaration and void it: a reason is required.
  await page.goto(`${h.baseUrl}/lead-provider/declarations/made`)
  await expectAccessible(page)
  await page.locator('table a.govuk-link').first().click()
  await expectAccessible(page)
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /Retained 2 declaration/)
  await page.getByRole('button', { name: 'Void declaration' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /Enter why the declaration is being voided/)
  await page.getByLabel('Why is it being voided?').fill('Declared in error: wrong course')
  await page.getByRole('button', { name: 'Void declaration' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /The declaration is voided/)
  assert.equal(await page.getByRole('button', { name: 'Void declaration' }).count(), 0)
  assert.match((await page.locator('table').filter({ hasText: 'Change' }).textContent()) ?? '', /Submitted → Voided/)
})

test('a lead-provider admin records the school contract and sponsorship agreement', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  const enrolment = (await outputEvaluations(h.services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2023-06-30' }))[0]!
  await page.goto(`${h.baseUrl}/lead-provider/enrolments/${enrolment.enrolmentId}/agreements`)
  await expectAccessible(page)
  await page.getByLabel('Date the school contract was signed').fill('2022-13-01')
  await page.getByRole('button', { name: 'Save agreements' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /must be a real date/)
  await page.getByLabel('Date the school contract was signed').fill('2022-09-05')
  await page.getByLabel('Date the sponsorship agreement was signed').fill('2022-09-06')
  await page.getByRole('button', { name: 'Save agreements' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /Signed 5 September 2022, recorded by/)

  // Its outputs, with the evidence records behind them, as of a date.
  await page.goto(`${h.baseUrl}/lead-provider/outputs/${enrolment.enrolmentId}?as_of=2023-06-30`)
  await expectAccessible(page)
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /^Outputs for /)
  assert.equal(await page.getByRole('heading', { level: 2, name: /Started/ }).count(), 1)
  if (enrolment.outputs[0]!.evidence === 'register-attendance') {
    await page
      .getByRole('link', { name: /^Register: / })
      .first()
      .click()
    await expectAccessible(page)
  }

  // A delivery-partner lead cannot open the agreements.
  const other = await (await h.browser.newContext()).newPage()
  await signIn(other, h.baseUrl, 'delivery-partner-lead@demo.test')
  const response = await other.goto(`${h.baseUrl}/lead-provider/enrolments/${enrolment.enrolmentId}/agreements`)
  assert.equal(response?.status(), 403)
})
