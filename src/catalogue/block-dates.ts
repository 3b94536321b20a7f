import type { OutputDates } from './load.ts'

// When each block goes live and by when it should be completed, for one cohort. The sources give no
// such dates, so the default spreads the blocks evenly from the cohort's start to its last retention
// review date: block k goes live at start + (k − 1) × span / n, and is due the day before the next
// block goes live (the last block by the last retention review date). Admins can change any of them.

export type BlockWindow = { block: number; goesLiveOn: string; completesBy: string }

const DAY = 86_400_000
const toDays = (date: string) => Date.parse(`${date}T00:00:00Z`) / DAY
const fromDays = (days: number) => new Date(days * DAY).toISOString().slice(0, 10)

export function defaultBlockWindows(blocks: number[], startsOn: string | null, outputs: OutputDates[]): BlockWindow[] {
  const reviews = outputs.filter((o) => o.reviewDate !== null)
  const retention = reviews.filter((o) => o.declarationType.startsWith('retained'))
  const firstReview = reviews[0]?.reviewDate ?? null
  const start = startsOn ?? (firstReview ? fromDays(toDays(firstReview) - 42) : null)
  const end = retention.at(-1)?.reviewDate ?? null
  if (!start || !end || blocks.length === 0 || toDays(end) <= toDays(start)) return []
  const span = toDays(end) - toDays(start)
  const n = blocks.length
  const goLive = (k: number) => toDays(start) + Math.floor((k * span) / n)
  return blocks.map((block, k) => ({
    block,
    goesLiveOn: fromDays(goLive(k)),
    completesBy: k === n - 1 ? end : fromDays(goLive(k + 1) - 1),
  }))
}
