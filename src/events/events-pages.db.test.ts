import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import type { TestServices } from '../test-support/services.ts'

// The events pages without a browser: a lead provider's central event open to every partner's
// participants, changing an event, access between organisations, and errors that change nothing.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
before(async () => {
  ;({ services, app, close } = await startDemoApp())
})
after(() => close())

const as = async (email: string) => {
  const agent = new Agent(app)
  await agent.signIn(email, demoPassword)
  return agent
}
const year = new Date().getFullYear() + 1
const offer = encodeURIComponent('edt|npq-headship|2022-autumn')
const form = (overrides: Record<string, string> = {}) => ({
  kind: 'conference',
  activity: '',
  title: 'Headship national conference',
  'date-day': '5',
  'date-month': '2',
  'date-year': String(year),
  starts: '10:00',
  ends: '15:00',
  joining_link: 'https://meet.example/conference',
  capacity: '300',
  ...overrides,
})

test('a lead-provider admin schedules a central event: every partner’s participants on the course may book it', async () => {
  const admin = await as('lead-provider-admin@demo.test')
  const page = await admin.get(`/lead-provider/events/new?offer=${offer}`)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /Schedule an event/)

  // A conference must deliver a design activity; the form says so and nothing is saved.
  const refused = await admin.post(`/lead-provider/events/new?offer=${offer}`, form())
  assert.equal(refused.statusCode, 400)
  assert.match(refused.body, /Select the activity this event delivers/)
  assert.equal(
    await services.db.selectFrom('events').select('id').where('title', '=', 'Headship national conference').executeTakeFirst(),
    undefined,
  )

  const welcome = await admin.post(`/lead-provider/events/new?offer=${offer}`, form({ kind: 'welcome' }))
  assert.equal(welcome.statusCode, 303)
  const event = await services.db
    .selectFrom('events')
    .select(['id', 'delivery_partner_id'])
    .where('title', '=', 'Headship national conference')
    .executeTakeFirstOrThrow()
  assert.equal(event.delivery_partner_id, null)

  const priya = await as('participant@demo.test')
  assert.match((await priya.get('/participant/events')).body, /Headship national conference/)
  const booked = await priya.post(`/participant/events/${event.id}/book`, {}, { csrfFrom: `/participant/events/${event.id}` })
  assert.equal(booked.statusCode, 303)
  assert.match((await priya.get(booked.headers.location as string)).body, /You are booked on this event/)

  // The delivery partner's lead does not run a central event: they can see it only if it is theirs.
  const lead = await as('delivery-partner-lead@demo.test')
  assert.equal((await lead.get(`/delivery-partner/events/${event.id}`)).statusCode, 404)
  assert.equal((await admin.get(`/lead-provider/events/${event.id}`)).statusCode, 200)
})

test('changing an event keeps its bookings; a wrong change shows each error and changes nothing', async () => {
  const lead = await as('delivery-partner-lead@demo.test')
  const created = await lead.post(
    `/delivery-partner/events/new?offer=${offer}`,
    form({ kind: 'welcome', title: 'Welcome evening', capacity: '2', joining_link: '', venue: 'Hub hall' }),
  )
  assert.equal(created.statusCode, 303)
  const url = (created.headers.location as string).split('?')[0]!
  const id = url.split('/').pop()!
  const priya = await as('participant@demo.test')
  await priya.post(`/participant/events/${id}/book`, {}, { csrfFrom: `/participant/events/${id}` })

  const edit = await lead.get(`${url}/edit`)
  assert.match(edit.body, /value="Welcome evening"/)
  const wrong = await lead.post(
    `${url}/edit`,
    form({ kind: 'welcome', title: 'Welcome evening', capacity: '0', ends: '09:00', venue: 'Hub hall', joining_link: '' }),
  )
  assert.equal(wrong.statusCode, 400)
  assert.match(wrong.body, /The end must be after the start/)
  assert.match(wrong.body, /Capacity must be a whole number, 1 or more/)
  const stored = await services.db.selectFrom('events').select(['capacity', 'title']).where('id', '=', id).executeTakeFirstOrThrow()
  assert.deepEqual(stored, { capacity: 2, title: 'Welcome evening' })

  const moved = await lead.post(
    `${url}/edit`,
    form({
      kind: 'welcome',
      title: 'Welcome evening',
      capacity: '40',
      starts: '18:00',
      ends: '19:30',
      venue: 'Hub hall',
      joining_link: '',
    }),
  )
  assert.equal(moved.statusCode, 303)
  const changed = await services.db
    .selectFrom('email_outbox')
    .select('subject')
    .where('to_address', '=', 'participant@demo.test')
    .where('subject', '=', 'Event changed: Welcome evening')
    .executeTakeFirst()
  assert.ok(changed, 'the booked participant is told of the new time')
  assert.match((await lead.get(url)).body, /1 of 40 booked/)
})

test('another delivery partner’s lead, a facilitator or a participant cannot run the event', async () => {
  const event = await services.db.selectFrom('events').select('id').where('title', '=', 'Welcome evening').executeTakeFirstOrThrow()
  const facilitator = await as('facilitator@demo.test')
  assert.equal((await facilitator.get(`/delivery-partner/events/${event.id}`)).statusCode, 403)
  const priya = await as('participant@demo.test')
  assert.equal((await priya.get(`/delivery-partner/events/${event.id}/edit`)).statusCode, 403)
  const lead = await as('delivery-partner-lead@demo.test')
  assert.equal((await lead.get('/delivery-partner/events/00000000-0000-4000-8000-000000000000')).statusCode, 404)
})

test('a participant booked on one date of a session sees why they cannot book another date, instead of a button', async () => {
  const priya = await as('participant@demo.test')
  const dates = await services.db.selectFrom('events').select('id').where('title', 'like', 'Demo: %(date _)').orderBy('starts_at').execute()
  assert.equal(dates.length, 2)
  await priya.post(`/participant/events/${dates[0]!.id}/book`, {}, { csrfFrom: `/participant/events/${dates[0]!.id}` })
  const other = await priya.get(`/participant/events/${dates[1]!.id}`)
  assert.doesNotMatch(other.body, /Book a place/)
  assert.match(other.body, /You are already booked on this session on another date/)
})
