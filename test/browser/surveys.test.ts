import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Surveys in the browser on the demo data: EDT's admin authors an end-of-programme survey for NPQH
// (bad input refused with the error summary), Priya answers it (a missing rating refused first), and
// the admin sees the results. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''

test('a lead provider’s admin authors a survey, Priya answers it, the admin sees the results', async () => {
  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.goto(`${h.baseUrl}/lead-provider/surveys`)
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Create a survey' }).click()
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Create survey' }).click()
  assert.match(await admin.title(), /^Error: /)
  assert.match((await admin.locator('.govuk-error-summary').textContent()) ?? '', /Enter a title/)
  await expectAccessible(admin)

  const now = new Date()
  const soon = new Date(now.getTime() + 14 * 86_400_000)
  await admin.getByLabel('Title').fill('Programme feedback')
  await admin.getByLabel('End-of-programme survey').check()
  await admin.getByLabel('Course').selectOption('npq-headship')
  await admin
    .getByLabel('Questions')
    .fill('rating: How would you rate the programme?\nchoice: Would you recommend it? | Yes | No\ntext: Anything else?')
  const fillDate = async (legend: string, d: Date) => {
    const group = admin.getByRole('group', { name: legend })
    await group.getByLabel('Day').fill(String(d.getUTCDate()))
    await group.getByLabel('Month').fill(String(d.getUTCMonth() + 1))
    await group.getByLabel('Year').fill(String(d.getUTCFullYear()))
  }
  await fillDate('Opens', new Date(now.getTime() - 86_400_000))
  await fillDate('Closes', soon)
  await admin.getByRole('button', { name: 'Create survey' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /The survey is created/)
  const resultsUrl = admin.url()

  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.goto(`${h.baseUrl}/participant/surveys`)
  await expectAccessible(priya)
  assert.match(await main(priya), /Block 1 feedback/, 'the demo’s end-of-block survey is due too')
  await priya.getByRole('link', { name: 'Programme feedback' }).click()
  await expectAccessible(priya)
  await priya.getByLabel('Yes').check()
  await priya.getByRole('button', { name: 'Send answers' }).click()
  assert.match((await priya.locator('.govuk-error-summary').textContent()) ?? '', /Select a rating from 1 to 5/)
  await expectAccessible(priya)
  await priya.getByLabel('4', { exact: true }).check()
  await priya.getByLabel('Anything else? (optional)').fill('More time for school visits')
  await priya.getByRole('button', { name: 'Send answers' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Thank you: your answers are sent/)
  assert.doesNotMatch((await priya.locator('main ul').first().textContent()) ?? '', /Programme feedback/, 'no longer to answer')

  await admin.goto(resultsUrl)
  await expectAccessible(admin)
  const results = await main(admin)
  assert.match(results, /Responses\s*1/)
  assert.match(results, /4\s*out of 5 \(1 answered\)/)
  assert.match(results, /More time for school visits/)
  assert.doesNotMatch(results, /Priya Patel/)
})
