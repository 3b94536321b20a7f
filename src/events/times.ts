// Event times as GOV.UK writes them, in London time: "Tuesday 15 November 2022 at 9:30am".

const dateFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  year: 'numeric',
})
const timeParts = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: 'numeric', minute: '2-digit', hourCycle: 'h12' })

/** 9:30am, 12pm, 4:15pm (GOV.UK style: no leading zero, "12pm" for midday). */
export function formatTime(moment: Date | string): string {
  const parts = timeParts.formatToParts(new Date(moment))
  const hour = parts.find((p) => p.type === 'hour')!.value
  const minute = parts.find((p) => p.type === 'minute')!.value
  const period = (parts.find((p) => p.type === 'dayPeriod')?.value ?? '').toLowerCase().replace(/[^apm]/g, '')
  return `${hour}${minute === '00' ? '' : `:${minute}`}${period}`
}

export function formatDate(moment: Date | string): string {
  return dateFormat.format(new Date(moment)).replace(',', '')
}

export function formatMoment(moment: Date | string): string {
  return `${formatDate(moment)} at ${formatTime(moment)}`
}

/** "Tuesday 15 November 2022, 9:30am to 4pm" */
export function formatSpan(start: Date | string, end: Date | string): string {
  return `${formatDate(start)}, ${formatTime(start)} to ${formatTime(end)}`
}
