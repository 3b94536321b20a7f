import { sql } from 'kysely'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { notFound } from '../errors.ts'
import { describeAction, loadActions } from '../escalations/cases.ts'
import { outputLabels } from '../escalations/queue.ts'
import { eventTitle } from '../events/events.ts'
import { enrolmentTimeline } from '../lifecycle/requests.ts'
import { loadMeetingEnrolments, logStateLabels, meetingOverviews } from '../meetings/meetings.ts'
import { statusLabels } from '../participants/lifecycle.ts'
import { hasRole, type Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { computeFigures } from './figures.ts'
import { riskText } from './labels.ts'

// One participant's page for their delivery partner's lead or their lead provider's admin: engagement
// by block and its projection, outputs and declarations, registers, meetings, escalation, and one
// timeline of all of it. Anyone else is told the page does not exist (no hint the enrolment does).

type User = Principal & { kind: 'user' }

const statusTexts: Record<string, string> = {
  eligible: 'Eligible',
  declared: 'Declared',
  'not-eligible': 'Not met yet',
  blocked: 'Blocked',
}

type TimelineItem = { on: string; at: number; what: string; details: string | null }

export async function participantPage(services: Services, user: User, area: 'delivery-partner' | 'lead-provider', id: string, now: Date) {
  const { db, catalogue } = services
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound('Participant')
  const e = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .select([
      'e.id',
      'e.participant_id',
      'e.course_identifier',
      'e.cohort',
      'e.status',
      'e.lead_provider_id',
      'e.delivery_partner_id',
      'p.full_name',
      'p.email',
      'lp.code as lp_code',
      'lp.name as lp_name',
      'dp.code as dp_code',
      'dp.name as dp_name',
    ])
    .where('e.id', '=', id)
    .executeTakeFirst()
  const allowed =
    e &&
    (area === 'delivery-partner'
      ? e.delivery_partner_id !== null && hasRole(user, 'delivery-partner-lead', e.delivery_partner_id)
      : hasRole(user, 'lead-provider-admin', e.lead_provider_id))
  if (!e || !allowed) throw notFound('Participant')

  const today = londonDateOf(now)
  const [figures, transitions, registers, bookings, declarations, cases, meetingEnrolments] = await Promise.all([
    computeFigures(
      services,
      { leadProvider: e.lp_code, cohort: e.cohort, course: e.course_identifier, participantIds: [e.participant_id] },
      today,
    ),
    enrolmentTimeline(db, e.id),
    db
      .selectFrom('register_entries as r')
      .innerJoin('events as ev', 'ev.id', 'r.event_id')
      .select([
        'r.id',
        'r.status',
        'r.recorded_at',
        'r.completed_on',
        'ev.id as event_id',
        'ev.title',
        'ev.kind',
        'ev.activity_code',
        'ev.starts_at',
        'ev.starts_on',
      ])
      .where('r.participant_id', '=', e.participant_id)
      .where('ev.course_identifier', '=', e.course_identifier)
      .where('ev.lead_provider_id', '=', e.lead_provider_id)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('register_entries as s').select('s.id').whereRef('s.supersedes', '=', 'r.id'))),
      )
      .orderBy('ev.starts_at')
      .execute(),
    db
      .selectFrom('bookings as b')
      .innerJoin('events as ev', 'ev.id', 'b.event_id')
      .select(['b.status', 'b.booked_at', 'b.requested_at', 'b.cancelled_at', 'ev.title', 'ev.kind', 'ev.activity_code', 'ev.starts_at'])
      .where('b.participant_id', '=', e.participant_id)
      .where('ev.course_identifier', '=', e.course_identifier)
      .where('ev.lead_provider_id', '=', e.lead_provider_id)
      .execute(),
    db
      .selectFrom('declarations')
      .select(['id', 'declaration_type', sql<string>`declaration_date::text`.as('declaration_date'), 'state', 'declared_at'])
      .where('enrolment_id', '=', e.id)
      .orderBy('declared_at')
      .execute(),
    db
      .selectFrom('escalation_cases')
      .select([
        'id',
        'declaration_type',
        sql<string>`review_date::text`.as('review_date'),
        sql<string | null>`closed_on::text`.as('closed_on'),
        'closed_reason',
      ])
      .where('enrolment_id', '=', e.id)
      .orderBy('review_date')
      .execute(),
    loadMeetingEnrolments(db, catalogue, { ids: [e.id] }),
  ])
  const [actions, overviews] = await Promise.all([
    loadActions(
      db,
      cases.map((c) => c.id),
    ),
    meetingOverviews(db, meetingEnrolments),
  ])
  const figure = figures.find((f) => f.enrolmentId === e.id) ?? null
  const meetings = overviews[0]?.meetings ?? []

  // One timeline, oldest first: enrolment changes and requests, bookings, attendance, meetings,
  // declarations and escalation actions.
  const timeline: TimelineItem[] = []
  const at = (d: Date | string) => new Date(d).getTime()
  for (const t of transitions) timeline.push({ on: t.on, at: t.at.getTime(), what: t.text, details: t.details })
  for (const b of bookings) {
    const title = eventTitle(b)
    const moment = b.booked_at ?? b.requested_at
    timeline.push({
      on: londonDateOf(new Date(moment)),
      at: at(moment),
      what: b.status === 'waiting' ? `On the waiting list for ${title}` : `Booked on ${title}`,
      details: null,
    })
    if (b.cancelled_at)
      timeline.push({
        on: londonDateOf(new Date(b.cancelled_at)),
        at: at(b.cancelled_at),
        what: `Booking cancelled: ${title}`,
        details: null,
      })
  }
  const registerStatus: Record<string, string> = {
    attended: 'Attended',
    absent: 'Absent',
    'contingency-completed': 'Caught up (contingency)',
  }
  for (const r of registers) {
    timeline.push({
      on: r.starts_on,
      at: at(r.starts_at),
      what: `${registerStatus[r.status] ?? r.status}: ${eventTitle(r)}`,
      details: null,
    })
  }
  for (const m of meetings) {
    if (m.signed)
      timeline.push({
        on: m.signed.heldOn,
        at: at(`${m.signed.heldOn}T12:00:00Z`),
        what: `Meeting ${m.number} held (log signed by both)`,
        details: null,
      })
    else if (m.schedule)
      timeline.push({
        on: londonDateOf(m.schedule.startsAt),
        at: m.schedule.startsAt.getTime(),
        what: `Meeting ${m.number} scheduled`,
        details: null,
      })
  }
  for (const d of declarations) {
    timeline.push({
      on: londonDateOf(new Date(d.declared_at)),
      at: at(d.declared_at),
      what: `Declared: ${outputLabels[d.declaration_type] ?? d.declaration_type}`,
      details: `Declaration date ${d.declaration_date}, now ${d.state}`,
    })
  }
  for (const a of actions) {
    const c = cases.find((x) => x.id === a.caseId)
    const { what, details } = describeAction(a)
    timeline.push({
      on: a.onDate,
      at: at(a.recordedAt),
      what: `Escalation (${outputLabels[c?.declaration_type ?? ''] ?? c?.declaration_type}): ${what}`,
      details: details || null,
    })
  }
  timeline.sort((a, b) => a.on.localeCompare(b.on) || a.at - b.at)

  const declared = new Map(declarations.filter((d) => !['voided', 'ineligible'].includes(d.state)).map((d) => [d.declaration_type, d]))
  return {
    title: e.full_name,
    area,
    name: e.full_name,
    caption: `${findCourse(e.course_identifier)?.name ?? e.course_identifier}, ${e.cohort}`,
    deliveryPartner: e.dp_name,
    leadProvider: e.lp_name,
    status: statusLabels[e.status],
    today,
    figure: figure && {
      percent: figure.percent,
      projected: figure.projectedPercent,
      deadline: figure.deadline,
      risks: figure.risks.map(riskText),
      blocks: figure.blocks.map((b) => ({
        block: typeof b.block === 'number' ? `Block ${b.block}` : b.block,
        earned: b.creditsEarned,
        available: b.creditsAvailable,
        percent: b.percent,
      })),
      outputs: figure.outputs.map((o) => ({
        label: outputLabels[o.declarationType] ?? o.declarationType,
        reviewDate: o.reviewDate,
        status: statusTexts[o.status] ?? o.status,
        declaration: declared.get(o.declarationType as never)?.state ?? null,
        missing: o.status === 'eligible' || o.status === 'declared' ? null : (o.reasons[0] ?? null),
      })),
    },
    registers: registers.map((r) => ({
      eventId: r.event_id,
      title: eventTitle(r),
      on: r.starts_on,
      status: registerStatus[r.status] ?? r.status,
    })),
    meetingsRequired: meetingEnrolments[0]?.meetingsRequired ?? 0,
    meetings: meetings.map((m) => ({
      number: m.number,
      state: logStateLabels[m.state],
      heldOn: m.signed?.heldOn ?? m.latest?.heldOn ?? null,
      scheduledFor: m.schedule?.startsAt ?? null,
    })),
    cases: cases.map((c) => ({
      id: c.id,
      output: outputLabels[c.declaration_type] ?? c.declaration_type,
      reviewDate: c.review_date,
      closed: c.closed_on,
      actions: actions.filter((a) => a.caseId === c.id).length,
    })),
    timeline,
    links: {
      outputs: `/${area}/outputs/${e.id}`,
      lifecycle: `/${area}/lifecycle/enrolments/${e.id}`,
      meetings: area === 'delivery-partner' && (meetingEnrolments[0]?.meetingsRequired ?? 0) > 0 ? `/meetings/${e.id}` : null,
      escalation: (caseId: string) => `/${area}/escalations/${caseId}`,
      dashboard: `/${area}/dashboard`,
    },
  }
}
