import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { parse } from 'csv-parse/sync'
import ExcelJS from 'exceljs'
import type { FastifyInstance } from 'fastify'
import { dashboardCache } from '../dashboards/figures.ts'
import { Agent, textOf } from '../test-support/agent.ts'
import { startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'
import { declarationRow, engagementRow, engagements, type ReportQuery } from './engagement-reports.ts'
import { declarationTable, engagementTable } from './formats.ts'

// The report pages on the demo data: who sees whose participants, filters, sorting, downloads and
// bad inputs. Expected figures come from engagements(), so the demo evidence can change.

const password = 'demo-password-for-tests'
let services: TestServices
let app: FastifyInstance
const agents = new Map<string, Agent>()

let close: () => Promise<void>

before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

async function as(email: string): Promise<Agent> {
  let agent = agents.get(email)
  if (!agent) {
    agent = new Agent(app)
    await agent.signIn(email, password)
    agents.set(email, agent)
  }
  return agent
}
const lpAdmin = () => as('lead-provider-admin@demo.test')
const dpLead = () => as('delivery-partner-lead@demo.test')

const expected = (query: Partial<ReportQuery>) =>
  engagements(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2024-01-31', ...query })

/** The report table's body rows, each a list of cell texts. */
function tableRows(html: string): string[][] {
  const body = /<tbody class="govuk-table__body">([\s\S]*?)<\/tbody>/.exec(html)
  if (!body) return []
  return [...body[1]!.matchAll(/<tr class="govuk-table__row">([\s\S]*?)<\/tr>/g)].map((row) =>
    [...row[1]!.matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((cell) =>
      cell[1]!
        .replace(/<[^>]+>/g, ' ')
        .replace(/&#39;/g, "'")
        .replace(/&amp;/g, '&')
        .replace(/\s+/g, ' ')
        .trim(),
    ),
  )
}
const namesIn = (html: string) => tableRows(html).map((cells) => cells[0]!.replace(/ [0-9a-f-]{36}$/, ''))
const byName = (a: { fullName: string; participantId: string }, b: { fullName: string; participantId: string }) =>
  a.fullName.localeCompare(b.fullName, 'en-GB') || a.participantId.localeCompare(b.participantId)

test('signed-out visitors are sent to sign in; a participant is forbidden', async () => {
  for (const url of ['/lead-provider/reports', '/delivery-partner/reports?cohort=2022-autumn']) {
    const res = await new Agent(app).get(url)
    assert.equal(res.statusCode, 303, url)
    assert.equal(res.headers.location, `/sign-in?returnTo=${encodeURIComponent(url)}`)
  }
  const participant = await as('participant@demo.test')
  for (const url of ['/lead-provider/reports', '/delivery-partner/reports', '/lead-provider/reports?cohort=2022-autumn&format=csv']) {
    const res = await participant.get(url)
    assert.equal(res.statusCode, 403, url)
    assert.doesNotMatch(res.body, /govuk-table__body/)
  }
  // A delivery-partner lead has no lead-provider reports, and an admin no delivery-partner ones.
  assert.equal((await (await dpLead()).get('/lead-provider/reports')).statusCode, 403)
  assert.equal((await (await lpAdmin()).get('/delivery-partner/reports')).statusCode, 403)
})

test('the page offers the filters; by default the most recent cohort already started that has participants', async () => {
  const res = await (await lpAdmin()).get('/lead-provider/reports')
  assert.equal(res.statusCode, 200)
  assert.equal(textOf(res.body, 'h1'), 'Reports')
  for (const id of ['report', 'cohort', 'course', 'delivery_partner', 'as_of-day', 'from'])
    assert.match(res.body, new RegExp(`id="${id}"`), id)
  // EDT's demo participants are in 2021-autumn, 2022-autumn and 2022-spring (the latest to start, February 2023);
  // later EDT cohorts have started but have nobody in them.
  assert.match(res.body, /<option value="2022-spring" selected>/)
  assert.match(res.body, /<option value="east-coast-tsh">East Coast Teaching School Hub<\/option>/)
})

test('a delivery-partner lead sees only their own participants, and is refused another partner’s', async () => {
  const lead = await dpLead()
  const own = await expected({ deliveryPartner: 'north-star-tsh' })
  assert.ok(own.length > 0)
  const res = await lead.get('/delivery-partner/reports?lead_provider=edt&cohort=2022-autumn&as_of=2024-01-31')
  assert.equal(res.statusCode, 200)
  assert.deepEqual(
    namesIn(res.body),
    [...own].sort(byName).map((e) => e.fullName),
  )
  assert.ok(tableRows(res.body).every((cells) => cells[2] === 'North Star Teaching School Hub'))

  // East Coast's participants are in EDT's 2022-spring cohort: the lead sees none of them.
  const others = await expected({ cohort: '2022-spring' })
  assert.ok(others.length > 0 && others.every((e) => e.deliveryPartner === 'east-coast-tsh'))
  const spring = await lead.get('/delivery-partner/reports?lead_provider=edt&cohort=2022-spring&as_of=2024-01-31')
  assert.equal(spring.statusCode, 200)
  assert.deepEqual(namesIn(spring.body), [])
  assert.match(spring.body, /No participants match these choices/)
  for (const e of others) assert.ok(!spring.body.includes(e.fullName))

  for (const url of [
    '/delivery-partner/reports?delivery_partner=east-coast-tsh&lead_provider=edt&cohort=2022-spring',
    '/delivery-partner/reports?delivery_partner=east-coast-tsh&lead_provider=edt&cohort=2022-spring&format=csv',
  ]) {
    const refused = await lead.get(url)
    assert.equal(refused.statusCode, 403, url)
    for (const e of others) assert.ok(!refused.body.includes(e.fullName))
  }

  // North Star works with EDT and UCL: the lead chooses; Ambition is not one of them.
  const ucl = await lead.get('/delivery-partner/reports?lead_provider=ucl&cohort=2023-autumn')
  assert.equal(ucl.statusCode, 200)
  assert.match(ucl.body, /<option value="ucl" selected>UCL Centre for Educational Leadership<\/option>/)
  const uclOwn = await engagements(services, {
    leadProvider: 'ucl',
    cohort: '2023-autumn',
    deliveryPartner: 'north-star-tsh',
    asOf: new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London' }).format(new Date()),
  })
  assert.deepEqual(
    namesIn(ucl.body),
    [...uclOwn].sort(byName).map((e) => e.fullName),
  )
  const ambition = await lead.get('/delivery-partner/reports?lead_provider=ambition&cohort=2024-autumn')
  assert.equal(ambition.statusCode, 400)
  assert.match(ambition.body, /href="#lead_provider">Select a lead provider that North Star Teaching School Hub works with/)
  assert.doesNotMatch(ambition.body, /govuk-table__body/)
})

test('a lead-provider admin sees all their partners, filters by delivery partner and course, and is refused others', async () => {
  const admin = await lpAdmin()
  const all = await admin.get('/lead-provider/reports?cohort=2022-spring&as_of=2024-01-31')
  assert.deepEqual(
    namesIn(all.body),
    (await expected({ cohort: '2022-spring' })).sort(byName).map((e) => e.fullName),
  )

  const eastCoast = await admin.get('/lead-provider/reports?cohort=2022-spring&delivery_partner=east-coast-tsh&as_of=2024-01-31')
  const eastCoastExpected = await expected({ cohort: '2022-spring', deliveryPartner: 'east-coast-tsh' })
  assert.ok(eastCoastExpected.length > 0)
  assert.deepEqual(
    namesIn(eastCoast.body),
    eastCoastExpected.sort(byName).map((e) => e.fullName),
  )
  const northStar = await admin.get('/lead-provider/reports?cohort=2022-spring&delivery_partner=north-star-tsh&as_of=2024-01-31')
  assert.deepEqual(namesIn(northStar.body), [])

  const npqlt = await admin.get('/lead-provider/reports?cohort=2022-autumn&course=npq-leading-teaching&as_of=2024-01-31')
  const npqltExpected = await expected({ course: 'npq-leading-teaching' })
  assert.ok(npqltExpected.length > 0 && npqltExpected.length < (await expected({})).length)
  const rows = tableRows(npqlt.body)
  assert.deepEqual(
    rows.map((cells) => cells[0]!.replace(/ [0-9a-f-]{36}$/, '')),
    npqltExpected.sort(byName).map((e) => e.fullName),
  )
  assert.ok(rows.every((cells) => cells[1] === 'NPQLT'))
  // Credits, percentage, the eligibility tag and the blocks, as engagement() has them.
  for (const [i, e] of npqltExpected.entries()) {
    const cells = rows[i]!
    assert.ok(cells[0]!.endsWith(e.participantId))
    assert.equal(cells[3], `${e.engagement.creditsEarned} of ${e.engagement.creditsAvailable}`)
    assert.equal(cells[4], `${e.engagement.percent}%`)
    assert.equal(cells[5], e.engagement.eligibleForAssessment ? 'Eligible' : 'Not yet')
    assert.deepEqual(
      cells.slice(6),
      e.engagement.blocks.map((b) => `${b.percent}%`),
    )
  }
  assert.match(npqlt.body, /at least 90% of the credits available, compared on the exact figure/)

  assert.equal((await admin.get('/lead-provider/reports?cohort=2023-autumn&delivery_partner=southern-lights-mat')).statusCode, 403)
  assert.equal((await admin.get('/lead-provider/reports?cohort=2023-autumn&lead_provider=ucl')).statusCode, 403)
})

test('sorting on the server: header links toggle the order, rows follow it', async () => {
  const admin = await lpAdmin()
  const res = await admin.get('/lead-provider/reports?cohort=2022-autumn&as_of=2024-01-31&sort=percent&order=descending')
  assert.equal(res.statusCode, 200)
  const sorted = (await expected({})).sort((a, b) => b.engagement.ratio - a.engagement.ratio || byName(a, b))
  assert.deepEqual(
    namesIn(res.body),
    sorted.map((e) => e.fullName),
  )
  const header = /<th scope="col"[^>]*aria-sort="descending"><a class="govuk-link" href="([^"]+)">Engagement<\/a><\/th>/.exec(res.body)
  assert.ok(header, 'the Engagement column is marked as sorted descending')
  assert.match(header[1]!.replace(/&amp;/g, '&'), /sort=percent&order=ascending/)
  assert.match(res.body, /aria-sort="none"><a class="govuk-link" href="[^"]*sort=name&amp;order=ascending/)

  const declaration = await admin.get(
    '/lead-provider/reports?report=declaration&cohort=2022-autumn&as_of=2024-01-31&from=2023-06-22&sort=in_period&order=descending',
  )
  const byPeriod = (await expected({}))
    .map((e) => ({ ...e, row: declarationRow(e, '2023-06-22') }))
    .sort((a, b) => b.row.credits_in_period - a.row.credits_in_period || byName(a, b))
  const rows = tableRows(declaration.body)
  assert.deepEqual(
    rows.map((cells) => [cells[0]!.replace(/ [0-9a-f-]{36}$/, ''), cells[3], cells[4]]),
    byPeriod.map((e) => [e.fullName, String(e.row.credits_in_period), String(e.row.cumulative_credits)]),
  )
  assert.ok(byPeriod.some((e) => e.row.credits_in_period !== e.row.cumulative_credits))
  assert.match(declaration.body, /credits earned after 22 June 2023 up to the end of 31 January 2024/)
  // The previous review dates are offered; the one chosen is checked.
  assert.match(declaration.body, /value="2023-06-22" checked/)
  assert.match(declaration.body, /24 November 2022: started review date/)
  // A review date not offered (another cohort's, left checked when the cohort changed) falls back to the latest offered.
  const stale = await admin.get('/lead-provider/reports?report=declaration&cohort=2022-autumn&as_of=2024-01-31&from=2026-08-21')
  assert.equal(stale.statusCode, 200)
  assert.match(stale.body, /value="2024-01-24" checked/)
  assert.match(stale.body, /credits earned after 24 January 2024 up to the end of 31 January 2024/)
  // Another date, in a link as one ISO value.
  const custom = await admin.get(
    '/lead-provider/reports?report=declaration&cohort=2022-autumn&as_of=2024-01-31&from=custom&from_date=2023-01-01',
  )
  assert.match(custom.body, /value="custom" checked/)
  assert.match(custom.body, /id="from_date-day" name="from_date-day" type="text" value="1"/)
  assert.match(custom.body, /credits earned after 1 January 2023 up to the end of 31 January 2024/)
  assert.match(custom.body, /href="[^"]*from=custom&amp;from_date=2023-01-01[^"]*format=csv"/)
})

test('CSV download: the rows of the page with the same filters, named by them', async () => {
  const lead = await dpLead()
  const res = await lead.get('/delivery-partner/reports?lead_provider=edt&cohort=2022-autumn&as_of=2024-01-31&format=csv')
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'text/csv; charset=utf-8')
  assert.equal(res.headers['content-disposition'], 'attachment; filename="engagement-edt-2022-autumn-north-star-tsh-2024-01-31.csv"')
  assert.equal(res.headers['cache-control'], 'no-store')
  const records = parse(res.body) as string[][]
  const own = (await expected({ deliveryPartner: 'north-star-tsh' })).sort(byName)
  const table = engagementTable(own.map(engagementRow))
  assert.deepEqual(records[0], [table.columns[0], 'full_name', ...table.columns.slice(1)])
  assert.equal(records.length, own.length + 1)
  const text = (v: string | number | boolean | null) => (v === null ? '' : String(v))
  for (const [i, e] of own.entries()) {
    const record = records[i + 1]!
    assert.equal(record[1], e.fullName)
    assert.equal(record[3], 'north-star-tsh')
    assert.equal(record[7], String(e.engagement.eligibleForAssessment))
    const row = table.rows[i]!
    assert.deepEqual(record, [text(row[0]!), e.fullName, ...row.slice(1).map(text)])
  }
  // The page links to exactly this download.
  const page = await lead.get('/delivery-partner/reports?lead_provider=edt&cohort=2022-autumn&as_of=2024-01-31')
  const link = /<a class="govuk-link" href="([^"]+format=csv)"/.exec(page.body)
  assert.ok(link)
  const linked = await lead.get(link[1]!.replace(/&amp;/g, '&'))
  assert.equal(linked.body, res.body)
})

test('XLSX download of the Declaration report, read back with exceljs', async () => {
  const admin = await lpAdmin()
  const res = await admin.get(
    '/lead-provider/reports?report=declaration&cohort=2022-autumn&course=npq-headship&as_of=2024-01-31&from=2023-06-22&format=xlsx',
  )
  assert.equal(res.statusCode, 200)
  assert.equal(res.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
  assert.equal(
    res.headers['content-disposition'],
    'attachment; filename="declaration-edt-2022-autumn-npq-headship-2023-06-22-to-2024-01-31.xlsx"',
  )
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(res.rawPayload as unknown as ArrayBuffer)
  const sheet = workbook.getWorksheet('Declaration')
  assert.ok(sheet)
  const values = sheet.getSheetValues().slice(1) as unknown[][]
  const rows = values.map((row) => row.slice(1))
  const headship = (await expected({ course: 'npq-headship' })).sort(byName)
  assert.ok(headship.length > 0)
  const table = declarationTable(headship.map((e) => declarationRow(e, '2023-06-22')))
  assert.deepEqual(rows[0], [table.columns[0], 'full_name', ...table.columns.slice(1)])
  assert.deepEqual(
    rows.slice(1),
    table.rows.map((row, i) => [row[0], headship[i]!.fullName, ...row.slice(1)]),
  )
})

test('bad inputs show the error summary and field errors, and no results', async () => {
  const admin = await lpAdmin()
  const cases: [string, string, RegExp][] = [
    ['cohort=2022-autumn&as_of-day=31&as_of-month=2&as_of-year=2023', 'as_of-day', /The report date must be a real date/],
    ['cohort=2022-autumn&as_of-day=31&as_of-month=&as_of-year=2023', 'as_of-month', /The report date must include a month/],
    ['cohort=2022-autumn&as_of=2023-13-01', 'as_of-day', /The report date must be a real date/],
    ['cohort=1999-autumn', 'cohort', /Select a cohort that Education Development Trust runs/],
    ['cohort=2022-autumn&course=npq-made-up', 'course', /Select a course that Education Development Trust runs/],
    ['cohort=2022-autumn&delivery_partner=nowhere-tsh', 'delivery_partner', /Select a delivery partner that works with/],
    ['cohort=2022-autumn&report=payments', 'report', /Select a report/],
    [
      'report=declaration&cohort=2022-autumn&as_of=2023-01-31&from=custom&from_date-day=1&from_date-month=2&from_date-year=2023',
      'from_date-day',
      /must be on or before the report date/,
    ],
    [
      'report=declaration&cohort=2022-autumn&as_of=2023-01-31&from=custom&from_date=2023-06-22',
      'from_date-day',
      /must be on or before the report date/,
    ],
    ['report=declaration&cohort=2022-autumn&from=yesterday', 'from', /Select the date credits are counted from/],
    ['report=declaration&cohort=2022-autumn&from=custom&from_date=2023-02-30', 'from_date-day', /must be a real date/],
    ['report=declaration&cohort=2022-autumn&from=custom', 'from_date-day', /Enter the date credits are counted from/],
  ]
  for (const [query, field, message] of cases) {
    for (const url of [`/lead-provider/reports?${query}`, `/lead-provider/reports?${query}&format=csv`]) {
      const res = await admin.get(url)
      assert.equal(res.statusCode, 400, url)
      assert.match(res.headers['content-type'] as string, /text\/html/, url)
      assert.match(res.body, /<title>Error: Reports/, url)
      assert.match(res.body, /govuk-error-summary/, url)
      assert.match(res.body, new RegExp(`href="#${field}">`), url)
      assert.match(res.body, message, url)
      assert.match(res.body, /govuk-error-message/, url)
      assert.doesNotMatch(res.body, /govuk-table__body/, url)
    }
  }
  // The values typed are kept.
  const kept = await admin.get('/lead-provider/reports?cohort=2022-autumn&as_of-day=31&as_of-month=2&as_of-year=2023')
  assert.match(kept.body, /id="as_of-day" name="as_of-day" type="text" value="31"/)
})

test('the page shows 100 rows at a time, with the count and pagination; the downloads keep every row', async () => {
  // 250 more participants in EDT's 2021-autumn cohort (which no other test here reads): three pages.
  const { db } = services
  const org = async (code: string) =>
    (await db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id
  const [edt, eastCoast, school] = [await org('edt'), await org('east-coast-tsh'), await org('100001')]
  const added = Array.from({ length: 250 }, (_, i) => ({
    id: `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`,
    fullName: `Paged Participant ${String(i + 1).padStart(3, '0')}`,
  }))
  await db
    .insertInto('participants')
    .values(
      added.map((p, i) => ({ id: p.id, full_name: p.fullName, email: `paged.${i}@schools.test`, trn: String(3000001 + i), user_id: null })),
    )
    .execute()
  await db
    .insertInto('enrolments')
    .values(
      added.map((p) => ({
        participant_id: p.id,
        lead_provider_id: edt,
        delivery_partner_id: eastCoast,
        school_id: school,
        course_identifier: 'npq-leading-teaching-development',
        cohort: '2021-autumn',
        school_contract_signed_on: '2021-09-20',
        sponsorship_agreement_signed_on: '2021-09-21',
      })),
    )
    .execute()
  const all = (await expected({ cohort: '2021-autumn' })).sort(byName)
  assert.ok(all.length > 200 && all.length <= 300, `${all.length} rows`)
  const admin = await lpAdmin()
  const base = '/lead-provider/reports?cohort=2021-autumn&as_of=2024-01-31'
  const decode = (href: string) => href.replace(/&amp;/g, '&')
  const paginationLinks = (html: string) => {
    const nav = /<nav class="govuk-pagination"[\s\S]*?<\/nav>/.exec(html)
    assert.ok(nav, 'the pagination component')
    return {
      previous: /<div class="govuk-pagination__prev">\s*<a[^>]*href="([^"]+)"/.exec(nav[0])?.[1],
      next: /<div class="govuk-pagination__next">\s*<a[^>]*href="([^"]+)"/.exec(nav[0])?.[1],
      pages: [
        ...nav[0].matchAll(/<a class="govuk-link govuk-pagination__link" href="([^"]+)" aria-label="Page (\d+)"( aria-current="page")?/g),
      ].map((m) => ({ href: decode(m[1]!), number: Number(m[2]), current: Boolean(m[3]) })),
    }
  }

  // Page 1: the first 100 in the sort, the count, and links to the other pages and the next.
  const first = await admin.get(base)
  assert.equal(first.statusCode, 200)
  assert.deepEqual(
    namesIn(first.body),
    all.slice(0, 100).map((e) => e.fullName),
  )
  assert.match(first.body, new RegExp(`id="report-count">\\s*${all.length} participants`))
  assert.match(first.body, new RegExp(`Showing <strong>1</strong> to <strong>100</strong> of <strong>${all.length}</strong> participants`))
  const links = paginationLinks(first.body)
  assert.equal(links.previous, undefined)
  assert.ok(links.next)
  assert.deepEqual(
    links.pages.map((p) => [p.number, p.current]),
    [
      [1, true],
      [2, false],
      [3, false],
    ],
  )
  // The links keep the filters and the sort; the table is sorted on the server only (not one page in the browser).
  for (const href of [decode(links.next), ...links.pages.map((p) => p.href)]) {
    assert.match(
      href,
      /^\/lead-provider\/reports\?report=engagement&lead_provider=edt&cohort=2021-autumn&as_of=2024-01-31&sort=name&order=ascending&page=\d$/,
    )
  }
  assert.match(first.body, /<table class="govuk-table" id="report-table">/)
  assert.match(first.body, /sortable by any column: page 1 of 3/)

  // Page 2 (the Next link): the next 100.
  const second = await admin.get(decode(links.next))
  assert.equal(second.statusCode, 200)
  assert.deepEqual(
    namesIn(second.body),
    all.slice(100, 200).map((e) => e.fullName),
  )
  assert.match(
    second.body,
    new RegExp(`Showing <strong>101</strong> to <strong>200</strong> of <strong>${all.length}</strong> participants`),
  )
  const secondLinks = paginationLinks(second.body)
  assert.match(decode(secondLinks.previous!), /&page=1$/)
  assert.match(decode(secondLinks.next!), /&page=3$/)
  assert.deepEqual(
    secondLinks.pages.filter((p) => p.current).map((p) => p.number),
    [2],
  )

  // Sorted another way, page 2 is the next 100 in that sort, and the links keep it.
  const byPercent = [...all].sort((a, b) => b.engagement.ratio - a.engagement.ratio || byName(a, b))
  const sortedSecond = await admin.get(`${base}&sort=percent&order=descending&page=2`)
  assert.deepEqual(
    namesIn(sortedSecond.body),
    byPercent.slice(100, 200).map((e) => e.fullName),
  )
  assert.match(decode(paginationLinks(sortedSecond.body).next!), /sort=percent&order=descending&page=3$/)
  // A header link (a new sort) starts again from page 1.
  assert.doesNotMatch(sortedSecond.body, /<th scope="col"[^>]*><a class="govuk-link" href="[^"]*page=/)

  // The last page: the rest, and no Next.
  const third = await admin.get(`${base}&page=3`)
  assert.deepEqual(
    namesIn(third.body),
    all.slice(200).map((e) => e.fullName),
  )
  assert.equal(paginationLinks(third.body).next, undefined)
  assert.match(third.body, new RegExp(`Showing <strong>201</strong> to <strong>${all.length}</strong> of <strong>${all.length}</strong>`))

  // A page past the end shows the last page and says so; a page that is not a number, the first.
  const past = await admin.get(`${base}&page=99`)
  assert.equal(past.statusCode, 200)
  assert.deepEqual(namesIn(past.body), namesIn(third.body))
  assert.match(past.body, /There is no page 99: this report has 3 pages, and this is the last/)
  const huge = await admin.get(`${base}&page=99999999999999999999`)
  assert.equal(huge.statusCode, 200)
  assert.deepEqual(namesIn(huge.body), namesIn(third.body))
  assert.match(huge.body, /There is no page 99999999999999999999: this report has 3 pages/)
  for (const page of ['0', '-1', 'two', '1e3', '']) {
    const res = await admin.get(`${base}&page=${page}`)
    assert.equal(res.statusCode, 200, page)
    assert.deepEqual(namesIn(res.body), namesIn(first.body), page)
    assert.doesNotMatch(res.body, /There is no page/, page)
  }

  // The downloads keep every row, in the sort, whatever the page.
  for (const url of [`${base}&format=csv`, `${base}&format=csv&page=2`]) {
    const csv = await admin.get(url)
    assert.equal(csv.statusCode, 200)
    const records = parse(csv.body) as string[][]
    assert.deepEqual(
      records.slice(1).map((r) => r[0]),
      all.map((e) => e.participantId),
    )
  }
  const link = /<a class="govuk-link" href="([^"]+format=csv)"/.exec(second.body)
  assert.ok(link)
  assert.doesNotMatch(link[1]!, /page=/)
})

test('names are shown on the pages but never written to the log', async () => {
  const names = (await expected({})).map((e) => e.fullName)
  assert.ok(names.length > 0)
  const log = services.logLines.join('\n')
  for (const name of names) assert.ok(!log.includes(name), `${name} is in the log`)
})

test("today's engagement report from the stored figures is the one counted now, sorted either way", async () => {
  const admin = await lpAdmin()
  const lead = await dpLead()
  const cohorts = (await services.db.selectFrom('enrolments').select('cohort').distinct().execute()).map((r) => r.cohort)
  let rows = 0
  for (const cohort of cohorts)
    for (const [agent, path] of [
      [admin, `/lead-provider/reports?report=engagement&lead_provider=edt&cohort=${cohort}`],
      [admin, `/lead-provider/reports?report=engagement&lead_provider=edt&cohort=${cohort}&delivery_partner=north-star-tsh`],
      [lead, `/delivery-partner/reports?report=engagement&lead_provider=edt&cohort=${cohort}`],
    ] as const)
      for (const sort of ['', '&sort=percent&order=descending', '&sort=eligible']) {
        const url = `${path}${sort}&format=csv`
        const stored = await agent.get(url)
        dashboardCache.ttlMs = 0
        try {
          const live = await agent.get(url)
          assert.equal(stored.statusCode, live.statusCode, url)
          assert.equal(stored.body, live.body, url)
          if (stored.statusCode === 200) rows += stored.body.trim().split('\n').length - 1
        } finally {
          dashboardCache.ttlMs = 10 * 60_000
        }
      }
  assert.ok(rows > 0, 'the demo data has engagement to compare')
  assert.ok((await services.db.selectFrom('figure_runs').select('cohort').execute()).length > 0, 'the stored figures were used')
})
