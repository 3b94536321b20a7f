import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { importFile } from '../imports/import-file.ts'
import { attendanceImporter } from '../imports/attendance.ts'
import { buildApp } from '../routes.ts'
import { Agent, csrfToken, textOf } from '../test-support/agent.ts'
import { organisation, partnership, person, systemPrincipal } from '../test-support/fixtures.ts'
import { createTestServices, type TestServices } from '../test-support/services.ts'
import { currentRegisterEntries } from './register-entries.ts'

// Facilitators' registers through the pages: the facilitator's events, marks in one go, walk-ins,
// contingency completions, the 14-day lock, errors that change nothing, and the CSV export that the
// attendance import reads back unchanged.

const password = 'a long test password'
const DAY = 86_400_000
let services: TestServices
let app: FastifyInstance
let northStar: string
const ids: Record<string, string> = {}
const events: Record<string, string> = {}

const participant = (n: number) => `00000000-0000-4000-8000-0000000001${String(n).padStart(2, '0')}`
// ana, ben, cat are booked; dan may walk in; eve is on another course, fay at another partner, gus in another cohort.
const people = ['ana', 'ben', 'cat', 'dan', 'eve', 'fay', 'gus', 'hal'] as const

before(async () => {
  services = await createTestServices()
  const db = services.db
  const edt = await organisation(db, 'lead-provider', 'edt', 'Education Development Trust')
  northStar = await organisation(db, 'delivery-partner', 'north-star-tsh', 'North Star Teaching School Hub')
  const river = await organisation(db, 'delivery-partner', 'river-tsh', 'River Teaching School Hub')
  await partnership(db, edt, northStar)
  await partnership(db, edt, river)
  ids.facilitator = await person(services, 'fran@hub.test', 'facilitator', northStar, password)
  ids.otherFacilitator = await person(services, 'otto@hub.test', 'facilitator', northStar, password)
  ids.lead = await person(services, 'lena@hub.test', 'delivery-partner-lead', northStar, password)
  ids.riverLead = await person(services, 'rory@river.test', 'delivery-partner-lead', river, password)
  ids.admin = await person(services, 'ada@edt.test', 'lead-provider-admin', edt, password)

  for (const [i, name] of people.entries()) {
    ids[name] = participant(i + 1)
    await db
      .insertInto('participants')
      .values({
        id: ids[name]!,
        full_name: `${name[0]!.toUpperCase()}${name.slice(1)} Test`,
        email: `${name}@school.test`,
        trn: `30000${i + 10}`,
      })
      .execute()
    const [course, cohort, dp] =
      name === 'eve'
        ? ['npq-headship', '2022-autumn', northStar]
        : name === 'fay'
          ? ['npq-leading-teaching', '2022-autumn', river]
          : name === 'gus'
            ? ['npq-leading-teaching', '2023-autumn', northStar]
            : ['npq-leading-teaching', '2022-autumn', northStar]
    await db
      .insertInto('enrolments')
      .values({ participant_id: ids[name]!, lead_provider_id: edt, delivery_partner_id: dp, course_identifier: course, cohort })
      .execute()
  }

  const now = Date.now()
  const event = async (ref: string, startsAt: Date, booked: string[]) => {
    const row = await db
      .insertInto('events')
      .values({
        event_ref: ref,
        lead_provider_id: edt,
        delivery_partner_id: northStar,
        course_identifier: 'npq-leading-teaching',
        cohort: '2022-autumn',
        activity_code: 'NPQLT-B1-F2F',
        kind: 'f2f',
        title: `Session ${ref}`,
        starts_at: startsAt.toISOString(),
        ends_at: new Date(startsAt.getTime() + 3 * 3_600_000).toISOString(),
        starts_on: londonDateOf(startsAt),
        capacity: 20,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await db.insertInto('event_facilitators').values({ event_id: row.id, user_id: ids.facilitator! }).execute()
    for (const name of booked) {
      await db
        .insertInto('bookings')
        .values({ event_id: row.id, participant_id: ids[name]!, status: 'booked', booked_at: new Date().toISOString() })
        .execute()
    }
    return row.id
  }
  events.recent = await event('NS-F2F-RECENT', new Date(now - 2 * DAY), ['ana', 'ben', 'cat'])
  events.locked = await event('NS-F2F-LOCKED', new Date(now - 30 * DAY), ['ana', 'ben'])
  events.upcoming = await event('NS-F2F-UPCOMING', new Date(now + 3 * DAY), ['ana'])
  // hal is on the waiting list of the recent event, and cancelled a place on it: neither is on the register.
  await db.insertInto('bookings').values({ event_id: events.recent, participant_id: ids.hal!, status: 'waiting' }).execute()

  app = await buildApp(services)
  await app.ready()
})
after(async () => {
  await app.close()
  await services.dispose()
})

async function signedIn(email: string): Promise<Agent> {
  const agent = new Agent(app)
  await agent.signIn(email, password)
  return agent
}

/** Posts a form with repeated fields (checkboxes), with the CSRF token of the register page. */
async function submit(agent: Agent, url: string, fields: [string, string][], csrfFrom: string) {
  const csrf = csrfToken((await agent.get(csrfFrom)).body)
  return app.inject({
    method: 'POST',
    url,
    payload: new URLSearchParams([['_csrf', csrf], ...fields]).toString(),
    headers: { cookie: agent.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
  })
}

const registerUrl = (event: string) => `/events/${events[event]}/register`
const mark = (agent: Agent, event: string, status: string, who: string[], extra: [string, string][] = []) =>
  submit(
    agent,
    registerUrl(event),
    [...who.map((w): [string, string] => ['participants', ids[w] ?? w]), ['mark', status], ...extra],
    registerUrl(event),
  )

async function entries(event: string) {
  const rows = await currentRegisterEntries(services.db)
    .innerJoin('participants as p', 'p.id', 'r.participant_id')
    .select(['p.email', 'r.status', 'r.completed_on', 'r.note', 'r.contingency_method', 'r.change_reason'])
    .where('r.event_id', '=', events[event]!)
    .orderBy('p.email')
    .execute()
  return Object.fromEntries(rows.map((r) => [r.email.split('@')[0]!, r]))
}
const countEntries = async () =>
  Number(
    (
      await services.db
        .selectFrom('register_entries')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
const errorSummary = (html: string) => textOf(html, 'div', 'govuk-error-summary') ?? ''

test("the facilitator's events: recent and upcoming, with whether each register is taken", async () => {
  const agent = await signedIn('fran@hub.test')
  const page = await agent.get('/facilitator/events')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /href="\/facilitator\/events"/, 'in the navigation')
  const recent = textOf(page.body, 'table')!
  assert.match(recent, /Session NS-F2F-RECENT.*Register not taken/)
  assert.match(recent, /Session NS-F2F-LOCKED.*Register not taken/)
  assert.match(page.body, /Session NS-F2F-UPCOMING[\s\S]*Not started/)

  // Another facilitator is named on none of them; a lead has no facilitator's list.
  const other = await (await signedIn('otto@hub.test')).get('/facilitator/events')
  assert.doesNotMatch(other.body, /NS-F2F/)
  assert.equal((await (await signedIn('lena@hub.test')).get('/facilitator/events')).statusCode, 403)
})

test('who may take a register: its facilitators, the partner’s leads, the provider’s admins', async () => {
  assert.equal((await (await signedIn('fran@hub.test')).get(registerUrl('recent'))).statusCode, 200)
  assert.equal((await (await signedIn('lena@hub.test')).get(registerUrl('recent'))).statusCode, 200)
  assert.equal((await (await signedIn('ada@edt.test')).get(registerUrl('recent'))).statusCode, 200)
  assert.equal(
    (await (await signedIn('otto@hub.test')).get(registerUrl('recent'))).statusCode,
    403,
    'sees the event, is not its facilitator',
  )
  assert.equal((await (await signedIn('rory@river.test')).get(registerUrl('recent'))).statusCode, 404, 'another partner’s event')
  assert.equal((await (await signedIn('rory@river.test')).get(`${registerUrl('recent')}.csv`)).statusCode, 404)
  assert.equal((await (await signedIn('fran@hub.test')).get('/events/not-an-id/register')).statusCode, 404)
  const anonymous = await new Agent(app).get(registerUrl('recent'))
  assert.notEqual(anonymous.statusCode, 200)
})

test('an upcoming event’s register does not open before the start', async () => {
  const agent = await signedIn('fran@hub.test')
  const page = await agent.get(registerUrl('upcoming'))
  assert.match(page.body, /The register opens when the event starts/)
  assert.doesNotMatch(page.body, /Mark selected as attended/)
  const refused = await mark(agent, 'upcoming', 'attended', ['ana'])
  assert.equal(refused.statusCode, 400)
  assert.match(errorSummary(refused.body), /The register opens when the event starts/)
  assert.deepEqual(await entries('upcoming'), {})
})

test('a facilitator marks the register in one go, adds a walk-in, records a contingency completion', async () => {
  const agent = await signedIn('fran@hub.test')
  const page = await agent.get(registerUrl('recent'))
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /data-module="moj-multi-select"/)
  assert.match(page.body, /Register not taken/)
  assert.match(page.body, /3 of 3 booked participants still to mark/)
  assert.doesNotMatch(page.body, /Hal Test<br>/, 'the waiting list is not on the register')
  const before = await countEntries()

  // Mistakes: nothing changes.
  const nothing = await mark(agent, 'recent', 'attended', [])
  assert.equal(nothing.statusCode, 400)
  assert.match(errorSummary(nothing.body), /Select the participants to mark as attended/)
  assert.match(nothing.body, /href="#participants"/)
  assert.match(nothing.body, /<title>Error: /)
  const stranger = await mark(agent, 'recent', 'attended', ['ana', 'dan'])
  assert.equal(stranger.statusCode, 400)
  assert.match(errorSummary(stranger.body), /A selected participant is not on this register: add them as a walk-in first/)
  assert.match(stranger.body, new RegExp(`value="${ids.ana}" checked`), 'the selection is kept')
  const unknown = await mark(agent, 'recent', 'absent', ['nonsense'])
  assert.equal(unknown.statusCode, 400)
  const noButton = await mark(agent, 'recent', 'maybe', ['ana'])
  assert.equal(noButton.statusCode, 400)
  assert.equal(await countEntries(), before)

  const attended = await mark(agent, 'recent', 'attended', ['ana', 'ben'])
  assert.equal(attended.statusCode, 303)
  assert.equal(attended.headers.location, `${registerUrl('recent')}?done=attended&count=2`)
  const after = await agent.get(attended.headers.location)
  assert.match(after.body, /2 participants marked as attended/)
  assert.match(after.body, /Register not taken/)
  assert.match(after.body, /1 of 3 booked participant/)

  assert.equal((await mark(agent, 'recent', 'absent', ['cat'])).statusCode, 303)
  const taken = await agent.get(registerUrl('recent'))
  assert.match(taken.body, /Register taken/)
  const event = await services.db
    .selectFrom('events')
    .select(['register_taken_at', 'register_taken_by'])
    .where('id', '=', events.recent!)
    .executeTakeFirstOrThrow()
  assert.ok(event.register_taken_at)
  assert.equal(event.register_taken_by, ids.facilitator)
  assert.deepEqual(Object.fromEntries(Object.entries(await entries('recent')).map(([k, v]) => [k, v.status])), {
    ana: 'attended',
    ben: 'attended',
    cat: 'absent',
  })
  // Marking again what the register already says adds nothing.
  await mark(agent, 'recent', 'attended', ['ana'])
  assert.equal(await countEntries(), before + 3)

  // A walk-in: only someone of this partner, course and cohort who is not on the register.
  const walkIn = (who: string) => submit(agent, `${registerUrl('recent')}/walk-in`, [['walkIn', ids[who] ?? who]], registerUrl('recent'))
  for (const [who, message] of [
    ['eve', /That participant is not on npq-leading-teaching in cohort 2022-autumn with North Star Teaching School Hub/],
    ['fay', /That participant is not on npq-leading-teaching in cohort 2022-autumn with North Star/],
    ['gus', /That participant is not on npq-leading-teaching in cohort 2022-autumn/],
    ['00000000-0000-4000-8000-000000000999', /Select a participant from the list/],
    ['', /Select the participant who attended/],
    ['ana', /Ana Test is already on this register/],
  ] as const) {
    const refused = await walkIn(who)
    assert.equal(refused.statusCode, 400, who)
    assert.match(errorSummary(refused.body), message)
  }
  assert.equal(await countEntries(), before + 3)
  const form = await agent.get(registerUrl('recent'))
  assert.match(form.body, new RegExp(`value="${ids.dan}"`))
  assert.doesNotMatch(form.body, new RegExp(`<option value="${ids.eve}"`))
  const added = await walkIn('dan')
  assert.equal(added.statusCode, 303)
  const withWalkIn = await agent.get(added.headers.location!)
  assert.match(withWalkIn.body, /The walk-in is added to the register as attended/)
  assert.match(withWalkIn.body, /Dan Test<br>[\s\S]*?Walk-in/)
  assert.equal((await entries('recent')).dan?.status, 'attended')

  // A contingency completion, for someone marked absent.
  const yesterday = new Date(Date.now() - DAY)
  const [y, m, d] = londonDateOf(yesterday).split('-')
  const contingency = (fields: Record<string, string>) =>
    submit(
      agent,
      `${registerUrl('recent')}/contingency`,
      Object.entries({
        contingencyParticipant: ids.cat!,
        method: 'recording',
        'completedOn-day': d!,
        'completedOn-month': m!,
        'completedOn-year': y!,
        note: 'Watched the recording',
        ...fields,
      }),
      registerUrl('recent'),
    )
  const empty = await contingency({ method: '', 'completedOn-day': '', 'completedOn-month': '', 'completedOn-year': '', note: ' ' })
  assert.equal(empty.statusCode, 400)
  const summary = errorSummary(empty.body)
  assert.match(summary, /Select what the participant did instead/)
  assert.match(summary, /Enter the date the contingency activity was completed/)
  assert.match(summary, /Enter a note saying what was done/)
  assert.match(empty.body, /href="#completedOn-day"/)
  assert.match(errorSummary((await contingency({ 'completedOn-day': '31', 'completedOn-month': '2' })).body), /must be a real date/)
  const tomorrow = londonDateOf(new Date(Date.now() + DAY)).split('-')
  const future = await contingency({ 'completedOn-day': tomorrow[2]!, 'completedOn-month': tomorrow[1]!, 'completedOn-year': tomorrow[0]! })
  assert.match(errorSummary(future.body), /must be today or in the past/)
  const early = londonDateOf(new Date(Date.now() - 5 * DAY)).split('-')
  const tooEarly = await contingency({ 'completedOn-day': early[2]!, 'completedOn-month': early[1]!, 'completedOn-year': early[0]! })
  assert.match(errorSummary(tooEarly.body), /on or after the date of the event/)
  assert.match(errorSummary((await contingency({ contingencyParticipant: ids.ana! })).body), /Ana Test is not marked absent/)
  assert.match(errorSummary((await contingency({ contingencyParticipant: ids.eve! })).body), /Select a participant on this register/)
  assert.match(errorSummary((await contingency({ method: 'guesswork' })).body), /Select what the participant did instead/)
  assert.equal(await countEntries(), before + 4)

  const recorded = await contingency({ method: 'mop-up-session', note: 'Came to the mop-up on Thursday' })
  assert.equal(recorded.statusCode, 303)
  const cat = (await entries('recent')).cat!
  assert.equal(cat.status, 'contingency-completed')
  assert.equal(cat.contingency_method, 'mop-up-session')
  assert.equal(cat.completed_on, londonDateOf(yesterday))
  assert.equal(cat.note, 'Came to the mop-up on Thursday')
  const shown = await agent.get(recorded.headers.location!)
  assert.match(shown.body, /The contingency completion is recorded/)
  assert.match(shown.body, /Contingency completed[\s\S]*?Mop-up session/)

  const audit = await services.db
    .selectFrom('audit_events')
    .select(['action', 'after'])
    .where('entity_type', 'in', ['register-entry', 'event'])
    .where('actor_user_id', '=', ids.facilitator!)
    .execute()
  assert.equal(audit.filter((a) => a.action === 'register-entry.recorded').length, 4)
  assert.equal(audit.filter((a) => a.action === 'register-entry.corrected').length, 1)
  assert.equal(audit.filter((a) => a.action === 'event.register-taken').length, 1)
})

test('14 days after the event marks are locked: a lead changes them with a reason; contingencies are still recorded', async () => {
  await services.db.transaction().execute(async (trx) => {
    const { recordRegisterEntry } = await import('./register-entries.ts')
    for (const [who, status] of [
      ['ana', 'attended'],
      ['ben', 'absent'],
    ] as const) {
      await recordRegisterEntry(trx, systemPrincipal, {
        eventId: events.locked!,
        participantId: ids[who]!,
        status,
        completedAt: null,
        completedOn: null,
        note: null,
      })
    }
  })
  const facilitator = await signedIn('fran@hub.test')
  const page = await facilitator.get(registerUrl('locked'))
  assert.match(page.body, /Attended and absent marks locked on .*: ask a delivery partner lead to change them/)
  assert.doesNotMatch(page.body, /Mark selected as attended/)
  assert.doesNotMatch(page.body, /Add a walk-in/)
  const refused = await mark(facilitator, 'locked', 'absent', ['ana'])
  assert.equal(refused.statusCode, 400)
  assert.match(errorSummary(refused.body), /locked 14 days after the event/)
  const walkIn = await submit(facilitator, `${registerUrl('locked')}/walk-in`, [['walkIn', ids.dan!]], registerUrl('locked'))
  assert.equal(walkIn.statusCode, 400)
  assert.equal((await entries('locked')).ana?.status, 'attended')

  // The facilitator still records Ben's catch-up: contingency completions come later by nature.
  const [y, m, d] = londonDateOf(new Date(Date.now() - 3 * DAY)).split('-')
  const caughtUp = await submit(
    facilitator,
    `${registerUrl('locked')}/contingency`,
    [
      ['contingencyParticipant', ids.ben!],
      ['method', 'another-delivery-partner-event'],
      ['completedOn-day', d!],
      ['completedOn-month', m!],
      ['completedOn-year', y!],
      ['note', 'Went to River TSH session'],
    ],
    registerUrl('locked'),
  )
  assert.equal(caughtUp.statusCode, 303)
  assert.equal((await entries('locked')).ben?.contingency_method, 'another-delivery-partner-event')

  const lead = await signedIn('lena@hub.test')
  const leadPage = await lead.get(registerUrl('locked'))
  assert.match(leadPage.body, /Give a reason for any change you make to them/)
  assert.match(leadPage.body, /Reason for changing the locked register/)
  const noReason = await mark(lead, 'locked', 'absent', ['ana'])
  assert.equal(noReason.statusCode, 400)
  assert.match(errorSummary(noReason.body), /Enter why the locked register is being changed/)
  assert.equal((await entries('locked')).ana?.status, 'attended')
  const changed = await mark(lead, 'locked', 'absent', ['ana'], [['reason', 'Signed in but left before the session began']])
  assert.equal(changed.statusCode, 303)
  const ana = (await entries('locked')).ana!
  assert.equal(ana.status, 'absent')
  assert.equal(ana.change_reason, 'Signed in but left before the session began')
  const audit = await services.db
    .selectFrom('audit_events')
    .select(['action', 'before', 'after'])
    .where('action', '=', 'register-entry.corrected')
    .where('actor_user_id', '=', ids.lead!)
    .executeTakeFirstOrThrow()
  const json = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v) as Record<string, unknown>
  assert.equal(json(audit.before).status, 'attended')
  assert.equal(json(audit.after).changeReason, 'Signed in but left before the session began')
  const shown = await lead.get(registerUrl('locked'))
  assert.match(shown.body, /Changed after the register locked: Signed in but left before the session began/)
})

test('the register as CSV: the attendance columns, current entries only, read back unchanged by the import', async () => {
  const agent = await signedIn('ada@edt.test')
  const response = await agent.get(`${registerUrl('recent')}.csv`)
  assert.equal(response.statusCode, 200)
  assert.match(String(response.headers['content-type']), /^text\/csv/)
  assert.match(String(response.headers['content-disposition']), /attachment; filename="register-NS-F2F-RECENT\.csv"/)
  const lines = response.body.trim().split('\n')
  assert.equal(lines[0], 'event_id,participant_id,status,completed_at,note')
  assert.equal(lines.length, 5, 'ana, ben, cat, dan: one line each, however often corrected')
  const cat = lines.find((l) => l.includes(ids.cat!))!
  assert.match(
    cat,
    /^NS-F2F-RECENT,[0-9a-f-]{36},contingency-completed,\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z,Came to the mop-up on Thursday$/,
  )

  const before = await countEntries()
  const result = await importFile(services, attendanceImporter, response.body, systemPrincipal)
  assert.deepEqual(
    { created: result.created, updated: result.updated, unchanged: result.unchanged },
    { created: 0, updated: 0, unchanged: 4 },
  )
  assert.equal(await countEntries(), before)
  assert.equal((await entries('recent')).cat?.contingency_method, 'mop-up-session', 'the import keeps how it was made up')

  // A change made on the page, then the old file imported: the register is back as it was exported.
  await mark(await signedIn('fran@hub.test'), 'recent', 'absent', ['ana'])
  const restored = await importFile(services, attendanceImporter, response.body, systemPrincipal)
  assert.equal(restored.updated, 1)
  assert.equal((await agent.get(`${registerUrl('recent')}.csv`)).body, response.body)
})
