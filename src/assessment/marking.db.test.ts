import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { outputEvaluations } from '../outputs/report.ts'
import type { Principal } from '../policy/principal.ts'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'
import { recordMark, releasedResultsFor } from './marking.ts'

// Marking, moderation and release against the demo data: a closed NPQH window with Priya Patel's
// response and three generated North Star participants'; allocation spreads over two assessors and
// assessors see nothing about the person; nobody opens another's script; release is refused until
// every step is done, then writes assessment_attempts (which the outputs read for `completed`), emails
// the participants and their delivery partner's lead, and fixes the marks.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
let edt: string
let windowId: string
let priya: { participantId: string; userId: string; enrolmentId: string }
let others: { participantId: string; enrolmentId: string; fullName: string; email: string; trn: string }[]
let secondAssessor: Principal & { kind: 'user' }
const base = () => `/lead-provider/assessment/windows/${windowId}/marking`

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const userId = async (email: string) =>
  (await services.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id
const marks = () =>
  services.db
    .selectFrom('assessment_marks as m')
    .innerJoin('assessment_entries as e', 'e.id', 'm.entry_id')
    .selectAll('m')
    .select('e.enrolment_id')
    .where('e.window_id', '=', windowId)
    .orderBy('m.script_reference')
    .execute()

const response = (n: number) =>
  `Case study response ${n}.\n\nThe school should begin by diagnosing the problem with its staff, then plan the change in stages.`

before(async () => {
  ;({ services, app, close } = await startDemoApp())
  const db = services.db
  edt = (
    await db
      .selectFrom('organisations')
      .select('id')
      .where('kind', '=', 'lead-provider')
      .where('code', '=', 'edt')
      .executeTakeFirstOrThrow()
  ).id
  const headship = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'e.participant_id', 'p.user_id', 'p.full_name', 'p.email', 'p.trn'])
    .where('e.lead_provider_id', '=', edt)
    .where('e.course_identifier', '=', 'npq-headship')
    .where('e.cohort', '=', '2022-autumn')
    .orderBy('p.full_name')
    .execute()
  const p = headship.find((h) => h.email === 'participant@demo.test')!
  priya = { participantId: p.participant_id, userId: p.user_id!, enrolmentId: p.id }
  others = headship
    .filter((h) => h.email !== 'participant@demo.test')
    .slice(0, 3)
    .map((h) => ({ participantId: h.participant_id, enrolmentId: h.id, fullName: h.full_name, email: h.email, trn: h.trn }))
  assert.equal(others.length, 3)

  windowId = (
    await db
      .insertInto('assessment_windows')
      .values({
        lead_provider_id: edt,
        course_identifier: 'npq-headship',
        cohort: '2022-autumn',
        opens_on: '2024-06-03',
        closes_on: '2024-06-10',
        engagement_deadline: '2024-05-20',
        max_words: 1500,
        case_study_title: 'Oakbridge Academy: improving attendance',
        case_study: 'The case study.',
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id
  for (const [i, e] of [priya, ...others].entries()) {
    await db
      .insertInto('assessment_entries')
      .values({
        window_id: windowId,
        enrolment_id: e.enrolmentId,
        attempt: 1,
        decision: 'entered',
        engagement_percent: 95,
        submitted_text: response(i),
        submitted_word_count: 20 + i,
        submitted_at: new Date('2024-06-09T15:00:00Z'),
        outcome: 'submitted',
      })
      .execute()
  }
  // An entry without a submission is not a script.
  const spare = await db
    .selectFrom('enrolments')
    .select('id')
    .where('lead_provider_id', '=', edt)
    .where('course_identifier', '=', 'npq-headship')
    .where('id', 'not in', [priya.enrolmentId, ...others.map((o) => o.enrolmentId)])
    .executeTakeFirst()
  if (spare)
    await db
      .insertInto('assessment_entries')
      .values({ window_id: windowId, enrolment_id: spare.id, attempt: 1, decision: 'entered', outcome: 'lost' })
      .execute()

  // A second EDT assessor.
  const second = await db
    .insertInto('users')
    .values({ email: 'second.assessor@edt.test', full_name: 'Sam Second', password_hash: null, status: 'active' })
    .returning('id')
    .executeTakeFirstOrThrow()
  await db.insertInto('role_assignments').values({ user_id: second.id, role: 'assessor', organisation_id: edt }).execute()
  secondAssessor = {
    kind: 'user',
    userId: second.id,
    email: 'second.assessor@edt.test',
    fullName: 'Sam Second',
    roles: [
      {
        role: 'assessor',
        organisationId: edt,
        organisationCode: 'edt',
        organisationName: 'Education Development Trust',
        leadProviderIds: [],
      },
    ],
  }
})
after(() => close())

test('scripts are allocated evenly, with random references, and assessors see nothing about the person', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const page = await admin.get(base())
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /4 submitted scripts are not allocated/)

  const allocated = await admin.post(`${base()}/allocate`, {}, { csrfFrom: base() })
  assert.equal(allocated.statusCode, 303)
  const rows = await marks()
  assert.equal(rows.length, 4)
  for (const r of rows) assert.match(r.script_reference, /^S-[2-9A-HJKMNP-TV-Z]{5}$/)
  const demoAssessor = await userId('assessor@demo.test')
  const perAssessor = [demoAssessor, secondAssessor.userId].map((id) => rows.filter((r) => r.assessor_user_id === id).length)
  assert.deepEqual(perAssessor, [2, 2])
  // Emails tell each assessor.
  const emails = await services.db.selectFrom('email_outbox').select('to_address').where('subject', 'like', 'Scripts to mark:%').execute()
  assert.deepEqual(emails.map((e) => e.to_address).sort(), ['assessor@demo.test', 'second.assessor@edt.test'])
  // Nothing left to allocate.
  const again = await admin.post(`${base()}/allocate`, {}, { csrfFrom: base() })
  assert.equal(again.statusCode, 400)
  assert.match(again.body, /Every submitted script is already allocated/)

  const assessor = await as('assessor@demo.test')
  const list = await assessor.get('/assessor/scripts')
  assert.equal(list.statusCode, 200)
  const mine = rows.filter((r) => r.assessor_user_id === demoAssessor)
  for (const r of mine) assert.ok(list.body.includes(r.script_reference))
  const schools = await services.db.selectFrom('organisations').select('name').where('kind', 'in', ['school', 'delivery-partner']).execute()
  const people = await services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['p.full_name', 'p.trn', 'p.email', 'e.id'])
    .where(
      'e.id',
      'in',
      rows.map((r) => r.enrolment_id),
    )
    .execute()
  for (const r of mine) {
    const script = await assessor.get(`/assessor/scripts/${r.script_reference}`)
    assert.equal(script.statusCode, 200)
    assert.match(script.body, /Oakbridge Academy: improving attendance/)
    assert.match(script.body, /Case study response \d/)
    assert.match(script.body, /2\d \(maximum 1500\)/)
    for (const body of [script.body, list.body]) {
      for (const person of people) {
        assert.ok(!body.includes(person.full_name), `the page names ${person.full_name}`)
        assert.ok(!body.includes(person.trn), 'the page shows a TRN')
        assert.ok(!body.includes(person.email), 'the page shows an email address')
        assert.ok(!body.includes(person.id), 'the page shows the enrolment id')
      }
      for (const s of schools) assert.ok(!body.includes(s.name), `the page names ${s.name}`)
    }
  }
  // Another assessor's script is not found, as is a made-up one; a moderator cannot open it before sampling.
  const theirs = rows.find((r) => r.assessor_user_id !== demoAssessor)!
  assert.equal((await assessor.get(`/assessor/scripts/${theirs.script_reference}`)).statusCode, 404)
  assert.equal(
    (
      await assessor.post(
        `/assessor/scripts/${theirs.script_reference}`,
        { mark: '60', result: 'passed', feedback: 'x' },
        { csrfFrom: '/assessor/scripts' },
      )
    ).statusCode,
    404,
  )
  assert.equal((await assessor.get('/assessor/scripts/S-ZZZZZ')).statusCode, 404)
  const moderator = await as('moderator@demo.test')
  assert.equal((await moderator.get(`/moderator/scripts/${theirs.script_reference}`)).statusCode, 404)
  // Other roles cannot reach the pages.
  assert.equal((await (await as('participant@demo.test')).get('/assessor/scripts')).statusCode, 403)
  assert.equal((await assessor.get(base())).statusCode, 403)
})

test('an unmarked script can be re-allocated; a marked one cannot', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const demoAssessor = await userId('assessor@demo.test')
  const rows = await marks()
  const from = rows.find((r) => r.assessor_user_id === secondAssessor.userId)!
  const moved = await admin.post(`${base()}/reallocate`, { script: from.id, assessor: demoAssessor }, { csrfFrom: base() })
  assert.equal(moved.statusCode, 303)
  const back = await admin.post(`${base()}/reallocate`, { script: from.id, assessor: secondAssessor.userId }, { csrfFrom: base() })
  assert.equal(back.statusCode, 303)
  assert.equal((await marks()).find((r) => r.id === from.id)!.assessor_user_id, secondAssessor.userId)
  const audits = await services.db.selectFrom('audit_events').select('action').where('entity_id', '=', from.id).execute()
  assert.equal(audits.filter((a) => a.action === 'assessment-script.reallocated').length, 2)
})

test('release is refused until marking, moderation and external moderation are done; then results are released', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const assessor = await as('assessor@demo.test')
  const moderator = await as('moderator@demo.test')
  const demoAssessor = await userId('assessor@demo.test')
  const release = () => admin.post(`${base()}/release`, {}, { csrfFrom: base() })

  let refused = await release()
  assert.equal(refused.statusCode, 400)
  assert.match(refused.body, /4 scripts are not marked yet/)
  assert.match(refused.body, /External moderation is not recorded yet/)

  // The demo assessor marks theirs through the page (a bad mark first), the second assessor through the function.
  const rows = await marks()
  const priyaMark = rows.find((r) => r.enrolment_id === priya.enrolmentId)!
  const nearFail = rows.find((r) => r !== priyaMark)!
  for (const r of rows) {
    const mark = r === priyaMark ? 72 : r === nearFail ? 45 : 64
    const result = mark >= 50 ? 'passed' : 'failed'
    const feedback = `Feedback for ${r.script_reference}: a clear diagnosis.`
    if (r.assessor_user_id === demoAssessor) {
      const url = `/assessor/scripts/${r.script_reference}`
      const bad = await assessor.post(url, { mark: '101', result: '', feedback: '' })
      assert.equal(bad.statusCode, 400)
      assert.match(bad.body, /Enter a whole number from 0 to 100/)
      assert.match(bad.body, /Choose passed or failed/)
      assert.match(bad.body, /Enter feedback for the participant/)
      const ok = await assessor.post(url, { mark: String(mark), result, feedback })
      assert.equal(ok.statusCode, 303)
    } else {
      await services.db
        .transaction()
        .execute((trx) => recordMark(trx, secondAssessor, r.script_reference, { mark: String(mark), result, feedback }, services))
    }
  }
  // Changing a mark before moderation is allowed.
  if (priyaMark.assessor_user_id === demoAssessor) {
    assert.equal(
      (
        await assessor.post(`/assessor/scripts/${priyaMark.script_reference}`, {
          mark: '70',
          result: 'passed',
          feedback: 'Well argued and clear.',
        })
      ).statusCode,
      303,
    )
  } else {
    await services.db
      .transaction()
      .execute((trx) =>
        recordMark(trx, secondAssessor, priyaMark.script_reference, { mark: '70', result: 'passed', feedback: 'Well argued and clear.' }),
      )
  }

  // The sample: at least one script per assessor and every fail of 40 or more (the 45).
  const marked = await marks()
  const sample = marked.filter((r) => r.in_moderation_sample)
  assert.ok(sample.length >= 2)
  assert.ok(sample.some((r) => r.assessor_user_id === demoAssessor))
  assert.ok(sample.some((r) => r.assessor_user_id === secondAssessor.userId))
  assert.ok(sample.some((r) => r.mark === 45))
  // The lead provider's moderator is told once, when the sample is drawn (not again when a mark changes).
  const told = await services.db
    .selectFrom('email_outbox')
    .select(['subject', 'body'])
    .where('to_address', '=', 'moderator@demo.test')
    .where('subject', 'like', 'Scripts to moderate:%')
    .execute()
  assert.equal(told.length, 1)
  assert.match(told[0]!.body, /\/moderator\/scripts/)

  refused = await release()
  assert.equal(refused.statusCode, 400)
  assert.match(refused.body, new RegExp(`${sample.length} scripts in the moderation sample are not moderated yet`))
  // External moderation cannot be recorded before the internal moderation.
  const early = await admin.post(
    `${base()}/external-moderation`,
    { 'on-day': '1', 'on-month': '7', 'on-year': '2024' },
    { csrfFrom: base() },
  )
  assert.equal(early.statusCode, 400)
  assert.match(early.body, /Internal moderation comes first/)

  // The moderator sees the sample anonymously, agrees with one and changes another (notes needed).
  const list = await moderator.get('/moderator/scripts')
  for (const r of sample) assert.ok(list.body.includes(r.script_reference))
  for (const o of others) assert.ok(!list.body.includes(o.fullName))
  for (const r of sample) {
    const url = `/moderator/scripts/${r.script_reference}`
    const page = await moderator.get(url)
    assert.equal(page.statusCode, 200)
    for (const o of others) assert.ok(!page.body.includes(o.fullName) && !page.body.includes(o.trn))
    assert.ok(!page.body.includes('Priya Patel'))
    if (r.mark === 45) {
      const noNotes = await moderator.post(url, { result: 'passed', notes: '' })
      assert.equal(noNotes.statusCode, 400)
      assert.match(noNotes.body, /Enter notes saying why you changed the result/)
      assert.equal((await moderator.post(url, { result: 'passed', notes: 'The analysis meets the pass standard.' })).statusCode, 303)
    } else {
      assert.equal((await moderator.post(url, { result: r.result!, notes: '' })).statusCode, 303)
    }
  }
  // Moderated scripts' marks are fixed for the assessor.
  const moderatedOwn = sample.find((r) => r.assessor_user_id === demoAssessor)!
  const locked = await assessor.post(`/assessor/scripts/${moderatedOwn.script_reference}`, { mark: '10', result: 'failed', feedback: 'x' })
  assert.equal(locked.statusCode, 400)
  assert.match(locked.body, /This script is moderated/)

  refused = await release()
  assert.equal(refused.statusCode, 400)
  assert.doesNotMatch(refused.body, /not moderated yet/)
  assert.match(refused.body, /External moderation is not recorded yet/)

  const future = await admin.post(
    `${base()}/external-moderation`,
    { 'on-day': '1', 'on-month': '1', 'on-year': '2099' },
    { csrfFrom: base() },
  )
  assert.equal(future.statusCode, 400)
  assert.match(future.body, /today or in the past/)
  const external = await admin.post(
    `${base()}/external-moderation`,
    { 'on-day': '15', 'on-month': '7', 'on-year': '2024' },
    { csrfFrom: base() },
  )
  assert.equal(external.statusCode, 303)
  // After external moderation, no mark changes.
  const unsampled = marked.find((r) => !r.in_moderation_sample && r.assessor_user_id === demoAssessor)
  if (unsampled) {
    const fixed = await assessor.post(`/assessor/scripts/${unsampled.script_reference}`, { mark: '10', result: 'failed', feedback: 'x' })
    assert.equal(fixed.statusCode, 400)
    assert.match(fixed.body, /External moderation is recorded/)
  }

  // Before release: no evidence, nothing for the participant.
  const [beforeRelease] = await outputEvaluations(services, {
    leadProvider: 'edt',
    cohort: '2022-autumn',
    course: 'npq-headship',
    asOf: londonDateOf(new Date()),
    participantIds: [priya.participantId],
  })
  assert.equal(beforeRelease!.facts.assessment, null)
  assert.equal(beforeRelease!.outputs.find((o) => o.declaration_type === 'completed')!.evidence, null)
  assert.equal((await releasedResultsFor(services.db, priya.userId)).length, 0)
  assert.equal(
    (await (await as('participant@demo.test')).get('/participant/assessment/results')).body.includes('You have no assessment results yet'),
    true,
  )

  const released = await release()
  assert.equal(released.statusCode, 303)

  const attempts = await services.db
    .selectFrom('assessment_attempts')
    .selectAll()
    .where('participant_id', 'in', [priya.participantId, ...others.map((o) => o.participantId)])
    .execute()
  assert.equal(attempts.length, 4)
  for (const a of attempts) {
    assert.equal(a.attempt, 1)
    assert.ok(a.submitted_at && a.marked_at && a.moderated_at && a.externally_moderated_at)
    assert.equal(londonDateOf(new Date(a.externally_moderated_at)), '2024-07-15')
    assert.equal(a.word_count !== null, true)
  }
  // The moderated 45 became a pass; every result is a pass here.
  assert.deepEqual(
    attempts.map((a) => a.result),
    ['passed', 'passed', 'passed', 'passed'],
  )

  // The outputs see the completed evidence for Priya.
  const [priyaOutputs] = await outputEvaluations(services, {
    leadProvider: 'edt',
    cohort: '2022-autumn',
    course: 'npq-headship',
    asOf: londonDateOf(new Date()),
    participantIds: [priya.participantId],
  })
  assert.ok(priyaOutputs)
  assert.deepEqual(priyaOutputs.facts.assessment, { passed: true, externallyModeratedOn: '2024-07-15' })
  assert.equal(priyaOutputs.assessmentPassed, true)
  assert.equal(priyaOutputs.records.assessment.length, 1)
  const completed = priyaOutputs.outputs.find((o) => o.declaration_type === 'completed')!
  // Priya's demo evidence reached 90% of credits in 2023: the released result completes the output.
  assert.ok(priyaOutputs.facts.credits90On)
  assert.equal(completed.status, 'eligible')
  assert.equal(completed.evidence, 'credits-90-and-assessment')
  assert.equal(completed.evidence_on, '2024-07-15')

  // Emails: each participant, and North Star's lead with the list.
  const outbox = await services.db.selectFrom('email_outbox').select(['to_address', 'subject', 'body']).execute()
  const priyaEmail = outbox.find((e) => e.to_address === 'participant@demo.test' && e.subject.startsWith('Your NPQ assessment result'))
  assert.ok(priyaEmail)
  assert.match(priyaEmail.body, /is: passed/)
  assert.match(priyaEmail.body, /Well argued and clear\./)
  for (const o of others)
    assert.ok(outbox.some((e) => e.to_address === o.email.toLowerCase() && e.subject.startsWith('Your NPQ assessment result')))
  const leadEmail = outbox.find(
    (e) => e.to_address === 'delivery-partner-lead@demo.test' && e.subject.startsWith('Assessment results released'),
  )
  assert.ok(leadEmail)
  assert.match(leadEmail.body, /Priya Patel: passed/)

  // The participant reads it.
  const results = await releasedResultsFor(services.db, priya.userId)
  assert.equal(results.length, 1)
  assert.equal(results[0]!.result, 'passed')
  const page = await (await as('participant@demo.test')).get('/participant/assessment/results')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /NPQ for Headship/)
  assert.match(page.body, /Well argued and clear\./)

  // Audit entries for the release and each attempt.
  const audit = await services.db
    .selectFrom('audit_events')
    .select('action')
    .where('entity_id', 'in', [windowId, ...attempts.map((a) => a.id)])
    .execute()
  assert.ok(audit.some((a) => a.action === 'assessment-window.results-released'))
  assert.equal(audit.filter((a) => a.action === 'assessment-attempt.created').length, 4)
})

test('after release nothing changes the marks', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const assessor = await as('assessor@demo.test')
  const moderator = await as('moderator@demo.test')
  const demoAssessor = await userId('assessor@demo.test')
  const before = await marks()
  const own = before.find((r) => r.assessor_user_id === demoAssessor)!
  const page = await assessor.get(`/assessor/scripts/${own.script_reference}`)
  assert.match(page.body, /The results are released/)
  assert.doesNotMatch(page.body, /Save mark/)
  const post = await assessor.post(
    `/assessor/scripts/${own.script_reference}`,
    { mark: '1', result: 'failed', feedback: 'changed' },
    { csrfFrom: '/assessor/scripts' },
  )
  assert.equal(post.statusCode, 400)
  await assert.rejects(
    services.db.transaction().execute((trx) =>
      recordMark(trx, secondAssessor, before.find((r) => r.assessor_user_id === secondAssessor.userId)!.script_reference, {
        mark: '1',
        result: 'failed',
        feedback: 'changed',
      }),
    ),
    /released/,
  )
  const sampled = before.find((r) => r.in_moderation_sample && r.assessor_user_id !== demoAssessor)!
  const moderation = await moderator.post(
    `/moderator/scripts/${sampled.script_reference}`,
    { result: 'failed', notes: 'changed' },
    { csrfFrom: '/moderator/scripts' },
  )
  assert.equal(moderation.statusCode, 400)
  assert.equal((await admin.post(`${base()}/release`, {}, { csrfFrom: base() })).statusCode, 400)
  const realloc = await admin.post(`${base()}/reallocate`, { script: own.id, assessor: secondAssessor.userId }, { csrfFrom: base() })
  assert.equal(realloc.statusCode, 400)
  assert.deepEqual(await marks(), before)
})
