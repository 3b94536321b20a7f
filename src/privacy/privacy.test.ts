import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addYears, erasureBlockers, erasureDueOn, isDueForErasure, type RetentionEnrolment, type RetentionFacts } from './retention.ts'

const ended = (endedOn: string | null, status: RetentionEnrolment['status'] = 'completed', retentionYears = 7): RetentionEnrolment => ({
  status,
  endedOn,
  retentionYears,
})
const facts = (enrolments: RetentionEnrolment[], more: Partial<RetentionFacts> = {}): RetentionFacts => ({
  enrolments,
  declarationStates: ['paid'],
  openSafeguardingConcerns: 0,
  anonymised: false,
  ...more,
})

test('addYears keeps the day, and 29 February becomes 28 February', () => {
  assert.equal(addYears('2024-07-31', 7), '2031-07-31')
  assert.equal(addYears('2024-02-29', 7), '2031-02-28')
  assert.equal(addYears('2024-02-29', 4), '2028-02-29')
})

test('due on the day the retention period after the last enrolment to end has passed, not the day before', () => {
  const person = facts([ended('2023-07-31'), ended('2024-03-15', 'withdrawn')])
  assert.equal(erasureDueOn(person), '2031-03-15')
  assert.equal(isDueForErasure(person, '2031-03-14'), false)
  assert.equal(isDueForErasure(person, '2031-03-15'), true)
  assert.equal(isDueForErasure(person, '2040-01-01'), true)
})

test('each enrolment counts its own lead provider’s period', () => {
  const person = facts([ended('2023-07-31', 'completed', 10), ended('2024-03-15', 'completed', 3)])
  assert.equal(erasureDueOn(person), '2033-07-31')
})

test('never while an enrolment is accepted, active or deferred, or ended without a known date', () => {
  for (const status of ['accepted', 'active', 'deferred'] as const) {
    const person = facts([ended('2010-01-01'), ended(null, status)])
    assert.equal(isDueForErasure(person, '2099-01-01'), false, status)
    assert.match(erasureBlockers(person)[0]!, new RegExp(`still ${status}`))
  }
  assert.equal(isDueForErasure(facts([ended(null, 'completed')]), '2099-01-01'), false)
  assert.match(erasureBlockers(facts([ended(null, 'withdrawn')]))[0]!, /without a known end date/)
})

test('never while a declaration may still be paid or clawed back; settled ones do not stop it', () => {
  for (const state of ['submitted', 'eligible', 'payable', 'awaiting-clawback'] as const) {
    const person = facts([ended('2010-01-01')], { declarationStates: ['paid', state] })
    assert.equal(isDueForErasure(person, '2099-01-01'), false, state)
    assert.match(erasureBlockers(person).join(' '), /DfE funding rules/)
  }
  const settled = facts([ended('2010-01-01')], { declarationStates: ['paid', 'voided', 'ineligible', 'clawed-back'] })
  assert.deepEqual(erasureBlockers(settled), [])
  assert.equal(isDueForErasure(settled, '2099-01-01'), true)
})

test('never while a safeguarding concern they raised is open; never twice; never without an enrolment', () => {
  assert.equal(isDueForErasure(facts([ended('2010-01-01')], { openSafeguardingConcerns: 1 }), '2099-01-01'), false)
  assert.match(erasureBlockers(facts([ended('2010-01-01')], { openSafeguardingConcerns: 1 }))[0]!, /safeguarding/)
  assert.equal(isDueForErasure(facts([ended('2010-01-01')], { anonymised: true }), '2099-01-01'), false)
  assert.equal(isDueForErasure(facts([]), '2099-01-01'), false)
})
