import assert from 'node:assert/strict'
import { test } from 'node:test'
import { chooseGroup } from './groups.ts'

// Choosing a new member's group: the fewest members, ties to the first by name.

test('the group with the fewest members', () => {
  const groups = [
    { name: 'Group 1', members: 12 },
    { name: 'Group 2', members: 9 },
    { name: 'Group 3', members: 10 },
  ]
  assert.equal(chooseGroup(groups)?.name, 'Group 2')
})

test('a tie goes to the first by name, numbers in names compared as numbers', () => {
  assert.equal(
    chooseGroup([
      { name: 'Group 10', members: 4 },
      { name: 'Group 2', members: 4 },
      { name: 'Group 1', members: 5 },
    ])?.name,
    'Group 2',
  )
  assert.equal(
    chooseGroup([
      { name: 'Tuesday evenings', members: 0 },
      { name: 'Monday mornings', members: 0 },
    ])?.name,
    'Monday mornings',
  )
})

test('no group: nothing chosen, and the list given is left as it was', () => {
  assert.equal(chooseGroup([]), undefined)
  const groups = [
    { name: 'B', members: 2 },
    { name: 'A', members: 1 },
  ]
  chooseGroup(groups)
  assert.deepEqual(
    groups.map((g) => g.name),
    ['B', 'A'],
  )
})
