// Dates are calendar dates in Europe/London (../shared/INTERFACES.md): a moment falls on the date it
// has in London.

const londonDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/London', year: 'numeric', month: '2-digit', day: '2-digit' })

/** The London calendar date (YYYY-MM-DD) of a moment. */
export function londonDateOf(moment: Date): string {
  return londonDate.format(moment)
}
