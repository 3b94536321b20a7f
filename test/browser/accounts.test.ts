import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { demoPassword, expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Sign-in, each role's home page, errors and the invitation journey, as people use them, with axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const homes: [string, string, string][] = [
  ['participant@demo.test', '/participant', 'Your NPQ'],
  ['line-manager@demo.test', '/line-manager', 'Participants you support'],
  ['facilitator@demo.test', '/facilitator', 'North Star Teaching School Hub'],
  ['delivery-partner-lead@demo.test', '/delivery-partner', 'North Star Teaching School Hub'],
  ['lead-provider-admin@demo.test', '/lead-provider', 'Education Development Trust'],
  ['assessor@demo.test', '/assessor', 'Education Development Trust'],
  ['moderator@demo.test', '/moderator', 'Education Development Trust'],
  ['school-contact@demo.test', '/school', 'Oakfield Primary School'],
]

test('the start page and sign-in page pass axe', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await page.goto(h.baseUrl)
  await expectAccessible(page)
  await page.getByRole('button', { name: 'Sign in' }).click()
  assert.equal(new URL(page.url()).pathname, '/sign-in')
  await expectAccessible(page)
  await page.close()
})

for (const [email, path, heading] of homes) {
  test(`${email.split('@')[0]} signs in to their home page, which passes axe, and signs out`, async () => {
    const context = await h.browser.newContext()
    const page = await context.newPage()
    await signIn(page, h.baseUrl, email)
    assert.equal(new URL(page.url()).pathname, path)
    assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', new RegExp(heading))
    await expectAccessible(page)
    await page.getByRole('button', { name: 'Sign out' }).click()
    assert.equal(new URL(page.url()).pathname, '/signed-out')
    await expectAccessible(page)
    await page.goto(`${h.baseUrl}${path}`)
    assert.equal(new URL(page.url()).pathname, '/sign-in')
    await context.close()
  })
}

test('a wrong password shows the error summary, linked to the field, and passes axe', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'participant@demo.test', 'wrong password entirely')
  assert.match(await page.title(), /^Error: Sign in/)
  const summary = page.locator('.govuk-error-summary')
  assert.match((await summary.textContent()) ?? '', /Enter a correct email address and password/)
  await expectAccessible(page)
  await page.close()
})

test('not found, forbidden and problem pages pass axe', async () => {
  const context = await h.browser.newContext()
  const page = await context.newPage()
  const missing = await page.goto(`${h.baseUrl}/no/such/page`)
  assert.equal(missing?.status(), 404)
  await expectAccessible(page)
  await signIn(page, h.baseUrl, 'participant@demo.test')
  const forbidden = await page.goto(`${h.baseUrl}/lead-provider`)
  assert.equal(forbidden?.status(), 403)
  await expectAccessible(page)
  await context.close()
})

test('signing in works with JavaScript turned off', async () => {
  const context = await h.browser.newContext({ javaScriptEnabled: false })
  const page = await context.newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test', demoPassword, { axe: false })
  assert.equal(new URL(page.url()).pathname, '/lead-provider')
  await context.close()
})

test('a lead-provider admin invites a facilitator, who sets a password from the email and lands on their home page', async () => {
  const admin = await (await h.browser.newContext()).newPage()
  await signIn(admin, h.baseUrl, 'lead-provider-admin@demo.test')
  await admin.getByRole('link', { name: 'Settings', exact: true }).click()
  await admin.getByRole('link', { name: 'Users', exact: true }).click()
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Invite someone' }).click()
  await expectAccessible(admin)
  await admin.getByRole('button', { name: 'Send invitation' }).click()
  assert.match(await admin.title(), /^Error: /)
  await expectAccessible(admin)
  await admin.getByLabel('Full name').fill('Grace Facilitator')
  await admin.getByLabel('Email address').fill('grace@east-coast.test')
  await admin.getByLabel('Role').selectOption({ label: 'Facilitator' })
  await admin.getByLabel('Organisation').selectOption({ label: 'East Coast Teaching School Hub (delivery partner)' })
  await admin.getByRole('button', { name: 'Send invitation' }).click()
  assert.match((await admin.locator('.govuk-notification-banner').textContent()) ?? '', /Invitation sent to grace@east-coast.test/)
  await expectAccessible(admin)

  await admin.goto(`${h.baseUrl}/dev/emails`)
  await expectAccessible(admin)
  await admin.getByRole('link', { name: 'You have been invited to the NPQ platform' }).first().click()
  await expectAccessible(admin)
  const link = await admin.getByRole('link', { name: /set-password/ }).getAttribute('href')

  const invitee = await (await h.browser.newContext()).newPage()
  await invitee.goto(link!)
  await expectAccessible(invitee)
  await invitee.getByLabel('New password', { exact: true }).fill('a garden of long words')
  await invitee.getByLabel('Confirm new password').fill('a garden of long words')
  await invitee.getByRole('button', { name: 'Set password and sign in' }).click()
  assert.equal(new URL(invitee.url()).pathname, '/facilitator')
  assert.match((await invitee.getByRole('heading', { level: 1 }).textContent()) ?? '', /East Coast Teaching School Hub/)
  await expectAccessible(invitee)
})

test('API tokens page passes axe and shows a new token once', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Settings', exact: true }).click()
  await page.getByRole('link', { name: 'API tokens', exact: true }).click()
  await expectAccessible(page)
  await page.getByLabel('Token name').fill('Finance system')
  await page.getByRole('button', { name: 'Create token' }).click()
  assert.match((await page.locator('#new-token').textContent()) ?? '', /^npq_/)
  await expectAccessible(page)
})
