import assert from 'node:assert/strict'
import { test } from 'node:test'
import { Catalogue } from '../catalogue/catalogue.ts'
import { outputAmounts, ShareError, splitPrice } from './shares.ts'

// Splitting a price per teacher across outputs: worked examples from seed 004 Annex 1, then
// properties over many prices and every share pattern the catalogue's schedules hold.

const specialist = [33.3, 33.3, 33.3]
const leadership = [25, 25, 25, 25]

test('a specialist price of £1,000.00 is £333.33, £333.33 and £333.34', () => {
  assert.deepEqual(splitPrice(100_000, specialist), [33_333, 33_333, 33_334])
})

test('33.3% is an exact third, not 33.3 hundredths: £999.00 is three times £333.00', () => {
  assert.deepEqual(splitPrice(99_900, specialist), [33_300, 33_300, 33_300])
  // 33.3% of £999.00 would be £332.67; the handbook's shares are thirds of the price.
  assert.notDeepEqual(splitPrice(99_900, specialist)[0], 33_267)
})

test('leadership outputs are exact quarters; the remainder goes on the last', () => {
  assert.deepEqual(splitPrice(100_000, leadership), [25_000, 25_000, 25_000, 25_000])
  assert.deepEqual(splitPrice(100_003, leadership), [25_001, 25_001, 25_001, 25_000])
  assert.deepEqual(splitPrice(100_001, leadership), [25_000, 25_000, 25_000, 25_001])
  // Half a penny rounds up: £1.02 in quarters is 25.5p each.
  assert.deepEqual(splitPrice(102, leadership), [26, 26, 26, 24])
})

test('DfE’s shares of its 60% output payment split the whole price the same way', () => {
  assert.deepEqual(splitPrice(100_000, [20, 20, 20]), splitPrice(100_000, specialist))
  assert.deepEqual(splitPrice(100_000, [15, 15, 15, 15]), splitPrice(100_000, leadership))
})

test('uneven shares and missing shares', () => {
  assert.deepEqual(splitPrice(100_000, [40, 30, 30]), [40_000, 30_000, 30_000])
  assert.deepEqual(splitPrice(1_001, [50, 50]), [501, 500])
  // No shares in the schedule: equal parts.
  assert.deepEqual(splitPrice(100_000, [null, null, null]), [33_333, 33_333, 33_334])
  assert.deepEqual(splitPrice(0, specialist), [0, 0, 0])
  assert.deepEqual(splitPrice(500, []), [])
  // A price of a few pence: rounded down, so the last part is never negative.
  assert.deepEqual(splitPrice(2, leadership), [0, 0, 0, 2])
})

test('bad inputs are refused', () => {
  assert.throws(() => splitPrice(100.5, specialist), ShareError)
  assert.throws(() => splitPrice(-1, specialist), ShareError)
  assert.throws(() => splitPrice(100, [33.333, 33.333, 33.334]), ShareError)
  assert.throws(() => splitPrice(100, [0, 0]), ShareError)
  assert.throws(() => splitPrice(100, [-10, 110]), ShareError)
  assert.throws(() => splitPrice(100, [Number.NaN, 50]), ShareError)
})

test('outputAmounts keys the parts by declaration type', () => {
  const amounts = outputAmounts(100_000, [
    { declarationType: 'started', sharePercent: 33.3 },
    { declarationType: 'retained-1', sharePercent: 33.3 },
    { declarationType: 'completed', sharePercent: 33.3 },
  ])
  assert.deepEqual(
    [...amounts],
    [
      ['started', 33_333],
      ['retained-1', 33_333],
      ['completed', 33_334],
    ],
  )
})

/** A small deterministic generator, so a failure can be reproduced. */
function* prices(count: number): Generator<number> {
  let seed = 20211213
  for (let i = 0; i < count; i++) {
    seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
    yield i < 200 ? i : seed % 10_000_001 // every price up to £2, then up to £100,000
  }
}

test('property: for every schedule in the catalogue and many prices, the parts are whole pence, sum to the price, and each is within a penny of its exact share', () => {
  const patterns = new Map<string, (number | null)[]>()
  const catalogue = Catalogue.load()
  for (const lp of ['edt', 'ucl', 'ambition']) {
    for (const schedule of catalogue.schedulesFor(lp)) {
      for (const group of schedule.courseGroups) {
        const shares = group.outputs.map((o) => o.sharePercent)
        patterns.set(JSON.stringify(shares), shares)
      }
    }
  }
  patterns.set('specialist', specialist)
  patterns.set('leadership', leadership)
  patterns.set('uneven', [40, 35, 25])
  assert.ok(patterns.size >= 4)

  for (const shares of patterns.values()) {
    const weights = shares.every((s) => s !== null) ? shares.map((s) => Math.round(s! * 100)) : shares.map(() => 1)
    const total = weights.reduce((a, b) => a + b, 0)
    for (const price of prices(2_000)) {
      const parts = splitPrice(price, shares)
      assert.equal(parts.length, shares.length)
      assert.equal(
        parts.reduce((a, b) => a + b, 0),
        price,
        `${price} over ${shares}`,
      )
      for (const [i, part] of parts.entries()) {
        assert.ok(Number.isSafeInteger(part) && part >= 0, `${price} over ${shares}: part ${i} is ${part}`)
        // |part − price × w ÷ total| ≤ ½ penny for rounded parts (1 when a tiny price is rounded down);
        // the last absorbs the others' rounding.
        const slack = i < parts.length - 1 ? 2 * total : 2 * total * (parts.length - 1)
        assert.ok(Math.abs(2 * part * total - 2 * price * weights[i]!) <= slack, `${price} over ${shares}: part ${i} is ${part}`)
      }
      // Equal shares give parts that differ by at most a penny or so, never the rounding pushed onto one.
      if (new Set(shares).size === 1 && price >= 100) assert.ok(Math.max(...parts) - Math.min(...parts) <= parts.length - 1)
    }
  }
})
