import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { placeUngrouped } from '../../src/groups/groups.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Participant groups in the browser on the demo data: North Star's lead opens their groups, adds a
// second NPQH group with Fatima as facilitator (after a blank name is refused), and moves a
// participant from Group 1 into it. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
  await placeUngrouped(h.services.db, { kind: 'system', name: 'test' })
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''
const table = (page: Page, caption: string) => page.locator('table', { has: page.locator('caption', { hasText: caption }) })

test('a delivery partner lead adds a group and moves a participant into it', async () => {
  const lead = await (await h.browser.newContext()).newPage()
  await signIn(lead, h.baseUrl, 'delivery-partner-lead@demo.test')
  await lead.goto(`${h.baseUrl}/delivery-partner/groups`)
  await expectAccessible(lead)
  const headship = table(lead, 'NPQ for Headship, 2022-autumn')
  assert.match((await headship.textContent()) ?? '', /Group 1/)
  assert.doesNotMatch((await headship.textContent()) ?? '', /Group 2/)

  // A blank name: the error summary, nothing added.
  await lead.getByLabel('Course and cohort').selectOption({ label: 'NPQ for Headship, 2022-autumn' })
  await lead.getByRole('button', { name: 'Add group' }).click()
  assert.match(await lead.title(), /^Error: /)
  assert.match((await lead.locator('.govuk-error-summary').textContent()) ?? '', /Enter a name for the group/)
  await expectAccessible(lead)

  await lead.getByLabel('Course and cohort').selectOption({ label: 'NPQ for Headship, 2022-autumn' })
  await lead.getByLabel('Name of the group').fill('Group 2')
  await lead.getByLabel('Facilitator').selectOption({ label: 'Fatima Hussain' })
  await lead.getByRole('button', { name: 'Add group' }).click()
  await expectAccessible(lead)
  assert.match(await main(lead), /Group 2 is added to NPQ for Headship, 2022-autumn/)
  assert.match((await table(lead, 'NPQ for Headship, 2022-autumn').textContent()) ?? '', /Group 2\s*Fatima Hussain\s*0/)

  await table(lead, 'NPQ for Headship, 2022-autumn').getByRole('link', { name: 'Group 1' }).click()
  await expectAccessible(lead)
  assert.match((await lead.locator('h1').textContent()) ?? '', /Group 1/)
  const participant = lead.getByLabel('Participant', { exact: true })
  const name = ((await participant.locator('option').nth(1).textContent()) ?? '').trim()
  assert.ok(name)
  await participant.selectOption({ label: name })
  await lead.getByLabel('Move to').selectOption({ label: 'Group 2 (0 members)' })
  await lead.getByRole('button', { name: 'Move participant' }).click()
  await expectAccessible(lead)
  assert.match(await main(lead), new RegExp(`${name} is moved to Group 2`))
  assert.doesNotMatch((await lead.locator('table').textContent()) ?? '', new RegExp(name))

  await lead.goto(`${h.baseUrl}/delivery-partner/groups`)
  await expectAccessible(lead)
  await table(lead, 'NPQ for Headship, 2022-autumn').getByRole('link', { name: 'Group 2' }).click()
  await expectAccessible(lead)
  assert.match((await lead.locator('table').textContent()) ?? '', new RegExp(name))
  assert.match(await main(lead), /Fatima Hussain/)
})

test('a lead provider admin sees their delivery partners’ groups, read-only', async () => {
  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.goto(`${h.baseUrl}/lead-provider/groups`)
  await expectAccessible(admin)
  assert.match(await main(admin), /North Star Teaching School Hub[\s\S]*NPQ for Headship, 2022-autumn/)
  assert.equal(await admin.locator('main form').count(), 0)
})
