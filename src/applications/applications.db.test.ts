import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { ImportError, importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import { systemPrincipal } from '../test-support/fixtures.ts'
import type { TestServices } from '../test-support/services.ts'
import { runFormDeadlines, sendNewApplicationForms, storeDfeApplications, type ApplicationDeps } from './applications.ts'
import { addDays } from './deadlines.ts'

// Applications end to end without a browser: a CSV upload, DfE's pull, the form and its deadlines,
// the endorsement link, and the decision (enrolment, auto-rejection, DfE requests).

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
let deps: ApplicationDeps
let edt: { id: string; code: string }
before(async () => {
  ;({ services, app, close } = await startDemoApp())
  deps = { email: services.email, config: services.config, catalogue: services.catalogue }
  const lp = await services.db
    .selectFrom('organisations')
    .select('id')
    .where('kind', '=', 'lead-provider')
    .where('code', '=', 'edt')
    .executeTakeFirstOrThrow()
  edt = { id: lp.id, code: 'edt' }
})
after(() => close())

const admin = async () => {
  const agent = new Agent(app)
  await agent.signIn('lead-provider-admin@demo.test', demoPassword)
  return agent
}
const header =
  'lead_provider,trn,full_name,email,course_identifier,dfe_application_id,cohort,school_urn,establishment,in_england,pupil_premium_uplift'
const importCsv = (text: string) => importFile(services, importers.applications!, text, systemPrincipal, { leadProvider: edt })
const applicationOf = (trn: string, course = 'npq-headship') =>
  services.db
    .selectFrom('applications')
    .selectAll()
    .where('trn', '=', trn)
    .where('course_identifier', '=', course)
    .orderBy('received_at')
    .orderBy('id')
    .execute()
const lastEmailTo = (to: string) =>
  services.db
    .selectFrom('email_outbox')
    .select(['subject', 'body'])
    .where('to_address', '=', to)
    .orderBy('created_at', 'desc')
    .executeTakeFirst()
const linkIn = (body: string, path: string) => new RegExp(`${path}/([A-Za-z0-9_-]+)`).exec(body)?.[1] ?? assert.fail(`no ${path} link`)

test('a CSV upload: a TRN that is not 7 digits is refused by line and column, nothing is stored; a good file twice changes nothing the second time', async () => {
  const bad = `${header}\nedt,7100001,Amy Adams,amy@school.example,npq-headship,,2024,100001,state-school,yes,no\nedt,71002,Ben Brown,ben@school.example,npq-headship,,2024,,,,\n`
  await assert.rejects(importCsv(bad), (error: unknown) => {
    assert.ok(error instanceof ImportError)
    assert.deepEqual(
      error.problems.map((p) => [p.line, p.column, p.columnName, p.message]),
      [[3, 2, 'trn', 'must be 7 digits (the teacher reference number)']],
    )
    return true
  })
  assert.equal((await applicationOf('7100001')).length, 0)

  const good = `${header}\nedt,7100001,Amy Adams,amy@school.example,npq-headship,,2024,100001,state-school,yes,yes\nedt,7100002,Ben Brown,Ben@School.example,npq-leading-teaching,,,,,,\n`
  assert.deepEqual(await importCsv(good), { kind: 'applications', rows: 2, created: 2, updated: 0, unchanged: 0 })
  assert.deepEqual(await importCsv(good), { kind: 'applications', rows: 2, created: 0, updated: 0, unchanged: 2 })
  const [amy] = await applicationOf('7100001')
  assert.equal(amy!.status, 'applied')
  assert.equal(amy!.pupil_premium_uplift, true)
  assert.equal((await applicationOf('7100002', 'npq-leading-teaching'))[0]!.email, 'ben@school.example')
})

test('DfE’s pull stores applications with DfE’s ids; a second pull updates them', async () => {
  const item = (status: string) => ({
    id: 'd0b4a32e-a272-489e-b30a-cb17131457fc',
    type: 'npq_application',
    attributes: {
      course_identifier: 'npq-senior-leadership',
      email: 'isabelle.macdonald2@some-school.example.com',
      full_name: 'Isabelle MacDonald',
      funding_choice: 'school',
      headteacher_status: 'no',
      participant_id: '7a8fef46-3c43-42c0-b3d5-1ba5904ba562',
      teacher_reference_number: '1234568',
      school_urn: '106286',
      status,
      cohort: '2024',
      eligible_for_funding: true,
      targeted_delivery_funding_eligibility: true,
      teacher_catchment: true,
      teacher_catchment_iso_country_code: 'GBR',
    },
  })
  const store = (status: string) =>
    services.db.transaction().execute((trx) => storeDfeApplications(trx, edt.id, [item(status), { id: 'x' }], systemPrincipal))
  assert.deepEqual(await store('pending'), { created: 1, updated: 0, skipped: 1 })
  assert.deepEqual(await store('pending'), { created: 0, updated: 1, skipped: 1 })
  const [stored] = await applicationOf('1234568', 'npq-senior-leadership')
  assert.equal(stored!.dfe_application_id, 'd0b4a32e-a272-489e-b30a-cb17131457fc')
  assert.equal(stored!.establishment, 'state-school')
  assert.equal(stored!.in_england, true)
  assert.equal(stored!.status, 'applied')
})

test('the form: sent by email, reminder on day 3, expiry after day 5, and an admin’s extension', async () => {
  await importCsv(
    `${header}\nedt,7200001,Cara Clark,cara@school.example,npq-leading-literacy,,2024,,,,\nedt,7200002,Dev Das,dev@school.example,npq-leading-literacy,,2024,,,,\n`,
  )
  const [cara] = await applicationOf('7200001', 'npq-leading-literacy')
  const [dev] = await applicationOf('7200002', 'npq-leading-literacy')
  const agent = await admin()
  for (const a of [cara!, dev!]) {
    const sent = await agent.post(`/lead-provider/applications/${a.id}/send-form`, {}, { csrfFrom: `/lead-provider/applications/${a.id}` })
    assert.equal(sent.statusCode, 303)
  }
  assert.match((await lastEmailTo('cara@school.example'))!.body, /\/application-form\/[A-Za-z0-9_-]+/)
  const today = londonDateOf(new Date())
  assert.equal((await applicationOf('7200001', 'npq-leading-literacy'))[0]!.form_due_on, addDays(today, 5))

  // The demo's own open form (sent today too) would be counted as well: take it out of the way.
  await services.db
    .updateTable('applications')
    .set({ form_returned_at: new Date() })
    .where('trn', 'not in', ['7200001', '7200002'])
    .where('form_sent_on', 'is not', null)
    .where('form_returned_at', 'is', null)
    .execute()
  const onDay = (n: number) => runFormDeadlines(services.db, deps, addDays(today, n))
  assert.deepEqual(await onDay(2), { reminded: 0, expired: 0 })
  assert.deepEqual(await onDay(3), { reminded: 2, expired: 0 })
  assert.match((await lastEmailTo('dev@school.example'))!.subject, /^Reminder/)
  assert.deepEqual(await onDay(4), { reminded: 0, expired: 0 })
  assert.deepEqual(await onDay(5), { reminded: 0, expired: 0 })

  // Dev gets 3 more days; the extension is recorded with who gave it.
  const extended = await agent.post(
    `/lead-provider/applications/${dev!.id}/extend`,
    { days: '3' },
    { csrfFrom: `/lead-provider/applications/${dev!.id}` },
  )
  assert.equal(extended.statusCode, 303)
  assert.deepEqual(await onDay(6), { reminded: 0, expired: 1 })
  assert.equal((await applicationOf('7200001', 'npq-leading-literacy'))[0]!.status, 'expired')
  const devNow = (await applicationOf('7200002', 'npq-leading-literacy'))[0]!
  assert.equal(devNow.status, 'applied')
  assert.equal(devNow.form_due_on, addDays(today, 8))
  assert.ok(devNow.form_extended_by)
  assert.deepEqual(await onDay(9), { reminded: 0, expired: 1 })

  // An expired application cannot be accepted: the page says why and nothing changes.
  const page = `/lead-provider/applications/${cara!.id}`
  const partner = await services.db.selectFrom('organisations').select('id').where('code', '=', 'north-star-tsh').executeTakeFirstOrThrow()
  const refused = await agent.post(`${page}/accept`, { deliveryPartner: partner.id, cohort: '2024-autumn' }, { csrfFrom: page })
  assert.equal(refused.statusCode, 400)
  assert.match(refused.body, /This application expired: its form was not returned by/)
  assert.equal((await applicationOf('7200001', 'npq-leading-literacy'))[0]!.status, 'expired')
})

test('the endorsement link: the form names the endorser, who endorses once; a used or expired link is refused', async () => {
  await importCsv(`${header}\nedt,7300001,Eve Evans,eve@school.example,npq-headship,,2024,,,,\n`)
  const [eve] = await applicationOf('7300001')
  const agent = await admin()
  await agent.post(`/lead-provider/applications/${eve!.id}/send-form`, {}, { csrfFrom: `/lead-provider/applications/${eve!.id}` })
  const formToken = linkIn((await lastEmailTo('eve@school.example'))!.body, '/application-form')

  const applicant = new Agent(app)
  const form = await applicant.get(`/application-form/${formToken}`)
  assert.equal(form.statusCode, 200)
  assert.match(form.body, /Name of your direct line manager/) // NPQH: the line manager endorses
  const missing = await applicant.post(`/application-form/${formToken}`, { endorser_name: '', endorser_email: 'nope' })
  assert.equal(missing.statusCode, 400)
  assert.match(missing.body, /Enter the name of the person who will endorse your application/)
  const returned = await applicant.post(`/application-form/${formToken}`, {
    endorser_name: 'Frank Ford',
    endorser_email: 'Frank@School.example',
  })
  assert.equal(returned.statusCode, 200)
  assert.match(returned.body, /Application form returned/)
  const again = await applicant.get(`/application-form/${formToken}`)
  assert.equal(again.statusCode, 410)
  assert.match(again.body, /already been used/)

  const endorseToken = linkIn((await lastEmailTo('frank@school.example'))!.body, '/endorse')
  const school = new Agent(app)
  assert.match((await school.get(`/endorse/${endorseToken}`)).body, /Eve Evans has applied for the NPQ for Headship/)
  const endorsed = await school.post(`/endorse/${endorseToken}`, { name: 'Frank Ford' })
  assert.equal(endorsed.statusCode, 200)
  const after = (await applicationOf('7300001'))[0]!
  assert.equal(after.endorsed_by_name, 'Frank Ford')
  assert.equal(after.endorsed_by_email, 'frank@school.example')
  assert.ok(after.endorsed_at)
  // Returned and endorsed: nothing stands in the way of accepting.
  assert.doesNotMatch((await agent.get(`/lead-provider/applications/${eve!.id}`)).body, /Not ready to accept/)

  const twice = await school.post(`/endorse/${endorseToken}`, { name: 'Someone Else' }, { csrfFrom: '/sign-in' })
  assert.equal(twice.statusCode, 410)
  assert.match(twice.body, /This link has already been used/)
  assert.equal((await applicationOf('7300001'))[0]!.endorsed_by_name, 'Frank Ford')

  // A link past its time: refused, nothing recorded.
  await applicant.post(`/application-form/${formToken}`, {}, { csrfFrom: '/sign-in' })
  await importCsv(`${header}\nedt,7300002,Gil Green,gil@school.example,npq-leading-teaching,,2024,,,,\n`)
  const [gil] = await applicationOf('7300002', 'npq-leading-teaching')
  await agent.post(`/lead-provider/applications/${gil!.id}/send-form`, {}, { csrfFrom: `/lead-provider/applications/${gil!.id}` })
  const gilForm = linkIn((await lastEmailTo('gil@school.example'))!.body, '/application-form')
  await new Agent(app).post(`/application-form/${gilForm}`, { endorser_name: 'Hana Hill', endorser_email: 'hana@school.example' })
  const gilEndorse = linkIn((await lastEmailTo('hana@school.example'))!.body, '/endorse')
  await services.db
    .updateTable('one_time_links')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .where('purpose', '=', 'application-endorsement')
    .where('subject_id', '=', gil!.id)
    .execute()
  const expired = await new Agent(app).post(`/endorse/${gilEndorse}`, { name: 'Hana Hill' }, { csrfFrom: '/sign-in' })
  assert.equal(expired.statusCode, 410)
  assert.match(expired.body, /This link has expired/)
  assert.equal((await applicationOf('7300002', 'npq-leading-teaching'))[0]!.endorsed_at, null)
})

test('accepting: a partner and cohort are required; it enrols the person, rejects their other applications for the course and cohort, and queues DfE’s accept', async () => {
  await importCsv(
    `${header}\n` +
      `edt,7400001,Ivy Irwin,ivy@school.example,npq-headship,11111111-2222-4333-8444-555555555555,2024,100001,state-school,yes,no\n` +
      `edt,7400001,Ivy Irwin,ivy@school.example,npq-headship,66666666-7777-4888-8999-000000000000,,,,,\n` +
      `edt,7400001,Ivy Irwin,ivy@school.example,npq-headship,,2023,,,,\n`,
  )
  const [first, second, other] = await applicationOf('7400001')
  const agent = await admin()
  const page = `/lead-provider/applications/${first!.id}`
  const view = await agent.get(page)
  assert.equal(view.statusCode, 200)
  assert.match(view.body, /DfE funding/)
  assert.match(view.body, /Works in a state-funded school in England/)

  const none = await agent.post(`${page}/accept`, { deliveryPartner: '', cohort: '' }, { csrfFrom: page })
  assert.equal(none.statusCode, 400)
  assert.match(none.body, /Select a delivery partner/)
  assert.match(none.body, /Select a cohort/)
  assert.equal((await applicationOf('7400001'))[0]!.status, 'applied')

  const partner = await services.db.selectFrom('organisations').select('id').where('code', '=', 'north-star-tsh').executeTakeFirstOrThrow()
  // No form returned and no endorsement: refused unless the admin says why they accept all the same.
  assert.match(view.body, /Not ready to accept: The applicant has not returned the application form/)
  const unready = await agent.post(
    `${page}/accept`,
    { deliveryPartner: partner.id, cohort: '2024-autumn', schedule: '' },
    { csrfFrom: page },
  )
  assert.equal(unready.statusCode, 400)
  assert.match(unready.body, /The applicant has not returned the application form. To accept all the same, give your reason/)
  assert.equal((await applicationOf('7400001'))[0]!.status, 'applied')
  const accepted = await agent.post(
    `${page}/accept`,
    { deliveryPartner: partner.id, cohort: '2024-autumn', schedule: '', override: 'Form and endorsement received on paper' },
    { csrfFrom: page },
  )
  assert.equal(accepted.statusCode, 303)
  const audit = await services.db
    .selectFrom('audit_events')
    .select('after')
    .where('action', '=', 'application.accepted')
    .where('entity_id', '=', first!.id)
    .executeTakeFirstOrThrow()
  assert.equal((audit.after as { override_reason: string }).override_reason, 'Form and endorsement received on paper')
  const a = (await services.db.selectFrom('applications').selectAll().where('id', '=', first!.id).executeTakeFirstOrThrow())!
  assert.equal(a.status, 'accepted')
  assert.equal(a.schedule_identifier, 'npq-leadership-autumn')
  const enrolment = await services.db.selectFrom('enrolments').selectAll().where('id', '=', a.enrolment_id!).executeTakeFirstOrThrow()
  assert.equal(enrolment.status, 'accepted')
  assert.equal(enrolment.cohort, '2024-autumn')
  assert.equal(enrolment.delivery_partner_id, partner.id)
  // Placed in the partner's group for the course and cohort.
  const group = await services.db
    .selectFrom('group_memberships as m')
    .innerJoin('participant_groups as g', 'g.id', 'm.group_id')
    .select(['g.delivery_partner_id', 'g.cohort', 'g.course_identifier'])
    .where('m.enrolment_id', '=', enrolment.id)
    .executeTakeFirstOrThrow()
  assert.deepEqual(group, { delivery_partner_id: partner.id, cohort: '2024-autumn', course_identifier: 'npq-headship' })
  const participant = await services.db
    .selectFrom('participants')
    .selectAll()
    .where('id', '=', enrolment.participant_id)
    .executeTakeFirstOrThrow()
  assert.equal(participant.trn, '7400001')
  const transitions = await services.db.selectFrom('enrolment_transitions').selectAll().where('enrolment_id', '=', enrolment.id).execute()
  assert.deepEqual(
    transitions.map((t) => [t.from_status, t.to_status]),
    [[null, 'accepted']],
  )
  // Same course and cohort (no DfE cohort counts as the chosen one's year): rejected; 2023: left alone.
  const statuses = await services.db
    .selectFrom('applications')
    .select(['id', 'status', 'reason_for_rejection'])
    .where('trn', '=', '7400001')
    .execute()
  assert.equal(statuses.find((s) => s.id === second!.id)!.status, 'rejected')
  assert.match(
    statuses.find((s) => s.id === second!.id)!.reason_for_rejection!,
    /Another application for this course and cohort was accepted/,
  )
  assert.equal(statuses.find((s) => s.id === other!.id)!.status, 'applied')

  const requests = await services.db
    .selectFrom('dfe_requests')
    .selectAll()
    .where('subject_id', '=', first!.id)
    .where('kind', '=', 'accept-application')
    .execute()
  assert.equal(requests.length, 1)
  assert.equal(requests[0]!.kind, 'accept-application')
  assert.equal(requests[0]!.path, '/npq-applications/11111111-2222-4333-8444-555555555555/accept')
  assert.deepEqual(requests[0]!.body, {
    data: { type: 'npq-application-accept', attributes: { funded_place: false, schedule_identifier: 'npq-leadership-autumn' } },
  })
  assert.equal(requests[0]!.participant_id, participant.id)

  assert.equal(a.funded_place, false, 'DfE did not say eligible for funding')

  // The funded place: true only where DfE says eligible; a change is queued for DfE.
  const notEligible = await agent.post(`${page}/funded-place`, { funded_place: 'yes' }, { csrfFrom: page })
  assert.equal(notEligible.statusCode, 400)
  assert.match(notEligible.body, /DfE says this applicant is not eligible for funding/)
  await services.db.updateTable('applications').set({ eligible_for_funding: true }).where('id', '=', first!.id).execute()
  const funded = await agent.post(`${page}/funded-place`, { funded_place: 'yes' }, { csrfFrom: page })
  assert.equal(funded.statusCode, 303)
  const fundedRow = await services.db
    .selectFrom('applications')
    .select('funded_place')
    .where('id', '=', first!.id)
    .executeTakeFirstOrThrow()
  assert.equal(fundedRow.funded_place, true)
  const change = await services.db
    .selectFrom('dfe_requests')
    .selectAll()
    .where('subject_id', '=', first!.id)
    .where('kind', '=', 'change-funded-place')
    .executeTakeFirstOrThrow()
  assert.equal(change.path, '/npq-applications/11111111-2222-4333-8444-555555555555/change-funded-place')
  assert.deepEqual(change.body, { data: { type: 'npq-application-change-funded-place', attributes: { funded_place: true } } })
  const again = await agent.post(`${page}/funded-place`, { funded_place: 'yes' }, { csrfFrom: page })
  assert.match(again.body, /The place is already funded by DfE/)

  // Accepted, or rejected: no second decision.
  const twice = await agent.post(`${page}/accept`, { deliveryPartner: partner.id, cohort: '2024-autumn' }, { csrfFrom: page })
  assert.equal(twice.statusCode, 400)
  assert.match(twice.body, /This application is already accepted/)
  assert.equal((await services.db.selectFrom('enrolments').select('id').where('participant_id', '=', participant.id).execute()).length, 1)
})

test('rejecting: a reason is required; the rejection is queued for DfE; a rejected application cannot be accepted', async () => {
  await importCsv(`${header}\nedt,7500001,Jo Jones,jo@school.example,npq-leading-teaching,aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee,2024,,,,\n`)
  const [jo] = await applicationOf('7500001', 'npq-leading-teaching')
  const agent = await admin()
  const page = `/lead-provider/applications/${jo!.id}`
  const noReason = await agent.post(`${page}/reject`, { reason: ' ' }, { csrfFrom: page })
  assert.equal(noReason.statusCode, 400)
  assert.match(noReason.body, /Enter the reason for rejecting/)
  const rejected = await agent.post(`${page}/reject`, { reason: 'Not endorsed by the school' }, { csrfFrom: page })
  assert.equal(rejected.statusCode, 303)
  const row = (await applicationOf('7500001', 'npq-leading-teaching'))[0]!
  assert.equal(row.status, 'rejected')
  assert.equal(row.reason_for_rejection, 'Not endorsed by the school')
  const request = await services.db.selectFrom('dfe_requests').selectAll().where('subject_id', '=', jo!.id).executeTakeFirstOrThrow()
  assert.equal(request.kind, 'reject-application')
  assert.equal(request.path, '/npq-applications/aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee/reject')
  assert.equal(request.body, null)

  const partner = await services.db.selectFrom('organisations').select('id').where('code', '=', 'north-star-tsh').executeTakeFirstOrThrow()
  const refused = await agent.post(`${page}/accept`, { deliveryPartner: partner.id, cohort: '2024-autumn' }, { csrfFrom: page })
  assert.equal(refused.statusCode, 400)
  assert.match(refused.body, /This application is already rejected: only an application waiting for a decision can be accepted/)
  assert.equal(
    await services.db
      .selectFrom('enrolments')
      .select('id')
      .where('participant_id', 'in', services.db.selectFrom('participants').select('id').where('trn', '=', '7500001'))
      .executeTakeFirst(),
    undefined,
  )
})

test('new applications get the form without anyone asking, once; a course rule not met blocks acceptance', async () => {
  await importCsv(`${header}\nedt,7600001,Kit Kane,kit@nursery.example,npq-early-years-leadership,,2024,,,,\n`)
  const [kit] = await applicationOf('7600001', 'npq-early-years-leadership')
  const deps = { email: services.email, config: services.config, catalogue: services.catalogue }
  assert.ok((await sendNewApplicationForms(services.db, deps)) >= 1)
  const sent = (await applicationOf('7600001', 'npq-early-years-leadership'))[0]!
  assert.ok(sent.form_sent_on)
  assert.match((await lastEmailTo('kit@nursery.example'))!.subject, /Your application for the NPQ for Early Years Leadership/)
  assert.equal(await sendNewApplicationForms(services.db, deps), 0, 'sent once only')

  // The form says Level 2: NPQEYL needs Level 3, so accepting is refused without a reason.
  const token = linkIn((await lastEmailTo('kit@nursery.example'))!.body, '/application-form')
  await new Agent(app).post(`/application-form/${token}`, {
    endorser_name: 'Lou Lee',
    endorser_email: 'lou@nursery.example',
    ey_qualification_level: '2',
  })
  const page = `/lead-provider/applications/${kit!.id}`
  const agent = await admin()
  const view = await agent.get(page)
  assert.match(view.body, /NPQEYL needs Level 3 or above/)
  const partner = await services.db.selectFrom('organisations').select('id').where('code', '=', 'north-star-tsh').executeTakeFirstOrThrow()
  const cohort = services.catalogue.cohortsFor('edt', 'npq-early-years-leadership')[0]!
  const refused = await agent.post(`${page}/accept`, { deliveryPartner: partner.id, cohort }, { csrfFrom: page })
  assert.equal(refused.statusCode, 400)
  assert.match(refused.body, /has not endorsed the application/)
  assert.match(refused.body, /NPQEYL needs Level 3 or above/)
  assert.equal((await applicationOf('7600001', 'npq-early-years-leadership'))[0]!.status, 'applied')
})
