import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatMoment, formatSpan, formatTime } from './times.ts'

test('event times read as GOV.UK writes them, in London time', () => {
  assert.equal(formatTime('2026-01-15T09:30:00Z'), '9:30am')
  assert.equal(formatTime('2026-06-15T11:00:00Z'), '12pm') // BST
  assert.equal(formatTime('2026-01-15T16:00:00Z'), '4pm')
  assert.equal(formatMoment('2026-06-15T08:30:00Z'), 'Monday 15 June 2026 at 9:30am')
  assert.equal(formatSpan('2026-01-15T09:30:00Z', '2026-01-15T16:00:00Z'), 'Thursday 15 January 2026, 9:30am to 4pm')
})
