import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from 'fast-check'
import {
  bucketLabel,
  bucketOf,
  chartBars,
  distribution,
  median,
  nextOutput,
  paceOf,
  plusDays,
  projectEngagement,
  risksOf,
  type OutputStatusLite,
  type ProjectionInput,
} from './projection.ts'

// A 100-credit course in four blocks of 25, going live every 10 weeks from 2023-01-02.
const START = '2023-01-02'
const releases = [0, 70, 140, 210].map((d) => ({ on: plusDays(START, d), credits: 25 }))
const input = (earned: { on: string; credits: number }[], asOf: string): ProjectionInput => ({
  earned,
  creditsAvailable: 100,
  releases,
  startsOn: START,
  asOf,
})
/** `n` credits a week from `from` for `weeks` weeks. */
const steady = (from: string, weeks: number, n: number) =>
  Array.from({ length: weeks }, (_, i) => ({ on: plusDays(from, 7 * i), credits: n }))
const DEADLINE = plusDays(START, 300)

test('someone who keeps up with every release is projected to reach 100% by the deadline', () => {
  const asOf = plusDays(START, 100)
  // Block 1 done in its first 5 weeks, block 2 (live on day 70) done in the next 5 weeks.
  const earned = [...steady(START, 5, 5), ...steady(plusDays(START, 70), 5, 5)]
  const pace = paceOf(input(earned, asOf))
  assert.equal(pace.method, 'recent-pace')
  assert.ok(pace.share > 0.99, `share ${pace.share}`)
  const p = projectEngagement(input(earned, asOf), DEADLINE)
  assert.ok(p.projectedRatio > 0.95, `projected ${p.projectedRatio}`)
  assert.deepEqual(risksOf(input(earned, asOf), [], DEADLINE, true), [])
})

test('at risk though the current figure looks fine: all of block 1 early, nothing for 8 weeks since block 2 went live', () => {
  const asOf = plusDays(START, 126)
  const earned = steady(START, 5, 5) // 25 of the 50 released: 50% of released, 25% overall
  const pace = paceOf(input(earned, asOf))
  assert.equal(pace.share, 0)
  const risks = risksOf(input(earned, asOf), [], DEADLINE, true)
  assert.equal(risks.length, 1)
  assert.equal(risks[0]!.kind, 'ninety')
  assert.equal(risks[0]!.kind === 'ninety' && risks[0]!.projectedPercent, 25)
})

test('not at risk though the current figure looks low: a late starter clearing the backlog quickly', () => {
  const asOf = plusDays(START, 126)
  // Nothing until day 84, then 10 credits a week: 30 of 50 released (30% overall).
  const earned = steady(plusDays(START, 84), 3, 10)
  assert.ok(paceOf(input(earned, asOf)).share > 0.5)
  const p = projectEngagement(input(earned, asOf), DEADLINE)
  assert.ok(p.projectedRatio >= 0.9, `projected ${p.projectedRatio}`)
  assert.deepEqual(
    risksOf(input(earned, asOf), [], DEADLINE, true).filter((r) => r.kind === 'ninety'),
    [],
  )
})

test('a projection never exceeds what has been released by the target, nor falls below what is earned', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ day: fc.integer({ min: 0, max: 299 }), credits: fc.integer({ min: 1, max: 5 }) }), { maxLength: 40 }),
      fc.integer({ min: 0, max: 299 }),
      fc.integer({ min: 1, max: 200 }),
      (items, asOfDay, ahead) => {
        const asOf = plusDays(START, asOfDay)
        const earned = items.map((i) => ({ on: plusDays(START, i.day), credits: i.credits }))
        const target = plusDays(asOf, ahead)
        const p = projectEngagement(input(earned, asOf), target)
        const earnedNow = earned.filter((e) => e.on <= asOf).reduce((n, e) => n + e.credits, 0)
        const released = releases.filter((r) => r.on <= target).reduce((n, r) => n + r.credits, 0)
        return p.projectedCredits >= earnedNow - 1e-9 && p.projectedCredits <= Math.max(earnedNow, released) + 1e-9
      },
    ),
  )
})

test('a target in the past is the actual figure; early days use the share of what is released', () => {
  const earned = steady(START, 3, 5)
  const p = projectEngagement(input(earned, plusDays(START, 30)), plusDays(START, 7))
  assert.deepEqual([p.method, p.projectedCredits], ['actual', 10])
  const early = paceOf(input([{ on: START, credits: 20 }], plusDays(START, 5)))
  assert.deepEqual([early.method, early.share], ['share-of-released', 0.8])
  assert.equal(paceOf(input([], plusDays(START, -5))).method, 'not-started')
})

test('next output and its risk: none expected before the review date, blocked, met, and not for inactive participants', () => {
  const asOf = plusDays(START, 126)
  const outputs: OutputStatusLite[] = [
    { declarationType: 'started', reviewDate: plusDays(START, 30), status: 'declared', reasons: [] },
    { declarationType: 'retained-1', reviewDate: plusDays(START, 150), status: 'not-eligible', reasons: ['No new credits'] },
    { declarationType: 'completed', reviewDate: plusDays(START, 400), status: 'not-eligible', reasons: [] },
  ]
  assert.equal(nextOutput(outputs, asOf)?.declarationType, 'retained-1')
  const stalled = steady(START, 5, 5)
  const risks = risksOf(input(stalled, asOf), outputs, DEADLINE, true)
  assert.deepEqual(
    risks.map((r) => r.kind === 'output' && r.declarationType),
    [false, 'retained-1'],
  )
  // Active lately: new credits expected before the review date.
  const busy = [...steady(START, 5, 5), ...steady(plusDays(START, 70), 8, 3)]
  assert.deepEqual(
    risksOf(input(busy, asOf), outputs, DEADLINE, true).filter((r) => r.kind === 'output'),
    [],
  )
  const blocked = outputs.map((o) =>
    o.declarationType === 'retained-1' ? { ...o, status: 'blocked' as const, reasons: ['No signed school contract'] } : o,
  )
  assert.deepEqual(
    risksOf(input(busy, asOf), blocked, DEADLINE, true).map((r) => r.kind === 'output' && r.why),
    ['No signed school contract'],
  )
  assert.deepEqual(risksOf(input(stalled, asOf), outputs, DEADLINE, false), [])
  // At 90% already: no 90% risk, whatever the pace.
  assert.deepEqual(risksOf(input(steady(START, 18, 5), asOf), [], DEADLINE, true), [])
})

test('distribution buckets by the exact ratio; 89.96% is not in the 90% bucket', () => {
  assert.equal(bucketOf(0), 0)
  assert.equal(bucketOf(0.0999), 0)
  assert.equal(bucketOf(0.1), 1)
  assert.equal(bucketOf(0.8996), 8)
  assert.equal(bucketOf(0.9), 9)
  assert.equal(bucketOf(1), 9)
  assert.equal(bucketOf(1.2), 9)
  assert.equal(bucketLabel(0), '0–9%')
  assert.equal(bucketLabel(9), '90–100%')
  const d = distribution([0, 0.05, 0.5, 0.95, 1])
  assert.deepEqual(
    d.map((b) => b.count),
    [2, 0, 0, 0, 0, 1, 0, 0, 0, 2],
  )
  assert.equal(d[0]!.percentOfAll, 40)
  fc.assert(
    fc.property(
      fc.array(fc.double({ min: 0, max: 1, noNaN: true })),
      (ratios) => distribution(ratios).reduce((n, b) => n + b.count, 0) === ratios.length,
    ),
  )
})

test('median and chart geometry', () => {
  assert.equal(median([]), null)
  assert.equal(median([3, 1, 2]), 2)
  assert.equal(median([4, 1, 2, 3]), 2.5)
  const bars = chartBars(distribution([0.95, 0.95, 0.5]))
  assert.equal(bars.length, 10)
  assert.ok(bars[9]!.height > bars[5]!.height && bars[5]!.height > 0 && bars[0]!.height === 0)
})
