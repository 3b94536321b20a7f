import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { decideEntries } from '../../src/assessment/jobs.ts'
import { assessmentClock } from '../../src/assessment/windows.ts'
import { londonDateOf } from '../../src/dates/london.ts'
import { addDays } from '../../src/registers/register-rules.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Keyboard-only journeys (issue 9 item 7) on the demo data: a participant books an event, a
// facilitator takes a register, a participant submits the assessment. After signing in, every control
// is reached with Tab and activated with Enter or Space, text is typed with the keyboard, and each
// focused control must show the focus indicator. Each journey is run again with JavaScript off and
// must end the same way; axe runs on every page of the JavaScript-enabled runs (it needs JavaScript).

const HOUR = 3_600_000
const DAY = 24 * HOUR
let h: BrowserHarness
let priyaId: string
let headshipEnrolmentId: string
let windowId: string
let registerPeople: { id: string; full_name: string }[]
const events: Record<'bookJs' | 'bookNoJs' | 'registerJs' | 'registerNoJs', string> = {
  bookJs: '',
  bookNoJs: '',
  registerJs: '',
  registerNoJs: '',
}

before(async () => {
  h = await startBrowserHarness()
  const db = h.services.db
  const org = (code: string) => db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirstOrThrow()
  const edt = (await org('edt')).id
  const northStar = (await org('north-star-tsh')).id
  const facilitator = await db.selectFrom('users').select('id').where('email', '=', 'facilitator@demo.test').executeTakeFirstOrThrow()
  const priya = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['p.id as participantId', 'e.id as enrolmentId'])
    .where('p.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', 'npq-headship')
    .where('e.cohort', '=', '2022-autumn')
    .where('e.delivery_partner_id', '=', northStar)
    .executeTakeFirstOrThrow()
  priyaId = priya.participantId
  headshipEnrolmentId = priya.enrolmentId
  registerPeople = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['p.id', 'p.full_name'])
    .where('e.delivery_partner_id', '=', northStar)
    .where('e.course_identifier', '=', 'npq-leading-teaching')
    .where('e.cohort', '=', '2022-autumn')
    .orderBy('p.full_name')
    .limit(2)
    .execute()
  assert.equal(registerPeople.length, 2, 'the demo has North Star participants on Leading Teaching')

  const event = async (v: { ref: string; title: string; course: string; startsAt: Date; facilitated?: boolean; booked?: string[] }) => {
    const row = await db
      .insertInto('events')
      .values({
        event_ref: v.ref,
        lead_provider_id: edt,
        delivery_partner_id: northStar,
        course_identifier: v.course,
        cohort: '2022-autumn',
        activity_code: null,
        kind: 'welcome',
        title: v.title,
        venue: 'North Star Teaching School Hub, 1 High Street, Leeds',
        starts_at: v.startsAt.toISOString(),
        ends_at: new Date(v.startsAt.getTime() + 3 * HOUR).toISOString(),
        starts_on: londonDateOf(v.startsAt),
        capacity: 20,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    if (v.facilitated) await db.insertInto('event_facilitators').values({ event_id: row.id, user_id: facilitator.id }).execute()
    for (const id of v.booked ?? []) {
      await db
        .insertInto('bookings')
        .values({ event_id: row.id, participant_id: id, status: 'booked', booked_at: new Date().toISOString() })
        .execute()
    }
    return row.id
  }
  const now = Date.now()
  const later = new Date(now + 30 * DAY)
  events.bookJs = await event({ ref: 'KEYBOARD-BOOK-JS', title: 'Keyboard headship welcome', course: 'npq-headship', startsAt: later })
  events.bookNoJs = await event({
    ref: 'KEYBOARD-BOOK-NOJS',
    title: 'Plain HTML headship welcome',
    course: 'npq-headship',
    startsAt: later,
  })
  const booked = registerPeople.map((p) => p.id)
  const yesterday = new Date(now - DAY)
  const registerEvent = { course: 'npq-leading-teaching', startsAt: yesterday, facilitated: true, booked }
  events.registerJs = await event({ ...registerEvent, ref: 'KEYBOARD-REGISTER-JS', title: 'Keyboard register day' })
  events.registerNoJs = await event({ ...registerEvent, ref: 'KEYBOARD-REGISTER-NOJS', title: 'Plain HTML register day' })

  // An NPQH window open today, its engagement deadline yesterday: the entry job enters Priya.
  const today = londonDateOf(new Date())
  const w = await db
    .insertInto('assessment_windows')
    .values({
      lead_provider_id: edt,
      course_identifier: 'npq-headship',
      cohort: '2022-autumn',
      opens_on: today,
      closes_on: addDays(today, 7),
      engagement_deadline: addDays(today, -1),
      max_words: 1500,
      case_study_title: 'Attendance at Riverside',
      case_study: 'Riverside Primary must improve persistent absence within a year.',
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  windowId = w.id
  await decideEntries(h.services, today)
})
after(() => {
  assessmentClock.now = () => new Date()
  return h.close()
})

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''
const path = (page: Page) => new URL(page.url()).pathname

/**
 * The focused control: its accessible name, near enough for these pages (labelledby, aria-label, label,
 * button value or text); whether it shows the GOV.UK focus indicator — yellow (#ffdd00) in a visible
 * outline, box shadow or background, on the control or, for checkboxes and radios whose real input is
 * transparent, on its label's box; and whether it is inside <main>. (The DOM is reached through the
 * element handed in: this project compiles without the DOM library.)
 */
const focused = (page: Page) =>
  page.locator('html').evaluate((html) => {
    const doc = html.ownerDocument
    const el = doc.activeElement
    if (!el || el === doc.body) return { name: '', visible: false, inMain: false }
    const clean = (s: string | null | undefined) => (s ?? '').replace(/\s+/g, ' ').trim()
    const labels: { textContent: string | null }[] = el.labels ? [...el.labels] : []
    const labelledBy: string | null = el.getAttribute('aria-labelledby')
    const name = labelledBy
      ? clean(
          labelledBy
            .split(/\s+/)
            .map((id) => doc.getElementById(id)?.textContent ?? '')
            .join(' '),
        )
      : el.getAttribute('aria-label')
        ? clean(el.getAttribute('aria-label'))
        : labels.length
          ? clean(labels.map((l) => l.textContent).join(' '))
          : el.tagName === 'INPUT' && ['submit', 'button'].includes(el.type)
            ? clean(el.value)
            : clean(el.textContent)

    const yellow = 'rgb(255, 221, 0)'
    const style = (target: unknown, pseudo?: string) => doc.defaultView.getComputedStyle(target, pseudo)
    const shows = (s: { outlineStyle: string; outlineWidth: string; outlineColor: string; boxShadow: string; backgroundColor: string }) =>
      (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 && s.outlineColor === yellow) ||
      s.boxShadow.includes(yellow) ||
      s.backgroundColor === yellow
    const visible =
      shows(style(el)) ||
      (el.matches('input[type=checkbox], input[type=radio]') && labels.length > 0 && shows(style(labels[0], '::before')))
    return { name, visible, inMain: el.closest('main') !== null }
  })
const focusVisible = async (page: Page) => (await focused(page)).visible

/**
 * Presses Tab (or Shift+Tab) until the focused control's name matches (checking the control already
 * focused first, with fromCurrent); fails with the names passed on the way, or if focus is not visible.
 */
async function tabTo(page: Page, name: string | RegExp, { backwards = false, fromCurrent = false, limit = 120 } = {}) {
  const passed: string[] = []
  for (let i = 0; i < limit; i++) {
    if (i > 0 || !fromCurrent) await page.keyboard.press(backwards ? 'Shift+Tab' : 'Tab')
    const { name: current, visible } = await focused(page)
    passed.push(current)
    if (typeof name === 'string' ? current === name : name.test(current)) {
      assert.ok(visible, `focus is visible on "${current}" (${page.url()})`)
      return
    }
  }
  assert.fail(`"${String(name)}" not reached in ${limit} presses of Tab on ${page.url()}; focus passed: ${passed.join(' | ')}`)
}

/** The first Tab on a page reaches the skip link; Enter on it, then Tab, lands in the main content. */
async function skipToMain(page: Page) {
  await page.keyboard.press('Tab')
  const skip = await focused(page)
  assert.equal(skip.name, 'Skip to main content')
  assert.ok(skip.visible, 'the skip link shows when focused')
  await page.keyboard.press('Enter')
  await page.keyboard.press('Tab')
  assert.ok((await focused(page)).inMain, `after the skip link, Tab goes into the main content (${page.url()})`)
}

/** Presses a key on the focused control and waits for the page it leads to. */
async function pressAndLoad(page: Page, key: 'Enter' | 'Space') {
  await Promise.all([page.waitForEvent('load'), page.keyboard.press(key)])
}

type Run = { browser: Browser; baseUrl: string; js: boolean }

/** A fresh signed-in page; with JavaScript, axe checks the sign-in page and the page signing in leads to. */
async function signedIn({ browser, baseUrl, js }: Run, email: string) {
  const context = await browser.newContext({ javaScriptEnabled: js })
  const page = await context.newPage()
  await signIn(page, baseUrl, email, undefined, { axe: js })
  return { page, axe: js ? () => expectAccessible(page) : async () => {}, close: () => context.close() }
}

test('the keyboard helpers can fail: a control never reached, a focus style taken away', async () => {
  const context = await h.browser.newContext({ bypassCSP: true })
  const page = await context.newPage()
  await page.goto(`${h.baseUrl}/sign-in`)
  await assert.rejects(tabTo(page, 'No such control', { limit: 5 }), /"No such control" not reached in 5 presses/)
  await page.goto(`${h.baseUrl}/sign-in`)
  await tabTo(page, 'Email address')
  await page.goto(`${h.baseUrl}/sign-in`)
  await page.addStyleTag({ content: '*:focus { outline: none !important; box-shadow: none !important; background: none !important }' })
  await assert.rejects(tabTo(page, 'Email address'), /focus is visible on "Email address"/)
  await context.close()
})

async function bookEvent(run: Run, title: string) {
  const { page, axe, close } = await signedIn(run, 'participant@demo.test')
  await axe()
  await tabTo(page, 'Events')
  await pressAndLoad(page, 'Enter')
  assert.equal(path(page), '/participant/events')
  await axe()
  await skipToMain(page)
  await tabTo(page, title, { fromCurrent: true })
  await pressAndLoad(page, 'Enter')
  assert.equal((await page.getByRole('heading', { level: 1 }).textContent())?.trim(), title)
  await axe()
  await tabTo(page, 'Book a place')
  await pressAndLoad(page, 'Enter')
  assert.match(await main(page), /You are booked on this event/)
  await axe()
  await close()
}

test('keyboard only: a participant books an event from the Events zone', async () => {
  await bookEvent({ ...h, js: true }, 'Keyboard headship welcome')
  const booking = await h.services.db
    .selectFrom('bookings')
    .select('status')
    .where('event_id', '=', events.bookJs)
    .where('participant_id', '=', priyaId)
    .executeTakeFirstOrThrow()
  assert.equal(booking.status, 'booked')
})

async function takeRegister(run: Run, title: string) {
  const [ana, ben] = registerPeople as [(typeof registerPeople)[0], (typeof registerPeople)[0]]
  const { page, axe, close } = await signedIn(run, 'facilitator@demo.test')
  await axe()
  await tabTo(page, 'Events')
  await pressAndLoad(page, 'Enter')
  assert.equal(path(page), '/facilitator/events')
  await axe()
  await skipToMain(page)
  await tabTo(page, `${title}: register`, { fromCurrent: true })
  await pressAndLoad(page, 'Enter')
  assert.equal((await page.getByRole('heading', { level: 1 }).textContent())?.trim(), `Register: ${title}`)
  assert.equal(await page.getByLabel('Select all').count(), run.js ? 1 : 0, '"select all" comes with JavaScript only')
  await axe()

  // Ana attended: Space ticks her box, Enter on the button marks her.
  await tabTo(page, `Select ${ana.full_name}`)
  await page.keyboard.press('Space')
  assert.equal(await page.getByLabel(`Select ${ana.full_name}`).isChecked(), true)
  await tabTo(page, 'Mark selected as attended')
  await pressAndLoad(page, 'Enter')
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /1 participant marked as attended/)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /Register not taken/)
  await axe()

  // Ben absent: Space ticks his box, Tab passes the first button to the second.
  await tabTo(page, `Select ${ben.full_name}`)
  await page.keyboard.press('Space')
  await tabTo(page, 'Mark selected as absent')
  await pressAndLoad(page, 'Enter')
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /1 participant marked as absent/)
  assert.match((await page.locator('.govuk-summary-list').textContent()) ?? '', /Register taken/)
  await axe()

  // Ben went to a mop-up session: the select and the radios answer to the arrow keys.
  await tabTo(page, 'Participant')
  await page.keyboard.press('ArrowDown')
  assert.equal(await page.getByLabel('Participant', { exact: true }).inputValue(), ben.id)
  await tabTo(page, 'Watched the recording')
  await page.keyboard.press('Space')
  await page.keyboard.press('ArrowDown')
  assert.equal(await page.getByLabel('Mop-up session').isChecked(), true)
  assert.ok(await focusVisible(page), 'focus is visible on the radio the arrow key moved to')
  const [y, m, d] = londonDateOf(new Date()).split('-') as [string, string, string]
  for (const [label, value] of [
    ['Day', d],
    ['Month', m],
    ['Year', y],
  ] as const) {
    await tabTo(page, label)
    await page.keyboard.type(value)
  }
  await tabTo(page, 'Note')
  await page.keyboard.type('Came to the Thursday mop-up session')
  await tabTo(page, 'Record contingency completion')
  await pressAndLoad(page, 'Enter')
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /The contingency completion is recorded/)
  assert.match(
    (await page.getByRole('row').filter({ hasText: ben.full_name }).textContent()) ?? '',
    /Contingency completed\s*Mop-up session/,
  )
  await axe()
  await close()
}

const registerMarks = async (eventId: string) => {
  const rows = await h.services.db
    .selectFrom('register_entries')
    .select(['participant_id', 'status', 'contingency_method'])
    .where('event_id', '=', eventId)
    .orderBy('recorded_at')
    .execute()
  // The latest entry for each participant is their mark.
  return Object.fromEntries(rows.map((r) => [r.participant_id, [r.status, r.contingency_method].filter(Boolean).join(': ')]))
}

const expectedMarks = () => ({
  [registerPeople[0]!.id]: 'attended',
  [registerPeople[1]!.id]: 'contingency-completed: mop-up-session',
})

test('keyboard only: a facilitator takes a register, one attended and one absent who made it up since', async () => {
  await takeRegister({ ...h, js: true }, 'Keyboard register day')
  assert.deepEqual(await registerMarks(events.registerJs), expectedMarks())
})

/** Each assessment journey starts from an entered, unsubmitted attempt (the one window is shared by both runs). */
async function freshEntry() {
  await h.services.db
    .updateTable('assessment_entries')
    .set({
      draft: '',
      draft_word_count: 0,
      draft_saved_at: null,
      submitted_text: null,
      submitted_word_count: null,
      submitted_at: null,
      outcome: null,
    })
    .where('window_id', '=', windowId)
    .where('enrolment_id', '=', headshipEnrolmentId)
    .execute()
}

const RESPONSE = 'Riverside first: a plan for attendance in three stages.'

async function submitAssessment(run: Run) {
  const { page, axe, close } = await signedIn(run, 'participant@demo.test')
  await axe()
  await tabTo(page, 'Assessment')
  await pressAndLoad(page, 'Enter')
  assert.equal(path(page), '/participant/assessment')
  await axe()
  await skipToMain(page)
  await tabTo(page, /^Go to the assessment/, { fromCurrent: true })
  await pressAndLoad(page, 'Enter')
  assert.match(await main(page), /Riverside Primary must improve persistent absence/)
  await axe()
  await tabTo(page, 'Your response')
  await page.keyboard.type(RESPONSE)
  if (run.js) assert.match((await page.locator('#response-word-count').textContent()) ?? '', /^9 words of 1,500$/)
  await tabTo(page, 'Submit response')
  await pressAndLoad(page, 'Enter')
  assert.match(await main(page), /Your response is submitted/)
  assert.ok((await page.locator('#submitted-response').textContent())?.includes(RESPONSE))
  await axe()
  await close()
}

const submission = () =>
  h.services.db
    .selectFrom('assessment_entries')
    .select(['submitted_text', 'submitted_word_count', 'submitted_at'])
    .where('window_id', '=', windowId)
    .where('enrolment_id', '=', headshipEnrolmentId)
    .executeTakeFirstOrThrow()

test('keyboard only: a participant types and submits the assessment response', async () => {
  await freshEntry()
  await submitAssessment({ ...h, js: true })
  const entry = await submission()
  assert.equal(entry.submitted_text, RESPONSE)
  assert.equal(entry.submitted_word_count, 9)
  assert.ok(entry.submitted_at)
})

test('JavaScript off: the same three keyboard journeys end the same way', async () => {
  const run = { ...h, js: false }
  await bookEvent(run, 'Plain HTML headship welcome')
  const booking = await h.services.db
    .selectFrom('bookings')
    .select('status')
    .where('event_id', '=', events.bookNoJs)
    .where('participant_id', '=', priyaId)
    .executeTakeFirstOrThrow()
  assert.equal(booking.status, 'booked')

  await takeRegister(run, 'Plain HTML register day')
  assert.deepEqual(await registerMarks(events.registerNoJs), expectedMarks())

  await freshEntry()
  await submitAssessment(run)
  const entry = await submission()
  assert.equal(entry.submitted_text, RESPONSE)
  assert.ok(entry.submitted_at)
})
