import { figuresOf } from '../dashboards/figures.ts'
import type { Design } from '../catalogue/load.ts'
import type { Db, Trx } from '../db/database.ts'
import { declarationCredits, engagementAsOf, roundPercent, type Engagement } from '../engagement/engine.ts'
import { loadEvidence, type EnrolmentScope } from '../engagement/evidence.ts'
import { findOrganisation } from '../organisations/organisations.ts'
import type { Services } from '../services.ts'

// The Engagement and Declaration reports of ../shared/INTERFACES.md: one lead provider's cohort,
// optionally one course and one delivery partner, as of a date. Rows are sorted by participant_id
// (then course, for a person on two courses).

export type ReportQuery = {
  leadProvider: string
  cohort: string
  course?: string
  deliveryPartner?: string
  asOf: string
  /** Only these participants (pages about one person, a selection to declare). */
  participantIds?: string[]
}

export type EngagementRow = {
  participant_id: string
  course_identifier: string
  delivery_partner: string | null
  credits_earned: number
  credits_available: number
  engagement_percent: number
  eligible_for_assessment: boolean
  blocks: { block: number | string; credits_earned: number; credits_available: number; percent: number }[]
}

export type DeclarationRow = {
  participant_id: string
  course_identifier: string
  delivery_partner: string | null
  credits_in_period: number
  cumulative_credits: number
}

export class ReportQueryError extends Error {
  readonly field: string
  constructor(field: string, message: string) {
    super(message)
    this.field = field
  }
}

export type EnrolmentEngagement = {
  participantId: string
  fullName: string
  courseIdentifier: string
  deliveryPartner: string | null
  deliveryPartnerName: string | null
  design: Design
  engagement: Engagement
}

export type ResolvedScope = {
  scope: EnrolmentScope
  /** The design each course in scope runs in the cohort. */
  designs: Map<string, Design>
}

/** Checks a report's lead provider, cohort, course and delivery partner, and finds the designs. */
export async function resolveScope(services: Services, query: ReportQuery, db: Db | Trx = services.db): Promise<ResolvedScope> {
  const courses = services.catalogue
    .coursesOf(query.leadProvider)
    .filter((c) => !query.course || c === query.course)
    .filter((c) => services.catalogue.cohortsFor(query.leadProvider, c).includes(query.cohort))
  // The lookups are independent: run them together rather than one round trip after another.
  const [lp, dp, courseDesigns] = await Promise.all([
    findOrganisation(db, 'lead-provider', query.leadProvider),
    query.deliveryPartner ? findOrganisation(db, 'delivery-partner', query.deliveryPartner) : undefined,
    Promise.all(
      courses.map(
        async (course) => [course, await services.designs.designForCohort(query.leadProvider, course, query.cohort, db)] as const,
      ),
    ),
  ])
  if (!lp) throw new ReportQueryError('lead_provider', `unknown lead provider "${query.leadProvider}"`)
  if (query.course && !services.catalogue.coursesOf(query.leadProvider).includes(query.course)) {
    throw new ReportQueryError('course', `${query.leadProvider} has no design for ${query.course}`)
  }
  if (courses.length === 0) {
    throw new ReportQueryError('cohort', `${query.leadProvider} runs no ${query.course ?? 'course'} in cohort ${query.cohort}`)
  }
  if (query.deliveryPartner && !dp) throw new ReportQueryError('delivery_partner', `unknown delivery partner "${query.deliveryPartner}"`)

  const designs = new Map<string, Design>()
  for (const [course, design] of courseDesigns) if (design) designs.set(course, design)
  return {
    scope: {
      leadProviderId: lp.id,
      cohort: query.cohort,
      courseIdentifier: query.course,
      deliveryPartnerId: dp?.id,
      participantIds: query.participantIds,
    },
    designs,
  }
}

/** Every enrolment in scope with its engagement as of the date. Unknown names are a ReportQueryError. */
export async function engagements(services: Services, query: ReportQuery, db: Db | Trx = services.db): Promise<EnrolmentEngagement[]> {
  const { scope, designs } = await resolveScope(services, query, db)
  const enrolments = await loadEvidence(db, scope, query.asOf, { meetingLogs: [...designs.values()].some((d) => d.style === 'weighted') })

  const result: EnrolmentEngagement[] = []
  for (const e of enrolments) {
    const design = designs.get(e.courseIdentifier)
    if (!design) continue
    const selfReporting = services.catalogue.cohortOutputs(query.leadProvider, query.cohort, e.courseIdentifier)?.selfReporting ?? false
    result.push({
      participantId: e.participantId,
      fullName: e.fullName,
      courseIdentifier: e.courseIdentifier,
      deliveryPartner: e.deliveryPartner,
      deliveryPartnerName: e.deliveryPartnerName,
      design,
      engagement: engagementAsOf(design, e.evidence, query.asOf, { selfReporting }),
    })
  }
  return result
}

export function engagementRow(e: EnrolmentEngagement): EngagementRow {
  return {
    participant_id: e.participantId,
    course_identifier: e.courseIdentifier,
    delivery_partner: e.deliveryPartner,
    credits_earned: e.engagement.creditsEarned,
    credits_available: e.engagement.creditsAvailable,
    engagement_percent: e.engagement.percent,
    eligible_for_assessment: e.engagement.eligibleForAssessment,
    blocks: e.engagement.blocks.map((b) => ({
      block: b.block,
      credits_earned: b.creditsEarned,
      credits_available: b.creditsAvailable,
      percent: b.percent,
    })),
  }
}

export function declarationRow(e: EnrolmentEngagement, from: string | null): DeclarationRow {
  const credits = declarationCredits(e.engagement, from)
  // UCL's points are fractions of weights: shown rounded like percentages.
  const shown = (n: number) => (e.design.style === 'weighted' ? roundPercent(n) : n)
  return {
    participant_id: e.participantId,
    course_identifier: e.courseIdentifier,
    delivery_partner: e.deliveryPartner,
    credits_in_period: shown(credits.creditsInPeriod),
    cumulative_credits: shown(credits.cumulativeCredits),
  }
}

export async function engagementReport(services: Services, query: ReportQuery): Promise<EngagementRow[]> {
  return (await engagements(services, query, services.readDb)).map(engagementRow)
}

export async function declarationReport(services: Services, query: ReportQuery & { from?: string | null }): Promise<DeclarationRow[]> {
  if (query.from && query.from > query.asOf) throw new ReportQueryError('from', `--from ${query.from} is after --as-of ${query.asOf}`)
  return (await engagements(services, query, services.readDb)).map((e) => declarationRow(e, query.from ?? null))
}

/**
 * Today's engagement of every enrolment in scope from the stored figures (src/dashboards/figure-store.ts):
 * the same as `engagements` for today, without the items earned (a declaration report needs those, and
 * is evaluated on the request). Checked like `engagements`: unknown names are a ReportQueryError.
 * `version` names the figures' calculation, to keep what is derived from them (figures.ts `memo`).
 */
export async function storedEngagements(
  services: Services,
  query: ReportQuery,
): Promise<{ engagements: EnrolmentEngagement[]; version: string; computedAt: Date | null }> {
  const { designs } = await resolveScope(services, query)
  const unit = { leadProvider: query.leadProvider, cohort: query.cohort, deliveryPartner: query.deliveryPartner }
  const { figures, version, computedAt } = await figuresOf(services, [unit], query.asOf)
  const result: EnrolmentEngagement[] = []
  for (const f of figures) {
    const design = designs.get(f.courseIdentifier)
    if (!design || (query.course && f.courseIdentifier !== query.course)) continue
    result.push({
      participantId: f.participantId,
      fullName: f.fullName,
      courseIdentifier: f.courseIdentifier,
      deliveryPartner: f.deliveryPartner,
      deliveryPartnerName: f.deliveryPartnerName,
      design,
      engagement: {
        creditsEarned: f.creditsEarned,
        creditsAvailable: f.creditsAvailable,
        ratio: f.ratio,
        percent: f.percent,
        eligibleForAssessment: f.eligibleForAssessment,
        blocks: f.blocks,
        earned: [],
      },
    })
  }
  return { engagements: result, version, computedAt }
}
