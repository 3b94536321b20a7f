import { eventsFrom } from '../calendar/my-events.ts'
import { findCourse } from '../catalogue/courses.ts'
import type { Db } from '../db/database.ts'
import { eventTitle } from '../events/events.ts'
import { formatSpan } from '../events/times.ts'
import { loadMeetingEnrolments, meetingOverviews, needsSignatureOf } from '../meetings/meetings.ts'
import { meetingsPath } from '../meetings/schedule.ts'
import type { Principal } from '../policy/principal.ts'
import { learnBlockPath, type CourseProgress } from '../progress/progress.ts'
import type { Services } from '../services.ts'

// What the participant's Home gathers: their calendar (booked events and line manager meetings, soonest
// first), what is due (a checklist built from their progress, meetings and assessment), and where to
// continue in their current block.

type User = Principal & { kind: 'user' }

export type CalendarEntry = {
  startsAt: Date
  when: string
  title: string
  where: string
  href: string
  kind: 'Booked event' | 'Waiting list' | 'Meeting'
}

const DAY = 86_400_000
/** How far ahead the Home calendar looks. */
export const CALENDAR_DAYS = 56

export async function participantCalendar(services: Services, user: User, now = new Date()): Promise<CalendarEntry[]> {
  const until = new Date(now.getTime() + CALENDAR_DAYS * DAY)
  // Waiting-list places are shown too (marked), so people know where they stand.
  const events = (await eventsFrom(services.db, user, 'participant', { endsFrom: now, cancelledSince: null, waiting: true }))
    .filter((m) => !m.cancelled && (m.booking === 'booked' || m.booking === 'waiting') && new Date(m.event.starts_at) < until)
    .map((m) => ({
      startsAt: new Date(m.event.starts_at),
      when: formatSpan(m.event.starts_at, m.event.ends_at),
      title: eventTitle(m.event),
      where: m.event.venue ?? 'Online',
      href: m.path,
      kind: m.booking === 'waiting' ? ('Waiting list' as const) : ('Booked event' as const),
    }))
  const meetings = await services.db
    .selectFrom('meeting_schedules as s')
    .innerJoin('enrolments as e', 'e.id', 's.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['s.enrolment_id', 's.meeting_number', 's.starts_at', 's.duration_minutes', 's.location'])
    .where('p.user_id', '=', user.userId)
    .where('s.cancelled_at', 'is', null)
    .where('s.starts_at', '>=', now)
    .where('s.starts_at', '<', until)
    .execute()
  const meetingEntries = meetings.map((m) => ({
    startsAt: m.starts_at,
    when: formatSpan(m.starts_at, new Date(m.starts_at.getTime() + m.duration_minutes * 60_000)),
    title: `Line manager meeting ${m.meeting_number}`,
    where: m.location ?? '',
    href: meetingsPath(m.enrolment_id),
    kind: 'Meeting' as const,
  }))
  return [...events, ...meetingEntries].sort((a, b) => a.startsAt.getTime() - b.startsAt.getTime())
}

export type DueItem = { text: string; href: string; due: string | null; kind: 'learning' | 'meeting' | 'assessment' | 'survey' }

export type AssessmentFacts = {
  courseName: string
  opensOn: string
  closesOn: string
  engagementDeadline: string
  entered: boolean
  decided: boolean
  submitted: boolean
}

/** How far ahead a block's "complete by" date puts it on the checklist. */
export const BLOCK_DUE_DAYS = 21

const addDays = (date: string, n: number) => new Date(Date.parse(`${date}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10)

/** The checklist on Home, soonest first (items with no date last). Pure: everything it needs is passed in. */
export function dueItems(
  input: {
    progress: CourseProgress[]
    assessments: AssessmentFacts[]
    meetings: { text: string; href: string }[]
    surveys: { title: string; href: string }[]
  },
  today: string,
): DueItem[] {
  const items: DueItem[] = []
  for (const c of input.progress) {
    if (c.status !== 'active') continue
    for (const b of c.blocks) {
      if (!b.live || b.left.length === 0 || !b.completesBy || b.completesBy > addDays(today, BLOCK_DUE_DAYS)) continue
      const n = b.left.length
      items.push({
        text: `${c.courseName}: ${n} ${n === 1 ? 'activity' : 'activities'} left in ${b.title}`,
        href: learnBlockPath(c.courseIdentifier, b.block),
        due: b.completesBy,
        kind: 'learning',
      })
    }
  }
  for (const a of input.assessments) {
    if (a.entered && !a.submitted && today <= a.closesOn) {
      items.push({
        text: `${a.courseName}: submit your assessment response`,
        href: '/participant/assessment',
        due: a.closesOn,
        kind: 'assessment',
      })
    } else if (!a.decided && today <= a.engagementDeadline) {
      const c = input.progress.find((p) => p.courseName === a.courseName)
      if (c && !c.onTrackForAssessment) {
        items.push({
          text: `${a.courseName}: reach 90% engagement to be entered for the assessment (${c.pointsToGate} points to go)`,
          href: '/participant/progress',
          due: a.engagementDeadline,
          kind: 'assessment',
        })
      }
    }
  }
  for (const m of input.meetings) items.push({ ...m, due: null, kind: 'meeting' })
  for (const s of input.surveys) items.push({ text: `Survey: ${s.title}`, href: s.href, due: null, kind: 'survey' })
  return items.sort((a, b) => (a.due ?? '9999').localeCompare(b.due ?? '9999'))
}

/** Meetings that need the participant: a log to sign, or a required meeting not yet scheduled. */
export async function meetingTasks(services: Services, user: User): Promise<{ text: string; href: string }[]> {
  const enrolments = (await loadMeetingEnrolments(services.db, services.catalogue, { participantUserId: user.userId })).filter(
    (e) => e.meetingsRequired > 0 && e.status === 'active',
  )
  const tasks: { text: string; href: string }[] = []
  for (const o of await meetingOverviews(services.db, enrolments)) {
    for (const m of o.meetings) {
      if (needsSignatureOf(m, 'participant'))
        tasks.push({ text: `Sign the log of meeting ${m.number}`, href: `${meetingsPath(o.e.id)}/logs/${m.number}` })
    }
    const unscheduled = o.meetings.filter((m) => !m.schedule && m.state === 'none')
    if (unscheduled.length) {
      tasks.push({ text: `Schedule meeting ${unscheduled[0]!.number} with your line manager`, href: meetingsPath(o.e.id) })
    }
  }
  return tasks
}

/** Assessment windows of the participant's courses that are not over: entry and submission state. */
export async function assessmentFacts(db: Db, userId: string, today: string): Promise<AssessmentFacts[]> {
  const rows = await db
    .selectFrom('assessment_windows as w')
    .innerJoin('enrolments as e', (j) =>
      j
        .onRef('e.lead_provider_id', '=', 'w.lead_provider_id')
        .onRef('e.course_identifier', '=', 'w.course_identifier')
        .onRef('e.cohort', '=', 'w.cohort'),
    )
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .leftJoin('assessment_entries as ae', (j) => j.onRef('ae.window_id', '=', 'w.id').onRef('ae.enrolment_id', '=', 'e.id'))
    .select([
      'w.course_identifier',
      'w.opens_on',
      'w.closes_on',
      'w.engagement_deadline',
      'ae.decision',
      'ae.submitted_at',
      'ae.id as entry_id',
    ])
    .where('p.user_id', '=', userId)
    .where('e.status', '=', 'active')
    .where('w.closes_on', '>=', today)
    .orderBy('w.opens_on')
    .execute()
  return rows.map((r) => ({
    courseName: findCourse(r.course_identifier)?.name ?? r.course_identifier,
    opensOn: r.opens_on,
    closesOn: r.closes_on,
    engagementDeadline: r.engagement_deadline,
    entered: r.decision === 'entered',
    decided: r.entry_id !== null,
    submitted: r.submitted_at !== null,
  }))
}
