import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import ExcelJS from 'exceljs'
import { londonDateOf } from '../dates/london.ts'
import { buildApp } from '../routes.ts'
import { Agent } from '../test-support/agent.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { openEscalationCases } from './open-cases.ts'
import { caseOf, emails, escalationWorld, ids, password, type EscalationWorld } from './test-fixtures.ts'

// The escalation pages without a browser: who sees which cases, every form's errors (nothing changes),
// and removal → withdrawal: EDT needs the partner's proposal and the lead provider's approval; Ambition's
// partner signs off alone. The job runs as of today first, so every participant has a `started` case.

let services: TestServices
let world: EscalationWorld
let app: FastifyInstance
const today = londonDateOf(new Date())
const [year, month, day] = today.split('-').map(Number) as [number, number, number]
const todayParts = { 'contact_date-day': String(day), 'contact_date-month': String(month), 'contact_date-year': String(year) }

before(async () => {
  services = await createTestServices()
  world = await escalationWorld(services)
  await openEscalationCases(services, today)
  app = await buildApp(services)
  await app.ready()
})
after(async () => {
  await app.close()
  await services.dispose()
})

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, password)
  return agent
}
const dpCase = async (participantId: string) => `/delivery-partner/escalations/${(await caseOf(services, participantId)).id}`
const lpCase = async (participantId: string) => `/lead-provider/escalations/${(await caseOf(services, participantId)).id}`
const interventions = async (participantId: string) =>
  (
    await services.db
      .selectFrom('escalation_actions')
      .select('kind')
      .where('case_id', '=', (await caseOf(services, participantId)).id)
      .where('kind', '<>', 'stage-changed')
      .orderBy('recorded_at')
      .execute()
  ).map((a) => a.kind)
const withdrawalOf = (participantId: string) =>
  services.db.selectFrom('withdrawals').selectAll().where('participant_id', '=', participantId).executeTakeFirst()
const errorSummary = (html: string) => [...html.matchAll(/<a href="#([^"]+)">([^<]+)<\/a>/g)].map((m) => `${m[1]}: ${m[2]}`)
const contact = (overrides: Record<string, string> = {}) => ({
  ...todayParts,
  channel: 'phone',
  outcome: 'no-response',
  contact_notes: 'Left a voicemail',
  ...overrides,
})

test('a delivery-partner lead sees their own partner’s cases only; another partner’s case is refused', async () => {
  const lee = await as(emails.lee)
  const queue = await lee.get('/delivery-partner/escalations')
  assert.equal(queue.statusCode, 200)
  assert.match(queue.body, /Ana Lee/)
  assert.match(queue.body, /Ben Cole/)
  assert.doesNotMatch(queue.body, /Cy Dunn/)
  assert.doesNotMatch(queue.body, /Dot Ray/)
  assert.match(queue.body, /<strong class="govuk-tag govuk-tag--orange">Contact<\/strong>/)

  assert.equal((await lee.get(await dpCase(ids.cy))).statusCode, 403)
  assert.equal((await lee.get('/delivery-partner/escalations/00000000-0000-4000-8000-000000000000')).statusCode, 404)
  assert.equal((await lee.get('/delivery-partner/escalations/not-a-case')).statusCode, 404)
  assert.equal((await lee.get('/lead-provider/escalations')).statusCode, 403)

  const sam = await as(emails.sam)
  const anaCase = await dpCase(ids.ana)
  assert.equal((await sam.get(anaCase)).statusCode, 403)
  const refused = await sam.post(`${anaCase}/contact`, contact(), { csrfFrom: '/delivery-partner/escalations' })
  assert.equal(refused.statusCode, 403)
  assert.deepEqual(await interventions(ids.ana), [])

  const ada = await as(emails.ada)
  const all = await ada.get('/lead-provider/escalations')
  assert.match(all.body, /Ana Lee/)
  assert.match(all.body, /Cy Dunn/)
  assert.doesNotMatch(all.body, /Dot Ray/)
  const filtered = await ada.get('/lead-provider/escalations?delivery_partner=south-hub')
  assert.match(filtered.body, /Cy Dunn/)
  assert.doesNotMatch(filtered.body, /Ana Lee/)
  const wrong = await ada.get('/lead-provider/escalations?delivery_partner=southern-lights')
  assert.equal(wrong.statusCode, 400)
  assert.match(wrong.body, /Select one of your delivery partners/)
  assert.equal((await ada.get(await lpCase(ids.ana))).statusCode, 200)
  const amy = await as(emails.amy)
  assert.equal((await amy.get(await lpCase(ids.ana))).statusCode, 403)
})

test('every form says what is wrong in an error summary and records nothing', async () => {
  const lee = await as(emails.lee)
  const url = await dpCase(ids.ana)
  const page = await lee.get(url)
  assert.match(page.body, /You can propose removal once you have logged at least one contact attempt/)

  const empty = await lee.post(`${url}/contact`, {}, { csrfFrom: url })
  assert.equal(empty.statusCode, 400)
  assert.match(empty.body, /<title>Error: /)
  assert.deepEqual(errorSummary(empty.body), [
    'contact_date-day: Enter the date of the contact attempt',
    'channel: Select how you tried to contact the participant',
    'outcome: Select what came of the contact attempt',
  ])
  const tomorrow = new Date(Date.parse(`${today}T12:00:00Z`) + 86_400_000)
  const future = await lee.post(
    `${url}/contact`,
    contact({
      'contact_date-day': String(tomorrow.getUTCDate()),
      'contact_date-month': String(tomorrow.getUTCMonth() + 1),
      'contact_date-year': String(tomorrow.getUTCFullYear()),
    }),
    { csrfFrom: url },
  )
  assert.deepEqual(errorSummary(future.body), ['contact_date-day: The date of the contact attempt must be today or in the past'])
  const unreal = await lee.post(`${url}/contact`, contact({ 'contact_date-day': '31', 'contact_date-month': '2' }), { csrfFrom: url })
  assert.deepEqual(errorSummary(unreal.body), ['contact_date-day: The date of the contact attempt must be a real date'])
  assert.match(unreal.body, /value="31"/, 'what was typed is kept')
  const early = await lee.post(
    `${url}/contact`,
    contact({ 'contact_date-day': '1', 'contact_date-month': '11', 'contact_date-year': '2022' }),
    {
      csrfFrom: url,
    },
  )
  assert.deepEqual(errorSummary(early.body), [
    'contact_date-day: The date of the contact attempt must be on or after the review date, 24 November 2022',
  ])
  const partial = await lee.post(`${url}/contact`, contact({ 'contact_date-month': '' }), { csrfFrom: url })
  assert.deepEqual(errorSummary(partial.body), ['contact_date-month: The date of the contact attempt must include a month'])

  const pastDeadline = await lee.post(
    `${url}/extension`,
    { 'deadline-day': '1', 'deadline-month': '1', 'deadline-year': '2023', extension_reason: '' },
    { csrfFrom: url },
  )
  assert.equal(pastDeadline.statusCode, 400)
  assert.deepEqual(errorSummary(pastDeadline.body), [
    'deadline-day: The extended deadline must be after today',
    'extension_reason: Enter the reason for the extended deadline',
  ])
  const noSupport = await lee.post(`${url}/support`, { support_notes: '  ' }, { csrfFrom: url })
  assert.deepEqual(errorSummary(noSupport.body), ['support_notes: Enter the support you offered'])
  const tooLong = await lee.post(`${url}/support`, { support_notes: 'x'.repeat(2001) }, { csrfFrom: url })
  assert.deepEqual(errorSummary(tooLong.body), ['support_notes: The support offered must be 2,000 characters or fewer'])

  const noContactYet = await lee.post(`${url}/removal`, { removal_reason: 'Never replied' }, { csrfFrom: url })
  assert.equal(noContactYet.statusCode, 400)
  assert.deepEqual(errorSummary(noContactYet.body), ['removal_reason: Log at least one contact attempt before proposing removal'])
  const noReason = await lee.post(`${url}/removal`, { removal_reason: '' }, { csrfFrom: url })
  assert.deepEqual(errorSummary(noReason.body), ['removal_reason: Enter why the participant should be removed'])

  const noCsrf = await lee.post(`${url}/support`, { support_notes: 'A catch-up call' }, { csrf: null })
  assert.equal(noCsrf.statusCode, 403)
  assert.deepEqual(await interventions(ids.ana), [])
})

test('EDT: the partner proposes removal after a contact attempt; the lead provider approves; the participant is withdrawn', async () => {
  const lee = await as(emails.lee)
  const url = await dpCase(ids.ana)
  const logged = await lee.post(`${url}/contact`, contact(), { csrfFrom: url })
  assert.equal(logged.statusCode, 303)
  const after = await lee.get(logged.headers.location as string)
  assert.match(after.body, /The contact attempt is logged/)
  assert.match(after.body, /Contact attempt by phone: no response/)

  const extension = await lee.post(
    `${url}/extension`,
    { 'deadline-day': '1', 'deadline-month': '1', 'deadline-year': String(year + 1), extension_reason: 'Long-term illness in the family' },
    { csrfFrom: url },
  )
  assert.equal(extension.statusCode, 303)
  assert.equal((await caseOf(services, ids.ana)).extended_deadline, `${year + 1}-01-01`)
  assert.match((await lee.get(url)).body, /<strong class="govuk-tag govuk-tag--yellow" id="stage">Encourage<\/strong>/)
  assert.equal(
    (await lee.post(`${url}/support`, { support_notes: 'Offered a deferral to the spring cohort' }, { csrfFrom: url })).statusCode,
    303,
  )
  // Support includes a deferral: the case links to the partner's deferral request for this enrolment.
  const deferLink = /href="(\/delivery-partner\/lifecycle\/enrolments\/[0-9a-f-]+\/defer)"/.exec((await lee.get(url)).body)?.[1]
  assert.ok(deferLink, 'the case page links to a deferral request')
  assert.equal((await lee.get(deferLink)).statusCode, 200)

  const proposed = await lee.post(`${url}/removal`, { removal_reason: 'Five unanswered calls and emails since March' }, { csrfFrom: url })
  assert.equal(proposed.statusCode, 303)
  assert.match(proposed.headers.location as string, /done=proposed/)
  assert.equal(await withdrawalOf(ids.ana), undefined, 'EDT needs the lead provider too')
  assert.equal((await caseOf(services, ids.ana)).closed_on, null)
  assert.match((await lee.get(url)).body, /id="stage">Removal proposed</)
  const told = await services.db
    .selectFrom('email_outbox')
    .select('body')
    .where('to_address', '=', emails.ada)
    .where('subject', '=', 'Removal proposed: Ana Lee')
    .executeTakeFirst()
  assert.ok(told, 'the lead provider’s admins are asked to decide')
  const again = await lee.post(`${url}/removal`, { removal_reason: 'Again' }, { csrfFrom: url })
  assert.deepEqual(errorSummary(again.body), ['removal_reason: A removal is already proposed in this case'])
  // The partner's lead cannot approve for the lead provider: their form only takes the proposal back.
  const leeApproves = await lee.post(`${url}/removal/decision`, { decision: 'approve', decision_notes: '' }, { csrfFrom: url })
  assert.deepEqual(errorSummary(leeApproves.body), ['decision_notes: Enter why you are taking the proposal back'])
  assert.equal(await withdrawalOf(ids.ana), undefined)

  const ada = await as(emails.ada)
  const lp = await lpCase(ids.ana)
  assert.match((await ada.get(lp)).body, /Record decision/)
  const undecided = await ada.post(`${lp}/removal/decision`, {}, { csrfFrom: lp })
  assert.deepEqual(errorSummary(undecided.body), ['decision: Select whether you approve or reject the removal'])
  const rejectWithoutReason = await ada.post(`${lp}/removal/decision`, { decision: 'reject' }, { csrfFrom: lp })
  assert.deepEqual(errorSummary(rejectWithoutReason.body), ['decision_notes: Enter why you reject the removal'])
  assert.equal(await withdrawalOf(ids.ana), undefined)

  const approved = await ada.post(
    `${lp}/removal/decision`,
    { decision: 'approve', decision_notes: 'Agreed at the partnership meeting' },
    { csrfFrom: lp },
  )
  assert.equal(approved.statusCode, 303)
  assert.match(approved.headers.location as string, /done=removed/)
  const withdrawal = await withdrawalOf(ids.ana)
  const adaId = (await services.db.selectFrom('users').select('id').where('email', '=', emails.ada).executeTakeFirstOrThrow()).id
  assert.equal(withdrawal?.reason, 'disengaged-and-unresponsive')
  assert.equal(withdrawal?.withdrawn_on, today)
  assert.equal(withdrawal?.recorded_by, adaId)
  const closed = await caseOf(services, ids.ana)
  assert.equal(closed.closed_reason, 'removed')
  assert.equal(closed.closed_on, today)
  assert.deepEqual(await interventions(ids.ana), [
    'contact-attempt',
    'extension-agreed',
    'support-offered',
    'removal-proposed',
    'removal-approved',
  ])
  // Escalated before any started declaration: DfE takes no withdrawal then, so none is sent and the audit says why.
  const request = await services.db.selectFrom('dfe_requests').select('id').where('kind', '=', 'withdraw-participant').executeTakeFirst()
  assert.equal(request, undefined)
  const notSent = await services.db
    .selectFrom('audit_events')
    .select('after')
    .where('action', '=', 'dfe-request.not-sent')
    .where('entity_id', '=', closed.enrolment_id)
    .executeTakeFirstOrThrow()
  assert.match((notSent.after as { why: string }).why, /only after a started declaration/)
  const audit = await services.db.selectFrom('audit_events').select('action').where('actor_user_id', '=', adaId).execute()
  assert.ok(audit.some((a) => a.action === 'withdrawal.recorded'))
  assert.ok(audit.some((a) => a.action === 'escalation.removal-approved'))
  assert.ok(audit.some((a) => a.action === 'escalation.closed'))

  const page = await lee.get(url)
  assert.match(page.body, /id="participant-status">Withdrawn from \d+ \w+ \d{4} \(disengaged and unresponsive\)</)
  assert.doesNotMatch(page.body, /Log a contact attempt/)
  const late = await lee.post(`${url}/support`, { support_notes: 'One more try' }, { csrfFrom: url })
  assert.deepEqual(errorSummary(late.body), ['support_notes: This case is closed: nothing more can be recorded in it'])
  assert.match((await lee.get('/delivery-partner/escalations')).body, /Removed from the course/)
  const removedEmail = await services.db
    .selectFrom('email_outbox')
    .select('subject')
    .where('to_address', '=', emails.lee)
    .where('subject', '=', 'Participant removed: Ana Lee')
    .executeTakeFirst()
  assert.ok(removedEmail)
})

test('a rejected proposal leaves the participant on the course, and the partner can take its own proposal back', async () => {
  const lee = await as(emails.lee)
  const url = await dpCase(ids.ben)
  await lee.post(`${url}/contact`, contact({ outcome: 'responded', contact_notes: 'Will catch up' }), { csrfFrom: url })
  await lee.post(`${url}/removal`, { removal_reason: 'No progress' }, { csrfFrom: url })
  const takenBack = await lee.post(`${url}/removal/decision`, { decision_notes: 'They replied after all' }, { csrfFrom: url })
  assert.equal(takenBack.statusCode, 303)
  assert.match((await lee.get(url)).body, /Removal proposal withdrawn by North Star TSH/)

  await lee.post(`${url}/removal`, { removal_reason: 'Still no progress' }, { csrfFrom: url })
  const ada = await as(emails.ada)
  const lp = await lpCase(ids.ben)
  const rejected = await ada.post(
    `${lp}/removal/decision`,
    { decision: 'reject', decision_notes: 'Give them until the next review' },
    { csrfFrom: lp },
  )
  assert.equal(rejected.statusCode, 303)
  assert.equal(await withdrawalOf(ids.ben), undefined)
  const page = await lee.get(url)
  assert.match(page.body, /Removal rejected by Education Development Trust/)
  assert.match(page.body, /id="stage">Contact</)
  assert.deepEqual(await interventions(ids.ben), [
    'contact-attempt',
    'removal-proposed',
    'removal-rejected',
    'removal-proposed',
    'removal-rejected',
  ])
  // No proposal is waiting: there is nothing to decide.
  const nothing = await ada.post(`${lp}/removal/decision`, { decision: 'approve' }, { csrfFrom: lp })
  assert.deepEqual(errorSummary(nothing.body), ['decision: There is no removal proposal to decide in this case'])

  // Ben completes the Block 1 diagnostic today: met late, so no longer escalated and not to be removed.
  await world.run('activity', [
    'participant_id,activity_code,occurred_at,source,progress_percent',
    `${ids.ben},NPQLT-B1-DIAGNOSTIC,${new Date(Date.now() - 60_000).toISOString()},automatic,`,
  ])
  const met = await lee.post(`${url}/removal`, { removal_reason: 'No progress' }, { csrfFrom: url })
  assert.deepEqual(errorSummary(met.body), [
    'removal_reason: The participant no longer needs escalating (the output is met, or they deferred or withdrew)',
  ])
  assert.match((await lee.get(url)).body, /id="stage">Resolved</)
  const queue = await lee.get('/delivery-partner/escalations')
  assert.match(queue.body.split('id="settled"')[1] ?? '', /Ben Cole/, 'in the list of cases that close at the next daily check')
})

test('Ambition: the partner’s lead signs off removal alone, once they confirm it', async () => {
  const sol = await as(emails.sol)
  const url = await dpCase(ids.dot)
  await sol.post(`${url}/contact`, contact({ channel: 'email' }), { csrfFrom: url })
  assert.match((await sol.get(url)).body, /final sign-off of a removal sits with the delivery partner/)
  const unconfirmed = await sol.post(`${url}/removal`, { removal_reason: 'No reply to four emails' }, { csrfFrom: url })
  assert.equal(unconfirmed.statusCode, 400)
  assert.deepEqual(errorSummary(unconfirmed.body), ['removal_confirm: Confirm that Southern Lights MAT signs off this removal'])
  assert.equal(await withdrawalOf(ids.dot), undefined)

  const removed = await sol.post(`${url}/removal`, { removal_reason: 'No reply to four emails', removal_confirm: 'yes' }, { csrfFrom: url })
  assert.equal(removed.statusCode, 303)
  assert.match(removed.headers.location as string, /done=removed/)
  const withdrawal = await withdrawalOf(ids.dot)
  assert.equal(withdrawal?.reason, 'disengaged-and-unresponsive')
  assert.equal((await caseOf(services, ids.dot)).closed_reason, 'removed')
  const asked = await services.db.selectFrom('email_outbox').select('id').where('to_address', '=', emails.amy).executeTakeFirst()
  assert.equal(asked, undefined, 'Ambition’s admins are not asked to sign off')
  assert.match((await sol.get(url)).body, /Withdrawn from/)
})

test('the partnership pack page and its download; another partner’s pack is refused', async () => {
  const lee = await as(emails.lee)
  const page = await lee.get('/delivery-partner/partnership-pack')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /North Star TSH with Education Development Trust/)
  assert.match(page.body, /Escalations 3 weeks or more after a review date/)
  assert.match(page.body, /Ben Cole/)
  assert.equal((await lee.get('/delivery-partner/partnership-pack?delivery_partner=south-hub')).statusCode, 403)
  const bad = await lee.get('/delivery-partner/partnership-pack?half_term=2024-winter-1')
  assert.equal(bad.statusCode, 400)
  assert.deepEqual(errorSummary(bad.body), ['half_term: Select a half term'])

  const download = await lee.get(
    '/delivery-partner/partnership-pack?lead_provider=edt&delivery_partner=north-star&half_term=2022-autumn-2&format=xlsx',
  )
  assert.equal(download.statusCode, 200)
  assert.equal(download.headers['content-disposition'], 'attachment; filename="partnership-pack-edt-north-star-2022-autumn-2.xlsx"')
  const workbook = new ExcelJS.Workbook()
  await workbook.xlsx.load(download.rawPayload as unknown as ArrayBuffer)
  assert.deepEqual(
    workbook.worksheets.map((s) => s.name),
    ['About', 'Engagement', 'Outputs due', 'Escalations'],
  )

  const ada = await as(emails.ada)
  const choose = await ada.get('/lead-provider/partnership-pack')
  assert.equal(choose.statusCode, 200)
  assert.match(choose.body, /Select a delivery partner/)
  assert.match(
    (await ada.get('/lead-provider/partnership-pack?delivery_partner=south-hub')).body,
    /South Hub with Education Development Trust/,
  )
  assert.equal((await ada.get('/lead-provider/partnership-pack?delivery_partner=southern-lights')).statusCode, 403)
  const unknown = await ada.get('/lead-provider/partnership-pack?delivery_partner=nowhere')
  assert.deepEqual(errorSummary(unknown.body), ['delivery_partner: Select a delivery partner that works with Education Development Trust'])
})
