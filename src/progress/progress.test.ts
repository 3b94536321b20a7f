import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pointsToGate } from './progress.ts'

test('points to the 90% line round up, so a shortfall never shows as none', () => {
  assert.equal(pointsToGate(0.9), 0)
  assert.equal(pointsToGate(0.95), 0)
  assert.equal(pointsToGate(0.8), 10)
  assert.equal(pointsToGate(0.8999), 0.1)
  assert.equal(pointsToGate(0.5), 40)
  assert.equal(pointsToGate(0), 90)
})
