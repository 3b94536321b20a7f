import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { queueDfeRequest } from '../../src/dfe/requests.ts'
import { DfeSync } from '../../src/dfe/sync.ts'
import { dfeDeclaration, dfeParticipant, dfeWorld, startFakeDfe } from '../../src/dfe/test-fixtures.ts'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'
import { systemPrincipal } from '../../src/test-support/fixtures.ts'

// A lead-provider admin opens the DfE sync log, finds a declaration DfE refused, reads DfE's answer
// and cancels the request.

let h: BrowserHarness
let fake: Awaited<ReturnType<typeof startFakeDfe>>
let requestId: string

before(async () => {
  h = await startBrowserHarness()
  fake = await startFakeDfe(() => ({
    status: 422,
    body: { errors: [{ title: 'declaration_date', detail: 'The declaration date is before the schedule start' }] },
  }))
  const world = await dfeWorld(h.services.db, 'edt')
  const p = await dfeParticipant(world, { name: 'Priya Shah' })
  const declarationId = await dfeDeclaration(world, p)
  requestId = await h.services.db.transaction().execute((trx) =>
    queueDfeRequest(trx, {
      leadProviderId: world.leadProviderId,
      kind: 'submit-declaration',
      subjectId: declarationId,
      queuedBy: systemPrincipal,
    }),
  )
  const sync = new DfeSync(h.services.db, { url: fake.url, token: 'browser-test-token' }, h.services.logger, { timeoutMs: 2000 })
  await sync.send(requestId)
})
after(async () => {
  await fake?.close()
  await h?.close()
})

test('a lead-provider admin sees a failed DfE request, reads why, and cancels it', async () => {
  const page = await (await h.browser.newContext()).newPage()
  await signIn(page, h.baseUrl, 'lead-provider-admin@demo.test')
  await page.getByRole('link', { name: 'Finance', exact: true }).click()
  await page.getByRole('link', { name: 'DfE sync', exact: true }).click()
  await expectAccessible(page)
  assert.match((await page.getByRole('heading', { level: 1 }).textContent()) ?? '', /DfE sync/)
  const row = page.getByRole('row', { name: /Priya Shah/ })
  assert.match((await row.textContent()) ?? '', /Failed[\s\S]*The declaration date is before the schedule start/)

  await page.getByLabel('Show').selectOption('failed')
  await page.getByRole('button', { name: 'Show requests' }).click()
  await expectAccessible(page)
  await page
    .getByRole('row', { name: /Priya Shah/ })
    .getByRole('link', { name: 'Submit declaration' })
    .click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-summary-list').first().textContent()) ?? '', /POST \/participant-declarations/)
  await page.getByText('DfE’s response').click()
  await expectAccessible(page)
  assert.match(
    (await page.locator('.govuk-details__text').first().textContent()) ?? '',
    /"detail": "The declaration date is before the schedule start"/,
  )

  await page.getByRole('button', { name: 'Cancel request' }).click()
  await expectAccessible(page)
  assert.match((await page.locator('.govuk-notification-banner').textContent()) ?? '', /Request cancelled: it will not be sent to DfE/)
  assert.equal(await page.getByRole('button', { name: 'Retry now' }).count(), 0)
  const request = await h.services.db
    .selectFrom('dfe_requests')
    .select(['status', 'cancelled_by'])
    .where('id', '=', requestId)
    .executeTakeFirstOrThrow()
  assert.equal(request.status, 'cancelled')
  assert.ok(request.cancelled_by)

  await page.getByRole('link', { name: 'Back to DfE sync' }).click()
  await page.getByLabel('Show').selectOption('cancelled')
  await page.getByRole('button', { name: 'Show requests' }).click()
  await expectAccessible(page)
  assert.match((await page.getByRole('row', { name: /Priya Shah/ }).textContent()) ?? '', /Cancelled/)
})
