import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { londonDateOf } from '../../src/dates/london.ts'
import { addDays } from '../../src/registers/register-rules.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Line manager meetings in the browser: Priya (on a UCL course added here, 3 meetings) schedules a
// meeting, writes the log and signs it; her line manager signs in with an emailed link and signs;
// North Star's lead reads the signed log. Every page passes axe.

let h: BrowserHarness
let enrolmentId: string
before(async () => {
  h = await startBrowserHarness()
  const { db } = h.services
  const org = async (kind: 'lead-provider' | 'delivery-partner' | 'school', code: string) =>
    (await db.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow()).id
  const priya = await db.selectFrom('participants').select('id').where('email', '=', 'participant@demo.test').executeTakeFirstOrThrow()
  const lm = await db.selectFrom('users').select('id').where('email', '=', 'line-manager@demo.test').executeTakeFirstOrThrow()
  enrolmentId = (
    await db
      .insertInto('enrolments')
      .values({
        participant_id: priya.id,
        lead_provider_id: await org('lead-provider', 'ucl'),
        delivery_partner_id: await org('delivery-partner', 'north-star-tsh'),
        school_id: await org('school', '100001'),
        line_manager_user_id: lm.id,
        course_identifier: 'npq-leading-behaviour-culture',
        cohort: '2023-autumn',
        status: 'active',
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''
const fillDate = async (page: Page, name: string, date: string) => {
  const [y, m, d] = date.split('-')
  await page.locator(`#${name}-day`).fill(String(Number(d)))
  await page.locator(`#${name}-month`).fill(String(Number(m)))
  await page.locator(`#${name}-year`).fill(y!)
}

test('a participant schedules a meeting and writes and signs the log; the line manager signs in by link and signs; the DP reads it', async () => {
  const today = londonDateOf(new Date())
  const priya = await (await h.browser.newContext()).newPage()
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.goto(`${h.baseUrl}/participant/meetings`)
  await expectAccessible(priya)
  assert.match(await main(priya), /0 of 3 meetings signed/)
  await priya.getByRole('link', { name: /Schedule meetings and write logs/ }).click()
  await expectAccessible(priya)
  await priya.getByRole('link', { name: 'Schedule meeting 1' }).click()
  await expectAccessible(priya)

  // No place: the error summary, nothing scheduled.
  await fillDate(priya, 'date', addDays(today, 7))
  await priya.getByLabel('Start time').fill('15:30')
  await priya.getByRole('button', { name: 'Schedule and send invitations' }).click()
  assert.match(await priya.title(), /^Error: /)
  assert.match((await priya.locator('.govuk-error-summary').textContent()) ?? '', /Enter where the meeting is/)
  await expectAccessible(priya)
  await priya.getByLabel('Place, or link to join online').fill('Head’s office')
  await priya.getByRole('button', { name: 'Schedule and send invitations' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /The meeting is scheduled/)

  // The log, with the stage prompts beside it.
  await priya.getByRole('link', { name: 'Log of meeting 1' }).click()
  await expectAccessible(priya)
  await priya.getByRole('button', { name: 'Write the log' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Prompts for the reflection stage/)
  await fillDate(priya, 'held_on', today)
  await priya.getByRole('radio', { name: 'Contracting' }).check()
  await priya.getByLabel('Key purposes of the meeting').fill('Agree the focus of the project')
  await priya.getByLabel('What does our agenda need to cover?').fill('Project scope')
  await priya.getByRole('radio', { name: 'Yes' }).check()
  await priya.getByLabel('How many FATs were completed?').fill('2')
  await priya.getByLabel('Checking in and progress since the last meeting').fill('Module 1 done')
  await priya.getByLabel('What will happen because of this meeting?').fill('A project plan')
  await expectAccessible(priya)
  await priya.getByRole('button', { name: 'Save the log' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /The log is saved/)
  await priya.getByRole('button', { name: 'Sign version 1 of the log' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /You have signed the log/)

  // The line manager signs in with an emailed link.
  const liam = await (await h.browser.newContext()).newPage()
  await liam.goto(`${h.baseUrl}/sign-in`)
  await liam.getByRole('link', { name: 'Email me a link to sign in' }).click()
  await expectAccessible(liam)
  await liam.getByLabel('Email address').fill('line-manager@demo.test')
  await liam.getByRole('button', { name: 'Email me a link' }).click()
  await expectAccessible(liam)
  const email = await h.services.db
    .selectFrom('email_outbox')
    .select('body')
    .where('to_address', '=', 'line-manager@demo.test')
    .where('subject', '=', 'Your link to sign in to the NPQ platform')
    .executeTakeFirstOrThrow()
  const link = /(http\S+\/sign-in\/link\/\S+)/.exec(email.body)![1]!
  await liam.goto(link)
  await expectAccessible(liam)
  await liam.getByRole('button', { name: 'Continue and sign in' }).click()
  await liam.goto(`${h.baseUrl}/line-manager`)
  await expectAccessible(liam)
  assert.match((await liam.locator('#to-sign').textContent()) ?? '', /Priya Patel: log of meeting 1/)
  await liam
    .locator('#to-sign')
    .getByRole('link', { name: /Priya Patel/ })
    .click()
  await expectAccessible(liam)
  await liam.getByRole('button', { name: 'Sign version 1 of the log' }).click()
  await expectAccessible(liam)
  assert.match(await main(liam), /signed by both of you and sent to the delivery partner/)

  const lead = await (await h.browser.newContext()).newPage()
  await signIn(lead, h.baseUrl, 'delivery-partner-lead@demo.test')
  await lead.goto(`${h.baseUrl}/delivery-partner/meetings`)
  await expectAccessible(lead)
  await lead
    .locator('#signed-logs')
    .getByRole('link', { name: /Priya Patel/ })
    .click()
  await expectAccessible(lead)
  assert.match((await lead.locator('#log-details').textContent()) ?? '', /Yes \(2\)/)
  assert.equal(await lead.getByRole('button', { name: /Sign version/ }).count(), 0)
  await lead.goto(`${h.baseUrl}/meetings/${enrolmentId}`)
  await expectAccessible(lead)
})
