import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addMonths, contactOn, proposedCohort, returnDateProblem } from './requests.ts'

// The pure rules of a deferral: the cohort to return into and the 12-month limit on the return.

test('the proposed cohort is the same season next year when the provider runs the course in it', () => {
  assert.equal(proposedCohort('2022-autumn', ['2022-autumn', '2023-spring', '2023-autumn']), '2023-autumn')
  // Otherwise the first later cohort it runs, or none.
  assert.equal(proposedCohort('2022-autumn', ['2022-autumn', '2023-spring', '2024-autumn']), '2023-spring')
  assert.equal(proposedCohort('2024-autumn', ['2022-autumn', '2024-autumn']), null)
})

test('a return more than 12 months after the start needs an override', () => {
  assert.equal(returnDateProblem('2025-03-01', '2026-03-01', false), null)
  assert.match(returnDateProblem('2025-03-01', '2026-03-02', false) ?? '', /no more than 12 months/)
  assert.equal(returnDateProblem('2025-03-01', '2026-09-01', true), null)
  assert.match(returnDateProblem('2025-03-01', '2025-03-01', true) ?? '', /after the deferral starts/)
})

test('months are added on the calendar, clamped to the month’s end; contact is 3 months before the return', () => {
  assert.equal(addMonths('2025-01-31', 1), '2025-02-28')
  assert.equal(addMonths('2024-01-31', 1), '2024-02-29')
  assert.equal(addMonths('2025-11-15', 3), '2026-02-15')
  assert.equal(contactOn('2026-01-10'), '2025-10-10')
})
