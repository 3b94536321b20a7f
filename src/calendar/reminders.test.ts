import assert from 'node:assert/strict'
import { test } from 'node:test'
import { withCalendarNote } from '../email/transports.ts'
import { addDays, bookingReminderDue, bookingReminderDueAt, registerReminderDue, registerReminderDueAt } from './reminders.ts'

// When reminders are due, as pure functions of the time: London dates and clock changes, the window in
// which a late job still catches up, and never twice.

test('a booking reminder is due at 8am London time, the given number of days before the London date of the start', () => {
  // Winter (GMT): Tuesday 15 November 2022 at 9:30am; two days before is Sunday 13th at 8am.
  assert.equal(bookingReminderDueAt('2022-11-15T09:30:00Z', 2).toISOString(), '2022-11-13T08:00:00.000Z')
  // Summer (BST): 8am London is 7am UTC.
  assert.equal(bookingReminderDueAt('2023-06-20T08:30:00Z', 1).toISOString(), '2023-06-19T07:00:00.000Z')
  // Across the clocks going back (Sunday 30 October 2022): still 8am London on each side.
  assert.equal(bookingReminderDueAt('2022-11-01T10:00:00Z', 3).toISOString(), '2022-10-29T07:00:00.000Z')
  // A start just after midnight London time in summer is the next day in London, not the UTC day.
  assert.equal(bookingReminderDueAt('2023-06-19T23:30:00Z', 0).toISOString(), '2023-06-20T07:00:00.000Z')
  assert.equal(addDays('2024-03-01', -1), '2024-02-29')
})

test('a booking reminder is due from its time until the event starts, once, and not for places booked after it was due', () => {
  const facts = { startsAt: '2022-11-15T09:30:00Z', daysBefore: 2, bookedAt: '2022-11-01T12:00:00Z', alreadySent: false }
  assert.equal(bookingReminderDue(facts, new Date('2022-11-13T07:59:59Z')), false)
  assert.equal(bookingReminderDue(facts, new Date('2022-11-13T08:00:00Z')), true)
  assert.equal(bookingReminderDue(facts, new Date('2022-11-15T09:29:00Z')), true, 'a job that was down catches up')
  assert.equal(bookingReminderDue(facts, new Date('2022-11-15T09:30:00Z')), false, 'not once it has started')
  assert.equal(bookingReminderDue({ ...facts, alreadySent: true }, new Date('2022-11-14T10:00:00Z')), false)
  assert.equal(bookingReminderDue({ ...facts, bookedAt: '2022-11-14T10:00:00Z' }, new Date('2022-11-14T10:15:00Z')), false)
  // Zero days: the morning of the event.
  assert.equal(bookingReminderDue({ ...facts, daysBefore: 0 }, new Date('2022-11-15T08:00:00Z')), true)
  assert.equal(bookingReminderDue({ ...facts, daysBefore: 0 }, new Date('2022-11-14T08:00:00Z')), false)
})

test('a register reminder is due at 9am London on the day after the event, for 14 days, unless taken, sent or cancelled', () => {
  const facts = { endsAt: '2022-11-15T16:00:00Z', status: 'scheduled' as const, registerTaken: false, alreadySent: false }
  assert.equal(registerReminderDueAt(facts.endsAt).toISOString(), '2022-11-16T09:00:00.000Z')
  // An evening event ending at 11:30pm BST is on the 19th in London: the reminder goes on the 20th.
  assert.equal(registerReminderDueAt('2023-06-19T22:30:00Z').toISOString(), '2023-06-20T08:00:00.000Z')
  assert.equal(registerReminderDue(facts, new Date('2022-11-16T08:59:00Z')), false)
  assert.equal(registerReminderDue(facts, new Date('2022-11-16T09:00:00Z')), true)
  assert.equal(registerReminderDue(facts, new Date('2022-11-30T08:59:00Z')), true)
  assert.equal(registerReminderDue(facts, new Date('2022-11-30T09:00:00Z')), false, 'registers lock after 14 days')
  assert.equal(registerReminderDue({ ...facts, registerTaken: true }, new Date('2022-11-17T09:00:00Z')), false)
  assert.equal(registerReminderDue({ ...facts, alreadySent: true }, new Date('2022-11-17T09:00:00Z')), false)
  assert.equal(registerReminderDue({ ...facts, status: 'cancelled' }, new Date('2022-11-17T09:00:00Z')), false)
})

test('through GOV.UK Notify (no attachments), an email with a calendar invitation points to the calendar link page instead', () => {
  const body = 'Hello Ana,\n\nYou are booked on F2F.\n\nDetails: https://npq.example/participant/events/abc\n'
  const ics = { filename: 'event.ics', contentType: 'text/calendar; charset=utf-8; method=REQUEST', content: 'BEGIN:VCALENDAR' }
  assert.equal(withCalendarNote({ to: 'a@b.test', subject: 'x', body }), body)
  assert.match(
    withCalendarNote({ to: 'a@b.test', subject: 'x', body, attachments: [ics] }),
    /Details: https:\/\/npq\.example\/participant\/events\/abc\n\nTo keep your NPQ events in your calendar app, create your private calendar link at https:\/\/npq\.example\/account\/calendar\n$/,
  )
  assert.match(
    withCalendarNote({ to: 'a@b.test', subject: 'x', body: 'Hello', attachments: [ics] }),
    /the Calendar link page of your account/,
  )
})
