import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { londonDateOf } from '../../src/dates/london.ts'
import { recordRegisterEntry } from '../../src/registers/register-entries.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'
import { systemPrincipal } from '../../src/test-support/fixtures.ts'

// Facilitators' registers in the browser: a facilitator marks a register in one go without
// JavaScript, adds a walk-in, records a contingency completion and sees the register taken; "select
// all" with JavaScript; a delivery partner lead changes a locked mark with a reason. axe on every page
// (in the JavaScript-enabled passes: axe runs in the page).

const DAY = 86_400_000
let h: BrowserHarness
let people: { id: string; full_name: string; email: string }[]
const events: Record<string, string> = {}

before(async () => {
  h = await startBrowserHarness()
  const db = h.services.db
  const org = (code: string) => db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirstOrThrow()
  const edt = (await org('edt')).id
  const northStar = (await org('north-star-tsh')).id
  const facilitator = await db.selectFrom('users').select('id').where('email', '=', 'facilitator@demo.test').executeTakeFirstOrThrow()
  people = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['p.id', 'p.full_name', 'p.email'])
    .where('e.delivery_partner_id', '=', northStar)
    .where('e.course_identifier', '=', 'npq-leading-teaching')
    .where('e.cohort', '=', '2022-autumn')
    .orderBy('p.full_name')
    .execute()
  assert.ok(people.length >= 3, 'the demo has three North Star participants on Leading Teaching')

  const event = async (ref: string, title: string, startsAt: Date, booked: string[]) => {
    const row = await db
      .insertInto('events')
      .values({
        event_ref: ref,
        lead_provider_id: edt,
        delivery_partner_id: northStar,
        course_identifier: 'npq-leading-teaching',
        cohort: '2022-autumn',
        activity_code: 'NPQLT-B1-F2F',
        kind: 'f2f',
        title,
        venue: 'North Star Teaching School Hub',
        starts_at: startsAt.toISOString(),
        ends_at: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
        starts_on: londonDateOf(startsAt),
        capacity: 20,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await db.insertInto('event_facilitators').values({ event_id: row.id, user_id: facilitator.id }).execute()
    for (const id of booked) {
      await db
        .insertInto('bookings')
        .values({ event_id: row.id, participant_id: id, status: 'booked', booked_at: new Date().toISOString() })
        .execute()
    }
    return row.id
  }
  const now = Date.now()
  events.recent = await event('BROWSER-REGISTER-RECENT', 'Leading teaching day 1', new Date(now - DAY), [people[0]!.id, people[1]!.id])
  events.locked = await event('BROWSER-REGISTER-LOCKED', 'Leading teaching day 0', new Date(now - 30 * DAY), [people[0]!.id, people[1]!.id])
  await db.transaction().execute(async (trx) => {
    for (const [i, status] of (['attended', 'absent'] as const).entries()) {
      await recordRegisterEntry(trx, systemPrincipal, {
        eventId: events.locked!,
        participantId: people[i]!.id,
        status,
        completedAt: null,
        completedOn: null,
        note: null,
      })
    }
  })
})
after(() => h.close())

const errorSummary = async (page: Page) => (await page.locator('.govuk-error-summary').textContent()) ?? ''
const rowOf = (page: Page, name: string) => page.getByRole('row').filter({ hasText: name })

test('a facilitator takes a register without JavaScript: marks in one go, a walk-in, a contingency completion', async () => {
  const [ana, ben, cal] = people as [(typeof people)[0], (typeof people)[0], (typeof people)[0]]
  const context = await h.browser.newContext({ javaScriptEnabled: false })
  const page = await context.newPage()
  await signIn(page, h.baseUrl, 'facilitator@demo.test', undefined, { axe: false }) // axe needs JavaScript
  await page.getByRole('link', { name: 'Events', exact: true }).click()
  assert.equal(new URL(page.url()).pathname, '/facilitator/events')
  assert.match((await rowOf(page, 'Leading teaching day 1').textContent()) ?? '', /Register not taken/)
  await page.getByRole('link', { name: /Leading teaching day 1/ }).click()
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /Register: Leading teaching day 1/)
  assert.equal(await page.getByLabel('Select all').count(), 0, 'no JavaScript: no "select all"')

  // Nothing selected: an error, nothing changed.
  await page.getByRole('button', { name: 'Mark selected as attended' }).click()
  assert.match(await errorSummary(page), /Select the participants to mark as attended/)

  // Both booked participants at once.
  await page.getByLabel(`Select ${ana.full_name}`).check()
  await page.getByLabel(`Select ${ben.full_name}`).check()
  await page.getByRole('button', { name: 'Mark selected as attended' }).click()
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /2 participants marked as attended/)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /Register taken/)
  assert.match((await rowOf(page, ana.full_name).textContent()) ?? '', /Attended/)

  // Ben left at the start after all: absent.
  await page.getByLabel(`Select ${ben.full_name}`).check()
  await page.getByRole('button', { name: 'Mark selected as absent' }).click()
  assert.match((await rowOf(page, ben.full_name).textContent()) ?? '', /Absent/)

  // Cal came without booking.
  await page.getByLabel('Participant who attended without booking').selectOption({ label: `${cal.full_name} (${cal.email})` })
  await page.getByRole('button', { name: 'Add as attended' }).click()
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /The walk-in is added/)
  assert.match((await rowOf(page, cal.full_name).textContent()) ?? '', /Walk-in\s*Attended/)

  // Ben watched the recording: a note is required.
  await page.getByLabel('Participant', { exact: true }).selectOption({ label: ben.full_name })
  await page.getByLabel('Watched the recording').check()
  const [y, m, d] = londonDateOf(new Date()).split('-')
  await page.getByLabel('Day').fill(d!)
  await page.getByLabel('Month').fill(m!)
  await page.getByLabel('Year').fill(y!)
  await page.getByRole('button', { name: 'Record contingency completion' }).click()
  assert.match(await errorSummary(page), /Enter a note saying what was done/)
  assert.equal(await page.getByLabel('Watched the recording').isChecked(), true, 'the answers are kept')
  await page.getByLabel('Note', { exact: true }).fill('Watched the recording of the morning session')
  await page.getByRole('button', { name: 'Record contingency completion' }).click()
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /The contingency completion is recorded/)
  assert.match((await rowOf(page, ben.full_name).textContent()) ?? '', /Contingency completed\s*Watched the recording/)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /Register taken/)

  await page.getByRole('link', { name: 'Your events' }).click()
  assert.match((await rowOf(page, 'Leading teaching day 1').textContent()) ?? '', /Register taken/)
  await context.close()
})

test('with JavaScript: "select all" marks everyone; every page passes axe', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'facilitator@demo.test')
  await page.getByRole('link', { name: 'Events', exact: true }).click()
  await expectAccessible(page)
  await page.getByRole('link', { name: /Leading teaching day 1/ }).click()
  await expectAccessible(page)
  await page.getByLabel('Select all').check({ force: true }) // MoJ's toggle label lies over its input
  assert.equal(await page.getByLabel('Select all').isChecked(), true)
  assert.equal(await page.locator('tbody input[type=checkbox]:checked').count(), 3)
  await page.getByRole('button', { name: 'Mark selected as attended' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /3 participants marked as attended/)

  // An error page passes axe too.
  await page.getByRole('button', { name: 'Mark selected as absent' }).click()
  await expectAccessible(page)
  assert.match(await errorSummary(page), /Select the participants to mark as absent/)

  // The locked register: the facilitator sees the marks, cannot change them, can still record a contingency.
  await page.goto(`${h.baseUrl}/events/${events.locked}/register`)
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-inset-text').textContent()) ?? '', /ask a delivery partner lead to change them/)
  assert.equal(await page.getByRole('button', { name: 'Mark selected as attended' }).count(), 0)
  assert.equal(await page.getByRole('button', { name: 'Record contingency completion' }).count(), 1)
})

test('a delivery partner lead changes a locked mark, giving a reason', async () => {
  const [ana] = people as [(typeof people)[0]]
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'delivery-partner-lead@demo.test')
  await page.goto(`${h.baseUrl}/events/${events.locked}/register`)
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-warning-text').textContent()) ?? '', /Give a reason for any change/)

  await page.getByLabel(`Select ${ana.full_name}`).check()
  await page.getByRole('button', { name: 'Mark selected as absent' }).click()
  await expectAccessible(page)
  assert.match(await errorSummary(page), /Enter why the locked register is being changed/)
  assert.match((await rowOf(page, ana.full_name).textContent()) ?? '', /Attended/, 'nothing changed')

  await page.getByLabel(`Select ${ana.full_name}`).check()
  await page.getByLabel('Reason for changing the locked register').fill('Signed in but left before the session began')
  await page.getByRole('button', { name: 'Mark selected as absent' }).click()
  await expectAccessible(page)
  const row = (await rowOf(page, ana.full_name).textContent()) ?? ''
  assert.match(row, /Absent/)
  assert.match(row, /Changed after the register locked: Signed in but left before the session began/)
  const entry = await h.services.db
    .selectFrom('register_entries')
    .select(['status', 'change_reason'])
    .where('event_id', '=', events.locked!)
    .where('participant_id', '=', ana.id)
    .orderBy('recorded_at', 'desc')
    .executeTakeFirstOrThrow()
  assert.deepEqual(entry, { status: 'absent', change_reason: 'Signed in but left before the session began' })
})
