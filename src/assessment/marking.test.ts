import assert from 'node:assert/strict'
import { test } from 'node:test'
import { markProblems, newScriptReference, sampleOf, spread, type SampleScript } from './marking.ts'

// The pure rules of marking: script references, spreading scripts, the moderation sample, mark checks.

test('script references are random and say nothing about the person', () => {
  const refs = new Set(Array.from({ length: 200 }, newScriptReference))
  for (const r of refs) assert.match(r, /^S-[2-9A-HJKMNP-TV-Z]{5}$/)
  assert.ok(refs.size > 190)
})

test('scripts spread evenly, topping up the assessors with fewest first', () => {
  assert.deepEqual(
    spread(5, [
      { userId: 'a', scripts: 0 },
      { userId: 'b', scripts: 0 },
    ]),
    ['a', 'b', 'a', 'b', 'a'],
  )
  assert.deepEqual(
    spread(3, [
      { userId: 'a', scripts: 4 },
      { userId: 'b', scripts: 1 },
    ]),
    ['b', 'b', 'b'],
  )
})

const scripts = (n: number, assessors: string[], mark: (i: number) => number = () => 70): SampleScript[] =>
  Array.from({ length: n }, (_, i) => {
    const m = mark(i)
    return {
      entryId: `entry-${i}`,
      assessorUserId: assessors[i % assessors.length]!,
      mark: m,
      result: m >= 50 ? 'passed' : 'failed',
      moderated: false,
    }
  })

test('the sample: at least 10%, one script per assessor, every fail near the boundary, reproducibly', () => {
  const all = scripts(40, ['a', 'b', 'c'])
  const sample = sampleOf('window-1', all)
  assert.equal(sample.size, 4) // 10% of 40
  for (const a of ['a', 'b', 'c']) assert.ok(all.some((s) => s.assessorUserId === a && sample.has(s.entryId)))
  // The same window and scripts give the same sample, whatever their order; another window another one.
  assert.deepEqual([...sampleOf('window-1', [...all].reverse())].sort(), [...sample].sort())
  assert.notDeepEqual([...sampleOf('window-2', all)].sort(), [...sample].sort())

  // Fails from 40, and passes under the guide of 50, are always in; clear fails need not be.
  const marked = scripts(30, ['a'], (i) => (i === 3 ? 42 : i === 5 ? 20 : 75))
  marked[7]!.mark = 48
  marked[7]!.result = 'passed'
  const withBoundary = sampleOf('w', marked)
  assert.ok(withBoundary.has('entry-3'))
  assert.ok(withBoundary.has('entry-7'))
  assert.ok(withBoundary.size >= 3)

  // Scripts already moderated stay in it; one script makes a sample of one.
  const moderated = scripts(20, ['a', 'b']).map((s, i) => ({ ...s, moderated: i === 11 }))
  assert.ok(sampleOf('w', moderated).has('entry-11'))
  assert.equal(sampleOf('w', scripts(1, ['a'])).size, 1)
})

test('a mark is a whole number from 0 to 100, with a result and feedback', () => {
  assert.deepEqual(markProblems({ mark: '64', result: 'passed', feedback: 'Good.' }), [])
  assert.deepEqual(
    markProblems({ mark: '', result: 'maybe', feedback: ' ' }).map((p) => p.field),
    ['mark', 'result', 'feedback'],
  )
  assert.equal(markProblems({ mark: '101', result: 'passed', feedback: 'x' })[0]!.message, 'Enter a whole number from 0 to 100')
  assert.equal(markProblems({ mark: '6.5', result: 'passed', feedback: 'x' })[0]!.field, 'mark')
})
