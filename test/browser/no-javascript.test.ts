import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { londonDateOf } from '../../src/dates/london.ts'
import { startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'
import { expectErrorSummary, ranJavaScript, withoutJavaScript as withoutJs } from '../../src/test-support/no-javascript.ts'

// Issue 9 item 7, every journey works with JavaScript off: the issue-9 journeys on the demo data in
// Chromium contexts with JavaScript disabled, each ending as it does with JavaScript (the other browser
// tests), checked on what a person sees and on the rows it leaves. A lead provider's admin authors and
// publishes a page that completes a design activity and a webinar in two versions; a delivery partner's
// lead adds local context; Priya works through the Learn zone (a page, a quiz, a podcast and a webinar,
// whose watched time needs JavaScript and says so, a reflection and a formative assessment task with a
// file) and her facilitator gives feedback; forums; surveys (a second answer refused); learning audit,
// journal and a safeguarding concern; programme news; meeting logs written and signed by both; the
// dashboards and their filters. Each journey has a bad input answered by the GOV.UK error summary,
// whose links lead to the fields without JavaScript. (Booking an event, taking a register and
// submitting the assessment without JavaScript are in keyboard.test.ts.) axe needs JavaScript in the
// page, so it does not run here.

let h: BrowserHarness
let priya: { participantId: string; headshipEnrolmentId: string }

before(async () => {
  h = await startBrowserHarness()
  const row = await h.services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['p.id as participantId', 'e.id as enrolmentId'])
    .where('p.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', 'npq-headship')
    .executeTakeFirstOrThrow()
  priya = { participantId: row.participantId, headshipEnrolmentId: row.enrolmentId }
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''
const banner = async (page: Page) => (await page.locator('.govuk-notification-banner').textContent()) ?? ''
const h1 = async (page: Page) => ((await page.getByRole('heading', { level: 1 }).textContent()) ?? '').trim()
const path = (page: Page) => new URL(page.url()).pathname

const withoutJavaScript = (email: string) => withoutJs(h, email)

const dateParts = (date: string) => {
  const [y, m, d] = date.split('-') as [string, string, string]
  return { day: String(Number(d)), month: String(Number(m)), year: y }
}
const fillDate = async (page: Page, prefix: string, date: string) => {
  const { day, month, year } = dateParts(date)
  await page.locator(`#${prefix}-day`).fill(day)
  await page.locator(`#${prefix}-month`).fill(month)
  await page.locator(`#${prefix}-year`).fill(year)
}
const addDays = (date: string, days: number) => {
  const d = new Date(`${date}T12:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

test('the check can fail: with JavaScript on, GOV.UK’s script marks the page', async () => {
  const on = await (await h.browser.newContext()).newPage()
  await on.goto(`${h.baseUrl}/sign-in`)
  assert.equal(await ranJavaScript(on), true)
  const off = await (await h.browser.newContext({ javaScriptEnabled: false })).newPage()
  await off.goto(`${h.baseUrl}/sign-in`)
  assert.equal(await ranJavaScript(off), false)
  await on.context().close()
  await off.context().close()
})

const PAGE_TITLE = 'Recorded webinar 4.2: the notes'
const ACTIVITY = 'NPQH-B4-REC-4.2'
const WEBINAR = 'Recorded webinar 4.1: leading the launch'

test('JavaScript off: a lead provider’s admin authors and publishes a page and a recorded webinar; a delivery partner’s lead adds local context', async () => {
  const admin = await withoutJavaScript('lead-provider-admin@demo.test')
  await admin.getByRole('link', { name: 'Learning', exact: true }).click()
  await admin.getByRole('link', { name: 'Content', exact: true }).click()
  assert.equal(path(admin), '/lead-provider/content')
  await admin.getByRole('link', { name: 'NPQ for Headship', exact: true }).click()
  await admin.getByRole('link', { name: /^Add an item to Block 4/ }).click()
  // The kind is chosen with a GET form: nothing chosen is an error.
  await admin.getByRole('button', { name: 'Continue' }).click()
  await expectErrorSummary(admin, /Select what you want to add/)
  await admin.getByLabel('Page', { exact: true }).check()
  await admin.getByRole('button', { name: 'Continue' }).click()
  assert.equal(await h1(admin), 'Add a page')
  await admin.getByRole('button', { name: 'Save' }).click()
  await expectErrorSummary(admin, /Enter a title/, /Enter the content/)
  await admin.getByLabel('Title').fill(PAGE_TITLE)
  await admin
    .getByLabel('Content')
    .fill('Read **one** page of notes instead of the hour.\n\n- Naming the problem\n- Agreeing active ingredients')
  await admin.getByLabel('Design activity it completes').selectOption({ label: `Recorded webinar 4.2 (${ACTIVITY})` })
  await admin.getByRole('button', { name: 'Save' }).click()
  assert.match(await banner(admin), /The item is saved/)
  assert.match(await main(admin), new RegExp(`${PAGE_TITLE}[\\s\\S]*Draft`))
  await admin.getByRole('button', { name: `Publish ${PAGE_TITLE}` }).click()
  assert.match(await main(admin), new RegExp(`${PAGE_TITLE}\\s*Published`))
  const item = await h.services.db
    .selectFrom('content_items')
    .select(['status', 'activity_code', 'block'])
    .where('title', '=', PAGE_TITLE)
    .executeTakeFirstOrThrow()
  assert.deepEqual(item, { status: 'published', activity_code: ACTIVITY, block: '4' })

  // A recorded webinar in two versions, uploaded through the multipart form: a version without its
  // running time is refused first.
  const webm = (name: string) => ({
    name,
    mimeType: 'video/webm',
    buffer: Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3]), Buffer.alloc(60)]),
  })
  await admin.getByRole('link', { name: /^Add an item to Block 4/ }).click()
  await admin.getByLabel('Recorded webinar', { exact: true }).check()
  await admin.getByRole('button', { name: 'Continue' }).click()
  await admin.getByLabel('Title').fill(WEBINAR)
  const version = (n: number) => admin.getByRole('group', { name: new RegExp(`^Version ${n}`) })
  await version(1).getByLabel('Version name').fill('Primary')
  await version(1).getByLabel('Upload the video (MP4 or WebM)').setInputFiles(webm('primary.webm'))
  await version(1).getByLabel('Running time').fill('45:00')
  await version(2).getByLabel('Version name').fill('Secondary')
  await version(2).getByLabel('Upload the video (MP4 or WebM)').setInputFiles(webm('secondary.webm'))
  await admin.getByRole('button', { name: 'Save' }).click()
  await expectErrorSummary(admin, /Enter the running time, for example 12:30/)
  // A browser does not keep chosen files when the form comes back: choose them again.
  await version(1).getByLabel('Upload the video (MP4 or WebM)').setInputFiles(webm('primary.webm'))
  await version(2).getByLabel('Upload the video (MP4 or WebM)').setInputFiles(webm('secondary.webm'))
  await version(2).getByLabel('Running time').fill('40:00')
  await admin.getByRole('button', { name: 'Save' }).click()
  assert.match(await banner(admin), /The item is saved/)
  await admin.getByRole('button', { name: `Publish ${WEBINAR}` }).click()
  assert.match(await main(admin), new RegExp(`${WEBINAR}\\s*Published`))
  const webinar = await h.services.db.selectFrom('content_items').select('media').where('title', '=', WEBINAR).executeTakeFirstOrThrow()
  assert.deepEqual(
    webinar.media.map((m) => [m.label, m.durationSeconds, Boolean(m.fileId)]),
    [
      ['Primary', 2700, true],
      ['Secondary', 2400, true],
    ],
  )
  await admin.context().close()

  const lead = await withoutJavaScript('delivery-partner-lead@demo.test')
  await lead.getByRole('link', { name: 'Learning', exact: true }).click()
  await lead.getByRole('link', { name: 'Local context', exact: true }).click()
  assert.equal(path(lead), '/delivery-partner/content')
  await lead.getByRole('link', { name: 'NPQ for Headship', exact: true }).click()
  await lead.getByRole('link', { name: 'Add local context for Block 1' }).click()
  await lead.getByLabel('Local examples').fill('- Riverside Academy’s **coaching** cycle')
  await lead.getByRole('button', { name: 'Save local context' }).click()
  assert.match(await banner(lead), /Your local context is saved/)
  const context = await h.services.db
    .selectFrom('local_contexts')
    .select('examples')
    .where('course_identifier', '=', 'npq-headship')
    .where('block', '=', '1')
    .executeTakeFirstOrThrow()
  assert.equal(context.examples, '- Riverside Academy’s **coaching** cycle')
  await lead.context().close()
})

const TASK = 'Formative assessment task: your change plan'
const TASK_RESPONSE = 'Explore: attendance data. Prepare: train tutors. Deliver: daily calls. Sustain: termly review.'

test('JavaScript off: Priya learns in Block 4 (page, quiz, podcast, webinar, reflection, task) and her facilitator gives feedback', async () => {
  const { db } = h.services
  const records = () =>
    db
      .selectFrom('learning_records')
      .select('id')
      .where('participant_id', '=', priya.participantId)
      .where('activity_code', '=', ACTIVITY)
      .where('retracted', '=', false)
      .execute()
  assert.equal((await records()).length, 0, 'no evidence for the activity yet')

  const page = await withoutJavaScript('participant@demo.test')
  await page.getByRole('link', { name: 'Learn', exact: true }).click()
  assert.equal(path(page), '/participant/learn')
  await page.getByRole('link', { name: 'NPQ for Headship', exact: true }).click()
  await page.getByRole('link', { name: /^Block 4/ }).click()
  const blockUrl = page.url()
  assert.match(await main(page), /Local context from North Star/)
  const activityRow = page.locator(`[id="activity-${ACTIVITY}"]`).locator('xpath=ancestor::tr')
  assert.match((await activityRow.textContent()) ?? '', /Not started/)

  // A page: read it and mark it complete, which records the design activity as learning evidence.
  await page.getByRole('link', { name: PAGE_TITLE }).first().click()
  assert.equal(await h1(page), PAGE_TITLE)
  assert.equal(await page.locator('main strong', { hasText: 'one' }).count(), 1)
  await page.getByRole('button', { name: 'Mark as complete' }).click()
  assert.match(await banner(page), /Completed/)
  assert.match((await page.locator('#item-status').textContent()) ?? '', /Completed/)
  assert.equal(await page.getByRole('button', { name: 'Mark as complete' }).count(), 0)
  assert.equal((await records()).length, 1, 'the activity is recorded as learning evidence')
  await page.goto(blockUrl)
  assert.match((await activityRow.textContent()) ?? '', /Completed/)

  // A quiz: nothing answered is refused; a wrong attempt shows the score and feedback; then a pass.
  await page.getByRole('link', { name: 'Check your understanding: implementation' }).click()
  await page.getByRole('button', { name: 'Submit answers' }).click()
  await expectErrorSummary(page, /Answer question 1/, /Answer question 2/)
  await page.getByLabel('Deliver').check()
  await page.getByLabel('The slides used to launch it').check()
  await page.getByRole('button', { name: 'Submit answers' }).click()
  assert.match(
    (await page.locator('#quiz-score').textContent()) ?? '',
    /You scored 0 out of 2 \(0%\)\.\s*You need 50% to pass: try again\./,
  )
  const feedback = (await page.getByRole('table', { name: 'Feedback on each question' }).textContent()) ?? ''
  assert.match(feedback, /Not right[\s\S]*Answer: Explore[\s\S]*Explore: define the problem/)
  await page.getByLabel('Explore').check()
  await page.getByLabel('The essential practices that make the approach work').check()
  await page.getByLabel('Behaviours staff can be coached on').check()
  await page.getByRole('button', { name: 'Submit answers' }).click()
  assert.match((await page.locator('#quiz-score').textContent()) ?? '', /You scored 2 out of 2 \(100%\)\.\s*You passed\./)
  assert.match((await page.locator('#item-status').textContent()) ?? '', /Completed/)

  // A podcast: the audio plays from the page (or downloads) but watched time needs JavaScript, and
  // the page says so; there is no button to mark it watched instead.
  await page.goto(blockUrl)
  await page.getByRole('link', { name: 'Podcast: a headteacher on sustaining change' }).click()
  assert.equal(await page.locator('#media-needs-js').isVisible(), true)
  assert.match(
    (await page.locator('#media-needs-js').textContent()) ?? '',
    /Your watched time is only recorded with JavaScript turned on\. Without it, the audio still plays, but your progress is not recorded\./,
  )
  assert.match((await page.locator('#media-progress').textContent()) ?? '', /You have watched 0% of the 0:30\. It is complete at 90%\./)
  assert.equal(await page.locator('audio[controls]').count(), 1)
  const src = await page.locator('audio').getAttribute('src')
  const audio = await page.request.get(`${h.baseUrl}${src}`)
  assert.equal(audio.status(), 200)
  assert.equal(audio.headers()['content-type'], 'audio/wav')
  assert.equal(await page.getByRole('button', { name: 'Mark as complete' }).count(), 0)
  assert.doesNotMatch((await page.locator('#item-status').textContent()) ?? '', /Completed/)

  // A recorded webinar: the version is chosen with a form (nothing chosen is refused), then the video
  // has the same note, and the version can be changed with a form too.
  await page.goto(blockUrl)
  await page.getByRole('link', { name: WEBINAR }).click()
  assert.equal(await page.locator('video').count(), 0, 'no video before a version is chosen')
  await page.getByRole('button', { name: 'Watch this version' }).click()
  await expectErrorSummary(page, /Select the version you want to watch/)
  await page.getByLabel('Secondary').check()
  await page.getByRole('button', { name: 'Watch this version' }).click()
  assert.match(await main(page), /Version: Secondary \(40:00\)/)
  assert.equal(await page.locator('video[controls]').count(), 1)
  const video = await page.request.get(`${h.baseUrl}${await page.locator('video').getAttribute('src')}`)
  assert.equal(video.headers()['content-type'], 'video/webm', 'the chosen version is served to the player')
  assert.equal(await page.locator('#media-needs-js').isVisible(), true)
  assert.match(
    (await page.locator('#media-needs-js').textContent()) ?? '',
    /Without it, the video still plays, but your progress is not recorded/,
  )
  await page.getByRole('group', { name: 'Change version' }).getByLabel('Primary').check()
  await page.getByRole('button', { name: 'Change version' }).click()
  assert.match(await main(page), /Version: Primary \(45:00\)/)
  const chosen = await db
    .selectFrom('content_progress as p')
    .innerJoin('content_items as i', 'i.id', 'p.item_id')
    .select(['p.chosen_version', 'p.completed_at'])
    .where('i.title', '=', WEBINAR)
    .where('p.enrolment_id', '=', priya.headshipEnrolmentId)
    .executeTakeFirstOrThrow()
  assert.deepEqual(chosen, { chosen_version: 0, completed_at: null })

  // A reflection: finishing with nothing written is refused; answered, it is complete.
  await page.goto(blockUrl)
  await page.getByRole('link', { name: 'Reflect: a change that stalled' }).click()
  await page.getByRole('button', { name: 'Save and finish' }).click()
  await expectErrorSummary(page, /Answer this before you finish/)
  await page.getByLabel(/What happened after the launch\?/).fill('The new marking policy faded once the launch was over.')
  await page.getByRole('button', { name: 'Save and finish' }).click()
  assert.match(await banner(page), /Completed/)
  assert.equal(
    await page.getByLabel(/What happened after the launch\?/).inputValue(),
    'The new marking policy faded once the launch was over.',
  )

  // The formative assessment task, with a file (a multipart form): nothing given is refused first.
  await page.goto(blockUrl)
  await page.getByRole('link', { name: TASK }).click()
  await page.getByRole('button', { name: 'Submit task' }).click()
  await expectErrorSummary(page, /Enter your response or upload it as a file/)
  await page.getByLabel('Your response').fill(TASK_RESPONSE)
  await page.getByLabel('Or upload it (optional)').setInputFiles({
    name: 'change-plan.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('A one-page change plan for attendance.\n'),
  })
  await page.getByRole('button', { name: 'Submit task' }).click()
  assert.match(await banner(page), /Your task is submitted\. Your facilitator will give you feedback\./)
  assert.match(await main(page), new RegExp(`${TASK_RESPONSE}[\\s\\S]*change-plan\\.txt[\\s\\S]*Awaiting feedback from your facilitator`))
  const taskUrl = page.url()
  const submission = await db
    .selectFrom('task_submissions as s')
    .innerJoin('content_items as i', 'i.id', 's.item_id')
    .select(['s.id', 's.body', 's.file_name', 's.file_type', 's.feedback'])
    .where('i.title', '=', TASK)
    .where('s.enrolment_id', '=', priya.headshipEnrolmentId)
    .orderBy('s.submitted_at', 'desc')
    .executeTakeFirstOrThrow()
  assert.deepEqual(
    { body: submission.body, file: submission.file_name, type: submission.file_type, feedback: submission.feedback },
    { body: TASK_RESPONSE, file: 'change-plan.txt', type: 'text/plain; charset=utf-8', feedback: null },
  )

  // North Star's facilitator gives feedback: nothing written is refused first.
  const facilitator = await withoutJavaScript('facilitator@demo.test')
  await facilitator.getByRole('link', { name: 'Tasks', exact: true }).click()
  assert.equal(path(facilitator), '/facilitator/tasks')
  await facilitator
    .getByRole('table', { name: /Awaiting feedback/ })
    .locator(`a[href="/facilitator/tasks/${submission.id}"]`)
    .click()
  assert.equal(await h1(facilitator), `Priya Patel: ${TASK}`)
  assert.equal(((await facilitator.locator('#task-response').textContent()) ?? '').trim(), TASK_RESPONSE)
  assert.equal(await facilitator.getByRole('link', { name: 'Download change-plan.txt' }).count(), 1)
  await facilitator.getByRole('button', { name: 'Send feedback' }).click()
  await expectErrorSummary(facilitator, /Enter your feedback/)
  await facilitator.getByLabel('Your feedback').fill('A clear plan. Who checks the **Sustain** step?')
  await facilitator.getByRole('button', { name: 'Send feedback' }).click()
  assert.equal(path(facilitator), '/facilitator/tasks')
  assert.match(
    (await facilitator.getByRole('table', { name: 'Feedback given' }).textContent()) ?? '',
    new RegExp(`Priya Patel[\\s\\S]*${TASK}`),
  )
  const given = await db
    .selectFrom('task_submissions')
    .select(['feedback', 'feedback_at'])
    .where('id', '=', submission.id)
    .executeTakeFirstOrThrow()
  assert.equal(given.feedback, 'A clear plan. Who checks the **Sustain** step?')
  assert.ok(given.feedback_at)

  await page.goto(taskUrl)
  assert.match(await main(page), /A clear plan\. Who checks the Sustain step\?[\s\S]*From Fatima Hussain/)
  await page.context().close()
  await facilitator.context().close()

  // Block 1 shows the local context North Star's lead added.
  const again = await withoutJavaScript('participant@demo.test')
  await again.goto(`${h.baseUrl}/participant/learn/npq-headship/blocks/1`)
  assert.match(await main(again), /Local context from North Star[\s\S]*Riverside Academy’s coaching cycle/)
  await again.context().close()
})

test('JavaScript off: Priya starts a forum thread and replies; the facilitator hides her post with a reason', async () => {
  const page = await withoutJavaScript('participant@demo.test')
  await page.getByRole('link', { name: 'People', exact: true }).click()
  await page.getByRole('link', { name: 'Forums', exact: true }).click()
  assert.equal(path(page), '/participant/forums')
  await page
    .getByRole('link', { name: /NPQ for Headship, 2022-autumn/ })
    .first()
    .click()
  assert.match(await main(page), /Welcome to your group forum/)
  await page.getByRole('button', { name: 'Start a thread' }).click()
  await page.getByRole('button', { name: 'Post thread' }).click()
  await expectErrorSummary(page, /Enter a title for your thread/, /Enter your post/)
  await page.getByLabel('Title').fill('Plain HTML coaching')
  await page.getByLabel('Your post').fill('What **works** for you in a first coaching conversation?')
  await page.getByRole('button', { name: 'Post thread' }).click()
  assert.match(await banner(page), /Your post is published/)
  assert.equal(await h1(page), 'Plain HTML coaching')
  assert.equal(await page.locator('.app-markdown strong').first().textContent(), 'works')
  await page.getByRole('button', { name: 'Post reply' }).click()
  await expectErrorSummary(page, /Enter your reply/)
  await page.getByLabel('Reply').fill('Mine take about twenty minutes.')
  await page.getByRole('button', { name: 'Post reply' }).click()
  assert.match(await banner(page), /Your post is published/)
  assert.match(await main(page), /Mine take about twenty minutes\./)
  const threadPath = path(page)

  const facilitator = await withoutJavaScript('facilitator@demo.test')
  await facilitator.getByRole('link', { name: 'Forums', exact: true }).click()
  await facilitator
    .getByRole('link', { name: /NPQ for Headship, 2022-autumn/ })
    .first()
    .click()
  await facilitator.getByRole('link', { name: 'Plain HTML coaching' }).click()
  await facilitator.getByRole('link', { name: 'Hide the post by Priya Patel' }).first().click()
  await facilitator.getByRole('button', { name: 'Hide post' }).click()
  await expectErrorSummary(facilitator, /Enter why you are hiding this post/)
  await facilitator.getByLabel('Reason').fill('Please keep first posts to the forum’s topic')
  await facilitator.getByRole('button', { name: 'Hide post' }).click()
  assert.match(await banner(facilitator), /The post is hidden\. Its author can see why\./)
  assert.match(await main(facilitator), /Hidden from participants\. Reason: Please keep first posts to the forum’s topic/)

  const posts = await h.services.db
    .selectFrom('forum_posts as p')
    .innerJoin('forum_threads as t', 't.id', 'p.thread_id')
    .select(['p.body', 'p.hidden_reason'])
    .where('t.title', '=', 'Plain HTML coaching')
    .orderBy('p.created_at')
    .execute()
  assert.deepEqual(posts, [
    { body: 'What **works** for you in a first coaching conversation?', hidden_reason: 'Please keep first posts to the forum’s topic' },
    { body: 'Mine take about twenty minutes.', hidden_reason: null },
  ])

  await page.goto(`${h.baseUrl}${threadPath}`)
  assert.match(await main(page), /A moderator hid your post\. Reason: Please keep first posts to the forum’s topic/)
  assert.match(await main(page), /Mine take about twenty minutes\./)
  await page.context().close()
  await facilitator.context().close()
})

test('JavaScript off: Priya answers a survey once; a second answer is refused', async () => {
  const page = await withoutJavaScript('participant@demo.test')
  await page.getByRole('link', { name: 'My programme', exact: true }).click()
  await page.getByRole('link', { name: 'Surveys', exact: true }).click()
  assert.equal(path(page), '/participant/surveys')
  await page.getByRole('link', { name: 'Block 1 feedback' }).click()
  const surveyUrl = page.url()
  // The same form open in a second tab, to send it again later.
  const second = await page.context().newPage()
  await second.goto(surveyUrl)

  await page.getByLabel('Most of it').check()
  await page.getByRole('button', { name: 'Send answers' }).click()
  await expectErrorSummary(page, /Select a rating from 1 to 5/)
  assert.equal(await page.getByLabel('Most of it').isChecked(), true, 'the answer given is kept')
  await page.getByLabel('4', { exact: true }).check()
  await page.getByLabel('What one thing would improve block 1? (optional)').fill('Shorter readings')
  await page.getByRole('button', { name: 'Send answers' }).click()
  assert.match(await banner(page), /Thank you: your answers are sent/)

  await second.getByLabel('5 (excellent)').check()
  await second.getByLabel('All of it').check()
  const [refused] = await Promise.all([
    second.waitForResponse((r) => r.request().method() === 'POST'),
    second.getByRole('button', { name: 'Send answers' }).click(),
  ])
  assert.equal(refused.status(), 409)
  assert.equal(await h1(second), 'There is a problem')
  assert.match(await main(second), /You have already answered this survey/)
  assert.equal((await second.goto(surveyUrl))?.status(), 409, 'the form is not offered again')

  const responses = await h.services.db
    .selectFrom('survey_responses as r')
    .innerJoin('surveys as s', 's.id', 'r.survey_id')
    .select('r.answers')
    .where('s.title', '=', 'Block 1 feedback')
    .where('r.enrolment_id', '=', priya.headshipEnrolmentId)
    .execute()
  assert.equal(responses.length, 1)
  assert.deepEqual(responses[0]!.answers, { q1: 4, q2: 'Most of it', q3: 'Shorter readings' })
  await page.context().close()
})

/** Rates every domain of the learning audit form, but for the one skipped. */
async function rateAll(page: Page, rating: string, skip?: string) {
  const groups = page.locator('fieldset:has(input[name^="rating-"])')
  for (let i = 0; i < (await groups.count()); i++) {
    const group = groups.nth(i)
    const legend = ((await group.locator('legend').textContent()) ?? '').trim()
    if (legend !== skip) await group.getByLabel(rating, { exact: true }).check()
  }
}

test('JavaScript off: Priya takes her learning audit, writes in her journal and raises a safeguarding concern', async () => {
  const { db } = h.services
  const page = await withoutJavaScript('participant@demo.test')
  await page.getByRole('link', { name: 'My programme', exact: true }).click()
  await page.getByRole('link', { name: 'Learning audit', exact: true }).click()
  assert.equal(path(page), '/participant/learning-audit')
  await page.getByRole('button', { name: 'Take your learning audit for NPQ for Headship' }).click()
  // One domain left unrated: refused, and the ratings given are kept.
  const first = page.locator('fieldset:has(input[name^="rating-"])').first()
  const firstLegend = ((await first.locator('legend').textContent()) ?? '').trim()
  const firstKey = (await first.locator('input').first().getAttribute('name'))!.replace(/^rating-/, '')
  await rateAll(page, '3 – Fairly confident', firstLegend)
  await page.getByRole('button', { name: 'Save learning audit' }).click()
  await expectErrorSummary(page, new RegExp(`Select how confident you are in ${firstLegend.toLowerCase()}`))
  assert.equal(await page.locator('fieldset:has(input[name^="rating-"])').nth(1).getByLabel('3 – Fairly confident').isChecked(), true)
  await page.locator('fieldset:has(input[name^="rating-"])').first().getByLabel('4 – Confident', { exact: true }).check()
  await page.getByRole('button', { name: 'Save learning audit' }).click()
  assert.match(await banner(page), /Your learning audit is saved/)
  const audits = await db.selectFrom('learning_audits').select('ratings').where('enrolment_id', '=', priya.headshipEnrolmentId).execute()
  assert.equal(audits.length, 1)
  assert.equal(audits[0]!.ratings[firstKey], 4)
  assert.ok(Object.entries(audits[0]!.ratings).every(([k, v]) => v === (k === firstKey ? 4 : 3)))

  // The journal.
  await page.getByRole('link', { name: 'Journal', exact: true }).click()
  assert.equal(path(page), '/participant/journal')
  await page.getByRole('button', { name: 'Write a new entry' }).click()
  await page.getByRole('button', { name: 'Save entry' }).click()
  await expectErrorSummary(page, /Enter a title/, /Enter your reflection/)
  await page.getByLabel('Title').fill('Clinic 2 without a laptop')
  await page.getByLabel('Reflection').fill('Questions beat **advice** in coaching.')
  await page.getByLabel('Course or block (optional)').selectOption({ label: 'NPQ for Headship, 2022-autumn' })
  await page.getByRole('button', { name: 'Save entry' }).click()
  assert.match(await main(page), /Clinic 2 without a laptop/)
  assert.equal(await page.locator('main strong', { hasText: 'advice' }).count(), 1)
  const entry = await db
    .selectFrom('journal_entries as j')
    .innerJoin('participants as p', 'p.user_id', 'j.user_id')
    .select(['j.body', 'j.enrolment_id'])
    .where('p.id', '=', priya.participantId)
    .where('j.title', '=', 'Clinic 2 without a laptop')
    .executeTakeFirstOrThrow()
  assert.deepEqual(entry, { body: 'Questions beat **advice** in coaching.', enrolment_id: priya.headshipEnrolmentId })

  // A safeguarding concern: the phone number field is there without JavaScript (no reveal needed).
  await page.getByRole('link', { name: 'People', exact: true }).click()
  await page.getByRole('link', { name: 'People and contacts', exact: true }).click()
  await page.getByRole('button', { name: 'Raise a safeguarding concern' }).click()
  assert.equal(path(page), '/participant/safeguarding/new')
  await page.getByRole('button', { name: 'Send concern' }).click()
  await expectErrorSummary(page, /Enter your concern/, /Select yes if you think anyone is at immediate risk of harm/)
  await page.getByLabel('Your concern').fill('A pupil a colleague mentioned may not be safe at home.')
  await page
    .getByRole('group', { name: /immediate risk/ })
    .getByLabel('No')
    .check()
  await page.getByLabel('By phone', { exact: true }).check()
  await page.getByLabel('Phone number (if by phone)').fill('07700 900 123')
  await page.getByRole('button', { name: 'Send concern' }).click()
  assert.match(await main(page), /Safeguarding concern sent/)
  const concern = await db
    .selectFrom('safeguarding_concerns as c')
    .innerJoin('participants as p', 'p.user_id', 'c.raised_by')
    .select(['c.concern', 'c.immediate_risk', 'c.contact_by', 'c.phone', 'c.status'])
    .where('p.id', '=', priya.participantId)
    .executeTakeFirstOrThrow()
  assert.deepEqual(concern, {
    concern: 'A pupil a colleague mentioned may not be safe at home.',
    immediate_risk: false,
    contact_by: 'phone',
    phone: '07700 900 123',
    status: 'open',
  })
  await page.context().close()
})

test('JavaScript off: a lead provider’s admin posts programme news and Priya sees it on Home', async () => {
  const admin = await withoutJavaScript('lead-provider-admin@demo.test')
  await admin.getByRole('link', { name: 'Learning', exact: true }).click()
  await admin.getByRole('link', { name: 'News', exact: true }).click()
  assert.equal(path(admin), '/lead-provider/news')
  await admin.getByRole('button', { name: 'Write programme news' }).click()
  await admin.getByRole('button', { name: 'Publish' }).click()
  await expectErrorSummary(admin, /Enter a title/, /Enter the news/)
  await admin.getByLabel('Title').fill('Block 5 readings are ready')
  await admin.getByLabel('News', { exact: true }).fill('The **Block 5** readings are in Learn now.')
  await admin.getByLabel('Who is it for').selectOption({ label: 'NPQ for Headship' })
  await admin.getByRole('button', { name: 'Publish' }).click()
  assert.match(await banner(admin), /The news is published/)
  const news = await h.services.db
    .selectFrom('programme_news')
    .select(['course_identifier', 'published_on'])
    .where('title', '=', 'Block 5 readings are ready')
    .executeTakeFirstOrThrow()
  assert.deepEqual(news, { course_identifier: 'npq-headship', published_on: londonDateOf(new Date()) })
  await admin.context().close()

  const page = await withoutJavaScript('participant@demo.test')
  assert.match(await main(page), /Block 5 readings are ready/)
  assert.equal(await page.locator('main strong', { hasText: 'Block 5' }).count(), 1)
  await page.context().close()
})

test('JavaScript off: Sam writes and signs a meeting log; his line manager signs it and the one waiting', async () => {
  const { db } = h.services
  const today = londonDateOf(new Date())
  const sam = await withoutJavaScript('ucl-participant@demo.test')
  await sam.getByRole('link', { name: 'Meetings', exact: true }).click()
  assert.equal(path(sam), '/participant/meetings')
  assert.match(await main(sam), /1 of 3 meetings signed by both of you/)
  await sam.getByRole('link', { name: /Schedule meetings and write logs/ }).click()
  const enrolmentId = path(sam).split('/').at(-1)!
  await sam.getByRole('link', { name: 'Log of meeting 3' }).click()
  await sam.getByRole('button', { name: 'Write the log' }).click()
  assert.equal(await h1(sam), 'Write the log of meeting 3')
  // The form offers the scheduled date, three weeks ahead: a log of a meeting not yet held is refused.
  assert.equal(await sam.locator('#held_on-day').inputValue(), dateParts(addDays(today, 21)).day)
  await sam.getByRole('radio', { name: 'Target setting' }).check()
  await sam.getByLabel('Key purposes of the meeting').fill('Set the targets for the summer term')
  await sam
    .getByRole('group', { name: /Module formative assessment tasks/ })
    .getByLabel('Yes')
    .check()
  await sam.getByLabel('How many FATs were completed?').fill('3')
  await sam.getByLabel('Checking in and progress since the last meeting').fill('Routines are holding after half term')
  await sam.getByRole('button', { name: 'Save the log' }).click()
  await expectErrorSummary(sam, /The date of the meeting must be today or in the past/)
  assert.equal(await sam.getByLabel('How many FATs were completed?').inputValue(), '3', 'what was written is kept')
  await fillDate(sam, 'held_on', today)
  await sam.getByRole('button', { name: 'Save the log' }).click()
  assert.match(await banner(sam), /The log is saved/)
  await sam.getByRole('button', { name: 'Sign version 1 of the log' }).click()
  assert.match(await banner(sam), /You have signed the log/)
  assert.match((await sam.locator('#log-details').textContent()) ?? '', /Yes \(3\)[\s\S]*Sam Whitfield: Signed on/)

  const liam = await withoutJavaScript('line-manager@demo.test')
  assert.equal(path(liam), '/line-manager')
  const toSign = liam.locator('#to-sign')
  assert.match((await toSign.textContent()) ?? '', /Sam Whitfield: log of meeting 2[\s\S]*Sam Whitfield: log of meeting 3/)
  for (const n of [3, 2]) {
    await liam.getByRole('link', { name: `Sam Whitfield: log of meeting ${n}` }).click()
    await liam.getByRole('button', { name: 'Sign version 1 of the log' }).click()
    assert.match(await banner(liam), /The log is signed by both of you and sent to the delivery partner/)
    await liam.goto(`${h.baseUrl}/line-manager`)
  }
  assert.equal(await liam.locator('#to-sign').count(), 0, 'nothing waits for his signature')

  const logs = await db
    .selectFrom('meeting_logs as m')
    .innerJoin('enrolments as e', (j) =>
      j.onRef('e.participant_id', '=', 'm.participant_id').onRef('e.course_identifier', '=', 'm.course_identifier'),
    )
    .select(['m.meeting_number', 'm.held_on', 'm.signed_by_participant', 'm.signed_by_line_manager', 'm.fats_completed'])
    .where('e.id', '=', enrolmentId)
    .orderBy('m.meeting_number')
    .execute()
  assert.deepEqual(
    logs.map((l) => [l.meeting_number, l.signed_by_participant, l.signed_by_line_manager]),
    [
      [1, true, true],
      [2, true, true],
      [3, true, true],
    ],
  )
  assert.equal(logs[2]!.held_on, today)
  assert.equal(logs[2]!.fats_completed, 3)

  await sam.getByRole('link', { name: 'Meetings', exact: true }).click()
  assert.match(await main(sam), /3 of 3 meetings signed by both of you/)
  await sam.context().close()
  await liam.context().close()
})

test('JavaScript off: the dashboards, their filters by form submit, and a participant page', async () => {
  const lead = await withoutJavaScript('delivery-partner-lead@demo.test')
  await lead.getByRole('link', { name: 'Reports', exact: true }).click()
  await lead.getByRole('link', { name: 'Dashboard', exact: true }).click()
  assert.equal(path(lead), '/delivery-partner/dashboard')
  assert.equal(await h1(lead), 'Dashboard')
  const statusRows = async (page: Page) =>
    (await page.getByRole('table', { name: 'Participants by status' }).locator('tbody th').allTextContents()).map((t) => t.trim())
  const all = await statusRows(lead)
  assert.ok(all.some((r) => r.startsWith('NPQ for Headship')))
  assert.ok(
    all.some((r) => !r.startsWith('NPQ for Headship')),
    'other courses before filtering',
  )
  // The explanation is a <details>: it opens without JavaScript.
  await lead.getByText('How we work out who is at risk').click()
  assert.equal(
    await lead
      .getByText(/last 8 weeks/)
      .first()
      .isVisible(),
    true,
  )

  await lead.getByLabel('Course').selectOption({ label: 'NPQ for Headship' })
  await lead.getByRole('button', { name: 'Show' }).click()
  assert.equal(new URL(lead.url()).searchParams.get('course'), 'npq-headship')
  const filtered = await statusRows(lead)
  assert.ok(filtered.length > 0 && filtered.every((r) => r.startsWith('NPQ for Headship')), `only NPQH rows: ${filtered.join('; ')}`)
  assert.equal(await lead.getByLabel('Course').inputValue(), 'npq-headship', 'the filter shows what is chosen')
  // A value that is not a course is ignored rather than refused: the dashboard shows everything.
  await lead.goto(`${h.baseUrl}/delivery-partner/dashboard?course=no-such-course`)
  assert.deepEqual(await statusRows(lead), all)
  assert.equal(await lead.getByLabel('Course').inputValue(), '')

  await lead.goto(`${h.baseUrl}/delivery-partner/participants/${priya.headshipEnrolmentId}`)
  assert.equal(await h1(lead), 'Priya Patel')
  const page = await main(lead)
  for (const heading of ['Engagement by block', 'Outputs', 'Registers', 'Meetings', 'Escalation', 'Timeline'])
    assert.match(page, new RegExp(heading))
  await lead.getByRole('link', { name: 'Back to dashboard' }).click()
  assert.equal(path(lead), '/delivery-partner/dashboard')
  await lead.context().close()

  const admin = await withoutJavaScript('lead-provider-admin@demo.test')
  await admin.getByRole('link', { name: 'Delivery', exact: true }).click()
  await admin.getByRole('link', { name: 'Dashboard', exact: true }).click()
  assert.equal(path(admin), '/lead-provider/dashboard')
  const comparison = admin.getByRole('table', { name: /by delivery partner/ })
  const partners = (await comparison.locator('tbody th').allTextContents()).map((t) => t.trim())
  assert.ok(partners.includes('North Star Teaching School Hub'))
  assert.ok(partners.length > 1, 'more than one partner before filtering')
  await admin.getByLabel('Delivery partner').selectOption({ label: 'North Star Teaching School Hub' })
  await admin.getByLabel('Course').selectOption({ label: 'NPQ for Headship' })
  await admin.getByRole('button', { name: 'Show' }).click()
  const params = new URL(admin.url()).searchParams
  assert.equal(params.get('partner'), 'north-star-tsh')
  assert.equal(params.get('course'), 'npq-headship')
  assert.equal(await admin.getByLabel('Delivery partner').inputValue(), 'north-star-tsh')
  const statuses = await statusRows(admin)
  assert.ok(statuses.length > 0 && statuses.every((r) => r.startsWith('NPQ for Headship')), `only NPQH rows: ${statuses.join('; ')}`)
  assert.match(await main(admin), /Outputs due by review date/)

  await admin.goto(`${h.baseUrl}/lead-provider/participants/${priya.headshipEnrolmentId}`)
  assert.equal(await h1(admin), 'Priya Patel')
  assert.match(await main(admin), /Engagement by block[\s\S]*Block 1/)
  await admin.context().close()
})
