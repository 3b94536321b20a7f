import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { readCalendar } from '../../src/calendar/test-fixtures.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// A participant sees their booked events on Home, creates a private calendar link, a calendar program
// reads it (no session), and replacing the link stops the old one.

let h: BrowserHarness
let eventId: string
const startsAt = new Date(Date.now() + 7 * 86_400_000)
startsAt.setUTCHours(9, 30, 0, 0)
const endsAt = new Date(startsAt.getTime() + 6.5 * 3_600_000)

before(async () => {
  h = await startBrowserHarness()
  const db = h.services.db
  // Set up directly in the database: an event next week, with the demo participant booked on it.
  const enrolment = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('users as u', 'u.id', 'p.user_id')
    .select(['e.participant_id', 'e.lead_provider_id', 'e.delivery_partner_id', 'e.course_identifier', 'e.cohort'])
    .where('u.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', 'npq-headship')
    .executeTakeFirstOrThrow()
  const event = await db
    .insertInto('events')
    .values({
      event_ref: 'CAL-BROWSER-1',
      lead_provider_id: enrolment.lead_provider_id,
      delivery_partner_id: enrolment.delivery_partner_id,
      course_identifier: enrolment.course_identifier,
      cohort: enrolment.cohort,
      activity_code: null,
      kind: 'welcome',
      title: 'Calendar test welcome event',
      venue: 'North Star TSH, 1 High Street',
      starts_at: startsAt.toISOString(),
      ends_at: endsAt.toISOString(),
      starts_on: startsAt.toISOString().slice(0, 10),
      capacity: 30,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  eventId = event.id
  await db
    .insertInto('bookings')
    .values({ event_id: eventId, participant_id: enrolment.participant_id, status: 'booked', booked_at: new Date() })
    .execute()
})
after(() => h.close())

const linkOn = async (page: import('playwright-core').Page) => (await page.locator('#calendar-link').textContent())!.trim()

test('a participant sees their events on Home, creates a calendar link, reads it, and replaces it (the old link stops)', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'participant@demo.test')
  await page.goto(`${h.baseUrl}/participant`)
  await expectAccessible(page)
  const events = page.getByRole('table', { name: /Your events/ })
  const date = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Europe/London',
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    year: 'numeric',
  })
    .format(startsAt)
    .replace(',', '')
  assert.match((await events.textContent()) ?? '', new RegExp(`Calendar test welcome event[\\s\\S]*Booked event[\\s\\S]*${date}`))
  assert.equal(
    await events.getByRole('link', { name: 'Calendar test welcome event' }).getAttribute('href'),
    `/participant/events/${eventId}`,
  )

  await page.getByRole('link', { name: 'Add your events to your calendar app' }).click()
  assert.equal(new URL(page.url()).pathname, '/account/calendar')
  await expectAccessible(page)
  await page.getByRole('button', { name: 'Create calendar link' }).click()
  await expectAccessible(page)
  const first = await linkOn(page)
  assert.ok(first.startsWith(`${h.baseUrl}/calendar/`))

  // A calendar program fetches it without any session.
  const response = await fetch(first)
  assert.equal(response.status, 200)
  assert.match(response.headers.get('content-type') ?? '', /^text\/calendar/)
  const feed = readCalendar(await response.text())
  const mine = feed.events.find((e) => e.uid === `${eventId}@npq-platform`)
  assert.ok(mine, 'the booked event is in the feed')
  assert.equal(mine.summary, 'Calendar test welcome event')
  assert.equal(mine.start.toISOString(), startsAt.toISOString())
  assert.equal(mine.end.toISOString(), endsAt.toISOString())
  assert.equal(mine.status, 'CONFIRMED')

  // Replaced: the old link is gone, the new one works.
  await page.goto(`${h.baseUrl}/account/calendar`)
  await expectAccessible(page)
  assert.equal(await page.locator('#calendar-link').count(), 0, 'the link is shown only once')
  await page.getByRole('button', { name: 'Replace link' }).click()
  await expectAccessible(page)
  const second = await linkOn(page)
  assert.notEqual(second, first)
  assert.equal((await fetch(first)).status, 404)
  assert.equal((await fetch(second)).status, 200)

  await page.getByRole('button', { name: 'Stop calendar link' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('main').textContent()) ?? '', /Your calendar link has stopped working/)
  assert.equal((await fetch(second)).status, 404)
})

test('a delivery partner lead sees the partner’s upcoming events on Home; a lead-provider admin the central ones', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'delivery-partner-lead@demo.test')
  await page.goto(`${h.baseUrl}/delivery-partner`)
  await expectAccessible(page)
  const events = page.getByRole('table', { name: /Upcoming events/ })
  assert.match((await events.textContent()) ?? '', /Calendar test welcome event[\s\S]*1 of 30/)
  assert.equal(
    await events.getByRole('link', { name: 'Calendar test welcome event' }).getAttribute('href'),
    `/delivery-partner/events/${eventId}`,
  )

  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.goto(`${h.baseUrl}/lead-provider`)
  await expectAccessible(admin)
  assert.match((await admin.locator('main').textContent()) ?? '', /Upcoming central events[\s\S]*There are no upcoming central events/)
})
