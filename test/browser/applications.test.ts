import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// A lead-provider admin uploads an application, opens it from the list, sees its eligibility and
// accepts it with a delivery partner and a cohort (axe on every page).

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

test('a lead-provider admin uploads an application, checks its eligibility and accepts it', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Delivery', exact: true }).click()
  await page.getByRole('link', { name: 'Imports', exact: true }).click()
  await expectAccessible(page)
  const csv =
    'lead_provider,trn,full_name,email,course_identifier,cohort,school_urn,establishment,in_england,pupil_premium_uplift\n' +
    'edt,7600001,Kim Kelly,kim@school.example,npq-senior-leadership,2024,100002,state-school,yes,yes\n'
  await page.getByLabel('Applications').check()
  await page.getByLabel('CSV file').setInputFiles({ name: 'applications.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) })
  await page.getByRole('button', { name: 'Upload and check' }).click()
  await page.getByRole('button', { name: 'Import 1 row' }).waitFor()
  await expectAccessible(page)
  await page.getByRole('button', { name: 'Import 1 row' }).click()
  await page.locator('.govuk-panel').waitFor()
  await expectAccessible(page)

  await page.getByRole('link', { name: 'Participants', exact: true }).click()
  await page.getByRole('link', { name: 'Applications', exact: true }).click()
  await expectAccessible(page)
  await page.getByLabel('Status').selectOption('applied')
  await page.getByRole('button', { name: 'Filter' }).click()
  await expectAccessible(page)
  await page.getByRole('link', { name: 'Kim Kelly' }).click()
  await expectAccessible(page)
  const eligibility = (await page.getByRole('table').first().textContent()) ?? ''
  assert.match(eligibility, /DfE funding\s*Met\s*Works in a state-funded school in England/)
  assert.match(eligibility, /Scholarship funding\s*Met/)

  // Accept without a choice: the error summary says what is missing.
  await page.getByRole('button', { name: 'Accept application' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /Select a delivery partner/)

  await page.getByLabel('Delivery partner').selectOption({ label: 'North Star Teaching School Hub' })
  await page.getByLabel('Cohort').selectOption('2024-autumn')
  // The form and endorsement have not come back: the admin accepts all the same only with a reason.
  assert.match(
    (await page.locator('.govuk-warning-text').textContent()) ?? '',
    /Not ready to accept: The applicant has not returned the application form/,
  )
  await page.getByLabel('To accept all the same, say why').fill('Form and endorsement received on paper at the open evening')
  await page.getByRole('button', { name: 'Accept application' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /The application is accepted/)
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /Kim Kelly/)
  const enrolment = await h.services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.status', 'e.cohort'])
    .where('p.trn', '=', '7600001')
    .executeTakeFirstOrThrow()
  assert.deepEqual(enrolment, { status: 'accepted', cohort: '2024-autumn' })
})
