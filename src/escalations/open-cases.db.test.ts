import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import ExcelJS from 'exceljs'
import { dashboardCache, dashboardClock } from '../dashboards/figures.ts'
import { escalations } from '../outputs/report.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { loadCase, logContactAttempt } from './cases.ts'
import { halfTermById } from './half-terms.ts'
import { escalationCasesJobName, escalationJobDefinitions, openEscalationCases } from './open-cases.ts'
import { packXlsx, partnershipPack } from './pack.ts'
import { caseOf, emails, escalationWorld, ids, type EscalationWorld } from './test-fixtures.ts'

// The daily escalation job, run for dates in EDT's 2022-autumn NPQLT cohort (`started` reviewed on
// 2022-11-24; the 3-week encourage window ends 2022-12-15): cases open the day after the review date,
// once; the partner's leads get one email per run; a case closes when the output is met late or the
// participant defers; and the partnership pack built from the same facts.

let services: TestServices
let world: EscalationWorld
before(async () => {
  services = await createTestServices()
  world = await escalationWorld(services)
})
after(() => services.dispose())

const run = (asOf: string) => openEscalationCases(services, asOf)
const casesCount = async () =>
  Number(
    (
      await services.db
        .selectFrom('escalation_cases')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
const emailsTo = (address: string) =>
  services.db.selectFrom('email_outbox').select(['subject', 'body']).where('to_address', '=', address).orderBy('created_at').execute()
const stagesOf = async (caseId: string) =>
  (
    await services.db
      .selectFrom('escalation_actions')
      .select('notes')
      .where('case_id', '=', caseId)
      .where('kind', '=', 'stage-changed')
      .orderBy('recorded_at')
      .execute()
  ).map((a) => a.notes)

test('the job is scheduled daily at 06:00 London and takes the date from its data for a manual run', () => {
  const [job] = escalationJobDefinitions(services)
  assert.equal(job!.name, escalationCasesJobName)
  assert.equal(job!.schedule, '0 6 * * *')
  assert.deepEqual(job!.schema.parse({}), {})
  assert.deepEqual(job!.schema.parse({ asOf: '2022-11-25' }), { asOf: '2022-11-25' })
  assert.throws(() => job!.schema.parse({ asOf: '25/11/2022' }))
})

test('nothing opens on the review date; the day after, one case per escalation, and the leads are emailed once', async () => {
  assert.deepEqual(await run('2022-11-24'), { opened: 0, reopened: 0, closed: 0, stageChanges: 0, emails: 0 })
  assert.equal(await casesCount(), 0)

  assert.deepEqual(await run('2022-11-25'), { opened: 3, reopened: 0, closed: 0, stageChanges: 3, emails: 2 })
  const ana = await caseOf(services, ids.ana)
  assert.equal(ana.review_date, '2022-11-24')
  assert.equal(ana.opened_on, '2022-11-25')
  assert.equal(ana.closed_on, null)
  assert.deepEqual(await stagesOf(ana.id), ['encourage'])

  const lee = await emailsTo(emails.lee)
  assert.equal(lee.length, 1)
  assert.equal(lee[0]!.subject, 'Escalations at North Star TSH (Education Development Trust): 2 cases changed stage')
  assert.match(
    lee[0]!.body,
    /Ana Lee, NPQ for Leading Teaching \(2022-autumn\), started \(training commenced\), review date 24 November 2022: now encourage/,
  )
  assert.match(lee[0]!.body, /Ben Cole/)
  assert.doesNotMatch(lee[0]!.body, /Cy Dunn/, 'another partner’s participant is not in this lead’s email')
  const sam = await emailsTo(emails.sam)
  assert.equal(sam.length, 1)
  assert.match(sam[0]!.body, /Cy Dunn/)
  // Ambition's cohort is reviewed in 2023: nothing of Sol's yet.
  assert.equal((await emailsTo(emails.sol)).length, 0)
})

test('running again on the same day, or twice at once, opens nothing and sends nothing', async () => {
  assert.deepEqual(await run('2022-11-25'), { opened: 0, reopened: 0, closed: 0, stageChanges: 0, emails: 0 })
  const both = await Promise.all([run('2022-11-26'), run('2022-11-26')])
  assert.deepEqual(
    both.map((r) => r.opened + r.stageChanges + r.emails),
    [0, 0],
  )
  assert.equal(await casesCount(), 3)
  assert.equal((await emailsTo(emails.lee)).length, 1)
})

test('after the 3-week window the stage becomes contact; a case met late closes as criteria-met; a deferral closes one', async () => {
  // Ben completes the Block 1 diagnostic after the review date: met late, so resolved.
  await world.run('activity', [
    'participant_id,activity_code,occurred_at,source,progress_percent',
    `${ids.ben},NPQLT-B1-DIAGNOSTIC,2022-12-01T10:00:00Z,automatic,`,
  ])
  assert.deepEqual(await run('2022-12-15'), { opened: 0, reopened: 0, closed: 1, stageChanges: 0, emails: 1 })
  const ben = await caseOf(services, ids.ben)
  assert.equal(ben.closed_on, '2022-12-15')
  assert.equal(ben.closed_reason, 'criteria-met')
  assert.deepEqual(await stagesOf(ben.id), ['encourage', 'resolved'])
  assert.match((await emailsTo(emails.lee)).at(-1)!.body, /Ben Cole.*now closed \(criteria met\)/)

  assert.deepEqual(await run('2022-12-16'), { opened: 0, reopened: 0, closed: 0, stageChanges: 2, emails: 2 })
  const ana = await caseOf(services, ids.ana)
  assert.deepEqual(await stagesOf(ana.id), ['encourage', 'contact'])
  const last = (await emailsTo(emails.lee)).at(-1)!
  assert.equal(last.subject, 'Escalations at North Star TSH (Education Development Trust): 1 case changed stage')
  assert.match(last.body, /Ana Lee.*now contact/)
  assert.match(last.body, new RegExp(`/delivery-partner/escalations/${ana.id}`))

  await world.run('deferrals', [
    'participant_id,reason,deferred_on,planned_return_on',
    `${ids.cy},long-term-sickness,2022-12-19,2023-09-04`,
  ])
  assert.deepEqual(await run('2022-12-20'), { opened: 0, reopened: 0, closed: 1, stageChanges: 0, emails: 1 })
  const cy = await caseOf(services, ids.cy)
  assert.equal(cy.closed_reason, 'deferred')
  assert.match((await emailsTo(emails.sam)).at(-1)!.body, /Cy Dunn.*now closed \(participant deferred\)/)
})

test('an extended deadline keeps a case in encourage until it passes; the stage change is recorded and emailed', async () => {
  const ana = (await loadCase(services.db, (await caseOf(services, ids.ana)).id))!
  const lee = await services.db
    .selectFrom('users')
    .select(['id', 'email', 'full_name'])
    .where('email', '=', emails.lee)
    .executeTakeFirstOrThrow()
  const user = { kind: 'user' as const, userId: lee.id, email: lee.email, fullName: lee.full_name, roles: [] }
  await services.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('escalation_actions')
      .values({
        case_id: ana.id,
        kind: 'extension-agreed',
        on_date: '2022-12-21',
        extended_deadline: '2023-01-10',
        notes: 'Bereavement: agreed to pick up in January',
        recorded_by: lee.id,
      })
      .execute()
    await logContactAttempt(trx, user, ana, { on: '2022-12-10', channel: 'phone', outcome: 'no-response', notes: 'Left a voicemail' })
  })
  assert.equal((await run('2022-12-21')).stageChanges, 1)
  assert.equal((await run('2023-01-10')).stageChanges, 0)
  assert.equal((await run('2023-01-11')).stageChanges, 1)
  assert.deepEqual(await stagesOf(ana.id), ['encourage', 'contact', 'encourage', 'contact'])
  const [x] = await escalations(services, { leadProvider: 'edt', cohort: '2022-autumn', deliveryPartner: 'north-star', asOf: '2023-01-11' })
  assert.equal(x!.stage, 'contact')
})

test('the partnership pack: engagement, the output due and who is at risk, escalations 3+ weeks on with what was tried', async () => {
  const edt = { id: world.edt, code: 'edt', name: 'Education Development Trust' }
  const northStar = { id: world.northStar, code: 'north-star', name: 'North Star TSH' }
  const halfTerm = halfTermById('2022-autumn-2')!
  const pack = await partnershipPack(services, { leadProvider: edt, deliveryPartner: northStar, halfTerm, today: '2022-12-28' })
  assert.equal(pack.asOf, '2022-12-28')
  // On the day itself, the pack from the stored figures is the same.
  const clock = dashboardClock.now
  const ttl = dashboardCache.ttlMs
  dashboardClock.now = () => new Date('2022-12-28T12:00:00Z')
  dashboardCache.ttlMs = 60_000
  try {
    const storedPack = await partnershipPack(services, { leadProvider: edt, deliveryPartner: northStar, halfTerm, today: '2022-12-28' })
    assert.ok(storedPack.calculatedAt instanceof Date)
    assert.deepEqual({ ...storedPack, calculatedAt: null }, pack)
    assert.ok(await services.db.selectFrom('figure_runs').select('cohort').where('as_of', '=', '2022-12-28').executeTakeFirst())
  } finally {
    dashboardClock.now = clock
    dashboardCache.ttlMs = ttl
  }

  assert.equal(pack.engagement.length, 1)
  const [e] = pack.engagement
  assert.equal(e!.cohort, '2022-autumn')
  assert.equal(e!.participants, 2)
  assert.equal(e!.atLeast90, 0)
  assert.ok(e!.meanPercent > 0 && e!.meanPercent < 5, `Ben's one diagnostic is a small share: ${e!.meanPercent}`)

  // `started` (24 November) is the first review date from 1 November; Ana has not met it.
  assert.equal(pack.outputsDue.length, 1)
  const [due] = pack.outputsDue
  assert.equal(due!.declarationType, 'started')
  assert.equal(due!.reviewDate, '2022-11-24')
  assert.equal(due!.participants.length, 2)
  assert.equal(due!.atRisk, 1)
  assert.deepEqual(
    due!.participants.filter((p) => p.atRisk).map((p) => p.fullName),
    ['Ana Lee'],
  )

  assert.equal(pack.escalations.length, 1)
  const [x] = pack.escalations
  assert.equal(x!.fullName, 'Ana Lee')
  assert.equal(x!.daysSinceReview, 34)
  assert.equal(x!.stage, 'encourage') // the extended deadline of 10 January
  assert.deepEqual(
    x!.interventions.map((i) => i.what),
    ['Contact attempt by phone: no response', 'Extended deadline agreed: 10 January 2023'],
  )

  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load((await packXlsx(pack)) as unknown as ArrayBuffer)
  assert.deepEqual(
    workbook.worksheets.map((s) => s.name),
    ['About', 'Engagement', 'Outputs due', 'Escalations'],
  )
  const sheet = workbook.getWorksheet('Escalations')!
  assert.equal(sheet.getRow(2).getCell(2).value, 'Ana Lee')
  assert.match(String(sheet.getRow(2).getCell(10).value), /2022-12-10: Contact attempt by phone: no response – Left a voicemail/)
  assert.equal(workbook.getWorksheet('Outputs due')!.rowCount, 3)
})
