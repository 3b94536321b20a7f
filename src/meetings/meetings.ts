import { sql } from 'kysely'
import type { Catalogue } from '../catalogue/catalogue.ts'
import { findCourse } from '../catalogue/courses.ts'
import type { Db, Trx } from '../db/database.ts'
import type { EnrolmentStatus, MeetingStage } from '../db/schema.ts'
import { notFound } from '../errors.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'

// Line manager/mentor meetings of one enrolment: how many the lead provider's policy requires, who
// may see them (the participant, their line manager, their delivery partner's leads) and who takes part
// (only the participant and the enrolment's line manager).

export type User = Principal & { kind: 'user' }

export type MeetingEnrolment = {
  id: string
  participantId: string
  participantUserId: string | null
  fullName: string
  email: string
  courseIdentifier: string
  courseName: string
  cohort: string
  status: EnrolmentStatus
  leadProviderId: string
  leadProviderCode: string
  leadProviderName: string
  deliveryPartnerId: string | null
  deliveryPartnerName: string | null
  lineManagerUserId: string | null
  lineManagerName: string | null
  lineManagerEmail: string | null
  meetingsRequired: number
}

/** The participant, the line manager, or a reader: their delivery partner's leads or their lead provider's admins. */
export type Party = 'participant' | 'line-manager' | 'reader'

/** Meetings the lead provider's policy requires for a course group (UCL: specialist 3, leadership 4, EHCO 0). */
export function meetingsRequired(catalogue: Catalogue, leadProviderCode: string, courseIdentifier: string): number {
  const group = findCourse(courseIdentifier)?.group
  if (!group) return 0
  return catalogue.policy(leadProviderCode)?.meetings_required[group] ?? 0
}

function enrolmentQuery(db: Db | Trx) {
  return db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .leftJoin('users as lm', 'lm.id', 'e.line_manager_user_id')
    .select([
      'e.id',
      'p.id as participantId',
      'p.user_id as participantUserId',
      'p.full_name as fullName',
      'p.email',
      'e.course_identifier as courseIdentifier',
      'e.cohort',
      'e.status',
      'lp.id as leadProviderId',
      'lp.code as leadProviderCode',
      'lp.name as leadProviderName',
      'dp.id as deliveryPartnerId',
      'dp.name as deliveryPartnerName',
      'e.line_manager_user_id as lineManagerUserId',
      'lm.full_name as lineManagerName',
      'lm.email as lineManagerEmail',
    ])
}

type EnrolmentRow = Awaited<ReturnType<ReturnType<typeof enrolmentQuery>['executeTakeFirstOrThrow']>>
const withCourse = (catalogue: Catalogue, r: EnrolmentRow): MeetingEnrolment => ({
  ...r,
  courseName: findCourse(r.courseIdentifier)?.name ?? r.courseIdentifier,
  meetingsRequired: meetingsRequired(catalogue, r.leadProviderCode, r.courseIdentifier),
})

export async function loadMeetingEnrolments(
  db: Db | Trx,
  catalogue: Catalogue,
  scope: {
    ids?: string[]
    participantUserId?: string
    lineManagerUserId?: string
    deliveryPartnerIds?: string[]
    leadProviderIds?: string[]
  },
): Promise<MeetingEnrolment[]> {
  if ([scope.ids, scope.deliveryPartnerIds, scope.leadProviderIds].some((list) => list && !list.length)) return []
  let q = enrolmentQuery(db)
  if (scope.ids) q = q.where('e.id', 'in', scope.ids)
  if (scope.participantUserId) q = q.where('p.user_id', '=', scope.participantUserId)
  if (scope.lineManagerUserId) q = q.where('e.line_manager_user_id', '=', scope.lineManagerUserId)
  if (scope.deliveryPartnerIds) q = q.where('e.delivery_partner_id', 'in', scope.deliveryPartnerIds)
  if (scope.leadProviderIds) q = q.where('e.lead_provider_id', 'in', scope.leadProviderIds)
  const rows = await q.orderBy('p.full_name').orderBy('e.course_identifier').execute()
  return rows.map((r) => withCourse(catalogue, r))
}

/** How this person relates to the enrolment, or null when they may not see its meetings at all. */
export function partyOf(user: User, e: MeetingEnrolment): Party | null {
  if (e.participantUserId === user.userId) return 'participant'
  if (e.lineManagerUserId === user.userId) return 'line-manager'
  if (e.deliveryPartnerId && organisationsWithRole(user, 'delivery-partner-lead').includes(e.deliveryPartnerId)) return 'reader'
  if (organisationsWithRole(user, 'lead-provider-admin').includes(e.leadProviderId)) return 'reader'
  return null
}

/** The enrolment and this person's part in it; not found (no hint it exists) for anyone else. */
export async function enrolmentFor(db: Db | Trx, catalogue: Catalogue, user: User, id: string) {
  if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound('Meetings')
  const [e] = await loadMeetingEnrolments(db, catalogue, { ids: [id] })
  const party = e && partyOf(user, e)
  if (!e || !party) throw notFound('Meetings')
  return { e, party }
}

export type ScheduleRow = {
  id: string
  meetingNumber: number
  startsAt: Date
  durationMinutes: number
  location: string | null
  updatedAt: Date
}

export type VersionRow = {
  id: string
  enrolmentId: string
  meetingNumber: number
  version: number
  heldOn: string
  stage: MeetingStage
  fatsCompleted: boolean
  fatsCompletedCount: number
  checkingIn: string
  keyPurposes: string
  answers: { question: string; response: string }[]
  createdBy: string | null
  createdAt: Date
  updatedAt: Date
  participantSignedAt: Date | null
  participantSignedBy: string | null
  lineManagerSignedAt: Date | null
  lineManagerSignedBy: string | null
  meetingLogId: string | null
  createdByName: string | null
}

export function versionQuery(db: Db | Trx) {
  return db
    .selectFrom('meeting_log_versions as v')
    .leftJoin('users as c', 'c.id', 'v.created_by')
    .select([
      'v.id',
      'v.enrolment_id as enrolmentId',
      'v.meeting_number as meetingNumber',
      'v.version',
      sql<string>`v.held_on::text`.as('heldOn'),
      'v.stage',
      'v.fats_completed as fatsCompleted',
      'v.fats_completed_count as fatsCompletedCount',
      'v.checking_in as checkingIn',
      'v.key_purposes as keyPurposes',
      'v.answers',
      'v.created_by as createdBy',
      'v.created_at as createdAt',
      'v.updated_at as updatedAt',
      'v.participant_signed_at as participantSignedAt',
      'v.participant_signed_by as participantSignedBy',
      'v.line_manager_signed_at as lineManagerSignedAt',
      'v.line_manager_signed_by as lineManagerSignedBy',
      'v.meeting_log_id as meetingLogId',
      'c.full_name as createdByName',
    ])
}

export const isLocked = (v: Pick<VersionRow, 'participantSignedAt' | 'lineManagerSignedAt'>) =>
  Boolean(v.participantSignedAt || v.lineManagerSignedAt)
export const isSignedByBoth = (v: Pick<VersionRow, 'participantSignedAt' | 'lineManagerSignedAt'>) =>
  Boolean(v.participantSignedAt && v.lineManagerSignedAt)

export type LogState = 'none' | 'draft' | 'awaiting-line-manager' | 'awaiting-participant' | 'signed' | 'signed-new-version'

export const logStateLabels: Record<LogState, string> = {
  none: 'No log yet',
  draft: 'Draft, not signed',
  'awaiting-line-manager': 'Waiting for the line manager to sign',
  'awaiting-participant': 'Waiting for the participant to sign',
  signed: 'Signed by both',
  'signed-new-version': 'Signed; a new version is being written',
}

export type MeetingSummary = {
  number: number
  schedule: ScheduleRow | null
  latest: VersionRow | null
  /** The latest version both signed: the one the evidence comes from. */
  signed: VersionRow | null
  state: LogState
}

export type MeetingOverview = {
  e: MeetingEnrolment
  meetings: MeetingSummary[]
  scheduledCount: number
  loggedCount: number
  signedCount: number
}

function stateOf(latest: VersionRow | null, signed: VersionRow | null): LogState {
  if (!latest) return 'none'
  if (isSignedByBoth(latest)) return 'signed'
  if (signed) return 'signed-new-version'
  if (latest.participantSignedAt) return 'awaiting-line-manager'
  if (latest.lineManagerSignedAt) return 'awaiting-participant'
  return 'draft'
}

/** Each enrolment's meetings: the required ones, plus any beyond them that have a schedule or a log. */
export async function meetingOverviews(db: Db | Trx, enrolments: MeetingEnrolment[]): Promise<MeetingOverview[]> {
  const ids = enrolments.map((e) => e.id)
  if (!ids.length) return []
  const [schedules, versions] = await Promise.all([
    db
      .selectFrom('meeting_schedules')
      .select([
        'id',
        'enrolment_id',
        'meeting_number as meetingNumber',
        'starts_at as startsAt',
        'duration_minutes as durationMinutes',
        'location',
        'updated_at as updatedAt',
      ])
      .where('enrolment_id', 'in', ids)
      .where('cancelled_at', 'is', null)
      .execute(),
    versionQuery(db).where('v.enrolment_id', 'in', ids).orderBy('v.version').execute(),
  ])
  return enrolments.map((e) => {
    const numbers = new Set<number>()
    for (let n = 1; n <= e.meetingsRequired; n++) numbers.add(n)
    for (const s of schedules) if (s.enrolment_id === e.id) numbers.add(s.meetingNumber)
    for (const v of versions) if (v.enrolmentId === e.id) numbers.add(v.meetingNumber)
    const meetings = [...numbers]
      .sort((a, b) => a - b)
      .map((number) => {
        const mine = versions.filter((v) => v.enrolmentId === e.id && v.meetingNumber === number)
        const latest = mine.at(-1) ?? null
        const signed = mine.filter(isSignedByBoth).at(-1) ?? null
        const s = schedules.find((x) => x.enrolment_id === e.id && x.meetingNumber === number)
        const schedule: ScheduleRow | null = s
          ? {
              id: s.id,
              meetingNumber: s.meetingNumber,
              startsAt: s.startsAt,
              durationMinutes: s.durationMinutes,
              location: s.location,
              updatedAt: s.updatedAt,
            }
          : null
        return { number, schedule, latest, signed, state: stateOf(latest, signed) }
      })
    return {
      e,
      meetings,
      scheduledCount: meetings.filter((m) => m.schedule).length,
      loggedCount: meetings.filter((m) => m.latest).length,
      signedCount: meetings.filter((m) => m.signed).length,
    }
  })
}

/** What waits for this party's signature: the latest version of a log the other side has signed. */
export function needsSignatureOf(m: MeetingSummary, party: Party): boolean {
  if (!m.latest || isSignedByBoth(m.latest)) return false
  if (party === 'line-manager') return Boolean(m.latest.participantSignedAt)
  if (party === 'participant') return Boolean(m.latest.lineManagerSignedAt)
  return false
}
