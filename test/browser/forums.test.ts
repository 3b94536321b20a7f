import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { Page } from 'playwright-core'
import { expectAccessible, signIn, startBrowserHarness, type BrowserHarness } from '../../src/test-support/browser.ts'

// Forums in the browser on the demo data: Priya opens her NPQH group's forum (the demo's threads are
// there), has an empty thread refused with the error summary, starts a thread whose Markdown is
// rendered and whose script never runs, and replies; North Star's facilitator hides her post with a
// reason and Priya sees why. Every page passes axe.

let h: BrowserHarness
before(async () => {
  h = await startBrowserHarness()
})
after(() => h.close())

const main = async (page: Page) => (await page.locator('main').textContent()) ?? ''

test('a participant posts and replies; a facilitator hides a post with a reason', async () => {
  const priya = await (await h.browser.newContext()).newPage()
  const dialogs: string[] = []
  priya.on('dialog', (d) => {
    dialogs.push(d.message())
    void d.dismiss()
  })
  await signIn(priya, h.baseUrl, 'participant@demo.test')
  await priya.goto(`${h.baseUrl}/participant/forums`)
  await expectAccessible(priya)
  await priya.getByRole('link', { name: /NPQ for Headship, 2022-autumn/ }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Welcome to your group forum/)
  const forumUrl = priya.url()

  await priya.getByRole('button', { name: 'Start a thread' }).click()
  await expectAccessible(priya)
  await priya.getByRole('button', { name: 'Post thread' }).click()
  assert.match(await priya.title(), /^Error: /)
  assert.match((await priya.locator('.govuk-error-summary').textContent()) ?? '', /Enter a title for your thread/)
  await expectAccessible(priya)

  await priya.getByLabel('Title').fill('Coaching conversations')
  await priya.getByLabel('Your post').fill('What **works** for you?\n\n<script>alert("forum")</script><img src=x onerror="alert(1)">')
  await priya.getByRole('button', { name: 'Post thread' }).click()
  await expectAccessible(priya)
  assert.equal(await priya.getByRole('heading', { level: 1 }).textContent(), 'Coaching conversations')
  assert.equal(await priya.locator('.app-markdown strong').first().textContent(), 'works')
  assert.match(await main(priya), /<script>alert\("forum"\)<\/script>/, 'the script is shown as text')
  assert.equal(await priya.locator('main script, main img').count(), 0)

  await priya.getByLabel('Reply').fill('Also: how long do yours take?')
  await priya.getByRole('button', { name: 'Post reply' }).click()
  await expectAccessible(priya)
  assert.match(await main(priya), /Also: how long do yours take\?/)
  const threadPath = new URL(priya.url()).pathname

  await priya.goto(forumUrl)
  await expectAccessible(priya)
  const firstThread = await priya.locator('tbody tr').first().textContent()
  assert.match(firstThread ?? '', /Coaching conversations/, 'the newest activity comes first')
  assert.deepEqual(dialogs, [], 'no script ran')

  // The facilitator hides the first post of the thread.
  const facilitator = await (await h.browser.newContext()).newPage()
  await signIn(facilitator, h.baseUrl, 'facilitator@demo.test')
  await facilitator.goto(`${h.baseUrl}/facilitator/forums`)
  await expectAccessible(facilitator)
  await facilitator.getByRole('link', { name: /NPQ for Headship, 2022-autumn/ }).click()
  await expectAccessible(facilitator)
  await facilitator.getByRole('link', { name: 'Coaching conversations' }).click()
  await expectAccessible(facilitator)
  await facilitator.getByRole('link', { name: 'Hide the post by Priya Patel' }).first().click()
  await expectAccessible(facilitator)
  await facilitator.getByRole('button', { name: 'Hide post' }).click()
  assert.match((await facilitator.locator('.govuk-error-summary').textContent()) ?? '', /Enter why you are hiding this post/)
  await expectAccessible(facilitator)
  await facilitator.getByLabel('Reason').fill('Please do not paste code into posts')
  await facilitator.getByRole('button', { name: 'Hide post' }).click()
  await expectAccessible(facilitator)
  assert.match(await main(facilitator), /The post is hidden/)
  assert.match(await main(facilitator), /Hidden from participants\. Reason: Please do not paste code into posts/)

  await priya.goto(`${h.baseUrl}${threadPath}`)
  await expectAccessible(priya)
  assert.match(await main(priya), /A moderator hid your post\. Reason: Please do not paste code into posts/)
  assert.match(await main(priya), /Also: how long do yours take\?/, 'the reply is still shown')
})
