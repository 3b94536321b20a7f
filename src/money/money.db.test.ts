import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { dashboardCache, dashboardClock } from '../dashboards/figures.ts'
import { outputEvaluations } from '../outputs/report.ts'
import { person } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { loadMoney } from './money.ts'
import { currentPrices, priceHistory, setContractPrice } from './prices.ts'
import { ids, loadMoneyCohort, names } from './test-fixtures.ts'

// Loading money figures from the database: prices (append-only, audited), declarations in DfE's
// states, the date each was paid, clawbacks, and projections from output evaluation.

let services: TestServices
let fixture: Awaited<ReturnType<typeof loadMoneyCohort>>
let admin: { kind: 'user'; userId: string; email: string; fullName: string; roles: [] }

before(async () => {
  services = await createTestServices()
  fixture = await loadMoneyCohort(services)
  const userId = await person(services, 'prices@edt.test', 'lead-provider-admin', fixture.leadProviderId)
  admin = { kind: 'user', userId, email: 'prices@edt.test', fullName: 'prices', roles: [] }
})
after(() => services.dispose())

const npqlt = 'npq-leading-teaching'

test('prices: each change is a new row with an audit entry; the newest is the price; the same price again changes nothing', async () => {
  const { db } = services
  const lp = fixture.leadProviderId
  assert.deepEqual(await currentPrices(db, lp), [])
  assert.deepEqual(
    await setContractPrice(db, admin, { leadProviderId: lp, courseIdentifier: npqlt, cohort: '2022-autumn', pricePence: 90_000 }),
    {
      changed: true,
      previousPence: null,
    },
  )
  assert.deepEqual(
    await setContractPrice(db, admin, { leadProviderId: lp, courseIdentifier: npqlt, cohort: '2022-autumn', pricePence: 100_000 }),
    {
      changed: true,
      previousPence: 90_000,
    },
  )
  assert.deepEqual(
    await setContractPrice(db, admin, { leadProviderId: lp, courseIdentifier: npqlt, cohort: '2022-autumn', pricePence: 100_000 }),
    {
      changed: false,
      previousPence: 100_000,
    },
  )
  const current = await currentPrices(db, lp)
  assert.deepEqual(
    current.map((p) => [p.courseIdentifier, p.cohort, p.pricePence, p.recordedByName]),
    [[npqlt, '2022-autumn', 100_000, 'prices']],
  )
  assert.deepEqual(
    (await priceHistory(db, lp, npqlt, '2022-autumn')).map((p) => p.pricePence),
    [100_000, 90_000],
  )
  const audit = await db
    .selectFrom('audit_events')
    .select(['action', 'entity_type', 'before', 'after', 'actor_user_id'])
    .where('action', '=', 'contract-price.set')
    .orderBy('occurred_at')
    .execute()
  assert.equal(audit.length, 2)
  assert.deepEqual(audit[1]!.before, { price_pence: 90_000 })
  assert.equal((audit[1]!.after as { price_pence: number }).price_pence, 100_000)
  assert.equal(audit[1]!.actor_user_id, admin.userId)
  // Rows are kept: the table refuses changes.
  await assert.rejects(db.updateTable('contract_prices').set({ price_pence: 1 }).execute())
  await assert.rejects(
    setContractPrice(db, admin, { leadProviderId: lp, courseIdentifier: npqlt, cohort: '2022-autumn', pricePence: 0 }),
    /Enter a valid price/,
  )
})

test('loadMoney: what can be invoiced, what is expected and what was paid, as of 1 March 2023', async () => {
  const statement = await loadMoney(services, { leadProvider: 'edt', today: '2023-03-01' })
  assert.deepEqual(statement.missingPrices, [])
  // Can invoice now: the started outputs (invoice 16 December 2022), validated and not paid.
  assert.deepEqual(
    statement.invoiceNow.map((r) => [r.line.deliveryPartner, r.line.declarationType, r.declarations.map((d) => d.fullName), r.net.pence]),
    [
      ['east', 'started', [names.dee], 33_333],
      ['north', 'started', [names.ada], 33_333],
    ],
  )
  // Paid: Ben, Cal and Gus on 20 January 2023; the date comes from the state history.
  assert.deepEqual(
    statement.paid.map((r) => [r.deliveryPartner, r.month, r.paid.map((p) => p.declaration.fullName).sort(), r.net.pence]),
    [['north', '2023-01', [names.ben, names.cal, names.gus].sort(), 99_999]],
  )
  assert.ok(statement.paid[0]!.paid.every((p) => p.declaration.paidOn === '2023-01-20'))

  // Expected: retained-1 (invoice 22 July 2023). North: Ada, Ben and Eve met started; Cal did not,
  // Fay has not started, Gus withdrew. Cal's clawback is deducted on North's next invoice: this one.
  const evaluated = await outputEvaluations(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2023-03-01' })
  assert.deepEqual(evaluated.map((e) => [e.fullName, e.outputs[0]!.status]).sort(), [
    [names.ada, 'declared'],
    [names.ben, 'declared'],
    [names.cal, 'not-eligible'],
    [names.dee, 'declared'],
    [names.eve, 'declared'],
    [names.fay, 'not-eligible'],
    [names.gus, 'declared'],
  ])
  assert.deepEqual(
    statement.expected.map((r) => [
      r.month,
      r.line.deliveryPartner,
      r.line.declarationType,
      r.participants.map((p) => `${p.fullName}: ${p.basis}`),
      r.total.pence,
      r.clawbackTotal.pence,
      r.net.pence,
    ]),
    [
      ['2023-07', 'east', 'retained-1', [`${names.dee}: previous-output-met`], 33_333, 0, 33_333],
      [
        '2023-07',
        'north',
        'retained-1',
        [`${names.ada}: previous-output-met`, `${names.ben}: previous-output-met`, `${names.eve}: previous-output-met`],
        99_999,
        33_333,
        66_666,
      ],
    ],
  )
  assert.deepEqual(
    statement.summary.map((s) => [s.deliveryPartner, s.invoiceNow.pence, s.expected.pence, s.paid.pence]),
    [
      ['east', 33_333, 33_333, 0],
      ['north', 33_333, 66_666, 99_999],
    ],
  )
  assert.equal(statement.partnerNames.get('north'), 'North Hub')
})

test('a delivery partner’s figures are its own; filters choose lines without changing them', async () => {
  const east = await loadMoney(services, { leadProvider: 'edt', deliveryPartner: 'east', today: '2023-03-01' })
  assert.ok(east.lines.every((l) => l.deliveryPartner === 'east'))
  assert.deepEqual(
    east.summary.map((s) => [s.deliveryPartner, s.invoiceNow.pence, s.expected.pence, s.paid.pence]),
    [['east', 33_333, 33_333, 0]],
  )
  assert.ok(!JSON.stringify(east.invoiceNow).includes(ids.ada))

  const filtered = await loadMoney(services, { leadProvider: 'edt', cohort: '2022-autumn', course: npqlt, today: '2023-03-01' })
  assert.deepEqual(
    filtered.summary.map((s) => s.expected.pence),
    [33_333, 66_666],
  )
  const otherCohort = await loadMoney(services, { leadProvider: 'edt', cohort: '2022-spring', today: '2023-03-01' })
  assert.deepEqual(otherCohort.lines, [])
  assert.deepEqual(otherCohort.summary, [])
})

test('after the invoice date the clawback is deducted now; once clawed back it shows in the month it was', async () => {
  const july = await loadMoney(services, { leadProvider: 'edt', today: '2023-07-22' })
  const retained = july.invoiceNow.find((r) => r.line.deliveryPartner === 'north' && r.line.declarationType === 'retained-1')!
  assert.deepEqual(
    [retained.declarations.length, retained.clawbacks.map((c) => c.declaration.fullName), retained.net.pence],
    [0, [names.cal], -33_333],
  )

  const cal = await services.db.selectFrom('declarations').select('id').where('participant_id', '=', ids.cal).executeTakeFirstOrThrow()
  await services.db.updateTable('clawbacks').set({ clawed_back_on: '2023-08-04' }).where('declaration_id', '=', cal.id).execute()
  await services.db.updateTable('declarations').set({ state: 'clawed-back' }).where('id', '=', cal.id).execute()
  try {
    const august = await loadMoney(services, { leadProvider: 'edt', today: '2023-08-05' })
    assert.ok(!august.invoiceNow.some((r) => r.clawbacks.length))
    assert.deepEqual(
      august.paid.map((r) => [r.deliveryPartner, r.month, r.paid.length, r.clawedBack.length, r.net.pence]),
      [
        ['north', '2023-01', 3, 0, 99_999],
        ['north', '2023-08', 0, 1, -33_333],
      ],
    )
  } finally {
    await services.db.updateTable('clawbacks').set({ clawed_back_on: null }).where('declaration_id', '=', cal.id).execute()
    await services.db.updateTable('declarations').set({ state: 'awaiting-clawback' }).where('id', '=', cal.id).execute()
  }
})

test('without a price for a course and cohort, the figures say so', async () => {
  await services.db
    .insertInto('participants')
    .values({ id: '00000000-0000-4000-8000-0000000b0099', full_name: 'Hal Incandenza', email: 'hal@school.test', trn: '2009999' })
    .execute()
  const north = await services.db.selectFrom('organisations').select('id').where('code', '=', 'north').executeTakeFirstOrThrow()
  await services.db
    .insertInto('enrolments')
    .values({
      participant_id: '00000000-0000-4000-8000-0000000b0099',
      lead_provider_id: fixture.leadProviderId,
      delivery_partner_id: north.id,
      course_identifier: 'npq-headship',
      cohort: '2022-autumn',
    })
    .execute()
  const statement = await loadMoney(services, { leadProvider: 'edt', today: '2023-03-01' })
  assert.deepEqual(statement.missingPrices, [{ cohort: '2022-autumn', courseIdentifier: 'npq-headship' }])
})

test("today's expected money from the stored figures is the same as from evaluating now", async () => {
  const clock = dashboardClock.now
  const ttl = dashboardCache.ttlMs
  dashboardClock.now = () => new Date('2023-03-01T12:00:00Z')
  dashboardCache.ttlMs = 60_000
  try {
    for (const query of [
      { leadProvider: 'edt', today: '2023-03-01' },
      { leadProvider: 'edt', deliveryPartner: 'east', today: '2023-03-01' },
      { leadProvider: 'edt', cohort: '2022-autumn', course: npqlt, today: '2023-03-01' },
    ]) {
      const live = await loadMoney(services, query)
      const stored = await loadMoney(services, query, services.db, { storedFigures: true })
      assert.ok(live.expected.length > 0)
      assert.ok(stored.outlooksCalculatedAt instanceof Date)
      assert.equal(live.outlooksCalculatedAt, null)
      assert.deepEqual({ ...stored, outlooksCalculatedAt: null }, live)
    }
    const runs = await services.db
      .selectFrom('figure_runs')
      .select(['cohort', sql<string>`as_of::text`.as('as_of')])
      .execute()
    assert.ok(
      runs.some((r) => r.as_of === '2023-03-01'),
      'the stored figures were used (and made)',
    )
  } finally {
    dashboardClock.now = clock
    dashboardCache.ttlMs = ttl
  }
})
