import { recordAudit } from '../audit/audit.ts'
import type { Trx } from '../db/database.ts'
import { AppError } from '../errors.ts'
import { eventInvitation } from '../events/ical.ts'
import { formatSpan } from '../events/times.ts'
import type { Services } from '../services.ts'
import type { MeetingEnrolment, User } from './meetings.ts'

// Scheduling line manager/mentor meetings in advance: the participant (or their line manager) sets
// the date, time, length and place or link; both get an email with a calendar invitation (.ics, the
// same invitation events send: the UID is the schedule's id, so a change updates the calendar entry
// and a cancellation removes it).

export type Deps = Pick<Services, 'config' | 'email'>
export type ScheduleInput = { meetingNumber: number; startsAt: Date; durationMinutes: number; location: string }

/** Where either party sees an enrolment's meetings. */
export const meetingsPath = (enrolmentId: string) => `/meetings/${enrolmentId}`

export const meetingTitle = (e: Pick<MeetingEnrolment, 'fullName' | 'courseName'>, n: number) =>
  `NPQ line manager meeting ${n}: ${e.fullName} (${e.courseName})`

function refuseInactive(e: MeetingEnrolment) {
  if (e.status === 'withdrawn' || e.status === 'deferred' || e.status === 'completed') {
    throw new AppError('validation-failed', `Meetings cannot be scheduled while the course is ${e.status}`)
  }
}

function checkInput(e: MeetingEnrolment, input: ScheduleInput, now: Date) {
  if (e.meetingsRequired === 0)
    throw new AppError('validation-failed', `${e.leadProviderName} does not ask for line manager meetings on this course`)
  if (input.meetingNumber < 1 || input.meetingNumber > e.meetingsRequired) {
    throw new AppError('validation-failed', 'Choose the meeting number', [{ field: 'meetingNumber', message: 'Choose the meeting number' }])
  }
  if (input.startsAt.getTime() <= now.getTime()) {
    throw new AppError('validation-failed', 'The meeting must be in the future', [
      { field: 'date-day', message: 'Enter a date and time in the future' },
    ])
  }
}

type Schedule = { id: string; meeting_number: number; starts_at: Date; duration_minutes: number; location: string | null; updated_at: Date }

async function tellBoth(trx: Trx, deps: Deps, e: MeetingEnrolment, s: Schedule, kind: 'scheduled' | 'changed' | 'cancelled') {
  const title = meetingTitle(e, s.meeting_number)
  const end = new Date(s.starts_at.getTime() + s.duration_minutes * 60_000)
  const when = formatSpan(s.starts_at, end)
  const isLink = s.location ? /^https?:\/\//i.test(s.location) : false
  const where = s.location ? (isLink ? `Join online: ${s.location}` : `Place: ${s.location}`) : ''
  const path = meetingsPath(e.id)
  const calendarEntry = {
    id: s.id,
    title,
    kind: 'coaching' as const,
    activity_code: null,
    description: 'A line manager / mentor meeting (contracting, check-in, reflection, target setting). Write and sign the log afterwards.',
    starts_at: s.starts_at,
    ends_at: end,
    venue: s.location && !isLink ? s.location : null,
    joining_link: isLink ? s.location : null,
    status: 'scheduled' as const,
    updated_at: s.updated_at,
    deliveryPartner: e.deliveryPartnerName ? { name: e.deliveryPartnerName } : null,
    leadProvider: { name: e.leadProviderName },
  }
  const method = kind === 'cancelled' ? 'cancel' : 'request'
  const texts = {
    scheduled: { subject: `Meeting ${s.meeting_number} scheduled: ${e.fullName}`, lines: [`${title} is scheduled.`, when, where] },
    changed: { subject: `Meeting ${s.meeting_number} changed: ${e.fullName}`, lines: [`${title} has changed. It is now:`, when, where] },
    cancelled: { subject: `Meeting ${s.meeting_number} cancelled: ${e.fullName}`, lines: [`${title} (${when}) is cancelled.`] },
  }[kind]
  const people = [{ name: e.fullName, email: e.email }]
  if (e.lineManagerEmail) people.push({ name: e.lineManagerName ?? '', email: e.lineManagerEmail })
  for (const person of people) {
    await deps.email.queue(trx, {
      to: person.email,
      subject: texts.subject,
      body: [`Hello ${person.name},`, ...texts.lines.filter(Boolean), `Details: ${deps.config.baseUrl}${path}`].join('\n\n') + '\n',
      attachments: [
        {
          filename: 'meeting.ics',
          contentType: `text/calendar; charset=utf-8; method=${method.toUpperCase()}`,
          content: eventInvitation(calendarEntry, method, deps.config.baseUrl, path),
        },
      ],
    })
  }
}

const scheduleColumns = ['id', 'meeting_number', 'starts_at', 'duration_minutes', 'location', 'updated_at'] as const

export async function scheduleMeeting(trx: Trx, deps: Deps, by: User, e: MeetingEnrolment, input: ScheduleInput, now = new Date()) {
  refuseInactive(e)
  checkInput(e, input, now)
  const live = await trx
    .selectFrom('meeting_schedules')
    .select('id')
    .where('enrolment_id', '=', e.id)
    .where('meeting_number', '=', input.meetingNumber)
    .where('cancelled_at', 'is', null)
    .forUpdate()
    .executeTakeFirst()
  if (live) {
    throw new AppError('validation-failed', `Meeting ${input.meetingNumber} is already scheduled`, [
      { field: 'meetingNumber', message: `Meeting ${input.meetingNumber} is already scheduled: change it instead` },
    ])
  }
  const s = await trx
    .insertInto('meeting_schedules')
    .values({
      enrolment_id: e.id,
      meeting_number: input.meetingNumber,
      starts_at: input.startsAt,
      duration_minutes: input.durationMinutes,
      location: input.location || null,
      scheduled_by: by.userId,
    })
    .returning(scheduleColumns)
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'meeting.scheduled',
    entityType: 'meeting-schedule',
    entityId: s.id,
    after: { enrolmentId: e.id, ...input },
  })
  await tellBoth(trx, deps, e, s, 'scheduled')
  return s.id
}

async function liveSchedule(trx: Trx, e: MeetingEnrolment, scheduleId: string) {
  const s = await trx
    .selectFrom('meeting_schedules')
    .select(scheduleColumns)
    .where('id', '=', scheduleId)
    .where('enrolment_id', '=', e.id)
    .where('cancelled_at', 'is', null)
    .forUpdate()
    .executeTakeFirst()
  if (!s) throw new AppError('not-found', 'That meeting is not scheduled (it may have been cancelled)')
  return s
}

export async function rescheduleMeeting(
  trx: Trx,
  deps: Deps,
  by: User,
  e: MeetingEnrolment,
  scheduleId: string,
  input: Omit<ScheduleInput, 'meetingNumber'>,
  now = new Date(),
) {
  refuseInactive(e)
  const before = await liveSchedule(trx, e, scheduleId)
  checkInput(e, { ...input, meetingNumber: before.meeting_number }, now)
  const s = await trx
    .updateTable('meeting_schedules')
    .set({ starts_at: input.startsAt, duration_minutes: input.durationMinutes, location: input.location || null, updated_at: new Date() })
    .where('id', '=', scheduleId)
    .returning(scheduleColumns)
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'meeting.rescheduled',
    entityType: 'meeting-schedule',
    entityId: s.id,
    before: { startsAt: before.starts_at, durationMinutes: before.duration_minutes, location: before.location },
    after: input,
  })
  await tellBoth(trx, deps, e, s, 'changed')
}

export async function cancelMeeting(trx: Trx, deps: Deps, by: User, e: MeetingEnrolment, scheduleId: string) {
  const before = await liveSchedule(trx, e, scheduleId)
  const s = await trx
    .updateTable('meeting_schedules')
    .set({ cancelled_at: new Date(), cancelled_by: by.userId, updated_at: new Date() })
    .where('id', '=', scheduleId)
    .returning(scheduleColumns)
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'meeting.cancelled',
    entityType: 'meeting-schedule',
    entityId: s.id,
    before: { startsAt: before.starts_at, meetingNumber: before.meeting_number },
  })
  await tellBoth(trx, deps, e, s, 'cancelled')
}
