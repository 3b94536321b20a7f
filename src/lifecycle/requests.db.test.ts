import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, test } from 'node:test'
import { sql } from 'kysely'
import { londonDateOf } from '../dates/london.ts'
import { loadDemoData } from '../demo/demo.ts'
import { AppError } from '../errors.ts'
import { importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import type { Principal } from '../policy/principal.ts'
import type { Role } from '../policy/roles.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { runDeferralCheck } from './jobs.ts'
import {
  addMonths,
  answerReturn,
  decideDeferral,
  decideWithdrawal,
  didNotReturn,
  enrolmentTimeline,
  reinstateEnrolment,
  requestDeferral,
  requestWithdrawal,
  resumeEnrolment,
} from './requests.ts'

// The deferral and withdrawal journeys on the demo data: each decision changes the enrolment, records
// the deferral or withdrawal, queues DfE's request and emails both sides; wrong requests change nothing.

let services: TestServices
let participant: Principal
let admin: Principal
before(async () => {
  services = await createTestServices()
  await loadDemoData(services)
  const user = async (email: string): Promise<Principal> => {
    const u = await services.db.selectFrom('users').select(['id', 'full_name']).where('email', '=', email).executeTakeFirstOrThrow()
    const roles = await services.db
      .selectFrom('role_assignments as r')
      .innerJoin('organisations as o', 'o.id', 'r.organisation_id')
      .select(['r.role', 'r.organisation_id', 'o.code', 'o.name'])
      .where('r.user_id', '=', u.id)
      .execute()
    return {
      kind: 'user',
      userId: u.id,
      email,
      fullName: u.full_name,
      roles: roles.map((r) => ({
        role: r.role as Role,
        organisationId: r.organisation_id,
        organisationCode: r.code,
        organisationName: r.name,
        leadProviderIds: [],
      })),
    }
  }
  participant = await user('participant@demo.test')
  admin = await user('lead-provider-admin@demo.test')
})
after(() => services.dispose())

const today = londonDateOf(new Date())
/** A fresh active enrolment of a new participant on EDT's NPQH 2022-autumn, at North Star. */
async function newEnrolment(name: string, status: 'active' | 'accepted' = 'active') {
  const db = services.db
  const template = await db
    .selectFrom('enrolments')
    .selectAll()
    .where(
      'participant_id',
      '=',
      (await db.selectFrom('participants').select('id').where('email', '=', 'participant@demo.test').executeTakeFirstOrThrow()).id,
    )
    .where('course_identifier', '=', 'npq-headship')
    .executeTakeFirstOrThrow()
  const p = await db
    .insertInto('participants')
    .values({
      id: crypto.randomUUID(),
      full_name: name,
      email: `${name.toLowerCase()}@schools.demo.test`,
      trn: String(Math.floor(Math.random() * 9e6) + 1e6),
      user_id: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  const e = await db
    .insertInto('enrolments')
    .values({
      participant_id: p.id,
      lead_provider_id: template.lead_provider_id,
      delivery_partner_id: template.delivery_partner_id,
      school_id: template.school_id,
      line_manager_user_id: null,
      course_identifier: 'npq-headship',
      cohort: '2022-autumn',
      status,
      school_contract_signed_on: null,
      sponsorship_agreement_signed_on: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return { enrolmentId: e.id, participantId: p.id, email: `${name.toLowerCase()}@schools.demo.test` }
}

/** DfE takes a defer only after a declaration and a withdraw after a started one: declare started. */
async function declareStarted(enrolmentId: string) {
  const e = await services.db.selectFrom('enrolments').selectAll().where('id', '=', enrolmentId).executeTakeFirstOrThrow()
  await services.db
    .insertInto('declarations')
    .values({
      enrolment_id: e.id,
      participant_id: e.participant_id,
      lead_provider_id: e.lead_provider_id,
      delivery_partner_id: e.delivery_partner_id,
      course_identifier: e.course_identifier,
      cohort: e.cohort,
      declaration_type: 'started',
      declaration_date: '2022-11-01',
      has_passed: null,
      evidence: JSON.stringify([]),
      engagement: JSON.stringify({}),
      idempotency_key: crypto.randomUUID(),
      declared_by: null,
    })
    .execute()
}

const emailsTo = (to: string) => services.db.selectFrom('email_outbox').select('subject').where('to_address', '=', to).execute()
const dfeRequests = (enrolmentId: string) =>
  services.db.selectFrom('dfe_requests').select(['kind', 'body']).where('subject_id', '=', enrolmentId).orderBy('queued_at').execute()

async function refused(promise: Promise<unknown>, message: RegExp) {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof AppError)
    assert.match(error.message, message)
    return true
  })
}

test('approving a deferral defers the enrolment, records the deferral, queues DfE’s defer request and emails both sides', async () => {
  const { enrolmentId, email } = await newEnrolment('Dana')
  await declareStarted(enrolmentId)
  const startsOn = today
  const plannedReturnOn = addMonths(today, 10)
  const requestId = await services.db.transaction().execute((trx) =>
    requestDeferral(trx, services, participant, {
      enrolmentId,
      reason: 'parental-leave',
      details: 'Baby due in spring',
      startsOn,
      plannedReturnOn,
    }),
  )
  const request = await services.db.selectFrom('deferral_requests').selectAll().where('id', '=', requestId).executeTakeFirstOrThrow()
  assert.equal(request.proposed_cohort, '2023-autumn')
  assert.ok(request.proposed_return_block)

  const outcome = await services.db
    .transaction()
    .execute((trx) => decideDeferral(trx, services, admin, requestId, { approve: true, reason: 'Agreed after the call' }))
  assert.equal(outcome, 'approved')
  const enrolment = await services.db.selectFrom('enrolments').select(['status']).where('id', '=', enrolmentId).executeTakeFirstOrThrow()
  assert.equal(enrolment.status, 'deferred')
  const deferral = await services.db
    .selectFrom('deferrals')
    .select(['enrolment_id', 'reason'])
    .where('enrolment_id', '=', enrolmentId)
    .executeTakeFirstOrThrow()
  assert.equal(deferral.reason, 'parental-leave')
  const dfe = await dfeRequests(enrolmentId)
  assert.deepEqual(
    dfe.map((r) => r.kind),
    ['defer-participant'],
  )
  assert.ok((await emailsTo(email)).some((m) => /Deferral approved/.test(m.subject)))
  assert.ok((await emailsTo('delivery-partner-lead@demo.test')).some((m) => /^Deferral approved: /.test(m.subject)))
  const timeline = await enrolmentTimeline(services.db, enrolmentId)
  assert.deepEqual(
    timeline.map((t) => t.text.split(' from ')[0]),
    ['Deferral requested', 'Deferral approved', 'Active → Deferred'].map((t) => t.split(' from ')[0]),
  )

  // Deferring again, or a return over 12 months away without an override, is refused and changes nothing.
  await refused(
    services.db
      .transaction()
      .execute((trx) =>
        requestDeferral(trx, services, participant, { enrolmentId, reason: 'other', details: 'x', startsOn, plannedReturnOn }),
      ),
    /already deferred/,
  )
  const other = await newEnrolment('Eli')
  await refused(
    services.db.transaction().execute((trx) =>
      requestDeferral(trx, services, participant, {
        enrolmentId: other.enrolmentId,
        reason: 'other',
        details: 'x',
        startsOn,
        plannedReturnOn: addMonths(startsOn, 13),
      }),
    ),
    /no more than 12 months/,
  )
  assert.equal(
    (await services.db.selectFrom('deferral_requests').select('id').where('enrolment_id', '=', other.enrolmentId).execute()).length,
    0,
  )
  // A lead-provider admin may agree the exception.
  await services.db.transaction().execute((trx) =>
    requestDeferral(trx, services, admin, {
      enrolmentId: other.enrolmentId,
      reason: 'other',
      details: 'x',
      startsOn,
      plannedReturnOn: addMonths(startsOn, 13),
      override: true,
    }),
  )
})

test('a declined deferral leaves the enrolment active and tells both sides why', async () => {
  const { enrolmentId, email } = await newEnrolment('Fay')
  const requestId = await services.db.transaction().execute((trx) =>
    requestDeferral(trx, services, participant, {
      enrolmentId,
      reason: 'career-break',
      details: 'Travelling',
      startsOn: today,
      plannedReturnOn: addMonths(today, 6),
    }),
  )
  await refused(
    services.db.transaction().execute((trx) => decideDeferral(trx, services, admin, requestId, { approve: false, reason: ' ' })),
    /Enter why/,
  )
  await services.db
    .transaction()
    .execute((trx) => decideDeferral(trx, services, admin, requestId, { approve: false, reason: 'Take the summer instead' }))
  assert.equal(
    (await services.db.selectFrom('enrolments').select('status').where('id', '=', enrolmentId).executeTakeFirstOrThrow()).status,
    'active',
  )
  assert.deepEqual(await dfeRequests(enrolmentId), [])
  assert.ok((await emailsTo(email)).some((m) => /Deferral declined/.test(m.subject)))
})

test('deferring before starting moves the place to the next cohort', async () => {
  const { enrolmentId } = await newEnrolment('Gus', 'accepted')
  const requestId = await services.db.transaction().execute((trx) =>
    requestDeferral(trx, services, participant, {
      enrolmentId,
      reason: 'other',
      details: 'Not ready',
      startsOn: today,
      plannedReturnOn: addMonths(today, 9),
    }),
  )
  await services.db.transaction().execute((trx) => decideDeferral(trx, services, admin, requestId, { approve: true, reason: '' }))
  const e = await services.db.selectFrom('enrolments').select(['status', 'cohort']).where('id', '=', enrolmentId).executeTakeFirstOrThrow()
  assert.deepEqual(e, { status: 'accepted', cohort: '2023-autumn' })
  const t = await services.db
    .selectFrom('enrolment_transitions')
    .select('details')
    .where('enrolment_id', '=', enrolmentId)
    .executeTakeFirstOrThrow()
  assert.match(t.details ?? '', /2022-autumn to 2023-autumn/)
  // No declaration yet: DfE moves the place too (change-schedule with the cohort year).
  assert.deepEqual(await dfeRequests(enrolmentId), [
    {
      kind: 'change-schedule',
      body: {
        data: {
          type: 'participant-change-schedule',
          attributes: { schedule_identifier: 'npq-leadership-autumn', course_identifier: 'npq-headship', cohort: '2023' },
        },
      },
    },
  ])
})

test('a confirmed withdrawal withdraws the enrolment and queues DfE’s request; twice, or resuming after, is refused', async () => {
  const { enrolmentId, email } = await newEnrolment('Hana')
  await declareStarted(enrolmentId)
  const requestId = await services.db
    .transaction()
    .execute((trx) =>
      requestWithdrawal(trx, services, participant, { enrolmentId, reason: 'change-in-career', details: 'New job', plannedOn: today }),
    )
  await refused(
    services.db
      .transaction()
      .execute((trx) =>
        requestWithdrawal(trx, services, participant, { enrolmentId, reason: 'change-in-career', details: null, plannedOn: today }),
      ),
    /already waiting/,
  )
  await services.db
    .transaction()
    .execute((trx) => decideWithdrawal(trx, services, admin, requestId, { confirm: true, reason: '', refundNote: 'School refunded 50%' }))
  assert.equal(
    (await services.db.selectFrom('enrolments').select('status').where('id', '=', enrolmentId).executeTakeFirstOrThrow()).status,
    'withdrawn',
  )
  const w = await services.db
    .selectFrom('withdrawals')
    .select(['reason', 'enrolment_id'])
    .where('enrolment_id', '=', enrolmentId)
    .executeTakeFirstOrThrow()
  assert.equal(w.reason, 'change-in-career')
  assert.deepEqual(
    (await dfeRequests(enrolmentId)).map((r) => r.kind),
    ['withdraw-participant'],
  )
  assert.ok((await emailsTo(email)).some((m) => /Withdrawal confirmed/.test(m.subject)))
  const r = await services.db.selectFrom('withdrawal_requests').select('refund_note').where('id', '=', requestId).executeTakeFirstOrThrow()
  assert.equal(r.refund_note, 'School refunded 50%')

  await refused(
    services.db
      .transaction()
      .execute((trx) => requestWithdrawal(trx, services, participant, { enrolmentId, reason: 'other', details: null, plannedOn: today })),
    /already withdrawn/,
  )
  await refused(
    services.db.transaction().execute((trx) => answerReturn(trx, services, participant, enrolmentId, true)),
    /withdrawn from this course/,
  )
  // Only a lead-provider admin reinstates, with a reason; the withdrawal stays on record, reversed.
  await refused(
    services.db.transaction().execute((trx) => reinstateEnrolment(trx, services, participant, enrolmentId, 'Changed my mind', today)),
    /only a lead-provider admin can reinstate them/,
  )
  await refused(
    services.db.transaction().execute((trx) => reinstateEnrolment(trx, services, admin, enrolmentId, ' ', today)),
    /Enter why the participant is reinstated/,
  )
  await services.db
    .transaction()
    .execute((trx) => reinstateEnrolment(trx, services, admin, enrolmentId, 'Withdrawn in error: she stays', today))
  assert.equal(
    (await services.db.selectFrom('enrolments').select('status').where('id', '=', enrolmentId).executeTakeFirstOrThrow()).status,
    'active',
  )
  const kept = await services.db
    .selectFrom('withdrawals')
    .select(['reinstated_reason'])
    .where('enrolment_id', '=', enrolmentId)
    .executeTakeFirstOrThrow()
  assert.equal(kept.reinstated_reason, 'Withdrawn in error: she stays')
  assert.deepEqual(
    (await dfeRequests(enrolmentId)).map((r) => r.kind),
    ['withdraw-participant', 'resume-participant'],
  )
  assert.ok((await emailsTo(email)).some((m) => /Reinstated/.test(m.subject)))
  // Withdrawn again later: a new withdrawal in force beside the reversed one.
  const again = await services.db
    .transaction()
    .execute((trx) => requestWithdrawal(trx, services, participant, { enrolmentId, reason: 'other', details: null, plannedOn: today }))
  await services.db.transaction().execute((trx) => decideWithdrawal(trx, services, admin, again, { confirm: true, reason: '' }))
  assert.equal((await services.db.selectFrom('withdrawals').select('id').where('enrolment_id', '=', enrolmentId).execute()).length, 2)

  await refused(
    services.db.transaction().execute((trx) =>
      requestDeferral(trx, services, participant, {
        enrolmentId,
        reason: 'other',
        details: 'x',
        startsOn: today,
        plannedReturnOn: addMonths(today, 3),
      }),
    ),
    /withdrawn/,
  )
})

async function deferred(name: string, returnOn: string) {
  const e = await newEnrolment(name)
  await declareStarted(e.enrolmentId)
  const requestId = await services.db.transaction().execute((trx) =>
    requestDeferral(trx, services, participant, {
      enrolmentId: e.enrolmentId,
      reason: 'long-term-sickness',
      details: 'Operation',
      startsOn: today,
      plannedReturnOn: returnOn,
    }),
  )
  await services.db.transaction().execute((trx) => decideDeferral(trx, services, admin, requestId, { approve: true, reason: '' }))
  return e
}

test('the daily check asks for confirmation 3 months before the return, once; confirming resumes the participant on the return date in the proposed cohort', async () => {
  const soon = await deferred('Ivo', addMonths(today, 2))
  const later = await deferred('Jo', addMonths(today, 5))
  const first = await runDeferralCheck(services, today)
  assert.ok(first.contacted >= 1)
  assert.equal((await emailsTo(soon.email)).filter((m) => /Confirm your return/.test(m.subject)).length, 1)
  assert.equal((await emailsTo(later.email)).filter((m) => /Confirm your return/.test(m.subject)).length, 0)
  await runDeferralCheck(services, today)
  assert.equal((await emailsTo(soon.email)).filter((m) => /Confirm your return/.test(m.subject)).length, 1, 'asked once')

  const status = async (id: string) =>
    await services.db.selectFrom('enrolments').select(['status', 'cohort']).where('id', '=', id).executeTakeFirstOrThrow()
  assert.equal(
    await services.db.transaction().execute((trx) => answerReturn(trx, services, participant, soon.enrolmentId, true, today)),
    'confirmed',
  )
  // Confirmed, but still deferred until the return date: no bookings, outputs or reminders before then.
  assert.deepEqual(await status(soon.enrolmentId), { status: 'deferred', cohort: '2022-autumn' })
  await refused(
    services.db.transaction().execute((trx) => answerReturn(trx, services, participant, soon.enrolmentId, true, today)),
    /already confirmed your return/,
  )
  const returnOn = addMonths(today, 2)
  const onTheDay = await runDeferralCheck(services, returnOn)
  assert.ok(onTheDay.resumed >= 1)
  assert.deepEqual(await status(soon.enrolmentId), { status: 'active', cohort: '2023-autumn' })
  const d = await services.db
    .selectFrom('deferrals')
    .select(sql<string>`resumed_on::text`.as('resumed_on'))
    .where('enrolment_id', '=', soon.enrolmentId)
    .executeTakeFirstOrThrow()
  assert.equal(d.resumed_on, returnOn)
  assert.deepEqual(
    (await dfeRequests(soon.enrolmentId)).map((r) => r.kind),
    ['defer-participant', 'resume-participant'],
  )
  assert.ok((await emailsTo(soon.email)).some((m) => /Welcome back/.test(m.subject)))
  const timeline = await enrolmentTimeline(services.db, soon.enrolmentId)
  assert.match(timeline.at(-1)!.details ?? '', /rejoins the 2023-autumn cohort at block/)

  // A lead-provider admin resumes someone early; a participant cannot.
  await refused(
    services.db.transaction().execute((trx) => resumeEnrolment(trx, services, participant, soon.enrolmentId, today, 'again')),
    /already active|Only a deferred/,
  )
  await services.db.transaction().execute((trx) => resumeEnrolment(trx, services, admin, later.enrolmentId, today, 'Back early: recovered'))
  assert.deepEqual(await status(later.enrolmentId), { status: 'active', cohort: '2023-autumn' })
})

test('DfE is told only what it takes: no deferral or withdrawal before a declaration, and so no resume either; the cohort move is', async () => {
  const { enrolmentId } = await newEnrolment('Olu')
  const requestId = await services.db.transaction().execute((trx) =>
    requestDeferral(trx, services, participant, {
      enrolmentId,
      reason: 'parental-leave',
      details: 'Baby due',
      startsOn: today,
      plannedReturnOn: addMonths(today, 9),
    }),
  )
  await services.db.transaction().execute((trx) => decideDeferral(trx, services, admin, requestId, { approve: true, reason: '' }))
  await services.db.transaction().execute((trx) => resumeEnrolment(trx, services, admin, enrolmentId, today, 'Back'))
  // Only the cohort move reaches DfE (allowed before any declaration).
  assert.deepEqual(
    (await dfeRequests(enrolmentId)).map((r) => r.kind),
    ['change-schedule'],
  )
  const notSent = await services.db
    .selectFrom('audit_events')
    .select('after')
    .where('action', '=', 'dfe-request.not-sent')
    .where('entity_id', '=', enrolmentId)
    .execute()
  assert.deepEqual(
    notSent.map((a) => (a.after as { kind: string }).kind),
    ['defer-participant', 'resume-participant'],
  )
  assert.match((notSent[0]!.after as { why: string }).why, /DfE takes a deferral only after a declaration/)
})

test('declining to return, or no answer by the return date, opens a withdrawal request', async () => {
  const declines = await deferred('Kit', addMonths(today, 2))
  await services.db.transaction().execute((trx) => answerReturn(trx, services, participant, declines.enrolmentId, false))
  const asked = await services.db
    .selectFrom('withdrawal_requests')
    .select(['reason', 'details'])
    .where('enrolment_id', '=', declines.enrolmentId)
    .executeTakeFirstOrThrow()
  assert.deepEqual(asked, { reason: 'other', details: didNotReturn })

  const silent = await deferred('Lou', addMonths(today, 1))
  const returnOn = addMonths(today, 1)
  const result = await runDeferralCheck(services, returnOn)
  assert.ok(result.withdrawalsRequested >= 1)
  const opened = await services.db
    .selectFrom('withdrawal_requests')
    .select(['reason', 'details', 'status'])
    .where('enrolment_id', '=', silent.enrolmentId)
    .execute()
  assert.deepEqual(opened, [{ reason: 'other', details: didNotReturn, status: 'requested' }])
  await runDeferralCheck(services, returnOn)
  assert.equal(
    (await services.db.selectFrom('withdrawal_requests').select('id').where('enrolment_id', '=', silent.enrolmentId).execute()).length,
    1,
  )
})

test('the withdrawals import withdraws the person’s active enrolments, once; the deferrals import defers those in force', async () => {
  const a = await newEnrolment('Mo')
  const b = await newEnrolment('Nia')
  const system: Principal = { kind: 'system', name: 'test' }
  const status = async (id: string) =>
    (await services.db.selectFrom('enrolments').select('status').where('id', '=', id).executeTakeFirstOrThrow()).status
  const withdrawals = `participant_id,reason,withdrawn_on\n${a.participantId},change-in-career,${today}\n`
  await importFile(services, importers.withdrawals!, withdrawals, system)
  assert.equal(await status(a.enrolmentId), 'withdrawn')
  const again = await importFile(services, importers.withdrawals!, withdrawals, system)
  assert.equal(again.unchanged, 1)
  assert.equal(
    (await services.db.selectFrom('enrolment_transitions').select('id').where('enrolment_id', '=', a.enrolmentId).execute()).length,
    1,
    'transitioned once',
  )
  await importFile(
    services,
    importers.deferrals!,
    `participant_id,reason,deferred_on,planned_return_on\n${b.participantId},other,${today},${addMonths(today, 6)}\n`,
    system,
  )
  assert.equal(await status(b.enrolmentId), 'deferred')
})
