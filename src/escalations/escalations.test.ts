import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Catalogue } from '../catalogue/catalogue.ts'
import type { Principal } from '../policy/principal.ts'
import { halfTermById, halfTermOf, halfTermsBetween, nextHalfTerm } from './half-terms.ts'
import { awaitingSignOff, caseAccess, removalSignOffOf, signOffComplete } from './policy.ts'
import { sortByUrgency, type QueueEntry } from './queue.ts'

// The pure parts of escalation: the queue's order, who signs off a removal, and half terms.

test('the queue puts removals waiting for sign-off first, then contact, then encourage, longest since the review date first', () => {
  const entry = (id: string, stage: QueueEntry['stage'], daysSinceReview: number, name = id): QueueEntry => ({
    id,
    stage,
    daysSinceReview,
    name,
  })
  const sorted = sortByUrgency([
    entry('a', 'encourage', 20),
    entry('b', 'contact', 30),
    entry('c', 'removal-proposed', 40),
    entry('d', 'contact', 90),
    entry('e', 'encourage', 2),
    entry('f', 'resolved', 100),
    entry('g', 'removal-proposed', 60),
    entry('h', 'contact', 30, 'Aaron'),
  ])
  assert.deepEqual(
    sorted.map((e) => e.id),
    ['g', 'c', 'd', 'h', 'b', 'a', 'e', 'f'],
  )
})

test('sign-off follows each lead provider’s policy file: EDT and UCL jointly, Ambition by the partner', () => {
  const catalogue = Catalogue.load()
  assert.equal(removalSignOffOf(catalogue, 'edt'), 'joint')
  assert.equal(removalSignOffOf(catalogue, 'ambition'), 'delivery-partner')
  // UCL's sources say nothing about removal: the policy file takes the joint default.
  assert.equal(removalSignOffOf(catalogue, 'ucl'), 'joint')
  assert.equal(removalSignOffOf(catalogue, 'nobody'), 'joint')

  assert.equal(signOffComplete('joint', ['delivery-partner']), false)
  assert.equal(signOffComplete('joint', ['lead-provider']), false)
  assert.equal(signOffComplete('joint', ['delivery-partner', 'lead-provider']), true)
  assert.deepEqual(awaitingSignOff('joint', ['delivery-partner']), ['lead-provider'])
  assert.equal(signOffComplete('delivery-partner', ['delivery-partner']), true)
  assert.equal(signOffComplete('delivery-partner', []), false)
  assert.deepEqual(awaitingSignOff('delivery-partner', ['lead-provider']), ['delivery-partner'])
})

test('a delivery-partner lead works only their own partner’s cases; a lead-provider admin sees and decides their provider’s', () => {
  const user = (roles: [string, string][]): Principal => ({
    kind: 'user',
    userId: 'u',
    email: 'u@test',
    fullName: 'U',
    roles: roles.map(([role, organisationId]) => ({
      role: role as never,
      organisationId,
      organisationCode: '',
      organisationName: '',
      leadProviderIds: [],
    })),
  })
  const c = { leadProviderId: 'lp', deliveryPartnerId: 'dp' }
  assert.deepEqual(caseAccess(user([['delivery-partner-lead', 'dp']]), 'delivery-partner', c), {
    view: true,
    work: true,
    party: 'delivery-partner',
  })
  assert.deepEqual(caseAccess(user([['delivery-partner-lead', 'other']]), 'delivery-partner', c), { view: false, work: false, party: null })
  assert.deepEqual(caseAccess(user([['facilitator', 'dp']]), 'delivery-partner', c), { view: false, work: false, party: null })
  assert.deepEqual(caseAccess(user([['lead-provider-admin', 'lp']]), 'lead-provider', c), {
    view: true,
    work: false,
    party: 'lead-provider',
  })
  assert.deepEqual(caseAccess(user([['lead-provider-admin', 'lp2']]), 'lead-provider', c), { view: false, work: false, party: null })
  // The role counts in its own area only.
  assert.deepEqual(caseAccess(user([['lead-provider-admin', 'lp']]), 'delivery-partner', c), { view: false, work: false, party: null })
  assert.equal(
    caseAccess(user([['delivery-partner-lead', 'dp']]), 'delivery-partner', { leadProviderId: 'lp', deliveryPartnerId: null }).view,
    false,
  )
})

test('half terms cover the school year without a gap, leap years included', () => {
  assert.deepEqual(halfTermOf('2024-09-01'), {
    id: '2024-autumn-1',
    label: 'Autumn 1, 2024 to 2025',
    start: '2024-09-01',
    end: '2024-10-31',
  })
  assert.equal(halfTermOf('2024-10-31').id, '2024-autumn-1')
  assert.equal(halfTermOf('2024-11-01').id, '2024-autumn-2')
  assert.equal(halfTermOf('2025-01-01').id, '2024-spring-1')
  assert.deepEqual(halfTermOf('2024-02-29'), {
    id: '2023-spring-1',
    label: 'Spring 1, 2023 to 2024',
    start: '2024-01-01',
    end: '2024-02-29',
  })
  assert.equal(halfTermOf('2025-02-28').end, '2025-02-28')
  assert.equal(halfTermOf('2025-04-15').id, '2024-spring-2')
  assert.equal(halfTermOf('2025-04-16').id, '2024-summer-1')
  assert.equal(halfTermOf('2025-08-31').id, '2024-summer-2')
  assert.equal(halfTermOf('2025-09-01').id, '2025-autumn-1')

  const year = halfTermsBetween('2024-09-01', '2025-08-31')
  assert.deepEqual(
    year.map((h) => h.id),
    ['2024-autumn-1', '2024-autumn-2', '2024-spring-1', '2024-spring-2', '2024-summer-1', '2024-summer-2'],
  )
  for (let i = 1; i < year.length; i++) assert.equal(nextHalfTerm(year[i - 1]!).start, year[i]!.start)
  assert.equal(nextHalfTerm(year.at(-1)!).id, '2025-autumn-1')

  assert.deepEqual(halfTermById('2024-summer-1'), halfTermOf('2025-05-01'))
  assert.equal(halfTermById('2024-winter-1'), null)
  assert.equal(halfTermById('next'), null)
})
