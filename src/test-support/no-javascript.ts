import assert from 'node:assert/strict'
import type { Page } from 'playwright-core'
import { signIn, type BrowserHarness } from './browser.ts'

// Journeys with JavaScript off (test/browser/no-javascript*.test.ts): signing in without it, and the
// GOV.UK error summary as a person without JavaScript sees it.

/** GOV.UK's inline script marks the body when JavaScript runs: a page without the mark ran none. */
export const ranJavaScript = async (page: Page) => (await page.locator('body.js-enabled').count()) > 0

/** A fresh context with JavaScript turned off, signed in as this person. */
export async function withoutJavaScript(h: BrowserHarness, email: string): Promise<Page> {
  const context = await h.browser.newContext({ javaScriptEnabled: false })
  const page = await context.newPage()
  await signIn(page, h.baseUrl, email, undefined, { axe: false })
  assert.equal(await ranJavaScript(page), false, 'JavaScript is off')
  assert.notEqual(new URL(page.url()).pathname, '/sign-in', `${email} is signed in`)
  return page
}

/**
 * The page is the form again with the GOV.UK error summary: "Error:" in the title, each message in the
 * summary, and each of its links a plain in-page link to a field that is on the page.
 */
export async function expectErrorSummary(page: Page, ...messages: RegExp[]) {
  assert.match(await page.title(), /^Error: /, `an error page at ${page.url()}`)
  const summary = page.locator('.govuk-error-summary')
  const text = (await summary.textContent()) ?? ''
  for (const message of messages) assert.match(text, message)
  const links = summary.locator('a')
  assert.ok((await links.count()) > 0, 'the summary links to the fields')
  for (const href of await links.evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''))) {
    assert.match(href, /^#./, 'a link within the page')
    assert.equal(await page.locator(`[id="${href.slice(1)}"]`).count(), 1, `the field ${href} is on the page`)
  }
}
