import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { demoSurveyTitle } from '../demo/demo-surveys.ts'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import { organisation, person } from '../test-support/fixtures.ts'
import type { TestServices } from '../test-support/services.ts'
import { surveysDue } from './surveys.ts'

// Surveys without a browser, on the demo data: EDT's demo end-of-block survey is due to Priya; bad
// answers are refused with the error summary; she answers once (a second answer is refused, by the page
// and by the database), which records the design's survey activity; EDT's admin sees the summary and a
// named download, North Star's lead the summary and a download without names; other partners, lead
// providers and participants get "not found". An event survey is due once per attended event.

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
const today = () => londonDateOf(new Date())
const userId = async (email: string) =>
  (await services.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id
const demoSurvey = async () =>
  (await services.db.selectFrom('surveys').select('id').where('title', '=', demoSurveyTitle).executeTakeFirstOrThrow()).id

test('a lead provider’s admin authors a survey; bad input is refused with the error summary', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const form = await admin.get('/lead-provider/surveys/new')
  assert.equal(form.statusCode, 200)
  const empty = await admin.post('/lead-provider/surveys', { title: '', questions: '' }, { csrfFrom: '/lead-provider/surveys/new' })
  assert.equal(empty.statusCode, 400)
  for (const field of ['title', 'kind', 'course', 'questions', 'opens-day', 'closes-day'])
    assert.match(empty.body, new RegExp(`href="#${field}"`))

  // Next year, so the survey is not yet open (and not due to Priya in the next test) whatever today is.
  const year = String(Number(today().slice(0, 4)) + 1)
  const valid = {
    title: 'Induction day',
    kind: 'end-of-block',
    course: 'npq-headship',
    cohort: '',
    block: '99',
    activity: 'NOT-A-CODE',
    questions: 'rating: Useful?\nchoice: Only one | A',
    'opens-day': '1',
    'opens-month': '12',
    'opens-year': year,
    'closes-day': '30',
    'closes-month': '11',
    'closes-year': year,
  }
  const wrong = await admin.post('/lead-provider/surveys', valid, { csrfFrom: '/lead-provider/surveys/new' })
  assert.equal(wrong.statusCode, 400)
  assert.match(wrong.body, /Enter a block of this course’s design/)
  assert.match(wrong.body, /Enter a self-study activity code/)
  assert.match(wrong.body, /Line 2: give a choice question at least 2 options/)
  assert.match(wrong.body, /The survey must close on or after the day it opens/)
  assert.match(wrong.body, /value="Induction day"/, 'what was typed is kept')

  const created = await admin.post(
    '/lead-provider/surveys',
    {
      ...valid,
      block: '2',
      activity: 'npqh-b2-survey',
      questions: 'rating: Useful?\ntext: Better?',
      'closes-day': '31',
      'closes-month': '12',
    },
    { csrfFrom: '/lead-provider/surveys/new' },
  )
  assert.equal(created.statusCode, 303)
  const row = await services.db
    .selectFrom('surveys')
    .select(['kind', 'block', 'activity_code', 'opens_on', 'closes_on', 'questions'])
    .where('title', '=', 'Induction day')
    .executeTakeFirstOrThrow()
  assert.deepEqual(
    { ...row, questions: undefined },
    {
      kind: 'end-of-block',
      block: 2,
      activity_code: 'NPQH-B2-SURVEY',
      opens_on: `${year}-12-01`,
      closes_on: `${year}-12-31`,
      questions: undefined,
    },
  )
  assert.equal(row.questions.length, 2)
  // Only lead-provider admins author.
  const lead = await as('delivery-partner-lead@demo.test')
  assert.equal((await lead.get('/lead-provider/surveys/new')).statusCode, 403)
})

test('Priya answers the end-of-block survey once; it records the design activity', async () => {
  const id = await demoSurvey()
  const due = await surveysDue(services, await userId('participant@demo.test'), today())
  assert.deepEqual(due, [{ title: demoSurveyTitle, href: `/participant/surveys/${id}` }])
  assert.deepEqual(await surveysDue(services, await userId('ucl-participant@demo.test'), today()), [])

  const priya = await as('participant@demo.test')
  assert.match((await priya.get('/participant/surveys')).body, new RegExp(`href="/participant/surveys/${id}">${demoSurveyTitle}`))
  const bad = await priya.post(`/participant/surveys/${id}`, { q3: 'Shorter videos' })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.body, /href="#q1">Select a rating from 1 to 5/)
  assert.match(bad.body, /href="#q2">Select an answer/)
  assert.match(bad.body, /Shorter videos/, 'what was typed is kept')

  const ok = await priya.post(`/participant/surveys/${id}`, { q1: '4', q2: 'Most of it', q3: 'Shorter videos' })
  assert.equal(ok.statusCode, 303)
  assert.deepEqual(await surveysDue(services, await userId('participant@demo.test'), today()), [])
  const again = await priya.post(`/participant/surveys/${id}`, { q1: '1', q2: 'None of it' }, { csrfFrom: '/participant/surveys' })
  assert.equal(again.statusCode, 409)
  const responses = await services.db
    .selectFrom('survey_responses')
    .select(['enrolment_id', 'answers'])
    .where('survey_id', '=', id)
    .execute()
  assert.equal(responses.length, 1)
  assert.deepEqual(responses[0]!.answers, { q1: 4, q2: 'Most of it', q3: 'Shorter videos' })
  // The database refuses a second response too, and keeps the first.
  await assert.rejects(
    services.db
      .insertInto('survey_responses')
      .values({ survey_id: id, enrolment_id: responses[0]!.enrolment_id, answers: JSON.stringify({ q1: 1 }) })
      .execute(),
  )
  await assert.rejects(services.db.deleteFrom('survey_responses').where('survey_id', '=', id).execute())

  const record = await services.db
    .selectFrom('learning_records as lr')
    .innerJoin('participants as p', 'p.id', 'lr.participant_id')
    .select(['lr.source'])
    .where('p.email', '=', 'participant@demo.test')
    .where('lr.activity_code', '=', 'NPQH-B1-SURVEY')
    .execute()
  assert.ok(record.length >= 1, 'the survey activity is recorded (or was already)')

  const sam = await as('ucl-participant@demo.test')
  assert.equal((await sam.get(`/participant/surveys/${id}`)).statusCode, 404)
})

test('results: the lead provider all, named in the download; the delivery partner its own, without names; nobody else', async () => {
  const id = await demoSurvey()
  const priya = await as('participant@demo.test')
  await priya.post(`/participant/surveys/${id}`, { q1: '4', q2: 'Most of it', q3: 'Shorter videos' })

  const admin = await as('lead-provider-admin@demo.test')
  const results = await admin.get(`/lead-provider/surveys/${id}`)
  assert.equal(results.statusCode, 200)
  assert.match(results.body, /<strong>4<\/strong> out of 5 \(1 answered\)/)
  assert.match(results.body, /Shorter videos/)
  assert.doesNotMatch(results.body, /Priya Patel/)
  const csv = await admin.get(`/lead-provider/surveys/${id}/responses.csv`)
  assert.equal(csv.statusCode, 200)
  assert.match(csv.headers['content-type'] as string, /text\/csv/)
  const [header, line] = csv.body.trim().split('\n')
  assert.equal(
    header,
    'submitted_on,participant,trn,delivery_partner,event,How useful was block 1 for your role?,How much of the self-study did you complete?,What one thing would improve block 1?',
  )
  assert.equal(line, `${today()},Priya Patel,1000001,North Star Teaching School Hub,,4,Most of it,Shorter videos`)

  const lead = await as('delivery-partner-lead@demo.test')
  assert.match((await lead.get('/delivery-partner/surveys')).body, new RegExp(demoSurveyTitle))
  const dpResults = await lead.get(`/delivery-partner/surveys/${id}`)
  assert.equal(dpResults.statusCode, 200)
  assert.match(dpResults.body, /Shorter videos/)
  assert.doesNotMatch(dpResults.body, /Priya Patel/)
  const dpCsv = await lead.get(`/delivery-partner/surveys/${id}/responses.csv`)
  assert.equal(dpCsv.body.trim().split('\n')[1], `${today()},,4,Most of it,Shorter videos`)
  assert.doesNotMatch(dpCsv.body, /Priya|1000001/)

  // Another partner (not EDT's) and another lead provider see nothing.
  const southern = await organisation(services.db, 'delivery-partner', 'southern-lights-mat')
  await person(services, 'other-lead@surveys.test', 'delivery-partner-lead', southern)
  const otherLead = await as('other-lead@surveys.test', 'a long test password')
  assert.equal((await otherLead.get(`/delivery-partner/surveys/${id}`)).statusCode, 404)
  assert.equal((await otherLead.get(`/delivery-partner/surveys/${id}/responses.csv`)).statusCode, 404)
  assert.doesNotMatch((await otherLead.get('/delivery-partner/surveys')).body, new RegExp(demoSurveyTitle))
  const ucl = await organisation(services.db, 'lead-provider', 'ucl')
  await person(services, 'ucl-admin@surveys.test', 'lead-provider-admin', ucl)
  const uclAdmin = await as('ucl-admin@surveys.test', 'a long test password')
  assert.equal((await uclAdmin.get(`/lead-provider/surveys/${id}`)).statusCode, 404)
  assert.equal((await uclAdmin.get(`/lead-provider/surveys/${id}/responses.csv`)).statusCode, 404)
  assert.equal((await priya.get(`/lead-provider/surveys/${id}`)).statusCode, 404)
})

test('an event survey is due once for each event the participant attended', async () => {
  const db = services.db
  const edt = await organisation(db, 'lead-provider', 'edt')
  const northStar = await organisation(db, 'delivery-partner', 'north-star-tsh')
  const priya = await db
    .selectFrom('participants')
    .select(['id', 'user_id'])
    .where('email', '=', 'participant@demo.test')
    .executeTakeFirstOrThrow()
  const yesterday = londonDateOf(new Date(Date.now() - 86_400_000))
  const event = async (ref: string) =>
    (
      await db
        .insertInto('events')
        .values({
          event_ref: ref,
          lead_provider_id: edt,
          delivery_partner_id: northStar,
          course_identifier: 'npq-headship',
          cohort: '2022-autumn',
          activity_code: null,
          kind: 'f2f',
          title: `Survey test ${ref}`,
          starts_at: `${yesterday}T09:00:00Z`,
          ends_at: `${yesterday}T15:00:00Z`,
          starts_on: yesterday,
          capacity: 20,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
  const attended = await event('survey-test-attended')
  const absent = await event('survey-test-absent')
  await db
    .insertInto('register_entries')
    .values([
      { event_id: attended, participant_id: priya.id, status: 'attended' },
      { event_id: absent, participant_id: priya.id, status: 'absent' },
    ])
    .execute()
  // A self-study activity of her design she has no record of yet: the response should record it.
  const design = await services.designs.designForCohort('edt', 'npq-headship', '2022-autumn')
  const have = new Set(
    (await db.selectFrom('learning_records').select('activity_code').where('participant_id', '=', priya.id).execute()).map(
      (r) => r.activity_code,
    ),
  )
  const fresh = design!.blocks
    .filter((b) => !b.provisional)
    .flatMap((b) => b.activities)
    .find((a) => a.evidence === 'activity' && !have.has(a.code))
  assert.ok(fresh, 'a self-study activity Priya has not done')
  const survey = await db
    .insertInto('surveys')
    .values({
      lead_provider_id: edt,
      kind: 'event',
      title: 'How was the day?',
      course_identifier: 'npq-headship',
      cohort: null,
      block: null,
      activity_code: fresh.code,
      questions: JSON.stringify([{ id: 'q1', kind: 'rating', text: 'Overall?' }]),
      opens_on: londonDateOf(new Date(Date.now() - 10 * 86_400_000)),
      closes_on: londonDateOf(new Date(Date.now() + 10 * 86_400_000)),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  const dueNow = (await surveysDue(services, priya.user_id!, today())).filter((d) => d.href.startsWith(`/participant/surveys/${survey.id}`))
  assert.deepEqual(dueNow, [
    { title: 'How was the day?: Survey test survey-test-attended', href: `/participant/surveys/${survey.id}?event=${attended}` },
  ])

  const agent = await as('participant@demo.test')
  assert.equal((await agent.get(`/participant/surveys/${survey.id}?event=${absent}`)).statusCode, 404, 'not for an event she missed')
  assert.equal((await agent.get(`/participant/surveys/${survey.id}?event=not-an-id`)).statusCode, 404)
  assert.equal((await agent.post(`/participant/surveys/${survey.id}?event=${attended}`, { q1: '5' })).statusCode, 303)
  assert.equal((await surveysDue(services, priya.user_id!, today())).filter((d) => d.href.includes(survey.id)).length, 0)
  const recorded = await db
    .selectFrom('learning_records')
    .select(['source', 'recorded_by'])
    .where('participant_id', '=', priya.id)
    .where('activity_code', '=', fresh.code)
    .execute()
  assert.deepEqual(recorded, [{ source: 'automatic', recorded_by: priya.user_id }])
  const again = await agent.post(`/participant/surveys/${survey.id}?event=${attended}`, { q1: '2' }, { csrfFrom: '/participant/surveys' })
  assert.equal(again.statusCode, 409)
})
