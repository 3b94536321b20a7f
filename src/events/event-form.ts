import { londonDateOf, londonMoment, londonTimeOf } from '../dates/london.ts'
import { eventKinds, type EventKind } from '../db/schema.ts'
import type { FieldError } from '../errors.ts'
import type { EventDetails } from './events.ts'
import type { EventInput } from './scheduling.ts'

// The scheduling form: its fields as the page posts them, read into an EventInput with an error per
// field a person typed wrongly (the scheduling rules proper are in scheduling.ts).

export type EventForm = Record<string, string | string[] | undefined>
export type Offer = { leadProviderId: string; deliveryPartnerId: string | null; courseIdentifier: string; cohort: string }

const text = (form: EventForm, name: string) => {
  const v = form[name]
  return (Array.isArray(v) ? v[0] : v)?.trim() ?? ''
}
const list = (form: EventForm, name: string) => {
  const v = form[name]
  return (Array.isArray(v) ? v : v ? [v] : []).filter((s) => s !== '')
}

function dateOf(form: EventForm, name: string): string | null {
  const [d, m, y] = ['day', 'month', 'year'].map((p) => text(form, `${name}-${p}`))
  if (!d && !m && !y) return null
  if (!/^\d{1,2}$/.test(d!) || !/^\d{1,2}$/.test(m!) || !/^\d{4}$/.test(y!)) return 'invalid'
  return `${y}-${m!.padStart(2, '0')}-${d!.padStart(2, '0')}`
}

/** Field-name suffixes of the sessions of a series ('' for a single event). */
export const sessionSuffixes = (sessions: number) => (sessions <= 1 ? [''] : Array.from({ length: sessions }, (_, i) => `-${i + 1}`))

/** Date fields are named `date-day`, `date-1-day`…; other session fields `starts`, `starts-1`… */
export const sessionField = (field: string, suffix: string) =>
  field.endsWith('-day') ? field.replace(/-day$/, `${suffix}-day`) : `${field}${suffix}`

/**
 * Reads the form into one EventInput per session (one, or each date of a series such as PLG 1–4,
 * which share everything but their date, times and activity).
 */
export function readEventForm(form: EventForm, offer: Offer, sessions = 1): { inputs: EventInput[] | null; problems: FieldError[] } {
  const problems: FieldError[] = []
  const kind = text(form, 'kind') as EventKind
  if (!eventKinds.includes(kind)) problems.push({ field: 'kind', message: 'Select the kind of event' })

  const times = sessionSuffixes(sessions).map((suffix, i) => {
    const which = sessions > 1 ? ` of session ${i + 1}` : ''
    let day = dateOf(form, `date${suffix}`)
    if (day !== null && day !== 'invalid' && !londonMoment(day, '12:00')) day = 'invalid' // 31 February
    if (day === null) problems.push({ field: `date${suffix}-day`, message: `Enter the date${which}` })
    else if (day === 'invalid') problems.push({ field: `date${suffix}-day`, message: `Enter a real date${which}, for example 15 11 2026` })
    const moment = (name: string, label: string) => {
      const time = text(form, `${name}${suffix}`)
      const field = `${name}${suffix}`
      if (!day || day === 'invalid') return null
      if (!/^\d{1,2}:\d{2}$/.test(time)) {
        problems.push({ field, message: `Enter the ${label} time${which} as hours and minutes, for example 09:30` })
        return null
      }
      const m = londonMoment(day, time)
      if (!m) problems.push({ field, message: `Enter a real ${label} time${which}, for example 09:30` })
      return m
    }
    return { startsAt: moment('starts', 'start'), endsAt: moment('ends', 'end'), activityCode: text(form, `activity${suffix}`) || null }
  })

  const capacityText = text(form, 'capacity')
  const capacity = /^\d{1,6}$/.test(capacityText) ? Number(capacityText) : NaN
  if (Number.isNaN(capacity)) problems.push({ field: 'capacity', message: 'Enter the number of places as a whole number, for example 30' })
  const optionalDay = (name: string, label: string, time: string): Date | null => {
    const d = dateOf(form, name)
    if (d === null) return null
    const m = d === 'invalid' ? null : londonMoment(d, time)
    if (!m) problems.push({ field: `${name}-day`, message: `Enter a real date when ${label}, for example 1 11 2026` })
    return m
  }
  const bookingOpensAt = optionalDay('booking_opens', 'booking opens', '00:00')
  const bookingClosesAt = optionalDay('booking_closes', 'booking closes', '23:59')
  const cancelBy = optionalDay('cancel_by', 'cancellations close', '23:59')
  const reminderText = text(form, 'reminder_days')
  const reminderDaysBefore = reminderText === '' ? null : /^\d{1,2}$/.test(reminderText) ? Number(reminderText) : NaN
  if (Number.isNaN(reminderDaysBefore))
    problems.push({ field: 'reminder_days', message: 'Enter the reminder as a number of days, for example 2' })
  if (problems.length) return { inputs: null, problems }
  const title = text(form, 'title') || null
  return {
    inputs: times.map((t, i) => ({
      ...offer,
      kind,
      activityCode: t.activityCode,
      title: title && sessions > 1 ? `${title} ${i + 1}` : title,
      description: text(form, 'description') || null,
      startsAt: t.startsAt!,
      endsAt: t.endsAt!,
      venue: text(form, 'venue') || null,
      joiningLink: text(form, 'joining_link') || null,
      capacity,
      bookingOpensAt,
      bookingClosesAt,
      cancelBy,
      reminderDaysBefore: reminderDaysBefore as number | null,
      facilitatorUserIds: list(form, 'facilitators'),
      sharedWithPartnerIds: list(form, 'shared_with'),
    })),
    problems,
  }
}

const dateParts = (name: string, moment: Date | string | null): EventForm => {
  if (!moment) return {}
  const [y, m, d] = londonDateOf(new Date(moment)).split('-')
  return { [`${name}-day`]: String(Number(d)), [`${name}-month`]: String(Number(m)), [`${name}-year`]: y }
}

/** The form's values for an existing event (to edit it). */
export function formOfEvent(e: EventDetails): EventForm {
  return {
    kind: e.kind,
    activity: e.activity_code ?? '',
    title: e.title ?? '',
    description: e.description ?? '',
    ...dateParts('date', e.starts_at),
    starts: londonTimeOf(new Date(e.starts_at)),
    ends: londonTimeOf(new Date(e.ends_at)),
    venue: e.venue ?? '',
    joining_link: e.joining_link ?? '',
    capacity: String(e.capacity),
    ...dateParts('booking_opens', e.booking_opens_at),
    ...dateParts('booking_closes', e.booking_closes_at),
    ...dateParts('cancel_by', e.cancel_by),
    reminder_days: e.reminder_days_before === null ? '' : String(e.reminder_days_before),
    facilitators: e.facilitators.map((f) => f.userId),
    shared_with: e.sharedWith.map((s) => s.id),
  }
}
