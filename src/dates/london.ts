import { TZDate } from '@date-fns/tz'
// Dates are calendar dates in Europe/London (../shared/INTERFACES.md): a moment falls on the date it
// has in London.

const londonDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' })

/** The London calendar date (YYYY-MM-DD) of a moment. */
export function londonDateOf(moment: Date): string {
  return londonDate.format(moment)
}

const londonTime = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })

/** The London wall-clock time (HH:MM) of a moment. */
export function londonTimeOf(moment: Date): string {
  return londonTime.format(moment)
}

/**
 * The moment a London date and wall-clock time denote (`2026-03-29`, `09:30`), across clock changes.
 * Null when either is not a real date or time.
 */
export function londonMoment(date: string, time: string): Date | null {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date)
  const t = /^(\d{1,2}):(\d{2})$/.exec(time)
  if (!d || !t) return null
  const [year, month, day, hour, minute] = [Number(d[1]), Number(d[2]), Number(d[3]), Number(t[1]), Number(t[2])]
  if (hour > 23 || minute > 59) return null
  const moment = new TZDate(year, month - 1, day, hour, minute, 'Europe/London')
  // TZDate rolls invalid dates over (31 February → 3 March): refuse them instead.
  if (londonDateOf(moment) !== date) return null
  return new Date(moment.getTime())
}

/** "24 November 2026": a moment or a calendar date as people read it, in London. */
export function formatLondonDate(value: Date | string): string {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00Z`) : new Date(value)
  return new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', dateStyle: 'long' }).format(date)
}
