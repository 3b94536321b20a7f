import assert from 'node:assert/strict'
import { test } from 'node:test'
import { enrolmentStatuses } from '../db/schema.ts'
import { canTransition, transitionProblem } from './lifecycle.ts'

// The enrolment state machine of issue 7, move by move.

test('the allowed moves, and no others', () => {
  const allowed = enrolmentStatuses.flatMap((from) =>
    enrolmentStatuses.filter((to) => canTransition(from, to)).map((to) => `${from}→${to}`),
  )
  assert.deepEqual(allowed, [
    'accepted→active',
    'accepted→withdrawn',
    'active→deferred',
    'active→withdrawn',
    'active→completed',
    'deferred→active',
    'deferred→withdrawn',
    'withdrawn→active',
  ])
})

test('refusals say why', () => {
  assert.equal(transitionProblem('deferred', 'deferred'), 'The enrolment is already deferred')
  assert.equal(transitionProblem('withdrawn', 'withdrawn'), 'The enrolment is already withdrawn')
  assert.equal(
    transitionProblem('withdrawn', 'active'),
    'The participant has withdrawn from this course: only a lead-provider admin can reinstate them',
  )
  assert.equal(transitionProblem('withdrawn', 'active', true), null, 'a lead-provider admin reinstates')
  assert.equal(transitionProblem('withdrawn', 'deferred', true), 'The participant has withdrawn from this course: nothing more can change')
  assert.equal(transitionProblem('accepted', 'deferred'), 'An enrolment that is accepted cannot become deferred')
  assert.equal(transitionProblem('active', 'deferred'), null)
})
