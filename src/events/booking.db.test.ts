import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { formatProblem } from '../imports/csv.ts'
import { ImportError, importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { AppError } from '../errors.ts'
import { organisation, systemPrincipal as by } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { bookEvent, cancelBooking } from './booking.ts'
import { loadEvent } from './events.ts'
import { cancelEvent, scheduleEvents, updateEvent, type EventInput } from './scheduling.ts'

// Scheduling and booking against the database: every rule of issue 5's "Bad input", the waiting list
// and its promotion in order, and the emails each change sends.

let services: TestServices
let edt: string
let northStar: string
let eastCoast: string
const ids = {
  ana: '00000000-0000-4000-8000-0000000000c1',
  ben: '00000000-0000-4000-8000-0000000000c2',
  cat: '00000000-0000-4000-8000-0000000000c3',
  dev: '00000000-0000-4000-8000-0000000000c4', // East Coast
  eve: '00000000-0000-4000-8000-0000000000c5', // deferred
}
const now = new Date('2022-11-01T12:00:00Z')

before(async () => {
  services = await createTestServices()
  edt = await organisation(services.db, 'lead-provider', 'edt', 'Education Development Trust')
  const run = (kind: string, text: string) => importFile(services, importers[kind]!, text, by)
  await run('delivery-partners', 'delivery_partner_id,name,lead_provider\nnorth-star,North Star TSH,edt\neast-coast,East Coast TSH,edt\n')
  northStar = (await services.db.selectFrom('organisations').select('id').where('code', '=', 'north-star').executeTakeFirstOrThrow()).id
  eastCoast = (await services.db.selectFrom('organisations').select('id').where('code', '=', 'east-coast').executeTakeFirstOrThrow()).id
  const header =
    'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed'
  const row = (id: string, name: string, dp: string, trn: string) =>
    `${id},${name},${name.toLowerCase()}@school.test,${trn},edt,${dp},npq-leading-teaching,2022-autumn,100001,yes,yes`
  await run(
    'participants',
    [
      header,
      row(ids.ana, 'Ana', 'north-star', '1000001'),
      row(ids.ben, 'Ben', 'north-star', '1000002'),
      row(ids.cat, 'Cat', 'north-star', '1000003'),
      row(ids.dev, 'Dev', 'east-coast', '1000004'),
      row(ids.eve, 'Eve', 'north-star', '1000005'),
    ].join('\n'),
  )
  await services.db.updateTable('enrolments').set({ status: 'deferred' }).where('participant_id', '=', ids.eve).execute()
})
after(() => services.dispose())

const input = (overrides: Partial<EventInput> = {}): EventInput => ({
  leadProviderId: edt,
  deliveryPartnerId: northStar,
  courseIdentifier: 'npq-leading-teaching',
  cohort: '2022-autumn',
  kind: 'f2f',
  activityCode: 'NPQLT-B1-F2F',
  title: 'Block 1 face-to-face',
  description: null,
  startsAt: new Date('2022-11-15T09:30:00Z'),
  endsAt: new Date('2022-11-15T16:00:00Z'),
  venue: 'North Star TSH, 1 High Street',
  joiningLink: null,
  capacity: 2,
  bookingOpensAt: null,
  bookingClosesAt: null,
  cancelBy: new Date('2022-11-13T17:00:00Z'),
  reminderDaysBefore: null,
  facilitatorUserIds: [],
  sharedWithPartnerIds: [],
  ...overrides,
})

const schedule = (i: EventInput) => services.db.transaction().execute((trx) => scheduleEvents(trx, services, by, [i]))
const book = (eventId: string, participantId: string, options: { waitingList?: boolean; now?: Date } = {}) =>
  services.db.transaction().execute((trx) => bookEvent(trx, services, by, eventId, participantId, { now, ...options }))
const cancel = (eventId: string, participantId: string, options: { onBehalf?: boolean; now?: Date } = {}) =>
  services.db.transaction().execute((trx) => cancelBooking(trx, services, by, eventId, participantId, { now, ...options }))

async function refusal(work: () => Promise<unknown>): Promise<string> {
  const emailsBefore = await emailCount()
  try {
    await work()
  } catch (error) {
    if (error instanceof ImportError) return error.problems.map((p) => formatProblem('events.csv', p)).join(' | ')
    assert.ok(error instanceof AppError, String(error))
    assert.equal(await emailCount(), emailsBefore, 'a refused change sends nothing')
    return [error.message, ...error.fieldErrors.map((f) => `${f.field}: ${f.message}`)].join(' | ')
  }
  throw new Error('expected a refusal')
}
const emailCount = async () =>
  Number(
    (
      await services.db
        .selectFrom('email_outbox')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
const lastEmailTo = (address: string) =>
  services.db
    .selectFrom('email_outbox')
    .selectAll()
    .where('to_address', '=', address)
    .orderBy('created_at', 'desc')
    .limit(1)
    .executeTakeFirstOrThrow()

test('scheduling refuses an end before the start, a non-event activity, no venue or link, and a bad joining link', async () => {
  const problems = await refusal(() =>
    schedule(input({ endsAt: new Date('2022-11-15T08:00:00Z'), activityCode: 'NPQLT-B1-M1', venue: null, joiningLink: 'http://x' })),
  )
  assert.match(problems, /ends: The end must be after the start/)
  assert.match(problems, /activity: .*not an (event )?activity/)
  assert.match(problems, /joining_link: The joining link must start with https:\/\//)
  const noPlace = await refusal(() => schedule(input({ venue: null })))
  assert.match(noPlace, /venue: Enter the venue address or an online joining link/)
  assert.equal(await services.db.selectFrom('events').select('id').executeTakeFirst(), undefined)
})

test('booking: places, then a waiting list in order, promotion by email when a place comes free', async () => {
  const [eventId] = await schedule(input())
  const ana = await book(eventId!, ids.ana)
  assert.deepEqual(ana, { bookingId: await bookingOf(eventId!, ids.ana), status: 'booked' })
  assert.equal((await book(eventId!, ids.ben)).status, 'booked')
  assert.match((await lastEmailTo('ana@school.test')).subject, /^Booking confirmed: Block 1 face-to-face/)
  assert.ok((await lastEmailTo('ana@school.test')).attachments?.[0]?.content.includes('BEGIN:VCALENDAR'))

  // Full: an error unless the participant asks for the waiting list.
  assert.match(await refusal(() => book(eventId!, ids.cat)), /This event is full: join the waiting list instead/)
  assert.equal((await book(eventId!, ids.cat, { waitingList: true })).status, 'waiting')
  assert.match((await lastEmailTo('cat@school.test')).subject, /waiting list/)

  // Leaving the waiting list and joining it again keeps the order fair: the newest request is last.
  await cancel(eventId!, ids.cat)
  assert.equal((await loadEvent(services.db, eventId!))!.waiting, 0)
  assert.equal((await book(eventId!, ids.cat, { waitingList: true })).status, 'waiting')

  // Ben cancels before the cut-off: Cat is promoted and told.
  await cancel(eventId!, ids.ben)
  const event = await loadEvent(services.db, eventId!)
  assert.deepEqual([event!.booked, event!.waiting], [2, 0])
  assert.match((await lastEmailTo('cat@school.test')).subject, /^A place has come free/)
  assert.match((await lastEmailTo('ben@school.test')).subject, /^Booking cancelled/)

  // After the cut-off a participant cannot cancel; their delivery partner still can.
  const late = new Date('2022-11-14T09:00:00Z')
  assert.match(await refusal(() => cancel(eventId!, ids.ana, { now: late })), /Cancellations closed on Sunday 13 November 2022 at 5pm/)
  await cancel(eventId!, ids.ana, { now: late, onBehalf: true })
})

const bookingOf = async (eventId: string, participantId: string) =>
  (
    await services.db
      .selectFrom('bookings')
      .select('id')
      .where('event_id', '=', eventId)
      .where('participant_id', '=', participantId)
      .where('status', '<>', 'cancelled')
      .executeTakeFirstOrThrow()
  ).id

test('booking refuses a double booking, another date of the same activity, other partners, deferral, closed windows and the past', async () => {
  const [first] = await schedule(input({ title: 'F2F option A', capacity: 10 }))
  const [second] = await schedule(
    input({ title: 'F2F option B', capacity: 10, startsAt: new Date('2022-11-22T09:30:00Z'), endsAt: new Date('2022-11-22T16:00:00Z') }),
  )
  const [later] = await schedule(
    input({
      title: 'Live webinar',
      kind: 'live-webinar',
      activityCode: 'NPQLT-B1-LIVE',
      venue: null,
      joiningLink: 'https://meet.example/b1',
      bookingOpensAt: new Date('2022-11-05T09:00:00Z'),
    }),
  )
  await book(first!, ids.ben)
  assert.match(await refusal(() => book(first!, ids.ben)), /You are already booked on this event/)
  assert.match(
    await refusal(() => book(second!, ids.ben)),
    /already booked on this session on another date \(F2F option A, Tuesday 15 November 2022 at 9:30am\)/,
  )
  assert.match(await refusal(() => book(first!, ids.dev)), /This event is not open to you/)
  assert.match(await refusal(() => book(first!, ids.eve)), /deferred/)
  // Recorded withdrawals count by their dates: Eve withdrew on 20 October 2022.
  await importFile(services, importers.withdrawals!, `participant_id,reason,withdrawn_on\n${ids.eve},change-in-career,2022-10-20\n`, by)
  assert.match(await refusal(() => book(first!, ids.eve)), /you have withdrawn/)
  // A recorded deferral counts from deferred_on until the day before planned_return_on.
  await importFile(
    services,
    importers.deferrals!,
    `participant_id,reason,deferred_on,planned_return_on\n${ids.ben},bereavement,2022-11-02,2022-11-04\n`,
    by,
  )
  assert.match(await refusal(() => book(second!, ids.ben, { now: new Date('2022-11-03T12:00:00Z') })), /deferred/)
  assert.match(await refusal(() => book(later!, ids.ana)), /Booking for this event opens on Saturday 5 November 2022 at 9am/)
  assert.match(await refusal(() => book(first!, ids.ana, { now: new Date('2022-11-15T10:00:00Z') })), /already started/)

  // Shared with East Coast: Dev may now book it.
  await services.db.transaction().execute(async (trx) => {
    const event = (await loadEvent(trx, first!))!
    await updateEvent(trx, services, by, first!, {
      ...input({ title: 'F2F option A', capacity: 10 }),
      sharedWithPartnerIds: [eastCoast],
      facilitatorUserIds: [],
    })
    assert.equal(event.sharedWith.length, 0)
  })
  assert.equal((await book(first!, ids.dev)).status, 'booked')
})

test('changing an event: capacity not below bookings, extra places go to the waiting list, a move emails the booked, a cancellation everyone', async () => {
  const [eventId] = await schedule(
    input({ title: 'Small session', activityCode: 'NPQLT-B2-LIVE', venue: null, joiningLink: 'https://meet.example/b2', capacity: 1 }),
  )
  await book(eventId!, ids.ana)
  await book(eventId!, ids.cat, { waitingList: true })
  const update = (i: EventInput) => services.db.transaction().execute((trx) => updateEvent(trx, services, by, eventId!, i, { now }))
  assert.match(
    await refusal(() =>
      update(
        input({ title: 'Small session', activityCode: 'NPQLT-B2-LIVE', venue: null, joiningLink: 'https://meet.example/b2', capacity: 0 }),
      ),
    ),
    /capacity: Capacity must be a whole number, 1 or more/,
  )

  await update(
    input({
      title: 'Small session',
      activityCode: 'NPQLT-B2-LIVE',
      venue: null,
      joiningLink: 'https://meet.example/b2',
      capacity: 2,
      startsAt: new Date('2022-11-16T09:30:00Z'),
      endsAt: new Date('2022-11-16T16:00:00Z'),
    }),
  )
  assert.match((await lastEmailTo('cat@school.test')).subject, /^A place has come free/)
  assert.match((await lastEmailTo('ana@school.test')).subject, /^Event changed/)
  assert.match(
    await refusal(() =>
      update(
        input({ title: 'Small session', activityCode: 'NPQLT-B2-LIVE', venue: null, joiningLink: 'https://meet.example/b2', capacity: 1 }),
      ),
    ),
    /Capacity cannot be below the 2 places already booked/,
  )

  await book(eventId!, ids.ben, { waitingList: true }) // full again: Ben waits, and is told of the cancellation too
  await services.db.transaction().execute((trx) => cancelEvent(trx, services, by, eventId!, 'Venue flooded'))
  assert.match((await lastEmailTo('ben@school.test')).subject, /^Event cancelled/)
  assert.match((await lastEmailTo('ana@school.test')).subject, /^Event cancelled/)
  assert.match((await lastEmailTo('ana@school.test')).body, /Reason: Venue flooded/)
  assert.match(await refusal(() => book(eventId!, ids.ben)), /This event has been cancelled/)
})

test('the events import keeps to the same rules: capacity not below bookings, and a moved event emails the booked', async () => {
  const header = 'event_id,lead_provider,delivery_partner,course_identifier,cohort,activity_code,kind,starts_at,ends_at,capacity'
  const line = (starts: string, capacity: number) =>
    `IMP-LIVE-3,edt,north-star,npq-leading-teaching,2022-autumn,NPQLT-B3-LIVE,live-webinar,${starts},2022-11-30T18:00:00Z,${capacity}`
  const run = (text: string) => importFile(services, importers.events!, text, by)
  await run([header, line('2022-11-30T16:00:00Z', 5)].join('\n'))
  const event = await services.db.selectFrom('events').select('id').where('event_ref', '=', 'IMP-LIVE-3').executeTakeFirstOrThrow()
  await book(event.id, ids.ana)
  await book(event.id, ids.ben)
  const problems = await refusal(() => run([header, line('2022-11-30T16:00:00Z', 1)].join('\n')))
  assert.match(problems, /capacity.*must be at least 2: that many places are already booked/)
  assert.equal((await loadEvent(services.db, event.id))!.capacity, 5)
  await run([header, line('2022-11-30T16:30:00Z', 5)].join('\n'))
  assert.match((await lastEmailTo('ben@school.test')).subject, /^Event changed/)
})
