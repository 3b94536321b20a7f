import assert from 'node:assert/strict'
import { after, afterEach, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { londonDateOf, londonMoment } from '../dates/london.ts'
import { addDays } from '../registers/register-rules.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'
import { attemptState, entryDecision, entryHistory, submittedEntries, usesAttempt } from './entry.ts'
import { closeWindows, decideEntries, engagementRatios } from './jobs.ts'
import { assessmentClock } from './windows.ts'

// The summative assessment on the demo data: windows and their validation, the entry decision at the
// 90% deadline, sitting it (case study from day 1, drafts, the word limit, the end of day 8), the
// outcome after the window, extenuating circumstances, and the limit of two attempts.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())
const realNow = assessmentClock.now
afterEach(() => {
  assessmentClock.now = realNow
})

const T = londonDateOf(new Date())
const SECRET = 'Oakwood Academy has three weeks to turn round its reading results'

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const atLondon = (date: string, time: string) => {
  const moment = londonMoment(date, time)!
  assessmentClock.now = () => moment
}
const dateForm = (name: string, date: string) => {
  const [y, m, d] = date.split('-')
  return { [`${name}-day`]: String(Number(d)), [`${name}-month`]: String(Number(m)), [`${name}-year`]: y! }
}
const edt = async () => services.db.selectFrom('organisations').select(['id', 'code']).where('code', '=', 'edt').executeTakeFirstOrThrow()
const people = async () => {
  const lp = await edt()
  return services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'p.id as participantId', 'p.full_name', 'e.status'])
    .where('e.lead_provider_id', '=', lp.id)
    .where('e.course_identifier', '=', 'npq-headship')
    .where('e.cohort', '=', '2022-autumn')
    .execute()
}
const enrolmentOf = async (name: string) => (await people()).find((p) => p.full_name === name)!
async function insertWindow(opensOn: string, deadline: string, maxWords = 1500) {
  const lp = await edt()
  return (
    await services.db
      .insertInto('assessment_windows')
      .values({
        lead_provider_id: lp.id,
        course_identifier: 'npq-headship',
        cohort: '2022-autumn',
        opens_on: opensOn,
        closes_on: addDays(opensOn, 7),
        engagement_deadline: deadline,
        max_words: maxWords,
        case_study_title: 'Reading at Oakwood',
        case_study: SECRET,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id
}
const entryOf = async (windowId: string, enrolmentId: string) =>
  services.db
    .selectFrom('assessment_entries')
    .selectAll()
    .where('window_id', '=', windowId)
    .where('enrolment_id', '=', enrolmentId)
    .executeTakeFirst()
const manyWords = (n: number) => Array.from({ length: n }, (_, i) => `word${i}`).join(' ')

test('windows: validated with the error summary; EHCO refused; day 8 is day 1 + 7', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const form = await admin.get('/lead-provider/assessment/windows/new')
  assert.equal(form.statusCode, 200)
  assert.match(form.body, /Your policy’s default is 1,500/)

  let r = await admin.post('/lead-provider/assessment/windows', { course: '', max_words: 'many' })
  assert.equal(r.statusCode, 400)
  assert.match(r.body, /govuk-error-summary/)
  for (const message of [
    'Select the course',
    'Enter day 1 of the window',
    'Enter the 90% engagement deadline',
    'whole number from 1 to 10,000',
    'Enter the title',
    'Enter the case study',
  ])
    assert.ok(r.body.includes(message), message)

  r = await admin.post('/lead-provider/assessment/windows', {
    course: 'npq-early-headship-coaching-offer',
    cohort: '2022-autumn',
    ...dateForm('opens_on', addDays(T, 30)),
    ...dateForm('engagement_deadline', addDays(T, 40)),
    max_words: '1500',
    case_study_title: 'A',
    case_study: 'B',
  })
  assert.equal(r.statusCode, 400)
  assert.match(r.body, /Early Headship Coaching Offer has no summative assessment/)
  assert.match(r.body, /must be before day 1/)

  r = await admin.post('/lead-provider/assessment/windows', {
    course: 'npq-headship',
    cohort: '2022-autumn',
    ...dateForm('opens_on', addDays(T, 60)),
    ...dateForm('engagement_deadline', addDays(T, 50)),
    max_words: '2,000',
    case_study_title: 'Leading change',
    case_study: 'The case study text',
  })
  assert.equal(r.statusCode, 303)
  const id = r.headers.location!.split('/').pop()!.split('?')[0]!
  const w = await services.db
    .selectFrom('assessment_windows')
    .select(['max_words', sql<string>`closes_on::text`.as('closes_on')])
    .where('id', '=', id)
    .executeTakeFirstOrThrow()
  assert.equal(w.closes_on, addDays(T, 67))
  assert.equal(w.max_words, 2000)
  const page = await admin.get(r.headers.location!)
  assert.match(page.body, /The window is created/)

  // The same course, cohort and day 1 again: refused, named on the field.
  r = await admin.post('/lead-provider/assessment/windows', {
    course: 'npq-headship',
    cohort: '2022-autumn',
    ...dateForm('opens_on', addDays(T, 60)),
    ...dateForm('engagement_deadline', addDays(T, 50)),
    max_words: '1500',
    case_study_title: 'Again',
    case_study: 'Again',
  })
  assert.equal(r.statusCode, 400)
  assert.match(r.body, /already a NPQ for Headship window for 2022-autumn/)
  // Changed before day 1; refused from day 1 (participants may have read the case study).
  const edit = {
    course: 'npq-headship',
    cohort: '2022-autumn',
    ...dateForm('opens_on', addDays(T, 60)),
    ...dateForm('engagement_deadline', addDays(T, 52)),
    max_words: '1800',
    case_study_title: 'Leading change, revised',
    case_study: 'The revised text',
  }
  assert.equal((await admin.get(`/lead-provider/assessment/windows/${id}/edit`)).statusCode, 200)
  r = await admin.post(`/lead-provider/assessment/windows/${id}/edit`, edit)
  assert.equal(r.statusCode, 303)
  const changed = await services.db
    .selectFrom('assessment_windows')
    .select(['max_words', sql<string>`engagement_deadline::text`.as('deadline')])
    .where('id', '=', id)
    .executeTakeFirstOrThrow()
  assert.deepEqual(changed, { max_words: 1800, deadline: addDays(T, 52) })
  atLondon(addDays(T, 60), '00:00')
  r = await admin.post(`/lead-provider/assessment/windows/${id}/edit`, { ...edit, max_words: '1000' })
  assert.equal(r.statusCode, 400)
  assert.match(r.body, /The window has opened: it can no longer be changed/)
  await services.db.deleteFrom('assessment_windows').where('id', '=', id).execute()
})

let w1 = ''
test('entry job: ≥ 90% entered, below lost, a deferral asked for by the deadline kept; idempotent; emails', async () => {
  const deadline = addDays(T, -1)
  w1 = await insertWindow(addDays(T, 2), deadline)
  const amelia = await enrolmentOf('Amelia Smith')
  // Her request dated before the deadline (the demo may already have one open, asked for today).
  const requestedAt = new Date(`${addDays(deadline, -2)}T10:00:00Z`)
  const moved = await services.db
    .updateTable('deferral_requests')
    .set({ requested_at: requestedAt })
    .where('enrolment_id', '=', amelia.id)
    .where('status', '=', 'requested')
    .executeTakeFirst()
  if (!moved.numUpdatedRows)
    await services.db
      .insertInto('deferral_requests')
      .values({
        enrolment_id: amelia.id,
        reason: 'career-break',
        details: 'Moving school',
        starts_on: deadline,
        planned_return_on: addDays(T, 200),
        requested_at: requestedAt,
      })
      .execute()

  const lp = await edt()
  const ratios = await engagementRatios(
    services,
    services.db,
    { leadProviderId: lp.id, leadProviderCode: 'edt', course: 'npq-headship', cohort: '2022-autumn' },
    deadline,
  )
  // Not due until the day after the deadline.
  assert.equal((await decideEntries(services, deadline)).windows, 0)
  const counts = await decideEntries(services, T)
  assert.equal(counts.windows, 1)

  const expected = { 'Priya Patel': 'entered', 'Amelia Smith': 'kept', 'Isla Roberts': 'not-entered' } as const
  for (const [name, decision] of Object.entries(expected)) {
    const p = await enrolmentOf(name)
    const entry = (await entryOf(w1, p.id))!
    assert.equal(entry.decision, decision, name)
    assert.equal(entry.attempt, 1)
    // The same rule as the engine's exact ratio.
    assert.equal(entryDecision({ ratio: ratios.get(p.participantId) ?? 0, deferralRequestedByDeadline: name === 'Amelia Smith' }), decision)
  }
  assert.ok(ratios.get((await enrolmentOf('Priya Patel')).participantId)! >= 0.9)
  assert.ok(ratios.get((await enrolmentOf('Isla Roberts')).participantId)! < 0.9)

  const mail = await services.db
    .selectFrom('email_outbox')
    .select(['to_address', 'subject', 'body'])
    .where('to_address', '=', 'participant@demo.test')
    .execute()
  assert.ok(mail.some((m) => m.subject === 'You are entered for the NPQ for Headship assessment' && m.body.includes('attempt 1')))

  // Again: nothing more.
  const before = await services.db
    .selectFrom('assessment_entries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  assert.equal((await decideEntries(services, addDays(T, 1))).windows, 0)
  const again = await services.db
    .selectFrom('assessment_entries')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  assert.equal(again.n, before.n)
})

test('sitting it: no case study before day 1 (London); drafts without JavaScript; over the limit refused with the draft kept; autosave', async () => {
  const priya = await as('participant@demo.test')
  const entry = (await entryOf(w1, (await enrolmentOf('Priya Patel')).id))!
  const url = `/participant/assessment/${entry.id}`

  const list = await priya.get('/participant/assessment')
  assert.equal(list.statusCode, 200)
  assert.match(list.body, /Entered: not submitted yet/)
  assert.match(list.body, /Early Headship Coaching Offer[\s\S]*This course has no summative assessment/)

  // 23:59 London on the day before day 1: not yet.
  atLondon(addDays(T, 1), '23:59')
  let page = await priya.get(url)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /The assessment opens on/)
  assert.ok(!page.body.includes(SECRET))
  assert.ok(!page.body.includes('name="response"'))
  let r = await priya.post(url, { action: 'save', response: 'Too early' })
  assert.equal(r.statusCode, 400)
  assert.equal((await entryOf(w1, entry.enrolment_id))!.draft, '')

  // 00:00 London on day 1: the case study and the editor.
  atLondon(addDays(T, 2), '00:00')
  page = await priya.get(url)
  assert.ok(page.body.includes(SECRET))
  assert.match(page.body, /0 words of 1,500/)

  r = await priya.post(url, { action: 'save', response: 'My well-being plan: 1,500 words — eventually.' })
  assert.equal(r.statusCode, 303)
  page = await priya.get(r.headers.location!)
  assert.match(page.body, /Your draft is saved/)
  assert.match(page.body, /6 words of 1,500/)
  assert.equal((await entryOf(w1, entry.enrolment_id))!.draft_word_count, 6)

  const long = manyWords(1501)
  r = await priya.post(url, { action: 'submit', response: long })
  assert.equal(r.statusCode, 400)
  assert.match(r.body, /Your response is 1,501 words: the maximum is 1,500/)
  let row = (await entryOf(w1, entry.enrolment_id))!
  assert.equal(row.submitted_at, null)
  assert.equal(row.draft, long)
  assert.equal(row.draft_word_count, 1501)

  // Autosave: JSON, with the page's CSRF token; without it, refused.
  const csrf = csrfToken(page.body)
  const auto = await app.inject({
    method: 'POST',
    url: `${url}/autosave`,
    headers: { cookie: priya.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    payload: new URLSearchParams({ _csrf: csrf, response: 'Autosaved two three' }).toString(),
  })
  assert.equal(auto.statusCode, 200)
  assert.equal(auto.json().wordCount, 3)
  const forged = await app.inject({
    method: 'POST',
    url: `${url}/autosave`,
    headers: { cookie: priya.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'response=x',
  })
  assert.equal(forged.statusCode, 403)
  assert.equal((await entryOf(w1, entry.enrolment_id))!.draft, 'Autosaved two three')

  // Someone else's entry does not exist for Priya.
  const isla = (await entryOf(w1, (await enrolmentOf('Isla Roberts')).id))!
  assert.equal((await priya.get(`/participant/assessment/${isla.id}`)).statusCode, 404)

  // Day 8, 23:59 London: accepted.
  atLondon(addDays(T, 9), '23:59')
  r = await priya.post(url, { action: 'submit', response: manyWords(1500) })
  assert.equal(r.statusCode, 303)
  row = (await entryOf(w1, entry.enrolment_id))!
  assert.equal(row.outcome, 'submitted')
  assert.equal(row.submitted_word_count, 1500)
  const submitted = await submittedEntries(services.db, w1)
  assert.equal(submitted.length, 1)
  assert.equal(submitted[0]!.entryId, entry.id)
  assert.equal(submitted[0]!.submittedWordCount, 1500)
})

test('late submission refused with the draft kept; not submitted → lost; extenuating circumstances accepted keep the attempt', async () => {
  // An earlier window that closed two days ago, with Priya entered and a draft saved.
  const w0 = await insertWindow(addDays(T, -9), addDays(T, -10))
  const enrolment = await enrolmentOf('Priya Patel')
  const entry = await services.db
    .insertInto('assessment_entries')
    .values({ window_id: w0, enrolment_id: enrolment.id, attempt: 1, decision: 'entered', draft: 'My earlier draft', draft_word_count: 3 })
    .returning('id')
    .executeTakeFirstOrThrow()
  await services.db.updateTable('assessment_windows').set({ entries_decided_at: new Date() }).where('id', '=', w0).execute()
  const priya = await as('participant@demo.test')
  const url = `/participant/assessment/${entry.id}`

  const r = await priya.post(url, { action: 'submit', response: 'Late but complete' })
  assert.equal(r.statusCode, 400)
  assert.match(r.body, /window closed at the end of/)
  const row = (await entryOf(w0, enrolment.id))!
  assert.equal(row.submitted_at, null)
  assert.equal(row.draft, 'My earlier draft')

  assert.deepEqual(await closeWindows(services, T), { lost: 1, kept: 0 })
  assert.equal((await entryOf(w0, enrolment.id))!.outcome, 'lost')
  assert.deepEqual(await closeWindows(services, T), { lost: 0, kept: 0 })

  // Two days after the window: extenuating circumstances can still be asked for.
  let page = await priya.post(`${url}/extenuating`, { reason: '' })
  assert.equal(page.statusCode, 400)
  assert.match(page.body, /Enter what happened/)
  page = await priya.post(`${url}/extenuating`, { reason: 'In hospital for the whole window' })
  assert.equal(page.statusCode, 303)
  const x = await services.db.selectFrom('extenuating_circumstances').selectAll().where('entry_id', '=', entry.id).executeTakeFirstOrThrow()

  const admin = await as('lead-provider-admin@demo.test')
  const overview = await admin.get('/lead-provider/assessment')
  assert.match(overview.body, /Extenuating circumstances to decide[\s\S]*Priya Patel/)
  let decided = await admin.post(`/lead-provider/assessment/extenuating/${x.id}`, {})
  assert.equal(decided.statusCode, 400)
  assert.match(decided.body, /Choose whether to accept or decline/)
  decided = await admin.post(`/lead-provider/assessment/extenuating/${x.id}`, {
    decision: 'accepted',
    decision_reason: 'Hospital letter seen',
  })
  assert.equal(decided.statusCode, 303)

  const kept = (await entryOf(w0, enrolment.id))!
  assert.equal(kept.outcome, 'kept')
  assert.equal(usesAttempt(kept), false)
  const audit = await services.db.selectFrom('audit_events').select('action').where('entity_id', '=', entry.id).execute()
  assert.deepEqual(audit.map((a) => a.action).sort(), [
    'assessment-entry.lost',
    'extenuating-circumstances.accepted',
    'extenuating-circumstances.requested',
  ])
  const mail = await services.db.selectFrom('email_outbox').select('subject').where('to_address', '=', 'participant@demo.test').execute()
  assert.ok(mail.some((m) => m.subject === 'Your extenuating circumstances are accepted'))
  // Priya has used one attempt (the submitted one), not two.
  const history = (await entryHistory(services.db, [enrolment.id])).get(enrolment.id)!
  assert.equal(attemptState(history, 2).used, 1)
})

test('attempts: the lead provider chooses a later window for the second; a third is refused', async () => {
  const isla = await enrolmentOf('Isla Roberts')
  const w2 = await insertWindow(addDays(T, 30), addDays(T, 25))
  const w3 = await insertWindow(addDays(T, 60), addDays(T, 55))
  const admin = await as('lead-provider-admin@demo.test')
  const overview = await admin.get('/lead-provider/assessment')
  assert.match(overview.body, /Next attempts[\s\S]*Isla Roberts/)

  let r = await admin.post(
    '/lead-provider/assessment/next-attempt',
    { enrolment_id: isla.id, window_id: '' },
    { csrfFrom: '/lead-provider/assessment' },
  )
  assert.equal(r.statusCode, 400)
  assert.match(r.body, /Choose the window for the next attempt/)
  // The window she lost her attempt in is not later.
  r = await admin.post(
    '/lead-provider/assessment/next-attempt',
    { enrolment_id: isla.id, window_id: w1 },
    { csrfFrom: '/lead-provider/assessment' },
  )
  assert.equal(r.statusCode, 400)

  r = await admin.post(
    '/lead-provider/assessment/next-attempt',
    { enrolment_id: isla.id, window_id: w2 },
    { csrfFrom: '/lead-provider/assessment' },
  )
  assert.equal(r.statusCode, 303)
  const second = (await entryOf(w2, isla.id))!
  assert.equal(second.attempt, 2)
  assert.equal(second.decision, 'entered')

  // The job for w2 leaves her entry alone; she does not submit: attempt 2 lost.
  await decideEntries(services, addDays(T, 26))
  assert.equal((await entryOf(w2, isla.id))!.attempt, 2)
  await closeWindows(services, addDays(T, 38))
  assert.equal((await entryOf(w2, isla.id))!.outcome, 'lost')

  r = await admin.post(
    '/lead-provider/assessment/next-attempt',
    { enrolment_id: isla.id, window_id: w3 },
    { csrfFrom: '/lead-provider/assessment' },
  )
  assert.equal(r.statusCode, 400)
  assert.match(r.body, /Isla Roberts has used 2 of 2 attempts: a third attempt is not allowed/)
  assert.equal(await entryOf(w3, isla.id), undefined)
})
