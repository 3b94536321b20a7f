import { sql } from 'kysely'
import { findCourse, type DeclarationType } from '../catalogue/courses.ts'
import { ensureFigures } from '../dashboards/figure-store.ts'
import { liveDeclarationStates } from '../db/schema.ts'
import { criterionLabels, type Criterion, type OutputStatus } from '../outputs/evaluate.ts'
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

type StoredRow = {
  participant_id: string
  enrolment_id: string
  unsigned: boolean
  full_name: string
  course_identifier: string
  dp_name: string | null
  status: OutputStatus
  evidence: Criterion | null
  evidence_on: string | null
  review_date: string | null
  reasons: string[] | null
  eligible: boolean
  total: number
  /** Otherwise fetched only for the totals (the first of each list). */
  on_page: boolean
}

/** Today's, from the stored figures (computed now if there are none for today yet). */
export async function storedReview(services: Services, lp: Lp, f: ReviewFilters, limits: ReviewLimits): Promise<Review> {
  const { db } = services
  const run = await ensureFigures(services, { leadProviderId: lp.id, leadProvider: lp.code, cohort: f.cohort }, f.asOf)
  const partnerId = f.deliveryPartner
    ? ((await db.selectFrom('organisations').select('id').where('code', '=', f.deliveryPartner).executeTakeFirst())?.id ?? null)
    : null
  if (f.deliveryPartner && !partnerId) return { eligibleTotal: 0, othersTotal: 0, eligible: [], others: [], computedAt: run.computedAt }
  // Each figure's output of the type, its status with today's declarations laid over it (as evaluation
  // orders them: blocked first): declared when a live declaration exists; a stored "declared" without one (voided since) is eligible again if it had evidence.
  const { rows } = await sql<StoredRow>`
    with o as (
      select f.enrolment_id, f.course_identifier, f.delivery_partner_id, x.value as output, f.reasons -> (x.n::int - 1) as reasons,
        exists (select 1 from declarations d where d.enrolment_id = f.enrolment_id and d.declaration_type = ${f.type}
                and d.state in (${sql.join([...liveDeclarationStates])})) as declared_now
      from enrolment_figures f cross join lateral jsonb_array_elements(f.outputs) with ordinality x(value, n)
      where f.lead_provider_id = ${lp.id} and f.cohort = ${f.cohort} and x.value->>'declarationType' = ${f.type}
        ${f.course ? sql`and f.course_identifier = ${f.course}` : sql``}
        ${partnerId ? sql`and f.delivery_partner_id = ${partnerId}` : sql``}
    ), s as (
      select o.*, case
          when o.output->>'status' = 'blocked' then 'blocked'
          when o.declared_now then 'declared'
          when o.output->>'status' = 'declared' then case when o.output->>'evidence' is null then 'not-eligible' else 'eligible' end
          else o.output->>'status' end as status
      from o
    ), ranked as (
      select s.enrolment_id, e.participant_id, p.full_name, s.course_identifier, dp.name as dp_name, s.status,
        s.output->>'evidence' as evidence, s.output->>'evidenceOn' as evidence_on, s.output->>'reviewDate' as review_date,
        s.reasons, (e.school_contract_signed_on is null or e.sponsorship_agreement_signed_on is null) as unsigned,
        s.status = 'eligible' as eligible,
        count(*) over (partition by s.status = 'eligible')::int as total,
        row_number() over (partition by s.status = 'eligible' order by p.full_name, s.enrolment_id) as rn
      from s join enrolments e on e.id = s.enrolment_id join participants p on p.id = e.participant_id
        left join organisations dp on dp.id = s.delivery_partner_id
    )
    select * from (
      select ranked.*, (eligible and rn <= ${limits.eligibleLimit})
          or (not eligible and rn > ${limits.othersOffset} and rn <= ${limits.othersOffset + limits.othersLimit}) as on_page
      from ranked) t
    where on_page or rn = 1
    order by rn`.execute(db)
  const review: Review = { eligibleTotal: 0, othersTotal: 0, eligible: [], others: [], computedAt: run.computedAt }
  for (const r of rows) {
    if (r.eligible) review.eligibleTotal = r.total
    else review.othersTotal = r.total
    const row: ReviewRow = {
      participantId: r.participant_id,
      enrolmentId: r.enrolment_id,
      unsigned: r.unsigned,
      name: r.full_name,
      course: courseName(r.course_identifier),
      deliveryPartner: r.dp_name ?? 'None',
      status: r.status,
      evidence: r.evidence ? criterionLabels[r.evidence] : null,
      evidenceOn: r.evidence_on,
      late: r.evidence_on !== null && r.review_date !== null && r.evidence_on > r.review_date,
      reasons: r.status === 'declared' ? '' : (r.reasons ?? []).join('; '),
    }
    if (r.on_page) (r.eligible ? review.eligible : review.others).push(row)
  }
  return review
}
