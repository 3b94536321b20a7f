import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../routes.ts'
import { Agent, textOf } from '../test-support/agent.ts'
import { organisation, person } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { ids, loadMoneyCohort, names } from './test-fixtures.ts'

// The money pages without a browser: who sees whose figures, setting a price (validation, audit),
// the figures and the participants behind them, and the downloads. Every date in the fixture is
// long past, so "today" does not change what can be invoiced or what was paid.

let services: TestServices
let app: FastifyInstance
const password = 'a long test password'

before(async () => {
  services = await createTestServices()
  const { leadProviderId, north, east } = await loadMoneyCohort(services)
  const ucl = await organisation(services.db, 'lead-provider', 'ucl', 'UCL Centre for Educational Leadership')
  await person(services, 'admin@edt.test', 'lead-provider-admin', leadProviderId)
  await person(services, 'lead@north.test', 'delivery-partner-lead', north)
  await person(services, 'lead@east.test', 'delivery-partner-lead', east)
  await person(services, 'facilitator@north.test', 'facilitator', north)
  await person(services, 'admin@ucl.test', 'lead-provider-admin', ucl)
  app = await buildApp(services)
  await app.ready()
})
after(async () => {
  await app.close()
  await services.dispose()
})

const agents = new Map<string, Agent>()
async function as(email: string): Promise<Agent> {
  let agent = agents.get(email)
  if (!agent) {
    agent = new Agent(app)
    await agent.signIn(email, password)
    agents.set(email, agent)
  }
  return agent
}

/** A table's body rows by id, each a list of cell texts. */
function rowsOf(html: string, id: string): string[][] {
  const table = new RegExp(`<table[^>]*id="${id}"[\\s\\S]*?<tbody class="govuk-table__body">([\\s\\S]*?)</tbody>`).exec(html)
  if (!table) return []
  return [...table[1]!.matchAll(/<tr class="govuk-table__row">([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<t[hd][^>]*>([\s\S]*?)<\/t[hd]>/g)].map((cell) =>
      cell[1]!
        .replace(/<span class="govuk-visually-hidden">[\s\S]*?<\/span>/g, '')
        .replace(/<[^>]+>/g, ' ')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, '&')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  )
}

const pricePath = '/lead-provider/money/prices/edt/npq-leading-teaching/2022-autumn'

test('who may see money: signed-out visitors sign in; other roles and other organisations are refused', async () => {
  const res = await new Agent(app).get('/lead-provider/money')
  assert.equal(res.statusCode, 303)
  const facilitator = await as('facilitator@north.test')
  for (const url of ['/lead-provider/money', '/delivery-partner/money', '/lead-provider/money/prices', pricePath]) {
    assert.equal((await facilitator.get(url)).statusCode, 403, url)
  }
  const north = await as('lead@north.test')
  assert.equal((await north.get('/lead-provider/money')).statusCode, 403)
  assert.equal((await north.get('/lead-provider/money/prices')).statusCode, 403)
  assert.equal((await north.post(pricePath, { price: '1' }, { csrfFrom: '/delivery-partner/money' })).statusCode, 403)
  // Another partner's figures, page, line or download: refused, and none of its names shown.
  for (const url of [
    '/delivery-partner/money?delivery_partner=east',
    '/delivery-partner/money?delivery_partner=east&table=invoice-now&format=csv',
    '/delivery-partner/money/line?delivery_partner=east&cohort=2022-autumn&course=npq-leading-teaching&output=started',
  ]) {
    const refused = await north.get(url)
    assert.equal(refused.statusCode, 403, url)
    assert.ok(!refused.body.includes(names.dee), url)
  }
  const ucl = await as('admin@ucl.test')
  assert.equal((await ucl.get('/lead-provider/money?lead_provider=edt')).statusCode, 403)
  assert.equal((await ucl.get('/lead-provider/money/prices?lead_provider=edt')).statusCode, 403)
  assert.equal((await ucl.get(pricePath)).statusCode, 403)
  assert.equal((await (await as('admin@edt.test')).get('/lead-provider/money?delivery_partner=nobody')).statusCode, 400)
})

test('a lead-provider admin sets a price: errors first, then a new row and an audit entry', async () => {
  const admin = await as('admin@edt.test')
  const list = await admin.get('/lead-provider/money/prices')
  assert.equal(list.statusCode, 200)
  assert.equal(textOf(list.body, 'h1'), 'Prices per teacher')
  assert.deepEqual(
    rowsOf(list.body, 'prices-2022-autumn')
      .find((cells) => cells[0] === 'NPQLT')!
      .slice(1, 4),
    ['Not set', '–', '–'],
  )
  assert.match(list.body, new RegExp(`href="${pricePath}"`))

  const form = await admin.get(pricePath)
  assert.equal(form.statusCode, 200)
  assert.match(form.body, /No price has been set yet/)
  assert.match(form.body, /Output 1: started: 33.3% \(invoice 16 December 2022\)/)

  for (const [price, message] of [
    ['', 'Enter the price per teacher'],
    ['0', 'The price per teacher must be more than £0'],
    ['12.345', 'The price per teacher must have no more than 2 decimal places (whole pence)'],
    ['250000', 'The price per teacher must be £100,000.00 or less'],
    ['twelve', 'The price per teacher must be an amount in pounds and pence, like 1250 or 1250.50'],
  ] as const) {
    const refused = await admin.post(pricePath, { price })
    assert.equal(refused.statusCode, 400, price)
    assert.match(refused.body, /<title>Error: /)
    assert.match(refused.body, new RegExp(`<a href="#price">${message.replace(/[().]/g, '\\$&')}</a>`), price)
    assert.match(refused.body, new RegExp(`id="price" name="price" type="text" spellcheck="false" value="${price}"`))
  }
  assert.equal((await services.db.selectFrom('contract_prices').select('id').execute()).length, 0)
  // Without the CSRF token nothing is saved.
  assert.equal((await admin.post(pricePath, { price: '1000' }, { csrf: null })).statusCode, 403)

  const saved = await admin.post(pricePath, { price: '£1,000' })
  assert.equal(saved.statusCode, 303)
  const done = await admin.get(saved.headers.location as string)
  assert.match(done.body, /The price per teacher for NPQLT 2022-autumn is now £1,000.00/)
  const row = rowsOf(done.body, 'prices-2022-autumn').find((cells) => cells[0] === 'NPQLT')!
  assert.deepEqual(row.slice(1, 3), ['£1,000.00', '£333.33, £333.33, £333.34'])
  assert.match(row[3]!, /^admin, /)

  const again = await admin.post(pricePath, { price: '1000.00' })
  assert.match((await admin.get(again.headers.location as string)).body, /was already £1,000.00/)
  const rows = await services.db.selectFrom('contract_prices').select(['price_pence', 'recorded_by']).execute()
  assert.equal(rows.length, 1)
  assert.equal(rows[0]!.price_pence, 100_000)
  const audit = await services.db
    .selectFrom('audit_events')
    .select(['action', 'after'])
    .where('action', '=', 'contract-price.set')
    .execute()
  assert.equal(audit.length, 1)
  assert.match((await admin.get(pricePath)).body, /value="1000.00"/)
})

test('the lead-provider admin sees every partner: invoice now, expected and paid, with the participants behind them', async () => {
  const admin = await as('admin@edt.test')
  const res = await admin.get('/lead-provider/money')
  assert.equal(res.statusCode, 200)
  assert.equal(textOf(res.body, 'h1'), 'Money')
  assert.match(res.body, /<a class="govuk-service-navigation__link" href="\/lead-provider\/finance" aria-current="true">/)
  assert.match(res.body, /<a class="moj-sub-navigation__link" aria-current="page" href="\/lead-provider\/money">/)
  assert.deepEqual(rowsOf(res.body, 'summary-table'), [
    ['East Hub', '£333.33', '£0.00', '£0.00'],
    // North: Ada's £333.33 less Cal's clawback on the retained-1 invoice.
    ['North Hub', '£0.00', '£0.00', '£999.99'],
    ['Total', '£333.33', '£0.00', '£999.99'],
  ])
  assert.deepEqual(
    rowsOf(res.body, 'invoice-now-table').map((cells) => [
      cells[0],
      cells[3],
      cells[5],
      cells[7],
      cells[8],
      cells[9],
      cells[10],
      cells[11],
    ]),
    [
      ['East Hub', 'Output 1: started', '16 December 2022', '1', '£333.33', '£333.33', '–', '£333.33'],
      ['North Hub', 'Output 1: started', '16 December 2022', '1', '£333.33', '£333.33', '–', '£333.33'],
      ['North Hub', 'Output 2: retained 1', '22 July 2023', '0', '£333.33', '£0.00', '£333.33 (1)', '−£333.33'],
    ],
  )
  assert.match(res.body, /Total that can be invoiced now: <strong>£333.33<\/strong>/)
  assert.deepEqual(rowsOf(res.body, 'paid-table'), [['North Hub', 'January 2023', '3', '£999.99', '–', '£999.99']])
  assert.equal(rowsOf(res.body, 'monthly-table').length, 12)

  // The participants behind a figure.
  const link =
    /<a class="govuk-link" href="([^"]+)">1<span class="govuk-visually-hidden"> declarations: Output 1: started, NPQLT 2022-autumn, North Hub/.exec(
      res.body,
    )
  assert.ok(link)
  const line = await admin.get(link[1]!.replace(/&amp;/g, '&'))
  assert.equal(line.statusCode, 200)
  assert.deepEqual(
    rowsOf(line.body, 'declarations-table').map((cells) => [cells[0]!.split(' 0')[0], cells[2], cells[3]]),
    [
      [names.ada, 'eligible', 'Not yet'],
      [names.ben, 'paid', '20 January 2023'],
      [names.cal, 'awaiting-clawback', '20 January 2023'],
      [names.gus, 'paid', '20 January 2023'],
    ],
  )
  assert.ok(line.body.includes(ids.ada))
  assert.ok(!line.body.includes(names.eve), 'a submitted declaration is not validated evidence')
  assert.match(line.body, /£333.33: 1 declaration not yet paid/)

  const retained = await admin.get(
    '/lead-provider/money/line?delivery_partner=north&cohort=2022-autumn&course=npq-leading-teaching&output=retained-1',
  )
  assert.deepEqual(
    rowsOf(retained.body, 'clawbacks-table').map((cells) => cells.slice(1)),
    [['Output 1: started, NPQLT 2022-autumn', '1 February 2023', 'To be deducted', '£333.33']],
  )
  assert.equal(
    (await admin.get('/lead-provider/money/line?delivery_partner=north&cohort=2022-autumn&course=npq-leading-teaching&output=retained-9'))
      .statusCode,
    404,
  )

  // Filters: one partner; a cohort with nothing in it.
  const east = await admin.get('/lead-provider/money?delivery_partner=east')
  assert.deepEqual(rowsOf(east.body, 'summary-table'), [['East Hub', '£333.33', '£0.00', '£0.00']])
  assert.ok(!east.body.includes('North Hub</td>'))
  const spring = await admin.get('/lead-provider/money?cohort=2022-spring')
  assert.match(spring.body, /Nothing can be invoiced now/)
  const wrong = await admin.get('/lead-provider/money?cohort=1999-autumn')
  assert.equal(wrong.statusCode, 400)
  assert.match(wrong.body, /href="#cohort">Select a cohort that Education Development Trust runs/)
})

test('downloads: CSV and XLSX of each table, with the page’s filters', async () => {
  const admin = await as('admin@edt.test')
  const csv = await admin.get('/lead-provider/money?cohort=2022-autumn&table=invoice-now&format=csv')
  assert.equal(csv.statusCode, 200)
  assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8')
  assert.match(
    String(csv.headers['content-disposition']),
    /^attachment; filename="money-invoice-now-edt-2022-autumn-\d{4}-\d{2}-\d{2}\.csv"$/,
  )
  const records = parse(csv.body) as string[][]
  assert.deepEqual(records[0], [
    'delivery_partner',
    'delivery_partner_name',
    'cohort',
    'course_identifier',
    'declaration_type',
    'review_date',
    'invoice_date',
    'payment_date',
    'validated_declarations',
    'price_per_teacher',
    'share',
    'total',
    'clawbacks',
    'clawbacks_deducted',
    'net',
  ])
  assert.deepEqual(records.slice(1), [
    [
      'east',
      'East Hub',
      '2022-autumn',
      'npq-leading-teaching',
      'started',
      '2022-11-24',
      '2022-12-16',
      '2023-01-16',
      '1',
      '1000.00',
      '333.33',
      '333.33',
      '0',
      '0.00',
      '333.33',
    ],
    [
      'north',
      'North Hub',
      '2022-autumn',
      'npq-leading-teaching',
      'started',
      '2022-11-24',
      '2022-12-16',
      '2023-01-16',
      '1',
      '1000.00',
      '333.33',
      '333.33',
      '0',
      '0.00',
      '333.33',
    ],
    [
      'north',
      'North Hub',
      '2022-autumn',
      'npq-leading-teaching',
      'retained-1',
      '2023-06-22',
      '2023-07-22',
      '2023-08-22',
      '0',
      '1000.00',
      '333.33',
      '0.00',
      '1',
      '333.33',
      '-333.33',
    ],
  ])

  const xlsx = await admin.get('/lead-provider/money?table=paid&format=xlsx')
  assert.equal(xlsx.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer)
  const sheet = workbook.getWorksheet('Paid')!
  assert.deepEqual((sheet.getRow(1).values as unknown[]).slice(1), [
    'delivery_partner',
    'delivery_partner_name',
    'month',
    'declarations_paid',
    'paid',
    'clawbacks',
    'clawed_back',
    'net',
  ])
  assert.deepEqual((sheet.getRow(2).values as unknown[]).slice(1), ['north', 'North Hub', '2023-01', 3, 999.99, 0, 0, 999.99])
  assert.equal(sheet.getRow(2).getCell(5).numFmt, '"£"#,##0.00;-"£"#,##0.00')

  const expected = await admin.get('/lead-provider/money?table=expected&format=csv')
  assert.equal((parse(expected.body) as string[][]).length, 1) // every output of the cohort is invoiced already
  assert.equal((await admin.get('/lead-provider/money?table=other&format=csv')).statusCode, 404)
})

test('a delivery-partner lead sees only their own partner’s figures', async () => {
  const north = await as('lead@north.test')
  const res = await north.get('/delivery-partner/money')
  assert.equal(res.statusCode, 200)
  assert.match(res.body, /<span class="govuk-caption-l">North Hub<\/span>/)
  assert.deepEqual(rowsOf(res.body, 'summary-table'), [['North Hub', '£0.00', '£0.00', '£999.99']])
  assert.ok(!res.body.includes('East Hub'))
  assert.ok(!res.body.includes(names.dee))
  // No delivery partner column: it is theirs.
  assert.deepEqual(rowsOf(res.body, 'invoice-now-table')[0]!.slice(0, 3), ['2022-autumn', 'NPQLT', 'Output 1: started'])
  assert.doesNotMatch(res.body, /Prices per teacher/)
  const csv = parse((await north.get('/delivery-partner/money?table=invoice-now&format=csv')).body) as string[][]
  assert.deepEqual(
    csv.slice(1).map((r) => r[0]),
    ['north', 'north'],
  )
  const line = await north.get('/delivery-partner/money/line?cohort=2022-autumn&course=npq-leading-teaching&output=started')
  assert.equal(line.statusCode, 200)
  assert.ok(line.body.includes(names.ada))

  const east = await as('lead@east.test')
  const eastPage = await east.get('/delivery-partner/money')
  assert.deepEqual(rowsOf(eastPage.body, 'summary-table'), [['East Hub', '£333.33', '£0.00', '£0.00']])
  assert.ok(!eastPage.body.includes(names.ada))
})
