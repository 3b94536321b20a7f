import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { formatProblem } from '../imports/csv.ts'
import { ImportError, importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { organisation } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { correctLearningRecord } from '../learning/corrections.ts'
import { declarationReport, engagementReport, ReportQueryError } from './engagement-reports.ts'
import { engagementTable, toCsv, toXlsx } from './formats.ts'
import ExcelJS from 'exceljs'

// The whole path from CSV imports (events, registers, learning records, meeting logs) to the
// Engagement and Declaration reports, with figures worked by hand from the designs.

const by = { kind: 'system', name: 'test' } as const
let services: TestServices

const ana = '00000000-0000-4000-8000-00000000000a' // EDT NPQLT at North Star
const ben = '00000000-0000-4000-8000-00000000000b' // EDT NPQLT at East Coast
const cat = '00000000-0000-4000-8000-00000000000c' // UCL NPQLT at North Star

const run = (kind: string, text: string) =>
  importFile(services, importers[kind]!, text, by).catch((e: unknown) => {
    if (e instanceof ImportError) e.message += ': ' + e.problems.map((p) => formatProblem(kind, p)).join('; ')
    throw e
  })

async function problemsOf(kind: string, text: string): Promise<string[]> {
  try {
    await run(kind, text)
  } catch (error) {
    if (error instanceof ImportError) return error.problems.map((p) => formatProblem(`${kind}.csv`, p))
    throw error
  }
  throw new Error('expected the import to fail')
}

before(async () => {
  services = await createTestServices()
  await organisation(services.db, 'lead-provider', 'edt', 'Education Development Trust')
  await organisation(services.db, 'lead-provider', 'ucl', 'UCL')
  await run(
    'delivery-partners',
    'delivery_partner_id,name,lead_provider\nnorth-star,North Star TSH,edt\nnorth-star,North Star TSH,ucl\neast-coast,East Coast TSH,edt\n',
  )
  await run(
    'participants',
    [
      'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed',
      `${ana},Ana Lee,ana@school.test,1000001,edt,north-star,npq-leading-teaching,2022-autumn,100001,yes,yes`,
      `${ben},Ben Cole,ben@school.test,1000002,edt,east-coast,npq-leading-teaching,2022-autumn,100001,yes,yes`,
      `${cat},Cat Hill,cat@school.test,1000003,ucl,north-star,npq-leading-teaching,2022-autumn,100002,yes,yes`,
    ].join('\n'),
  )
})
after(() => services.dispose())

const eventsHeader = 'event_id,lead_provider,delivery_partner,course_identifier,cohort,activity_code,kind,starts_at,ends_at,capacity'

test('events: created, unchanged on a second import, updated when moved; bad rows named by line and column', async () => {
  const file = [
    eventsHeader,
    'NS-LT-F2F-1,edt,north-star,npq-leading-teaching,2022-autumn,NPQLT-B1-F2F,f2f,2022-11-15T09:00:00Z,2022-11-15T15:00:00Z,30',
    'NS-LT-LIVE-1,edt,north-star,npq-leading-teaching,2022-autumn,NPQLT-B1-LIVE,live-webinar,2022-11-22T16:00:00Z,2022-11-22T17:00:00Z,60',
    'NS-WELCOME,edt,north-star,npq-leading-teaching,2022-autumn,,welcome,2022-11-01T16:00:00Z,2022-11-01T17:00:00Z,60',
    'UCL-IND-1,ucl,north-star,npq-leading-teaching,2022-autumn,NPQLT-INDUCTION-1,induction,2022-10-20T09:00:00Z,2022-10-20T15:00:00Z,100',
  ].join('\n')
  assert.deepEqual(await run('events', file), { kind: 'events', rows: 4, created: 4, updated: 0, unchanged: 0 })
  assert.deepEqual(await run('events', file), { kind: 'events', rows: 4, created: 0, updated: 0, unchanged: 4 })

  const problems = await problemsOf(
    'events',
    [
      eventsHeader,
      'E1,edt,north-star,npq-leading-teaching,2022-autumn,NPQLT-B1-VIDEO,f2f,2022-11-15T09:00:00Z,2022-11-15T15:00:00Z,30',
      'E2,edt,nowhere,npq-leading-teaching,2022-autumn,NPQLT-B1-F2F,f2f,2022-11-15T09:00:00Z,2022-11-15T08:00:00Z,10',
      'E3,edt,north-star,npq-leading-teaching,2022-autumn,NPQLT-B9-F2F,f2f,2022-11-15T09:00:00Z,2022-11-15T15:00:00Z,30',
      'E4,edt,north-star,npq-leading-teaching,2022-autumn,,f2f,2022-11-15T09:00:00Z,2022-11-15T15:00:00Z,30',
      'E5,edt,north-star,npq-leading-teaching,2022-autumn,NPQLT-B1-F2F,f2f,2022-11-15T09:00:00Z,2022-11-15T15:00:00Z,0',
    ].join('\n'),
  )
  assert.deepEqual(problems, [
    'events.csv:2:6 (activity_code): NPQLT-B1-VIDEO is not an event activity (it is evidenced by activity rows)',
    'events.csv:3:3 (delivery_partner): unknown delivery partner "nowhere" (import delivery-partners first)',
    'events.csv:3:9 (ends_at): must be after starts_at',
    'events.csv:4:6 (activity_code): NPQLT-B9-F2F is not an activity of npq-leading-teaching in cohort 2022-autumn',
    'events.csv:5:6 (activity_code): must name the design activity a f2f event delivers',
    'events.csv:6:10 (capacity): must be at least 1',
  ])
  const count = await services.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow()
  assert.equal(Number(count.n), 4, 'nothing from a bad file is written')
})

const attendanceHeader = 'event_id,participant_id,status,completed_at,note'

test('attendance, activity and meetings feed the Engagement report exactly (EDT credits and UCL weights)', async () => {
  assert.deepEqual(
    await run(
      'attendance',
      [
        attendanceHeader,
        `NS-LT-F2F-1,${ana},attended,,`,
        `NS-LT-LIVE-1,${ana},absent,,ill`,
        `NS-WELCOME,${ana},attended,,`,
        `UCL-IND-1,${cat},attended,,`,
      ].join('\n'),
    ),
    { kind: 'attendance', rows: 4, created: 4, updated: 0, unchanged: 0 },
  )
  await run(
    'activity',
    [
      'participant_id,activity_code,occurred_at,source,progress_percent',
      `${ana},NPQLT-B1-DIAGNOSTIC,2022-11-10T10:00:00Z,automatic,`,
      `${ana},NPQLT-B1-VIDEO,2022-11-11T10:00:00Z,automatic,50`,
      `${ana},NPQLT-B1-VIDEO,2022-11-12T23:30:00Z,automatic,100`, // 23:30 UTC is still 12 November in London (GMT)
      `${ana},NPQLT-B1-S1.1a,2022-11-20T10:00:00Z,automatic,`,
      `${ana},NPQLT-B1-S1.1a,2022-11-21T10:00:00Z,automatic,`, // earned once
      `${ben},NPQLT-B1-DIAGNOSTIC,2022-11-10T10:00:00Z,automatic,`,
      `${cat},NPQLT-SDL-1,2022-11-01T10:00:00Z,automatic,`,
      `${cat},NPQLT-SDL-2,2022-11-02T10:00:00Z,automatic,`,
      `${cat},NPQLT-FAT-1,2022-11-03T10:00:00Z,automatic,`,
    ].join('\n'),
  )
  await run(
    'meetings',
    [
      'participant_id,course_identifier,meeting_number,held_on,signed_by_line_manager,signed_by_participant,fats_completed',
      `${cat},npq-leading-teaching,1,2022-11-15,yes,yes,2`,
      `${cat},npq-leading-teaching,2,2022-11-25,yes,no,1`,
    ].join('\n'),
  )

  const edt = await engagementReport(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2022-11-30' })
  assert.deepEqual(
    edt.map((r) => r.participant_id),
    [ana, ben],
  )
  const [a] = edt
  // Diagnostic 2 + video 1 (at 100%, not 50%) + S1.1a 3 once + F2F 15 by the register; LIVE absent.
  assert.equal(a!.credits_earned, 21)
  assert.equal(a!.credits_available, 199)
  assert.equal(a!.engagement_percent, 10.6) // 21 / 199 = 10.55…%, half-up to one place
  assert.equal(a!.eligible_for_assessment, false)
  assert.deepEqual(a!.blocks[0], { block: 1, credits_earned: 21, credits_available: 46, percent: 45.7 })
  assert.equal(a!.delivery_partner, 'north-star')

  // As of an earlier date, only what had happened by the end of that London day.
  const early = await engagementReport(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2022-11-12' })
  assert.equal(early[0]!.credits_earned, 3)

  // A delivery partner's report holds its own participants only.
  const eastCoast = await engagementReport(services, {
    leadProvider: 'edt',
    cohort: '2022-autumn',
    deliveryPartner: 'east-coast',
    asOf: '2022-11-30',
  })
  assert.deepEqual(
    eastCoast.map((r) => [r.participant_id, r.credits_earned]),
    [[ben, 2]],
  )

  // UCL: induction 10 + SDL 2 of 3 × 10 + FAT-1 (row) and FAT-1…2 (signed log) → 2 of 6 × 30 + meeting 1 of 3 × 15.
  // Meeting 2 is signed by the line manager only: it counts for nothing and confirms no FATs.
  const [c] = await engagementReport(services, { leadProvider: 'ucl', cohort: '2022-autumn', asOf: '2022-11-30' })
  assert.equal(c!.credits_earned, 31.7)
  assert.equal(c!.credits_available, 100)
  assert.equal(c!.engagement_percent, 31.7)
  assert.deepEqual(
    c!.blocks.map((b) => [b.block, b.credits_earned, b.credits_available, b.percent]),
    [
      ['INDUCTION', 10, 10, 100],
      ['SDL', 6.7, 10, 66.7],
      ['PLG', 0, 20, 0],
      ['FORUM', 0, 5, 0],
      ['FAT', 10, 30, 33.3],
      ['CONSOLIDATION', 0, 10, 0],
      ['MEETING', 5, 15, 33.3],
    ],
  )

  // Declaration: credits after 12 November up to 30 November, and cumulatively.
  const declaration = await declarationReport(services, {
    leadProvider: 'edt',
    cohort: '2022-autumn',
    asOf: '2022-11-30',
    from: '2022-11-12',
  })
  assert.deepEqual(declaration[0], {
    participant_id: ana,
    course_identifier: 'npq-leading-teaching',
    delivery_partner: 'north-star',
    credits_in_period: 18,
    cumulative_credits: 21,
  })
})

test('a register correction supersedes the entry (audited); the same file again changes nothing', async () => {
  const corrected = [attendanceHeader, `NS-LT-LIVE-1,${ana},contingency-completed,2022-11-25T18:00:00Z,watched the recording`].join('\n')
  assert.deepEqual(await run('attendance', corrected), { kind: 'attendance', rows: 1, created: 0, updated: 1, unchanged: 0 })
  assert.deepEqual(await run('attendance', corrected), { kind: 'attendance', rows: 1, created: 0, updated: 0, unchanged: 1 })
  const entries = await services.db.selectFrom('register_entries').selectAll().where('participant_id', '=', ana).execute()
  assert.equal(entries.length, 4, 'the absent entry is kept, superseded')
  const audit = await services.db.selectFrom('audit_events').select('action').where('action', '=', 'register-entry.corrected').execute()
  assert.equal(audit.length, 1)
  const [a] = await engagementReport(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2022-11-30' })
  assert.equal(a!.credits_earned, 27, 'LIVE (6) earned by the contingency completion, dated when it was done')
  const before = await engagementReport(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2022-11-24' })
  assert.equal(before[0]!.credits_earned, 21)
})

test('a locked register (14 days after the event): an import changing a mark needs the note as its reason', async () => {
  // NS-LT-F2F-1 was on 15 November 2022: its register locked on 29 November 2022, long before today.
  const change = (note: string) => [attendanceHeader, `NS-LT-F2F-1,${ana},absent,,${note}`].join('\n')
  assert.deepEqual(await problemsOf('attendance', change('')), [
    'attendance.csv:2:5 (note): is required: the register locked on 2022-11-29, so say why the mark changes',
  ])
  assert.deepEqual(await run('attendance', change('Left before the session began')), {
    kind: 'attendance',
    rows: 1,
    created: 0,
    updated: 1,
    unchanged: 0,
  })
  const entry = await services.db
    .selectFrom('register_entries')
    .select(['status', 'change_reason'])
    .where('participant_id', '=', ana)
    .where('change_reason', 'is not', null)
    .executeTakeFirstOrThrow()
  assert.deepEqual(entry, { status: 'absent', change_reason: 'Left before the session began' })
  await run('attendance', [attendanceHeader, `NS-LT-F2F-1,${ana},attended,,Marked absent in error`].join('\n'))
})

test('a retracted learning record no longer counts; a corrected one counts on its corrected date', async () => {
  const record = await services.db
    .selectFrom('learning_records')
    .select('id')
    .where('participant_id', '=', ana)
    .where('activity_code', '=', 'NPQLT-B1-DIAGNOSTIC')
    .executeTakeFirstOrThrow()
  await services.db.transaction().execute((trx) => correctLearningRecord(trx, by, record.id, { retract: true, reason: 'entered in error' }))
  const [a] = await engagementReport(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2022-11-30' })
  assert.equal(a!.credits_earned, 25, 'the diagnostic (2) is no longer earned')
  const retraction = await services.db
    .selectFrom('learning_records')
    .select('id')
    .where('supersedes', '=', record.id)
    .executeTakeFirstOrThrow()
  await services.db
    .transaction()
    .execute((trx) =>
      correctLearningRecord(trx, by, retraction.id, { occurredAt: '2022-11-28T09:00:00Z', reason: 'done after all, later' }),
    )
  const [later] = await engagementReport(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2022-11-30' })
  assert.equal(later!.credits_earned, 27)
  const [earlier] = await engagementReport(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2022-11-27' })
  assert.equal(earlier!.credits_earned, 25)
})

test('attendance and meetings: bad rows are each reported and nothing is written', async () => {
  const problems = await problemsOf(
    'attendance',
    [
      attendanceHeader,
      `NS-LT-F2F-1,${ben},attended,,`,
      `NOPE,${ana},attended,,`,
      `NS-LT-F2F-1,${ana},contingency-completed,,`,
      `NS-LT-F2F-1,${ana},attended,2022-11-16T10:00:00Z,`,
      `NS-LT-F2F-1,${cat},maybe,,`,
      `UCL-IND-1,${ana},attended,,`,
    ].join('\n'),
  )
  assert.deepEqual(problems, [
    'attendance.csv:3:1 (event_id): unknown event NOPE (import events first)',
    'attendance.csv:4:4 (completed_at): is required for contingency-completed: when the catch-up was done',
    "attendance.csv:5:2 (participant_id): this participant's entry for NS-LT-F2F-1 is on an earlier line",
    'attendance.csv:5:4 (completed_at): must be empty unless the status is contingency-completed',
    'attendance.csv:6:3 (status): must be one of attended, absent, contingency-completed',
    `attendance.csv:7:2 (participant_id): participant ${ana} is not enrolled on npq-leading-teaching in cohort 2022-autumn with ucl`,
  ])
  const meetingProblems = await problemsOf(
    'meetings',
    [
      'participant_id,course_identifier,meeting_number,held_on,signed_by_line_manager,signed_by_participant,fats_completed',
      `${cat},npq-leading-teaching,4,2022-11-15,yes,yes,`,
      `${cat},npq-leading-teaching,3,2099-01-01,yes,perhaps,`,
      `${ana},npq-leading-teaching,1,2022-11-15,yes,yes,1`,
    ].join('\n'),
  )
  assert.deepEqual(meetingProblems, [
    'meetings.csv:2:3 (meeting_number): npq-leading-teaching has 3 line manager/mentor meetings',
    'meetings.csv:3:6 (signed_by_participant): must be yes or no',
    'meetings.csv:4:7 (fats_completed): npq-leading-teaching in cohort 2022-autumn has no formative assessment tasks',
  ])
  const [a] = await engagementReport(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2022-11-30' })
  assert.equal(a!.credits_earned, 27, 'unchanged by the refused files')
})

test('reports: unknown names are clear errors; CSV and XLSX carry the same figures', async () => {
  await assert.rejects(
    engagementReport(services, { leadProvider: 'nope', cohort: '2022-autumn', asOf: '2022-11-30' }),
    (e: unknown) => e instanceof ReportQueryError && e.field === 'lead_provider',
  )
  await assert.rejects(
    engagementReport(services, { leadProvider: 'edt', cohort: '2030-autumn', asOf: '2022-11-30' }),
    (e: unknown) => e instanceof ReportQueryError && e.field === 'cohort',
  )
  const rows = await engagementReport(services, { leadProvider: 'edt', cohort: '2022-autumn', asOf: '2022-11-30' })
  const table = engagementTable(rows)
  const csv = toCsv(table).split('\n')
  assert.equal(
    csv[0],
    'participant_id,course_identifier,delivery_partner,credits_earned,credits_available,engagement_percent,eligible_for_assessment,' +
      'block_1_credits_earned,block_1_credits_available,block_1_percent,block_2_credits_earned,block_2_credits_available,block_2_percent,' +
      'block_3_credits_earned,block_3_credits_available,block_3_percent,block_4_credits_earned,block_4_credits_available,block_4_percent,' +
      'block_5_credits_earned,block_5_credits_available,block_5_percent',
  )
  assert.ok(csv[1]!.startsWith(`${ana},npq-leading-teaching,north-star,27,199,13.6,false,27,46,58.7,0,41,0`))
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load((await toXlsx(table, 'Engagement')) as unknown as ArrayBuffer)
  const sheet = workbook.getWorksheet('Engagement')!
  assert.equal(sheet.getCell('A2').value, ana)
  assert.equal(sheet.getCell('D2').value, 27)
})
