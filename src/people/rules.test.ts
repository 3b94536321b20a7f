import assert from 'node:assert/strict'
import { test } from 'node:test'
import { courseIdentifiers } from '../catalogue/courses.ts'
import { courseDomains, describeChange, domainsOf, movement, readRatings } from './domains.ts'
import { groupSizeProblem, isEmail, isPhone } from './rules.ts'

// The pure rules of issue 9's people: buddy sizes, the learning audit's domains, ratings and movement.

test('buddies are pairs or threes; other groups have no size rule', () => {
  assert.match(groupSizeProblem('buddies', 0)!, /select 2 or 3/)
  assert.match(groupSizeProblem('buddies', 1)!, /select 2 or 3/)
  assert.equal(groupSizeProblem('buddies', 2), null)
  assert.equal(groupSizeProblem('buddies', 3), null)
  assert.match(groupSizeProblem('buddies', 4)!, /more than 3/)
  for (const kind of ['clinic-group', 'community', 'peer-learning-group'] as const) {
    assert.equal(groupSizeProblem(kind, 0), null)
    assert.equal(groupSizeProblem(kind, 40), null)
  }
})

test('every course in the catalogue has learning audit domains, with unique keys', () => {
  for (const course of courseIdentifiers) {
    const domains = domainsOf(course)
    assert.ok(domains.length >= 5, course)
    assert.equal(new Set(domains.map((d) => d.key)).size, domains.length, course)
    for (const d of domains) assert.match(d.key, /^[a-z0-9-]+$/)
  }
  assert.deepEqual(domainsOf('npq-unknown'), [])
  assert.ok(courseDomains['npq-headship']!.some((d) => d.name === 'School culture'))
})

test('an audit needs a rating of 1 to 5 for every domain', () => {
  const domains = domainsOf('npq-leading-teaching')
  const full = Object.fromEntries(domains.map((d, i) => [`rating-${d.key}`, String((i % 5) + 1)]))
  const ok = readRatings(domains, full)
  assert.ok(ok.ok)
  assert.equal(Object.keys(ok.ratings).length, domains.length)
  const bad = readRatings(domains, { ...full, [`rating-${domains[0]!.key}`]: '6', [`rating-${domains[1]!.key}`]: '' })
  assert.ok(!bad.ok)
  assert.deepEqual(
    bad.missing.map((d) => d.key),
    [domains[0]!.key, domains[1]!.key],
  )
  assert.ok(!readRatings(domains, { ...full, [`rating-${domains[2]!.key}`]: ['3', '4'] }).ok)
})

test('movement compares the first and latest audit for each domain', () => {
  const domains = domainsOf('npq-leading-teaching')
  const [a, b] = [domains[0]!.key, domains[1]!.key]
  const moves = movement(domains, [{ ratings: { [a]: 2, [b]: 4 } }, { ratings: { [a]: 3, [b]: 4 } }, { ratings: { [a]: 5, [b]: 3 } }])
  assert.deepEqual(moves[0]!.ratings, [2, 3, 5])
  assert.equal(moves[0]!.change, 3)
  assert.equal(moves[1]!.change, -1)
  assert.equal(moves[2]!.change, null)
  assert.equal(movement(domains, [{ ratings: { [a]: 2 } }])[0]!.change, null)
  assert.equal(describeChange(3), 'Up 3')
  assert.equal(describeChange(-1), 'Down 1')
  assert.equal(describeChange(0), 'No change')
  assert.equal(describeChange(null), 'Not yet compared')
})

test('contact details are checked like form fields', () => {
  assert.ok(isEmail('npq.help@edt.org.uk'))
  assert.ok(!isEmail('npq.help'))
  assert.ok(!isEmail('a b@c.d'))
  assert.ok(isPhone('0118 902 1000'))
  assert.ok(isPhone('+44 (0)118 902 1000'))
  assert.ok(!isPhone('call me'))
  assert.ok(!isPhone('12'))
})
