import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import { after, before, test } from 'node:test'
import ExcelJS from 'exceljs'
import { changeDeclarationState } from '../../src/declarations/state.ts'
import { formatPence } from '../../src/money/pence.ts'
import { systemPrincipal } from '../../src/test-support/fixtures.ts'
import { splitPrice } from '../../src/money/shares.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Money in the browser: a lead-provider admin sets the price per teacher, sees what North Star can
// invoice now and downloads it as XLSX; North Star's lead sees only North Star's figures. DfE has
// validated two of North Star's NPQLT started declarations and one of East Coast's NPQSL (all
// invoiced in the past, so today's date does not change the figures).

let h: BrowserHarness
let northStarNames: string[]
let eastCoastName: string

before(async () => {
  h = await startBrowserHarness()
  const { db } = h.services
  const enrolments = async (dp: string, course: string, cohort: string, count: number) =>
    db
      .selectFrom('enrolments as e')
      .innerJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .select(['e.id', 'e.participant_id', 'e.lead_provider_id', 'e.delivery_partner_id', 'e.course_identifier', 'e.cohort', 'p.full_name'])
      .where('dp.code', '=', dp)
      .where('e.course_identifier', '=', course)
      .where('e.cohort', '=', cohort)
      .orderBy('p.full_name')
      .limit(count)
      .execute()
  const northStar = await enrolments('north-star-tsh', 'npq-leading-teaching', '2022-autumn', 2)
  const eastCoast = await enrolments('east-coast-tsh', 'npq-senior-leadership', '2022-spring', 1)
  assert.equal(northStar.length, 2)
  assert.equal(eastCoast.length, 1)
  northStarNames = northStar.map((e) => e.full_name)
  eastCoastName = eastCoast[0]!.full_name
  for (const [e, state] of [
    [northStar[0]!, 'eligible'],
    [northStar[1]!, 'payable'],
    [eastCoast[0]!, 'payable'],
  ] as const) {
    // The demo may have declared it already (through the Declarations path): DfE validates that one.
    const live = await db
      .selectFrom('declarations')
      .select('id')
      .where('enrolment_id', '=', e.id)
      .where('declaration_type', '=', 'started')
      .where('state', '=', 'submitted')
      .executeTakeFirst()
    if (live) {
      await db.transaction().execute(async (trx) => {
        await changeDeclarationState(trx, { declarationId: live.id, to: 'eligible', source: 'dfe', by: systemPrincipal })
        await changeDeclarationState(trx, { declarationId: live.id, to: state, source: 'dfe', by: systemPrincipal })
      })
      continue
    }
    await db
      .insertInto('declarations')
      .values({
        enrolment_id: e.id,
        participant_id: e.participant_id,
        lead_provider_id: e.lead_provider_id,
        delivery_partner_id: e.delivery_partner_id,
        course_identifier: e.course_identifier,
        cohort: e.cohort,
        declaration_type: 'started',
        declaration_date: e.cohort === '2022-autumn' ? '2022-11-10' : '2023-03-01',
        state,
        evidence: JSON.stringify({ criterion: 'self-study-credit' }),
        engagement: JSON.stringify({}),
        idempotency_key: `money-browser-${e.id}`,
      })
      .execute()
  }
})
after(() => h.close())

/** The cells of the summary table's row for a delivery partner. */
async function summaryRow(page: import('playwright-core').Page, partner: string): Promise<string[]> {
  const row = page.locator('#summary-table tbody tr').filter({ has: page.getByRole('rowheader', { name: partner, exact: true }) })
  return (await row.locator('th, td').allTextContents()).map((t) => t.trim())
}

test('a lead-provider admin sets a price, sees what North Star can invoice now and downloads it', async () => {
  const page = await (await h.browser.newContext({ acceptDownloads: true })).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Finance', exact: true }).click()
  await page.getByRole('link', { name: 'Money', exact: true }).click()
  await expectAccessible(page)
  assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Money')
  // The demo's price for NPQLT 2022-autumn is £1,200: two validated started outputs at a third each.
  assert.deepEqual((await summaryRow(page, 'North Star Teaching School Hub')).slice(1, 2), [
    formatPence(2 * splitPrice(120_000, [33.3, 33.3, 33.3])[0]!),
  ])

  await page.getByRole('link', { name: 'Prices per teacher' }).click()
  await expectAccessible(page)
  await page.getByRole('link', { name: 'Change the price for NPQLT 2022-autumn' }).click()
  await expectAccessible(page)

  await page.getByLabel('Price per teacher').fill('12.345')
  await page.getByRole('button', { name: 'Save price' }).click()
  assert.match(await page.title(), /^Error: /)
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /no more than 2 decimal places/)
  await expectAccessible(page)

  await page.getByLabel('Price per teacher').fill('1,200.50')
  await page.getByRole('button', { name: 'Save price' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /NPQLT 2022-autumn is now £1,200.50/)

  await page.getByRole('link', { name: 'Money', exact: true }).click()
  await expectAccessible(page)
  const share = splitPrice(120_050, [33.3, 33.3, 33.3])[0]!
  assert.equal(formatPence(share), '£400.17')
  const row = await summaryRow(page, 'North Star Teaching School Hub')
  assert.equal(row[1], formatPence(2 * share))

  // The participants behind the figure.
  await page.getByRole('link', { name: /^2 declarations: Output 1: started, NPQLT 2022-autumn, North Star/ }).click()
  await expectAccessible(page)
  const names = (await page.locator('#declarations-table tbody tr td:first-child').allTextContents()).map((t) => t.trim())
  assert.deepEqual(
    names.map((n) => northStarNames.find((name) => n.startsWith(name))),
    northStarNames,
  )
  await page.getByRole('link', { name: 'Back to money' }).click()
  await expectAccessible(page)
  await page.getByRole('link', { name: 'Money', exact: true }).click()
  await page.getByLabel('Delivery partner').selectOption({ label: 'North Star Teaching School Hub' })
  await page.getByLabel('Cohort').selectOption('2022-autumn')
  await page.getByRole('button', { name: 'Show figures' }).click()
  await expectAccessible(page)
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'Excel (XLSX) file of what can be invoiced now' }).click(),
  ])
  assert.match(download.suggestedFilename(), /^money-invoice-now-edt-north-star-tsh-2022-autumn-\d{4}-\d{2}-\d{2}\.xlsx$/)
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load((await fs.readFile((await download.path())!)) as unknown as ArrayBuffer)
  const sheet = workbook.getWorksheet('Can invoice now')!
  const header = (sheet.getRow(1).values as unknown[]).slice(1)
  const values = (sheet.getRow(2).values as unknown[]).slice(1)
  const cell = (name: string) => values[header.indexOf(name)]
  assert.equal(sheet.rowCount, 2)
  assert.equal(cell('delivery_partner'), 'north-star-tsh')
  assert.equal(cell('course_identifier'), 'npq-leading-teaching')
  assert.equal(cell('validated_declarations'), 2)
  assert.equal(cell('net'), (2 * share) / 100)
})

test('a delivery-partner lead sees only their own partner’s figures', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'delivery-partner-lead@demo.test')
  await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Reports', exact: true }).click()
  await page.locator('main').getByRole('link', { name: 'Money', exact: true }).click()
  await expectAccessible(page)
  assert.equal(await page.getByLabel('Delivery partner').count(), 0) // fixed to their own
  await page.getByLabel('Lead provider').selectOption({ label: 'Education Development Trust' })
  await page.getByRole('button', { name: 'Show figures' }).click()
  await expectAccessible(page)
  const body = (await page.locator('main').textContent()) ?? ''
  assert.ok(body.includes('North Star Teaching School Hub'))
  assert.ok(!body.includes('East Coast'))
  assert.ok(!body.includes(eastCoastName))
  assert.equal(await page.locator('#summary-table tbody tr').count(), 1)

  // Another partner's figures are refused.
  const refused = await page.goto(`${h.baseUrl}/delivery-partner/money?delivery_partner=east-coast-tsh`)
  assert.equal(refused?.status(), 403)
  await expectAccessible(page)
})
