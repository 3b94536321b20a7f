import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// The grouped service navigation: a lead-provider admin opens each group's landing page and one page
// from each group, by clicking as a person would. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const heading = async (page: Page) => ((await page.getByRole('heading', { level: 1 }).textContent()) ?? '').trim()
const topNavigation = (page: Page) => page.getByRole('navigation', { name: 'Menu' })
const current = async (page: Page, nav: ReturnType<Page['getByRole']>) =>
  (await nav.locator('a[aria-current]').allTextContents()).map((t) => t.trim())

test('a lead-provider admin opens each group and a page in it, with the group current and its pages below', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await expectAccessible(page)
  assert.deepEqual(
    (await topNavigation(page).getByRole('link').allTextContents()).map((t) => t.trim()),
    ['Home', 'Participants', 'Delivery', 'Learning', 'Assessment', 'Finance', 'Settings'],
  )
  assert.equal(await page.locator('.moj-sub-navigation').count(), 0, 'no sub-navigation on Home')

  const groups: [string, string[], string, string][] = [
    [
      'Participants',
      ['Applications', 'Onboarding', 'Deferrals and withdrawals', 'Groups', 'Projects', 'Meeting logs', 'Escalations'],
      'Onboarding',
      'Onboarding',
    ],
    ['Delivery', ['Dashboard', 'Events', 'Reports', 'Imports'], 'Reports', 'Reports'],
    ['Learning', ['Content', 'Forums', 'Surveys', 'News', 'Contacts'], 'News', 'Programme news'],
    ['Assessment', ['Windows and entries', 'Marking and results'], 'Marking and results', 'Assessment marking'],
    ['Finance', ['Declarations', 'Money', 'DfE sync'], 'DfE sync', 'DfE sync'],
    ['Settings', ['Catalogue', 'Users', 'API tokens', 'Data protection'], 'API tokens', 'API tokens'],
  ]
  for (const [group, pages, open, expectedHeading] of groups) {
    await topNavigation(page).getByRole('link', { name: group, exact: true }).click()
    await expectAccessible(page)
    assert.equal(await heading(page), group)
    assert.deepEqual(await current(page, topNavigation(page)), [group])
    const listed = page.locator('main').getByRole('heading', { level: 2 })
    assert.deepEqual(
      (await listed.allTextContents()).map((t) => t.trim()),
      pages,
    )

    await page.locator('main').getByRole('link', { name: open, exact: true }).click()
    await expectAccessible(page)
    assert.equal(await heading(page), expectedHeading)
    assert.deepEqual(await current(page, topNavigation(page)), [group], `${group} stays current on ${open}`)
    const sub = page.getByRole('navigation', { name: group })
    assert.deepEqual(
      (await sub.getByRole('link').allTextContents()).map((t) => t.trim()),
      pages,
    )
    assert.deepEqual(await current(page, sub), [open])
  }

  // The sub-navigation moves between a group's pages.
  await page.getByRole('navigation', { name: 'Settings' }).getByRole('link', { name: 'Catalogue', exact: true }).click()
  await expectAccessible(page)
  assert.equal(await heading(page), 'Catalogue')
  assert.deepEqual(await current(page, page.getByRole('navigation', { name: 'Settings' })), ['Catalogue'])

  await topNavigation(page).getByRole('link', { name: 'Home', exact: true }).click()
  await expectAccessible(page)
  assert.deepEqual(await current(page, topNavigation(page)), ['Home'])
})

test('a delivery-partner lead has six items, deferrals and escalations under Participants', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'delivery-partner-lead@demo.test')
  assert.deepEqual(
    (await topNavigation(page).getByRole('link').allTextContents()).map((t) => t.trim()),
    ['Home', 'Events', 'Participants', 'Learning', 'Reports', 'Team'],
  )
  await topNavigation(page).getByRole('link', { name: 'Participants', exact: true }).click()
  await expectAccessible(page)
  assert.equal(await heading(page), 'Participants')
  await page.locator('main').getByRole('link', { name: 'Escalations', exact: true }).click()
  await expectAccessible(page)
  assert.equal(await heading(page), 'Escalations')
  await page.getByRole('navigation', { name: 'Participants' }).getByRole('link', { name: 'Deferrals and withdrawals' }).click()
  await expectAccessible(page)
  assert.equal(await heading(page), 'Deferrals and withdrawals')
})
