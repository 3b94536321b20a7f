import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Scheduling and booking events: a delivery-partner lead schedules a face-to-face session (fixing
// mistakes the form reports), a participant books it from the Events zone, the lead books someone
// else on their behalf, then cancels the event; every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''
const year = new Date().getFullYear() + 1

async function fillDate(page: Page, prefix: string, d: number, m: number, y: number) {
  await page.locator(`#${prefix}-day`).fill(String(d))
  await page.locator(`#${prefix}-month`).fill(String(m))
  await page.locator(`#${prefix}-year`).fill(String(y))
}

test('a delivery-partner lead schedules an event, a participant books it, the lead books another and cancels the event', async () => {
  const lead = await (await h.browser.newContext()).newPage()
  await signIn(lead, h.baseUrl, 'delivery-partner-lead@demo.test')
  await lead.getByRole('link', { name: 'Events', exact: true }).click()
  await expectAccessible(lead)
  await lead.getByRole('button', { name: 'Schedule an event' }).click()
  await expectAccessible(lead)

  // Step 1: which course and cohort. Continuing without choosing is an error.
  await lead.getByRole('button', { name: 'Continue' }).click()
  assert.match(await main(lead), /Select the course and cohort/)
  await expectAccessible(lead)
  await lead.getByLabel('Education Development Trust: NPQ for Headship, 2022-autumn').check()
  await lead.getByRole('button', { name: 'Continue' }).click()
  await expectAccessible(lead)

  // Step 2: mistakes first — an end before the start, no venue or link, places not a number.
  await lead.getByLabel('Kind of event').selectOption({ label: 'Face-to-face session' })
  await lead.getByLabel('Activity it delivers').selectOption({ index: 1 })
  await lead.getByLabel('Title (optional)').fill('Headship block 1 face-to-face')
  await fillDate(lead, 'date', 12, 3, year)
  await lead.getByLabel('Start time').fill('09:30')
  await lead.getByLabel('End time').fill('08:00')
  await lead.getByLabel('Places').fill('thirty')
  await lead.getByRole('button', { name: 'Save event' }).click()
  assert.match(await lead.title(), /^Error: /)
  assert.match(await main(lead), /Enter the number of places as a whole number/)
  await expectAccessible(lead)
  await lead.getByLabel('Places').fill('1')
  await lead.getByRole('button', { name: 'Save event' }).click()
  const errors = await lead.locator('.govuk-error-summary').textContent()
  assert.match(errors ?? '', /The end must be after the start/)
  assert.match(errors ?? '', /Enter the venue address or an online joining link/)
  await lead.getByLabel('End time').fill('16:00')
  await lead.getByLabel('Venue address').fill('North Star Teaching School Hub, 1 High Street, Leeds')
  await lead.getByLabel('Fatima Hussain (facilitator@demo.test)').check()
  await lead.getByRole('button', { name: 'Save event' }).click()
  assert.match(await main(lead), /The event is scheduled/)
  assert.match(await main(lead), /0 of 1 booked/)
  await expectAccessible(lead)
  const eventUrl = lead.url()
  const eventId = eventUrl.split('/').pop()!.split('?')[0]!

  // The participant finds it in the Events zone and books the one place.
  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.getByRole('link', { name: 'Events', exact: true }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Headship block 1 face-to-face[\s\S]*1 place left/)
  await priya.getByRole('link', { name: 'Headship block 1 face-to-face' }).click()
  await expectAccessible(priya)
  await priya.getByRole('button', { name: 'Book a place' }).click()
  assert.match(await main(priya), /You are booked on this event/)
  await expectAccessible(priya)
  const email = await h.services.db
    .selectFrom('email_outbox')
    .select(['subject', 'attachments'])
    .where('to_address', '=', 'participant@demo.test')
    .where('subject', 'like', 'Booking confirmed%')
    .executeTakeFirstOrThrow()
  assert.match(email.attachments?.[0]?.content ?? '', /BEGIN:VEVENT[\s\S]*SUMMARY:Headship block 1 face-to-face/)

  // The lead books another participant: the event is full, so they join the waiting list.
  await lead.goto(eventUrl)
  assert.match(await main(lead), /Booked[\s\S]*Priya Patel/)
  await lead.getByLabel('Participant').selectOption({ index: 1 })
  await lead.getByRole('button', { name: 'Book on their behalf' }).click()
  assert.match(await main(lead), /the participant is on the waiting list/)
  assert.match(await main(lead), /Waiting list/)
  await expectAccessible(lead)

  // Priya cancels: the first person waiting gets the place.
  await priya.goto(`${h.baseUrl}/participant/events/${eventId}`)
  await priya.getByRole('button', { name: 'Cancel my booking' }).click()
  assert.match(await main(priya), /Your booking is cancelled/)
  await lead.goto(eventUrl)
  assert.match(await main(lead), /1 of 1 booked/)
  assert.doesNotMatch(await main(lead), /Waiting list/)

  // Cancelling the event needs a reason, then everyone booked is told.
  await lead.getByRole('button', { name: 'Cancel event' }).click()
  assert.match(await main(lead), /Enter the reason for cancelling/)
  await expectAccessible(lead)
  await lead.getByLabel('Reason (sent to everyone booked)').fill('The venue is closed for repairs')
  await lead.getByRole('button', { name: 'Cancel event' }).click()
  assert.match(await main(lead), /The event is cancelled/)
  await priya.goto(`${h.baseUrl}/participant/events/${eventId}`)
  assert.match(await main(priya), /Cancelled/)
  assert.equal(await priya.getByRole('button', { name: 'Book a place' }).count(), 0)
})

test('a participant cannot see events of other courses or partners, and other roles cannot schedule', async () => {
  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test', undefined, { axe: false })
  const other = await h.services.db.selectFrom('events').select('id').where('course_identifier', '<>', 'npq-headship').executeTakeFirst()
  if (other) assert.equal((await priya.goto(`${h.baseUrl}/participant/events/${other.id}`))?.status(), 404)
  assert.equal((await priya.goto(`${h.baseUrl}/delivery-partner/events`))?.status(), 403)
  const facilitator = await (await h.browser.newContext()).newPage()
  await signIn(facilitator, h.baseUrl, 'facilitator@demo.test', undefined, { axe: false })
  assert.equal((await facilitator.goto(`${h.baseUrl}/delivery-partner/events/new`))?.status(), 403)
})

test('a series of peer learning groups: the handbook times are filled in, each session gets its own date and activity', async () => {
  const lead = await (await h.browser.newContext()).newPage()
  await signIn(lead, h.baseUrl, 'delivery-partner-lead@demo.test', undefined, { axe: false })
  await lead.goto(`${h.baseUrl}/delivery-partner/events/new`)
  await lead.getByLabel('UCL Centre for Educational Leadership: NPQ for Leading Behaviour and Culture, 2023-autumn').check()
  await lead.getByLabel('Kind of event').selectOption({ label: 'Peer learning group' })
  await lead.getByLabel('Number of sessions').fill('2')
  await lead.getByRole('button', { name: 'Continue' }).click()
  assert.match((await lead.getByRole('heading', { level: 1 }).textContent()) ?? '', /Schedule a series of 2 sessions/)
  await expectAccessible(lead)
  // UCL's specialist PLGs run 14:00 to 17:00 (seed 001).
  assert.equal(await lead.locator('#starts-1').inputValue(), '14:00')
  assert.equal(await lead.locator('#ends-2').inputValue(), '17:00')

  const optionValue = async (select: string, text: string) =>
    lead
      .locator(`${select} option`)
      .evaluateAll((options, t) => options.find((o) => (o.textContent ?? '').includes(t))?.getAttribute('value') ?? '', text)
  await lead.locator('#activity-1').selectOption(await optionValue('#activity-1', 'PLG-1'))
  await lead.locator('#activity-2').selectOption(await optionValue('#activity-2', 'PLG-2'))
  await lead.getByLabel('Title (optional)').fill('Behaviour PLG')
  await fillDate(lead, 'date-1', 20, 4, year)
  await lead.getByLabel('Online joining link').fill('https://meet.example/plg')
  await lead.getByLabel('Places').fill('20')
  await lead.getByRole('button', { name: 'Save event' }).click()
  assert.match((await lead.locator('.govuk-error-summary').textContent()) ?? '', /Enter the date of session 2/)
  await expectAccessible(lead)
  await fillDate(lead, 'date-2', 18, 5, year)
  await lead.getByRole('button', { name: 'Save event' }).click()
  assert.match(await main(lead), /The series is scheduled/)
  assert.match(await main(lead), /Behaviour PLG 1[\s\S]*Behaviour PLG 2/)
  const series = await h.services.db
    .selectFrom('events')
    .select(['series_ref', 'activity_code'])
    .where('title', 'like', 'Behaviour PLG%')
    .orderBy('starts_at')
    .execute()
  assert.equal(series.length, 2)
  assert.ok(series[0]!.series_ref && series[0]!.series_ref === series[1]!.series_ref)
  assert.match(series[1]!.activity_code ?? '', /PLG-2$/)
})
