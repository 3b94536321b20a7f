import assert from 'node:assert/strict'
import { test } from 'node:test'
import { londonDateOf, londonMoment, londonTimeOf } from './london.ts'

test('a moment falls on the date it has in London, in winter (GMT) and summer (BST)', () => {
  assert.equal(londonDateOf(new Date('2022-11-24T23:59:59Z')), '2022-11-24')
  assert.equal(londonDateOf(new Date('2023-06-22T23:30:00Z')), '2023-06-23') // 00:30 BST
  assert.equal(londonDateOf(new Date('2023-06-22T22:59:59Z')), '2023-06-22')
  assert.equal(londonDateOf(new Date('2023-03-26T00:30:00Z')), '2023-03-26')
})

test('a London date and time is the moment it denotes, in GMT and BST; impossible ones are null', () => {
  assert.equal(londonMoment('2026-01-15', '09:30')?.toISOString(), '2026-01-15T09:30:00.000Z')
  assert.equal(londonMoment('2026-06-15', '09:30')?.toISOString(), '2026-06-15T08:30:00.000Z')
  assert.equal(londonMoment('2026-10-25', '14:00')?.toISOString(), '2026-10-25T14:00:00.000Z') // the day BST ends
  assert.equal(londonMoment('2026-02-31', '09:00'), null)
  assert.equal(londonMoment('2026-02-01', '24:00'), null)
  assert.equal(londonMoment('1 Feb 2026', '09:00'), null)
  assert.equal(londonTimeOf(new Date('2026-06-15T08:30:00Z')), '09:30')
  assert.equal(londonTimeOf(new Date('2026-01-15T16:05:00Z')), '16:05')
})
