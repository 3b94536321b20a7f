import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import { organisation, person } from '../test-support/fixtures.ts'
import type { TestServices } from '../test-support/services.ts'

// Forums without a browser, on the demo data: Priya posts in her group's forum (Markdown rendered, no
// script gets through), bad input is refused with the error summary, the facilitator hides a post with
// a reason (kept; its author sees why, others do not see the text) and locks a thread; people outside a
// forum get "not found"; and a UCL forum linked to its design's FORUM activity records a participant's
// first post as a learning record, once.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

const as = async (email: string, password = demoPassword) => {
  const agent = new Agent(app)
  await agent.signIn(email, password)
  return agent
}

const forumLinks = (html: string) =>
  [...html.matchAll(/href="(\/[a-z-]+\/forums\/[0-9a-f-]{36})">([^<]+)</g)].map((m) => ({ href: m[1]!, name: m[2]! }))

async function priyasGroupForum(agent: Agent) {
  const list = await agent.get('/participant/forums')
  assert.equal(list.statusCode, 200)
  const links = forumLinks(list.body)
  const group = links.find((l) => /NPQ for Headship, 2022-autumn/.test(l.name))
  assert.ok(group, `no NPQH group forum in ${JSON.stringify(links)}`)
  assert.ok(
    links.some((l) => /NPQ for Headship: all participants/.test(l.name)),
    'the course forum is listed',
  )
  return group.href
}

test('a participant starts a thread and replies; Markdown is rendered and script is not', async () => {
  const priya = await as('participant@demo.test')
  const forum = await priyasGroupForum(priya)
  assert.equal((await priya.get(forum)).statusCode, 200)

  // Bad input: the error summary, nothing saved.
  const empty = await priya.post(`${forum}/threads`, { title: '', body: '' }, { csrfFrom: `${forum}/threads/new` })
  assert.equal(empty.statusCode, 400)
  assert.match(empty.body, /govuk-error-summary/)
  assert.match(empty.body, /href="#title">Enter a title for your thread/)
  assert.match(empty.body, /href="#body">Enter your post/)

  const posted = await priya.post(
    `${forum}/threads`,
    {
      title: 'Staff meetings <b>tips</b>',
      body: 'I found **this** useful.\n\n<script>alert("x")</script> <img src=x onerror=alert(1)> [bad](javascript:alert(1))',
    },
    { csrfFrom: `${forum}/threads/new` },
  )
  assert.equal(posted.statusCode, 303)
  const threadUrl = posted.headers.location!.split('?')[0]!
  const page = await priya.get(threadUrl)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /<strong>this<\/strong> useful/)
  assert.doesNotMatch(page.body, /<script>alert/)
  assert.doesNotMatch(page.body, /<img src=x/)
  assert.doesNotMatch(page.body, /href="javascript:/)
  assert.match(page.body, /&lt;script&gt;alert/)
  assert.match(page.body, /Staff meetings &lt;b&gt;tips&lt;\/b&gt;/)

  const emptyReply = await priya.post(`${threadUrl}/replies`, { body: '   ' }, { csrfFrom: threadUrl })
  assert.equal(emptyReply.statusCode, 400)
  assert.match(emptyReply.body, /href="#body">Enter your reply/)
  const replied = await priya.post(`${threadUrl}/replies`, { body: 'And a follow-up.' }, { csrfFrom: threadUrl })
  assert.equal(replied.statusCode, 303)
  assert.match((await priya.get(threadUrl)).body, /And a follow-up\./)

  // The same reply or thread sent twice at once (a double click without JavaScript): one of each.
  const threadId = threadUrl.split('/').pop()!
  const postsOf = () => services.db.selectFrom('forum_posts').select('body').where('thread_id', '=', threadId).execute()
  const before = (await postsOf()).length
  const twice = await Promise.all([1, 2].map(() => priya.post(`${threadUrl}/replies`, { body: 'Sent twice.' }, { csrfFrom: threadUrl })))
  assert.deepEqual(
    twice.map((r) => r.statusCode),
    [303, 303],
  )
  assert.equal((await postsOf()).length, before + 1)
  const threads = await Promise.all(
    [1, 2].map(() => priya.post(`${forum}/threads`, { title: 'Once only', body: 'One thread.' }, { csrfFrom: `${forum}/threads/new` })),
  )
  assert.equal(threads[0]!.headers.location, threads[1]!.headers.location)
  assert.equal((await services.db.selectFrom('forum_threads').select('id').where('title', '=', 'Once only').execute()).length, 1)

  // Newest activity first in the forum.
  const older = await priya.post(`${forum}/threads`, { title: 'An older question', body: 'Anyone?' }, { csrfFrom: `${forum}/threads/new` })
  assert.equal(older.statusCode, 303)
  await priya.post(`${threadUrl}/replies`, { body: 'Bumping this one.' }, { csrfFrom: threadUrl })
  const listing = (await priya.get(forum)).body
  assert.ok(listing.indexOf('Staff meetings') < listing.indexOf('An older question'), 'the thread with the latest reply comes first')
})

test('a facilitator hides a post with a reason and locks the thread; the post is kept', async () => {
  const priya = await as('participant@demo.test')
  const forum = await priyasGroupForum(priya)
  const posted = await priya.post(
    `${forum}/threads`,
    { title: 'Off topic', body: 'Something I should not have said' },
    { csrfFrom: `${forum}/threads/new` },
  )
  const participantThread = posted.headers.location!.split('?')[0]!
  const forumId = forum.split('/').pop()!
  const threadId = participantThread.split('/').pop()!

  const facilitator = await as('facilitator@demo.test')
  const facForums = forumLinks((await facilitator.get('/facilitator/forums')).body)
  assert.ok(
    facForums.some((f) => f.href === `/facilitator/forums/${forumId}`),
    'the facilitator sees the group forum',
  )
  const thread = `/facilitator/forums/${forumId}/threads/${threadId}`
  const page = await facilitator.get(thread)
  assert.equal(page.statusCode, 200)
  const hideHref = /href="(\/facilitator\/forums\/[^"]+\/posts\/([0-9a-f-]{36})\/hide)"/.exec(page.body)
  assert.ok(hideHref, 'a moderator can hide a post')
  const noReason = await facilitator.post(hideHref[1]!, { reason: '' })
  assert.equal(noReason.statusCode, 400)
  assert.match(noReason.body, /href="#reason">Enter why you are hiding this post/)
  assert.equal((await facilitator.post(hideHref[1]!, { reason: 'Please keep to the course topics' })).statusCode, 303)

  const own = (await priya.get(participantThread)).body
  assert.match(own, /A moderator hid your post\. Reason: Please keep to the course topics/)
  assert.match(own, /Something I should not have said/)
  // Another member of the group does not see the text.
  const db = services.db
  const other = await db
    .selectFrom('group_memberships as gm')
    .innerJoin('enrolments as e', 'e.id', 'gm.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('forums as f', 'f.group_id', 'gm.group_id')
    .select(['p.email', 'p.user_id'])
    .where('f.id', '=', forumId)
    .where('p.email', '!=', 'participant@demo.test')
    .executeTakeFirst()
  assert.ok(other && !other.user_id, 'another member of the group, without an account yet')
  {
    // Generated participants have no account: give this one a user so the page can be read as them.
    const userId = await person(services, other.email, 'participant', await organisation(db, 'delivery-partner', 'north-star-tsh'))
    await db.updateTable('participants').set({ user_id: userId }).where('email', '=', other.email).execute()
    const peer = await as(other.email, 'a long test password')
    const seen = (await peer.get(participantThread)).body
    assert.match(seen, /This post was hidden by a moderator/)
    assert.doesNotMatch(seen, /Something I should not have said/)
  }

  // Kept: the row is there, with the reason, and cannot be deleted.
  const row = await db.selectFrom('forum_posts').select(['body', 'hidden_reason']).where('id', '=', hideHref[2]!).executeTakeFirstOrThrow()
  assert.equal(row.hidden_reason, 'Please keep to the course topics')
  await assert.rejects(db.deleteFrom('forum_posts').where('id', '=', hideHref[2]!).execute())

  // Locked: no more replies.
  assert.equal((await facilitator.post(`${thread}/lock`, { locked: 'true' }, { csrfFrom: thread })).statusCode, 303)
  const locked = await priya.get(participantThread)
  assert.match(locked.body, /This thread is locked/)
  assert.doesNotMatch(locked.body, /Post reply/)
  const late = await priya.post(`${participantThread}/replies`, { body: 'Too late' }, { csrfFrom: participantThread })
  assert.equal(late.statusCode, 400)
  assert.match(late.body, /This thread is locked/)
  // A participant cannot moderate.
  assert.equal((await priya.get(`${forum}/posts/${hideHref[2]}/hide`)).statusCode, 404)
  assert.equal((await priya.post(`${participantThread}/lock`, { locked: 'false' }, { csrfFrom: participantThread })).statusCode, 404)
})

test('only members see a forum', async () => {
  const priya = await as('participant@demo.test')
  const forum = await priyasGroupForum(priya)
  const forumId = forum.split('/').pop()!
  const db = services.db

  const southern = await organisation(db, 'delivery-partner', 'southern-lights-mat')
  await person(services, 'other-lead@forums.test', 'delivery-partner-lead', southern)
  const otherLead = await as('other-lead@forums.test', 'a long test password')
  assert.equal((await otherLead.get(`/delivery-partner/forums/${forumId}`)).statusCode, 404)
  assert.doesNotMatch((await otherLead.get('/delivery-partner/forums')).body, new RegExp(forumId))

  const ownLead = await as('delivery-partner-lead@demo.test')
  assert.equal((await ownLead.get(`/delivery-partner/forums/${forumId}`)).statusCode, 200)

  // The lead provider's admin has the course forum, not the group's.
  const edt = await as('lead-provider-admin@demo.test')
  assert.equal((await edt.get(`/lead-provider/forums/${forumId}`)).statusCode, 404)
  const courseForum = forumLinks((await priya.get('/participant/forums')).body).find((l) =>
    /NPQ for Headship: all participants/.test(l.name),
  )!
  const courseId = courseForum.href.split('/').pop()!
  assert.equal((await edt.get(`/lead-provider/forums/${courseId}`)).statusCode, 200)

  const ucl = await organisation(db, 'lead-provider', 'ucl')
  await person(services, 'ucl-admin@forums.test', 'lead-provider-admin', ucl)
  const uclAdmin = await as('ucl-admin@forums.test', 'a long test password')
  assert.equal((await uclAdmin.get(`/lead-provider/forums/${courseId}`)).statusCode, 404)

  const sam = await as('ucl-participant@demo.test')
  assert.equal((await sam.get(`/participant/forums/${forumId}`)).statusCode, 404)
  assert.equal((await sam.get(`/participant/forums/${courseId}`)).statusCode, 404)
  assert.equal(
    (await sam.post(`/participant/forums/${forumId}/threads`, { title: 'x', body: 'y' }, { csrfFrom: '/participant/forums' })).statusCode,
    404,
  )
  // The facilitator of Priya's group belongs to (and moderates) EDT's NPQH course forum too.
  const facilitator = await as('facilitator@demo.test')
  assert.match((await facilitator.get('/facilitator/forums')).body, new RegExp(`/facilitator/forums/${courseId}`))
  const inCourse = await facilitator.post(
    `/facilitator/forums/${courseId}/threads`,
    { title: 'From your facilitator', body: 'Hello' },
    { csrfFrom: `/facilitator/forums/${courseId}/threads/new` },
  )
  assert.equal(inCourse.statusCode, 303)
  assert.match((await facilitator.get(inCourse.headers.location!.split('?')[0]!)).body, /Lock thread/)
  // Not a facilitator: nothing in the facilitator's area.
  assert.equal((await priya.get(`/facilitator/forums/${forumId}`)).statusCode, 404)
})

test('a forum linked to the design’s forum activity records a participant’s first post, once', async () => {
  const db = services.db
  const ucl = await organisation(db, 'lead-provider', 'ucl')
  await person(services, 'ucl-admin2@forums.test', 'lead-provider-admin', ucl)
  const admin = await as('ucl-admin2@forums.test', 'a long test password')
  const links = forumLinks((await admin.get('/lead-provider/forums')).body)
  const lbc = links.find((l) => /Leading Behaviour and Culture: all participants/.test(l.name))
  assert.ok(lbc, `UCL's LBC course forum in ${JSON.stringify(links)}`)
  const forumId = lbc.href.split('/').pop()!

  const sam = await as('ucl-participant@demo.test')
  const samForum = `/participant/forums/${forumId}`
  const records = () =>
    db
      .selectFrom('learning_records as lr')
      .innerJoin('participants as p', 'p.id', 'lr.participant_id')
      .select(['lr.activity_code', 'lr.source'])
      .where('p.email', '=', 'ucl-participant@demo.test')
      .where('lr.activity_code', '=', 'NPQLBC-FORUM-1')
      .execute()

  // Not linked yet: a post is only a post.
  await sam.post(`${samForum}/threads`, { title: 'Before the link', body: 'Hello' }, { csrfFrom: `${samForum}/threads/new` })
  assert.equal((await records()).length, 0)

  const form = await admin.get(`${lbc.href}/activity`)
  assert.equal(form.statusCode, 200)
  assert.match(form.body, /NPQLBC-FORUM-1/)
  const bad = await admin.post(`${lbc.href}/activity`, { activity: 'NPQH-B1-SURVEY' }, { csrfFrom: `${lbc.href}/activity` })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.body, /govuk-error-summary/)
  assert.equal(
    (await admin.post(`${lbc.href}/activity`, { activity: 'NPQLBC-FORUM-1' }, { csrfFrom: `${lbc.href}/activity` })).statusCode,
    303,
  )

  const posted = await sam.post(
    `${samForum}/threads`,
    { title: 'Behaviour policies', body: 'How do you review yours?' },
    { csrfFrom: `${samForum}/threads/new` },
  )
  assert.equal(posted.statusCode, 303)
  assert.deepEqual(await records(), [{ activity_code: 'NPQLBC-FORUM-1', source: 'automatic' }])
  const thread = posted.headers.location!.split('?')[0]!
  await sam.post(`${thread}/replies`, { body: 'A second contribution' }, { csrfFrom: thread })
  assert.equal((await records()).length, 1, 'only the first post records the activity')
})

test('threads are paged, newest activity first; a withdrawn participant reads but cannot post', async () => {
  const db = services.db
  const priya = await as('participant@demo.test')
  const forum = await priyasGroupForum(priya)
  const forumId = forum.split('/').pop()!
  const author = (await db.selectFrom('users').select('id').where('email', '=', 'participant@demo.test').executeTakeFirstOrThrow()).id
  const base = Date.parse('2020-01-01T00:00:00Z')
  for (let i = 1; i <= 25; i++)
    await db
      .insertInto('forum_threads')
      .values({
        forum_id: forumId,
        title: `Paged thread ${String(i).padStart(2, '0')}`,
        created_by: author,
        last_activity_at: new Date(base + i * 60_000),
      })
      .execute()
  const page1 = (await priya.get(forum)).body
  const page2 = (await priya.get(`${forum}?page=2`)).body
  assert.match(page1, /govuk-pagination/)
  assert.match(page1, /Paged thread 25/)
  assert.ok(page1.indexOf('Paged thread 25') < page1.indexOf('Paged thread 24'))
  const all = `${page1}${page2}`
  for (let i = 1; i <= 25; i++) assert.match(all, new RegExp(`Paged thread ${String(i).padStart(2, '0')}`))
  assert.equal((await priya.get(`${forum}?page=abc`)).statusCode, 200)

  // Withdrawn from NPQH: the forum is still readable, posting is refused with the error summary.
  const enrolment = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'e.status'])
    .where('p.email', '=', 'participant@demo.test')
    .where('e.course_identifier', '=', 'npq-headship')
    .executeTakeFirstOrThrow()
  await db.updateTable('enrolments').set({ status: 'withdrawn' }).where('id', '=', enrolment.id).execute()
  try {
    assert.equal((await priya.get(forum)).statusCode, 200)
    const refused = await priya.post(
      `${forum}/threads`,
      { title: 'After withdrawing', body: 'Hello' },
      { csrfFrom: `${forum}/threads/new` },
    )
    assert.equal(refused.statusCode, 400)
    assert.match(refused.body, /You are withdrawn: you can read this forum but not post in it/)
  } finally {
    await db.updateTable('enrolments').set({ status: enrolment.status }).where('id', '=', enrolment.id).execute()
  }
})
