import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { addDays } from '../registers/register-rules.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'
import { currentMeetingLogs } from './meeting-logs.ts'

// Line manager/mentor meetings without a browser, on a UCL course (3 meetings: a specialist NPQ) added
// for the demo participant with the demo line manager: scheduling invites both, a log signed by both
// becomes evidence, a signed log is locked, a new version supersedes it, and only the participant and
// their line manager may sign.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
let enrolmentId: string
let participantId: string
const system = { kind: 'system', name: 'test' } as const

before(async () => {
  ;({ services, app, close } = await startDemoApp())
  const { db } = services
  const org = async (kind: 'lead-provider' | 'delivery-partner' | 'school', code: string) =>
    (await db.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow()).id
  const priya = await db.selectFrom('participants').select('id').where('email', '=', 'participant@demo.test').executeTakeFirstOrThrow()
  const lm = await db.selectFrom('users').select('id').where('email', '=', 'line-manager@demo.test').executeTakeFirstOrThrow()
  participantId = priya.id
  const row = await db
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
  enrolmentId = row.id
  // Another school's line manager, who is not Priya's.
  await services.accounts.createUser(system, {
    email: 'other-line-manager@demo.test',
    fullName: 'Olga Other',
    role: 'line-manager',
    organisationId: await org('school', '100001'),
    password: demoPassword,
    isDemo: true,
  })
})
after(() => close())

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const dateParts = (name: string, date: string) => {
  const [y, m, d] = date.split('-')
  return { [`${name}-day`]: String(Number(d)), [`${name}-month`]: String(Number(m)), [`${name}-year`]: y! }
}
const today = londonDateOf(new Date())
const emailsTo = (to: string, subjectLike: string) =>
  services.db
    .selectFrom('email_outbox')
    .select(['subject', 'body', 'attachments'])
    .where('to_address', '=', to)
    .where('subject', 'like', subjectLike)
    .orderBy('created_at')
    .execute()

const logForm = (overrides: Record<string, string> = {}) => ({
  ...dateParts('held_on', today),
  stage: 'contracting',
  fats_completed: 'yes',
  fats_completed_count: '2',
  checking_in: 'Finished module 1 self-study',
  key_purposes: 'Agree the focus of the implementation project',
  'answer-0': 'Project scope',
  'answer-1': 'Behaviour routines',
  'answer-2': 'Consistency matters more than novelty',
  'answer-3': 'Draft the project plan',
  'answer-4': 'Next meeting in four weeks',
  ...overrides,
})

test('the participant schedules a meeting: both get a calendar invitation; a change and a cancellation send updates', async () => {
  const priya = await as('participant@demo.test')
  const list = await priya.get('/participant/meetings')
  assert.equal(list.statusCode, 200)
  assert.match(list.body, /0 of 3 meetings signed/)
  // A date in the past: the error summary, nothing saved.
  const past = await priya.post(`/meetings/${enrolmentId}/schedule`, {
    meetingNumber: '1',
    ...dateParts('date', addDays(today, -3)),
    time: '15:30',
    durationMinutes: '60',
    location: 'Head’s office',
  })
  assert.equal(past.statusCode, 400)
  assert.match(past.body, /govuk-error-summary/)
  assert.match(past.body, /Enter a date and time in the future/)
  const missing = await priya.post(`/meetings/${enrolmentId}/schedule`, { meetingNumber: '1' })
  assert.equal(missing.statusCode, 400)
  assert.match(missing.body, /Enter where the meeting is/)
  assert.equal((await services.db.selectFrom('meeting_schedules').select('id').where('enrolment_id', '=', enrolmentId).execute()).length, 0)

  const sent = await priya.post(`/meetings/${enrolmentId}/schedule`, {
    meetingNumber: '1',
    ...dateParts('date', addDays(today, 7)),
    time: '15:30',
    durationMinutes: '60',
    location: 'https://meet.example.org/priya',
  })
  assert.equal(sent.statusCode, 303)
  for (const to of ['participant@demo.test', 'line-manager@demo.test']) {
    const [email] = await emailsTo(to, 'Meeting 1 scheduled%')
    assert.ok(email, `an invitation to ${to}`)
    assert.match(email.attachments![0]!.content, /METHOD:REQUEST/)
    assert.match(email.attachments![0]!.content, /NPQ line manager meeting 1: Priya Patel/)
  }
  const schedule = await services.db
    .selectFrom('meeting_schedules')
    .select('id')
    .where('enrolment_id', '=', enrolmentId)
    .executeTakeFirstOrThrow()
  // The same meeting twice is refused.
  const twice = await priya.post(`/meetings/${enrolmentId}/schedule`, {
    meetingNumber: '1',
    ...dateParts('date', addDays(today, 8)),
    time: '10:00',
    durationMinutes: '60',
    location: 'Library',
  })
  assert.equal(twice.statusCode, 400)

  // The line manager changes it; both hear.
  const liam = await as('line-manager@demo.test')
  const home = await liam.get('/line-manager')
  assert.match(home.body, /Priya Patel/)
  assert.match(home.body, /1 scheduled/)
  const changed = await liam.post(`/meetings/${enrolmentId}/schedules/${schedule.id}`, {
    ...dateParts('date', addDays(today, 9)),
    time: '16:00',
    durationMinutes: '45',
    location: 'Head’s office',
  })
  assert.equal(changed.statusCode, 303)
  const [update] = await emailsTo('participant@demo.test', 'Meeting 1 changed%')
  assert.match(update!.attachments![0]!.content, new RegExp(`UID:${schedule.id}@npq-platform`))
  const cancelled = await priya.post(
    `/meetings/${enrolmentId}/schedules/${schedule.id}/cancel`,
    {},
    { csrfFrom: `/meetings/${enrolmentId}/schedules/${schedule.id}` },
  )
  assert.equal(cancelled.statusCode, 303)
  const [cancel] = await emailsTo('line-manager@demo.test', 'Meeting 1 cancelled%')
  assert.match(cancel!.attachments![0]!.content, /METHOD:CANCEL/)
  // Someone else's participant: not found.
  const olga = await as('other-line-manager@demo.test')
  assert.equal((await olga.get(`/meetings/${enrolmentId}`)).statusCode, 404)
  assert.doesNotMatch((await olga.get('/line-manager')).body, /Priya Patel/)
})

test('a log signed by both becomes evidence; it is locked; a new version supersedes it when both sign; only the two may sign', async () => {
  const { db } = services
  const priya = await as('participant@demo.test')
  const liam = await as('line-manager@demo.test')
  const logUrl = `/meetings/${enrolmentId}/logs/1`

  const empty = await priya.post(`${logUrl}/edit`, {}, { csrfFrom: `${logUrl}/edit` })
  assert.equal(empty.statusCode, 400)
  assert.match(empty.body, /Enter the key purposes of the meeting/)
  assert.match(empty.body, /Select the main stage of this meeting/)
  const form = await priya.get(`${logUrl}/edit`)
  assert.match(form.body, /Prompts for the contracting stage/)
  assert.match(form.body, /What do you want to achieve out of this session\?/)
  assert.equal((await priya.post(`${logUrl}/edit`, logForm())).statusCode, 303)
  const v1 = await db.selectFrom('meeting_log_versions').selectAll().where('enrolment_id', '=', enrolmentId).executeTakeFirstOrThrow()
  assert.equal(v1.answers.length, 5)
  assert.equal(v1.answers[0]!.question, 'What does our agenda need to cover?')

  // Someone who is not Priya's line manager cannot sign: another line manager does not see it; her
  // delivery partner's lead reads it but is refused with a clear message.
  const olga = await as('other-line-manager@demo.test')
  const olgaCsrf = csrfToken((await olga.get('/line-manager')).body)
  assert.equal((await olga.post(`${logUrl}/sign`, { version: v1.id }, { csrf: olgaCsrf })).statusCode, 404)
  const lead = await as('delivery-partner-lead@demo.test')
  const refused = await lead.post(`${logUrl}/sign`, { version: v1.id }, { csrfFrom: logUrl })
  assert.equal(refused.statusCode, 400)
  assert.match(refused.body, /Only Priya Patel or their line manager, Liam Murphy, can sign this meeting log/)

  const signed = await priya.post(`${logUrl}/sign`, { version: v1.id })
  assert.equal(signed.statusCode, 303)
  assert.equal(
    (await emailsTo('line-manager@demo.test', 'Please sign the log of meeting 1%')).filter((m) => m.body.includes('Priya Patel')).length,
    1,
  )
  assert.match((await liam.get('/line-manager')).body, /Waiting for your signature[\s\S]*log of meeting 1/)
  // Signed by one: locked against edits.
  const edit = await liam.post(`${logUrl}/edit`, logForm({ checking_in: 'Changed' }), { csrfFrom: logUrl })
  assert.equal(edit.statusCode, 400)
  assert.match(edit.body, /has been signed, so it cannot be changed/)
  assert.equal((await currentMeetingLogs(db).select('m.id').where('m.participant_id', '=', participantId).execute()).length, 0)

  assert.equal((await liam.post(`${logUrl}/sign`, { version: v1.id })).statusCode, 303)
  const evidence = await currentMeetingLogs(db)
    .selectAll('m')
    .where('m.participant_id', '=', participantId)
    .where('m.course_identifier', '=', 'npq-leading-behaviour-culture')
    .executeTakeFirstOrThrow()
  assert.equal(evidence.meeting_number, 1)
  assert.equal(evidence.fats_completed, 2)
  assert.ok(evidence.signed_by_line_manager && evidence.signed_by_participant)
  const v1After = await db.selectFrom('meeting_log_versions').select('meeting_log_id').where('id', '=', v1.id).executeTakeFirstOrThrow()
  assert.equal(v1After.meeting_log_id, evidence.id)
  assert.equal((await emailsTo('delivery-partner-lead@demo.test', 'Signed meeting log: Priya Patel, meeting 1')).length, 1)
  assert.match((await priya.get('/participant/meetings')).body, /1 of 3 meetings signed/)
  const dp = await lead.get('/delivery-partner/meetings')
  assert.equal(dp.statusCode, 200)
  assert.match(dp.body, /id="signed-logs"[\s\S]*Priya Patel/)

  // Editing a signed log is refused; a second signature too.
  const locked = await priya.post(`${logUrl}/edit`, logForm({ fats_completed_count: '3' }), { csrfFrom: logUrl })
  assert.equal(locked.statusCode, 400)
  assert.match(locked.body, /cannot be changed/)
  assert.equal((await priya.post(`${logUrl}/sign`, { version: v1.id })).statusCode, 400)

  // A new version: copied, edited, signed by both, supersedes the evidence.
  const started = await priya.post(`${logUrl}/new-version`, {}, { csrfFrom: logUrl })
  assert.equal(started.statusCode, 303)
  assert.equal((await priya.post(`${logUrl}/edit`, logForm({ fats_completed_count: '3' }))).statusCode, 303)
  const v2 = await db
    .selectFrom('meeting_log_versions')
    .selectAll()
    .where('enrolment_id', '=', enrolmentId)
    .where('version', '=', 2)
    .executeTakeFirstOrThrow()
  assert.equal(v2.checking_in, 'Finished module 1 self-study')
  // Still the first version's evidence until both sign the second.
  assert.equal(
    (await currentMeetingLogs(db).select('m.id').where('m.participant_id', '=', participantId).executeTakeFirstOrThrow()).id,
    evidence.id,
  )
  // Signing a version other than the latest is refused.
  assert.equal((await liam.post(`${logUrl}/sign`, { version: v1.id })).statusCode, 400)
  assert.equal((await liam.post(`${logUrl}/sign`, { version: v2.id })).statusCode, 303)
  assert.equal((await priya.post(`${logUrl}/sign`, { version: v2.id })).statusCode, 303)
  const current = await currentMeetingLogs(db)
    .selectAll('m')
    .where('m.participant_id', '=', participantId)
    .where('m.course_identifier', '=', 'npq-leading-behaviour-culture')
    .execute()
  assert.equal(current.length, 1)
  assert.equal(current[0]!.fats_completed, 3)
  assert.equal(current[0]!.supersedes, evidence.id)
  const page = await lead.get(logUrl)
  assert.match(page.body, /Evidence \(current\)[\s\S]*Evidence \(superseded\)/)
  const audit = await db.selectFrom('audit_events').select('action').where('entity_id', 'in', [v1.id, v2.id]).execute()
  assert.ok(audit.filter((a) => a.action === 'meeting-log-version.signed').length === 4)
})

test('an EDT course needs no meetings: nothing to schedule', async () => {
  const { db } = services
  const edt = await db
    .selectFrom('enrolments')
    .select('id')
    .where('participant_id', '=', participantId)
    .where('course_identifier', '=', 'npq-headship')
    .executeTakeFirstOrThrow()
  const priya = await as('participant@demo.test')
  const page = await priya.get(`/meetings/${edt.id}`)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /does not ask for line manager meetings/)
  assert.equal((await priya.get(`/meetings/${edt.id}/schedule`)).statusCode, 404)
})

test('the lead provider’s admins read their participants’ meetings and logs; another provider’s admin cannot', async () => {
  const { db } = services
  const ucl = (
    await db
      .selectFrom('organisations')
      .select('id')
      .where('kind', '=', 'lead-provider')
      .where('code', '=', 'ucl')
      .executeTakeFirstOrThrow()
  ).id
  await services.accounts.createUser(system, {
    email: 'ucl-admin@demo.test',
    fullName: 'Uma Admin',
    role: 'lead-provider-admin',
    organisationId: ucl,
    password: demoPassword,
    isDemo: true,
  })
  const uclAdmin = await as('ucl-admin@demo.test')
  const list = await uclAdmin.get('/lead-provider/meetings')
  assert.equal(list.statusCode, 200)
  assert.ok(list.body.includes(`/meetings/${enrolmentId}`), 'Priya’s UCL course is listed')
  assert.match(list.body, /Sam Whitfield/)
  // A summary per delivery partner, course and cohort; a filtered list; a page past the end shows the last.
  assert.match(list.body, /id="meetings-summary"[\s\S]*North Star Teaching School Hub/)
  const filtered = await uclAdmin.get('/lead-provider/meetings?course=npq-leading-behaviour-culture&cohort=2023-autumn&page=99')
  assert.equal(filtered.statusCode, 200)
  assert.ok(filtered.body.includes(`/meetings/${enrolmentId}`))
  assert.match(filtered.body, /Showing 1 to \d+ of \d+ participants/)
  const page = await uclAdmin.get(`/meetings/${enrolmentId}`)
  assert.equal(page.statusCode, 200)
  assert.ok(!page.body.includes('Schedule or change a meeting'), 'read only')
  assert.equal((await uclAdmin.get(`/meetings/${enrolmentId}/schedule`)).statusCode, 403)

  const edtAdmin = await as('lead-provider-admin@demo.test')
  const edtList = await edtAdmin.get('/lead-provider/meetings')
  assert.equal(edtList.statusCode, 200)
  assert.ok(!edtList.body.includes(enrolmentId))
  assert.equal((await edtAdmin.get(`/meetings/${enrolmentId}`)).statusCode, 404)
  assert.equal((await as('facilitator@demo.test').then((f) => f.get('/lead-provider/meetings'))).statusCode, 403)
})
