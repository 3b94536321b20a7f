import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { Principal } from '../policy/principal.ts'
import { Agent, csrfToken } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'
import { createGroup, placeInGroup, placeUngrouped } from './groups.ts'

// Participant groups against the database: placement in the smallest group (Group 1 created when the
// partner has none), moving on a cohort change, adding groups with their refusals, a lead kept to
// their own partner's groups, moving between groups from the page, the lead provider's read-only list.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

const system: Principal = { kind: 'system', name: 'test' }
const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const orgId = async (kind: 'lead-provider' | 'delivery-partner' | 'school', code: string) =>
  (await services.db.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow())
    .id
const userId = async (email: string) =>
  (await services.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id
const place = (enrolmentId: string) => services.db.transaction().execute((trx) => placeInGroup(trx, system, enrolmentId))
const groupOf = async (enrolmentId: string) =>
  (await services.db
    .selectFrom('group_memberships as m')
    .innerJoin('participant_groups as g', 'g.id', 'm.group_id')
    .select(['g.id', 'g.name', 'g.cohort'])
    .where('m.enrolment_id', '=', enrolmentId)
    .executeTakeFirst()) ?? null
const groupsOf = async (dp: string, course: string, cohort: string) =>
  services.db
    .selectFrom('participant_groups')
    .select(['id', 'name', 'facilitator_user_id'])
    .where('delivery_partner_id', '=', dp)
    .where('course_identifier', '=', course)
    .where('cohort', '=', cohort)
    .orderBy('name')
    .execute()

/** A new accepted place at a delivery partner (North Star unless given) for a course and cohort. */
async function enrolment(cohort: string, options: { dp?: string | null; course?: string } = {}) {
  const n = crypto.randomBytes(3).toString('hex')
  const participantId = crypto.randomUUID()
  const fullName = `Tomasz Nowak ${n}`
  await services.db
    .insertInto('participants')
    .values({
      id: participantId,
      full_name: fullName,
      email: `tomasz.${n}@schools.demo.test`,
      trn: String(4000000 + (parseInt(n, 16) % 999999)),
    })
    .execute()
  const dp = options.dp === undefined ? 'north-star-tsh' : options.dp
  const e = await services.db
    .insertInto('enrolments')
    .values({
      participant_id: participantId,
      lead_provider_id: await orgId('lead-provider', 'edt'),
      delivery_partner_id: dp ? await orgId('delivery-partner', dp) : null,
      school_id: await orgId('school', '100001'),
      course_identifier: options.course ?? 'npq-senior-leadership',
      cohort,
      status: 'accepted',
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return { id: e.id, name: fullName }
}

test('placement: Group 1 is created when there is none, then the group with the fewest members; placing again changes nothing', async () => {
  const northStar = await orgId('delivery-partner', 'north-star-tsh')
  const a = await enrolment('2031-autumn')
  const first = await place(a.id)
  assert.deepEqual(
    { name: first?.groupName, outcome: first?.outcome, created: first?.createdGroup },
    { name: 'Group 1', outcome: 'placed', created: true },
  )
  assert.deepEqual(
    (await groupsOf(northStar, 'npq-senior-leadership', '2031-autumn')).map((g) => g.name),
    ['Group 1'],
  )

  await services.db.transaction().execute((trx) =>
    createGroup(trx, system, {
      deliveryPartnerId: northStar,
      courseIdentifier: 'npq-senior-leadership',
      cohort: '2031-autumn',
      name: 'Group 2',
      facilitatorUserId: null,
    }),
  )
  const b = await enrolment('2031-autumn')
  assert.equal((await place(b.id))?.groupName, 'Group 2') // 1 member against 0
  const c = await enrolment('2031-autumn')
  assert.equal((await place(c.id))?.groupName, 'Group 1') // 1 each: the first by name
  const d = await enrolment('2031-autumn')
  assert.equal((await place(d.id))?.groupName, 'Group 2')

  // A withdrawn member no longer takes a place in the count.
  await services.db.updateTable('enrolments').set({ status: 'withdrawn' }).where('id', '=', c.id).execute()
  const e = await enrolment('2031-autumn')
  assert.equal((await place(e.id))?.groupName, 'Group 1')

  const again = await place(a.id)
  assert.deepEqual({ name: again?.groupName, outcome: again?.outcome }, { name: 'Group 1', outcome: 'unchanged' })
  const audits = await services.db
    .selectFrom('audit_events')
    .select('action')
    .where('entity_id', '=', a.id)
    .where('action', 'like', 'enrolment.group-%')
    .execute()
  assert.deepEqual(
    audits.map((r) => r.action),
    ['enrolment.group-placed'],
  )

  // No delivery partner, or withdrawn: nothing.
  const noPartner = await enrolment('2031-autumn', { dp: null })
  assert.equal(await place(noPartner.id), null)
  assert.equal(await groupOf(noPartner.id), null)
  assert.equal(await place(c.id), null)
})

test('placing again after a cohort change moves the enrolment to a group of the new cohort', async () => {
  const a = await enrolment('2033-spring')
  await place(a.id)
  const before = await groupOf(a.id)
  assert.equal(before?.cohort, '2033-spring')
  await services.db.updateTable('enrolments').set({ cohort: '2033-autumn' }).where('id', '=', a.id).execute()
  const moved = await place(a.id)
  assert.equal(moved?.outcome, 'moved')
  const now = await groupOf(a.id)
  assert.deepEqual({ name: now?.name, cohort: now?.cohort }, { name: 'Group 1', cohort: '2033-autumn' })
  assert.notEqual(now?.id, before?.id)
  const audit = await services.db
    .selectFrom('audit_events')
    .select(['before', 'after'])
    .where('entity_id', '=', a.id)
    .where('action', '=', 'enrolment.group-moved')
    .executeTakeFirstOrThrow()
  assert.equal((audit.before as { cohort: string }).cohort, '2033-spring')
  assert.equal((audit.after as { cohort: string }).cohort, '2033-autumn')
})

test('adding a group from the page; a duplicate name or a facilitator who is not one is refused, nothing saved', async () => {
  const northStar = await orgId('delivery-partner', 'north-star-tsh')
  const a = await enrolment('2034-autumn')
  await place(a.id)
  const lead = await as('delivery-partner-lead@demo.test')
  const list = await lead.get('/delivery-partner/groups')
  assert.equal(list.statusCode, 200)
  assert.match(list.body, /Senior Leadership, 2034-autumn/)
  const pair = `${northStar}|npq-senior-leadership|2034-autumn`

  const duplicate = await lead.post('/delivery-partner/groups', { course_cohort: pair, name: ' group 1 ', facilitator: '' })
  assert.equal(duplicate.statusCode, 400)
  assert.match(duplicate.body, /govuk-error-summary/)
  assert.match(duplicate.body, /There is already a group called Group 1 for [^:]+, 2034-autumn: choose another name/)
  assert.equal((await groupsOf(northStar, 'npq-senior-leadership', '2034-autumn')).length, 1)

  const notFacilitator = await lead.post('/delivery-partner/groups', {
    course_cohort: pair,
    name: 'Group 2',
    facilitator: await userId('delivery-partner-lead@demo.test'),
  })
  assert.equal(notFacilitator.statusCode, 400)
  assert.match(notFacilitator.body, /Choose a facilitator of your delivery partner/)
  assert.equal((await groupsOf(northStar, 'npq-senior-leadership', '2034-autumn')).length, 1)

  const blank = await lead.post('/delivery-partner/groups', { course_cohort: '', name: '  ' })
  assert.equal(blank.statusCode, 400)
  assert.match(blank.body, /Choose the course and cohort of the group/)
  assert.match(blank.body, /Enter a name for the group/)

  const facilitator = await userId('facilitator@demo.test')
  const added = await lead.post('/delivery-partner/groups', { course_cohort: pair, name: 'Group 2', facilitator })
  assert.equal(added.statusCode, 303)
  const groups = await groupsOf(northStar, 'npq-senior-leadership', '2034-autumn')
  assert.deepEqual(
    groups.map((g) => [g.name, g.facilitator_user_id]),
    [
      ['Group 1', null],
      ['Group 2', facilitator],
    ],
  )
  const page = await lead.get(added.headers.location as string)
  assert.match(page.body, /Group 2 is added to/)
  assert.match(page.body, /Fatima Hussain/)
})

test('a delivery partner lead cannot see or change another partner’s group', async () => {
  const eastCoast = await orgId('delivery-partner', 'east-coast-tsh')
  const theirs = await enrolment('2035-autumn', { dp: 'east-coast-tsh' })
  await place(theirs.id)
  const other = await services.db.transaction().execute((trx) =>
    createGroup(trx, system, {
      deliveryPartnerId: eastCoast,
      courseIdentifier: 'npq-senior-leadership',
      cohort: '2035-autumn',
      name: 'Group 2',
      facilitatorUserId: null,
    }),
  )
  const groupOne = (await groupOf(theirs.id))!
  const lead = await as('delivery-partner-lead@demo.test')
  assert.equal((await lead.get(`/delivery-partner/groups/${groupOne.id}`)).statusCode, 404)
  assert.equal((await lead.get('/delivery-partner/groups/not-a-uuid')).statusCode, 404)
  const csrf = csrfToken((await lead.get('/delivery-partner/groups')).body)
  const move = await lead.post(`/delivery-partner/groups/${groupOne.id}/move`, { enrolment: theirs.id, group: other.id }, { csrf })
  assert.equal(move.statusCode, 404)
  assert.equal((await groupOf(theirs.id))?.id, groupOne.id)
  // Nor add a group for that partner's course and cohort.
  const add = await lead.post(
    '/delivery-partner/groups',
    { course_cohort: `${eastCoast}|npq-senior-leadership|2035-autumn`, name: 'Group 3' },
    { csrf },
  )
  assert.equal(add.statusCode, 400)
  assert.equal((await groupsOf(eastCoast, 'npq-senior-leadership', '2035-autumn')).length, 2)
  assert.doesNotMatch((await lead.get('/delivery-partner/groups')).body, /2035-autumn/)

  // Someone without the role is refused the pages.
  const participant = await as('participant@demo.test')
  assert.equal((await participant.get('/delivery-partner/groups')).statusCode, 403)
  assert.equal((await participant.get('/lead-provider/groups')).statusCode, 403)
})

test('moving a participant between groups from the page; bad input shows the error summary and changes nothing', async () => {
  const northStar = await orgId('delivery-partner', 'north-star-tsh')
  const a = await enrolment('2036-autumn')
  const b = await enrolment('2036-autumn')
  await place(a.id)
  await place(b.id)
  const groupOne = (await groupOf(a.id))!
  const groupTwo = await services.db.transaction().execute((trx) =>
    createGroup(trx, system, {
      deliveryPartnerId: northStar,
      courseIdentifier: 'npq-senior-leadership',
      cohort: '2036-autumn',
      name: 'Group 2',
      facilitatorUserId: null,
    }),
  )
  // A group of another course or cohort is not a place to move to.
  const elsewhere = await enrolment('2037-autumn')
  await place(elsewhere.id)
  const otherCohort = (await groupOf(elsewhere.id))!

  const lead = await as('delivery-partner-lead@demo.test')
  const page = await lead.get(`/delivery-partner/groups/${groupOne.id}`)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, new RegExp(a.name))
  assert.match(page.body, new RegExp(b.name))
  assert.match(page.body, /Accepted/)
  const url = `/delivery-partner/groups/${groupOne.id}/move`

  const nothing = await lead.post(url, { enrolment: '', group: '' }, { csrfFrom: `/delivery-partner/groups/${groupOne.id}` })
  assert.equal(nothing.statusCode, 400)
  assert.match(nothing.body, /There is a problem/)
  assert.match(nothing.body, /Choose a participant in Group 1 to move/)
  assert.match(nothing.body, /Choose the group to move them to/)
  const wrongCohort = await lead.post(
    url,
    { enrolment: a.id, group: otherCohort.id },
    { csrfFrom: `/delivery-partner/groups/${groupOne.id}` },
  )
  assert.equal(wrongCohort.statusCode, 400)
  assert.equal((await groupOf(a.id))?.id, groupOne.id)

  const moved = await lead.post(url, { enrolment: a.id, group: groupTwo.id }, { csrfFrom: `/delivery-partner/groups/${groupOne.id}` })
  assert.equal(moved.statusCode, 303)
  assert.equal((await groupOf(a.id))?.id, groupTwo.id)
  assert.equal((await groupOf(b.id))?.id, groupOne.id)
  const after = await lead.get(moved.headers.location as string)
  assert.match(after.body, new RegExp(`${a.name} is moved to Group 2`))
  const two = await lead.get(`/delivery-partner/groups/${groupTwo.id}`)
  assert.match(two.body, new RegExp(a.name))
  const audit = await services.db
    .selectFrom('audit_events')
    .select(['actor_user_id', 'after'])
    .where('entity_id', '=', a.id)
    .where('action', '=', 'enrolment.group-moved')
    .executeTakeFirstOrThrow()
  assert.equal(audit.actor_user_id, await userId('delivery-partner-lead@demo.test'))
  assert.equal((audit.after as { groupName: string }).groupName, 'Group 2')
})

test('existing places are grouped by placeUngrouped; the lead provider sees their partners’ groups read-only', async () => {
  await placeUngrouped(services.db, system)
  const left = await services.db
    .selectFrom('enrolments as e')
    .leftJoin('group_memberships as m', 'm.enrolment_id', 'e.id')
    .select('e.id')
    .where('e.delivery_partner_id', 'is not', null)
    .where('e.status', 'in', ['accepted', 'active', 'deferred'])
    .where('m.enrolment_id', 'is', null)
    .execute()
  assert.deepEqual(left, [])
  assert.equal(await placeUngrouped(services.db, system), 0)

  const admin = await as('lead-provider-admin@demo.test')
  const page = await admin.get('/lead-provider/groups')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /North Star Teaching School Hub/)
  assert.match(page.body, /East Coast Teaching School Hub/)
  assert.doesNotMatch(page.body, /Southern Lights/) // not one of EDT's partners
  assert.doesNotMatch(page.body, /<form method="post" action="\/delivery-partner/)
  const lead = await as('delivery-partner-lead@demo.test')
  assert.equal((await lead.get('/lead-provider/groups')).statusCode, 403)
})
