import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { startDemoApp, demoPassword } from '../test-support/demo-app.ts'
import { person } from '../test-support/fixtures.ts'
import type { TestServices } from '../test-support/services.ts'
import { continueLearning } from './content.ts'

// Block content on the demo data: authoring and publishing rules, completion recording learning
// evidence, watched time, quizzes, formative assessment tasks and feedback, delivery partners' local
// context kept to their own participants, and who may see what.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>

before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

const course = '/lead-provider/content/edt/npq-headship'
const learn = '/participant/learn/npq-headship'

async function signedIn(email: string, password = demoPassword) {
  const agent = new Agent(app)
  await agent.signIn(email, password)
  return agent
}

/** A multipart form post as a browser sends it, with optional files. */
async function multipart(
  agent: Agent,
  url: string,
  csrfFrom: string,
  fields: Record<string, string>,
  files: Record<string, { name: string; content: Buffer }> = {},
) {
  const csrf = csrfToken((await agent.get(csrfFrom)).body)
  const boundary = `----npq${Math.random().toString(16).slice(2)}`
  const parts: Buffer[] = []
  for (const [k, v] of Object.entries({ _csrf: csrf, ...fields }))
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`))
  for (const [k, f] of Object.entries(files)) {
    parts.push(
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${k}"; filename="${f.name}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
    )
    parts.push(f.content, Buffer.from('\r\n'))
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`))
  return app.inject({
    method: 'POST',
    url,
    payload: Buffer.concat(parts),
    headers: { cookie: agent.cookieHeader(), 'content-type': `multipart/form-data; boundary=${boundary}` },
  })
}

const priyaRecords = (code: string) =>
  services.db
    .selectFrom('learning_records')
    .selectAll()
    .where('participant_id', '=', services.db.selectFrom('participants').select('id').where('email', '=', 'participant@demo.test'))
    .where('activity_code', '=', code)
    .execute()

const itemId = (title: string) =>
  services.db
    .selectFrom('content_items')
    .select('id')
    .where('title', '=', title)
    .executeTakeFirstOrThrow()
    .then((r) => r.id)

async function addItem(
  admin: Agent,
  block: string,
  fields: Record<string, string>,
  files: Record<string, { name: string; content: Buffer }> = {},
) {
  return multipart(admin, `${course}/blocks/${block}/items`, `${course}/blocks/${block}/new?kind=${fields.kind}`, fields, files)
}

test('the demo: Priya’s Learn zone shows Block 4’s content, its status and North Star’s local context, labelled', async () => {
  const priya = await signedIn('participant@demo.test')
  const index = await priya.get('/participant/learn')
  assert.equal(index.statusCode, 200)
  assert.match(index.body, /NPQ for Headship/)
  assert.match(index.body, /Block 4[^<]*<\/a>: \d+% complete/)
  const block = await priya.get(`${learn}/blocks/4`)
  assert.equal(block.statusCode, 200)
  assert.match(block.body, /Block 4 overview: leading change that lasts/)
  assert.match(block.body, /Formative assessment task: your change plan[\s\S]*?Completed/)
  assert.match(block.body, /Local context from North Star/)
  assert.match(block.body, /Bring your change plan draft/)
  const page = await priya.get(`${learn}/items/${await itemId('Block 4 overview: leading change that lasts')}`)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /<strong>leading change that lasts<\/strong>/)
  assert.match(page.body, /Evidence summary/)
  assert.match(page.body, /Learn that implementation is a process/)
  const next = await continueLearning(
    services.db,
    services,
    (await services.db.selectFrom('users').select('id').where('email', '=', 'participant@demo.test').executeTakeFirstOrThrow()).id,
    londonDateOf(new Date()),
  )
  assert.ok(next)
  assert.match(next.href, /^\/participant\/learn\/npq-headship\//)
})

test('authoring: errors on the form, drafts and future items hidden, publishing shows them, completing records the activity', async () => {
  const admin = await signedIn('lead-provider-admin@demo.test')
  assert.equal((await admin.get(course)).statusCode, 200)
  // Bad input: the GOV.UK error summary, nothing saved.
  const bad = await addItem(admin, '4', {
    kind: 'page',
    title: '',
    body: '',
    activity: 'NPQH-B1-F2F',
    'live-day': '31',
    'live-month': '2',
    'live-year': '2026',
  })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.body, /govuk-error-summary/)
  for (const message of ['Enter a title', 'Enter the content', 'Select a self-study activity', 'go-live date as a real date'])
    assert.match(bad.body, new RegExp(message))
  // Markdown is sanitised when shown.
  const ok = await addItem(admin, '4', {
    kind: 'page',
    title: 'Recorded webinar 4.1 notes',
    body: 'Read **this**. <script>alert(1)</script> [x](javascript:alert(1))',
    activity: 'NPQH-B4-REC-4.1',
    tags: 'Learn that change needs time\nLearn how to plan',
  })
  assert.equal(ok.statusCode, 303, ok.body)
  const id = await itemId('Recorded webinar 4.1 notes')

  const priya = await signedIn('participant@demo.test')
  assert.equal((await priya.get(`${learn}/items/${id}`)).statusCode, 404, 'a draft is not shown')
  assert.doesNotMatch((await priya.get(`${learn}/blocks/4`)).body, /Recorded webinar 4.1 notes/)

  // Filter by tag in authoring.
  assert.match((await admin.get(`${course}?tag=${encodeURIComponent('Learn how to plan')}`)).body, /Recorded webinar 4.1 notes/)
  assert.doesNotMatch((await admin.get(`${course}?tag=${encodeURIComponent('Learn how to plan')}`)).body, /Block 4 overview/)

  // Preview as a participant works for drafts, without forms.
  const preview = await admin.get(`/lead-provider/content/items/${id}/preview`)
  assert.equal(preview.statusCode, 200)
  assert.match(preview.body, /<strong>this<\/strong>/)
  assert.doesNotMatch(preview.body, /<script>alert/)
  assert.doesNotMatch(preview.body, /href="javascript:/)
  assert.doesNotMatch(preview.body, /Mark as complete/)

  assert.equal((await admin.post(`/lead-provider/content/items/${id}/publish`, {}, { csrfFrom: course })).statusCode, 303)
  const item = await priya.get(`${learn}/items/${id}`)
  assert.equal(item.statusCode, 200)
  assert.match(item.body, /Completing this records Recorded webinar 4.1/)

  // A go-live date in the future hides it again.
  const later = String(new Date().getFullYear() + 1)
  const edit = await multipart(admin, `/lead-provider/content/items/${id}`, `/lead-provider/content/items/${id}`, {
    kind: 'page',
    title: 'Recorded webinar 4.1 notes',
    body: 'Read **this**.',
    activity: 'NPQH-B4-REC-4.1',
    'live-day': '1',
    'live-month': '1',
    'live-year': later,
  })
  assert.equal(edit.statusCode, 303, edit.body)
  assert.equal((await priya.get(`${learn}/items/${id}`)).statusCode, 404)
  await multipart(admin, `/lead-provider/content/items/${id}`, `/lead-provider/content/items/${id}`, {
    kind: 'page',
    title: 'Recorded webinar 4.1 notes',
    body: 'Read **this**.',
    activity: 'NPQH-B4-REC-4.1',
  })

  assert.equal((await priyaRecords('NPQH-B4-REC-4.1')).length, 0)
  const done = await priya.post(`${learn}/items/${id}/complete`, {}, { csrfFrom: `${learn}/items/${id}` })
  assert.equal(done.statusCode, 303)
  const [record] = await priyaRecords('NPQH-B4-REC-4.1')
  assert.ok(record, 'completing the item records its activity')
  assert.equal(record.source, 'automatic')
  assert.equal(record.progress_percent, null)
  assert.match((await priya.get('/participant/courses/npq-headship')).body, /id="activity-NPQH-B4-REC-4.1"[\s\S]*?Completed/)
  // Completing again records nothing more.
  await priya.post(`${learn}/items/${id}/complete`, {}, { csrfFrom: `${learn}/items/${id}` })
  assert.equal((await priyaRecords('NPQH-B4-REC-4.1')).length, 1)
  const audit = await services.db.selectFrom('audit_events').select('action').where('action', 'like', 'content-item.%').execute()
  assert.ok(audit.some((a) => a.action === 'content-item.published'))
  assert.ok(audit.some((a) => a.action === 'content-item.completed'))
})

test('a quiz: feedback per question, complete only when passed; uploads are type-checked', async () => {
  const admin = await signedIn('lead-provider-admin@demo.test')
  const badQuestions = await addItem(admin, '4', { kind: 'quiz', title: 'Bad quiz', questions: '? Q\n- a\n- b' })
  assert.equal(badQuestions.statusCode, 400)
  assert.match(badQuestions.body, /needs a correct option/)
  const res = await addItem(admin, '4', {
    kind: 'quiz',
    title: 'Webinar 4.2 check',
    activity: 'NPQH-B4-REC-4.2',
    questions: '? Two plus two\n- 3\n* 4\n> Count them\n? Pick the evens\n* 2\n- 3\n* 4',
    passMark: '100',
  })
  assert.equal(res.statusCode, 303, res.body)
  const id = await itemId('Webinar 4.2 check')
  await admin.post(`/lead-provider/content/items/${id}/publish`, {}, { csrfFrom: course })

  const priya = await signedIn('participant@demo.test')
  const page = `${learn}/items/${id}`
  const missing = await priya.post(`${page}/quiz`, { 'question-1': '1' }, { csrfFrom: page })
  assert.equal(missing.statusCode, 400)
  assert.match(missing.body, /Answer question 2/)
  const wrong = await priya.post(`${page}/quiz`, { 'question-1': '0', 'question-2': '0' }, { csrfFrom: page })
  assert.equal(wrong.statusCode, 303)
  const result = (await priya.get(page)).body
  assert.match(result, /You scored 0 out of 2/)
  assert.match(result, /Count them/)
  assert.match(result, /You need 100% to pass/)
  assert.equal((await priyaRecords('NPQH-B4-REC-4.2')).length, 0)
  const csrf = csrfToken(result)
  const right = await app.inject({
    method: 'POST',
    url: `${page}/quiz`,
    payload: `_csrf=${csrf}&question-1=1&question-2=0&question-2=2`,
    headers: { cookie: priya.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
  })
  assert.equal(right.statusCode, 303)
  assert.match((await priya.get(page)).body, /You scored 2 out of 2 \(100%\)\.\s*You passed/)
  assert.equal((await priyaRecords('NPQH-B4-REC-4.2')).length, 1)
  assert.equal((await services.db.selectFrom('quiz_attempts').select('id').where('item_id', '=', id).execute()).length, 2)

  // A file that is not what it says is refused; a real PDF is kept and downloadable by the participant once published.
  const exe = await addItem(
    admin,
    '4',
    { kind: 'file', title: 'Handout' },
    { file: { name: 'handout.pdf', content: Buffer.from([0x4d, 0x5a, 0x90, 0, 3, 0, 0, 0]) } },
  )
  assert.equal(exe.statusCode, 400)
  assert.match(exe.body, /must be a PDF/)
  const pdf = await addItem(
    admin,
    '4',
    { kind: 'file', title: 'Handout' },
    { file: { name: 'handout.pdf', content: Buffer.from('%PDF-1.4 a handout') } },
  )
  assert.equal(pdf.statusCode, 303, pdf.body)
  const file = await services.db
    .selectFrom('content_items')
    .select(['id', 'file_id'])
    .where('title', '=', 'Handout')
    .executeTakeFirstOrThrow()
  assert.equal((await priya.get(`/content/files/${file.file_id}`)).statusCode, 404, 'not while it is a draft')
  assert.equal((await admin.get(`/content/files/${file.file_id}`)).statusCode, 200)
  await admin.post(`/lead-provider/content/items/${file.id}/publish`, {}, { csrfFrom: course })
  const download = await priya.get(`/content/files/${file.file_id}`)
  assert.equal(download.statusCode, 200)
  assert.equal(download.headers['content-type'], 'application/pdf')
})

test('watched time: intervals merge, rewatching does not add up, complete at 90%, no bypass', async () => {
  const priya = await signedIn('participant@demo.test')
  const id = await itemId('Podcast: a headteacher on sustaining change')
  const page = `${learn}/items/${id}`
  const html = (await priya.get(page)).body
  assert.match(html, /<audio[^>]+data-progress-url/)
  assert.match(html, /only recorded with JavaScript/)
  assert.doesNotMatch(html, /Mark as complete/)
  const csrf = csrfToken(html)
  const post = (payload: unknown, withCsrf = true) =>
    app.inject({
      method: 'POST',
      url: `${page}/progress`,
      payload: withCsrf ? { ...(payload as object), _csrf: csrf } : (payload as object),
      headers: { cookie: priya.cookieHeader(), 'content-type': 'application/json' },
    })
  const first = await post({ version: 0, intervals: [[0, 10]] })
  assert.equal(first.statusCode, 200, first.body)
  assert.deepEqual(first.json(), { data: { percent: 33, completed: false } })
  const again = await post({
    version: 0,
    intervals: [
      [0, 10],
      [2, 9],
      [0, 10],
    ],
  })
  assert.deepEqual(again.json(), { data: { percent: 33, completed: false } })
  assert.equal((await post({ version: 0, intervals: [[0, 'x']] })).statusCode, 400)
  assert.equal((await post({ version: 3, intervals: [[0, 10]] })).statusCode, 400)
  assert.equal((await post({ version: 0, intervals: [[10, 30]] }, false)).statusCode, 403)
  assert.match((await priya.get(page)).body, /In progress 33%/)
  const done = await post({ version: 0, intervals: [[10, 27.5]] })
  assert.deepEqual(done.json(), { data: { percent: 91, completed: true } })
  assert.match((await priya.get(page)).body, /Completed/)
  // Not a page that can be marked complete by hand.
  const manual = await priya.post(
    `${learn}/items/${await itemId('Check your understanding: implementation')}/complete`,
    {},
    { csrfFrom: page },
  )
  assert.equal(manual.statusCode, 400)
})

test('reflection answers are private; a formative assessment task gets feedback from the group’s facilitator', async () => {
  const priya = await signedIn('participant@demo.test')
  const reflection = `${learn}/items/${await itemId('Reflect: a change that stalled')}`
  const empty = await priya.post(`${reflection}/answers`, { 'prompt-1': '', finish: 'yes' }, { csrfFrom: reflection })
  assert.equal(empty.statusCode, 400)
  assert.match(empty.body, /Answer this before you finish/)
  assert.equal(
    (await priya.post(`${reflection}/answers`, { 'prompt-1': 'It faded after the launch', finish: 'yes' }, { csrfFrom: reflection }))
      .statusCode,
    303,
  )
  assert.match((await priya.get(reflection)).body, /It faded after the launch/)

  const task = `${learn}/items/${await itemId('Formative assessment task: your change plan')}`
  const noResponse = await multipart(priya, `${task}/task`, task, { response: '' })
  assert.equal(noResponse.statusCode, 400)
  assert.match(noResponse.body, /Enter your response or upload it/)
  const badFile = await multipart(
    priya,
    `${task}/task`,
    task,
    { response: '' },
    { file: { name: 'plan.pdf', content: Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0]) } },
  )
  assert.equal(badFile.statusCode, 400)

  const facilitator = await signedIn('facilitator@demo.test')
  const queue = await facilitator.get('/facilitator/tasks')
  assert.equal(queue.statusCode, 200)
  assert.match(queue.body, /Awaiting feedback \(\d+\)[\s\S]*Priya Patel/)
  const submission = await services.db.selectFrom('task_submissions').select('id').executeTakeFirstOrThrow()
  const blank = await facilitator.post(`/facilitator/tasks/${submission.id}`, { feedback: '' })
  assert.equal(blank.statusCode, 400)
  assert.match(blank.body, /Enter your feedback/)
  const given = await facilitator.post(`/facilitator/tasks/${submission.id}`, { feedback: 'A clear plan: make **Sustain** concrete.' })
  assert.equal(given.statusCode, 303)
  assert.match((await facilitator.get(given.headers.location!)).body, /Your feedback is saved/)
  const email = await services.db
    .selectFrom('email_outbox')
    .selectAll()
    .where('to_address', '=', 'participant@demo.test')
    .where('subject', '=', 'Feedback on your task: Formative assessment task: your change plan')
    .executeTakeFirst()
  assert.ok(email, 'Priya is told by email')
  assert.match(email.body, new RegExp(`${task}$`, 'm'))
  const seen = (await priya.get(task)).body
  assert.match(seen, /make <strong>Sustain<\/strong> concrete/)
  assert.match(seen, /From Fatima Hussain/)
  // Their delivery partner's lead sees the queue too; a participant does not.
  assert.match((await (await signedIn('delivery-partner-lead@demo.test')).get('/facilitator/tasks')).body, /Priya Patel/)
  assert.equal((await priya.get('/facilitator/tasks')).statusCode, 403)
  assert.equal((await priya.get(`/facilitator/tasks/${submission.id}`)).statusCode, 404)
})

test('local context stays with its delivery partner; other lead providers, partners and participants are refused', async () => {
  const { db } = services
  const org = (code: string) =>
    db
      .selectFrom('organisations')
      .select('id')
      .where('code', '=', code)
      .executeTakeFirstOrThrow()
      .then((r) => r.id)
  const [eastCoast, northStar, ucl] = await Promise.all([org('east-coast-tsh'), org('north-star-tsh'), org('ucl')])
  // Another EDT NPQH participant, moved to East Coast and given an account.
  const other = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'p.id as participantId'])
    .where('e.course_identifier', '=', 'npq-headship')
    .where('e.delivery_partner_id', '=', northStar)
    .where('p.email', '!=', 'participant@demo.test')
    .where('e.status', '=', 'active')
    .executeTakeFirstOrThrow()
  const otherUser = await person(services, 'other-participant@test.example', 'participant', eastCoast)
  await db.updateTable('participants').set({ user_id: otherUser }).where('id', '=', other.participantId).execute()
  await db.updateTable('enrolments').set({ delivery_partner_id: eastCoast }).where('id', '=', other.id).execute()
  const otherAgent = await signedIn('other-participant@test.example', 'a long test password')
  const block = await otherAgent.get(`${learn}/blocks/4`)
  assert.equal(block.statusCode, 200)
  assert.match(block.body, /Block 4 overview/, 'the lead provider’s content is the same for every partner')
  assert.doesNotMatch(block.body, /Local context from North Star/)
  assert.doesNotMatch(block.body, /Bring your change plan draft/)

  // East Coast's lead writes their own context; North Star's participants do not see it, and North Star's is unchanged.
  await person(services, 'east-lead@test.example', 'delivery-partner-lead', eastCoast)
  const eastLead = await signedIn('east-lead@test.example', 'a long test password')
  const index = await eastLead.get('/delivery-partner/content')
  assert.equal(index.statusCode, 200)
  assert.doesNotMatch(index.body, new RegExp(`/delivery-partner/content/${northStar}/`))
  const ownPath = `/delivery-partner/content/${eastCoast}/edt/npq-headship/blocks/4`
  assert.equal((await eastLead.post(ownPath, { notes: 'East Coast hub days are on Fridays', examples: '' })).statusCode, 303)
  assert.match((await otherAgent.get(`${learn}/blocks/4`)).body, /Local context from East Coast[\s\S]*Fridays/)
  const priya = await signedIn('participant@demo.test')
  assert.doesNotMatch((await priya.get(`${learn}/blocks/4`)).body, /Fridays/)
  assert.match((await priya.get(`${learn}/blocks/4`)).body, /Bring your change plan draft/)
  const northPath = `/delivery-partner/content/${northStar}/edt/npq-headship/blocks/4`
  assert.equal((await eastLead.get(northPath)).statusCode, 404)
  assert.equal((await eastLead.post(northPath, { notes: 'hijacked', examples: '' }, { csrfFrom: ownPath })).statusCode, 404)

  // A UCL admin cannot see or change EDT's content; a participant cannot author; another participant cannot read Priya's task.
  await person(services, 'ucl-admin@test.example', 'lead-provider-admin', ucl)
  const uclAdmin = await signedIn('ucl-admin@test.example', 'a long test password')
  const edtItem = await itemId('Block 4 overview: leading change that lasts')
  assert.equal((await uclAdmin.get(course)).statusCode, 404)
  assert.equal((await uclAdmin.get(`/lead-provider/content/items/${edtItem}`)).statusCode, 404)
  assert.equal(
    (await uclAdmin.post(`/lead-provider/content/items/${edtItem}/unpublish`, {}, { csrfFrom: '/lead-provider/content' })).statusCode,
    404,
  )
  assert.equal((await priya.get(course)).statusCode, 404)
  assert.equal((await priya.get('/lead-provider/content')).statusCode, 403)
  const task = await itemId('Formative assessment task: your change plan')
  const otherTask = (await otherAgent.get(`${learn}/items/${task}`)).body
  assert.doesNotMatch(otherTask, /Year 7 reading intervention/)
  const priyaSubmission = await db.selectFrom('task_submissions').select('id').executeTakeFirstOrThrow()
  assert.equal((await otherAgent.get(`${learn}/items/${task}/submissions/${priyaSubmission.id}/file`)).statusCode, 404)
  // The line manager has no Learn zone of their own for this course.
  assert.equal((await (await signedIn('line-manager@demo.test')).get(`${learn}/items/${edtItem}`)).statusCode, 404)
})

test('a recorded webinar in versions: the participant chooses one and progress is kept on it; an Apply module saves its steps', async () => {
  const admin = await signedIn('lead-provider-admin@demo.test')
  const mp4 = Buffer.concat([Buffer.from('\0\0\0\x18ftypmp42\0\0\0\0mp42isom', 'latin1'), Buffer.alloc(64)])
  const missing = await addItem(
    admin,
    '4',
    { kind: 'webinar', title: 'Webinar: behaviour in phases', 'version-1-label': 'Primary', 'version-1-duration': '' },
    { 'version-1-file': { name: 'p.mp4', content: mp4 } },
  )
  assert.equal(missing.statusCode, 400)
  assert.match(missing.body, /Enter the running time/)
  const notVideo = await addItem(
    admin,
    '4',
    { kind: 'webinar', title: 'Webinar: behaviour in phases', 'version-1-label': 'Primary', 'version-1-duration': '1:40' },
    { 'version-1-file': { name: 'p.mp4', content: Buffer.from('%PDF-1.4 nope') } },
  )
  assert.match(notVideo.body, /must be an MP4 or WebM/)
  const res = await addItem(
    admin,
    '4',
    {
      kind: 'webinar',
      title: 'Webinar: behaviour in phases',
      'version-1-label': 'Primary',
      'version-1-duration': '1:40',
      'version-2-label': 'Secondary',
      'version-2-duration': '3:20',
    },
    { 'version-1-file': { name: 'primary.mp4', content: mp4 }, 'version-2-file': { name: 'secondary.mp4', content: mp4 } },
  )
  assert.equal(res.statusCode, 303, res.body)
  const id = await itemId('Webinar: behaviour in phases')
  await admin.post(`/lead-provider/content/items/${id}/publish`, {}, { csrfFrom: course })

  const priya = await signedIn('participant@demo.test')
  const page = `${learn}/items/${id}`
  const first = (await priya.get(page)).body
  assert.match(first, /Which version do you want to watch\?/)
  assert.doesNotMatch(first, /<video/)
  assert.equal((await priya.post(`${page}/version`, {}, { csrfFrom: page })).statusCode, 400)
  assert.equal((await priya.post(`${page}/version`, { version: '1' }, { csrfFrom: page })).statusCode, 303)
  const chosen = (await priya.get(page)).body
  assert.match(chosen, /Version: <strong>Secondary<\/strong>/)
  assert.match(chosen, /<video[^>]+data-version="1"/)
  const media = await services.db.selectFrom('content_items').select('media').where('id', '=', id).executeTakeFirstOrThrow()
  const video = await priya.get(`/content/files/${media.media[1]!.fileId}`, { range: 'bytes=0-9' })
  assert.equal(video.statusCode, 206)
  assert.equal(video.headers['content-range'], `bytes 0-9/${mp4.length}`)
  const csrf = csrfToken(chosen)
  const post = (payload: object) =>
    app.inject({
      method: 'POST',
      url: `${page}/progress`,
      payload: { ...payload, _csrf: csrf },
      headers: { cookie: priya.cookieHeader(), 'content-type': 'application/json' },
    })
  assert.deepEqual((await post({ version: 1, intervals: [[0, 100]] })).json(), { data: { percent: 50, completed: false } })
  assert.deepEqual((await post({ version: 1, intervals: [[100, 190]] })).json(), { data: { percent: 95, completed: true } })

  const apply = await addItem(admin, '4', { kind: 'apply', title: 'Apply: leading change' })
  assert.equal(apply.statusCode, 303, apply.body)
  const applyId = await itemId('Apply: leading change')
  await admin.post(`/lead-provider/content/items/${applyId}/publish`, {}, { csrfFrom: course })
  const applyPage = `${learn}/items/${applyId}`
  assert.match((await priya.get(applyPage)).body, /Diagnosis of your earlier actions/)
  const partial = await priya.post(
    `${applyPage}/answers`,
    { diagnosis: 'I launched it and moved on', model: '', application: '', actions: '', mode: '' },
    { csrfFrom: applyPage },
  )
  assert.equal(partial.statusCode, 303)
  assert.match((await priya.get(applyPage)).body, /In progress/)
  const unfinished = await priya.post(
    `${applyPage}/answers`,
    {
      diagnosis: 'I launched it and moved on',
      model: 'Plan the stages',
      application: 'Tried it with the English team',
      actions: '',
      mode: 'buddy',
      finish: 'yes',
    },
    { csrfFrom: applyPage },
  )
  assert.equal(unfinished.statusCode, 400)
  assert.match(unfinished.body, /Answer this before you finish/)
  const finished = await priya.post(
    `${applyPage}/answers`,
    {
      diagnosis: 'I launched it and moved on',
      model: 'Plan the stages',
      application: 'Tried it with the English team',
      actions: 'Review at half-term',
      mode: 'buddy',
      finish: 'yes',
    },
    { csrfFrom: applyPage },
  )
  assert.equal(finished.statusCode, 303)
  const done = (await priya.get(applyPage)).body
  assert.match(done, /Completed/)
  assert.match(done, /value="buddy" checked/)
})

test('a deferred participant reads the content but cannot record anything; a signed-out visitor is sent to sign in', async () => {
  const priya = await signedIn('participant@demo.test')
  const id = await itemId('Check your understanding: implementation')
  const page = `${learn}/items/${id}`
  const csrf = csrfToken((await priya.get(page)).body)
  const enrolment = services.db
    .selectFrom('enrolments')
    .select('id')
    .where('course_identifier', '=', 'npq-headship')
    .where('participant_id', '=', services.db.selectFrom('participants').select('id').where('email', '=', 'participant@demo.test'))
  const before = await services.db.selectFrom('enrolments').select('status').where('id', '=', enrolment).executeTakeFirstOrThrow()
  await services.db.updateTable('enrolments').set({ status: 'deferred' }).where('id', '=', enrolment).execute()
  try {
    const read = await priya.get(page)
    assert.equal(read.statusCode, 200)
    assert.match(read.body, /read-only/)
    assert.doesNotMatch(read.body, /Submit answers/)
    const attempts = await services.db.selectFrom('quiz_attempts').select('id').where('item_id', '=', id).execute()
    const res = await priya.post(`${page}/quiz`, { 'question-1': '1', 'question-2': '0' }, { csrf })
    assert.equal(res.statusCode, 409)
    assert.equal((await services.db.selectFrom('quiz_attempts').select('id').where('item_id', '=', id).execute()).length, attempts.length)
  } finally {
    await services.db.updateTable('enrolments').set({ status: before.status }).where('id', '=', enrolment).execute()
  }
  const signedOut = await new Agent(app).get(page)
  assert.equal(signedOut.statusCode, 303)
  assert.match(String(signedOut.headers.location), /^\/sign-in/)
})

test('every kind has an authoring form, and an unknown block or kind is refused', async () => {
  const admin = await signedIn('lead-provider-admin@demo.test')
  for (const kind of [
    'page',
    'video',
    'podcast',
    'file',
    'quiz',
    'diagnostic',
    'reflection',
    'task',
    'study',
    'apply',
    'micro-task',
    'webinar',
  ]) {
    const res = await admin.get(`${course}/blocks/2/new?kind=${kind}`)
    assert.equal(res.statusCode, 200, kind)
    assert.match(res.body, /enctype="multipart\/form-data"/)
  }
  assert.match((await admin.get(`${course}/blocks/2/new?kind=webinar`)).body, /Version 3 \(optional\)/)
  assert.equal((await admin.get(`${course}/blocks/2/new?kind=nonsense`)).statusCode, 400)
  assert.equal((await admin.get(`${course}/blocks/99/new?kind=page`)).statusCode, 404)
  const link = await addItem(admin, '2', {
    kind: 'video',
    title: 'Linked',
    activity: 'NPQH-B2-VIDEO',
    'version-1-link': 'https://evil.example/x.mp4',
    'version-1-duration': '5:00',
  })
  assert.equal(link.statusCode, 400)
  assert.match(link.body, /Enter a link starting https:\/\/ to YouTube/)
})
