import assert from 'node:assert/strict'
import fs from 'node:fs/promises'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { parse } from 'csv-parse/sync'
import { londonDateOf } from '../../src/dates/london.ts'
import { loadCases } from '../../src/escalations/cases.ts'
import { openEscalationCases } from '../../src/escalations/open-cases.ts'
import { changeDeclarationState } from '../../src/declarations/state.ts'
import { addMonths } from '../../src/lifecycle/requests.ts'
import { caseKey, escalations, outputEvaluations } from '../../src/outputs/report.ts'
import { engagements } from '../../src/reports/engagement-reports.ts'
import { startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'
import { expectErrorSummary, ranJavaScript, withoutJavaScript as withoutJs } from '../../src/test-support/no-javascript.ts'
import { systemPrincipal } from '../../src/test-support/fixtures.ts'

// Issue 9 item 7, every journey works with JavaScript off: the staff journeys on the demo data in
// Chromium contexts with JavaScript disabled, each ending as it does with JavaScript (the other browser
// tests, whose labels and data these reuse), checked on what a person sees and on the rows it leaves,
// and each with one bad input answered by the GOV.UK error summary. A lead-provider admin accepts an
// application, records agreements signed on paper, declares a selection and voids one, imports a CSV
// file, filters money and reports and downloads CSV, invites a user and creates an API token; a
// delivery partner's lead schedules and cancels an event and logs a contact attempt on an escalation
// case; an assessor saves a mark; and a deferral goes from Priya through her partner to the lead
// provider's decision. (The learning platform is in no-javascript.test.ts; booking, registers and the
// assessment in keyboard.test.ts.) axe needs JavaScript in the page, so it does not run here.

let h: BrowserHarness

before(async () => {
  h = await startBrowserHarness()
  await openEscalationCases(h.services, londonDateOf(new Date()))
})
after(() => h.close())

const today = () => londonDateOf(new Date())
const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''
const banner = async (page: Page) => (await page.locator('.govuk-notification-banner').textContent()) ?? ''
const panel = async (page: Page) => (await page.locator('.govuk-panel').textContent()) ?? ''
const h1 = async (page: Page) => ((await page.getByRole('heading', { level: 1 }).textContent()) ?? '').trim()
const path = (page: Page) => new URL(page.url()).pathname
const csvFile = (text: string, name: string) => ({ name, mimeType: 'text/csv', buffer: Buffer.from(text) })

const withoutJavaScript = (email: string) => withoutJs(h, email)

const fillDate = async (page: Page, prefix: string, date: string) => {
  const [y, m, d] = date.split('-') as [string, string, string]
  await page.locator(`#${prefix}-day`).fill(String(Number(d)))
  await page.locator(`#${prefix}-month`).fill(String(Number(m)))
  await page.locator(`#${prefix}-year`).fill(y)
}

async function download(page: Page, name: string | RegExp): Promise<{ filename: string; text: string }> {
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name }).click()])
  return { filename: file.suggestedFilename(), text: await fs.readFile((await file.path())!, 'utf8') }
}

test('the check can fail: with JavaScript on, GOV.UK’s script marks the page', async () => {
  const on = await (await h.browser.newContext()).newPage()
  await on.goto(`${h.baseUrl}/sign-in`)
  assert.equal(await ranJavaScript(on), true)
  const off = await (await h.browser.newContext({ javaScriptEnabled: false })).newPage()
  await off.goto(`${h.baseUrl}/sign-in`)
  assert.equal(await ranJavaScript(off), false)
  await on.context().close()
  await off.context().close()
})

test('JavaScript off: a lead-provider admin uploads an application and accepts it', async () => {
  const page = await withoutJavaScript('lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Delivery', exact: true }).click()
  await page.getByRole('link', { name: 'Imports', exact: true }).click()
  const csv =
    'lead_provider,trn,full_name,email,course_identifier,cohort,school_urn,establishment,in_england,pupil_premium_uplift\n' +
    'edt,7600001,Kim Kelly,kim@school.example,npq-senior-leadership,2024,100002,state-school,yes,yes\n'
  await page.getByLabel('Applications').check()
  await page.getByLabel('CSV file').setInputFiles(csvFile(csv, 'applications.csv'))
  await page.getByRole('button', { name: 'Upload and check' }).click()
  await page.getByRole('button', { name: 'Import 1 row' }).click()
  assert.match(await panel(page), /Import complete/)

  await page.getByRole('link', { name: 'Participants', exact: true }).click()
  await page.getByRole('link', { name: 'Applications', exact: true }).click()
  await page.getByLabel('Status').selectOption('applied')
  await page.getByRole('button', { name: 'Filter' }).click()
  assert.match(page.url(), /status=applied/)
  await page.getByRole('link', { name: 'Kim Kelly' }).click()
  assert.match(await h1(page), /Kim Kelly/)

  await page.getByRole('button', { name: 'Accept application' }).click()
  await expectErrorSummary(page, /Select a delivery partner/)
  await page.getByLabel('Delivery partner').selectOption({ label: 'North Star Teaching School Hub' })
  await page.getByLabel('Cohort').selectOption('2024-autumn')
  await page.getByLabel('To accept all the same, say why').fill('Form and endorsement received on paper at the open evening')
  await page.getByRole('button', { name: 'Accept application' }).click()
  assert.match(await banner(page), /The application is accepted/)
  assert.match(await h1(page), /Kim Kelly/)
  const enrolment = await h.services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.status', 'e.cohort'])
    .where('p.trn', '=', '7600001')
    .executeTakeFirstOrThrow()
  assert.deepEqual(enrolment, { status: 'accepted', cohort: '2024-autumn' })
  await page.context().close()
})

test('JavaScript off: a lead-provider admin records agreements signed on paper from the onboarding page', async () => {
  const { db } = h.services
  const org = async (kind: 'lead-provider' | 'delivery-partner' | 'school', code: string) =>
    (await db.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow()).id
  const participant = await db
    .selectFrom('participants')
    .select('id')
    .where('email', '=', 'participant@demo.test')
    .executeTakeFirstOrThrow()
  const enrolment = await db
    .insertInto('enrolments')
    .values({
      participant_id: participant.id,
      lead_provider_id: await org('lead-provider', 'edt'),
      delivery_partner_id: await org('delivery-partner', 'north-star-tsh'),
      school_id: await org('school', '100001'),
      course_identifier: 'npq-senior-leadership',
      cohort: '2022-autumn',
      status: 'accepted',
    })
    .returning('id')
    .executeTakeFirstOrThrow()

  const page = await withoutJavaScript('lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Participants', exact: true }).click()
  await page.getByRole('link', { name: 'Onboarding', exact: true }).click()
  await page.getByRole('link', { name: 'Priya Patel', exact: true }).click()
  assert.equal(await h1(page), 'Onboarding Priya Patel')
  await page.getByRole('link', { name: 'Record the dates the agreements were signed' }).click()
  assert.equal(path(page), `/lead-provider/enrolments/${enrolment.id}/agreements`)
  await page.getByLabel('Date the school contract was signed').fill('2022-13-01')
  await page.getByRole('button', { name: 'Save agreements' }).click()
  await expectErrorSummary(page, /must be a real date/)
  await page.getByLabel('Date the school contract was signed').fill('2022-09-05')
  await page.getByLabel('Date the sponsorship agreement was signed').fill('2022-09-06')
  await page.getByRole('button', { name: 'Save agreements' }).click()
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /Signed 5 September 2022, recorded by/)
  const row = await db
    .selectFrom('enrolments')
    .select(['school_contract_signed_on', 'sponsorship_agreement_signed_on'])
    .where('id', '=', enrolment.id)
    .executeTakeFirstOrThrow()
  assert.deepEqual(row, { school_contract_signed_on: '2022-09-05', sponsorship_agreement_signed_on: '2022-09-06' })
  await page.context().close()
})

test('JavaScript off: a delivery-partner lead schedules an event and cancels it with a reason', async () => {
  const year = new Date().getFullYear() + 1
  const lead = await withoutJavaScript('delivery-partner-lead@demo.test')
  await lead.getByRole('link', { name: 'Events', exact: true }).click()
  await lead.getByRole('button', { name: 'Schedule an event' }).click()
  await lead.getByRole('button', { name: 'Continue' }).click()
  await expectErrorSummary(lead, /Select the course and cohort/)
  await lead.getByLabel('Education Development Trust: NPQ for Headship, 2022-autumn').check()
  await lead.getByRole('button', { name: 'Continue' }).click()

  await lead.getByLabel('Kind of event').selectOption({ label: 'Face-to-face session' })
  await lead.getByLabel('Activity it delivers').selectOption({ index: 1 })
  await lead.getByLabel('Title (optional)').fill('Headship block 1 face-to-face (no JavaScript)')
  await fillDate(lead, 'date', `${year}-03-12`)
  await lead.getByLabel('Start time').fill('09:30')
  await lead.getByLabel('End time').fill('08:00')
  await lead.getByLabel('Places').fill('thirty')
  await lead.getByRole('button', { name: 'Save event' }).click()
  await expectErrorSummary(lead, /Enter the number of places as a whole number/)
  await lead.getByLabel('Places').fill('20')
  await lead.getByLabel('End time').fill('16:00')
  await lead.getByLabel('Venue address').fill('North Star Teaching School Hub, 1 High Street, Leeds')
  await lead.getByLabel('Fatima Hussain (facilitator@demo.test)').check()
  await lead.getByRole('button', { name: 'Save event' }).click()
  assert.match(await main(lead), /The event is scheduled/)
  assert.match(await main(lead), /0 of 20 booked/)
  const eventId = path(lead).split('/').pop()!

  await lead.getByRole('button', { name: 'Cancel event' }).click()
  await expectErrorSummary(lead, /Enter the reason for cancelling/)
  await lead.getByLabel('Reason (sent to everyone booked)').fill('The venue is closed for repairs')
  await lead.getByRole('button', { name: 'Cancel event' }).click()
  assert.match(await main(lead), /The event is cancelled/)
  const event = await h.services.db
    .selectFrom('events')
    .select(['title', 'status', 'cancelled_reason'])
    .where('id', '=', eventId)
    .executeTakeFirstOrThrow()
  assert.deepEqual(event, {
    title: 'Headship block 1 face-to-face (no JavaScript)',
    status: 'cancelled',
    cancelled_reason: 'The venue is closed for repairs',
  })
  await lead.context().close()
})

test('JavaScript off: a delivery-partner lead logs a contact attempt on an escalation case', async () => {
  const live = new Map(
    (await escalations(h.services, { leadProvider: 'edt', deliveryPartner: 'north-star-tsh', asOf: today() })).map((x) => [
      caseKey(x.enrolment.enrolmentId, x.output.declaration_type, x.reviewDate),
      x.stage,
    ]),
  )
  const c = (await loadCases(h.services.db, { open: true })).find(
    (c) =>
      c.leadProviderCode === 'edt' &&
      c.deliveryPartnerCode === 'north-star-tsh' &&
      live.get(caseKey(c.enrolmentId, c.declarationType, c.reviewDate)) === 'contact',
  )
  assert.ok(c, 'the demo data has a North Star participant to contact')

  const lead = await withoutJavaScript('delivery-partner-lead@demo.test')
  await lead.getByRole('link', { name: 'Participants', exact: true }).click()
  await lead.getByRole('link', { name: 'Escalations', exact: true }).click()
  await lead.locator(`#queue a[href="/delivery-partner/escalations/${c.id}"]`).click()
  assert.equal(await h1(lead), c.fullName)
  await fillDate(lead, 'contact_date', today())
  await lead.getByRole('radio', { name: 'Phone' }).check()
  await lead.getByLabel('Notes (optional)').fill('Left a voicemail and sent an email')
  await lead.getByRole('button', { name: 'Log contact attempt' }).click()
  await expectErrorSummary(lead, /Select what came of the contact attempt/)
  await lead.getByRole('radio', { name: 'No response' }).check()
  await lead.getByRole('button', { name: 'Log contact attempt' }).click()
  assert.match(await main(lead), /The contact attempt is logged/)
  assert.match((await lead.locator('#history-table').textContent()) ?? '', /Contact attempt by phone: no response/)
  const action = await h.services.db
    .selectFrom('escalation_actions')
    .select(['channel', 'outcome', 'on_date', 'notes'])
    .where('case_id', '=', c.id)
    .where('kind', '=', 'contact-attempt')
    .executeTakeFirstOrThrow()
  assert.deepEqual(action, { channel: 'phone', outcome: 'no-response', on_date: today(), notes: 'Left a voicemail and sent an email' })
  await lead.context().close()
})

test('JavaScript off: a lead-provider admin declares a selection and voids one declaration', async () => {
  const page = await withoutJavaScript('lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Finance', exact: true }).click()
  await page.getByRole('link', { name: 'Declarations', exact: true }).click()
  assert.equal(await h1(page), 'Declare outputs')
  await page.getByLabel('Review date').fill('2999-01-01')
  await page.getByRole('button', { name: 'Show participants' }).click()
  await expectErrorSummary(page, /Review date must be today or in the past/)

  await page.getByLabel('Cohort').selectOption('2022-autumn')
  await page.getByLabel('Output').selectOption('retained-2')
  await page.getByLabel('Review date').fill('2024-01-24')
  await page.getByRole('button', { name: 'Show participants' }).click()
  const expected = (await outputEvaluations(h.services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2024-01-24' })).filter(
    (e) => e.outputs.find((o) => o.declaration_type === 'retained-2')?.status === 'eligible',
  )
  assert.ok(expected.length > 1)
  assert.equal(await page.getByRole('heading', { name: `Eligible (${expected.length})` }).count(), 1)
  const kept = expected[0]!
  await page.getByRole('checkbox', { name: new RegExp(kept.fullName) }).uncheck()
  await page.getByRole('button', { name: 'Declare retained-2 for selected participants' }).click()
  assert.match(await panel(page), new RegExp(`${expected.length - 1} retained 2 declarations? made`))
  const declared = await h.services.db
    .selectFrom('declarations')
    .select(['enrolment_id'])
    .where('declaration_type', '=', 'retained-2')
    .where('cohort', '=', '2022-autumn')
    .where('state', '<>', 'voided')
    .execute()
  assert.equal(declared.length, expected.length - 1)
  assert.ok(!declared.some((d) => d.enrolment_id === kept.enrolmentId), 'the unticked participant is not declared')

  await page.goto(`${h.baseUrl}/lead-provider/declarations/made`)
  await page.locator('table a.govuk-link').first().click()
  assert.match(await h1(page), /Retained 2 declaration/)
  const declarationId = path(page).split('/').pop()!
  await page.getByRole('button', { name: 'Void declaration' }).click()
  await expectErrorSummary(page, /Enter why the declaration is being voided/)
  await page.getByLabel('Why is it being voided?').fill('Declared in error: wrong course')
  await page.getByRole('button', { name: 'Void declaration' }).click()
  assert.match(await banner(page), /The declaration is voided/)
  assert.equal(await page.getByRole('button', { name: 'Void declaration' }).count(), 0)
  const voided = await h.services.db.selectFrom('declarations').select('state').where('id', '=', declarationId).executeTakeFirstOrThrow()
  assert.equal(voided.state, 'voided')
  await page.context().close()
})

test('JavaScript off: a lead-provider admin uploads a CSV file, sees its problem, previews a corrected file and imports it', async () => {
  const page = await withoutJavaScript('lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Delivery', exact: true }).click()
  await page.getByRole('link', { name: 'Imports', exact: true }).click()
  await page.getByRole('button', { name: 'Upload and check' }).click()
  await expectErrorSummary(page, /Select what the file holds/)

  const header = 'event_id,lead_provider,delivery_partner,course_identifier,cohort,activity_code,kind,starts_at,ends_at,capacity'
  const good = 'NS-H-F2F-9,edt,north-star-tsh,npq-headship,2022-autumn,NPQH-B1-F2F,f2f,2022-12-01T09:00:00Z,2022-12-01T15:00:00Z,30'
  const bad = 'NS-H-F2F-10,edt,north-star-tsh,npq-headship,2022-autumn,NPQH-B1-VIDEO,f2f,2022-12-01T09:00:00Z,2022-12-01T15:00:00Z,30'
  await page.getByLabel('Events').check()
  await page.getByLabel('CSV file').setInputFiles(csvFile(`${header}\n${good}\n${bad}\n`, 'events.csv'))
  await page.getByRole('button', { name: 'Upload and check' }).click()
  assert.match((await page.locator('.govuk-error-summary').textContent()) ?? '', /1 problem in the file/)
  assert.match(
    (await page.getByRole('table').first().textContent()) ?? '',
    /3\s*activity_code \(column 6\)\s*NPQH-B1-VIDEO is not an event activity/,
  )
  assert.equal(await page.getByRole('button', { name: /^Import/ }).count(), 0)

  await page.getByRole('link', { name: 'Upload a corrected file' }).click()
  await page.getByLabel('Events').check()
  await page.getByLabel('CSV file').setInputFiles(csvFile(`${header}\n${good}\n`, 'events-fixed.csv'))
  await page.getByRole('button', { name: 'Upload and check' }).click()
  assert.match(await h1(page), /Check events-fixed\.csv before importing/)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /New\s*1/)
  await page.getByRole('button', { name: 'Import 1 row' }).click()
  assert.match(await panel(page), /Import complete\s*1 new, 0 updated, 0 unchanged/)
  const event = await h.services.db.selectFrom('events').select('activity_code').where('event_ref', '=', 'NS-H-F2F-9').executeTakeFirst()
  assert.equal(event?.activity_code, 'NPQH-B1-F2F')
  await page.context().close()
})

test('JavaScript off: a lead-provider admin filters money and downloads CSV, and a price with a bad amount is refused', async () => {
  // As in money.test.ts: DfE has validated one of North Star's NPQLT started declarations, so North
  // Star can invoice it now.
  const { db } = h.services
  const e = await db
    .selectFrom('enrolments as e')
    .innerJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'e.participant_id', 'e.lead_provider_id', 'e.delivery_partner_id', 'e.course_identifier', 'e.cohort'])
    .where('dp.code', '=', 'north-star-tsh')
    .where('e.course_identifier', '=', 'npq-leading-teaching')
    .where('e.cohort', '=', '2022-autumn')
    .orderBy('p.full_name')
    .executeTakeFirstOrThrow()
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
    })
  } else {
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
        declaration_date: '2022-11-10',
        state: 'eligible',
        evidence: JSON.stringify({ criterion: 'self-study-credit' }),
        engagement: JSON.stringify({}),
        idempotency_key: `no-javascript-money-${e.id}`,
      })
      .execute()
  }

  const page = await withoutJavaScript('lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Finance', exact: true }).click()
  await page.getByRole('link', { name: 'Money', exact: true }).click()
  assert.equal(await h1(page), 'Money')
  await page.getByLabel('Delivery partner').selectOption({ label: 'North Star Teaching School Hub' })
  await page.getByLabel('Cohort').selectOption('2022-autumn')
  await page.getByRole('button', { name: 'Show figures' }).click()
  assert.match((await page.locator('#money-scope').textContent()) ?? '', /North Star Teaching School Hub,\s*cohort 2022-autumn/)
  const { filename, text } = await download(page, 'CSV file of what can be invoiced now')
  assert.match(filename, /^money-invoice-now-edt-north-star-tsh-2022-autumn-\d{4}-\d{2}-\d{2}\.csv$/)
  const records = parse(text) as string[][]
  const column = (name: string) => records[0]!.indexOf(name)
  assert.ok(records.length > 1, 'the CSV has rows')
  assert.ok(records.slice(1).every((r) => r[column('delivery_partner')] === 'north-star-tsh'))
  assert.ok(records.slice(1).some((r) => r[column('course_identifier')] === 'npq-leading-teaching'))

  await page.getByRole('link', { name: 'Prices per teacher' }).click()
  await page.getByRole('link', { name: 'Change the price for NPQLT 2022-autumn' }).click()
  await page.getByLabel('Price per teacher').fill('12.345')
  await page.getByRole('button', { name: 'Save price' }).click()
  await expectErrorSummary(page, /no more than 2 decimal places/)
  await page.getByLabel('Price per teacher').fill('1,200.50')
  await page.getByRole('button', { name: 'Save price' }).click()
  assert.match(await banner(page), /NPQLT 2022-autumn is now £1,200.50/)
  await page.context().close()
})

test('JavaScript off: a lead-provider admin filters the Engagement report and downloads CSV; an impossible date is refused', async () => {
  const page = await withoutJavaScript('lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Delivery', exact: true }).click()
  await page.getByRole('link', { name: 'Reports', exact: true }).click()
  assert.equal(await h1(page), 'Reports')
  await page.getByLabel('Cohort').selectOption('2022-autumn')
  await page.getByLabel('Course', { exact: true }).selectOption('npq-leading-teaching')
  await page.getByRole('button', { name: 'Show report' }).click()
  const rows = await engagements(h.services, { leadProvider: 'edt', cohort: '2022-autumn', course: 'npq-leading-teaching', asOf: today() })
  assert.ok(rows.length > 1)
  assert.match((await page.locator('#report-count').textContent()) ?? '', new RegExp(`^\\s*${rows.length} participants`))
  const { filename, text } = await download(page, /^CSV/)
  assert.equal(filename, `engagement-edt-2022-autumn-npq-leading-teaching-${today()}.csv`)
  const records = parse(text) as string[][]
  assert.deepEqual(records[0]!.slice(0, 4), ['participant_id', 'full_name', 'course_identifier', 'delivery_partner'])
  assert.deepEqual(
    records
      .slice(1)
      .map((r) => r[0])
      .sort(),
    rows.map((e) => e.participantId).sort(),
  )

  await page.locator('#as_of-day').fill('30')
  await page.locator('#as_of-month').fill('2')
  await page.locator('#as_of-year').fill('2023')
  await page.getByRole('button', { name: 'Show report' }).click()
  await expectErrorSummary(page, /The report date must be a real date/)
  assert.equal(await page.locator('#report-table').count(), 0)
  await page.context().close()
})

test('JavaScript off: a lead-provider admin invites a user and creates an API token', async () => {
  const { db } = h.services
  const page = await withoutJavaScript('lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Settings', exact: true }).click()
  await page.locator('main').getByRole('link', { name: 'Users', exact: true }).click()
  assert.equal(path(page), '/lead-provider/users')
  await page.getByRole('button', { name: 'Invite someone' }).click()
  assert.equal(await h1(page), 'Invite someone')
  await page.getByRole('button', { name: 'Send invitation' }).click()
  await expectErrorSummary(page, /Enter the person’s full name/, /Enter an email address/)
  await page.getByLabel('Full name').fill('Jo Bloggs')
  await page.getByLabel('Email address').fill('jo.bloggs@hub.example')
  await page.getByLabel('Role').selectOption({ label: 'Facilitator' })
  await page.getByLabel('Organisation').selectOption({ label: 'North Star Teaching School Hub (delivery partner)' })
  await page.getByRole('button', { name: 'Send invitation' }).click()
  assert.equal(path(page), '/lead-provider/users')
  assert.match(await banner(page), /Invitation sent to jo\.bloggs@hub\.example/)
  const invited = await db
    .selectFrom('users as u')
    .innerJoin('role_assignments as r', 'r.user_id', 'u.id')
    .innerJoin('organisations as o', 'o.id', 'r.organisation_id')
    .select(['u.full_name', 'u.status', 'r.role', 'o.code'])
    .where('u.email', '=', 'jo.bloggs@hub.example')
    .executeTakeFirstOrThrow()
  assert.deepEqual(invited, { full_name: 'Jo Bloggs', status: 'invited', role: 'facilitator', code: 'north-star-tsh' })

  await page.getByRole('link', { name: 'Settings', exact: true }).click()
  await page.locator('main').getByRole('link', { name: 'API tokens', exact: true }).click()
  assert.equal(await h1(page), 'API tokens')
  await page.getByRole('button', { name: 'Create token' }).click()
  await expectErrorSummary(page, /Enter a name for the token/)
  await page.getByLabel('Token name').fill('Finance system (no JavaScript)')
  await page.getByRole('button', { name: 'Create token' }).click()
  assert.match(await banner(page), /Token “Finance system \(no JavaScript\)” created/)
  assert.ok(((await page.locator('#new-token').textContent()) ?? '').length > 20, 'the token is shown once')
  const token = await db
    .selectFrom('api_tokens')
    .select(['revoked_at'])
    .where('name', '=', 'Finance system (no JavaScript)')
    .executeTakeFirstOrThrow()
  assert.equal(token.revoked_at, null)
  await page.context().close()
})

test('JavaScript off: an admin allocates scripts and an assessor saves a mark', async () => {
  const { db } = h.services
  const edt = (
    await db
      .selectFrom('organisations')
      .select('id')
      .where('kind', '=', 'lead-provider')
      .where('code', '=', 'edt')
      .executeTakeFirstOrThrow()
  ).id
  const enrolment = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select('e.id')
    .where('p.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', 'npq-headship')
    .executeTakeFirstOrThrow()
  const window = await db
    .insertInto('assessment_windows')
    .values({
      lead_provider_id: edt,
      course_identifier: 'npq-headship',
      cohort: '2022-autumn',
      opens_on: '2024-06-03',
      closes_on: '2024-06-10',
      engagement_deadline: '2024-05-20',
      max_words: 1500,
      case_study_title: 'Oakbridge Academy: improving attendance',
      case_study: 'The case study.',
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  const entry = await db
    .insertInto('assessment_entries')
    .values({
      window_id: window.id,
      enrolment_id: enrolment.id,
      attempt: 1,
      decision: 'entered',
      submitted_text: 'Response 1.\n\nFirst, diagnose the attendance problem with staff and families; then plan the change in stages.',
      submitted_word_count: 18,
      submitted_at: new Date('2024-06-09T15:00:00Z'),
      outcome: 'submitted',
    })
    .returning('id')
    .executeTakeFirstOrThrow()

  const admin = await withoutJavaScript('lead-provider-admin@demo.test')
  await admin.goto(`${h.baseUrl}/lead-provider/assessment/marking`)
  await admin.getByRole('link', { name: 'NPQ for Headship, 2022-autumn' }).click()
  await admin.getByRole('button', { name: 'Allocate scripts' }).click()
  assert.match(await main(admin), /Scripts are allocated to your assessors/)
  await admin.context().close()

  const assessor = await withoutJavaScript('assessor@demo.test')
  await assessor.goto(`${h.baseUrl}/assessor/scripts`)
  assert.match(await main(assessor), /\b1 script to mark\./)
  await assessor.locator('main table a').first().click()
  assert.match(await main(assessor), /Oakbridge Academy: improving attendance/)
  assert.ok(!(await main(assessor)).includes('Priya Patel'), 'the script names no one')
  await assessor.getByRole('button', { name: 'Save mark' }).click()
  await expectErrorSummary(assessor, /Enter the mark/, /Choose passed or failed/)
  await assessor.getByLabel('Mark', { exact: true }).fill('68')
  await assessor.getByLabel('Passed', { exact: true }).check()
  await assessor.getByLabel('Feedback for the participant').fill('A clear plan, well grounded in the evidence.')
  await assessor.getByRole('button', { name: 'Save mark' }).click()
  assert.match(await main(assessor), /Your mark is saved/)
  const mark = await db
    .selectFrom('assessment_marks')
    .select(['mark', 'result', 'feedback'])
    .where('entry_id', '=', entry.id)
    .executeTakeFirstOrThrow()
  assert.deepEqual(mark, { mark: 68, result: 'passed', feedback: 'A clear plan, well grounded in the evidence.' })
  await assessor.context().close()
})

test('JavaScript off: Priya requests a deferral, her partner’s lead records the conversation, the lead provider decides', async () => {
  const priya = await withoutJavaScript('participant@demo.test')
  await priya.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'My programme' }).click()
  await priya.locator('main').getByRole('link', { name: 'Your courses' }).click()
  await priya
    .getByRole('link', { name: /Headship/ })
    .first()
    .click()
  const courseUrl = priya.url()
  await priya.getByRole('button', { name: 'Request a deferral' }).click()
  await priya.getByRole('radio', { name: 'Parental leave' }).check()
  await priya.getByLabel('Details').fill('Baby due in the spring')
  await fillDate(priya, 'planned_return', addMonths(today(), 14))
  await priya.getByRole('button', { name: 'Send deferral request' }).click()
  await expectErrorSummary(priya, /no more than 12 months/)
  await fillDate(priya, 'planned_return', addMonths(today(), 9))
  await priya.getByRole('button', { name: 'Send deferral request' }).click()
  assert.match(await main(priya), /Your deferral request is sent/)

  const lead = await withoutJavaScript('delivery-partner-lead@demo.test')
  await lead.getByRole('link', { name: 'Participants', exact: true }).click()
  await lead.getByRole('link', { name: 'Deferrals and withdrawals' }).click()
  await lead.locator('#requests').getByRole('link', { name: 'Priya Patel' }).click()
  await lead.getByLabel(/What did you discuss/).fill('Talked through part-time study; a deferral is best')
  await lead.getByRole('button', { name: 'Record conversation' }).click()
  assert.match(await main(lead), /Your conversation is recorded/)
  await lead.context().close()

  const admin = await withoutJavaScript('lead-provider-admin@demo.test')
  await admin.getByRole('link', { name: 'Participants', exact: true }).click()
  await admin.getByRole('link', { name: 'Deferrals and withdrawals' }).click()
  await admin.locator('#requests').getByRole('link', { name: 'Priya Patel' }).first().click()
  await admin.getByRole('button', { name: 'Record decision' }).click()
  await expectErrorSummary(admin, /Select your decision/)
  await admin.getByRole('radio', { name: 'Approve the deferral' }).check()
  await admin.getByRole('button', { name: 'Record decision' }).click()
  assert.match(await main(admin), /The deferral is approved/)
  await admin.context().close()

  const request = await h.services.db
    .selectFrom('deferral_requests as r')
    .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['r.status', 'r.reason', 'e.status as enrolmentStatus'])
    .where('p.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', 'npq-headship')
    .executeTakeFirstOrThrow()
  assert.deepEqual(request, { status: 'approved', reason: 'parental-leave', enrolmentStatus: 'deferred' })
  await priya.goto(courseUrl)
  assert.equal((await priya.locator('#enrolment-status').textContent())?.trim(), 'Deferred')
  await priya.context().close()
})
