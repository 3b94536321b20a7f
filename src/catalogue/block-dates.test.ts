import assert from 'node:assert/strict'
import { test } from 'node:test'
import { defaultBlockWindows } from './block-dates.ts'
import type { OutputDates } from './load.ts'

const output = (declarationType: OutputDates['declarationType'], reviewDate: string | null): OutputDates => ({
  declarationType,
  reviewDate,
  sharePercent: null,
  invoiceDate: null,
  paymentDate: null,
})

// EDT cohort 3 (October 2022), leadership: retained-2 reviewed on 24 January 2024 (seed 004 Annex 1a).
const leadership = [
  output('started', '2022-11-24'),
  output('retained-1', '2023-06-22'),
  output('retained-2', '2024-01-24'),
  output('completed', '2024-07-24'),
]

test('blocks are spread evenly from the cohort start to the last retention review date', () => {
  const windows = defaultBlockWindows([1, 2, 3, 4], '2022-10-01', leadership)
  assert.deepEqual(windows, [
    // 480 days from 1 October 2022 to 24 January 2024: a block every 120 days.
    { block: 1, goesLiveOn: '2022-10-01', completesBy: '2023-01-28' },
    { block: 2, goesLiveOn: '2023-01-29', completesBy: '2023-05-28' },
    { block: 3, goesLiveOn: '2023-05-29', completesBy: '2023-09-25' },
    { block: 4, goesLiveOn: '2023-09-26', completesBy: '2024-01-24' },
  ])
})

test('each block is due the day before the next goes live, and the windows do not overlap', () => {
  const windows = defaultBlockWindows([1, 2, 3, 4, 5], '2022-10-01', [
    output('started', '2022-11-24'),
    output('retained-1', '2023-06-22'),
    output('completed', '2024-02-22'),
  ])
  for (let i = 1; i < windows.length; i++) {
    const dayBefore = new Date(Date.parse(`${windows[i]!.goesLiveOn}T00:00:00Z`) - 86_400_000).toISOString().slice(0, 10)
    assert.equal(windows[i - 1]!.completesBy, dayBefore)
  }
  assert.equal(windows.at(-1)!.completesBy, '2023-06-22')
})

test('without a start date the cohort starts six weeks before its first review; without review dates there are no defaults', () => {
  assert.equal(defaultBlockWindows([1, 2], null, leadership)[0]!.goesLiveOn, '2022-10-13')
  assert.deepEqual(defaultBlockWindows([1, 2], '2022-10-01', [output('started', null), output('retained-1', null)]), [])
  assert.deepEqual(defaultBlockWindows([], '2022-10-01', leadership), [])
})
