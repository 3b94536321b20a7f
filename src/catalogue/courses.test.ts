import assert from 'node:assert/strict'
import { test } from 'node:test'
import { courses, declarationTypesOfGroup, findCourse } from './courses.ts'

test('all eleven DfE courses with their short names, groups, lengths and outputs', () => {
  assert.equal(courses.length, 11)
  assert.equal(new Set(courses.map((c) => c.identifier)).size, 11)
  assert.deepEqual(findCourse('npq-headship'), {
    identifier: 'npq-headship',
    name: 'NPQ for Headship',
    shortName: 'NPQH',
    group: 'leadership',
    months: 18,
  })
  assert.equal(findCourse('npq-leading-literacy')?.months, 12)
  assert.equal(findCourse('npq-early-headship-coaching-offer')?.group, 'ehco')
  assert.deepEqual(declarationTypesOfGroup.leadership, ['started', 'retained-1', 'retained-2', 'completed'])
  assert.deepEqual(declarationTypesOfGroup.specialist, ['started', 'retained-1', 'completed'])
  assert.deepEqual(declarationTypesOfGroup.ehco, ['started', 'retained-1', 'completed'])
})
