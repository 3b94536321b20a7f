// The short application form's clock (seed 001: returned within 5 days of receipt): sent on day 0, a
// reminder on day 3, due at the end of day 5 (or of the day an admin extended it to), expired after.
// London calendar dates as strings; pure so the daily job and the pages agree.

export const FORM_DAYS = 5
export const REMINDER_DAY = 3

export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T12:00:00Z`)
  d.setUTCDate(d.getUTCDate() + days)
  return d.toISOString().slice(0, 10)
}

export function formDueOn(sentOn: string): string {
  return addDays(sentOn, FORM_DAYS)
}

export type FormClock = { sentOn: string | null; dueOn: string | null; remindedAt: Date | null; returnedAt: Date | null }

/** What the daily job does for one application's form today. */
export function formAction(form: FormClock, today: string): 'remind' | 'expire' | null {
  if (!form.sentOn || !form.dueOn || form.returnedAt) return null
  if (today > form.dueOn) return 'expire'
  if (!form.remindedAt && today >= addDays(form.sentOn, REMINDER_DAY)) return 'remind'
  return null
}

export type FormStatus = 'not-sent' | 'sent' | 'returned' | 'overdue'

export function formStatus(form: FormClock, today: string): FormStatus {
  if (!form.sentOn) return 'not-sent'
  if (form.returnedAt) return 'returned'
  return form.dueOn && today > form.dueOn ? 'overdue' : 'sent'
}
