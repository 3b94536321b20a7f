import type { DeclarationState, EnrolmentStatus } from '../db/schema.ts'

// When a person's personal data may be erased (pure rules; docs/RELIABILITY.md "Data protection").
//
// Retention is lead-provider policy held as data: `retention_years_after_completion` in
// catalogue/policies/<lp>.yaml (default 7 — an assumption: no source states a period; 7 years after the
// last enrolment ends covers DfE's audit of the declarations paid for it). A person is due for erasure
// on the day `retention years` after the end of their LAST enrolment to end, once nothing stops it:
// - an enrolment still running (accepted, active or deferred) — the person is still on a course;
// - an enrolment that ended on a day the platform does not know — it cannot be dated, so it is kept;
// - a declaration DfE may still pay or claw back (submitted, eligible, payable, awaiting-clawback):
//   funding rules need the evidence and the person reachable until it is settled;
// - a safeguarding concern they raised that is not closed.
// A verified erasure request (the CLI) is refused by the same blockers, but does not wait for the
// retention period to pass.

export type RetentionEnrolment = {
  status: EnrolmentStatus
  /** London date the enrolment completed or was withdrawn; null when not ended or not known. */
  endedOn: string | null
  /** The lead provider's retention period in years. */
  retentionYears: number
}

export type RetentionFacts = {
  enrolments: RetentionEnrolment[]
  declarationStates: DeclarationState[]
  openSafeguardingConcerns: number
  /** Already anonymised: nothing left to do. */
  anonymised: boolean
}

export const defaultRetentionYears = 7

/** Declarations whose money is not settled: DfE may still pay (or claw back) on their evidence. */
export const unsettledDeclarationStates: readonly DeclarationState[] = ['submitted', 'eligible', 'payable', 'awaiting-clawback']

const runningStatuses: readonly EnrolmentStatus[] = ['accepted', 'active', 'deferred']

/** YYYY-MM-DD plus whole years; 29 February becomes 28 February in a year without it. */
export function addYears(date: string, years: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number]
  const year = y + years
  const lastDay = new Date(Date.UTC(year, m, 0)).getUTCDate()
  return `${String(year).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(Math.min(d, lastDay)).padStart(2, '0')}`
}

/** What stops an erasure now, in words (empty: nothing). Ignores the retention period. */
export function erasureBlockers(facts: Omit<RetentionFacts, 'anonymised'>): string[] {
  const blockers: string[] = []
  const running = facts.enrolments.filter((e) => runningStatuses.includes(e.status))
  if (running.length > 0)
    blockers.push(
      `${running.length} enrolment(s) still ${[...new Set(running.map((e) => e.status))].join(' or ')}: the person is still on a course; withdraw or complete it first`,
    )
  const undated = facts.enrolments.filter((e) => !runningStatuses.includes(e.status) && e.endedOn === null)
  if (undated.length > 0)
    blockers.push(`${undated.length} ended enrolment(s) without a known end date: the retention period cannot be counted`)
  const unsettled = facts.declarationStates.filter((s) => unsettledDeclarationStates.includes(s))
  if (unsettled.length > 0)
    blockers.push(
      `${unsettled.length} declaration(s) not settled (${[...new Set(unsettled)].join(', ')}): DfE funding rules need the person and the evidence until they are paid, voided or clawed back`,
    )
  if (facts.openSafeguardingConcerns > 0)
    blockers.push(
      `${facts.openSafeguardingConcerns} safeguarding concern(s) they raised not closed: a concern's details are kept until the case is closed`,
    )
  return blockers
}

/** The London date from which the person's data is due for erasure; null while it cannot be (see erasureBlockers). */
export function erasureDueOn(facts: Omit<RetentionFacts, 'anonymised'>): string | null {
  if (facts.enrolments.length === 0 || erasureBlockers(facts).length > 0) return null
  return facts.enrolments.map((e) => addYears(e.endedOn!, e.retentionYears)).reduce((a, b) => (a > b ? a : b))
}

/** Whether the daily job erases this person today (a London date). */
export function isDueForErasure(facts: RetentionFacts, today: string): boolean {
  if (facts.anonymised) return false
  const due = erasureDueOn(facts)
  return due !== null && today >= due
}
