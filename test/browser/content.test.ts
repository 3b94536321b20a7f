import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Block content in the browser on the demo data: EDT's admin writes a page and a quiz for NPQH Block 4
// (an error first), publishes them; Priya finds them in Learn, reads the page, takes the quiz (wrong,
// then right) with feedback, and the quiz's activity shows complete; North Star's lead adds local
// context; the facilitator gives feedback on Priya's formative assessment task. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''

test('a lead provider publishes a page and a quiz; Priya learns from them and the activity is complete', async () => {
  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.goto(`${h.baseUrl}/lead-provider/content`)
  await expectAccessible(admin)
  await admin.getByRole('link', { name: 'NPQ for Headship', exact: true }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /Block 4 overview: leading change that lasts/)

  await admin.getByRole('link', { name: /^Add an item to Block 4/ }).click()
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Continue' }).click()
  assert.match(await admin.title(), /^Error: /)
  await expectAccessible(admin)
  await admin.getByLabel('Page', { exact: true }).check()
  await admin.getByRole('button', { name: 'Continue' }).click()
  await expectAccessible(admin)
  // Nothing entered: the error summary.
  await admin.getByRole('button', { name: 'Save' }).click()
  assert.match(await admin.title(), /^Error: /)
  assert.match((await admin.locator('.govuk-error-summary').textContent()) ?? '', /Enter a title[\s\S]*Enter the content/)
  await expectAccessible(admin)
  await admin.getByLabel('Title').fill('Webinar 4.2: what to notice')
  await admin.getByLabel('Content').fill('Watch for **three** moves.\n\n- Naming the problem\n- Agreeing active ingredients')
  await admin.getByLabel('Framework statements (optional)').fill('Learn how to lead implementation')
  await admin.getByRole('button', { name: 'Save' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /The item is saved[\s\S]*Webinar 4.2: what to notice[\s\S]*Draft/)

  await admin.getByRole('link', { name: /^Add an item to Block 4/ }).click()
  await admin.getByLabel('Quiz', { exact: true }).check()
  await admin.getByRole('button', { name: 'Continue' }).click()
  await admin.getByLabel('Title').fill('Webinar 4.2 check')
  await admin.getByLabel('Design activity it completes').selectOption({ label: 'Recorded webinar 4.2 (NPQH-B4-REC-4.2)' })
  await admin.getByLabel('Questions').fill('? Which stage comes first?\n- Deliver\n* Explore\n> Explore comes before you prepare.')
  await admin.getByLabel('Pass mark (optional)').fill('100')
  await admin.getByRole('button', { name: 'Save' }).click()
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Publish Webinar 4.2: what to notice' }).click()
  await admin.getByRole('button', { name: 'Publish Webinar 4.2 check' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /Webinar 4.2 check\s*Published/)
  await admin.getByRole('link', { name: 'Preview Webinar 4.2 check as a participant' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /Preview[\s\S]*Which stage comes first\?/)

  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.goto(`${h.baseUrl}/participant/learn`)
  await expectAccessible(priya)
  await priya.getByRole('link', { name: 'NPQ for Headship', exact: true }).click()
  await expectAccessible(priya)
  await priya.getByRole('link', { name: /^Block 4/ }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Local context from North Star/)
  assert.match((await priya.locator('#activity-NPQH-B4-REC-4\\.2').locator('xpath=ancestor::tr').textContent()) ?? '', /Not started/)

  await priya.getByRole('link', { name: 'Webinar 4.2: what to notice' }).first().click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Watch for three moves/)
  assert.equal(await priya.locator('main strong', { hasText: 'three' }).count(), 1)
  await priya.getByRole('button', { name: 'Mark as complete' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Completed/)

  await priya.getByRole('link', { name: 'Back' }).click()
  await priya.getByRole('link', { name: 'Webinar 4.2 check' }).first().click()
  await expectAccessible(priya)
  await priya.getByRole('button', { name: 'Submit answers' }).click()
  assert.match(await priya.title(), /^Error: /)
  await expectAccessible(priya)
  await priya.getByLabel('Deliver').check()
  await priya.getByRole('button', { name: 'Submit answers' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /You scored 0 out of 1[\s\S]*You need 100% to pass[\s\S]*Explore comes before you prepare/)
  await priya.getByLabel('Explore').check()
  await priya.getByRole('button', { name: 'Submit answers' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /You scored 1 out of 1 \(100%\)\.\s*You passed/)
  assert.match(await main(priya), /Completed/)

  await priya.getByRole('link', { name: 'Back' }).click()
  await expectAccessible(priya)
  assert.match((await priya.locator('#activity-NPQH-B4-REC-4\\.2').locator('xpath=ancestor::tr').textContent()) ?? '', /Completed/)

  // The podcast: without progress from the player it stays unwatched, and there is no button to bypass it.
  await priya.getByRole('link', { name: 'Podcast: a headteacher on sustaining change' }).click()
  await expectAccessible(priya)
  assert.equal(await priya.getByRole('button', { name: 'Mark as complete' }).count(), 0)
  assert.match(await main(priya), /You have watched 0%/)
})

test('North Star’s lead adds local context; the facilitator gives feedback on a formative assessment task', async () => {
  const lead = await (await h.browser.newContext()).newPage()
  await signIn(lead, h.baseUrl, 'delivery-partner-lead@demo.test')
  await lead.goto(`${h.baseUrl}/delivery-partner/content`)
  await expectAccessible(lead)
  await lead.getByRole('link', { name: 'NPQ for Headship', exact: true }).click()
  await expectAccessible(lead)
  await lead.getByRole('link', { name: 'Add local context for Block 1' }).click()
  await expectAccessible(lead)
  await lead.getByLabel('Local examples').fill('- Riverside Academy’s **coaching** cycle')
  await lead.getByRole('button', { name: 'Save local context' }).click()
  await expectAccessible(lead)
  assert.match(await main(lead), /Your local context is saved/)

  const facilitator = await (await h.browser.newContext()).newPage()
  await signIn(facilitator, h.baseUrl, 'facilitator@demo.test')
  await facilitator.goto(`${h.baseUrl}/facilitator/tasks`)
  await expectAccessible(facilitator)
  await facilitator
    .getByRole('link', { name: /Priya Patel/ })
    .first()
    .click()
  await expectAccessible(facilitator)
  assert.match(await main(facilitator), /Year 7 reading intervention/)
  await facilitator.getByRole('button', { name: 'Send feedback' }).click()
  assert.match(await facilitator.title(), /^Error: /)
  await expectAccessible(facilitator)
  await facilitator.getByLabel('Your feedback').fill('Strong plan. Say who checks the Sustain step.')
  await facilitator.getByRole('button', { name: 'Send feedback' }).click()
  await expectAccessible(facilitator)
  assert.match(await main(facilitator), /Feedback given[\s\S]*Priya Patel/)

  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.goto(`${h.baseUrl}/participant/learn/npq-headship/blocks/1`)
  await expectAccessible(priya)
  assert.match(await main(priya), /Local context from North Star[\s\S]*Riverside Academy’s coaching cycle/)
  await priya.goto(`${h.baseUrl}/participant/learn/npq-headship/blocks/4`)
  await priya.getByRole('link', { name: 'Formative assessment task: your change plan' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Strong plan\. Say who checks the Sustain step\.[\s\S]*From Fatima Hussain/)
})

test('watched time in the browser: skipping ahead counts only what was played; playing it through completes the podcast', async () => {
  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.goto(`${h.baseUrl}/participant/learn/npq-headship/blocks/4`)
  await priya.getByRole('link', { name: 'Podcast: a headteacher on sustaining change' }).click()
  await expectAccessible(priya)
  // With JavaScript the "needs JavaScript" note goes; the player reports what is played.
  assert.equal(await priya.locator('#media-needs-js').isHidden(), true)
  // The page's DOM types are not part of this project's TypeScript library: just what is used here.
  type Media = {
    muted: boolean
    currentTime: number
    playbackRate: number
    play(): Promise<void>
    addEventListener(type: string, listener: () => void, options: { once: boolean }): void
  }
  const playFrom = (at: number) =>
    priya.locator('audio').evaluate(async (element, start) => {
      const audio = element as unknown as Media
      audio.muted = true
      audio.currentTime = start
      audio.playbackRate = 4
      const ended = new Promise<void>((resolve) => audio.addEventListener('ended', resolve, { once: true }))
      await audio.play()
      await ended
    }, at)
  await playFrom(20)
  await priya.locator('#media-progress', { hasText: /You have watched \d+%\. It is complete at 90%/ }).waitFor()
  const partial = Number(/watched (\d+)%/.exec((await priya.locator('#media-progress').textContent()) ?? '')?.[1])
  assert.ok(partial >= 25 && partial <= 40, `only the last third counts, not ${partial}%`)
  await playFrom(0)
  await priya.locator('#media-progress', { hasText: /This is complete/ }).waitFor()
  await priya.reload()
  await expectAccessible(priya)
  assert.match((await priya.locator('#item-status').textContent()) ?? '', /Completed/)
})
