import { sql } from 'kysely'
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { organisation } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { formatProblem } from './csv.ts'
import { deliveryPartnersImporter } from './delivery-partners.ts'
import { ImportError, importFile } from './import-file.ts'
import { participantsImporter } from './participants.ts'
import { activityImporter } from './activity.ts'

const by = { kind: 'system', name: 'test' } as const
let services: TestServices
before(async () => {
  services = await createTestServices()
  await organisation(services.db, 'lead-provider', 'edt', 'Education Development Trust')
  await organisation(services.db, 'lead-provider', 'ucl', 'UCL')
})
after(() => services.dispose())

const header =
  'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed'
const jo = '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f60,Jo Bloggs,Jo@School.test,1234567,edt,riverbank-tsh,npq-headship,2022-autumn,123456,yes,yes'
const sam =
  '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f61,Sam Smith,sam@school.test,7654321,edt,riverbank-tsh,npq-leading-teaching,2022-autumn,123456,yes,no'

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  try {
    await promise
  } catch (error) {
    if (error instanceof ImportError) return error.problems.map((p) => formatProblem('f.csv', p))
    throw error
  }
  throw new Error('expected the import to fail')
}

const count = async (table: 'participants' | 'enrolments' | 'organisations') =>
  Number(
    (
      await services.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

test('delivery partners: columns in any order, partnerships with several lead providers; the same file twice changes nothing', async () => {
  const file = 'name,delivery_partner_id,lead_provider\nRiverbank TSH,riverbank-tsh,edt\nRiverbank TSH,riverbank-tsh,ucl\n'
  assert.deepEqual(await importFile(services, deliveryPartnersImporter, file, by), {
    kind: 'delivery-partners',
    rows: 2,
    created: 1,
    updated: 1,
    unchanged: 0,
  })
  assert.deepEqual(await importFile(services, deliveryPartnersImporter, file, by), {
    kind: 'delivery-partners',
    rows: 2,
    created: 0,
    updated: 0,
    unchanged: 2,
  })
  const partnerships = await services.db.selectFrom('delivery_partnerships').selectAll().execute()
  assert.equal(partnerships.length, 2)
})

test('participants: created, then unchanged on a second import; an edit updates and is audited', async () => {
  const file = `${header}\n${jo}\n${sam}\n`
  assert.deepEqual(await importFile(services, participantsImporter, file, by), {
    kind: 'participants',
    rows: 2,
    created: 2,
    updated: 0,
    unchanged: 0,
  })
  assert.deepEqual(await importFile(services, participantsImporter, file, by), {
    kind: 'participants',
    rows: 2,
    created: 0,
    updated: 0,
    unchanged: 2,
  })
  const joRow = await services.db.selectFrom('participants').selectAll().where('trn', '=', '1234567').executeTakeFirstOrThrow()
  assert.equal(joRow.email, 'jo@school.test')
  const enrolment = await services.db.selectFrom('enrolments').selectAll().where('participant_id', '=', joRow.id).executeTakeFirstOrThrow()
  assert.ok(enrolment.school_contract_signed_on && enrolment.sponsorship_agreement_signed_on)

  const renamed = `${header}\n${jo.replace('Jo Bloggs', 'Joanne Bloggs')}\n${sam}\n`
  assert.deepEqual(await importFile(services, participantsImporter, renamed, by), {
    kind: 'participants',
    rows: 2,
    created: 0,
    updated: 1,
    unchanged: 1,
  })
  const audit = await services.db.selectFrom('audit_events').select('action').where('entity_id', '=', joRow.id).orderBy('id').execute()
  assert.deepEqual(
    audit.map((a) => a.action),
    ['participant.created', 'participant.updated'],
  )
})

test('a bad file reports every problem with line and column, and writes nothing', async () => {
  const before = [await count('participants'), await count('enrolments'), await count('organisations')]
  const file = [
    header,
    'not-a-uuid,Jo Bloggs,jo@school.test,12345,edt,riverbank-tsh,npq-headship,2022-autumn,123456,yes,maybe',
    '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f62,Al Lee,al@school.test,1111111,edt,nowhere-tsh,npq-headship,2030-autumn,654321,yes,yes',
    '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f63,Bo Diddley,bo@school.test,7654321,edt,riverbank-tsh,npq-headship,2022-autumn,999999,no,no',
  ].join('\n')
  assert.deepEqual(await problemsOf(importFile(services, participantsImporter, file, by)), [
    'f.csv:2:1 (participant_id): must be a UUID',
    'f.csv:2:4 (trn): must be 7 digits',
    'f.csv:2:11 (sponsorship_agreement_signed): must be yes or no',
    'f.csv:3:6 (delivery_partner): unknown delivery partner "nowhere-tsh" (import delivery-partners first)',
    'f.csv:3:8 (cohort): edt does not run npq-headship in cohort 2030-autumn',
    'f.csv:4:4 (trn): TRN 7654321 already belongs to participant 0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f61',
  ])
  assert.deepEqual([await count('participants'), await count('enrolments'), await count('organisations')], before)
})

test('the header must name known columns, each once, and every required one', async () => {
  const problems = await problemsOf(importFile(services, deliveryPartnersImporter, 'name,name,colour\nA,B,C\n', by))
  assert.deepEqual(problems, [
    'f.csv:1 (delivery_partner_id): missing column "delivery_partner_id"',
    'f.csv:1 (lead_provider): missing column "lead_provider"',
    'f.csv:1:2 (name): column "name" appears twice',
    'f.csv:1:3 (colour): unknown column "colour" (columns: delivery_partner_id, name, lead_provider)',
  ])
  assert.deepEqual(await problemsOf(importFile(services, deliveryPartnersImporter, '', by)), [
    'f.csv:1: the file is empty: a header row is required',
  ])
})

const figureRefreshes = async () =>
  Number((await sql<{ n: string }>`select count(*) as n from pgboss.job where name = 'figures-refresh'`.execute(services.db)).rows[0]!.n)

test('activity: learning records are imported once; the same file again changes nothing', async () => {
  const refreshes = await figureRefreshes()
  const file = [
    'participant_id,activity_code,occurred_at,source,progress_percent',
    '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f60,NPQH-B1-DIAGNOSTIC,2022-11-20T09:15:00Z,automatic,',
    '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f60,NPQH-B1-VIDEO,2022-11-20T23:30:00-01:00,automatic,95',
  ].join('\n')
  assert.deepEqual(await importFile(services, activityImporter, file, by), {
    kind: 'activity',
    rows: 2,
    created: 2,
    updated: 0,
    unchanged: 0,
  })
  assert.deepEqual(await importFile(services, activityImporter, file, by), {
    kind: 'activity',
    rows: 2,
    created: 0,
    updated: 0,
    unchanged: 2,
  })
  // The import that changed something asks for the figures to be recomputed; the one that did not, does not.
  assert.equal(await figureRefreshes(), refreshes + 1)
  const video = await services.db
    .selectFrom('learning_records')
    .selectAll()
    .where('activity_code', '=', 'NPQH-B1-VIDEO')
    .executeTakeFirstOrThrow()
  assert.equal(video.evidence_on, '2022-11-21') // 00:30 on 21 November in London
  assert.equal(Number(video.progress_percent), 95)
  await assert.rejects(services.db.updateTable('learning_records').set({ source: 'self-report' }).execute(), /append-only/)
})

test('activity: unknown codes and participants, events, self-reports without self-reporting, the future and bad percentages are refused', async () => {
  const before = await services.db.selectFrom('learning_records').select('id').execute()
  const future = new Date(Date.now() + 86_400_000).toISOString()
  const file = [
    'participant_id,activity_code,occurred_at,source,progress_percent',
    '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f60,NPQH-B9-NOPE,2022-11-20T09:15:00Z,automatic,',
    '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f60,NPQH-B1-F2F,2022-11-20T09:15:00Z,automatic,',
    '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f60,NPQH-B1-MIT,2022-11-20T09:15:00Z,self-report,',
    `0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f60,NPQH-B1-S1.1a,${future},automatic,`,
    '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f60,NPQH-B1-VIDEO,2022-11-20T09:15:00Z,automatic,120',
    'aaaaaaaa-6c1e-4a53-8a59-2f3c1d4e5f60,NPQH-B1-VIDEO,2022-11-20T09:15:00Z,automatic,',
    '0b9f9a3e-6c1e-4a53-8a59-2f3c1d4e5f60,NPQH-B1-VIDEO,20/11/2022 09:15,automatic,',
  ].join('\n')
  const problems = await problemsOf(importFile(services, activityImporter, file, by))
  assert.deepEqual(problems, [
    'f.csv:2:2 (activity_code): NPQH-B9-NOPE is not an activity of npq-headship in cohort 2022-autumn',
    "f.csv:3:4 (source): NPQH-B1-F2F is an event: attendance is evidenced by the facilitator's register, not activity rows",
    'f.csv:4:4 (source): cohort 2022-autumn does not use self-reporting with edt',
    `f.csv:5:3 (occurred_at): ${future} is in the future`,
    'f.csv:6:5 (progress_percent): must be from 0 to 100',
    'f.csv:7:1 (participant_id): unknown participant aaaaaaaa-6c1e-4a53-8a59-2f3c1d4e5f60',
    'f.csv:8:3 (occurred_at): must be an ISO 8601 timestamp with an offset or Z, e.g. 2022-11-24T14:05:00Z',
  ])
  assert.equal((await services.db.selectFrom('learning_records').select('id').execute()).length, before.length)
})
