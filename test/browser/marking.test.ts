import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Marking in the browser on the demo data, for a closed NPQH window with three responses (Priya
// Patel's and two North Star participants'): EDT's admin allocates the scripts, the assessor marks them
// (seeing no names), the moderator moderates the sample, the admin records the external moderation and
// releases the results, and Priya reads hers. Every page passes axe.

let h: BrowserHarness
let names: string[] = []
before(async () => {
  h = await startBrowserHarness()
  const db = h.services.db
  const edt = (
    await db
      .selectFrom('organisations')
      .select('id')
      .where('kind', '=', 'lead-provider')
      .where('code', '=', 'edt')
      .executeTakeFirstOrThrow()
  ).id
  const enrolments = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'p.full_name', 'p.email'])
    .where('e.lead_provider_id', '=', edt)
    .where('e.course_identifier', '=', 'npq-headship')
    .where('e.cohort', '=', '2022-autumn')
    .orderBy('p.full_name')
    .execute()
  const chosen = [
    enrolments.find((e) => e.email === 'participant@demo.test')!,
    ...enrolments.filter((e) => e.email !== 'participant@demo.test').slice(0, 2),
  ]
  names = chosen.map((e) => e.full_name)
  const window = await db
    .insertInto('assessment_windows')
    .values({
      lead_provider_id: edt,
      course_identifier: 'npq-headship',
      cohort: '2022-autumn',
      opens_on: '2024-06-03',
      closes_on: '2024-06-10',
      engagement_deadline: '2024-05-20',
      max_words: 1500,
      case_study_title: 'Oakbridge Academy: improving attendance',
      case_study: 'The case study.',
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  for (const [i, e] of chosen.entries()) {
    await db
      .insertInto('assessment_entries')
      .values({
        window_id: window.id,
        enrolment_id: e.id,
        attempt: 1,
        decision: 'entered',
        submitted_text: `Response ${i + 1}.\n\nFirst, diagnose the attendance problem with staff and families; then plan the change in stages.`,
        submitted_word_count: 18,
        submitted_at: new Date('2024-06-09T15:00:00Z'),
        outcome: 'submitted',
      })
      .execute()
  }
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''

test('an admin allocates, the assessor marks, the moderator moderates, the admin releases and the participant reads the result', async () => {
  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.goto(`${h.baseUrl}/lead-provider/assessment/marking`)
  await expectAccessible(admin)
  assert.match(await main(admin), /Scripts to allocate/)
  await admin.getByRole('link', { name: 'NPQ for Headship, 2022-autumn' }).click()
  await expectAccessible(admin)
  const windowUrl = admin.url()

  // Releasing now is refused, with what is missing.
  await admin.getByRole('button', { name: 'Release results' }).click()
  await expectAccessible(admin)
  assert.match(await admin.title(), /^Error: /)
  assert.match((await admin.locator('.govuk-error-summary').textContent()) ?? '', /3 scripts are not allocated to an assessor/)

  await admin.getByRole('button', { name: 'Allocate scripts' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /Scripts are allocated to your assessors/)
  assert.match(await main(admin), /Aisha Rahman\s*3\s*0/)

  // The assessor marks every script; no page names the participant.
  const assessor = await (await h.browser.newContext()).newPage()
  await signIn(assessor, h.baseUrl, 'assessor@demo.test')
  await assessor.goto(`${h.baseUrl}/assessor/scripts`)
  await expectAccessible(assessor)
  assert.match(await main(assessor), /3 scripts to mark/)
  const references = (await assessor.locator('main table a').allTextContents()).map((r) => r.trim())
  assert.equal(references.length, 3)
  for (const [i, reference] of references.entries()) {
    await assessor.getByRole('link', { name: reference }).click()
    await expectAccessible(assessor)
    const text = await main(assessor)
    assert.match(text, /Oakbridge Academy: improving attendance/)
    assert.match(text, /Response \d\./)
    for (const name of names) assert.ok(!text.includes(name), `the script names ${name}`)
    if (i === 0) {
      // Nothing entered: every problem at once.
      await assessor.getByRole('button', { name: 'Save mark' }).click()
      await expectAccessible(assessor)
      assert.match((await assessor.locator('.govuk-error-summary').textContent()) ?? '', /Enter the mark[\s\S]*Choose passed or failed/)
    }
    await assessor.getByLabel('Mark', { exact: true }).fill('68')
    await assessor.getByLabel('Passed', { exact: true }).check()
    await assessor.getByLabel('Feedback for the participant').fill(`A clear plan, well grounded in the evidence (${reference}).`)
    await assessor.getByRole('button', { name: 'Save mark' }).click()
    await expectAccessible(assessor)
    assert.match(await main(assessor), /Your mark is saved/)
    await assessor.locator('main').getByRole('link', { name: 'Scripts to mark' }).click()
    await expectAccessible(assessor)
  }
  assert.match(await main(assessor), /0 scripts to mark/)

  // The moderator agrees with the sampled script.
  const moderator = await (await h.browser.newContext()).newPage()
  await signIn(moderator, h.baseUrl, 'moderator@demo.test')
  await moderator.goto(`${h.baseUrl}/moderator/scripts`)
  await expectAccessible(moderator)
  const sampled = (await moderator.locator('main table a').allTextContents()).map((r) => r.trim())
  assert.ok(sampled.length >= 1)
  for (const reference of sampled) {
    await moderator.getByRole('link', { name: reference }).click()
    await expectAccessible(moderator)
    for (const name of names) assert.ok(!(await main(moderator)).includes(name))
    await moderator.getByLabel('Passed (agree)').check()
    await moderator.getByRole('button', { name: 'Save moderation' }).click()
    await expectAccessible(moderator)
    assert.match(await main(moderator), /Your moderation is saved/)
    await moderator.locator('main').getByRole('link', { name: 'Scripts to moderate' }).click()
    await expectAccessible(moderator)
  }

  // External moderation, then release.
  await admin.goto(windowUrl)
  await expectAccessible(admin)
  await admin.locator('#on-day').fill('15')
  await admin.locator('#on-month').fill('7')
  await admin.locator('#on-year').fill('2024')
  await admin.getByRole('button', { name: 'Record external moderation' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /External moderation is recorded/)
  await admin.getByRole('button', { name: 'Release results' }).click()
  await expectAccessible(admin)
  assert.match(await main(admin), /Results are released to participants/)
  assert.equal(await admin.getByRole('button', { name: 'Release results' }).count(), 0)

  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.goto(`${h.baseUrl}/participant/assessment/results`)
  await expectAccessible(priya)
  assert.match(await main(priya), /NPQ for Headship[\s\S]*Passed[\s\S]*A clear plan, well grounded in the evidence/)

  // The marks are fixed now.
  await assessor.getByRole('link', { name: references[0]! }).click()
  await expectAccessible(assessor)
  assert.match(await main(assessor), /The results are released/)
  assert.equal(await assessor.getByRole('button', { name: 'Save mark' }).count(), 0)
})
