import { londonDateOf } from '../dates/london.ts'

// Who may change what on a register, and when. Pure: the moment "now" is passed in.
//
// - Nothing is marked before the event starts, nor on a cancelled event.
// - Attended and absent marks (walk-ins are attended marks) lock 14 days after the event's start,
//   London dates: an event on 1 November locks on 15 November. From then only someone who may change
//   a locked register (a delivery-partner lead, a lead-provider admin) changes them, with a reason.
// - Contingency completions come later by nature: whoever takes the register records them, locked or not.

export const LOCK_AFTER_DAYS = 14

/** YYYY-MM-DD plus a number of days. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

/** The London date from which attended/absent marks are locked. */
export const lockedFrom = (startsOn: string) => addDays(startsOn, LOCK_AFTER_DAYS)

export type RegisterRules = {
  /** London date of the start. */
  startsOn: string
  started: boolean
  cancelled: boolean
  locked: boolean
  lockedFrom: string
  /** May mark attended/absent and add walk-ins. */
  canMark: boolean
  /** Marking needs a reason (the register is locked and this person may still change it). */
  markNeedsReason: boolean
  canRecordContingency: boolean
  /** Why marks cannot be changed, for the page and for a refused change. */
  markRefusal: string | null
  contingencyRefusal: string | null
}

export function registerRules(input: { startsAt: Date | string; cancelled: boolean; now: Date; mayChangeLocked: boolean }): RegisterRules {
  const startsOn = londonDateOf(new Date(input.startsAt))
  const today = londonDateOf(input.now)
  const started = new Date(input.startsAt).getTime() <= input.now.getTime()
  const lockDate = lockedFrom(startsOn)
  const locked = today >= lockDate
  const notYet = input.cancelled
    ? 'This event was cancelled: it has no register'
    : started
      ? null
      : 'The register opens when the event starts'
  const markRefusal =
    notYet ??
    (locked && !input.mayChangeLocked
      ? 'Attended and absent marks are locked 14 days after the event. Ask a delivery partner lead to change them'
      : null)
  return {
    startsOn,
    started,
    cancelled: input.cancelled,
    locked,
    lockedFrom: lockDate,
    canMark: markRefusal === null,
    markNeedsReason: markRefusal === null && locked,
    canRecordContingency: notYet === null,
    markRefusal,
    contingencyRefusal: notYet,
  }
}

/** A contingency completion happens between the event's date and today (London dates); null if fine. */
export function completionDateProblem(completedOn: string, startsOn: string, today: string): string | null {
  if (completedOn > today) return 'The completion date must be today or in the past'
  if (completedOn < startsOn) return 'The completion date must be on or after the date of the event'
  return null
}

/** A real date from the day, month and year a person typed, as YYYY-MM-DD; null if it is not one. */
export function dateFromParts(day: string, month: string, year: string): string | null {
  const [d, m, y] = [day, month, year].map((s) => s.trim())
  if (!/^\d{1,2}$/.test(d!) || !/^\d{1,2}$/.test(m!) || !/^\d{4}$/.test(y!)) return null
  const date = `${y}-${m!.padStart(2, '0')}-${d!.padStart(2, '0')}`
  const parsed = new Date(`${date}T00:00:00Z`)
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().startsWith(date) ? date : null
}
