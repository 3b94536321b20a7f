import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { parse } from 'csv-parse/sync'
import { londonDateOf } from '../../src/dates/london.ts'
import { declarationRow, engagements, type ReportQuery } from '../../src/reports/engagement-reports.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Reports in the browser: a lead-provider admin and a delivery-partner lead choose filters, sort a
// column (MoJ sortable table, and the server's header links without JavaScript) and download CSV.
// Expected figures come from engagements(), so the demo evidence can change.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const today = () => londonDateOf(new Date())
const expected = (query: Partial<ReportQuery> & { leadProvider: string; cohort: string }) =>
  engagements(h.services, { asOf: today(), ...query })
const byName = (a: { fullName: string; participantId: string }, b: { fullName: string; participantId: string }) =>
  a.fullName.localeCompare(b.fullName, 'en-GB') || a.participantId.localeCompare(b.participantId)

/** The participants' names in the report table, top to bottom. */
async function namesOnPage(page: Page): Promise<string[]> {
  const cells = await page
    .locator('#report-table tbody tr td:first-child')
    .evaluateAll((tds) => tds.map((td) => td.getAttribute('data-sort-value') ?? ''))
  return cells
}

async function downloadCsv(page: Page): Promise<{ filename: string; records: string[][] }> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: /^CSV/ }).click()])
  const text = await fs.readFile((await download.path())!, 'utf8')
  return { filename: download.suggestedFilename(), records: parse(text) as string[][] }
}

test('a lead-provider admin chooses a cohort and course, sorts by engagement and downloads CSV', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Delivery', exact: true }).click()
  await page.getByRole('link', { name: 'Reports', exact: true }).click()
  await expectAccessible(page)
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Reports')

  await page.getByLabel('Cohort').selectOption('2022-autumn')
  await page.getByLabel('Course', { exact: true }).selectOption('npq-leading-teaching')
  await page.getByRole('button', { name: 'Show report' }).click()
  await expectAccessible(page)
  const rows = (await expected({ leadProvider: 'edt', cohort: '2022-autumn', course: 'npq-leading-teaching' })).sort(byName)
  assert.ok(rows.length > 1)
  assert.match((await page.locator('#report-count').textContent()) ?? '', new RegExp(`^\\s*${rows.length} participants`))
  assert.deepEqual(
    await namesOnPage(page),
    rows.map((e) => e.fullName),
  )

  // The sortable table: a click sorts ascending, a second descending (ties keep their order).
  const engagementHeader = page.getByRole('columnheader', { name: 'Engagement', exact: true })
  await engagementHeader.getByRole('button').click()
  assert.equal(await engagementHeader.getAttribute('aria-sort'), 'ascending')
  assert.deepEqual(
    await namesOnPage(page),
    [...rows].sort((a, b) => a.engagement.ratio - b.engagement.ratio || byName(a, b)).map((e) => e.fullName),
  )
  await engagementHeader.getByRole('button').click()
  assert.equal(await engagementHeader.getAttribute('aria-sort'), 'descending')
  assert.deepEqual(
    await namesOnPage(page),
    [...rows].sort((a, b) => b.engagement.ratio - a.engagement.ratio || byName(a, b)).map((e) => e.fullName),
  )
  await expectAccessible(page)

  const { filename, records } = await downloadCsv(page)
  assert.equal(filename, `engagement-edt-2022-autumn-npq-leading-teaching-${today()}.csv`)
  assert.deepEqual(records[0]!.slice(0, 4), ['participant_id', 'full_name', 'course_identifier', 'delivery_partner'])
  assert.deepEqual(
    records.slice(1).map((r) => r[0]),
    rows.map((e) => e.participantId),
  )

  // A report date that does not exist: the error summary, and no results.
  await page.locator('#as_of-day').fill('30')
  await page.locator('#as_of-month').fill('2')
  await page.locator('#as_of-year').fill('2023')
  await page.getByRole('button', { name: 'Show report' }).click()
  assert.match(await page.title(), /^Error: /)
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /The report date must be a real date/)
  assert.equal(await page.locator('#report-table').count(), 0)
  await expectAccessible(page)
})

test('a delivery-partner lead chooses the lead provider, sees only their own participants, sorts and downloads the Declaration report', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'delivery-partner-lead@demo.test')
  await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Reports', exact: true }).click()
  await page.locator('main').getByRole('link', { name: 'Progress reports', exact: true }).click()
  await expectAccessible(page)
  assert.equal(await page.getByLabel('Delivery partner').count(), 0) // fixed to their own

  await page.getByLabel('Lead provider').selectOption({ label: 'Education Development Trust' })
  await page.getByLabel('Cohort').selectOption('2022-autumn')
  await page.getByLabel('Declaration', { exact: true }).check()
  await page.getByRole('button', { name: 'Show report' }).click()
  await expectAccessible(page)
  // The cohort's review dates before the report date are offered once the cohort is shown.
  await page.getByRole('radio', { name: /22 June 2023: retained 1 review date/ }).check()
  await page.getByRole('button', { name: 'Show report' }).click()
  await expectAccessible(page)

  const own = (await expected({ leadProvider: 'edt', cohort: '2022-autumn', deliveryPartner: 'north-star-tsh' }))
    .map((e) => ({ ...e, row: declarationRow(e, '2023-06-22') }))
    .sort(byName)
  assert.ok(own.length > 0)
  assert.deepEqual(
    await namesOnPage(page),
    own.map((e) => e.fullName),
  )
  const partners = await page.locator('#report-table tbody tr td:nth-child(3)').allTextContents()
  assert.ok(partners.every((p) => p.trim() === 'North Star Teaching School Hub'))

  const header = page.getByRole('columnheader', { name: 'Cumulative credits' })
  await header.getByRole('button').click()
  await header.getByRole('button').click()
  assert.equal(await header.getAttribute('aria-sort'), 'descending')
  assert.deepEqual(
    await namesOnPage(page),
    [...own].sort((a, b) => b.row.cumulative_credits - a.row.cumulative_credits || byName(a, b)).map((e) => e.fullName),
  )
  await expectAccessible(page)

  const { filename, records } = await downloadCsv(page)
  assert.equal(filename, `declaration-edt-2022-autumn-north-star-tsh-2023-06-22-to-${today()}.csv`)
  assert.deepEqual(records[0], [
    'participant_id',
    'full_name',
    'course_identifier',
    'delivery_partner',
    'credits_in_period',
    'cumulative_credits',
  ])
  assert.deepEqual(
    records.slice(1).map((r) => [r[0], r[3], r[4], r[5]]),
    own.map((e) => [e.participantId, 'north-star-tsh', String(e.row.credits_in_period), String(e.row.cumulative_credits)]),
  )

  // Another delivery partner's report is refused, whatever the link says.
  const refused = await page.goto(
    `${h.baseUrl}/delivery-partner/reports?delivery_partner=east-coast-tsh&lead_provider=edt&cohort=2022-spring`,
  )
  assert.equal(refused?.status(), 403)
  await expectAccessible(page)
})

test('without JavaScript the column headers are links that sort on the server', async () => {
  const context = await h.browser.newContext({ javaScriptEnabled: false })
  const page = await context.newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test', undefined, { axe: false }) // axe needs JavaScript
  await page.goto(`${h.baseUrl}/lead-provider/reports?cohort=2022-autumn`)
  const rows = await expected({ leadProvider: 'edt', cohort: '2022-autumn' })
  await page.getByRole('link', { name: 'Credits', exact: true }).click()
  assert.match(page.url(), /sort=credits&order=ascending/)
  await page.getByRole('link', { name: 'Credits', exact: true }).click()
  assert.match(page.url(), /sort=credits&order=descending/)
  assert.equal(await page.getByRole('columnheader', { name: 'Credits', exact: true }).getAttribute('aria-sort'), 'descending')
  assert.deepEqual(
    await namesOnPage(page),
    [...rows].sort((a, b) => b.engagement.creditsEarned - a.engagement.creditsEarned || byName(a, b)).map((e) => e.fullName),
  )
})
