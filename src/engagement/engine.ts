import type { Activity, Design } from '../catalogue/load.ts'

// The engagement engine: one set of pure rules for EDT credits, UCL weighted components and Ambition
// content completion (../shared/INTERFACES.md "Credit rules" and the `engagement` report), as of any
// date. No database and no clock: the evidence and the date are passed in.

/** A learning record, a facilitator's register entry or a line manager/mentor meeting log. */
export type Evidence =
  | { kind: 'activity'; code: string; on: string; source: 'automatic' | 'self-report'; progressPercent: number | null }
  | { kind: 'register'; code: string; on: string; status: 'attended' | 'absent' | 'contingency-completed' }
  | {
      kind: 'meeting-log'
      meetingNumber: number
      on: string
      signedByLineManager: boolean
      signedByParticipant: boolean
      fatsCompleted: number | null
    }

export type EarnedItem = { code: string; credits: number; on: string }

export type BlockEngagement = { block: number | string; creditsEarned: number; creditsAvailable: number; percent: number }

export type Engagement = {
  creditsEarned: number
  creditsAvailable: number
  /** The exact ratio: every threshold is compared on this, never on the rounded percentage. */
  ratio: number
  percent: number
  eligibleForAssessment: boolean
  blocks: BlockEngagement[]
  /** Each item counted, with the date it was first earned (for declaration periods and outputs). */
  earned: EarnedItem[]
}

export type EngagementOptions = { selfReporting: boolean }

export const ASSESSMENT_GATE = 0.9

/** Percentages are rounded half-up to one decimal place (the tiny epsilon absorbs binary fractions). */
export function roundPercent(value: number): number {
  return Math.floor(value * 10 + 0.5 + 1e-9) / 10
}

const completes = (e: Evidence & { kind: 'activity' }) => e.progressPercent === null || e.progressPercent >= 100
const attends = (e: Evidence & { kind: 'register' }) => e.status === 'attended' || e.status === 'contingency-completed'

/** The first date on which each item code was evidenced, by the rule for its kind of evidence. */
function firstDates(evidence: Evidence[], asOf: string, counts: (e: Evidence) => boolean): Map<string, string> {
  const first = new Map<string, string>()
  for (const e of evidence) {
    if (e.kind === 'meeting-log' || e.on > asOf || !counts(e)) continue
    const seen = first.get(e.code)
    if (!seen || e.on < seen) first.set(e.code, e.on)
  }
  return first
}

function isMit(activity: Activity): boolean {
  return activity.code.endsWith('-MIT')
}

/** Whether a piece of evidence earns an activity, in this design and cohort (EDT and Ambition items). */
function earnsActivity(activity: Activity, e: Evidence, options: EngagementOptions, style: Design['style']): boolean {
  if (e.kind === 'meeting-log') return false
  const event = activity.evidence === 'register'
  if (style === 'credits' && options.selfReporting && (event || isMit(activity))) {
    // Cohorts that self-report (EDT cohorts 1 and 2): events and MITs are earned by self-reports only;
    // the register is evidence of attendance, not of credits.
    return e.kind === 'activity' && e.source === 'self-report' && completes(e)
  }
  if (event) return e.kind === 'register' && attends(e)
  return e.kind === 'activity' && e.source === 'automatic' && completes(e)
}

export function engagementAsOf(design: Design, evidence: Evidence[], asOf: string, options: EngagementOptions): Engagement {
  return design.style === 'weighted' ? weighted(design, evidence, asOf) : itemised(design, evidence, asOf, options)
}

/** Every activity of a design by code, built once per design (designs are immutable once loaded). */
const activitiesByCode = new WeakMap<Design, Map<string, Activity>>()
function activityIndex(design: Design): Map<string, Activity> {
  let index = activitiesByCode.get(design)
  if (!index) {
    index = new Map()
    for (const block of design.blocks) for (const activity of block.activities) index.set(activity.code, activity)
    for (const activity of design.programmeActivities) index.set(activity.code, activity)
    activitiesByCode.set(design, index)
  }
  return index
}

/** EDT credits and Ambition items: an activity's credits once, at its first completion. */
function itemised(design: Design, evidence: Evidence[], asOf: string, options: EngagementOptions): Engagement {
  // One pass over the evidence: the first date on which each activity was earned. (Reports run this
  // for thousands of enrolments at a time, so no per-activity lists.)
  const activities = activityIndex(design)
  const firstOn = new Map<string, string>()
  for (const e of evidence) {
    if (e.kind === 'meeting-log' || e.on > asOf) continue
    const activity = activities.get(e.code)
    if (!activity) continue
    const seen = firstOn.get(e.code)
    if ((seen === undefined || e.on < seen) && earnsActivity(activity, e, options, design.style)) firstOn.set(e.code, e.on)
  }
  const earned: EarnedItem[] = []
  const earnedOn = (activity: Activity): string | null => firstOn.get(activity.code) ?? null
  const blocks: BlockEngagement[] = []
  for (const block of design.blocks) {
    if (block.provisional) continue
    let creditsEarned = 0
    for (const activity of block.activities) {
      const on = earnedOn(activity)
      if (on) {
        creditsEarned += activity.credits
        earned.push({ code: activity.code, credits: activity.credits, on })
      }
    }
    blocks.push({
      block: block.block,
      creditsEarned,
      creditsAvailable: block.creditsAvailable,
      percent: percentOf(creditsEarned, block.creditsAvailable),
    })
  }
  for (const activity of design.programmeActivities) {
    const on = earnedOn(activity)
    if (on) earned.push({ code: activity.code, credits: activity.credits, on })
  }
  const creditsEarned = earned.reduce((n, e) => n + e.credits, 0)
  return summary(creditsEarned, design.creditsAvailable, blocks, earned)
}

/** UCL: Σ weight × min(done, required) / required over the components. */
function weighted(design: Design, evidence: Evidence[], asOf: string): Engagement {
  const earned: EarnedItem[] = []
  const fatsFromLogs = fatsConfirmedByLogs(evidence, asOf)
  const blocks = design.blocks.map((component) => {
    const required = component.activities.length
    const done = new Map<string, string>()
    for (const activity of component.activities) {
      let on: string | null
      if (component.block === 'MEETING') {
        const number = Number(activity.code.split('-').at(-1))
        on = signedLogs(evidence, asOf).find((log) => log.meetingNumber === number)?.on ?? null
      } else {
        const first = firstDates(
          evidence.filter((e) => e.kind !== 'meeting-log' && e.code === activity.code),
          asOf,
          (e) => (activity.evidence === 'register' ? e.kind === 'register' && attends(e) : e.kind === 'activity' && completes(e)),
        )
        on = first.get(activity.code) ?? null
        if (component.block === 'FAT') {
          const byLog = fatsFromLogs.get(Number(activity.code.split('-').at(-1)))
          if (byLog && (!on || byLog < on)) on = byLog
        }
      }
      if (on) done.set(activity.code, on)
    }
    const weight = component.creditsAvailable
    const points = (weight * Math.min(done.size, required)) / required
    for (const [code, on] of done) earned.push({ code, credits: weight / required, on })
    return {
      block: component.block,
      creditsEarned: roundPercent(points),
      creditsAvailable: weight,
      percent: roundPercent((100 * Math.min(done.size, required)) / required),
      exact: points,
    }
  })
  const exact = blocks.reduce((n, b) => n + b.exact, 0)
  return {
    ...summary(
      exact,
      100,
      blocks.map(({ exact: _exact, ...b }) => b),
      earned,
    ),
    creditsEarned: roundPercent(exact),
  }
}

type SignedLog = { meetingNumber: number; on: string; fatsCompleted: number }

/** Meeting logs count once signed by both, by the date of the meeting, once per meeting number. */
function signedLogs(evidence: Evidence[], asOf: string): SignedLog[] {
  const logs = new Map<number, SignedLog>()
  for (const e of evidence) {
    if (e.kind !== 'meeting-log' || !e.signedByLineManager || !e.signedByParticipant || e.on > asOf) continue
    const seen = logs.get(e.meetingNumber)
    if (!seen || e.on < seen.on)
      logs.set(e.meetingNumber, { meetingNumber: e.meetingNumber, on: e.on, fatsCompleted: e.fatsCompleted ?? 0 })
  }
  return [...logs.values()].sort((a, b) => a.meetingNumber - b.meetingNumber)
}

/** Signed logs in meeting order confirm FAT-1, FAT-2, … cumulatively: 2 then 3 confirm FAT-1…5. */
function fatsConfirmedByLogs(evidence: Evidence[], asOf: string): Map<number, string> {
  const confirmed = new Map<number, string>()
  let next = 1
  for (const log of signedLogs(evidence, asOf)) {
    for (let i = 0; i < log.fatsCompleted; i++) confirmed.set(next++, log.on)
  }
  return confirmed
}

function percentOf(earned: number, available: number): number {
  return available === 0 ? 0 : roundPercent((100 * earned) / available)
}

function summary(creditsEarned: number, creditsAvailable: number, blocks: BlockEngagement[], earned: EarnedItem[]): Engagement {
  const ratio = creditsAvailable === 0 ? 0 : creditsEarned / creditsAvailable
  return {
    creditsEarned,
    creditsAvailable,
    ratio,
    percent: roundPercent(100 * ratio),
    eligibleForAssessment: ratio >= ASSESSMENT_GATE,
    blocks,
    // Dates and codes are ASCII: plain comparison orders them, much faster than localeCompare.
    earned: earned.sort((a, b) => (a.on < b.on ? -1 : a.on > b.on ? 1 : a.code < b.code ? -1 : a.code > b.code ? 1 : 0)),
  }
}

/**
 * The Declaration report's figures: credits earned after `from` (the previous declaration point) up
 * to the engagement's as-of date, and cumulatively ("between A and B" = after the end of day A, up to
 * the end of day B).
 */
export function declarationCredits(engagement: Engagement, from: string | null): { creditsInPeriod: number; cumulativeCredits: number } {
  const inPeriod = engagement.earned.filter((e) => from === null || e.on > from).reduce((n, e) => n + e.credits, 0)
  return { creditsInPeriod: inPeriod, cumulativeCredits: engagement.creditsEarned }
}
