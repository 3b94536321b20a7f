import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { declareOutputs, voidDeclaration } from '../declarations/declarations.ts'
import { changeDeclarationState } from '../declarations/state.ts'
import { systemPrincipal as by } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { escalationsReport, outputsReport } from './report.ts'
import { ids, loadOutputsCohort } from './test-fixtures.ts'

// Outputs, escalations and declarations end to end: facts loaded from imports, evaluated as of a
// date, declared once only (also under concurrent requests), voided with DfE's rules.

let services: TestServices
const query = { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2023-07-01' }
const brief = async (asOf: string) =>
  Object.fromEntries(
    (await outputsReport(services, { ...query, asOf })).map((r) => [
      Object.entries(ids).find(([, id]) => id === r.participant_id)![0],
      r.outputs.map((o) => `${o.declaration_type}: ${o.status} ${o.evidence ?? '-'} ${o.evidence_on ?? '-'}`),
    ]),
  )

before(async () => {
  services = await createTestServices()
  await loadOutputsCohort(services)
})
after(() => services.dispose())

test('outputs report: criteria, periods, prerequisites and withdrawal from recorded evidence', async () => {
  const report = await brief('2023-07-01')
  assert.deepEqual(report.ana, [
    'started: eligible register-attendance 2022-11-10',
    'retained-1: eligible credits-increase 2023-01-10',
    'completed: not-eligible - -',
  ])
  // A video at 95% is evidence for outputs, though it earns no credit below 100%.
  assert.deepEqual(report.ben, ['started: eligible video-90 2022-10-20', 'retained-1: not-eligible - -', 'completed: blocked - -'])
  assert.deepEqual(report.cy, ['started: blocked - -', 'retained-1: blocked - -', 'completed: blocked - -'])
  // Dee withdrew before the only attendance: it never counts.
  assert.deepEqual(report.dee, ['started: blocked - -', 'retained-1: blocked - -', 'completed: blocked - -'])
  const rows = await outputsReport(services, query)
  assert.deepEqual(rows.find((r) => r.participant_id === ids.cy)!.outputs[0]!.reasons, [
    'School contract not signed',
    'No register attendance, self-study credit or Block 1 video watched to 90%',
  ])
  assert.match(rows.find((r) => r.participant_id === ids.dee)!.outputs[0]!.reasons.join(), /Withdrawn on 2022-11-01/)
  // Eve: 90% of credits on 2023-10-11 (the Block 5 face-to-face), external moderation on 2024-01-15.
  assert.deepEqual((await brief('2024-02-01')).eve, [
    'started: eligible register-attendance 2022-11-10',
    // The webinar earned credits the same day: new credits are the most preferred retention criterion.
    'retained-1: eligible credits-increase 2022-12-01',
    'completed: eligible credits-90-and-assessment 2024-01-15',
  ])
  assert.equal((await brief('2024-01-14')).eve![2], 'completed: not-eligible - -')
  // Sorted by participant id.
  assert.deepEqual(
    rows.map((r) => r.participant_id),
    [...rows.map((r) => r.participant_id)].sort(),
  )
})

test('escalations: one row per output missed at its review date, staged by the window, extensions and proposals', async () => {
  const stages = async (asOf: string) =>
    (await escalationsReport(services, { leadProvider: 'edt', asOf })).map(
      (r) => `${Object.entries(ids).find(([, id]) => id === r.participant_id)![0]} ${r.declaration_type} ${r.stage} ${r.days_since_review}`,
    )
  // Cy missed started (prerequisites do not matter here); Ben met started but not retained-1.
  assert.deepEqual(await stages('2022-12-10'), ['cy started encourage 16'])
  assert.deepEqual(await stages('2023-07-01'), ['cy started contact 219', 'ben retained-1 encourage 9'].sort())
  assert.deepEqual(await stages('2023-08-01'), ['ben retained-1 contact 40', 'cy started contact 250'])

  const ben = await services.db.selectFrom('enrolments').select('id').where('participant_id', '=', ids.ben).executeTakeFirstOrThrow()
  const escalation = await services.db
    .insertInto('escalation_cases')
    .values({
      enrolment_id: ben.id,
      participant_id: ids.ben,
      course_identifier: 'npq-leading-teaching',
      declaration_type: 'retained-1',
      review_date: '2023-06-22',
      opened_on: '2023-06-23',
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await services.db
    .insertInto('escalation_actions')
    .values({ case_id: escalation.id, kind: 'extension-agreed', on_date: '2023-07-10', extended_deadline: '2023-09-01', notes: 'Illness' })
    .execute()
  assert.deepEqual(await stages('2023-08-01'), ['ben retained-1 encourage 40', 'cy started contact 250'])
  // After the extended deadline, back to contact.
  assert.equal((await stages('2023-09-05'))[0], 'ben retained-1 contact 75')
  await services.db
    .insertInto('escalation_actions')
    .values({ case_id: escalation.id, kind: 'removal-proposed', on_date: '2023-09-10' })
    .execute()
  assert.deepEqual(await stages('2023-09-15'), ['ben retained-1 removal-proposed 85', 'cy started contact 295'])
  await services.db
    .insertInto('escalation_actions')
    .values({ case_id: escalation.id, kind: 'removal-rejected', on_date: '2023-09-20' })
    .execute()
  assert.deepEqual(await stages('2023-09-25'), ['ben retained-1 contact 95', 'cy started contact 305'])
  // Filters: another cohort has nobody; a course filter keeps the rows.
  assert.deepEqual(await escalationsReport(services, { leadProvider: 'edt', cohort: '2023-autumn', asOf: '2023-09-25' }), [])
  assert.equal((await escalationsReport(services, { leadProvider: 'edt', course: 'npq-leading-teaching', asOf: '2023-09-25' })).length, 2)
})

test('declarations: only the eligible, dated on their evidence, once — also under concurrent requests', async () => {
  const request = { ...query, asOf: '2023-07-01', declarationType: 'started' as const }
  const dry = await declareOutputs(services, by, { ...request, dryRun: true })
  assert.deepEqual(
    dry.created.map((c) => `${c.participant_id.slice(-4)} ${c.declaration_date}`),
    ['a001 2022-11-10', 'a002 2022-10-20', 'a005 2022-11-10'],
  )
  assert.equal(
    Number(
      (
        await services.db
          .selectFrom('declarations')
          .select((eb) => eb.fn.countAll().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    ),
    0,
  )

  // Two requests at once (a double submission, two admins): exactly one declaration each.
  const [first, second] = await Promise.all([
    declareOutputs(services, by, { ...request, requestKey: 'a' }),
    declareOutputs(services, by, { ...request, requestKey: 'b' }),
  ])
  assert.equal(first.created.length + second.created.length, 3)
  const rows = await services.db.selectFrom('declarations').selectAll().orderBy('participant_id').execute()
  assert.equal(rows.length, 3)
  assert.ok(rows.every((r) => r.state === 'submitted' && r.declaration_type === 'started'))
  assert.deepEqual((rows[0]!.evidence as { criterion: string }).criterion, 'register-attendance')
  // Each is queued for DfE with its state history begun.
  assert.equal(
    Number(
      (
        await services.db
          .selectFrom('dfe_requests')
          .select((eb) => eb.fn.countAll().as('n'))
          .where('kind', '=', 'submit-declaration')
          .executeTakeFirstOrThrow()
      ).n,
    ),
    3,
  )
  // Again: nothing new; the report says declared.
  assert.deepEqual((await declareOutputs(services, by, request)).created, [])
  assert.equal((await brief('2023-07-01')).ana![0], 'started: declared register-attendance 2022-11-10')

  // Asking for someone not eligible says why and writes nothing.
  const refused = await declareOutputs(services, by, { ...request, participantIds: [ids.cy, ids.ana] })
  assert.deepEqual(refused.created, [])
  assert.deepEqual(
    refused.refused.map((r) => r.reason.split(':')[0]),
    ['Already declared', 'Not eligible'],
  )
})

test('declarations are immutable and kept; voiding follows DfE: voided, or a clawback once paid; never twice', async () => {
  const ana = await services.db.selectFrom('declarations').selectAll().where('participant_id', '=', ids.ana).executeTakeFirstOrThrow()
  await assert.rejects(
    services.db.updateTable('declarations').set({ declaration_date: '2022-11-11' }).where('id', '=', ana.id).execute(),
    /cannot be changed/,
  )
  await assert.rejects(services.db.deleteFrom('declarations').where('id', '=', ana.id).execute(), /kept/)

  await assert.rejects(voidDeclaration(services, by, { declarationId: ana.id, reason: ' ' }), /reason/)
  assert.deepEqual(await voidDeclaration(services, by, { declarationId: ana.id, reason: 'Declared in error' }), { state: 'voided' })
  await assert.rejects(voidDeclaration(services, by, { declarationId: ana.id, reason: 'Again' }), /already voided/)
  // Voided, Ana can be declared again.
  assert.equal((await brief('2023-07-01')).ana![0], 'started: eligible register-attendance 2022-11-10')

  const eve = await services.db.selectFrom('declarations').selectAll().where('participant_id', '=', ids.eve).executeTakeFirstOrThrow()
  await services.db.transaction().execute(async (trx) => {
    await changeDeclarationState(trx, { declarationId: eve.id, to: 'eligible', source: 'dfe', by })
    await changeDeclarationState(trx, { declarationId: eve.id, to: 'paid', source: 'dfe', by })
  })
  assert.deepEqual(await voidDeclaration(services, by, { declarationId: eve.id, reason: 'Withdrew before starting' }, '2023-08-01'), {
    state: 'awaiting-clawback',
  })
  const clawback = await services.db.selectFrom('clawbacks').selectAll().where('declaration_id', '=', eve.id).executeTakeFirstOrThrow()
  assert.equal(clawback.raised_on, '2023-08-01')
  const history = await services.db
    .selectFrom('declaration_state_changes')
    .select(['to_state', 'source'])
    .where('declaration_id', '=', eve.id)
    .orderBy('changed_at')
    .execute()
  assert.deepEqual(
    history.map((h) => `${h.to_state}/${h.source}`),
    ['submitted/platform', 'eligible/dfe', 'paid/dfe', 'awaiting-clawback/platform'],
  )
  await assert.rejects(voidDeclaration(services, by, { declarationId: eve.id, reason: 'Again' }), /already awaiting clawback/)
})

test('completed declarations carry the assessment result; nothing is dated after today', async () => {
  const completed = await declareOutputs(services, by, { ...query, asOf: '2024-02-01', declarationType: 'completed', dryRun: true })
  assert.deepEqual(
    completed.created.map((c) => [c.participant_id, c.declaration_date, c.has_passed]),
    [[ids.eve, '2024-01-15', true]],
  )
  const future = await declareOutputs(
    services,
    by,
    { ...query, asOf: '2024-02-01', declarationType: 'completed', dryRun: true },
    '2024-01-01',
  )
  assert.deepEqual(future.created, [])
})

test('nothing dated on or after a withdrawal, nor inside a deferral, even when the output is eligible', async () => {
  const benStarted = await services.db
    .selectFrom('declarations')
    .select('id')
    .where('participant_id', '=', ids.ben)
    .executeTakeFirstOrThrow()
  await voidDeclaration(services, by, { declarationId: benStarted.id, reason: 'Test: declare again' })
  await services.db.insertInto('withdrawals').values({ participant_id: ids.ben, reason: 'other', withdrawn_on: '2022-10-20' }).execute()
  await services.db
    .insertInto('deferrals')
    .values({ participant_id: ids.ana, reason: 'other', deferred_on: '2022-11-01', planned_return_on: '2022-12-01' })
    .execute()
  // Both met started before (or on) the date that stops them, so the output is eligible …
  const report = await brief('2023-07-01')
  assert.equal(report.ben![0], 'started: eligible video-90 2022-10-20')
  assert.equal(report.ana![0], 'started: eligible register-attendance 2022-11-10')
  // … but DfE accepts neither date, and neither do we.
  const result = await declareOutputs(services, by, { ...query, declarationType: 'started', participantIds: [ids.ana, ids.ben] })
  assert.deepEqual(result.created, [])
  assert.deepEqual(
    result.refused.map((r) => r.reason),
    [
      'Deferred from 2022-11-01 on the evidence date 2022-11-10',
      'Withdrawn on 2022-10-20: a declaration must be dated before the withdrawal',
    ],
  )
})
