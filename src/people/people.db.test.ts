import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { hashPassword } from '../accounts/passwords.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'

// Issue 9 people without a browser, on the demo data: learning audits and journals are the
// participant's alone; buddies are pairs or threes; a delivery partner's lead manages only their own
// participants and facilitators; a safeguarding concern is read only by the designated safeguarding
// lead, and neither its email nor the audit log carries what it says.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
  // A lead of another delivery partner, to show each partner sees only its own.
  const user = await services.db
    .insertInto('users')
    .values({ email: 'east-lead@demo.test', full_name: 'Erin East', password_hash: await hashPassword(demoPassword), status: 'active' })
    .returning('id')
    .executeTakeFirstOrThrow()
  await services.db
    .insertInto('role_assignments')
    .values({ user_id: user.id, role: 'delivery-partner-lead', organisation_id: await orgId('east-coast-tsh') })
    .execute()
})
after(() => close())

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const orgId = async (code: string) =>
  (await services.db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id
const userId = async (email: string) =>
  (await services.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id
const enrolmentOf = async (email: string, course: string) =>
  (
    await services.db
      .selectFrom('enrolments as e')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .select('e.id')
      .where('p.email', '=', email)
      .where('e.course_identifier', '=', course)
      .executeTakeFirstOrThrow()
  ).id
const enrolmentsAt = async (partner: string, course: string) =>
  (
    await services.db
      .selectFrom('enrolments as e')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .select(['e.id', 'p.full_name', 'p.email'])
      .where('e.delivery_partner_id', '=', await orgId(partner))
      .where('e.course_identifier', '=', course)
      .orderBy('p.full_name')
      .execute()
  ).map((r) => r)
const staff = [
  'delivery-partner-lead@demo.test',
  'facilitator@demo.test',
  'lead-provider-admin@demo.test',
  'line-manager@demo.test',
  'ucl-participant@demo.test',
]

test('a learning audit: every domain rated, movement shown between audits, and only the participant can take or see it', async () => {
  const priya = await as('participant@demo.test')
  const npqh = await enrolmentOf('participant@demo.test', 'npq-headship')
  const form = await priya.get(`/participant/learning-audit/${npqh}/new`)
  assert.equal(form.statusCode, 200)
  assert.match(form.body, /Governance and accountability/)

  const missing = await priya.post(
    `/participant/learning-audit/${npqh}`,
    { 'rating-school-culture': '2' },
    { csrfFrom: `/participant/learning-audit/${npqh}/new` },
  )
  assert.equal(missing.statusCode, 400)
  assert.match(missing.body, /govuk-error-summary/)
  assert.match(missing.body, /href="#rating-teaching">Select how confident you are in teaching/)

  const all = (n: string, culture: string) => ({
    'rating-school-culture': culture,
    'rating-teaching': n,
    'rating-curriculum-and-assessment': n,
    'rating-behaviour': n,
    'rating-additional-and-special-educational-needs-and-disabilities': n,
    'rating-professional-development': n,
    'rating-organisational-management': n,
    'rating-implementation': n,
    'rating-working-in-partnership': n,
    'rating-governance-and-accountability': n,
  })
  const bad = await priya.post(`/participant/learning-audit/${npqh}`, all('7', '2'), {
    csrfFrom: `/participant/learning-audit/${npqh}/new`,
  })
  assert.equal(bad.statusCode, 400)
  assert.equal(
    (await priya.post(`/participant/learning-audit/${npqh}`, all('3', '2'), { csrfFrom: `/participant/learning-audit/${npqh}/new` }))
      .statusCode,
    303,
  )
  assert.equal(
    (await priya.post(`/participant/learning-audit/${npqh}`, all('3', '4'), { csrfFrom: `/participant/learning-audit/${npqh}/new` }))
      .statusCode,
    303,
  )
  const page = (await priya.get('/participant/learning-audit')).body
  assert.match(page, /School culture<\/th>\s*<td[^>]*>2<\/td>\s*<td[^>]*>4<\/td>\s*<td[^>]*>Up 2<\/td>/)
  assert.match(page, /Teaching<\/th>\s*<td[^>]*>3<\/td>\s*<td[^>]*>3<\/td>\s*<td[^>]*>No change<\/td>/)

  // The audit log says one was taken, without the ratings.
  const audits = await services.db.selectFrom('audit_events').select(['after']).where('action', '=', 'learning-audit.taken').execute()
  assert.equal(audits.length, 2)
  assert.doesNotMatch(JSON.stringify(audits), /school-culture/)

  for (const email of staff) {
    const other = await as(email)
    assert.equal((await other.get(`/participant/learning-audit/${npqh}/new`)).statusCode, 404, email)
    assert.doesNotMatch((await other.get('/participant/learning-audit')).body, /Up 2/, email)
  }
})

test('the journal is private: only the participant who wrote an entry can read or change it', async () => {
  const priya = await as('participant@demo.test')
  const empty = await priya.post(
    '/participant/journal',
    { 'entryOn-day': '31', 'entryOn-month': '2', 'entryOn-year': '2025', title: '', body: '' },
    { csrfFrom: '/participant/journal/new' },
  )
  assert.equal(empty.statusCode, 400)
  assert.match(empty.body, /href="#entryOn-day"/)
  assert.match(empty.body, /Enter a title/)
  assert.match(empty.body, /Enter your reflection/)

  const npqh = await enrolmentOf('participant@demo.test', 'npq-headship')
  const saved = await priya.post(
    '/participant/journal',
    {
      'entryOn-day': '3',
      'entryOn-month': '11',
      'entryOn-year': '2025',
      title: 'After clinic 1',
      body: 'My **private** thoughts on feedback',
      topic: `${npqh}|1`,
    },
    { csrfFrom: '/participant/journal/new' },
  )
  assert.equal(saved.statusCode, 303)
  const list = (await priya.get('/participant/journal')).body
  assert.match(list, /<strong>private<\/strong> thoughts/)
  assert.ok(list.includes('NPQ for Headship · Block 1'), 'the entry shows its course and block')
  const entry = await services.db.selectFrom('journal_entries').select('id').where('title', '=', 'After clinic 1').executeTakeFirstOrThrow()

  // A course that is not hers is refused.
  const sams = await enrolmentOf('ucl-participant@demo.test', 'npq-leading-behaviour-culture')
  const notHers = await priya.post(
    `/participant/journal/${entry.id}`,
    { 'entryOn-day': '3', 'entryOn-month': '11', 'entryOn-year': '2025', title: 'x', body: 'y', topic: sams },
    { csrfFrom: `/participant/journal/${entry.id}` },
  )
  assert.equal(notHers.statusCode, 400)

  for (const email of staff) {
    const other = await as(email)
    assert.equal((await other.get(`/participant/journal/${entry.id}`)).statusCode, 404, email)
    assert.doesNotMatch((await other.get('/participant/journal')).body, /thoughts on feedback/, email)
    const edit = await other.post(
      `/participant/journal/${entry.id}`,
      { 'entryOn-day': '3', 'entryOn-month': '11', 'entryOn-year': '2025', title: 'Hacked', body: 'x' },
      { csrfFrom: '/participant/journal/new' },
    )
    assert.equal(edit.statusCode, 404, email)
  }
  const still = await services.db
    .selectFrom('journal_entries')
    .select(['title', 'body'])
    .where('id', '=', entry.id)
    .executeTakeFirstOrThrow()
  assert.equal(still.title, 'After clinic 1')
  const logged = await services.db.selectFrom('audit_events').select(['after']).where('entity_id', '=', entry.id).execute()
  assert.equal(logged.length, 1)
  assert.doesNotMatch(JSON.stringify(logged), /thoughts/)
})

test('buddies are pairs or threes; a lead groups only their own participants', async () => {
  const dan = await as('delivery-partner-lead@demo.test')
  const lt = await enrolmentsAt('north-star-tsh', 'npq-leading-teaching')
  const create = async (members: string[], name = 'LT buddies', kind = 'buddies', course = 'npq-leading-teaching|2022-autumn') => {
    // Checkboxes post one field per ticked box, which the agent's record of fields cannot express.
    const csrf = csrfToken((await dan.get('/delivery-partner/people/groups/new')).body)
    const form = new URLSearchParams({ _csrf: csrf, kind, name, course })
    for (const m of members) form.append('members', m)
    return app.inject({
      method: 'POST',
      url: '/delivery-partner/people/groups',
      payload: form.toString(),
      headers: { cookie: dan.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
    })
  }

  const one = await create([lt[0]!.id])
  assert.equal(one.statusCode, 400)
  assert.match(one.body, /href="#members">Buddies work in pairs or threes: select 2 or 3 participants/)
  const sl = await enrolmentsAt('east-coast-tsh', 'npq-senior-leadership')
  const notOurs = await create([lt[0]!.id, sl[0]!.id])
  assert.equal(notOurs.statusCode, 400)
  assert.match(notOurs.body, /Select participants from your own delivery partner/)
  const wrongCourse = await create([lt[0]!.id, await enrolmentOf('participant@demo.test', 'npq-headship')])
  assert.equal(wrongCourse.statusCode, 400)

  assert.equal((await create([lt[0]!.id, lt[1]!.id])).statusCode, 303)
  const group = await services.db.selectFrom('people_groups').select('id').where('name', '=', 'LT buddies').executeTakeFirstOrThrow()
  const page = `/delivery-partner/people/groups/${group.id}`
  // Someone with buddies cannot be in a second buddy group.
  const twice = await create([lt[1]!.id, lt[2]!.id], 'LT buddies 2')
  assert.equal(twice.statusCode, 400)
  assert.match(twice.body, /already has buddies/)

  // A third joins; nobody can be removed from a pair; a fourth cannot join a three.
  assert.equal((await dan.post(`${page}/members`, { member: lt[2]!.id }, { csrfFrom: page })).statusCode, 303)
  const fourthPerson = await services.db
    .insertInto('participants')
    .values({ id: crypto.randomUUID(), full_name: 'Fourth Person', email: 'fourth@schools.demo.test', trn: '3999999' })
    .returning('id')
    .executeTakeFirstOrThrow()
  const fourth = await services.db
    .insertInto('enrolments')
    .values({
      participant_id: fourthPerson.id,
      lead_provider_id: await orgId('edt'),
      delivery_partner_id: await orgId('north-star-tsh'),
      course_identifier: 'npq-leading-teaching',
      cohort: '2022-autumn',
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  const full = await dan.post(`${page}/members`, { member: fourth.id }, { csrfFrom: page })
  assert.equal(full.statusCode, 400)
  assert.match(full.body, /cannot have more than 3 people/)
  assert.equal((await dan.post(`${page}/members`, { remove: lt[2]!.id }, { csrfFrom: page })).statusCode, 303)
  const alone = await dan.post(`${page}/members`, { remove: lt[1]!.id }, { csrfFrom: page })
  assert.equal(alone.statusCode, 400)
  assert.match(alone.body, /add someone else before removing/)
  assert.equal(
    (await services.db.selectFrom('people_group_members').select('enrolment_id').where('group_id', '=', group.id).execute()).length,
    2,
  )

  // Clinic groups have no size limit; the other partner's lead cannot see or change ours.
  const erin = await as('east-lead@demo.test')
  assert.equal((await erin.get(page)).statusCode, 404)
  assert.doesNotMatch((await erin.get('/delivery-partner/people')).body, /LT buddies|NPQH buddies/)
  assert.equal((await erin.post(`${page}/members`, { member: sl[0]!.id }, { csrfFrom: '/delivery-partner/people' })).statusCode, 404)
  assert.equal((await (await as('participant@demo.test')).get('/delivery-partner/people')).statusCode, 403)

  // The demo's buddies and clinic group show on Priya's page, with how to reach her buddy.
  const priyaPage = (await (await as('participant@demo.test')).get('/participant/people')).body
  assert.match(priyaPage, /Buddies: NPQH buddies 1/)
  assert.match(priyaPage, /Clinic group: NPQH clinic group A/)
  assert.match(priyaPage, /mailto:[^"]+@schools\.demo\.test/)
  assert.match(priyaPage, /Fatima Hussain/) // her delivery partner group's facilitator
  assert.equal((await (await as('participant@demo.test')).get('/participant/contacts')).headers.location, '/participant/people#contacts')
})

test('contacts: the lead provider sets its contacts (validated); the participant sees them with their named partner contact', async () => {
  const laura = await as('lead-provider-admin@demo.test')
  const bad = await laura.post('/lead-provider/contacts', {
    form: 'contacts',
    programmeName: '',
    programmeEmail: 'nope',
    technicalName: 'Help',
    technicalEmail: 'help@edt.demo.test',
    technicalPhone: 'call me',
  })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.body, /href="#programmeName"/)
  assert.match(bad.body, /href="#programmeEmail"/)
  assert.match(bad.body, /href="#technicalPhone"/)
  const ok = await laura.post('/lead-provider/contacts', {
    form: 'contacts',
    programmeName: 'Programme team',
    programmeEmail: 'Programme@EDT.demo.test',
    programmePhone: '',
    technicalName: 'Help desk',
    technicalEmail: 'help@edt.demo.test',
    technicalPhone: '0118 000 0000',
  })
  assert.equal(ok.statusCode, 303)
  const priya = (await (await as('participant@demo.test')).get('/participant/people')).body
  assert.match(priya, /Programme team/)
  assert.match(priya, /programme@edt\.demo\.test/)
  assert.match(priya, /Help desk/)
  assert.match(priya, /Dan Okafor/)
  assert.equal((await (await as('delivery-partner-lead@demo.test')).get('/lead-provider/contacts')).statusCode, 403)

  // A partner's lead can name only their own team as contact or DSL.
  const erin = await as('east-lead@demo.test')
  const notTeam = await erin.post('/delivery-partner/people/contacts', {
    form: 'dsl',
    dsl: await userId('delivery-partner-lead@demo.test'),
  })
  assert.equal(notTeam.statusCode, 400)
  assert.match(notTeam.body, /href="#dsl">Select people from your own team/)
  const notTeamContact = await erin.post('/delivery-partner/people/contacts', {
    form: 'contact',
    course: '',
    contact: await userId('facilitator@demo.test'),
  })
  assert.equal(notTeamContact.statusCode, 400)
  assert.match(notTeamContact.body, /href="#contact-all">Select someone from your own team/)
  assert.match(notTeamContact.body, /id="contact-all"/)
})

test('a safeguarding concern: validated, emailed to the DSL without its text, read only by the DSL', async () => {
  const priya = await as('participant@demo.test')
  const empty = await priya.post(
    '/participant/safeguarding',
    { concern: '', contactBy: 'phone', phone: 'x' },
    { csrfFrom: '/participant/safeguarding/new' },
  )
  assert.equal(empty.statusCode, 400)
  assert.match(empty.body, /href="#concern">Enter your concern/)
  assert.match(empty.body, /href="#immediateRisk"/)
  assert.match(empty.body, /href="#phone"/)

  const secret = 'A pupil told me something worrying about home'
  const sent = await priya.post(
    '/participant/safeguarding',
    { concern: secret, immediateRisk: 'no', contactBy: 'email' },
    { csrfFrom: '/participant/safeguarding/new' },
  )
  assert.equal(sent.statusCode, 303)
  const concern = await services.db.selectFrom('safeguarding_concerns').select(['id', 'concern']).executeTakeFirstOrThrow()
  assert.equal(concern.concern, secret)

  const emails = await services.db
    .selectFrom('email_outbox')
    .select(['to_address', 'subject', 'body'])
    .where('subject', 'like', '%safeguarding concern%')
    .execute()
  const toDsl = emails.find((e) => e.to_address === 'delivery-partner-lead@demo.test')
  assert.ok(toDsl, 'the DSL is emailed')
  assert.match(toDsl.body, new RegExp(`/safeguarding/concerns/${concern.id}`))
  assert.ok(
    emails.some((e) => e.to_address === 'participant@demo.test'),
    'the participant gets a confirmation',
  )
  for (const e of emails) assert.doesNotMatch(e.body + e.subject, /pupil|worrying/)
  const audit = await services.db.selectFrom('audit_events').select(['after', 'before']).where('entity_id', '=', concern.id).execute()
  assert.equal(audit.length, 1)
  assert.doesNotMatch(JSON.stringify(audit), /pupil/)

  // The DSL reads it and closes it (with what was done).
  const dan = await as('delivery-partner-lead@demo.test')
  assert.match((await dan.get('/safeguarding/concerns')).body, /Priya Patel/)
  assert.match((await dan.get(`/safeguarding/concerns/${concern.id}`)).body, new RegExp(secret))
  const noOutcome = await dan.post(`/safeguarding/concerns/${concern.id}`, { step: 'close', outcome: '' })
  assert.equal(noOutcome.statusCode, 400)
  assert.equal(
    (await dan.post(`/safeguarding/concerns/${concern.id}`, { step: 'close', outcome: 'Referred to the school DSL.' })).statusCode,
    303,
  )
  assert.equal((await services.db.selectFrom('safeguarding_concerns').select('status').executeTakeFirstOrThrow()).status, 'closed')

  // Nobody else: not the facilitator, the lead provider's admin, the other partner's lead, nor Priya.
  for (const email of [
    'facilitator@demo.test',
    'lead-provider-admin@demo.test',
    'east-lead@demo.test',
    'participant@demo.test',
    'ucl-participant@demo.test',
  ]) {
    const other = await as(email)
    assert.equal((await other.get('/safeguarding/concerns')).statusCode, 403, email)
    const read = await other.get(`/safeguarding/concerns/${concern.id}`)
    assert.equal(read.statusCode, 404, email)
    assert.doesNotMatch(read.body, /pupil/)
  }
  assert.equal((await (await as('facilitator@demo.test')).get('/facilitator/safeguarding')).statusCode, 403)
  assert.match((await dan.get('/delivery-partner/safeguarding')).body, /Priya Patel/)

  // Once the lead provider's admin names herself its DSL, she reads the concerns raised with EDT too.
  const laura = await as('lead-provider-admin@demo.test')
  assert.equal(
    (await laura.post('/lead-provider/contacts', { form: 'dsl', dsl: await userId('lead-provider-admin@demo.test') })).statusCode,
    303,
  )
  assert.match((await laura.get('/lead-provider/safeguarding')).body, /Priya Patel/)
  assert.match((await laura.get(`/safeguarding/concerns/${concern.id}`)).body, new RegExp(secret))
  // A new concern now goes to both DSLs.
  await priya.post(
    '/participant/safeguarding',
    { concern: 'Second concern', immediateRisk: 'yes', contactBy: 'email' },
    { csrfFrom: '/participant/safeguarding/new' },
  )
  const urgent = await services.db
    .selectFrom('email_outbox')
    .select('to_address')
    .where('subject', '=', 'Urgent: a safeguarding concern has been raised')
    .execute()
  assert.deepEqual(urgent.map((e) => e.to_address).sort(), ['delivery-partner-lead@demo.test', 'lead-provider-admin@demo.test'])
})

test('facilitators’ records: what each runs and QA observations, only for their own partner', async () => {
  const dan = await as('delivery-partner-lead@demo.test')
  const fatima = await userId('facilitator@demo.test')
  const list = (await dan.get('/delivery-partner/facilitators')).body
  assert.match(list, /Fatima Hussain/)
  const record = (await dan.get(`/delivery-partner/facilitators/${fatima}`)).body
  assert.match(record, /Clear modelling of the Apply task/)
  const url = `/delivery-partner/facilitators/${fatima}/observations`
  const bad = await dan.post(
    url,
    {
      'observedOn-day': '1',
      'observedOn-month': '1',
      'observedOn-year': '2099',
      observer: '',
      strengths: '',
      areasToDevelop: '',
      rating: 'superb',
    },
    { csrfFrom: `${url}/new` },
  )
  assert.equal(bad.statusCode, 400)
  for (const field of ['observedOn-day', 'session', 'observer', 'strengths', 'areasToDevelop', 'rating'])
    assert.match(bad.body, new RegExp(`href="#${field}"`), field)
  const ok = await dan.post(
    url,
    {
      'observedOn-day': '2',
      'observedOn-month': '10',
      'observedOn-year': '2025',
      session: 'PLG 2',
      observer: 'Dan Okafor',
      strengths: 'Warm and well paced',
      areasToDevelop: 'Check understanding',
      rating: 'excellent',
    },
    { csrfFrom: `${url}/new` },
  )
  assert.equal(ok.statusCode, 303)
  assert.match((await dan.get(`/delivery-partner/facilitators/${fatima}`)).body, /Warm and well paced/)

  const erin = await as('east-lead@demo.test')
  assert.doesNotMatch((await erin.get('/delivery-partner/facilitators')).body, /Fatima Hussain/)
  assert.equal((await erin.get(`/delivery-partner/facilitators/${fatima}`)).statusCode, 404)
  assert.equal((await erin.post(url, { observer: 'x' }, { csrfFrom: '/delivery-partner/facilitators' })).statusCode, 404)
  assert.equal((await (await as('facilitator@demo.test')).get(`/delivery-partner/facilitators/${fatima}`)).statusCode, 403)
})
