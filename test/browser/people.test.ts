import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Issue 9 people in the browser on the demo data: Priya takes her NPQH learning audit (a missing
// rating refused), takes it again and sees how she moved; writes in her private journal; finds her
// buddy, clinic group and contacts; raises a safeguarding concern, which North Star's lead (its
// designated safeguarding lead) reads. The lead then pairs two NPQLT participants as buddies and
// records a quality assurance observation of their facilitator. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''

async function rateAll(page: Page, rating: string, except: Record<string, string> = {}) {
  const groups = page.locator('fieldset:has(input[name^="rating-"])')
  for (let i = 0; i < (await groups.count()); i++) {
    const group = groups.nth(i)
    const legend = ((await group.locator('legend').textContent()) ?? '').trim()
    await group.getByLabel(except[legend] ?? rating, { exact: true }).check()
  }
}

test('Priya: learning audit, journal, people and contacts, and a safeguarding concern the DSL reads', async () => {
  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')

  // The learning audit: a missing rating is refused with the error summary.
  await priya.goto(`${h.baseUrl}/participant/learning-audit`)
  await expectAccessible(priya)
  assert.match(await main(priya), /Only you can see your learning audits/)
  await priya.getByRole('button', { name: 'Take your learning audit for NPQ for Headship' }).click()
  await expectAccessible(priya)
  await rateAll(priya, '3 – Fairly confident')
  await priya.getByRole('button', { name: 'Save learning audit' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Your learning audit is saved/)

  // Again later, with more confidence in school culture: the table shows the movement.
  await priya.getByRole('button', { name: 'Take your learning audit again for NPQ for Headship' }).click()
  await priya.getByRole('button', { name: 'Save learning audit' }).click()
  assert.match(await priya.title(), /^Error: /)
  assert.match((await priya.locator('.govuk-error-summary').textContent()) ?? '', /Select how confident you are in school culture/)
  await expectAccessible(priya)
  await rateAll(priya, '3 – Fairly confident', { 'School culture': '5 – Very confident' })
  await priya.getByRole('button', { name: 'Save learning audit' }).click()
  await expectAccessible(priya)
  const culture = priya.getByRole('row', { name: /School culture/ })
  assert.match((await culture.textContent()) ?? '', /3\s*5\s*Up 2/)
  assert.match((await priya.getByRole('row', { name: /^Teaching/ }).textContent()) ?? '', /No change/)
  assert.equal(await priya.locator('svg[role="img"]').count(), 1)

  // The journal.
  await priya.goto(`${h.baseUrl}/participant/journal`)
  await expectAccessible(priya)
  await priya.getByRole('button', { name: 'Write a new entry' }).click()
  await expectAccessible(priya)
  await priya.getByRole('button', { name: 'Save entry' }).click()
  assert.match(await priya.title(), /^Error: /)
  await expectAccessible(priya)
  await priya.getByLabel('Title').fill('What I learnt from clinic 1')
  await priya.getByLabel('Reflection').fill('Feedback works best when it is **specific**.')
  await priya.getByLabel('Course or block (optional)').selectOption({ label: 'NPQ for Headship, 2022-autumn' })
  await priya.getByRole('button', { name: 'Save entry' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /What I learnt from clinic 1/)
  assert.equal(await priya.locator('main strong', { hasText: 'specific' }).count(), 1)

  // Her groups and contacts.
  await priya.goto(`${h.baseUrl}/participant/people`)
  await expectAccessible(priya)
  assert.match(await main(priya), /Buddies: NPQH buddies 1/)
  assert.match(await main(priya), /Clinic group: NPQH clinic group A/)
  const contacts = await main(priya)
  assert.match(contacts, /Your delivery partner contact\s*Dan Okafor/)
  assert.match(contacts, /EDT NPQ programme team/)
  assert.match(contacts, /EDT platform help desk/)

  // A safeguarding concern: refused when empty, then sent.
  await priya.getByRole('button', { name: 'Raise a safeguarding concern' }).click()
  await expectAccessible(priya)
  await priya.getByRole('button', { name: 'Send concern' }).click()
  assert.match(await priya.title(), /^Error: /)
  await expectAccessible(priya)
  await priya.getByLabel('Your concern').fill('A colleague on my course mentioned a pupil who seems unsafe at home.')
  await priya
    .getByRole('group', { name: /immediate risk/ })
    .getByLabel('No')
    .check()
  await priya.getByLabel('By phone', { exact: true }).check()
  await priya.getByLabel('Phone number (if by phone)').fill('07700 900 982')
  await priya.getByRole('button', { name: 'Send concern' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Safeguarding concern sent/)

  // North Star's lead is its DSL: they read it.
  const dan = await (await h.browser.newContext()).newPage()
  await signIn(dan, h.baseUrl, 'delivery-partner-lead@demo.test')
  await dan.goto(`${h.baseUrl}/safeguarding/concerns`)
  await expectAccessible(dan)
  await dan.getByRole('link', { name: /Raised .* by Priya Patel/ }).click()
  await expectAccessible(dan)
  assert.match(await main(dan), /seems unsafe at home/)
  assert.match(await main(dan), /Phone: 07700 900 982/)
  await dan.getByRole('button', { name: 'Acknowledge' }).click()
  await expectAccessible(dan)
  assert.match(await main(dan), /Acknowledged by Dan Okafor/)

  // The lead provider's admin is not a DSL: not even the list.
  const laura = await (await h.browser.newContext()).newPage()
  await signIn(laura, h.baseUrl, 'lead-provider-admin@demo.test')
  const refused = await laura.goto(`${h.baseUrl}/safeguarding/concerns`)
  assert.equal(refused?.status(), 403)
})

test('the delivery partner lead pairs buddies and records a facilitator observation', async () => {
  const dan = await (await h.browser.newContext()).newPage()
  await signIn(dan, h.baseUrl, 'delivery-partner-lead@demo.test')
  await dan.goto(`${h.baseUrl}/delivery-partner/people`)
  await expectAccessible(dan)
  assert.match(await main(dan), /NPQH buddies 1/)
  await dan.getByRole('button', { name: 'Create a group' }).click()
  await expectAccessible(dan)
  // The course and cohort first: the next step lists only their participants.
  await dan.getByLabel('Course and cohort').selectOption({ label: 'NPQ for Leading Teaching, 2022-autumn' })
  await dan.getByRole('button', { name: 'Continue' }).click()
  await expectAccessible(dan)
  await dan.getByLabel('Buddies').check()
  await dan.getByLabel('Name', { exact: true }).fill('NPQLT buddies 1')
  const lt = dan.locator('.govuk-checkboxes__item', { hasText: 'NPQ for Leading Teaching, 2022-autumn' })
  // One person is not a pair.
  await lt.nth(0).locator('input').check()
  await dan.getByRole('button', { name: 'Create group' }).click()
  assert.match((await dan.locator('.govuk-error-summary').textContent()) ?? '', /pairs or threes/)
  await expectAccessible(dan)
  await dan.locator('.govuk-checkboxes__item', { hasText: 'NPQ for Leading Teaching, 2022-autumn' }).nth(1).locator('input').check()
  await dan.getByRole('button', { name: 'Create group' }).click()
  await expectAccessible(dan)
  assert.match(await main(dan), /The group is created/)
  await dan.getByRole('link', { name: 'NPQLT buddies 1' }).click()
  await expectAccessible(dan)
  assert.equal(await dan.getByRole('button', { name: /^Remove/ }).count(), 2)

  // Facilitators' records: a QA observation of Fatima.
  await dan.goto(`${h.baseUrl}/delivery-partner/facilitators`)
  await expectAccessible(dan)
  await dan.getByRole('link', { name: 'Fatima Hussain' }).click()
  await expectAccessible(dan)
  await dan.getByRole('button', { name: 'Add an observation' }).click()
  await expectAccessible(dan)
  await dan.getByRole('button', { name: 'Save observation' }).click()
  assert.match(await dan.title(), /^Error: /)
  await expectAccessible(dan)
  await dan.getByLabel('Session (if not one of their events)').fill('PLG 3 at Riverside Academy')
  await dan.getByLabel('Strengths').fill('Participants led the discussion of the case.')
  await dan.getByLabel('Areas to develop').fill('Summarise the key evidence at the end.')
  await dan.getByLabel('Excellent').check()
  await dan.getByRole('button', { name: 'Save observation' }).click()
  await expectAccessible(dan)
  assert.match(await main(dan), /The observation is saved/)
  assert.match(await main(dan), /PLG 3 at Riverside Academy/)
  assert.match(await main(dan), /Participants led the discussion/)
})
