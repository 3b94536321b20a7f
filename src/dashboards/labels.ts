import { outputLabels } from '../escalations/queue.ts'
import type { Risk } from './projection.ts'

// How the dashboards word their figures.

export const pct = (n: number | null) => (n === null ? '–' : `${Number.isInteger(n) ? n : n.toFixed(1)}%`)

const longDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' })
export const formatDay = (iso: string) => longDate.format(new Date(`${iso}T12:00:00Z`))

export function riskText(r: Risk): string {
  return r.kind === 'ninety'
    ? `Projected ${pct(r.projectedPercent)} by the 90% deadline (${formatDay(r.deadline)})`
    : `${outputLabels[r.declarationType] ?? r.declarationType} (review ${formatDay(r.reviewDate)}): ${r.why}`
}
