import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { organisation, systemPrincipal as by } from '../test-support/fixtures.ts'
import { recordRegisterEntry, type RegisterEntry } from './register-entries.ts'

// attendance_firsts is kept by triggers on register_entries and events (migration 0007). Whatever is
// written, corrected or moved, it must equal the first current attendance per key computed from scratch.

let services: TestServices
let edt: string
let northStar: string
const pat = '00000000-0000-4000-8000-0000000000b1'
const quin = '00000000-0000-4000-8000-0000000000b2'

before(async () => {
  services = await createTestServices()
  edt = await organisation(services.db, 'lead-provider', 'edt')
  northStar = await organisation(services.db, 'delivery-partner', 'north-star')
  await services.db
    .insertInto('participants')
    .values([
      { id: pat, full_name: 'Pat Lane', email: 'pat@school.test', trn: '3000001' },
      { id: quin, full_name: 'Quin Moss', email: 'quin@school.test', trn: '3000002' },
    ])
    .execute()
})
after(() => services.dispose())

async function event(ref: string, activityCode: string | null, day: string): Promise<string> {
  const row = await services.db
    .insertInto('events')
    .values({
      event_ref: ref,
      lead_provider_id: edt,
      delivery_partner_id: northStar,
      course_identifier: 'npq-leading-teaching',
      cohort: '2022-autumn',
      activity_code: activityCode,
      kind: 'f2f',
      starts_at: `${day}T09:00:00Z`,
      ends_at: `${day}T15:00:00Z`,
      starts_on: day,
      capacity: 30,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}

const register = (entry: Partial<RegisterEntry> & Pick<RegisterEntry, 'eventId' | 'participantId' | 'status'>) =>
  services.db.transaction().execute((trx) => recordRegisterEntry(trx, by, { completedAt: null, completedOn: null, note: null, ...entry }))

const firsts = async () =>
  (
    await services.db
      .selectFrom('attendance_firsts')
      .select(['participant_id', 'activity_code', 'status', 'first_on'])
      .orderBy('participant_id')
      .orderBy('activity_code')
      .orderBy('status')
      .execute()
  ).map((a) => `${a.participant_id === pat ? 'pat' : 'quin'} ${a.activity_code} ${a.status} ${a.first_on}`)

async function fromScratch(): Promise<string[]> {
  const rows = await sql<{ participant_id: string; activity_code: string; status: string; first_on: string }>`
    select r.participant_id, ev.activity_code, r.status, min(coalesce(r.completed_on, ev.starts_on)) as first_on
    from register_entries r join events ev on ev.id = r.event_id
    where r.status in ('attended', 'contingency-completed') and ev.activity_code is not null
      and not exists (select from register_entries s where s.supersedes = r.id)
    group by 1, 2, 3 order by 1, 2, 3`.execute(services.db)
  return rows.rows.map((a) => `${a.participant_id === pat ? 'pat' : 'quin'} ${a.activity_code} ${a.status} ${a.first_on}`)
}

test('first attendance per activity and status: absences and events without an activity do not count', async () => {
  const first = await event('F2F-1a', 'NPQLT-B1-F2F', '2022-11-15')
  const repeat = await event('F2F-1b', 'NPQLT-B1-F2F', '2022-11-29')
  const welcome = await event('WELCOME', null, '2022-11-01')
  await register({ eventId: repeat, participantId: pat, status: 'attended' })
  await register({ eventId: first, participantId: pat, status: 'attended' }) // recorded later, held earlier
  await register({ eventId: first, participantId: quin, status: 'absent' })
  await register({ eventId: welcome, participantId: quin, status: 'attended' })
  await register({
    eventId: repeat,
    participantId: quin,
    status: 'contingency-completed',
    completedAt: '2022-12-05T10:00:00Z',
    completedOn: '2022-12-05',
  })
  assert.deepEqual(await firsts(), ['pat NPQLT-B1-F2F attended 2022-11-15', 'quin NPQLT-B1-F2F contingency-completed 2022-12-05'])
  assert.deepEqual(await firsts(), await fromScratch())
})

test('a corrected register entry and a moved event recompute their keys', async () => {
  const live = await event('LIVE-1', 'NPQLT-B1-LIVE', '2022-11-22')
  const again = await event('LIVE-2', 'NPQLT-B1-LIVE', '2022-12-06')
  await register({ eventId: live, participantId: pat, status: 'attended' })
  await register({ eventId: again, participantId: pat, status: 'attended' })
  assert.ok((await firsts()).includes('pat NPQLT-B1-LIVE attended 2022-11-22'))

  // The first register was wrong: Pat was absent. The first attendance is now the second event.
  assert.equal(await register({ eventId: live, participantId: pat, status: 'absent', note: 'marked in error' }), 'updated')
  assert.ok((await firsts()).includes('pat NPQLT-B1-LIVE attended 2022-12-06'))

  // The second event is moved a week earlier, then given another activity.
  await services.db.updateTable('events').set({ starts_on: '2022-11-29' }).where('id', '=', again).execute()
  assert.ok((await firsts()).includes('pat NPQLT-B1-LIVE attended 2022-11-29'))
  await services.db.updateTable('events').set({ activity_code: 'NPQLT-B2-LIVE' }).where('id', '=', again).execute()
  const now = await firsts()
  assert.ok(!now.some((a) => a.includes('NPQLT-B1-LIVE')))
  assert.ok(now.includes('pat NPQLT-B2-LIVE attended 2022-11-29'))

  assert.deepEqual(now, await fromScratch())
})
