import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { AxeBuilder } from '@axe-core/playwright'
import { signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Every page each demo role can reach, by following links from their Home (GET only, within the
// service): no server error, one h1, and no axe violations. Paths are grouped by shape (ids replaced),
// and each shape is visited at most twice, so the crawl covers every page template each role sees.
// Downloads (CSV, XLSX, iCal, files) and signing out are not followed.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const roles = [
  'participant@demo.test',
  'ucl-participant@demo.test',
  'line-manager@demo.test',
  'facilitator@demo.test',
  'delivery-partner-lead@demo.test',
  'lead-provider-admin@demo.test',
  'assessor@demo.test',
  'moderator@demo.test',
  'school-contact@demo.test',
]

const MAX_PAGES = 120
const skip =
  /\/(sign-out|signed-out|dev\/|calendar\/feed|api\/)|\.(csv|xlsx|ics|pdf|json)(\?|$)|\/file(\?|$)|\/content\/files\/|\/download|format=(csv|xlsx)/
/** A path's shape: ids, references and dates replaced, so pages of one template count once. */
const shape = (url: URL) =>
  url.pathname
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, ':id')
    .replace(/\/S-[0-9A-Z]{5}/g, '/:ref')
    .replace(/\/\d+(?=\/|$)/g, '/:n') + (url.search ? '?…' : '')

for (const email of roles) {
  test(`every page ${email} can reach has no server error, one h1 and no axe violations`, async () => {
    const context = await h.browser.newContext()
    const page = await context.newPage()
    await signIn(page, h.baseUrl, email)
    const start = new URL(page.url())
    const queue = [start.pathname]
    const seen = new Set<string>(queue)
    const shapes = new Map<string, number>()
    const problems: string[] = []
    let visited = 0
    while (queue.length && visited < MAX_PAGES) {
      const path = queue.shift()!
      const url = new URL(path, h.baseUrl)
      const key = shape(url)
      if ((shapes.get(key) ?? 0) >= 2) continue
      shapes.set(key, (shapes.get(key) ?? 0) + 1)
      const response = await page.goto(url.toString())
      visited++
      const status = response?.status() ?? 0
      if (status >= 500) {
        problems.push(`${path}: status ${status}`)
        continue
      }
      if (status !== 200) continue // a page this role may not open (403/404) is not followed further
      const h1s = await page.locator('h1').count()
      if (h1s !== 1) problems.push(`${path}: ${h1s} h1 elements`)
      const axe = await new AxeBuilder({ page })
        .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
        .analyze()
      for (const v of axe.violations) problems.push(`${path}: ${v.id} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
      const links = await page.locator('a[href]').evaluateAll((as) => as.map((a) => a.getAttribute('href') ?? ''))
      for (const href of links) {
        if (!href || href.startsWith('#') || href.startsWith('mailto:')) continue
        const next = new URL(href, url)
        if (next.origin !== new URL(h.baseUrl).origin || skip.test(next.pathname + next.search)) continue
        const target = next.pathname + next.search
        if (!seen.has(target)) {
          seen.add(target)
          queue.push(target)
        }
      }
    }
    await context.close()
    assert.ok(visited >= 2, `${email} reached ${visited} pages`)
    assert.deepEqual(problems, [], `${email}: ${visited} pages visited`)
  })
}
