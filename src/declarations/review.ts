import { sql } from 'kysely'
import { findCourse, type DeclarationType } from '../catalogue/courses.ts'
import { figuresOf, type EnrolmentFigure } from '../dashboards/figures.ts'
import type { OutputStatusLite } from '../dashboards/projection.ts'
import { liveDeclarationStates } from '../db/schema.ts'
import { criterionLabels, type OutputStatus } from '../outputs/evaluate.ts'
import { outputEvaluations } from '../outputs/report.ts'
import type { Services } from '../services.ts'

// Who is eligible for an output, for the declarations review page: for today from the stored figures
// (src/dashboards/figure-store.ts, a whole cohort at national scale in milliseconds, with live
// declarations laid over them so a declaration just made shows at once); for an earlier review date
// evaluated live. Either way declaring evaluates each participant again (declarations.ts).

export type ReviewFilters = { cohort: string; course: string; deliveryPartner: string; type: DeclarationType; asOf: string }

export type ReviewRow = {
  participantId: string
  enrolmentId: string
  unsigned: boolean
  name: string
  course: string
  deliveryPartner: string
  status: OutputStatus
  evidence: string | null
  evidenceOn: string | null
  late: boolean
  reasons: string
}

export type Review = {
  eligibleTotal: number
  othersTotal: number
  /** The first `eligibleLimit` eligible participants, by name. */
  eligible: ReviewRow[]
  /** One page of the others, by name. */
  others: ReviewRow[]
  /** When the figures were calculated (stored figures), null when evaluated for this request. */
  computedAt: Date | null
}

export type ReviewLimits = { eligibleLimit: number; othersOffset: number; othersLimit: number }

type Lp = { id: string; code: string }

const courseName = (c: string) => findCourse(c)?.name ?? c
const byName = (a: ReviewRow, b: ReviewRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.enrolmentId < b.enrolmentId ? -1 : 1)

/** Evaluated for this request (any review date). */
export async function liveReview(services: Services, lp: Lp, f: ReviewFilters, limits: ReviewLimits): Promise<Review> {
  const enrolments = await outputEvaluations(services, {
    leadProvider: lp.code,
    cohort: f.cohort,
    course: f.course || undefined,
    deliveryPartner: f.deliveryPartner || undefined,
    asOf: f.asOf,
  })
  const eligible: ReviewRow[] = []
  const others: ReviewRow[] = []
  for (const e of enrolments) {
    const output = e.outputs.find((o) => o.declaration_type === f.type)
    if (!output) continue
    const row: ReviewRow = {
      participantId: e.participantId,
      enrolmentId: e.enrolmentId,
      unsigned: e.facts.schoolContractSignedOn === null || e.facts.sponsorshipAgreementSignedOn === null,
      name: e.fullName,
      course: courseName(e.courseIdentifier),
      deliveryPartner: e.deliveryPartnerName ?? 'None',
      status: output.status,
      evidence: output.evidence ? criterionLabels[output.evidence] : null,
      evidenceOn: output.evidence_on,
      late: output.evidence_on !== null && output.review_date !== null && output.evidence_on > output.review_date,
      reasons: output.reasons.join('; '),
    }
    if (output.status === 'eligible') eligible.push(row)
    else others.push(row)
  }
  eligible.sort(byName)
  others.sort(byName)
  return {
    eligibleTotal: eligible.length,
    othersTotal: others.length,
    eligible: eligible.slice(0, limits.eligibleLimit),
    others: others.slice(limits.othersOffset, limits.othersOffset + limits.othersLimit),
    computedAt: null,
  }
}

/** Today's, from the stored figures (computed now if there are none for today yet). */
export async function storedReview(services: Services, lp: Lp, f: ReviewFilters, limits: ReviewLimits): Promise<Review> {
  const { db } = services
  const unit = { leadProvider: lp.code, cohort: f.cohort, deliveryPartner: f.deliveryPartner || undefined }
  const [stored, declaredNow] = await Promise.all([
    figuresOf(services, [unit], f.asOf),
    // Declarations made (or voided) since the figures were calculated count at once.
    db
      .selectFrom('declarations')
      .select('enrolment_id')
      .where('lead_provider_id', '=', lp.id)
      .where('cohort', '=', f.cohort)
      .where('declaration_type', '=', f.type)
      .where('state', 'in', [...liveDeclarationStates])
      .execute(),
  ])
  const declared = new Set(declaredNow.map((d) => d.enrolment_id))
  type Found = { figure: EnrolmentFigure; output: OutputStatusLite; status: OutputStatus }
  const eligible: Found[] = []
  const others: Found[] = []
  for (const figure of stored.figures) {
    if (f.course && figure.courseIdentifier !== f.course) continue
    const output = figure.outputs.find((o) => o.declarationType === f.type)
    if (!output) continue
    // As evaluation orders them: blocked first; declared when a live declaration exists; a stored
    // "declared" without one (voided since) is eligible again if it had evidence.
    const status: OutputStatus =
      output.status === 'blocked'
        ? 'blocked'
        : declared.has(figure.enrolmentId)
          ? 'declared'
          : output.status === 'declared'
            ? output.evidence
              ? 'eligible'
              : 'not-eligible'
            : output.status
    ;(status === 'eligible' ? eligible : others).push({ figure, output, status })
  }
  const byFigureName = (a: Found, b: Found) =>
    a.figure.fullName < b.figure.fullName
      ? -1
      : a.figure.fullName > b.figure.fullName
        ? 1
        : a.figure.enrolmentId < b.figure.enrolmentId
          ? -1
          : 1
  eligible.sort(byFigureName)
  others.sort(byFigureName)
  const shown = [...eligible.slice(0, limits.eligibleLimit), ...others.slice(limits.othersOffset, limits.othersOffset + limits.othersLimit)]
  // Only the rows shown need their agreements and reasons.
  const ids = shown.map((x) => x.figure.enrolmentId)
  const details = new Map(
    ids.length
      ? (
          await db
            .selectFrom('enrolment_figures as f')
            .innerJoin('enrolments as e', 'e.id', 'f.enrolment_id')
            .select([
              'f.enrolment_id',
              'f.reasons',
              sql<boolean>`e.school_contract_signed_on is null or e.sponsorship_agreement_signed_on is null`.as('unsigned'),
            ])
            .where('f.enrolment_id', 'in', ids)
            .execute()
        ).map((r) => [r.enrolment_id, r])
      : [],
  )
  const rowOf = ({ figure, output, status }: Found): ReviewRow => {
    const d = details.get(figure.enrolmentId)
    const index = figure.outputs.indexOf(output)
    const reasons = status === 'declared' ? [] : (((d?.reasons as string[][] | undefined) ?? [])[index] ?? [])
    return {
      participantId: figure.participantId,
      enrolmentId: figure.enrolmentId,
      unsigned: d?.unsigned ?? false,
      name: figure.fullName,
      course: courseName(figure.courseIdentifier),
      deliveryPartner: figure.deliveryPartnerName ?? 'None',
      status,
      evidence: output.evidence ? criterionLabels[output.evidence] : null,
      evidenceOn: output.evidenceOn ?? null,
      late: !!output.evidenceOn && output.reviewDate !== null && output.evidenceOn > output.reviewDate,
      reasons: reasons.join('; '),
    }
  }
  return {
    eligibleTotal: eligible.length,
    othersTotal: others.length,
    eligible: eligible.slice(0, limits.eligibleLimit).map(rowOf),
    others: others.slice(limits.othersOffset, limits.othersOffset + limits.othersLimit).map(rowOf),
    computedAt: stored.computedAt,
  }
}
