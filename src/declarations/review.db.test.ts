import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { DeclarationType } from '../catalogue/courses.ts'
import { clearDashboardCache, dashboardCache } from '../dashboards/figures.ts'
import { londonDateOf } from '../dates/london.ts'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'
import { liveReview, storedReview, type Review, type ReviewFilters } from './review.ts'

// The declarations review for today reads the stored figures: it lists exactly what evaluating live
// lists (every cohort and output of the demo provider, whole and a page at a time), a declaration
// made since shows as declared at once, and "Declare all" declares everyone eligible beyond the list.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
  dashboardCache.ttlMs = 10 * 60_000
})
after(async () => {
  clearDashboardCache(services)
  await close()
})

const types: DeclarationType[] = ['started', 'retained-1', 'retained-2', 'completed']
const whole = { eligibleLimit: 1000, othersOffset: 0, othersLimit: 1000 }
const plain = (r: Review) => ({ ...r, computedAt: null })

async function edt() {
  return services.db.selectFrom('organisations').select(['id', 'code']).where('code', '=', 'edt').executeTakeFirstOrThrow()
}

test('stored and live reviews list the same participants, whole and paged', async () => {
  const lp = await edt()
  const today = londonDateOf(new Date())
  const cohorts = (
    await services.db.selectFrom('enrolments').select('cohort').distinct().where('lead_provider_id', '=', lp.id).execute()
  ).map((r) => r.cohort)
  let compared = 0
  for (const cohort of cohorts)
    for (const type of types) {
      const f: ReviewFilters = { cohort, course: '', deliveryPartner: '', type, asOf: today }
      const stored = await storedReview(services, lp, f, whole)
      assert.ok(stored.computedAt, 'stored figures say when they were calculated')
      assert.deepEqual(plain(stored), plain(await liveReview(services, lp, f, whole)), `${cohort} ${type}`)
      const paged = { eligibleLimit: 1, othersOffset: 1, othersLimit: 1 }
      assert.deepEqual(
        plain(await storedReview(services, lp, f, paged)),
        plain(await liveReview(services, lp, f, paged)),
        `${cohort} ${type} paged`,
      )
      compared += stored.eligibleTotal + stored.othersTotal
    }
  assert.ok(compared > 0, 'the demo data has participants to compare')
})

test('a declaration shows at once; "Declare all" declares everyone eligible', async () => {
  const lp = await edt()
  const today = londonDateOf(new Date())
  const cohorts = (
    await services.db.selectFrom('enrolments').select('cohort').distinct().where('lead_provider_id', '=', lp.id).execute()
  ).map((r) => r.cohort)
  let found: ReviewFilters | undefined
  for (const cohort of cohorts)
    for (const type of types) {
      const f = { cohort, course: '', deliveryPartner: '', type, asOf: today }
      if (!found && (await liveReview(services, lp, f, whole)).eligibleTotal > 0) found = f
    }
  assert.ok(found, 'someone in the demo data is eligible for an output')
  const before = await storedReview(services, lp, found, whole)
  const admin = new Agent(app)
  await admin.signIn('lead-provider-admin@demo.test', demoPassword)
  const page = `/lead-provider/declarations?cohort=${found.cohort}&type=${found.type}`
  const shown = await admin.get(page)
  assert.equal(shown.statusCode, 200)
  assert.match(shown.body, new RegExp(`Eligible \\(${before.eligibleTotal}\\)`))
  assert.match(shown.body, /Figures calculated at/)
  const res = await admin.post(
    '/lead-provider/declarations',
    {
      cohort: found.cohort,
      type: found.type,
      as_of: today,
      course: '',
      delivery_partner: '',
      all: 'yes',
      request_key: crypto.randomUUID(),
    },
    { csrfFrom: page },
  )
  assert.equal(res.statusCode, 200, res.body.slice(0, 500))
  const made = await services.db
    .selectFrom('declarations')
    .select('participant_id')
    .where('lead_provider_id', '=', lp.id)
    .where('cohort', '=', found.cohort)
    .where('declaration_type', '=', found.type)
    .execute()
  assert.deepEqual(new Set(made.map((m) => m.participant_id)), new Set(before.eligible.map((r) => r.participantId)))
  // The stored figures are those of before the declarations; the page shows them declared all the same.
  const afterwards = await storedReview(services, lp, found, whole)
  assert.equal(+afterwards.computedAt!, +before.computedAt!)
  assert.equal(afterwards.eligibleTotal, 0)
  for (const r of before.eligible) assert.equal(afterwards.others.find((o) => o.enrolmentId === r.enrolmentId)?.status, 'declared')
  assert.match((await admin.get(page)).body, /Eligible \(0\)/)
})
