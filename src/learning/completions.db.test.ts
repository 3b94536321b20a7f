import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { systemPrincipal as by } from '../test-support/fixtures.ts'
import { correctLearningRecord } from './corrections.ts'

// learning_completions is kept by a trigger on learning_records (migration 0007). Whatever is written,
// in whatever order, it must equal the first current completion per key computed from scratch.

let services: TestServices
const pat = '00000000-0000-4000-8000-0000000000a1'
const quin = '00000000-0000-4000-8000-0000000000a2'

before(async () => {
  services = await createTestServices()
  await services.db
    .insertInto('participants')
    .values([
      { id: pat, full_name: 'Pat Lane', email: 'pat@school.test', trn: '2000001' },
      { id: quin, full_name: 'Quin Moss', email: 'quin@school.test', trn: '2000002' },
    ])
    .execute()
})
after(() => services.dispose())

type Row = {
  participant_id: string
  activity_code: string
  occurred_at: string
  source?: 'automatic' | 'self-report'
  progress_percent?: number | null
}

async function record(...rows: Row[]): Promise<string[]> {
  const inserted = await services.db
    .insertInto('learning_records')
    .values(
      rows.map((r) => ({
        participant_id: r.participant_id,
        course_identifier: 'npq-leading-teaching',
        activity_code: r.activity_code,
        occurred_at: r.occurred_at,
        evidence_on: r.occurred_at.slice(0, 10),
        source: r.source ?? 'automatic',
        progress_percent: r.progress_percent ?? null,
      })),
    )
    .returning('id')
    .execute()
  return inserted.map((r) => r.id)
}

const completions = async () =>
  (
    await services.db
      .selectFrom('learning_completions')
      .select(['participant_id', 'activity_code', 'source', 'first_on'])
      .orderBy('participant_id')
      .orderBy('activity_code')
      .orderBy('source')
      .execute()
  ).map((c) => `${c.participant_id === pat ? 'pat' : 'quin'} ${c.activity_code} ${c.source} ${c.first_on}`)

async function fromScratch(): Promise<string[]> {
  const rows = await sql<{ participant_id: string; activity_code: string; source: string; first_on: string }>`
    select r.participant_id, r.activity_code, r.source, min(r.evidence_on) as first_on from learning_records r
    where not r.retracted and (r.progress_percent is null or r.progress_percent >= 100)
      and not exists (select from learning_records s where s.supersedes = r.id)
    group by 1, 2, 3 order by 1, 2, 3`.execute(services.db)
  return rows.rows.map((c) => `${c.participant_id === pat ? 'pat' : 'quin'} ${c.activity_code} ${c.source} ${c.first_on}`)
}

test('first completions: earliest date per key and source; progress below 100 is not a completion', async () => {
  await record(
    { participant_id: pat, activity_code: 'NPQLT-B1-M1', occurred_at: '2022-11-10T09:00:00Z' },
    { participant_id: pat, activity_code: 'NPQLT-B1-VIDEO', occurred_at: '2022-11-09T09:00:00Z', progress_percent: 40 },
    { participant_id: quin, activity_code: 'NPQLT-B1-M1', occurred_at: '2022-11-12T09:00:00Z', source: 'self-report' },
  )
  await record({ participant_id: pat, activity_code: 'NPQLT-B1-M1', occurred_at: '2022-11-20T09:00:00Z' }) // later: no change
  await record({ participant_id: pat, activity_code: 'NPQLT-B1-M1', occurred_at: '2022-11-05T09:00:00Z' }) // arrives late, earlier
  await record({ participant_id: pat, activity_code: 'NPQLT-B1-VIDEO', occurred_at: '2022-11-15T09:00:00Z', progress_percent: 100 })
  assert.deepEqual(await completions(), [
    'pat NPQLT-B1-M1 automatic 2022-11-05',
    'pat NPQLT-B1-VIDEO automatic 2022-11-15',
    'quin NPQLT-B1-M1 self-report 2022-11-12',
  ])
  assert.deepEqual(await completions(), await fromScratch())
})

test('corrections and retractions recompute the keys they touch', async () => {
  const [only] = await record({ participant_id: quin, activity_code: 'NPQLT-B2-M1', occurred_at: '2022-12-01T09:00:00Z' })
  const [first, second] = await record(
    { participant_id: quin, activity_code: 'NPQLT-B2-M2', occurred_at: '2022-12-02T09:00:00Z' },
    { participant_id: quin, activity_code: 'NPQLT-B2-M2', occurred_at: '2022-12-09T09:00:00Z' },
  )
  const correct = (id: string, change: Parameters<typeof correctLearningRecord>[3]) =>
    services.db.transaction().execute((trx) => correctLearningRecord(trx, by, id, change))

  // Retracting the only completion removes the key; restoring it with a date puts it back.
  const retraction = await correct(only!, { retract: true, reason: 'entered in error' })
  assert.ok(!(await completions()).some((c) => c.includes('NPQLT-B2-M1')))
  await correct(retraction.id, { occurredAt: '2022-12-03T09:00:00Z', reason: 'done after all' })
  assert.ok((await completions()).includes('quin NPQLT-B2-M1 automatic 2022-12-03'))

  // Retracting the first of two moves the first date to the second; correcting the second to a
  // percentage below 100 removes the key.
  await correct(first!, { retract: true, reason: 'wrong participant' })
  assert.ok((await completions()).includes('quin NPQLT-B2-M2 automatic 2022-12-09'))
  await correct(second!, { progressPercent: 60, reason: 'only watched part' })
  assert.ok(!(await completions()).some((c) => c.includes('NPQLT-B2-M2')))

  // A correction to an earlier date brings the first date earlier.
  const [late] = await record({ participant_id: pat, activity_code: 'NPQLT-B2-M3', occurred_at: '2023-01-10T09:00:00Z' })
  await correct(late!, { occurredAt: '2023-01-02T09:00:00Z', reason: 'clock was wrong' })
  assert.ok((await completions()).includes('pat NPQLT-B2-M3 automatic 2023-01-02'))

  assert.deepEqual(await completions(), await fromScratch())
})

test('learning record ids are time-ordered (UUIDv7), so their index is appended to', async () => {
  const ids = await record(
    { participant_id: pat, activity_code: 'NPQLT-B3-M1', occurred_at: '2023-02-01T09:00:00Z' },
    { participant_id: pat, activity_code: 'NPQLT-B3-M2', occurred_at: '2023-02-01T09:00:00Z' },
  )
  for (const id of ids) assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  const millis = parseInt(ids[0]!.replace(/-/g, '').slice(0, 12), 16)
  assert.ok(Math.abs(millis - Date.now()) < 60_000, 'the first 48 bits are the time in milliseconds')
})
