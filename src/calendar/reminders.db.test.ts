import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { cancelEvent } from '../events/scheduling.ts'
import { systemPrincipal } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { sendBookingReminders, sendRegisterReminders } from './reminders.ts'
import { calendarWorld, ids, readCalendar, type CalendarWorld } from './test-fixtures.ts'

// The reminder jobs' handlers against the database with a fixed "now": each reminder once, to the
// right people, at the right time, even when two workers run at once.

let services: TestServices
let world: CalendarWorld
const booked = new Date('2022-11-01T12:00:00Z')

before(async () => {
  services = await createTestServices()
  world = await calendarWorld(services)
})
after(() => services.dispose())

const emailsTo = (address: string, subject: RegExp) =>
  services.db
    .selectFrom('email_outbox')
    .select(['subject', 'body', 'attachments'])
    .where('to_address', '=', address)
    .orderBy('created_at')
    .execute()
    .then((rows) => rows.filter((r) => subject.test(r.subject)))

test('booking reminders: the event’s number of days before (or the default), once each, with or without an account', async () => {
  const own = await world.schedule(world.input({ title: 'Three-day reminder', reminderDaysBefore: 3 }))
  const byDefault = await world.schedule(
    world.input({
      title: 'Default reminder',
      kind: 'live-webinar',
      activityCode: 'NPQLT-B1-LIVE',
      venue: null,
      joiningLink: 'https://meet.example/b1',
      startsAt: new Date('2022-11-22T16:00:00Z'),
      endsAt: new Date('2022-11-22T17:00:00Z'),
    }),
  )
  for (const p of [ids.ana, ids.ben]) await world.book(own, p, booked)
  await world.book(byDefault, ids.cat, booked)

  // Due at 8am London (GMT) on Saturday 12 November, three days before Tuesday 15th.
  assert.equal(await sendBookingReminders(services, new Date('2022-11-12T07:59:00Z')), 0)
  // Two workers at once: each participant still gets one reminder.
  const at = new Date('2022-11-12T08:00:00Z')
  const [a, b] = await Promise.all([sendBookingReminders(services, at), sendBookingReminders(services, at)])
  assert.equal(a + b, 2)
  assert.equal(await sendBookingReminders(services, new Date('2022-11-14T12:00:00Z')), 0, 'never twice')

  for (const address of ['ana@school.test', 'ben@school.test']) {
    const reminders = await emailsTo(address, /^Reminder: /)
    assert.deepEqual(
      reminders.map((r) => r.subject),
      ['Reminder: Three-day reminder'],
    )
    assert.match(reminders[0]!.body, /Tuesday 15 November 2022, 9:30am to 4pm/)
    const ics = readCalendar(reminders[0]!.attachments![0]!.content)
    assert.equal(ics.events[0]!.uid, `${own}@npq-platform`)
  }
  // One row each, keyed by participant: Ana has an account, Ben has none.
  assert.deepEqual(
    (
      await services.db
        .selectFrom('event_reminders')
        .select(['event_id', 'recipient_id', 'kind'])
        .where('kind', '=', 'booking')
        .orderBy('recipient_id')
        .execute()
    ).map((r) => `${r.event_id} ${r.recipient_id} ${r.kind}`),
    [ids.ana, ids.ben].sort().map((id) => `${own} ${id} booking`),
  )

  // The default (EVENT_REMINDER_DAYS, 2): Sunday 20 November at 8am for Tuesday 22nd.
  assert.equal(services.config.eventReminderDays, 2)
  assert.equal(await sendBookingReminders(services, new Date('2022-11-20T07:45:00Z')), 0)
  assert.equal(await sendBookingReminders(services, new Date('2022-11-20T08:00:00Z')), 1)
  assert.deepEqual(
    (await emailsTo('cat@school.test', /^Reminder: /)).map((r) => r.subject),
    ['Reminder: Default reminder'],
  )
  // Once started, no more.
  assert.equal(await sendBookingReminders(services, new Date('2022-11-22T16:00:00Z')), 0)
})

test('register reminders: the facilitators the day after if not taken, else the partner’s leads; never when taken, cancelled or twice', async () => {
  const withFacilitator = await world.schedule(
    world.input({
      title: 'Facilitated session',
      activityCode: 'NPQLT-B5-F2F',
      startsAt: new Date('2022-12-06T09:30:00Z'),
      endsAt: new Date('2022-12-06T16:00:00Z'),
    }),
  )
  const withoutFacilitator = await world.schedule(
    world.input({
      title: 'Unfacilitated webinar',
      kind: 'live-webinar',
      activityCode: 'NPQLT-B2-LIVE',
      venue: null,
      joiningLink: 'https://meet.example/b2',
      startsAt: new Date('2022-12-06T16:00:00Z'),
      endsAt: new Date('2022-12-06T17:00:00Z'),
      facilitatorUserIds: [],
    }),
  )
  const taken = await world.schedule(
    world.input({
      title: 'Register taken',
      kind: 'live-webinar',
      activityCode: 'NPQLT-B3-LIVE',
      venue: null,
      joiningLink: 'https://meet.example/b3',
      startsAt: new Date('2022-12-06T18:00:00Z'),
      endsAt: new Date('2022-12-06T19:00:00Z'),
    }),
  )
  const cancelled = await world.schedule(
    world.input({
      title: 'Cancelled welcome',
      kind: 'welcome',
      activityCode: null,
      startsAt: new Date('2022-12-06T12:00:00Z'),
      endsAt: new Date('2022-12-06T13:00:00Z'),
    }),
  )
  await services.db.transaction().execute((trx) => cancelEvent(trx, services, systemPrincipal, cancelled, 'No room'))
  await services.db
    .updateTable('events')
    .set({ register_taken_at: new Date('2022-12-06T19:05:00Z'), register_taken_by: world.users.fay })
    .where('id', '=', taken)
    .execute()

  // The first test's events (Fay facilitates both): 15 November's catches up a week late, 22 November's is due.
  assert.equal(await sendRegisterReminders(services, new Date('2022-11-23T09:00:00Z')), 2)

  // Due at 9am London on Wednesday 7 December.
  assert.equal(await sendRegisterReminders(services, new Date('2022-12-07T08:59:00Z')), 0)
  const at = new Date('2022-12-07T09:00:00Z')
  const [a, b] = await Promise.all([sendRegisterReminders(services, at), sendRegisterReminders(services, at)])
  assert.equal(a + b, 2)
  assert.equal(await sendRegisterReminders(services, new Date('2022-12-08T09:00:00Z')), 0, 'never twice')

  const fay = await emailsTo('fay@hub.test', /^Register not taken/)
  assert.deepEqual(
    fay.map((e) => e.subject),
    ['Register not taken: Three-day reminder', 'Register not taken: Default reminder', 'Register not taken: Facilitated session'],
  )
  assert.match(fay[2]!.body, new RegExp(`/events/${withFacilitator}/register`))
  assert.deepEqual(
    (await emailsTo('lee@hub.test', /^Register not taken/)).map((e) => e.subject),
    ['Register not taken: Unfacilitated webinar'],
  )
  assert.deepEqual(
    (
      await services.db
        .selectFrom('event_reminders')
        .select(['event_id', 'recipient_id as user_id'])
        .where('kind', '=', 'register-not-taken')
        .where('event_id', 'in', [withFacilitator, withoutFacilitator, taken, cancelled])
        .execute()
    ).sort((x, y) => x.event_id.localeCompare(y.event_id)),
    [
      { event_id: withFacilitator, user_id: world.users.fay },
      { event_id: withoutFacilitator, user_id: world.users.lee },
    ].sort((x, y) => x.event_id.localeCompare(y.event_id)),
  )

  // The November events of the first test are more than 14 days past: no reminders for them.
  assert.equal(await sendRegisterReminders(services, new Date('2022-12-30T09:00:00Z')), 0)
})
