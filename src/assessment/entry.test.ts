import assert from 'node:assert/strict'
import { test } from 'node:test'
import { attemptState, entryDecision, recordedPercent, usesAttempt, wordLimitRefusal } from './entry.ts'
import { caseStudyReleased, windowPhase } from './windows.ts'

test('entry: 90% by the exact ratio, with no rounding up', () => {
  assert.equal(entryDecision({ ratio: 0.9, deferralRequestedByDeadline: false }), 'entered')
  assert.equal(entryDecision({ ratio: 1, deferralRequestedByDeadline: false }), 'entered')
  assert.equal(entryDecision({ ratio: 0.8999, deferralRequestedByDeadline: false }), 'not-entered')
  assert.equal(entryDecision({ ratio: 89.96 / 100, deferralRequestedByDeadline: false }), 'not-entered')
  assert.equal(recordedPercent(0.89999), 89.99)
  assert.equal(recordedPercent(0.9), 90)
})

test('entry: below 90% with a deferral requested by the deadline keeps the attempt', () => {
  assert.equal(entryDecision({ ratio: 0.5, deferralRequestedByDeadline: true }), 'kept')
  assert.equal(entryDecision({ ratio: 0.95, deferralRequestedByDeadline: true }), 'entered')
})

test('attempts: not entered, lost and submitted use one; kept does not', () => {
  assert.equal(usesAttempt({ decision: 'not-entered', outcome: null }), true)
  assert.equal(usesAttempt({ decision: 'entered', outcome: 'lost' }), true)
  assert.equal(usesAttempt({ decision: 'entered', outcome: 'submitted' }), true)
  assert.equal(usesAttempt({ decision: 'entered', outcome: 'kept' }), false)
  assert.equal(usesAttempt({ decision: 'kept', outcome: null }), false)
  assert.equal(usesAttempt({ decision: 'entered', outcome: null }), false)

  const lost = { decision: 'not-entered', outcome: null, result: null } as const
  const failed = { decision: 'entered', outcome: 'submitted', result: 'failed' } as const
  const marking = { decision: 'entered', outcome: 'submitted', result: null } as const
  const passed = { decision: 'entered', outcome: 'submitted', result: 'passed' } as const
  assert.deepEqual(attemptState([lost], 2), { used: 1, allowed: 2, pending: false, passed: false, needsNextAttempt: true })
  assert.equal(attemptState([failed], 2).needsNextAttempt, true)
  assert.equal(attemptState([marking], 2).needsNextAttempt, false)
  assert.equal(attemptState([passed], 2).needsNextAttempt, false)
  // Both used: no third attempt.
  assert.deepEqual(attemptState([lost, failed], 2), { used: 2, allowed: 2, pending: false, passed: false, needsNextAttempt: false })
  assert.equal(attemptState([{ decision: 'kept', outcome: null, result: null }], 2).needsNextAttempt, true)
})

test('word limits: over the maximum refused with how many to cut; empty refused', () => {
  assert.equal(wordLimitRefusal(1500, 1500, null), null)
  assert.match(wordLimitRefusal(1501, 1500, null)!, /1,501 words: the maximum is 1,500\. Shorten it by 1 words/)
  assert.match(wordLimitRefusal(0, 1500, null)!, /Write your response/)
  assert.match(wordLimitRefusal(10, 1500, 100)!, /minimum is 100/)
})

test('windows: before day 1, days 1 to 8, after; the case study from day 1', () => {
  const w = { opensOn: '2026-06-01', closesOn: '2026-06-08' }
  assert.equal(windowPhase(w, '2026-05-31'), 'upcoming')
  assert.equal(windowPhase(w, '2026-06-01'), 'open')
  assert.equal(windowPhase(w, '2026-06-08'), 'open')
  assert.equal(windowPhase(w, '2026-06-09'), 'closed')
  assert.equal(caseStudyReleased(w, '2026-05-31'), false)
  assert.equal(caseStudyReleased(w, '2026-06-01'), true)
})
