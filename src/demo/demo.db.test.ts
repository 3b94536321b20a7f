import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { eligibilityOf } from '../applications/applications.ts'
import { addDays, formStatus } from '../applications/deadlines.ts'
import { runAssessmentDaily } from '../assessment/jobs.ts'
import { assessmentPolicy } from '../assessment/windows.ts'
import { countWords } from '../assessment/words.ts'
import { londonDateOf } from '../dates/london.ts'
import { roles } from '../policy/roles.ts'
import { createTestServices, testConfig, type TestServices } from '../test-support/services.ts'
import { loadDemoData } from './demo.ts'

let services: TestServices
before(async () => {
  services = await createTestServices()
})
after(() => services.dispose())

test('demo data: lead providers, delivery partners, cohorts, participants and an account for every role', async () => {
  const result = await loadDemoData(services)
  assert.ok(result.created > 0)
  assert.equal(result.generatedPassword, null, 'NPQ_DEMO_PASSWORD was given')
  const count = async (kind: 'lead-provider' | 'delivery-partner') =>
    (await services.db.selectFrom('organisations').select('id').where('kind', '=', kind).execute()).length
  assert.ok((await count('lead-provider')) >= 2)
  assert.ok((await count('delivery-partner')) >= 3)
  const cohorts = await services.db.selectFrom('enrolments').select('cohort').distinct().execute()
  assert.ok(cohorts.length >= 2)
  for (const role of roles) {
    const account = await services.db
      .selectFrom('users as u')
      .innerJoin('role_assignments as r', 'r.user_id', 'u.id')
      .select(['u.status', 'u.is_demo'])
      .where('u.email', '=', `${role}@demo.test`)
      .where('r.role', '=', role)
      .executeTakeFirst()
    assert.deepEqual(account, { status: 'active', is_demo: true }, role)
    assert.equal((await services.accounts.signIn(`${role}@demo.test`, 'demo-password-for-tests', '127.0.0.1')).outcome, 'signed-in')
  }
})

/** What the lifecycle pages of the demo lead provider (EDT) and its delivery partner (North Star) show. */
async function lifecycleState() {
  const db = services.db
  const edt = await db
    .selectFrom('organisations')
    .select('id')
    .where('kind', '=', 'lead-provider')
    .where('code', '=', 'edt')
    .executeTakeFirstOrThrow()
  const applications = await db.selectFrom('applications').selectAll().where('lead_provider_id', '=', edt.id).orderBy('trn').execute()
  const deferralRequests = await db
    .selectFrom('deferral_requests as r')
    .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .select(['r.id', 'r.status', 'r.conversation_recorded_at', 'r.starts_on', 'r.planned_return_on', 'e.status as enrolment_status'])
    .select(['e.lead_provider_id', 'dp.code as partner', 'p.email'])
    .orderBy('r.id')
    .execute()
  const withdrawalRequests = await db
    .selectFrom('withdrawal_requests as r')
    .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .select(['r.id', 'r.status', 'e.status as enrolment_status', 'e.lead_provider_id', 'dp.code as partner', 'p.email'])
    .orderBy('r.id')
    .execute()
  return { edt: edt.id, applications, deferralRequests, withdrawalRequests }
}

test('demo lifecycle: applications at every stage, onboarding under way, deferrals and a withdrawal waiting', async () => {
  const today = londonDateOf(new Date())
  const { edt, applications, deferralRequests, withdrawalRequests } = await lifecycleState()

  const stageOf = (a: (typeof applications)[number]) => {
    if (a.status !== 'applied') return a.status
    const form = formStatus(
      { sentOn: a.form_sent_on, dueOn: a.form_due_on, remindedAt: a.form_reminded_at, returnedAt: a.form_returned_at },
      today,
    )
    return form === 'returned' ? (a.endorsed_at ? 'endorsed' : 'endorsement-requested') : `form-${form}`
  }
  const stages = new Set(applications.map(stageOf))
  assert.ok(stages.size >= 4, [...stages].join(', '))
  for (const stage of ['form-not-sent', 'form-sent', 'endorsement-requested', 'endorsed', 'rejected', 'accepted'])
    assert.ok(stages.has(stage), `an application at ${stage}`)
  const sent = applications.find((a) => stageOf(a) === 'form-sent')!
  assert.ok(sent.form_due_on! > today, 'the form is due in a few days')
  assert.ok(applications.find((a) => a.status === 'rejected')!.reason_for_rejection)
  assert.ok(
    applications.some(
      (a) => a.status === 'applied' && eligibilityOf(a, today).some((c) => c.outcome === 'not-met' && c.rule !== 'scholarship'),
    ),
    'an application waiting for a decision fails an eligibility check',
  )
  for (const a of applications) {
    assert.match(a.trn, /^[0-9]{7}$/)
    assert.equal(a.email, a.email.toLowerCase())
  }
  // Made through the domain functions: the audit log and the emails are there.
  const actions = await services.db
    .selectFrom('audit_events')
    .select('action')
    .distinct()
    .where('entity_type', '=', 'application')
    .execute()
  for (const action of [
    'application.form-sent',
    'application.form-returned',
    'application.endorsed',
    'application.rejected',
    'application.accepted',
  ])
    assert.ok(
      actions.some((a) => a.action === action),
      action,
    )

  // Onboarding: one accepted place with its agreements sent and not signed; one school-funded place invoiced, not paid.
  const placeIds = applications.filter((a) => a.status === 'accepted').map((a) => a.enrolment_id!)
  const places = await services.db.selectFrom('enrolments').select(['id', 'status']).where('id', 'in', placeIds).execute()
  assert.ok(places.every((p) => p.status === 'accepted'))
  const agreements = await services.db.selectFrom('agreement_requests').selectAll().where('enrolment_id', 'in', placeIds).execute()
  assert.ok(agreements.length >= 2 && agreements.every((r) => r.signed_at === null))
  const funding = await services.db.selectFrom('place_funding').selectAll().where('enrolment_id', 'in', placeIds).execute()
  assert.ok(funding.some((f) => f.funding === 'school' && f.invoice_sent_on && f.paid_on === null))

  // Deferrals and withdrawals of EDT's participants at North Star, never the demo participant's own courses.
  for (const r of [...deferralRequests, ...withdrawalRequests]) {
    assert.equal(r.lead_provider_id, edt)
    assert.equal(r.partner, 'north-star-tsh')
    assert.notEqual(r.email, 'participant@demo.test')
  }
  const open = deferralRequests.filter((r) => r.status === 'requested')
  assert.ok(
    open.some((r) => r.conversation_recorded_at === null),
    'a deferral waiting for the delivery partner’s conversation',
  )
  assert.ok(
    open.some((r) => r.conversation_recorded_at !== null),
    'a deferral waiting for the lead provider’s decision',
  )
  assert.ok(open.every((r) => r.enrolment_status === 'active'))
  assert.ok(
    deferralRequests.some((r) => r.status === 'approved' && r.enrolment_status === 'deferred'),
    'an approved deferral',
  )
  for (const d of deferralRequests) {
    assert.ok(d.starts_on >= today && d.planned_return_on > d.starts_on)
  }
  assert.ok(
    withdrawalRequests.some((r) => r.status === 'requested' && r.enrolment_status === 'active'),
    'a withdrawal waiting',
  )
  const priya = await services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select('e.status')
    .where('p.email', '=', 'participant@demo.test')
    .execute()
  assert.deepEqual(
    priya.map((e) => e.status),
    ['active', 'active'],
  )
})

test('demo meetings: the UCL participant has a signed log (evidence), one waiting for the line manager, and one meeting ahead', async () => {
  const rows = await services.db
    .selectFrom('meeting_log_versions as v')
    .innerJoin('enrolments as e', 'e.id', 'v.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['v.meeting_number', 'v.participant_signed_at', 'v.line_manager_signed_at'])
    .where('p.email', '=', 'ucl-participant@demo.test')
    .orderBy('v.meeting_number')
    .execute()
  assert.deepEqual(
    rows.map((r) => [r.meeting_number, r.participant_signed_at !== null, r.line_manager_signed_at !== null]),
    [
      [1, true, true],
      [2, true, false],
    ],
  )
  const evidence = await services.db
    .selectFrom('meeting_logs as m')
    .innerJoin('participants as p', 'p.id', 'm.participant_id')
    .select('m.meeting_number')
    .where('p.email', '=', 'ucl-participant@demo.test')
    .execute()
  assert.deepEqual(
    evidence.map((m) => m.meeting_number),
    [1],
  )
  const ahead = await services.db
    .selectFrom('meeting_schedules as s')
    .innerJoin('enrolments as e', 'e.id', 's.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select('s.meeting_number')
    .where('p.email', '=', 'ucl-participant@demo.test')
    .where('s.starts_at', '>', new Date())
    .execute()
  assert.deepEqual(
    ahead.map((s) => s.meeting_number),
    [3],
  )
})

test('demo assessment: an EDT window open today with an entered participant’s draft, a closed one with scripts to allocate, not Priya’s NPQH', async () => {
  const today = londonDateOf(new Date())
  const windows = await services.db
    .selectFrom('assessment_windows as w')
    .innerJoin('organisations as lp', 'lp.id', 'w.lead_provider_id')
    .select(['w.id', 'w.course_identifier', 'w.cohort', 'w.max_words', 'w.case_study_title', 'w.case_study', 'w.entries_decided_at'])
    .select((eb) => [
      eb.cast<string>('w.opens_on', 'text').as('opens_on'),
      eb.cast<string>('w.closes_on', 'text').as('closes_on'),
      eb.cast<string>('w.engagement_deadline', 'text').as('engagement_deadline'),
    ])
    .where('lp.code', '=', 'edt')
    .execute()
  assert.equal(windows.length, 2)
  for (const window of windows) assert.notEqual(`${window.course_identifier}|${window.cohort}`, 'npq-headship|2022-autumn')
  const w = windows.find((window) => window.opens_on <= today && today <= window.closes_on)!
  assert.equal(w.opens_on, addDays(today, -2))
  assert.equal(w.closes_on, addDays(today, 5))
  assert.equal(w.engagement_deadline, addDays(today, -9))
  assert.equal(w.max_words, assessmentPolicy(services.catalogue, 'edt').maxWords)
  assert.ok(w.case_study_title)
  assert.equal(w.case_study.split('\n\n').length, 3)
  assert.ok(w.entries_decided_at, 'the daily job leaves its entries alone')

  const entries = await services.db
    .selectFrom('assessment_entries as a')
    .innerJoin('enrolments as e', 'e.id', 'a.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['a.attempt', 'a.decision', 'a.engagement_percent', 'a.draft', 'a.draft_word_count', 'a.draft_saved_at', 'a.submitted_at'])
    .select(['a.outcome', 'e.course_identifier', 'e.cohort', 'e.status', 'p.email'])
    .where('a.window_id', '=', w.id)
    .execute()
  assert.equal(entries.length, 1)
  const entry = entries[0]!
  assert.deepEqual(
    [entry.attempt, entry.decision, Number(entry.engagement_percent), entry.submitted_at, entry.outcome],
    [1, 'entered', 92.5, null, null],
  )
  assert.deepEqual([entry.course_identifier, entry.cohort, entry.status], [w.course_identifier, w.cohort, 'active'])
  assert.notEqual(entry.email, 'participant@demo.test')
  assert.ok(entry.draft && entry.draft_saved_at)
  assert.equal(entry.draft_word_count, countWords(entry.draft))
  assert.ok(entry.draft_word_count < w.max_words)

  // Closed two weeks ago: every response submitted, none allocated (the demo assessor's list starts empty).
  const done = windows.find((window) => window.closes_on < today)!
  assert.equal(done.closes_on, addDays(today, -14))
  assert.ok(done.entries_decided_at)
  const scripts = await services.db
    .selectFrom('assessment_entries as a')
    .leftJoin('assessment_marks as m', 'm.entry_id', 'a.id')
    .select(['a.decision', 'a.outcome', 'a.submitted_text', 'a.submitted_word_count', 'a.submitted_at', 'm.id as mark'])
    .where('a.window_id', '=', done.id)
    .execute()
  assert.ok(scripts.length >= 2)
  for (const s of scripts) {
    assert.deepEqual([s.decision, s.outcome, s.mark], ['entered', 'submitted', null])
    assert.equal(s.submitted_word_count, countWords(s.submitted_text!))
    assert.ok(s.submitted_at! < new Date(`${addDays(done.closes_on, 1)}T00:00:00Z`))
  }
  assert.deepEqual(await services.db.selectFrom('assessment_marks').select('id').execute(), [])

  // Priya's assessment pages start from nothing: the assessment tests make her windows and entries.
  const priya = await services.db
    .selectFrom('assessment_entries as a')
    .innerJoin('enrolments as e', 'e.id', 'a.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select('a.id')
    .where('p.email', '=', 'participant@demo.test')
    .execute()
  assert.deepEqual(priya, [])
  // The daily job decides nothing for it and, before day 8 is over, closes nothing.
  assert.deepEqual(await runAssessmentDaily(services, today), {
    entries: { windows: 0, entered: 0, notEntered: 0, kept: 0 },
    closed: { lost: 0, kept: 0 },
  })
})

test('loading it again changes nothing', async () => {
  const before = await services.db.selectFrom('audit_events').select('id').execute()
  const lifecycle = await lifecycleState()
  const emails = await services.db.selectFrom('email_outbox').select('id').execute()
  const again = await loadDemoData(services)
  assert.equal(again.created, 0)
  assert.equal((await services.db.selectFrom('audit_events').select('id').execute()).length, before.length)
  assert.deepEqual(await lifecycleState(), lifecycle)
  assert.equal((await services.db.selectFrom('email_outbox').select('id').execute()).length, emails.length)
})

test('demo accounts do not exist in production: the command refuses and sign-in refuses them', async () => {
  const production = { ...services, config: testConfig({ NODE_ENV: 'production', SESSION_SECRET: 'x'.repeat(40) }) }
  await assert.rejects(loadDemoData(production), /development only/)
  const { Accounts } = await import('../accounts/accounts.ts')
  const accounts = new Accounts(services.db, services.email, production.config)
  assert.deepEqual(await accounts.signIn('participant@demo.test', 'demo-password-for-tests', '127.0.0.2'), { outcome: 'invalid' })
})
