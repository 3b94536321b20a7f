import { sql } from 'kysely'
import { findActivity } from '../catalogue/activities.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import { courseOfActivityCode } from '../catalogue/courses.ts'
import type { Activity, Design } from '../catalogue/load.ts'
import type { DesignVersions } from '../catalogue/versions.ts'
import type { Trx } from '../db/database.ts'

// The rules a learning record must meet, whoever sends it (the activity import, the ingest API, the
// learning pages): a known participant enrolled on the code's course, a code of the design their cohort
// runs in a published block, a time not in the future, a self-report only where the cohort uses
// self-reporting, and no activity rows for what registers or signed meeting logs evidence.
// Checked in bulk: one query for the enrolments of every participant involved, one design per
// (lead provider, course, cohort).

export type CandidateRecord = {
  participantId: string
  activityCode: string
  /** ISO 8601 with an offset or Z (already checked for form). */
  occurredAt: string
  source: 'automatic' | 'self-report'
}

export type RecordField = 'participant_id' | 'activity_code' | 'occurred_at' | 'source'

/** A problem with one record: the field it is about, a stable snake_case code and the wording people see. */
export type RecordProblem = { field: RecordField; code: RecordProblemCode; message: string }

export type RecordProblemCode =
  | 'unknown_activity'
  | 'unknown_participant'
  | 'not_enrolled'
  | 'block_not_published'
  | 'in_the_future'
  | 'self_reporting_not_used'
  | 'evidenced_by_register'
  | 'evidenced_by_meeting_log'

export type RecordCheck = {
  problems: RecordProblem[]
  /** The course of the activity code, when it names one. */
  course: string | null
  /** The design activity, when the participant's design has it. */
  activity: Activity | null
}

export type CheckOptions = {
  /** A lead provider's own systems: participants enrolled on the course with another provider are unknown to it. */
  leadProviderId?: string | null
  /** Now, in milliseconds (tests). */
  now?: number
}

type Enrolment = { participantId: string; course: string; cohort: string; leadProviderId: string; leadProvider: string }

export async function checkLearningRecords(
  trx: Trx,
  services: { designs: DesignVersions; catalogue: Catalogue },
  records: readonly CandidateRecord[],
  options: CheckOptions = {},
): Promise<RecordCheck[]> {
  const now = options.now ?? Date.now()
  const scope = options.leadProviderId ?? null
  const participants = await enrolmentsOf(trx, [...new Set(records.map((r) => r.participantId))])

  const designs = new Map<string, { design: Design | undefined; activities: Map<string, ReturnType<typeof findActivity>> }>()
  const designOf = async (e: Enrolment) => {
    const key = `${e.leadProvider}/${e.course}/${e.cohort}`
    let entry = designs.get(key)
    if (!entry) {
      entry = { design: await services.designs.designForCohort(e.leadProvider, e.course, e.cohort, trx), activities: new Map() }
      designs.set(key, entry)
    }
    return entry
  }

  const checks: RecordCheck[] = []
  for (const record of records) {
    const problems: RecordProblem[] = []
    const check: RecordCheck = { problems, course: null, activity: null }
    checks.push(check)
    const problem = (field: RecordField, code: RecordProblemCode, message: string) => problems.push({ field, code, message })

    const course = courseOfActivityCode(record.activityCode)?.identifier
    if (!course) {
      problem('activity_code', 'unknown_activity', `unknown activity code ${record.activityCode}`)
      continue
    }
    check.course = course
    const enrolments = participants.get(record.participantId.toLowerCase())
    const onCourse = enrolments?.find((e) => e.course === course)
    if (!onCourse || (scope && onCourse.leadProviderId !== scope)) {
      // Another provider's participant is unknown to a provider's systems, enrolled elsewhere or not.
      const known = enrolments !== undefined && !onCourse && (!scope || enrolments.some((e) => e.leadProviderId === scope))
      if (known) problem('activity_code', 'not_enrolled', `participant ${record.participantId} is not enrolled on ${course}`)
      else problem('participant_id', 'unknown_participant', `unknown participant ${record.participantId}`)
      continue
    }

    const entry = await designOf(onCourse)
    let found = entry.activities.get(record.activityCode)
    if (found === undefined) {
      found = entry.design ? findActivity(entry.design, record.activityCode) : null
      entry.activities.set(record.activityCode, found)
    }
    if (!found) {
      problem('activity_code', 'unknown_activity', `${record.activityCode} is not an activity of ${course} in cohort ${onCourse.cohort}`)
      continue
    }
    check.activity = found.activity
    if (found.provisional) problem('activity_code', 'block_not_published', `${record.activityCode} is in a block that is not published yet`)
    if (Date.parse(record.occurredAt) > now) problem('occurred_at', 'in_the_future', `${record.occurredAt} is in the future`)
    const selfReporting = services.catalogue.cohortOutputs(onCourse.leadProvider, onCourse.cohort, course)?.selfReporting ?? false
    if (record.source === 'self-report' && !selfReporting) {
      problem('source', 'self_reporting_not_used', `cohort ${onCourse.cohort} does not use self-reporting with ${onCourse.leadProvider}`)
    }
    if (record.source === 'automatic' && found.activity.evidence === 'register') {
      problem(
        'source',
        'evidenced_by_register',
        `${record.activityCode} is an event: attendance is evidenced by the facilitator's register, not activity rows`,
      )
    }
    if (found.activity.evidence === 'meeting-log') {
      problem(
        'activity_code',
        'evidenced_by_meeting_log',
        `${record.activityCode} is evidenced by the signed meeting log, not activity rows`,
      )
    }
  }
  return checks
}

/** Every enrolment of the given participants, in one query; a known participant without enrolments maps to []. */
async function enrolmentsOf(trx: Trx, participantIds: string[]): Promise<Map<string, Enrolment[]>> {
  const found = new Map<string, Enrolment[]>()
  if (participantIds.length === 0) return found
  const rows = await trx
    .selectFrom('participants as p')
    .leftJoin('enrolments as e', 'e.participant_id', 'p.id')
    .leftJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select(['p.id', 'e.course_identifier', 'e.cohort', 'e.lead_provider_id', 'lp.code'])
    .where(sql<boolean>`p.id = any(${participantIds}::uuid[])`)
    .execute()
  for (const row of rows) {
    const list = found.get(row.id) ?? []
    found.set(row.id, list)
    if (row.course_identifier && row.cohort && row.lead_provider_id && row.code) {
      list.push({
        participantId: row.id,
        course: row.course_identifier,
        cohort: row.cohort,
        leadProviderId: row.lead_provider_id,
        leadProvider: row.code,
      })
    }
  }
  return found
}
