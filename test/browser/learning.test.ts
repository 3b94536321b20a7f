import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// The participant sees their own course design through the learning pages.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

test('a participant opens their course content: the blocks of the version their cohort runs, with dates', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'participant@demo.test')
  await page.getByRole('link', { name: 'Course content: NPQ for Headship' }).click()
  await expectAccessible(page)
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /NPQ for Headship/)
  assert.match((await page.locator('main').textContent()) ?? '', /Block 1[\s\S]*Live[\s\S]*Opens 1 October 2022/)
  assert.match((await page.getByRole('table').first().textContent()) ?? '', /Diagnostic Assessment for Block 1/)

  await page.goto(`${h.baseUrl}/participant`)
  await page.getByRole('link', { name: 'Course content: Early Headship Coaching Offer' }).click()
  assert.match((await page.locator('main').textContent()) ?? '', /has not been published yet/) // EDT has no EHCO design in the sources
  await expectAccessible(page)

  const other = await page.goto(`${h.baseUrl}/participant/courses/npq-senior-leadership`)
  assert.equal(other?.status(), 404)
})

test('the course page leads to the Learn zone: blocks with their progress, and a block’s content and activities', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'participant@demo.test')
  await page.goto(`${h.baseUrl}/participant/courses/npq-headship`)
  await page.getByRole('link', { name: 'Go to the course content in Learn' }).click()
  await expectAccessible(page)
  assert.match((await page.getByRole('table').first().textContent()) ?? '', /Block 4[\s\S]*% complete/)
  await page.getByRole('link', { name: 'Block 1', exact: true }).click()
  await expectAccessible(page)
  assert.match((await page.locator('main').textContent()) ?? '', /Diagnostic Assessment for Block 1/)
  await page.getByRole('link', { name: 'NPQ for Headship' }).click()
  await page.getByRole('link', { name: 'Learn', exact: true }).first().click()
  await expectAccessible(page)
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /Learn/)
})
