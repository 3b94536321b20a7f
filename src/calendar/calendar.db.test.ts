import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { loadUserPrincipal } from '../accounts/principals.ts'
import { bookEvent, cancelBooking } from '../events/booking.ts'
import { cancelEvent, updateEvent } from '../events/scheduling.ts'
import { buildApp } from '../routes.ts'
import { Agent } from '../test-support/agent.ts'
import { systemPrincipal as by } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { createFeedToken, feedForToken, revokeFeed } from './feeds.ts'
import { feedEvents, upcomingEvents } from './my-events.ts'
import { calendarWorld, ids, password, readCalendar, type CalendarWorld } from './test-fixtures.ts'

// Calendars against the database: the .ics invitation of each booking email and each person's feed,
// read back with ical.js; feed links created, replaced and stopped; Home's "Your events".

let services: TestServices
let world: CalendarWorld
let app: FastifyInstance
const now = new Date('2022-11-01T12:00:00Z')
const DAY = 86_400_000

before(async () => {
  services = await createTestServices()
  world = await calendarWorld(services)
  app = await buildApp(services)
  await app.ready()
})
after(async () => {
  await app.close()
  await services.dispose()
})

const principal = async (userId: string) => {
  const p = await loadUserPrincipal(services.db, userId)
  assert.ok(p && p.kind === 'user')
  return p
}
const feedOf = async (userId: string, at = now) => {
  const token = await createFeedToken(services.db, await principal(userId))
  const text = await feedForToken(services.db, token, { baseUrl: 'https://npq.example', demoAllowed: true, now: at })
  assert.ok(text)
  return readCalendar(text)
}
const attachmentOf = async (address: string) => {
  const email = await world.lastEmailTo(address)
  assert.equal(email.attachments?.length, 1, `${email.subject} has an .ics attachment`)
  assert.match(email.attachments![0]!.contentType, /^text\/calendar/)
  return { subject: email.subject, calendar: readCalendar(email.attachments![0]!.content) }
}

test('a booking email carries an invitation; a change updates the same UID; a cancelled booking sends METHOD:CANCEL', async () => {
  const eventId = await world.schedule(world.input())
  await world.book(eventId, ids.ana, now)

  const booked = await attachmentOf('ana@school.test')
  assert.match(booked.subject, /^Booking confirmed/)
  assert.equal(booked.calendar.method, 'REQUEST')
  assert.equal(booked.calendar.events.length, 1)
  const invitation = booked.calendar.events[0]!
  assert.equal(invitation.summary, 'Block 1 face-to-face')
  assert.equal(invitation.start.toISOString(), '2022-11-15T09:30:00.000Z')
  assert.equal(invitation.end.toISOString(), '2022-11-15T16:00:00.000Z')
  assert.equal(invitation.status, 'CONFIRMED')
  assert.equal(invitation.location, 'North Star TSH, 1 High Street')

  // Moved an hour later: the same UID, so calendars update the entry rather than add one.
  await services.db
    .transaction()
    .execute((trx) =>
      updateEvent(
        trx,
        services,
        by,
        eventId,
        world.input({ startsAt: new Date('2022-11-15T10:30:00Z'), endsAt: new Date('2022-11-15T17:00:00Z') }),
        { now },
      ),
    )
  const changed = await attachmentOf('ana@school.test')
  assert.match(changed.subject, /^Event changed/)
  assert.equal(changed.calendar.events[0]!.uid, invitation.uid)
  assert.equal(changed.calendar.events[0]!.start.toISOString(), '2022-11-15T10:30:00.000Z')

  // Ana's feed has the event, with the same UID and the new time; Fay's (she facilitates) too.
  const anaFeed = await feedOf(world.users.ana)
  assert.deepEqual(
    anaFeed.events.map((e) => [e.uid, e.summary, e.start.toISOString(), e.end.toISOString(), e.status]),
    [[invitation.uid, 'Block 1 face-to-face', '2022-11-15T10:30:00.000Z', '2022-11-15T17:00:00.000Z', 'CONFIRMED']],
  )
  assert.deepEqual(
    (await feedOf(world.users.fay)).events.map((e) => e.uid),
    [invitation.uid],
  )

  // Ana cancels: METHOD:CANCEL and STATUS:CANCELLED, and her feed now shows it cancelled.
  await services.db
    .transaction()
    .execute((trx) => cancelBooking(trx, services, by, eventId, ids.ana, { now: new Date(now.getTime() + DAY) }))
  const cancelled = await attachmentOf('ana@school.test')
  assert.match(cancelled.subject, /^Booking cancelled/)
  assert.equal(cancelled.calendar.method, 'CANCEL')
  assert.deepEqual(
    cancelled.calendar.events.map((e) => [e.uid, e.status]),
    [[invitation.uid, 'CANCELLED']],
  )
  const after = await feedOf(world.users.ana, new Date(now.getTime() + 2 * DAY))
  assert.deepEqual(
    after.events.map((e) => [e.uid, e.status]),
    [[invitation.uid, 'CANCELLED']],
  )
  // Fay still runs it: confirmed in her feed.
  assert.equal((await feedOf(world.users.fay, new Date(now.getTime() + 2 * DAY))).events[0]!.status, 'CONFIRMED')
})

test('a cancelled event: CANCEL to the booked, CANCELLED in every feed for 30 days, then gone', async () => {
  // Near the real date: cancelEvent stamps the real time.
  const startsAt = new Date(Date.now() + 10 * DAY)
  const eventId = await world.schedule(
    world.input({
      title: 'Webinar to cancel',
      kind: 'live-webinar',
      activityCode: 'NPQLT-B1-LIVE',
      venue: null,
      joiningLink: 'https://meet.example/x',
      startsAt,
      endsAt: new Date(startsAt.getTime() + 3_600_000),
    }),
  )
  await world.book(eventId, ids.cat, new Date())
  const uid = (await attachmentOf('cat@school.test')).calendar.events[0]!.uid
  await services.db.transaction().execute((trx) => cancelEvent(trx, services, by, eventId, 'Speaker ill'))
  const email = await attachmentOf('cat@school.test')
  assert.match(email.subject, /^Event cancelled/)
  assert.equal(email.calendar.method, 'CANCEL')
  assert.equal(email.calendar.events[0]!.status, 'CANCELLED')

  for (const user of [world.users.cat, world.users.fay, world.users.lee]) {
    const feed = await feedOf(user, new Date())
    assert.deepEqual(
      feed.events.filter((e) => e.uid === uid).map((e) => e.status),
      ['CANCELLED'],
    )
    assert.deepEqual(
      (await feedOf(user, new Date(Date.now() + 31 * DAY))).events.filter((e) => e.uid === uid),
      [],
    )
  }
  // Not on anyone's Home page.
  assert.equal((await upcomingEvents(services.db, await principal(world.users.cat), 'participant')).length, 0)
})

test("Home's events: a participant's bookings and waiting places, a facilitator's, the partner's, the provider's central events", async () => {
  const startsAt = new Date(Date.now() + 5 * DAY)
  const span = { startsAt, endsAt: new Date(startsAt.getTime() + 2 * 3_600_000) }
  const full = await world.schedule(world.input({ title: 'Full session', capacity: 1, activityCode: 'NPQLT-B5-F2F', ...span }))
  await world.book(full, ids.ben, new Date())
  await services.db.transaction().execute((trx) => bookEvent(trx, services, by, full, ids.ana, { waitingList: true }))
  const central = await world.schedule(
    world.input({
      title: 'Induction conference',
      kind: 'welcome',
      activityCode: null,
      deliveryPartnerId: null,
      facilitatorUserIds: [],
      ...span,
    }),
  )
  const rows = async (userId: string, viewpoint: Parameters<typeof upcomingEvents>[2]) =>
    (await upcomingEvents(services.db, await principal(userId), viewpoint)).map((r) => [
      r.title,
      r.booking,
      r.path,
      `${r.booked}/${r.capacity}+${r.waiting}`,
    ])
  assert.deepEqual(await rows(world.users.ana, 'participant'), [['Full session', 'waiting', `/participant/events/${full}`, '1/1+1']])
  assert.deepEqual(await rows(world.users.fay, 'facilitator'), [['Full session', null, `/events/${full}/register`, '1/1+1']])
  assert.deepEqual(await rows(world.users.lee, 'delivery-partner-lead'), [
    ['Full session', null, `/delivery-partner/events/${full}`, '1/1+1'],
  ])
  assert.deepEqual(await rows(world.users.admin, 'lead-provider-admin'), [
    ['Induction conference', null, `/lead-provider/events/${central}`, '0/10+0'],
  ])
  const date = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'long', year: 'numeric' }).format(
    startsAt,
  )

  // The pages show them.
  for (const [email, path, expected] of [
    ['ana@school.test', '/participant', 'Waiting list'],
    ['fay@hub.test', '/facilitator', 'Full session'],
    ['lee@hub.test', '/delivery-partner', '1 of 1 (1 waiting)'],
    ['admin@edt.test', '/lead-provider', 'Induction conference'],
  ] as const) {
    const agent = new Agent(app)
    await agent.signIn(email, password)
    const page = await agent.get(path)
    assert.equal(page.statusCode, 200)
    assert.ok(page.body.includes(expected), `${path} shows ${expected}`)
    assert.ok(page.body.includes(date), `${path} shows the date ${date}`)
    assert.ok(page.body.includes('href="/account/calendar"'))
  }
  // A waiting place is not in the feed; a facilitator's event is.
  assert.equal((await feedEvents(services.db, await principal(world.users.ana))).filter((m) => m.event.id === full).length, 0)
})

test('calendar link: created on the account page and shown once, replaced (old link 404), stopped; the feed needs no session', async () => {
  const agent = new Agent(app)
  const signedOut = await agent.get('/account/calendar')
  assert.equal(signedOut.statusCode, 303)
  await agent.signIn('ana@school.test', password)
  await services.db.deleteFrom('calendar_feeds').where('user_id', '=', world.users.ana).execute()
  const page = await agent.get('/account/calendar')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /Create calendar link/)

  const created = await agent.post('/account/calendar', {})
  assert.equal(created.statusCode, 200)
  const url = /<code id="calendar-link"[^>]*>([^<]+)<\/code>/.exec(created.body)?.[1]
  assert.ok(url, 'the link is shown')
  const path = new URL(url).pathname
  assert.match(path, /^\/calendar\/cal_[A-Za-z0-9_-]+\.ics$/)
  assert.doesNotMatch((await agent.get('/account/calendar')).body, new RegExp(path), 'shown once only')
  const stored = await services.db
    .selectFrom('calendar_feeds')
    .select('token_hash')
    .where('user_id', '=', world.users.ana)
    .executeTakeFirstOrThrow()
  assert.ok(!path.includes(stored.token_hash), 'only a hash is stored')

  const feed = await app.inject({ method: 'GET', url: path })
  assert.equal(feed.statusCode, 200)
  assert.match(String(feed.headers['content-type']), /^text\/calendar/)
  assert.equal(readCalendar(feed.body).name, 'NPQ events')

  const replaced = await agent.post('/account/calendar', {})
  const newPath = new URL(/<code id="calendar-link"[^>]*>([^<]+)<\/code>/.exec(replaced.body)![1]!).pathname
  assert.notEqual(newPath, path)
  assert.equal((await app.inject({ method: 'GET', url: path })).statusCode, 404)
  assert.equal((await app.inject({ method: 'GET', url: newPath })).statusCode, 200)

  const stopped = await agent.post('/account/calendar/stop', {})
  assert.match(stopped.body, /Your calendar link has stopped working/)
  assert.equal((await app.inject({ method: 'GET', url: newPath })).statusCode, 404)
  assert.equal((await app.inject({ method: 'GET', url: '/calendar/cal_unknown-token-of-enough-length.ics' })).statusCode, 404)
  assert.equal((await app.inject({ method: 'GET', url: '/calendar/nonsense.ics' })).statusCode, 404)
  assert.equal(await revokeFeed(services.db, await principal(world.users.ana)), false)

  // Without the CSRF token nothing changes.
  const forged = await agent.post('/account/calendar', {}, { csrf: null })
  assert.equal(forged.statusCode, 403)
  assert.equal(
    await services.db.selectFrom('calendar_feeds').select('user_id').where('user_id', '=', world.users.ana).executeTakeFirst(),
    undefined,
  )
})
