import { sql } from 'kysely'
import type { Catalogue } from '../catalogue/catalogue.ts'
import { courses, findCourse } from '../catalogue/courses.ts'
import type { Db, Trx } from '../db/database.ts'
import type { EnrolmentStatus, MeetingStage } from '../db/schema.ts'
import { notFound } from '../errors.ts'
import { hasRole, organisationsWithRole, type Principal } from '../policy/principal.ts'

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

export type MeetingScope = {
  ids?: string[]
  participantUserId?: string
  lineManagerUserId?: string
  deliveryPartnerIds?: string[]
  leadProviderIds?: string[]
}

/** A staff list's narrowing: one delivery partner, course or cohort, and only courses that ask for meetings. */
export type MeetingFilter = { deliveryPartnerId?: string; courseIdentifier?: string; cohort?: string }

const emptyScope = (scope: MeetingScope) =>
  [scope.ids, scope.deliveryPartnerIds, scope.leadProviderIds].some((list) => list && !list.length)

function scoped<Q extends ReturnType<typeof enrolmentQuery>>(q: Q, scope: MeetingScope): Q {
  let r = q
  if (scope.ids) r = r.where('e.id', 'in', scope.ids) as Q
  if (scope.participantUserId) r = r.where('p.user_id', '=', scope.participantUserId) as Q
  if (scope.lineManagerUserId) r = r.where('e.line_manager_user_id', '=', scope.lineManagerUserId) as Q
  if (scope.deliveryPartnerIds) r = r.where('e.delivery_partner_id', 'in', scope.deliveryPartnerIds) as Q
  if (scope.leadProviderIds) r = r.where('e.lead_provider_id', 'in', scope.leadProviderIds) as Q
  return r
}

/** (lead provider id, course) pairs whose policy asks for meetings, among the providers of the scope. */
async function pairsWithMeetings(db: Db | Trx, catalogue: Catalogue, scope: MeetingScope): Promise<[string, string][]> {
  let q = db.selectFrom('organisations').select(['id', 'code']).where('kind', '=', 'lead-provider')
  if (scope.leadProviderIds) q = q.where('id', 'in', scope.leadProviderIds)
  const providers = await q.execute()
  return providers.flatMap((lp) =>
    courses.filter((c) => meetingsRequired(catalogue, lp.code, c.identifier) > 0).map((c): [string, string] => [lp.id, c.identifier]),
  )
}

/** One page of the scope's enrolments whose course asks for meetings, narrowed by the filter, by name. */
export async function meetingEnrolmentPage(
  db: Db | Trx,
  catalogue: Catalogue,
  scope: MeetingScope,
  filter: MeetingFilter,
  page: { limit: number; offset: number },
): Promise<MeetingEnrolment[]> {
  if (emptyScope(scope)) return []
  const pairs = await pairsWithMeetings(db, catalogue, scope)
  if (!pairs.length) return []
  let q = scoped(enrolmentQuery(db), scope).where((eb) =>
    eb.or(pairs.map(([lp, course]) => eb.and([eb('e.lead_provider_id', '=', lp), eb('e.course_identifier', '=', course)]))),
  )
  if (filter.deliveryPartnerId) q = q.where('e.delivery_partner_id', '=', filter.deliveryPartnerId)
  if (filter.courseIdentifier) q = q.where('e.course_identifier', '=', filter.courseIdentifier)
  if (filter.cohort) q = q.where('e.cohort', '=', filter.cohort)
  const rows = await q.orderBy('p.full_name').orderBy('e.course_identifier').orderBy('e.id').limit(page.limit).offset(page.offset).execute()
  return rows.map((r) => withCourse(catalogue, r))
}

export type MeetingSummaryRow = {
  deliveryPartnerId: string | null
  deliveryPartnerName: string | null
  courseIdentifier: string
  courseName: string
  cohort: string
  participants: number
  meetingsRequired: number
  signed: number
}

/** Per delivery partner, course and cohort whose course asks for meetings: participants and logs signed by both. */
export async function meetingSummary(
  db: Db | Trx,
  catalogue: Catalogue,
  scope: Omit<MeetingScope, 'participantUserId'>,
): Promise<MeetingSummaryRow[]> {
  if (emptyScope(scope)) return []
  const pairs = await pairsWithMeetings(db, catalogue, scope)
  if (!pairs.length) return []
  const codes = new Map(
    (await db.selectFrom('organisations').select(['id', 'code']).where('kind', '=', 'lead-provider').execute()).map((o) => [o.id, o.code]),
  )
  // Counts from the enrolments index alone; signed logs (few) joined to their enrolments separately.
  let counts = db
    .selectFrom('enrolments as e')
    .where((eb) => eb.or(pairs.map(([lp, course]) => eb.and([eb('e.lead_provider_id', '=', lp), eb('e.course_identifier', '=', course)]))))
  let signedQ = db
    .selectFrom('meeting_log_versions as v')
    .innerJoin('enrolments as e', 'e.id', 'v.enrolment_id')
    .where('v.participant_signed_at', 'is not', null)
    .where('v.line_manager_signed_at', 'is not', null)
    .where((eb) => eb.or(pairs.map(([lp, course]) => eb.and([eb('e.lead_provider_id', '=', lp), eb('e.course_identifier', '=', course)]))))
  if (scope.ids) {
    counts = counts.where('e.id', 'in', scope.ids)
    signedQ = signedQ.where('e.id', 'in', scope.ids)
  }
  if (scope.lineManagerUserId) {
    counts = counts.where('e.line_manager_user_id', '=', scope.lineManagerUserId)
    signedQ = signedQ.where('e.line_manager_user_id', '=', scope.lineManagerUserId)
  }
  if (scope.deliveryPartnerIds) {
    counts = counts.where('e.delivery_partner_id', 'in', scope.deliveryPartnerIds)
    signedQ = signedQ.where('e.delivery_partner_id', 'in', scope.deliveryPartnerIds)
  }
  if (scope.leadProviderIds) {
    counts = counts.where('e.lead_provider_id', 'in', scope.leadProviderIds)
    signedQ = signedQ.where('e.lead_provider_id', 'in', scope.leadProviderIds)
  }
  const keyOf = (r: { lp: string; dp: string | null; course: string; cohort: string }) => `${r.lp}|${r.dp ?? ''}|${r.course}|${r.cohort}`
  const [countRows, signedRows] = await Promise.all([
    counts
      .select([
        'e.lead_provider_id as lp',
        'e.delivery_partner_id as dp',
        'e.course_identifier as course',
        'e.cohort',
        sql<string>`count(*)`.as('n'),
      ])
      .groupBy(['e.lead_provider_id', 'e.delivery_partner_id', 'e.course_identifier', 'e.cohort'])
      .execute(),
    signedQ
      .select([
        'e.lead_provider_id as lp',
        'e.delivery_partner_id as dp',
        'e.course_identifier as course',
        'e.cohort',
        sql<string>`count(distinct (v.enrolment_id, v.meeting_number))`.as('n'),
      ])
      .groupBy(['e.lead_provider_id', 'e.delivery_partner_id', 'e.course_identifier', 'e.cohort'])
      .execute(),
  ])
  const signedOf = new Map(signedRows.map((r) => [keyOf(r), Number(r.n)]))
  const partnerIds = [...new Set(countRows.map((r) => r.dp).filter((id): id is string => id !== null))]
  const names = new Map(
    partnerIds.length
      ? (await db.selectFrom('organisations').select(['id', 'name']).where('id', 'in', partnerIds).execute()).map((o) => [o.id, o.name])
      : [],
  )
  const rows = countRows.map((r) => ({
    leadProviderCode: codes.get(r.lp) ?? '',
    deliveryPartnerId: r.dp,
    deliveryPartnerName: r.dp ? (names.get(r.dp) ?? null) : null,
    courseIdentifier: r.course,
    cohort: r.cohort,
    participants: r.n,
    signed: String(signedOf.get(keyOf(r)) ?? 0),
  }))
  return rows
    .map((r) => ({
      deliveryPartnerId: r.deliveryPartnerId,
      deliveryPartnerName: r.deliveryPartnerName,
      courseIdentifier: r.courseIdentifier,
      courseName: findCourse(r.courseIdentifier)?.name ?? r.courseIdentifier,
      cohort: r.cohort,
      participants: Number(r.participants),
      meetingsRequired: meetingsRequired(catalogue, r.leadProviderCode, r.courseIdentifier) * Number(r.participants),
      signed: Number(r.signed),
    }))
    .filter((r) => r.meetingsRequired > 0)
    .sort(
      (a, b) =>
        (a.deliveryPartnerName ?? '').localeCompare(b.deliveryPartnerName ?? '') ||
        a.courseName.localeCompare(b.courseName) ||
        a.cohort.localeCompare(b.cohort),
    )
}

export async function loadMeetingEnrolments(db: Db | Trx, catalogue: Catalogue, scope: MeetingScope): Promise<MeetingEnrolment[]> {
  if (emptyScope(scope)) return []
  const rows = await scoped(enrolmentQuery(db), scope).orderBy('p.full_name').orderBy('e.course_identifier').execute()
  return rows.map((r) => withCourse(catalogue, r))
}

/** How this person relates to the enrolment, or null when they may not see its meetings at all. */
export function partyOf(user: User, e: MeetingEnrolment): Party | null {
  if (e.participantUserId === user.userId) return 'participant'
  // Named on the enrolment is not enough: the person must still hold the role (as the policy's enrolment rule has it).
  if (e.lineManagerUserId === user.userId && hasRole(user, 'line-manager')) return 'line-manager'
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
