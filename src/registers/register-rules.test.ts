import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addDays, completionDateProblem, dateFromParts, lockedFrom, registerRules } from './register-rules.ts'

// An event at 9:30am London time on Tuesday 1 November 2022 (GMT).
const startsAt = '2022-11-01T09:30:00Z'
const rules = (now: string, mayChangeLocked = false, cancelled = false) =>
  registerRules({ startsAt, cancelled, now: new Date(now), mayChangeLocked })

test('marks lock from the 14th day after the London date of the start', () => {
  assert.equal(lockedFrom('2022-11-01'), '2022-11-15')
  assert.equal(addDays('2023-03-20', 14), '2023-04-03')
  assert.equal(addDays('2024-02-20', 10), '2024-03-01')
  assert.equal(rules('2022-11-14T23:59:00Z').locked, false)
  assert.equal(rules('2022-11-15T00:00:00Z').locked, true)
  // London dates, not UTC: a start at 00:30 BST on 1 June is still 31 May in UTC.
  const june = registerRules({
    startsAt: '2023-05-31T23:30:00Z',
    cancelled: false,
    now: new Date('2023-06-14T22:59:00Z'),
    mayChangeLocked: false,
  })
  assert.equal(june.startsOn, '2023-06-01')
  assert.equal(june.locked, false, '23:59 on 14 June in London')
  const later = registerRules({
    startsAt: '2023-05-31T23:30:00Z',
    cancelled: false,
    now: new Date('2023-06-14T23:00:00Z'),
    mayChangeLocked: false,
  })
  assert.equal(later.locked, true, '00:00 on 15 June in London')
})

test('a facilitator marks until the lock; a lead changes locked marks with a reason', () => {
  const facilitatorOpen = rules('2022-11-08T12:00:00Z')
  assert.equal(facilitatorOpen.canMark, true)
  assert.equal(facilitatorOpen.markNeedsReason, false)
  const leadOpen = rules('2022-11-08T12:00:00Z', true)
  assert.equal(leadOpen.canMark, true)
  assert.equal(leadOpen.markNeedsReason, false)

  const facilitatorLocked = rules('2022-12-01T12:00:00Z')
  assert.equal(facilitatorLocked.canMark, false)
  assert.match(facilitatorLocked.markRefusal!, /locked 14 days after the event/)
  assert.equal(facilitatorLocked.canRecordContingency, true, 'contingency completions come later by nature')

  const leadLocked = rules('2022-12-01T12:00:00Z', true)
  assert.equal(leadLocked.canMark, true)
  assert.equal(leadLocked.markNeedsReason, true)
  assert.equal(leadLocked.canRecordContingency, true)
})

test('nothing is marked before the start or on a cancelled event', () => {
  const before = rules('2022-11-01T09:29:00Z', true)
  assert.equal(before.started, false)
  assert.equal(before.canMark, false)
  assert.equal(before.canRecordContingency, false)
  assert.equal(before.markRefusal, 'The register opens when the event starts')
  assert.equal(rules('2022-11-01T09:30:00Z').canMark, true, 'from the start')

  const cancelled = rules('2022-11-02T09:00:00Z', true, true)
  assert.equal(cancelled.canMark, false)
  assert.equal(cancelled.canRecordContingency, false)
  assert.match(cancelled.markRefusal!, /cancelled/)
})

test('a contingency completion falls between the event and today', () => {
  assert.equal(completionDateProblem('2022-11-01', '2022-11-01', '2022-11-20'), null)
  assert.equal(completionDateProblem('2022-11-20', '2022-11-01', '2022-11-20'), null)
  assert.match(completionDateProblem('2022-10-31', '2022-11-01', '2022-11-20')!, /on or after the date of the event/)
  assert.match(completionDateProblem('2022-11-21', '2022-11-01', '2022-11-20')!, /today or in the past/)
})

test('dates typed as day, month and year', () => {
  assert.equal(dateFromParts('5', '11', '2022'), '2022-11-05')
  assert.equal(dateFromParts(' 05 ', '11', '2022'), '2022-11-05')
  assert.equal(dateFromParts('31', '2', '2023'), null)
  assert.equal(dateFromParts('', '11', '2022'), null)
  assert.equal(dateFromParts('5', '11', '22'), null)
  assert.equal(dateFromParts('x', '11', '2022'), null)
})
