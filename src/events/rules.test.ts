import assert from 'node:assert/strict'
import { test } from 'node:test'
import { bookingProblem, cancellationProblem, type BookingFacts } from './booking.ts'
import { readEventForm } from './event-form.ts'

// The pure rules of booking and of reading the scheduling form, with the time passed in.

const now = new Date('2026-03-01T12:00:00Z')
const facts = (overrides: Partial<BookingFacts> = {}, event: Partial<BookingFacts['event']> = {}): BookingFacts => ({
  event: {
    status: 'scheduled',
    starts_at: '2026-03-10T09:30:00Z',
    booking_opens_at: null,
    booking_closes_at: null,
    capacity: 10,
    booked: 3,
    ...event,
  },
  enrolmentStatus: 'active',
  onThisEvent: null,
  sameActivity: null,
  waitingListWanted: false,
  now,
  ...overrides,
})

test('booking: open places can be booked; each reason for refusing is said plainly', () => {
  assert.equal(bookingProblem(facts()), null)
  assert.equal(bookingProblem(facts({ enrolmentStatus: null })), 'This event is not open to you')
  assert.match(bookingProblem(facts({ enrolmentStatus: 'deferred' }))!, /deferred/)
  assert.match(bookingProblem(facts({ enrolmentStatus: 'withdrawn' }))!, /withdrawn/)
  assert.equal(bookingProblem(facts({}, { status: 'cancelled' })), 'This event has been cancelled')
  assert.equal(bookingProblem(facts({}, { starts_at: '2026-03-01T12:00:00Z' })), 'This event has already started')
  assert.equal(
    bookingProblem(facts({}, { booking_opens_at: '2026-03-02T00:00:00Z' })),
    'Booking for this event opens on Monday 2 March 2026 at 12am',
  )
  assert.equal(
    bookingProblem(facts({}, { booking_closes_at: '2026-03-01T11:59:00Z' })),
    'Booking for this event closed on Sunday 1 March 2026 at 11:59am',
  )
  assert.equal(bookingProblem(facts({ onThisEvent: 'booked' })), 'You are already booked on this event')
  assert.equal(bookingProblem(facts({ onThisEvent: 'waiting' })), 'You are already on the waiting list for this event')
  assert.match(
    bookingProblem(facts({ sameActivity: { title: 'F2F 1', startsAt: '2026-03-17T09:30:00Z' } }))!,
    /another date \(F2F 1, Tuesday 17 March 2026 at 9:30am\)/,
  )
  assert.equal(bookingProblem(facts({}, { booked: 10 })), 'This event is full: join the waiting list instead')
  assert.equal(bookingProblem(facts({ waitingListWanted: true }, { booked: 10 })), null)
})

test('cancelling: until the cut-off (or the start), not after', () => {
  const event = { status: 'scheduled' as const, starts_at: '2026-03-10T09:30:00Z', cancel_by: '2026-03-08T23:59:00Z' }
  assert.equal(cancellationProblem(event, now), null)
  assert.match(cancellationProblem(event, new Date('2026-03-09T08:00:00Z'))!, /^Cancellations closed on Sunday 8 March 2026 at 11:59pm/)
  assert.equal(cancellationProblem({ ...event, cancel_by: null }, new Date('2026-03-10T09:00:00Z')), null)
  assert.equal(cancellationProblem({ ...event, cancel_by: null }, new Date('2026-03-10T09:30:00Z')), 'This event has already started')
})

const offer = { leadProviderId: 'lp', deliveryPartnerId: 'dp', courseIdentifier: 'npq-headship', cohort: '2025-autumn' }
const form = {
  kind: 'f2f',
  activity: 'NPQH-B1-F2F',
  'date-day': '29',
  'date-month': '3',
  'date-year': '2026',
  starts: '09:30',
  ends: '16:00',
  venue: 'Hub',
  capacity: '30',
}

test('the scheduling form: London times across the clock change, and a message per wrong field', () => {
  const { inputs } = readEventForm(form, offer)
  // 29 March 2026 is the day British Summer Time starts: 09:30 in London is 08:30 UTC.
  assert.equal(inputs![0]!.startsAt.toISOString(), '2026-03-29T08:30:00.000Z')
  assert.equal(inputs![0]!.endsAt.toISOString(), '2026-03-29T15:00:00.000Z')
  const wrong = readEventForm(
    { ...form, 'date-day': '31', 'date-month': '2', starts: '9.30', capacity: 'lots', reminder_days: 'x', kind: 'party' },
    offer,
  )
  assert.equal(wrong.inputs, null)
  assert.deepEqual(
    wrong.problems.map((p) => `${p.field}: ${p.message}`),
    [
      'kind: Select the kind of event',
      'date-day: Enter a real date, for example 15 11 2026',
      'capacity: Enter the number of places as a whole number, for example 30',
      'reminder_days: Enter the reminder as a number of days, for example 2',
    ],
  )
  const badTime = readEventForm({ ...form, starts: '9.30', ends: '25:00' }, offer)
  assert.deepEqual(
    badTime.problems.map((p) => p.field),
    ['starts', 'ends'],
  )
  const series = readEventForm(
    {
      ...form,
      title: 'PLG',
      'date-1-day': '1',
      'date-1-month': '4',
      'date-1-year': '2026',
      'starts-1': '14:00',
      'ends-1': '17:00',
      'activity-1': 'A',
      'date-2-day': '1',
      'date-2-month': '5',
      'date-2-year': '2026',
      'starts-2': '14:00',
      'ends-2': '17:00',
      'activity-2': 'B',
    },
    offer,
    2,
  )
  assert.deepEqual(
    series.inputs!.map((i) => [i.title, i.activityCode, i.startsAt.toISOString()]),
    [
      ['PLG 1', 'A', '2026-04-01T13:00:00.000Z'],
      ['PLG 2', 'B', '2026-05-01T13:00:00.000Z'],
    ],
  )
})
