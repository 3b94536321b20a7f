import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// The implementation project in the browser on the demo data: Priya names her NPQH project, adds an
// entry to each of the four stages, has a file of the wrong type refused (her typed text kept), then
// submits her report with a PDF; North Star's lead reads it. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''

test('a participant keeps their implementation project and submits the final report; the delivery partner reads it', async () => {
  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.goto(`${h.baseUrl}/participant/project`)
  await expectAccessible(priya)
  await priya.getByRole('link', { name: 'NPQ for Headship', exact: true }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /not part of engagement/)

  await priya.getByLabel('Project title').fill('Reading for pleasure in KS3')
  await priya.getByRole('button', { name: 'Save title' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Your title is saved/)

  for (const stage of ['Explore', 'Prepare', 'Deliver', 'Sustain']) {
    await priya.getByRole('link', { name: `Add an entry to ${stage}` }).click()
    await expectAccessible(priya)
    await priya.getByLabel('Entry', { exact: true }).fill(`${stage}: what I did and found`)
    await priya.getByRole('button', { name: 'Save entry' }).click()
    await expectAccessible(priya)
    assert.match(await main(priya), new RegExp(`${stage}: what I did and found`))
  }

  // An entry with no text: the error summary, nothing saved.
  await priya.getByRole('link', { name: 'Add an entry to Deliver' }).click()
  await priya.getByRole('button', { name: 'Save entry' }).click()
  assert.match(await priya.title(), /^Error: /)
  assert.match((await priya.locator('.govuk-error-summary').textContent()) ?? '', /Enter your entry/)
  await expectAccessible(priya)
  await priya.getByRole('link', { name: 'Back' }).click()

  // Editing an entry.
  await priya.getByRole('link', { name: /Edit Explore entry/ }).click()
  await expectAccessible(priya)
  await priya.getByLabel('Entry', { exact: true }).fill('Explore: the problem is reluctant readers in Year 8')
  await priya.getByRole('button', { name: 'Save entry' }).click()
  assert.match(await main(priya), /reluctant readers in Year 8/)

  // The report: a file that is not what its name says is refused, the typed text kept.
  await priya.getByRole('button', { name: 'Submit your final report' }).click()
  await expectAccessible(priya)
  await priya.getByLabel('Report', { exact: true }).fill('We tried three approaches to reading for pleasure.')
  await priya
    .locator('#file')
    .setInputFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]) })
  await priya.getByRole('button', { name: 'Submit report' }).click()
  assert.match(await priya.title(), /^Error: /)
  assert.match((await priya.locator('.govuk-error-summary').textContent()) ?? '', /must be a PDF, DOCX, PPTX or TXT/)
  await expectAccessible(priya)
  assert.equal(await priya.getByLabel('Report', { exact: true }).inputValue(), 'We tried three approaches to reading for pleasure.')

  await priya
    .locator('#file')
    .setInputFiles({ name: 'Project report.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.7\n%%EOF\n') })
  await priya.locator('#presented-day').fill('3')
  await priya.locator('#presented-month').fill('7')
  await priya.locator('#presented-year').fill('2023')
  await priya.getByRole('button', { name: 'Submit report' }).click()
  await expectAccessible(priya)
  const project = await main(priya)
  assert.match(project, /Your final report is saved/)
  assert.match(project, /Project report\.pdf/)
  assert.match(project, /We tried three approaches/)
  const projectUrl = priya.url()

  // North Star's lead reads it and downloads the file.
  const lead = await (await h.browser.newContext()).newPage()
  await signIn(lead, h.baseUrl, 'delivery-partner-lead@demo.test')
  await lead.goto(`${h.baseUrl}/delivery-partner/projects`)
  await expectAccessible(lead)
  await lead.getByRole('link', { name: 'Priya Patel' }).click()
  await expectAccessible(lead)
  const read = await main(lead)
  assert.match(read, /Reading for pleasure in KS3/)
  assert.match(read, /reluctant readers in Year 8/)
  assert.equal(await lead.getByRole('link', { name: /Add an entry/ }).count(), 0)
  const download = lead.waitForEvent('download')
  await lead.getByRole('link', { name: 'Project report.pdf' }).click()
  assert.equal((await download).suggestedFilename(), 'Project report.pdf')

  // Not the lead's to change: the participant's own page is not found for them.
  const response = await lead.goto(projectUrl)
  assert.equal(response?.status(), 404)
})
