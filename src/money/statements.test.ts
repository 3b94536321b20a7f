import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Catalogue } from '../catalogue/catalogue.ts'
import type { DeclarationType } from '../catalogue/courses.ts'
import type { DeclarationState } from '../db/schema.ts'
import type { OutputStatus } from '../outputs/evaluate.ts'
import {
  canInvoiceNow,
  expectedByMonth,
  nextTwelveMonths,
  paidByMonth,
  projectionBasis,
  statementLines,
  summaryByPartner,
  type EnrolmentOutlook,
  type MoneyDeclaration,
  type StatementInput,
} from './statements.ts'

// Worked examples on EDT's Annex 1 schedule (catalogue/schedules/edt.yaml). Cohort 3 (2022-autumn),
// specialist: started review 24 Nov 2022, invoice 16 Dec 2022, paid on or after 16 Jan 2023;
// retained-1 review 22 Jun 2023, invoice 22 Jul 2023; completed review 22 Feb 2024, invoice 22 Mar 2024.
// Cohort 4 (2022-spring), specialist: started invoice 9 Apr 2023. Price £1,000.00 → £333.33, £333.33, £333.34.

const catalogue = Catalogue.load()
const NPQLT = 'npq-leading-teaching'
const NPQH = 'npq-headship'

let counter = 0
function declaration(overrides: Partial<MoneyDeclaration> & { fullName: string }): MoneyDeclaration {
  counter++
  return {
    id: `d-${counter}`,
    enrolmentId: `e-${overrides.fullName}`,
    participantId: `p-${overrides.fullName}`,
    deliveryPartner: 'north',
    courseIdentifier: NPQLT,
    cohort: '2022-autumn',
    declarationType: 'started',
    declarationDate: '2022-11-10',
    state: 'eligible',
    paidOn: null,
    clawback: null,
    ...overrides,
  }
}

const prices = new Map([
  [`2022-autumn|${NPQLT}`, 100_000],
  [`2022-spring|${NPQLT}`, 100_000],
  [`2022-autumn|${NPQH}`, 200_000],
])
const input = (declarations: MoneyDeclaration[], extra: Partial<StatementInput> = {}): StatementInput => ({
  declarations,
  outputsOf: (cohort, course) => catalogue.cohortOutputs('edt', cohort, course)?.outputs,
  priceOf: (cohort, course) => prices.get(`${cohort}|${course}`) ?? null,
  ...extra,
})

test('a statement line per partner and output: validated declarations × the output’s share, with the schedule’s dates', () => {
  const lines = statementLines(
    input([
      declaration({ fullName: 'Ada', state: 'eligible' }),
      declaration({ fullName: 'Ben', state: 'payable' }),
      declaration({ fullName: 'Cal', state: 'paid', paidOn: '2023-01-20' }),
      declaration({ fullName: 'Dee', state: 'submitted' }),
      declaration({ fullName: 'Eve', state: 'voided' }),
      declaration({ fullName: 'Fay', state: 'ineligible' }),
      declaration({ fullName: 'Gus', state: 'eligible', deliveryPartner: 'east' }),
    ]),
  )
  assert.deepEqual(
    lines.map((l) => [l.deliveryPartner, l.declarationType, l.reviewDate, l.invoiceDate, l.paymentDate, l.sharePence, l.validated.length]),
    [
      ['east', 'started', '2022-11-24', '2022-12-16', '2023-01-16', 33_333, 1],
      ['east', 'retained-1', '2023-06-22', '2023-07-22', '2023-08-22', 33_333, 0],
      ['east', 'completed', '2024-02-22', '2024-03-22', '2024-04-22', 33_334, 0],
      ['north', 'started', '2022-11-24', '2022-12-16', '2023-01-16', 33_333, 3],
      ['north', 'retained-1', '2023-06-22', '2023-07-22', '2023-08-22', 33_333, 0],
      ['north', 'completed', '2024-02-22', '2024-03-22', '2024-04-22', 33_334, 0],
    ],
  )
  assert.deepEqual(
    lines[3]!.validated.map((d) => d.fullName),
    ['Ada', 'Ben', 'Cal'],
  )
  assert.ok(lines.every((l) => l.invoiceDateFrom === 'schedule'))
})

test('can invoice now: lines invoiced on or before today, validated and not yet paid', () => {
  const declarations = [
    declaration({ fullName: 'Ada', state: 'eligible' }),
    declaration({ fullName: 'Ben', state: 'payable' }),
    declaration({ fullName: 'Cal', state: 'paid', paidOn: '2023-01-20' }),
    declaration({ fullName: 'Dee', state: 'submitted' }),
    declaration({ fullName: 'Ada', declarationType: 'retained-1', state: 'eligible', declarationDate: '2023-05-01' }),
  ]
  const lines = statementLines(input(declarations))
  // The day before the started invoice date: nothing yet.
  assert.deepEqual(canInvoiceNow(lines, '2022-12-15'), [])
  const rows = canInvoiceNow(lines, '2022-12-16')
  assert.equal(rows.length, 1)
  const [row] = rows
  assert.equal(row!.line.declarationType, 'started')
  assert.deepEqual(
    row!.declarations.map((d) => d.fullName),
    ['Ada', 'Ben'],
  )
  assert.deepEqual(row!.total, { pence: 66_666, priceMissing: false })
  assert.deepEqual(row!.net, { pence: 66_666, priceMissing: false })
  // By the retained-1 invoice date both lines can be invoiced.
  assert.deepEqual(
    canInvoiceNow(lines, '2023-07-22').map((r) => [r.line.declarationType, r.declarations.length, r.net.pence]),
    [
      ['started', 2, 66_666],
      ['retained-1', 1, 33_333],
    ],
  )
})

test('a clawback is deducted on the partner’s next invoice after it was raised, then counted when clawed back', () => {
  const clawedBack = declaration({
    fullName: 'Hal',
    state: 'awaiting-clawback',
    paidOn: '2023-01-20',
    clawback: { raisedOn: '2023-02-01', clawedBackOn: null },
  })
  const declarations = [
    clawedBack,
    declaration({ fullName: 'Ada', state: 'paid', paidOn: '2023-01-20' }),
    declaration({ fullName: 'Ada', declarationType: 'retained-1', state: 'eligible', declarationDate: '2023-06-01' }),
    declaration({ fullName: 'Ben', declarationType: 'retained-1', state: 'eligible', declarationDate: '2023-06-01' }),
  ]
  const lines = statementLines(input(declarations))
  const retained = lines.find((l) => l.declarationType === 'retained-1')!
  assert.deepEqual(
    retained.clawbacks.map((c) => [c.declaration.fullName, c.amountPence, c.settled]),
    [['Hal', 33_333, false]],
  )

  // Before the invoice it is expected there: two retained-1 declarations less Hal's started share.
  const expected = expectedByMonth(lines, [], '2023-03-01')
  assert.deepEqual(
    expected.map((r) => [r.month, r.line.declarationType, r.participants.length, r.total.pence, r.clawbackTotal.pence, r.net.pence]),
    [['2023-07', 'retained-1', 2, 66_666, 33_333, 33_333]],
  )
  // On the invoice date it can be invoiced: £666.66 − £333.33.
  const now = canInvoiceNow(lines, '2023-07-22')
  assert.deepEqual(
    now.map((r) => [r.line.declarationType, r.declarations.length, r.total.pence, r.clawbackTotal.pence, r.net.pence]),
    [['retained-1', 2, 66_666, 33_333, 33_333]],
  )
  // Paid: Ada and Hal in January; nothing clawed back yet.
  assert.deepEqual(
    paidByMonth(lines).map((r) => [r.deliveryPartner, r.month, r.paid.length, r.paidTotal.pence, r.clawedBackTotal.pence, r.net.pence]),
    [['north', '2023-01', 2, 66_666, 0, 66_666]],
  )

  // Once clawed back (recorded 25 July) it leaves the invoice and shows as a deduction in July's payments.
  const settled = statementLines(
    input([
      { ...clawedBack, state: 'clawed-back', clawback: { raisedOn: '2023-02-01', clawedBackOn: '2023-07-25' } },
      ...declarations.slice(1),
    ]),
  )
  assert.deepEqual(
    canInvoiceNow(settled, '2023-07-26').map((r) => [r.line.declarationType, r.clawbackTotal.pence, r.net.pence]),
    [['retained-1', 0, 66_666]],
  )
  assert.deepEqual(
    paidByMonth(settled).map((r) => [r.month, r.paidTotal.pence, r.clawedBackTotal.pence, r.net.pence]),
    [
      ['2023-01', 66_666, 0, 66_666],
      ['2023-07', 0, 33_333, -33_333],
    ],
  )
})

test('the next invoice may be another cohort’s; with none left, the clawback falls on the output it was paid for', () => {
  const hal = declaration({
    fullName: 'Hal',
    state: 'awaiting-clawback',
    paidOn: '2023-01-20',
    clawback: { raisedOn: '2023-02-01', clawedBackOn: null },
  })
  // North also runs cohort 4 (2022-spring), whose started invoice (9 April 2023) comes before cohort 3's retained-1 (22 July).
  const lines = statementLines(input([hal], { programmes: [{ deliveryPartner: 'north', cohort: '2022-spring', courseIdentifier: NPQLT }] }))
  const withClawback = lines.filter((l) => l.clawbacks.length)
  assert.deepEqual(
    withClawback.map((l) => [l.cohort, l.declarationType, l.invoiceDate]),
    [['2022-spring', 'started', '2023-04-09']],
  )
  assert.deepEqual(
    canInvoiceNow(lines, '2023-04-09').map((r) => [r.line.cohort, r.declarations.length, r.net.pence]),
    [['2022-spring', 0, -33_333]],
  )
  // Another partner's invoices never take it.
  const other = statementLines(input([hal], { programmes: [{ deliveryPartner: 'east', cohort: '2022-spring', courseIdentifier: NPQLT }] }))
  assert.equal(other.find((l) => l.clawbacks.length)!.declarationType, 'retained-1')

  const late = { ...hal, clawback: { raisedOn: '2024-05-01', clawedBackOn: null } }
  const lastLines = statementLines(input([late]))
  const own = lastLines.find((l) => l.clawbacks.length)!
  assert.equal(own.declarationType, 'started')
  assert.deepEqual(
    canInvoiceNow(lastLines, '2024-05-02').map((r) => [r.line.declarationType, r.net.pence]),
    [['started', -33_333]],
  )
})

test('without a price the amounts are unknown, and totals say so', () => {
  const lines = statementLines(input([declaration({ fullName: 'Ada', cohort: '2021-autumn' })]))
  const rows = canInvoiceNow(lines, '2024-01-01')
  assert.equal(rows.length, 1)
  assert.equal(rows[0]!.line.sharePence, null)
  assert.deepEqual(rows[0]!.total, { pence: 0, priceMissing: true })
  assert.deepEqual(summaryByPartner(rows, [], [])[0]!.invoiceNow, { pence: 0, priceMissing: true })
})

test('leadership outputs are quarters; DfE schedules (no invoice date) invoice on the review date', () => {
  const lines = statementLines(input([declaration({ fullName: 'Ada', courseIdentifier: NPQH })]))
  assert.deepEqual(
    lines.map((l) => [l.declarationType, l.sharePence]),
    [
      ['started', 50_000],
      ['retained-1', 50_000],
      ['retained-2', 50_000],
      ['completed', 50_000],
    ],
  )
  const ucl = statementLines({
    declarations: [declaration({ fullName: 'Ada', cohort: '2023-autumn' })],
    outputsOf: (cohort, course) => catalogue.cohortOutputs('ucl', cohort, course)?.outputs,
    priceOf: () => 90_000,
  })
  const started = ucl.find((l) => l.declarationType === 'started')!
  assert.equal(started.invoiceDateFrom, 'review-date')
  assert.equal(started.invoiceDate, started.reviewDate)
  assert.deepEqual(
    ucl.map((l) => l.sharePence),
    [30_000, 30_000, 30_000],
  )
})

const outlook = (name: string, statuses: OutputStatus[], overrides: Partial<EnrolmentOutlook> = {}): EnrolmentOutlook => ({
  enrolmentId: `e-${name}`,
  participantId: `p-${name}`,
  fullName: name,
  deliveryPartner: 'north',
  cohort: '2022-autumn',
  courseIdentifier: NPQLT,
  active: true,
  outputs: (['started', 'retained-1', 'completed'] as DeclarationType[]).map((declarationType, i) => ({
    declarationType,
    status: statuses[i] ?? 'not-eligible',
  })),
  ...overrides,
})

test('projection: active participants count for the next output after the last one they met', () => {
  const metStarted = outlook('Ada', ['declared', 'not-eligible', 'blocked'])
  assert.equal(projectionBasis(metStarted, 'started'), 'declared')
  assert.equal(projectionBasis(metStarted, 'retained-1'), 'previous-output-met')
  assert.equal(projectionBasis(metStarted, 'completed'), null) // two outputs ahead: not projected
  assert.equal(projectionBasis(outlook('Ben', ['eligible', 'eligible']), 'retained-1'), 'eligible')
  assert.equal(projectionBasis(outlook('Cal', ['not-eligible']), 'started'), 'enrolled')
  assert.equal(projectionBasis(outlook('Cal', ['not-eligible']), 'retained-1'), null)
  assert.equal(projectionBasis(outlook('Dee', ['blocked', 'blocked']), 'retained-1'), null)
  assert.equal(projectionBasis(outlook('Eve', ['declared', 'eligible'], { active: false }), 'retained-1'), null)
})

test('expected by month: projected participants × share for invoice dates in the next twelve months', () => {
  const declarations = [
    declaration({ fullName: 'Ada', state: 'paid', paidOn: '2023-01-20' }),
    declaration({ fullName: 'Ben', state: 'paid', paidOn: '2023-01-20' }),
    declaration({ fullName: 'Cal', state: 'paid', paidOn: '2023-01-20' }),
    declaration({ fullName: 'Ben', declarationType: 'retained-1', state: 'eligible', declarationDate: '2023-02-01' }),
    declaration({ fullName: 'Eve', state: 'paid', paidOn: '2023-01-20' }),
  ]
  const outlooks = [
    outlook('Ada', ['declared', 'not-eligible']),
    outlook('Ben', ['declared', 'declared']),
    outlook('Cal', ['declared', 'not-eligible'], { active: false }), // withdrawn
    outlook('Dee', ['not-eligible', 'blocked']), // not started: expected for started only, which is already invoiced
    outlook('Eve', ['declared', 'eligible'], { deliveryPartner: 'east' }), // moved partner: projected under east
  ]
  const lines = statementLines(input(declarations, { programmes: outlooks }))
  const rows = expectedByMonth(lines, outlooks, '2023-03-01')
  assert.deepEqual(
    rows.map((r) => [
      r.month,
      r.line.deliveryPartner,
      r.line.declarationType,
      // In no particular order (a line's page sorts them).
      r.participants
        .map((p) => `${p.fullName}:${p.basis}`)
        .sort()
        .join(' '),
      r.total.pence,
    ]),
    [
      ['2023-07', 'east', 'retained-1', 'Eve:eligible', 33_333],
      ['2023-07', 'north', 'retained-1', 'Ada:previous-output-met Ben:validated', 66_666],
    ],
  )
  // The window is this month and the next eleven: completed (invoice 22 March 2024) is in it from April 2023.
  assert.deepEqual(nextTwelveMonths('2023-04-15'), [
    '2023-04',
    '2023-05',
    '2023-06',
    '2023-07',
    '2023-08',
    '2023-09',
    '2023-10',
    '2023-11',
    '2023-12',
    '2024-01',
    '2024-02',
    '2024-03',
  ])
  const later = expectedByMonth(lines, outlooks, '2023-04-15')
  assert.deepEqual(
    later.map((r) => [
      r.month,
      r.line.deliveryPartner,
      r.line.declarationType,
      r.participants
        .map((p) => `${p.fullName}:${p.basis}`)
        .sort()
        .join(' '),
    ]),
    [
      ['2023-07', 'east', 'retained-1', 'Eve:eligible'],
      ['2023-07', 'north', 'retained-1', 'Ada:previous-output-met Ben:validated'],
      ['2024-03', 'east', 'completed', 'Eve:previous-output-met'],
      ['2024-03', 'north', 'completed', 'Ben:previous-output-met'],
    ],
  )
  assert.equal(later.at(-1)!.total.pence, 33_334)
  // On its invoice date a line can be invoiced now: it is no longer expected.
  assert.deepEqual(
    expectedByMonth(lines, outlooks, '2023-07-22').map((r) => r.line.declarationType),
    ['completed', 'completed'],
  )
})

test('the summary per partner adds up invoice now, expected and paid', () => {
  const declarations = [
    declaration({ fullName: 'Ada', state: 'paid', paidOn: '2023-01-20' }),
    declaration({ fullName: 'Ben', state: 'eligible' }),
    declaration({ fullName: 'Cal', declarationType: 'retained-1', state: 'eligible' }),
  ]
  const outlooks = [outlook('Ada', ['declared', 'eligible'])]
  const lines = statementLines(input(declarations, { programmes: outlooks }))
  const today = '2023-03-01'
  const summary = summaryByPartner(canInvoiceNow(lines, today), expectedByMonth(lines, outlooks, today), paidByMonth(lines))
  assert.deepEqual(summary, [
    {
      deliveryPartner: 'north',
      invoiceNow: { pence: 33_333, priceMissing: false },
      expected: { pence: 66_666, priceMissing: false },
      paid: { pence: 33_333, priceMissing: false },
    },
  ])
})

test('states: only eligible, payable and paid (and those clawed back since) are validated', () => {
  const states: DeclarationState[] = [
    'submitted',
    'eligible',
    'payable',
    'paid',
    'voided',
    'ineligible',
    'awaiting-clawback',
    'clawed-back',
  ]
  const lines = statementLines(input(states.map((state) => declaration({ fullName: state, state, paidOn: '2023-01-20' }))))
  assert.deepEqual(
    lines[0]!.validated.map((d) => d.state),
    ['eligible', 'payable', 'paid', 'awaiting-clawback', 'clawed-back'],
  )
  assert.deepEqual(
    canInvoiceNow(lines, '2023-01-01')[0]!.declarations.map((d) => d.state),
    ['eligible', 'payable'],
  )
})
