import type { Criterion } from '../outputs/evaluate.ts'
import { ASSESSMENT_GATE } from '../engagement/engine.ts'

// Pure figures for the dashboards: where a participant's engagement is heading at their pace, who is
// at risk of missing the 90% deadline or their next output, and the engagement distribution. No
// database and no clock: everything, the date included, is passed in.
//
// The method (also the dashboards' help text, so say it the same way in both places):
//  1. Credits become available as blocks go live (each block's credits on its go-live date; credits
//     not in a dated block, and every credit of a design without block dates, count from the start).
//  2. Pace is the share of the work open to the participant that they did over the last 8 weeks: the
//     credits they earned in the window divided by the credits open to them in it (not yet earned at
//     its start, plus those that went live during it). Participants with under 2 weeks of course
//     behind them are given the share of the credits released so far that they have earned.
//  3. The projection steps forward 8 weeks at a time to the deadline: in each step they earn their pace
//     × the credits open then (released by the end of the step, not yet earned). So someone at 95% of
//     what has been released who has done nothing for 8 weeks is projected to fall short, and someone
//     at 40% who has been clearing their backlog quickly is projected to make it.
//  4. At risk of missing 90%: the projection at the 90% deadline is below 90% of the credits available.
//     At risk of missing the next output: its criteria are not met yet and the projection expects
//     less than one new credit before its review date (or it is blocked, e.g. no signed contract).

export const PACE_WINDOW_DAYS = 56
export const MIN_HISTORY_DAYS = 14

const DAY = 86_400_000
// Dashboards project tens of thousands of participants over the same few hundred dates: day numbers
// and shifted dates are kept rather than parsed and formatted again each time (bounded maps).
const dayNumbers = new Map<string, number>()
const shifted = new Map<string, string>()
function dayNumber(date: string): number {
  let n = dayNumbers.get(date)
  if (n === undefined) {
    if (dayNumbers.size > 20_000) dayNumbers.clear()
    dayNumbers.set(date, (n = Math.round(Date.parse(`${date}T00:00:00Z`) / DAY)))
  }
  return n
}
export const daysBetween = (from: string, to: string) => dayNumber(to) - dayNumber(from)
export function plusDays(date: string, n: number): string {
  const key = `${date}|${n}`
  let result = shifted.get(key)
  if (result === undefined) {
    result = new Date((dayNumber(date) + n) * DAY).toISOString().slice(0, 10)
    if (shifted.size > 20_000) shifted.clear()
    shifted.set(key, result)
  }
  return result
}

/** Credits that go live on a date (a block's go-live date and its credits). */
export type Release = { on: string; credits: number }

export type ProjectionInput = {
  /** Each credited item with the date it was first earned (the engine's `earned`). */
  earned: { on: string; credits: number }[]
  creditsAvailable: number
  releases: Release[]
  /** When the course started for this cohort, where known (else the first release or first evidence). */
  startsOn: string | null
  asOf: string
}

export type Pace = {
  /** Share (0–1) of the work open to them that they did over the window. */
  share: number
  method: 'recent-pace' | 'share-of-released' | 'not-started'
  earnedNow: number
}

export type Projection = {
  target: string
  projectedCredits: number
  /** Projected credits / credits available. */
  projectedRatio: number
  method: Pace['method'] | 'actual'
}

function releasedBy(input: ProjectionInput, date: string): number {
  if (input.releases.length === 0) return input.creditsAvailable
  let dated = 0
  let released = 0
  for (const r of input.releases) {
    dated += r.credits
    if (r.on <= date) released += r.credits
  }
  // Credits outside any dated block (programme activities) are open from the start.
  return Math.min(input.creditsAvailable, released + Math.max(0, input.creditsAvailable - dated))
}

function earnedBy(input: ProjectionInput, date: string): number {
  let n = 0
  for (const e of input.earned) if (e.on <= date) n += e.credits
  return n
}

function courseStart(input: ProjectionInput): string | null {
  const candidates = [input.startsOn, ...input.releases.map((r) => r.on)].filter((d): d is string => d !== null)
  if (candidates.length === 0) for (const e of input.earned) candidates.push(e.on)
  return candidates.length ? candidates.reduce((a, b) => (a < b ? a : b)) : null
}

/** The participant's pace as of the date (step 2 of the method). */
export function paceOf(input: ProjectionInput): Pace {
  const earnedNow = earnedBy(input, input.asOf)
  const start = courseStart(input)
  const releasedNow = releasedBy(input, input.asOf)
  if (start === null || start > input.asOf || releasedNow <= 0) return { share: 1, method: 'not-started', earnedNow }
  const windowStart = [start, plusDays(input.asOf, -PACE_WINDOW_DAYS)].reduce((a, b) => (a > b ? a : b))
  if (daysBetween(windowStart, input.asOf) < MIN_HISTORY_DAYS) {
    return { share: Math.min(1, earnedNow / releasedNow), method: 'share-of-released', earnedNow }
  }
  const earnedBefore = earnedBy(input, plusDays(windowStart, -1))
  const open = releasedNow - earnedBefore
  const done = earnedNow - earnedBefore
  // Nothing was open to do in the window: judge them on everything released so far.
  const share = open > 1e-9 ? Math.min(1, Math.max(0, done / open)) : Math.min(1, earnedNow / releasedNow)
  return { share, method: 'recent-pace', earnedNow }
}

/** Projected credits at the target date (steps 1–3 of the method). */
export function projectEngagement(input: ProjectionInput, target: string, pace: Pace = paceOf(input)): Projection {
  const ratio = (credits: number) => (input.creditsAvailable > 0 ? credits / input.creditsAvailable : 0)
  if (target <= input.asOf) {
    const credits = earnedBy(input, target)
    return { target, projectedCredits: credits, projectedRatio: ratio(credits), method: 'actual' }
  }
  let credits = pace.earnedNow
  let at = input.asOf
  while (at < target) {
    const next = [plusDays(at, PACE_WINDOW_DAYS), target].reduce((a, b) => (a < b ? a : b))
    const fraction = daysBetween(at, next) / PACE_WINDOW_DAYS
    const open = Math.max(0, releasedBy(input, next) - credits)
    credits += Math.min(1, pace.share * fraction) * open
    at = next
  }
  return { target, projectedCredits: credits, projectedRatio: ratio(credits), method: pace.method }
}

/** An output as the dashboards see it (from outputs/evaluate.ts). */
export type OutputStatusLite = {
  declarationType: string
  reviewDate: string | null
  status: 'blocked' | 'eligible' | 'declared' | 'not-eligible'
  reasons: string[]
  /** The criterion that evidences it and the date it was met (outputs/evaluate.ts), when met. */
  evidence?: Criterion | null
  evidenceOn?: string | null
}

export type Risk =
  | { kind: 'ninety'; deadline: string; projectedPercent: number }
  | { kind: 'output'; declarationType: string; reviewDate: string; why: string }

export const isMet = (o: Pick<OutputStatusLite, 'status'>) => o.status === 'eligible' || o.status === 'declared'

/** The first output not met whose review date is today or later. */
export function nextOutput(outputs: OutputStatusLite[], asOf: string): OutputStatusLite | null {
  return outputs.find((o) => !isMet(o) && o.reviewDate !== null && o.reviewDate >= asOf) ?? null
}

/**
 * Why a participant is at risk (step 4 of the method), for an active participant; none for one who
 * is deferred, withdrawn or completed. `deadline` is the 90% engagement deadline (null: none known).
 */
export function risksOf(input: ProjectionInput, outputs: OutputStatusLite[], deadline: string | null, active: boolean): Risk[] {
  if (!active) return []
  const risks: Risk[] = []
  const pace = paceOf(input)
  const currentRatio = input.creditsAvailable > 0 ? pace.earnedNow / input.creditsAvailable : 0
  if (deadline !== null && deadline >= input.asOf && currentRatio < ASSESSMENT_GATE - 1e-9) {
    const p = projectEngagement(input, deadline, pace)
    if (p.projectedRatio < ASSESSMENT_GATE - 1e-9) {
      risks.push({ kind: 'ninety', deadline, projectedPercent: Math.floor(p.projectedRatio * 1000 + 1e-6) / 10 })
    }
  }
  const next = nextOutput(outputs, input.asOf)
  if (next?.reviewDate && next.status === 'blocked') {
    risks.push({ kind: 'output', declarationType: next.declarationType, reviewDate: next.reviewDate, why: next.reasons[0] ?? 'Blocked' })
  } else if (next?.reviewDate && next.declarationType !== 'completed') {
    // (The completed output is the 90% gate plus the assessment: the 90% risk above covers its pace.)
    if (pace.method !== 'not-started' || next.reviewDate <= plusDays(input.asOf, MIN_HISTORY_DAYS)) {
      const gain = projectEngagement(input, next.reviewDate, pace).projectedCredits - pace.earnedNow
      if (gain < 1) {
        risks.push({
          kind: 'output',
          declarationType: next.declarationType,
          reviewDate: next.reviewDate,
          why: 'No new evidence expected before the review date at their pace',
        })
      }
    }
  }
  return risks
}

// --- Distribution --------------------------------------------------------------------------------

export const BUCKETS = 10

/** The bucket (0–9) of an engagement ratio: 0–9%, 10–19%, …, 90–100% (by the exact ratio, like the gate). */
export function bucketOf(ratio: number): number {
  return Math.max(0, Math.min(BUCKETS - 1, Math.floor(ratio * 10 + 1e-9)))
}

export const bucketLabel = (b: number) => (b === BUCKETS - 1 ? '90–100%' : `${b * 10}–${b * 10 + 9}%`)

export type Bucket = { label: string; count: number; percentOfAll: number }

export function distribution(ratios: number[]): Bucket[] {
  const counts = Array.from({ length: BUCKETS }, () => 0)
  for (const r of ratios) counts[bucketOf(r)]!++
  return counts.map((count, b) => ({
    label: bucketLabel(b),
    count,
    percentOfAll: ratios.length ? Math.round((1000 * count) / ratios.length) / 10 : 0,
  }))
}

export function median(values: number[]): number | null {
  if (values.length === 0) return null
  // A typed array sorts numerically without a comparator: several times faster over thousands.
  const s = Float64Array.from(values).sort()
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** The bar chart's geometry (server-rendered SVG): one bar per bucket, heights scaled to the largest. */
export function chartBars(buckets: Bucket[], size = { width: 600, height: 200, gap: 8, labelHeight: 24 }) {
  const max = Math.max(1, ...buckets.map((b) => b.count))
  const band = size.width / buckets.length
  const plot = size.height - size.labelHeight * 2
  return buckets.map((b, i) => {
    const h = Math.round((plot * b.count) / max)
    return {
      ...b,
      x: Math.round(i * band + size.gap / 2),
      width: Math.round(band - size.gap),
      y: size.labelHeight + plot - h,
      height: h,
      labelX: Math.round(i * band + band / 2),
      countY: size.labelHeight + plot - h - 6,
      labelY: size.height - 6,
    }
  })
}
