import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// The participant marks a self-study activity as complete from their course page.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

test('a participant marks a recorded webinar as complete and sees it Completed', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'participant@demo.test')
  await page.goto(`${h.baseUrl}/participant/courses/npq-headship`)
  await expectAccessible(page)
  const row = page.getByRole('row').filter({ hasText: 'Recorded webinar 4.1' })
  assert.match((await row.textContent()) ?? '', /Not started/)
  await row.getByRole('button', { name: 'Mark as complete for Recorded webinar 4.1' }).click()
  await page.waitForLoadState('load')
  assert.match(page.url(), /\/participant\/courses\/npq-headship#activity-NPQH-B4-REC-4\.1$/)
  assert.match((await page.getByRole('row').filter({ hasText: 'Recorded webinar 4.1' }).textContent()) ?? '', /Completed/)
  assert.equal(await page.getByRole('button', { name: 'Mark as complete for Recorded webinar 4.1' }).count(), 0)
  await expectAccessible(page)
})
