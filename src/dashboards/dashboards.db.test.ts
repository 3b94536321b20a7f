import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { londonDateOf } from '../dates/london.ts'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import { organisation, partnership, person } from '../test-support/fixtures.ts'
import type { TestServices } from '../test-support/services.ts'
import { figureJobDefinitions, loadStoredFigures, refreshFigures, storedUnits } from './figure-store.ts'
import {
  clearDashboardCache,
  computeFigures,
  figuresOf,
  dashboardCache,
  declarationCounts,
  eventsNeedingRegisters,
  statusCounts,
} from './figures.ts'

// The dashboards on the demo data, on PGlite and PostgreSQL: the live counts are the database's own
// aggregates (checked against plain queries), a past event without entries needs a register until one
// is recorded, the figures agree with the engagement engine, and nobody sees another organisation's
// participants (another delivery partner's lead, another lead provider's admin).

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
  dashboardCache.ttlMs = 0
})
after(() => close())

const as = async (email: string, password = demoPassword) => {
  const agent = new Agent(app)
  await agent.signIn(email, password)
  return agent
}
const orgId = async (kind: 'lead-provider' | 'delivery-partner', code: string) =>
  (await services.db.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow())
    .id
const priya = () =>
  services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'e.participant_id', 'e.cohort', 'e.course_identifier', 'e.lead_provider_id', 'e.delivery_partner_id'])
    .where('p.email', '=', 'participant@demo.test')
    .orderBy('e.course_identifier')
    .execute()

test('status counts and declaration counts are the database aggregates of the scope', async () => {
  const edt = await orgId('lead-provider', 'edt')
  const northStar = await orgId('delivery-partner', 'north-star-tsh')
  const counts = await statusCounts(services.db, { leadProviderIds: [edt], deliveryPartnerId: northStar })
  const plain = await services.db
    .selectFrom('enrolments')
    .select(['status', 'cohort', 'course_identifier'])
    .where('lead_provider_id', '=', edt)
    .where('delivery_partner_id', '=', northStar)
    .execute()
  assert.ok(plain.length > 0)
  assert.equal(
    counts.reduce((n, c) => n + c.n, 0),
    plain.length,
  )
  for (const c of counts) {
    assert.equal(
      c.n,
      plain.filter((p) => p.status === c.status && p.cohort === c.cohort && p.course_identifier === c.courseIdentifier).length,
    )
  }
  const declarations = await declarationCounts(services.db, { leadProviderIds: [edt] })
  const all = await services.db.selectFrom('declarations').select(['state']).where('lead_provider_id', '=', edt).execute()
  assert.equal(
    declarations.reduce((n, d) => n + d.n, 0),
    all.length,
  )
  assert.deepEqual(await statusCounts(services.db, { leadProviderIds: [] }), [])
})

test('a past event without a register needs one until an entry is recorded', async () => {
  const [e] = await priya()
  const edt = await orgId('lead-provider', 'edt')
  const ends = new Date(Date.now() - 2 * 86_400_000)
  const ev = await services.db
    .insertInto('events')
    .values({
      event_ref: `dash-test-${Date.now()}`,
      lead_provider_id: edt,
      delivery_partner_id: e!.delivery_partner_id,
      course_identifier: e!.course_identifier,
      cohort: e!.cohort,
      activity_code: null,
      kind: 'f2f',
      title: 'Dashboard test workshop',
      starts_at: new Date(ends.getTime() - 3_600_000),
      ends_at: ends,
      starts_on: londonDateOf(ends),
      capacity: 30,
    } as never)
    .returning('id')
    .executeTakeFirstOrThrow()
  const filter = { leadProviderIds: [edt], deliveryPartnerId: e!.delivery_partner_id! }
  const before = await eventsNeedingRegisters(services.db, filter, new Date())
  assert.ok(before.events.some((x) => x.id === ev.id))
  assert.equal(before.total >= 1, true)
  // Not yet over: not listed.
  assert.ok(!(await eventsNeedingRegisters(services.db, filter, new Date(ends.getTime() - 60_000))).events.some((x) => x.id === ev.id))
  const dp = await as('delivery-partner-lead@demo.test')
  assert.match((await dp.get('/delivery-partner/dashboard')).body, /Dashboard test workshop/)
  await services.db
    .insertInto('register_entries')
    .values({ event_id: ev.id, participant_id: e!.participant_id, status: 'attended' } as never)
    .execute()
  const after = await eventsNeedingRegisters(services.db, filter, new Date())
  assert.ok(!after.events.some((x) => x.id === ev.id))
  assert.equal(after.total, before.total - 1)
})

test('figures agree with the engagement engine and give a projection and a deadline', async () => {
  const enrolments = await priya()
  const today = londonDateOf(new Date())
  let withDesign = 0
  for (const e of enrolments) {
    // A course without a design in the cohort (the demo's EHCO) has no engagement figures.
    if (!(await services.designs.designForCohort('edt', e.course_identifier, e.cohort))) continue
    withDesign++
    const figures = await computeFigures(services, { leadProvider: 'edt', cohort: e.cohort, participantIds: [e.participant_id] }, today)
    const f = figures.find((x) => x.enrolmentId === e.id)
    assert.ok(f, `figures for ${e.course_identifier}`)
    const report = (await import('../reports/engagement-reports.ts')).engagementReport
    const [row] = await report(services, {
      leadProvider: 'edt',
      cohort: e.cohort,
      course: e.course_identifier,
      asOf: today,
      participantIds: [e.participant_id],
    })
    assert.equal(f.percent, row!.engagement_percent)
    assert.ok(f.outputs.length > 0)
  }
  assert.ok(withDesign > 0)
  // An unknown cohort is no figures, not an error.
  assert.deepEqual(await computeFigures(services, { leadProvider: 'edt', cohort: '1999-autumn' }, today), [])
})

test('the delivery partner dashboard and a participant page; another partner and another provider are refused', async () => {
  const [e] = await priya()
  const dp = await as('delivery-partner-lead@demo.test')
  const page = await dp.get('/delivery-partner/dashboard')
  assert.equal(page.statusCode, 200)
  for (const text of [
    'Participants by status',
    'Engagement distribution',
    'At risk',
    'Events needing registers',
    'How we work out who is at risk',
  ])
    assert.ok(page.body.includes(text), text)
  assert.match(page.body, /<svg aria-hidden="true"/)
  const filtered = await dp.get(`/delivery-partner/dashboard?cohort=${e!.cohort}&course=${e!.course_identifier}`)
  assert.equal(filtered.statusCode, 200)
  assert.match(filtered.body, new RegExp(`<option value="${e!.cohort}" selected`))

  const own = await dp.get(`/delivery-partner/participants/${e!.id}`)
  assert.equal(own.statusCode, 200)
  for (const text of ['Priya Patel', 'Engagement by block', 'Outputs', 'Registers', 'Meetings', 'Escalation', 'Timeline'])
    assert.ok(own.body.includes(text), text)
  assert.equal((await dp.get('/delivery-partner/participants/not-an-id')).statusCode, 404)

  // Another delivery partner of the same lead provider: its lead sees neither Priya nor her events.
  const edt = await orgId('lead-provider', 'edt')
  const other = await organisation(services.db, 'delivery-partner', 'dash-other-dp', 'Other Hub')
  await partnership(services.db, edt, other)
  await person(services, 'other-dp-lead@dash.test', 'delivery-partner-lead', other)
  const otherLead = await as('other-dp-lead@dash.test', 'a long test password')
  assert.equal((await otherLead.get(`/delivery-partner/participants/${e!.id}`)).statusCode, 404)
  const theirs = await otherLead.get('/delivery-partner/dashboard')
  assert.equal(theirs.statusCode, 200)
  assert.ok(!theirs.body.includes('Priya Patel'))
  assert.ok(!theirs.body.includes('Dashboard test workshop'))

  // Another lead provider's admin.
  const otherLp = await organisation(services.db, 'lead-provider', 'dash-other-lp', 'Other Provider')
  await person(services, 'other-lp-admin@dash.test', 'lead-provider-admin', otherLp)
  const otherAdmin = await as('other-lp-admin@dash.test', 'a long test password')
  assert.equal((await otherAdmin.get(`/lead-provider/participants/${e!.id}`)).statusCode, 404)
  // The wrong role for the area.
  assert.equal((await dp.get('/lead-provider/dashboard')).statusCode, 403)
  assert.equal((await dp.get(`/lead-provider/participants/${e!.id}`)).statusCode, 403)
  const participant = await as('participant@demo.test')
  assert.equal((await participant.get('/delivery-partner/dashboard')).statusCode, 403)
})

test('the lead provider dashboard: comparison, outputs by review date, declarations, money', async () => {
  const [e] = await priya()
  const admin = await as('lead-provider-admin@demo.test')
  const page = await admin.get('/lead-provider/dashboard')
  assert.equal(page.statusCode, 200)
  for (const text of [
    'Delivery partners compared',
    'North Star',
    'Outputs due by review date',
    'Declarations',
    'Money',
    'Expected in the next 12 months',
  ])
    assert.ok(page.body.includes(text), text)
  const byPartner = await admin.get('/lead-provider/dashboard?partner=north-star-tsh')
  assert.equal(byPartner.statusCode, 200)
  const own = await admin.get(`/lead-provider/participants/${e!.id}`)
  assert.equal(own.statusCode, 200)
  assert.match(own.body, /Priya Patel/)
  // The cache serves the same figures until cleared.
  dashboardCache.ttlMs = 60_000
  try {
    const first = await admin.get('/lead-provider/dashboard')
    const second = await admin.get('/lead-provider/dashboard')
    const calculated = (html: string) => /calculated at ([^.]*)\./.exec(html)?.[1]
    assert.equal(calculated(first.body), calculated(second.body))
  } finally {
    dashboardCache.ttlMs = 0
    clearDashboardCache(services)
  }
})

test('stored figures: computed once for the day, read by every process, recomputed by the job when old', async () => {
  await services.db.deleteFrom('enrolment_figures').execute()
  await services.db.deleteFrom('figure_runs').execute()
  const admin = await as('lead-provider-admin@demo.test')
  const today = londonDateOf(new Date())
  const edt = await orgId('lead-provider', 'edt')
  dashboardCache.ttlMs = 60_000
  try {
    const first = await admin.get('/lead-provider/dashboard')
    assert.equal(first.statusCode, 200)
    const runs = await services.db.selectFrom('figure_runs').selectAll().where('lead_provider_id', '=', edt).execute()
    assert.ok(runs.length > 0, 'the first view stores the cohorts it shows')
    const unit = { leadProviderId: edt, leadProvider: 'edt', cohort: runs.find((r) => r.enrolments > 0)!.cohort }
    // What is stored is what the engine says now.
    const live = await computeFigures(services, { leadProvider: 'edt', cohort: unit.cohort }, today)
    const stored = await loadStoredFigures(services.db, unit)
    const essentials = (fs: typeof live) =>
      fs
        .map((f) => ({
          enrolmentId: f.enrolmentId,
          fullName: f.fullName,
          deliveryPartner: f.deliveryPartner,
          ratio: f.ratio,
          percent: f.percent,
          active: f.active,
          deadline: f.deadline,
          projectedPercent: f.projectedPercent,
          risks: f.risks,
          outputs: f.outputs.map((o) => [o.declarationType, o.reviewDate, o.status, o.evidence, o.evidenceOn]),
        }))
        .sort((a, b) => a.enrolmentId.localeCompare(b.enrolmentId))
    assert.ok(stored.length > 0)
    assert.deepEqual(essentials(stored), essentials(live))
    // Another process (nothing in memory) shows the same calculation.
    clearDashboardCache(services)
    const second = await admin.get('/lead-provider/dashboard')
    const calculated = (html: string) => /calculated at ([^.]*)\./.exec(html)?.[1]
    assert.ok(calculated(first.body))
    assert.equal(calculated(second.body), calculated(first.body))
    // The job computes the cohorts nobody has looked at, leaves fresh figures alone and recomputes old ones.
    const others = await refreshFigures(services)
    const looked = new Set(runs.map((r) => `${r.lead_provider_id}/${r.cohort}`))
    const units = await storedUnits(services.db)
    assert.equal(others.length, units.filter((u) => !looked.has(`${u.leadProviderId}/${u.cohort}`)).length)
    assert.deepEqual(await refreshFigures(services), [])
    const timesOf = () =>
      services.db.selectFrom('figure_runs').select('computed_at').where('lead_provider_id', '=', edt).where('enrolments', '>', 0).execute()
    const before = await timesOf()
    const later = new Date(Date.now() + 11 * 60_000)
    const refreshed = await refreshFigures(services, later)
    assert.equal(refreshed.length, units.length)
    const after = await timesOf()
    assert.ok(Math.min(...after.map((r) => +r.computed_at)) > Math.max(...before.map((r) => +r.computed_at)))
    // A process that has read figures shows them while it reads a newer calculation in the background.
    const unitOf = { leadProvider: 'edt', cohort: unit.cohort }
    clearDashboardCache(services)
    const shownBefore = (await figuresOf(services, [unitOf], today)).computedAt!
    await refreshFigures(services, new Date(Date.now() + 22 * 60_000), 0, edt)
    assert.equal(+(await figuresOf(services, [unitOf], today)).computedAt!, +shownBefore, 'the figures in hand, at once')
    let shown = shownBefore
    for (let i = 0; i < 50 && +shown === +shownBefore; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100))
      shown = (await figuresOf(services, [unitOf], today)).computedAt!
    }
    assert.ok(shown > shownBefore, 'then the newer calculation')
    // Sent after an import, the job recomputes that provider's cohorts however fresh they are, and only those.
    const [job] = figureJobDefinitions(() => services)
    const runsAt = async () =>
      new Map(
        (await services.db.selectFrom('figure_runs').select(['lead_provider_id', 'cohort', 'computed_at']).execute()).map((r) => [
          `${r.lead_provider_id}/${r.cohort}`,
          +r.computed_at,
        ]),
      )
    const was = await runsAt()
    await job!.handler({ changed: { leadProviderId: edt } })
    const now = await runsAt()
    for (const u of units) {
      const k = `${u.leadProviderId}/${u.cohort}`
      assert.equal(now.get(k)! > was.get(k)!, u.leadProviderId === edt, k)
    }
  } finally {
    dashboardCache.ttlMs = 0
    clearDashboardCache(services)
  }
})

test('migration 0023 makes the dashboard indexes (and may run again)', async () => {
  const { up } = await import('../db/migrations/0023_dashboard_indexes.ts')
  await up(services.db as never)
  await up(services.db as never)
  const { rows } = await sql<{ indexname: string }>`
    select indexname from pg_indexes
    where indexname in ('register_entries_event', 'enrolments_dashboard_status', 'events_register_pending') order by indexname`.execute(
    services.db,
  )
  assert.deepEqual(
    rows.map((r) => r.indexname),
    ['enrolments_dashboard_status', 'events_register_pending', 'register_entries_event'],
  )
})
