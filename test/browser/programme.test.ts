import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// The participant's zones on the demo data: Home (news, what is due, the calendar, where to continue),
// Progress against the 90% line, and the My programme and People landing pages; a delivery partner's
// lead writes programme news (an error first) that reaches Priya's Home. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').innerText()) ?? ''

test('a participant finds news, what is due and where to continue on Home, then their progress and programme', async () => {
  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await expectAccessible(priya)
  const home = await main(priya)
  assert.match(home, /Block 2 is now live/)
  assert.match(home, /Parking at the hub/)
  assert.doesNotMatch(home, /Spring term dates/, 'scheduled news is not shown before its date')
  assert.match(home, /What is due/)
  assert.match(home, /Survey: Block 1 feedback/)
  assert.match(home, /Your calendar/)

  await priya.getByRole('link', { name: 'All programme news' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Programme news[\s\S]*Parking at the hub/)

  await priya.getByRole('link', { name: 'Progress', exact: true }).click()
  await expectAccessible(priya)
  const progress = await main(priya)
  assert.match(progress, /NPQ for Headship/)
  assert.match(progress, /\d+(\.\d)?% engagement/)
  assert.match(progress, /(At or above 90%|more percentage points to reach the 90%)/)
  assert.match(progress, /Milestones/)

  await priya.getByRole('link', { name: 'My programme', exact: true }).click()
  await expectAccessible(priya)
  for (const page of ['Your courses', 'Project', 'Learning audit', 'Journal', 'Surveys', 'News']) {
    assert.ok(await priya.getByRole('link', { name: page, exact: true }).count(), page)
  }
  await priya.getByRole('link', { name: 'Your courses', exact: true }).click()
  await expectAccessible(priya)
  // Inside the group, its pages are the sub-navigation.
  assert.ok(await priya.locator('.moj-sub-navigation').getByRole('link', { name: 'Journal' }).count())

  await priya.getByRole('link', { name: 'People', exact: true }).click()
  await expectAccessible(priya)
  assert.ok(await priya.getByRole('link', { name: 'Forums', exact: true }).count())
})

test('a delivery partner’s lead writes programme news; the participant sees it on Home', async () => {
  const lead = await (await h.browser.newContext()).newPage()
  await signIn(lead, h.baseUrl, 'delivery-partner-lead@demo.test')
  await lead.getByRole('link', { name: 'Learning', exact: true }).click()
  await expectAccessible(lead)
  await lead.getByRole('link', { name: 'News', exact: true }).click()
  await expectAccessible(lead)
  assert.match(await main(lead), /Spring term dates\t[^\n]*Scheduled[\s\S]*Parking at the hub/)
  await lead.getByRole('button', { name: 'Write programme news' }).click()
  await expectAccessible(lead)
  await lead.getByRole('button', { name: 'Publish' }).click()
  assert.match(await lead.title(), /^Error: /)
  assert.match((await lead.locator('.govuk-error-summary').innerText()) ?? '', /Enter a title[\s\S]*Enter the news/)
  await expectAccessible(lead)
  await lead.getByLabel('Title').fill('Coaching drop-in on Thursday')
  await lead.getByLabel('News', { exact: true }).fill('Drop in to the hub from 4pm for help with your **formative tasks**.')
  await lead.getByRole('button', { name: 'Publish' }).click()
  await expectAccessible(lead)
  assert.match(await main(lead), /The news is published/)

  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  assert.match(await main(priya), /Coaching drop-in on Thursday/)
  assert.equal(await priya.locator('main strong', { hasText: 'formative tasks' }).count(), 1)
})
