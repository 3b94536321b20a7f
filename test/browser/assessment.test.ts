import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { decideEntries } from '../../src/assessment/jobs.ts'
import { assessmentClock } from '../../src/assessment/windows.ts'
import { londonDateOf, londonMoment } from '../../src/dates/london.ts'
import { addDays } from '../../src/registers/register-rules.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// The summative assessment in the browser on the demo data: EDT's admin creates a window for NPQH
// (with a validation error first); the entry job enters Priya at the deadline; on day 1 she reads the
// case study, sees the live word count, is refused over the limit, then saves and submits with
// JavaScript off. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => {
  assessmentClock.now = () => new Date()
  return h.close()
})

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''
const fillDate = async (page: Page, name: string, date: string) => {
  const [y, m, d] = date.split('-')
  await page.locator(`#${name}-day`).fill(String(Number(d)))
  await page.locator(`#${name}-month`).fill(String(Number(m)))
  await page.locator(`#${name}-year`).fill(y!)
}
const words = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ')
const CASE_STUDY = 'Oakwood Academy must raise reading attainment in Year 6 within one year.'

test('an admin creates a window; the entered participant reads the case study on day 1, saves and submits', async () => {
  const today = londonDateOf(new Date())
  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.goto(`${h.baseUrl}/lead-provider/assessment`)
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Create a window' }).click()
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Save window' }).click()
  assert.match(await admin.title(), /^Error: /)
  assert.match((await admin.locator('.govuk-error-summary').textContent()) ?? '', /Select the course/)
  await expectAccessible(admin)

  await admin.getByLabel('Course', { exact: true }).selectOption('npq-headship')
  await admin.getByLabel('Cohort').selectOption('2022-autumn')
  await fillDate(admin, 'opens_on', addDays(today, 2))
  await fillDate(admin, 'engagement_deadline', addDays(today, -1))
  assert.equal(await admin.getByLabel('Maximum words in a response').inputValue(), '1500')
  await admin.getByLabel('Case study title').fill('Reading at Oakwood')
  await admin.getByLabel('Case study', { exact: true }).fill(CASE_STUDY)
  await admin.getByRole('button', { name: 'Save window' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /The window is created/)

  // The day after the deadline: the daily job enters Priya (97% engagement in the demo data).
  await decideEntries(h.services, today)

  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.goto(`${h.baseUrl}/participant/assessment`)
  await expectAccessible(priya)
  await priya.getByRole('link', { name: /Go to the assessment/ }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /The assessment opens on/)
  assert.ok(!(await main(priya)).includes(CASE_STUDY))
  const sittingUrl = priya.url()

  // Day 1, a minute past midnight in London.
  const day1 = londonMoment(addDays(today, 2), '00:01')!
  assessmentClock.now = () => day1
  await priya.reload()
  await expectAccessible(priya)
  assert.ok((await main(priya)).includes(CASE_STUDY))

  // The live word count (JavaScript), then a refusal over the limit with the draft kept.
  await priya.getByLabel('Your response').fill('A well-being plan — in 1,500 words.')
  assert.match((await priya.locator('#response-word-count').textContent()) ?? '', /^6 words of 1,500$/)
  await priya.getByLabel('Your response').fill(words(1502))
  assert.match((await priya.locator('#response-word-count').textContent()) ?? '', /^1,502 words: 2 words over the 1,500-word limit$/)
  await priya.getByRole('button', { name: 'Submit response' }).click()
  assert.match(await priya.title(), /^Error: /)
  assert.match((await priya.locator('.govuk-error-summary').textContent()) ?? '', /1,502 words: the maximum is 1,500/)
  await expectAccessible(priya)

  // Without JavaScript: the saved draft comes back, Save draft counts on the server, Submit works.
  const noJs = await (await h.browser.newContext({ javaScriptEnabled: false })).newPage()
  await signIn(noJs, h.baseUrl, 'participant@demo.test', undefined, { axe: false })
  await noJs.goto(sittingUrl)
  assert.equal((await noJs.getByLabel('Your response').inputValue()).split(' ').length, 1502)
  await noJs.getByLabel('Your response').fill('Reading first: a plan for Oakwood in three stages.')
  await noJs.getByRole('button', { name: 'Save draft' }).click()
  assert.match(await main(noJs), /Your draft is saved/)
  assert.match((await noJs.locator('#response-word-count').textContent()) ?? '', /9 words of 1,500/)
  await noJs.getByRole('button', { name: 'Submit response' }).click()
  assert.match(await main(noJs), /Your response is submitted/)
  assert.match(await main(noJs), /Reading first: a plan for Oakwood in three stages\./)

  await priya.goto(`${h.baseUrl}/participant/assessment`)
  await expectAccessible(priya)
  assert.match(await main(priya), /Submitted/)
  await admin.reload()
  await expectAccessible(admin)
  assert.match((await admin.locator('#entries').textContent()) ?? '', /Priya Patel[\s\S]*Submitted[\s\S]*9 words/)
})
