import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// A lead-provider admin imports a file through the upload page: a mistake in the form, a file with
// problems listed by line, then a good file previewed and imported.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const csv = (text: string, name: string) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text) })

test('a lead-provider admin uploads events, fixes a problem, previews and imports them', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Delivery', exact: true }).click()
  await page.getByRole('link', { name: 'Imports', exact: true }).click()
  await expectAccessible(page)

  // Nothing chosen: the error summary says what to do.
  await page.getByRole('button', { name: 'Upload and check' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /Select what the file holds/)

  const header = 'event_id,lead_provider,delivery_partner,course_identifier,cohort,activity_code,kind,starts_at,ends_at,capacity'
  const good = 'NS-H-F2F-9,edt,north-star-tsh,npq-headship,2022-autumn,NPQH-B1-F2F,f2f,2022-12-01T09:00:00Z,2022-12-01T15:00:00Z,30'
  const bad = 'NS-H-F2F-10,edt,north-star-tsh,npq-headship,2022-autumn,NPQH-B1-VIDEO,f2f,2022-12-01T09:00:00Z,2022-12-01T15:00:00Z,30'
  await page.getByLabel('Events').check()
  await page.getByLabel('CSV file').setInputFiles(csv(`${header}\n${good}\n${bad}\n`, 'events.csv'))
  await page.getByRole('button', { name: 'Upload and check' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /1 problem in the file/)
  const problems = await page.getByRole('table').first().textContent()
  assert.match(problems ?? '', /3\s*activity_code \(column 6\)\s*NPQH-B1-VIDEO is not an event activity/)
  assert.equal(await page.getByRole('button', { name: /^Import/ }).count(), 0)

  await page.getByRole('link', { name: 'Upload a corrected file' }).click()
  await page.getByLabel('Events').check()
  await page.getByLabel('CSV file').setInputFiles(csv(`${header}\n${good}\n`, 'events-fixed.csv'))
  await page.getByRole('button', { name: 'Upload and check' }).click()
  await expectAccessible(page)
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /Check events-fixed\.csv before importing/)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /New\s*1/)
  await page.getByRole('button', { name: 'Import 1 row' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-panel').textContent()) ?? '', /Import complete\s*1 new, 0 updated, 0 unchanged/)
  const event = await h.services.db.selectFrom('events').select('activity_code').where('event_ref', '=', 'NS-H-F2F-9').executeTakeFirst()
  assert.equal(event?.activity_code, 'NPQH-B1-F2F')

  await page.getByRole('link', { name: 'Import another file' }).click()
  await expectAccessible(page)
  const uploads = await page.getByRole('table').textContent()
  assert.match(uploads ?? '', /events-fixed\.csv/)
})
