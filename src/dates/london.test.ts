import assert from 'node:assert/strict'
import { test } from 'node:test'
import { londonDateOf } from './london.ts'

test('a moment falls on the date it has in London, in winter (GMT) and summer (BST)', () => {
  assert.equal(londonDateOf(new Date('2022-11-24T23:59:59Z')), '2022-11-24')
  assert.equal(londonDateOf(new Date('2023-06-22T23:30:00Z')), '2023-06-23') // 00:30 BST
  assert.equal(londonDateOf(new Date('2023-06-22T22:59:59Z')), '2023-06-22')
  assert.equal(londonDateOf(new Date('2023-03-26T00:30:00Z')), '2023-03-26')
})
