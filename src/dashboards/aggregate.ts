import { findCourse } from '../catalogue/courses.ts'
import { outputLabels } from '../escalations/queue.ts'
import type { EnrolmentFigure } from './figures.ts'
import { pct, riskText } from './labels.ts'
import { chartBars, distribution, isMet, median } from './projection.ts'

// The dashboards' figures summed up from the per-participant figures (pure, no database): the
// engagement distribution and chart, engagement per course and cohort, the at-risk list, and for
// the lead provider outputs by review date and the partner comparison.

const courseName = (c: string) => findCourse(c)?.name ?? c
const roundTo1 = (n: number | null) => (n === null ? null : Math.round(n * 10) / 10)

function groupBy<T>(items: T[], key: (t: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const k = key(item)
    const group = groups.get(k)
    if (group) group.push(item)
    else groups.set(k, [item])
  }
  return groups
}

export type AggregateFilter = { course?: string; partner?: string; today: string; leadProvider: boolean }

export function aggregate(all: EnrolmentFigure[], f: AggregateFilter) {
  const figures = all.filter((x) => (!f.course || x.courseIdentifier === f.course) && (!f.partner || x.deliveryPartner === f.partner))
  // Engagement: active participants only (a deferred or withdrawn participant's figure stands still).
  const active = figures.filter((x) => x.active)
  const buckets = distribution(active.map((x) => x.ratio))
  const atRisk = (fs: EnrolmentFigure[]) => fs.filter((x) => x.risks.length > 0).length
  const engagementRows = [...groupBy(active, (x) => `${x.cohort}/${x.courseIdentifier}`).values()]
    .map((fs) => ({
      course: courseName(fs[0]!.courseIdentifier),
      cohort: fs[0]!.cohort,
      participants: fs.length,
      median: pct(roundTo1(median(fs.map((x) => x.percent)))),
      ninety: fs.filter((x) => x.ratio >= 0.9 - 1e-9).length,
      atRisk: atRisk(fs),
    }))
    .sort((a, b) => b.cohort.localeCompare(a.cohort) || a.course.localeCompare(b.course))
  // Lowest projection first; plain comparisons (localeCompare over thousands of names costs ~100 ms).
  const key = (x: EnrolmentFigure) => x.projectedPercent ?? x.percent
  const risky = active
    .filter((x) => x.risks.length)
    .sort((a, b) => key(a) - key(b) || (a.fullName < b.fullName ? -1 : a.fullName > b.fullName ? 1 : 0))
  const result = {
    activeCount: active.length,
    chart: chartBars(buckets),
    buckets,
    engagementRows,
    atRiskTotal: risky.length,
    atRisk: risky.slice(0, 100).map((x) => ({
      enrolmentId: x.enrolmentId,
      name: x.fullName,
      course: courseName(x.courseIdentifier),
      cohort: x.cohort,
      partner: x.deliveryPartnerName,
      percent: pct(x.percent),
      projected: pct(x.projectedPercent),
      reasons: x.risks.map(riskText),
    })),
    dueRows: [] as {
      reviewDate: string
      output: string
      cohort: string
      participants: number
      met: number
      declared: number
      notMet: number
      past: boolean
    }[],
    comparison: [] as { code: string | null; name: string; participants: number; median: string; atRisk: string; outputsMet: string }[],
  }
  if (!f.leadProvider) return result

  // Outputs due by review date: per review date, output and cohort, how many active participants
  // have met it (eligible or declared) and how many are declared.
  // Keyed by cohort, then review date and output (nested maps: no key strings built per participant).
  const due = new Map<string, Map<string, Map<string, (typeof result.dueRows)[number]>>>()
  for (const x of active) {
    let ofCohort = due.get(x.cohort)
    if (!ofCohort) due.set(x.cohort, (ofCohort = new Map()))
    for (const o of x.outputs) {
      if (!o.reviewDate) continue
      let ofDate = ofCohort.get(o.reviewDate)
      if (!ofDate) ofCohort.set(o.reviewDate, (ofDate = new Map()))
      let row = ofDate.get(o.declarationType)
      if (!row) {
        row = {
          reviewDate: o.reviewDate,
          output: outputLabels[o.declarationType] ?? o.declarationType,
          cohort: x.cohort,
          participants: 0,
          met: 0,
          declared: 0,
          notMet: 0,
          past: o.reviewDate < f.today,
        }
        ofDate.set(o.declarationType, row)
      }
      row.participants++
      if (isMet(o)) row.met++
      else row.notMet++
      if (o.status === 'declared') row.declared++
    }
  }
  result.dueRows = [...due.values()]
    .flatMap((c) => [...c.values()].flatMap((d) => [...d.values()]))
    .sort((a, b) => a.reviewDate.localeCompare(b.reviewDate) || a.cohort.localeCompare(b.cohort))

  // Partners compared: engagement median, share at risk, outputs met of those whose review date has passed.
  result.comparison = [...groupBy(active, (x) => x.deliveryPartner ?? '').values()]
    .map((fs) => {
      let dueNow = 0
      let met = 0
      for (const x of fs)
        for (const o of x.outputs)
          if (o.reviewDate !== null && o.reviewDate < f.today) {
            dueNow++
            if (isMet(o)) met++
          }
      return {
        code: fs[0]!.deliveryPartner,
        name: fs[0]!.deliveryPartnerName ?? 'No delivery partner',
        participants: fs.length,
        median: pct(roundTo1(median(fs.map((x) => x.percent)))),
        atRisk: pct(Math.round((1000 * atRisk(fs)) / fs.length) / 10),
        outputsMet: dueNow ? `${met} of ${dueNow}` : 'None due yet',
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name))
  return result
}

export type Aggregate = ReturnType<typeof aggregate>
