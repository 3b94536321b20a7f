import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { AxeBuilder } from '@axe-core/playwright'
import type { FastifyInstance } from 'fastify'
import { chromium, type Browser, type Page } from 'playwright-core'
import { loadDemoData } from '../demo/demo.ts'
import { buildApp } from '../routes.ts'
import { chromiumPath } from './browser-path.ts'
import { createTestServices, type TestServices } from './services.ts'

// Browser tests: the real server on a free port with demo data, Debian's Chromium driven by
// playwright-core, and axe on every page a test visits.

export const demoPassword = 'demo-password-for-tests'

export type BrowserHarness = { baseUrl: string; browser: Browser; services: TestServices; app: FastifyInstance; close(): Promise<void> }

export async function startBrowserHarness(): Promise<BrowserHarness> {
  const services = await createTestServices({ work: true })
  await loadDemoData(services)
  const app = await buildApp(services)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`
  services.config.baseUrl = baseUrl // links in emails point at this server
  const browser = await chromium.launch({
    executablePath: chromiumPath() ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  })
  return {
    baseUrl,
    browser,
    services,
    app,
    async close() {
      await browser.close()
      await app.close()
      await services.dispose()
    },
  }
}

/** Fails with the list of accessibility violations on the page, if there are any. */
export async function expectAccessible(page: Page): Promise<void> {
  // A click that navigates returns before the new page has loaded: check the page the person will see.
  await page.waitForLoadState('load')
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'])
    .analyze()
  const summary = results.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`)
  assert.deepEqual(summary, [], `axe violations on ${page.url()}`)
}

/** Signs in through the form. axe needs JavaScript in the page, so a no-JavaScript test passes axe: false. */
export async function signIn(page: Page, baseUrl: string, email: string, password = demoPassword, options = { axe: true }): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`)
  if (options.axe) await expectAccessible(page)
  await page.getByLabel('Email address').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await page.waitForLoadState('load')
}
