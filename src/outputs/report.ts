import { sql } from 'kysely'
import type { DeclarationType } from '../catalogue/courses.ts'
import type { Db, Trx } from '../db/database.ts'
import { findOrganisation } from '../organisations/organisations.ts'
import { ReportQueryError, resolveScope, type ReportQuery } from '../reports/engagement-reports.ts'
import type { Services } from '../services.ts'
import { evaluateOutputs, type OutputEvaluation } from './evaluate.ts'
import { loadOutputFacts, type EnrolmentOutputFacts } from './facts.ts'
import { escalationStage, type EscalationStage, type CaseFacts } from './escalation-stage.ts'

// The `outputs` and `escalations` reports of ../shared/INTERFACES.md, and the evaluations behind
// the declaration, money and escalation pages.

export type EnrolmentOutputs = EnrolmentOutputFacts & { outputs: OutputEvaluation[] }

export type OutputsRow = { participant_id: string; course_identifier: string; outputs: OutputEvaluation[] }

export type EscalationRow = {
  participant_id: string
  declaration_type: DeclarationType
  review_date: string
  stage: EscalationStage
  days_since_review: number
}

/** Every enrolment in scope with its outputs evaluated as of the date (sorted by participant, course). */
export async function outputEvaluations(services: Services, query: ReportQuery, db: Db | Trx = services.db): Promise<EnrolmentOutputs[]> {
  const { scope, designs } = await resolveScope(services, query, db)
  const enrolments = await loadOutputFacts(db, services.catalogue, query.leadProvider, scope, designs, query.asOf)
  return enrolments.map((e) => ({ ...e, outputs: evaluateOutputs(e.facts, query.asOf) }))
}

export async function outputsReport(services: Services, query: ReportQuery): Promise<OutputsRow[]> {
  return (await outputEvaluations(services, query, services.readDb)).map((e) => ({
    participant_id: e.participantId,
    course_identifier: e.courseIdentifier,
    outputs: e.outputs,
  }))
}

const days = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)

/** Active on a date: not deferred on it, not withdrawn on or before it. */
export function activeOn(e: EnrolmentOutputFacts, date: string): boolean {
  if (e.facts.withdrawnOn !== null && e.facts.withdrawnOn <= date) return false
  return !e.facts.deferrals.some((d) => d.from <= date && (d.resumedOn === null || d.resumedOn > date))
}

export type Escalation<E = EnrolmentOutputs> = {
  enrolment: E
  output: OutputEvaluation
  reviewDate: string
  stage: EscalationStage
  daysSinceReview: number
}

/**
 * Outputs not met by their review date (INTERFACES.md `escalations`): for each participant active on
 * the date whose previous output's criteria were met, each output reviewed before the date whose
 * criteria were not met by its review date.
 */
export function escalationsOf<E extends Pick<EnrolmentOutputs, 'enrolmentId' | 'outputs'>>(
  enrolments: E[],
  cases: Map<string, CaseFacts>,
  asOf: string,
  isActive: (e: E) => boolean,
): Escalation<E>[] {
  const result: Escalation<E>[] = []
  for (const e of enrolments) {
    if (!isActive(e)) continue
    e.outputs.forEach((output, i) => {
      const reviewDate = output.review_date
      if (reviewDate === null || reviewDate >= asOf) return
      if (i > 0 && e.outputs[i - 1]!.evidence === null) return
      const metOnTime = output.evidence_on !== null && output.evidence_on <= reviewDate
      if (metOnTime) return
      const caseFacts = cases.get(caseKey(e.enrolmentId, output.declaration_type, reviewDate))
      result.push({
        enrolment: e,
        output,
        reviewDate,
        stage: escalationStage({ metLate: output.evidence_on !== null, reviewDate, asOf, caseFacts }),
        daysSinceReview: days(reviewDate, asOf),
      })
    })
  }
  return result
}

export const caseKey = (enrolmentId: string, type: string, reviewDate: string) => `${enrolmentId}/${type}/${reviewDate}`

/** Extended deadlines and removal proposals recorded on escalation cases, as of the date. */
export async function loadCaseFacts(db: Db | Trx, enrolmentIds: string[], asOf: string): Promise<Map<string, CaseFacts>> {
  const map = new Map<string, CaseFacts>()
  if (enrolmentIds.length === 0) return map
  const rows = await db
    .selectFrom('escalation_cases as c')
    .leftJoin('escalation_actions as a', (j) => j.onRef('a.case_id', '=', 'c.id').on('a.on_date', '<=', asOf))
    .select([
      'c.enrolment_id',
      'c.declaration_type',
      sql<string>`c.review_date::text`.as('review_date'),
      'a.kind',
      sql<string | null>`a.extended_deadline::text`.as('extended_deadline'),
      'a.recorded_at',
    ])
    .where('c.enrolment_id', 'in', enrolmentIds)
    .orderBy('a.recorded_at')
    .execute()
  for (const r of rows) {
    const k = caseKey(r.enrolment_id, r.declaration_type, r.review_date)
    const facts = map.get(k) ?? { extendedDeadline: null, removalProposed: false }
    // The newest extension is the one that stands; a decision (either way) ends a proposal.
    if (r.kind === 'extension-agreed') facts.extendedDeadline = r.extended_deadline
    if (r.kind === 'removal-proposed') facts.removalProposed = true
    if (r.kind === 'removal-rejected') facts.removalProposed = false
    if (r.kind === 'removal-approved') facts.removalDecided = true
    map.set(k, facts)
  }
  return map
}

export type EscalationQuery = { leadProvider: string; cohort?: string; course?: string; deliveryPartner?: string; asOf: string }

/** Escalations across the lead provider's cohorts (or one cohort), as of the date. */
export async function escalations(services: Services, query: EscalationQuery, db: Db | Trx = services.db): Promise<Escalation[]> {
  const lp = await findOrganisation(db, 'lead-provider', query.leadProvider)
  if (!lp) throw new ReportQueryError('lead_provider', `unknown lead provider "${query.leadProvider}"`)
  const courses = services.catalogue.coursesOf(query.leadProvider).filter((c) => !query.course || c === query.course)
  if (query.course && courses.length === 0) throw new ReportQueryError('course', `${query.leadProvider} has no design for ${query.course}`)
  const cohorts = query.cohort
    ? [query.cohort]
    : [...new Set(courses.flatMap((c) => services.catalogue.cohortsFor(query.leadProvider, c)))].sort()
  const enrolments: EnrolmentOutputs[] = []
  for (const cohort of cohorts) {
    enrolments.push(...(await outputEvaluations(services, { ...query, cohort }, db)))
  }
  const cases = await loadCaseFacts(
    db,
    enrolments.map((e) => e.enrolmentId),
    query.asOf,
  )
  const order = (t: string) => ['started', 'retained-1', 'retained-2', 'completed'].indexOf(t)
  return escalationsOf(enrolments, cases, query.asOf, (e) => activeOn(e, query.asOf)).sort(
    (a, b) =>
      a.enrolment.participantId.localeCompare(b.enrolment.participantId) ||
      a.enrolment.courseIdentifier.localeCompare(b.enrolment.courseIdentifier) ||
      order(a.output.declaration_type) - order(b.output.declaration_type),
  )
}

export async function escalationsReport(services: Services, query: EscalationQuery): Promise<EscalationRow[]> {
  return (await escalations(services, query, services.readDb)).map((x) => ({
    participant_id: x.enrolment.participantId,
    declaration_type: x.output.declaration_type,
    review_date: x.reviewDate,
    stage: x.stage,
    days_since_review: x.daysSinceReview,
  }))
}
