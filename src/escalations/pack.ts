import ExcelJS from 'exceljs'
import { findCourse, type DeclarationType } from '../catalogue/courses.ts'
import { figuresOf, usesStoredFigures } from '../dashboards/figures.ts'
import type { Db } from '../db/database.ts'
import { roundPercent, type Engagement } from '../engagement/engine.ts'
import { ENCOURAGE_DAYS, type EscalationStage } from '../outputs/escalation-stage.ts'
import { activeOn, caseKey, escalationsOf, loadCaseFacts, outputEvaluations, type EnrolmentOutputs } from '../outputs/report.ts'
import type { Services } from '../services.ts'
import { describeAction, formatDate, isIntervention, loadActions } from './cases.ts'
import type { HalfTerm } from './half-terms.ts'
import { outputLabels, sortByUrgency, stageLabels } from './queue.ts'

// The partnership meeting pack (seed 004 "Partnership Meetings"): for one lead provider, one delivery
// partner and one half term, the engagement of the partner's participants, the outputs due at the next
// review date from the start of the half term with who is at risk of missing them, and everyone still
// escalated 3+ weeks after a review date with the interventions tried. Figures are as of the end of
// the half term, or today while it is still running.

type Org = { id: string; code: string; name: string }

export type PackQuery = { leadProvider: Org; deliveryPartner: Org; halfTerm: HalfTerm; today: string }

export type EngagementLine = {
  cohort: string
  courseName: string
  /** Active on the date: not deferred, not withdrawn. */
  participants: number
  meanPercent: number
  atLeast90: number
  /** Deferred or withdrawn on the date: not counted above. */
  notCounted: number
}

export type DueParticipant = {
  participantId: string
  fullName: string
  status: string
  atRisk: boolean
  engagementPercent: number
  reasons: string[]
}

export type OutputDue = {
  cohort: string
  courseName: string
  declarationType: string
  outputLabel: string
  reviewDate: string
  participants: DueParticipant[]
  atRisk: number
}

export type PackEscalation = {
  id: string
  caseId: string | null
  participantId: string
  fullName: string
  cohort: string
  courseName: string
  outputLabel: string
  reviewDate: string
  daysSinceReview: number
  stage: EscalationStage
  name: string
  interventions: { on: string; what: string; details: string; by: string | null }[]
}

export type Pack = {
  leadProvider: Org
  deliveryPartner: Org
  halfTerm: HalfTerm
  asOf: string
  /** When today's stored figures it uses were calculated (the oldest); null when evaluated now. */
  calculatedAt: Date | null
  engagement: EngagementLine[]
  outputsDue: OutputDue[]
  escalations: PackEscalation[]
}

const collator = new Intl.Collator('en-GB', { sensitivity: 'base', numeric: true })
const courseName = (id: string) => findCourse(id)?.name ?? id

/** The cohorts of the provider (that it runs a course in) with participants at the partner. */
async function cohortsAt(services: Services, db: Db, q: PackQuery): Promise<string[]> {
  const runs = new Set(
    services.catalogue.coursesOf(q.leadProvider.code).flatMap((c) => services.catalogue.cohortsFor(q.leadProvider.code, c)),
  )
  const rows = await db
    .selectFrom('enrolments')
    .select('cohort')
    .distinct()
    .where('lead_provider_id', '=', q.leadProvider.id)
    .where('delivery_partner_id', '=', q.deliveryPartner.id)
    .execute()
  return rows
    .map((r) => r.cohort)
    .filter((c) => runs.has(c))
    .sort()
}

/** A cohort runs in the half term when it has started by its end and has a review date from its start on. */
function runsIn(enrolments: Pick<EnrolmentOutputs, 'outputs'>[], startsOn: string | null, h: HalfTerm): boolean {
  if (startsOn !== null && startsOn > h.end) return false
  return enrolments.some((e) => e.outputs.some((o) => o.review_date !== null && o.review_date >= h.start))
}

/** What the pack needs of each enrolment: its outputs evaluated, engagement, and whether it is active on the date. */
type PackEnrolment = Pick<EnrolmentOutputs, 'enrolmentId' | 'participantId' | 'fullName' | 'courseIdentifier' | 'outputs'> & {
  active: boolean
  engagement: Pick<Engagement, 'ratio' | 'percent' | 'eligibleForAssessment'>
}

/** The partner's enrolments in a cohort as of the date: today's from the stored figures, another day's evaluated now. */
async function packEnrolments(
  services: Services,
  q: PackQuery,
  cohort: string,
  asOf: string,
): Promise<{ enrolments: PackEnrolment[]; calculatedAt: Date | null }> {
  if (!usesStoredFigures(asOf)) {
    const evaluated = await outputEvaluations(services, {
      leadProvider: q.leadProvider.code,
      deliveryPartner: q.deliveryPartner.code,
      cohort,
      asOf,
    })
    return { enrolments: evaluated.map((e) => ({ ...e, active: activeOn(e, asOf) })), calculatedAt: null }
  }
  const unit = { leadProvider: q.leadProvider.code, cohort, deliveryPartner: q.deliveryPartner.code }
  // One after the other: the first may compute and store the figures the second reads.
  const { figures, computedAt } = await figuresOf(services, [unit], asOf)
  const reasonRows = await services.db
    .selectFrom('enrolment_figures')
    .select(['enrolment_id', 'reasons'])
    .where('lead_provider_id', '=', q.leadProvider.id)
    .where('cohort', '=', cohort)
    .where('delivery_partner_id', '=', q.deliveryPartner.id)
    .execute()
  const reasonsOf = new Map(reasonRows.map((r) => [r.enrolment_id, r.reasons as string[][]]))
  const enrolments = figures.map((f) => ({
    enrolmentId: f.enrolmentId,
    participantId: f.participantId,
    fullName: f.fullName,
    courseIdentifier: f.courseIdentifier,
    active: f.active,
    engagement: { ratio: f.ratio, percent: f.percent, eligibleForAssessment: f.eligibleForAssessment },
    outputs: f.outputs.map((o, i) => ({
      declaration_type: o.declarationType as DeclarationType,
      review_date: o.reviewDate,
      status: o.status,
      evidence: o.evidence ?? null,
      evidence_on: o.evidenceOn ?? null,
      reasons: reasonsOf.get(f.enrolmentId)?.[i] ?? [],
    })),
  }))
  return { enrolments, calculatedAt: computedAt }
}

export async function partnershipPack(services: Services, q: PackQuery): Promise<Pack> {
  const { db } = services
  const asOf = q.today < q.halfTerm.end ? q.today : q.halfTerm.end
  // Each cohort on its own connection at once (their queries are independent), then put in order.
  const parts = await Promise.all((await cohortsAt(services, db, q)).map((cohort) => cohortPart(cohort)))
  const engagement = parts.flatMap((p) => p.engagement)
  const outputsDue = parts.flatMap((p) => p.outputsDue)
  const escalated = parts.flatMap((p) => p.escalated)
  const times = parts.flatMap((p) => (p.calculatedAt ? [p.calculatedAt] : []))
  const calculatedAt = times.length ? new Date(Math.min(...times.map(Number))) : null

  async function cohortPart(cohort: string) {
    const engagement: EngagementLine[] = []
    const outputsDue: OutputDue[] = []
    const escalated: PackEscalation[] = []
    const { enrolments: evaluated, calculatedAt } = await packEnrolments(services, q, cohort, asOf)
    const active = evaluated.filter((e) => e.active)

    // Escalations 3+ weeks after their review date, with what has been tried (from the cases).
    // Cases matter only for an active participant with an output not met by its review date.
    const candidates = active.filter((e) =>
      e.outputs.some((o) => o.review_date !== null && o.review_date < asOf && !(o.evidence_on !== null && o.evidence_on <= o.review_date)),
    )
    const facts = await loadCaseFacts(
      db,
      candidates.map((e) => e.enrolmentId),
      asOf,
    )
    const late = escalationsOf(evaluated, facts, asOf, (e) => e.active).filter(
      (x) => x.stage !== 'resolved' && x.daysSinceReview >= ENCOURAGE_DAYS,
    )
    // The partner's cases in the cohort (by its enrolments, not a list of thousands of ids), matched below.
    const cases = late.length
      ? await db
          .selectFrom('escalation_cases as c')
          .innerJoin('enrolments as e', 'e.id', 'c.enrolment_id')
          .select(['c.id', 'c.enrolment_id', 'c.declaration_type', 'c.review_date'])
          .where('e.lead_provider_id', '=', q.leadProvider.id)
          .where('e.delivery_partner_id', '=', q.deliveryPartner.id)
          .where('e.cohort', '=', cohort)
          .execute()
      : []
    const caseOf = new Map(cases.map((c) => [caseKey(c.enrolment_id, c.declaration_type, String(c.review_date)), c.id]))
    const actions = (await loadActions(db, [...caseOf.values()])).filter((a) => isIntervention(a) && a.onDate <= asOf)
    for (const x of late) {
      const caseId = caseOf.get(caseKey(x.enrolment.enrolmentId, x.output.declaration_type, x.reviewDate)) ?? null
      escalated.push({
        id: caseId ?? `${x.enrolment.enrolmentId}/${x.output.declaration_type}`,
        caseId,
        participantId: x.enrolment.participantId,
        fullName: x.enrolment.fullName,
        name: x.enrolment.fullName,
        cohort,
        courseName: courseName(x.enrolment.courseIdentifier),
        outputLabel: outputLabels[x.output.declaration_type] ?? x.output.declaration_type,
        reviewDate: x.reviewDate,
        daysSinceReview: x.daysSinceReview,
        stage: x.stage,
        interventions: actions.filter((a) => a.caseId === caseId).map((a) => ({ on: a.onDate, ...describeAction(a), by: a.recordedBy })),
      })
    }

    if (!runsIn(evaluated, services.catalogue.cohortStartsOn(q.leadProvider.code, cohort), q.halfTerm))
      return { engagement, outputsDue, escalated }

    // Engagement of the participants active on the date, per course.
    const activeKeys = new Set(active.map((e) => `${e.participantId}/${e.courseIdentifier}`))
    // Output evaluation counted engagement already (the same engine, date and evidence).
    const engaged = evaluated
    const courses = [...new Set(engaged.map((e) => e.courseIdentifier))].sort()
    for (const course of courses) {
      const ofCourse = engaged.filter((e) => e.courseIdentifier === course)
      const counted = ofCourse.filter((e) => activeKeys.has(`${e.participantId}/${course}`))
      const mean = counted.length ? counted.reduce((sum, e) => sum + e.engagement.ratio, 0) / counted.length : 0
      engagement.push({
        cohort,
        courseName: courseName(course),
        participants: counted.length,
        meanPercent: roundPercent(mean * 100),
        atLeast90: counted.filter((e) => e.engagement.eligibleForAssessment).length,
        notCounted: ofCourse.length - counted.length,
      })
    }

    // The next review date from the start of the half term, per course, and who has not met it yet.
    const groups = new Map<string, OutputDue>()
    for (const e of active) {
      const next = e.outputs.find((o) => o.review_date !== null && o.review_date >= q.halfTerm.start)
      if (!next) continue
      const key = `${e.courseIdentifier}/${next.declaration_type}/${next.review_date}`
      const group = groups.get(key) ?? {
        cohort,
        courseName: courseName(e.courseIdentifier),
        declarationType: next.declaration_type,
        outputLabel: outputLabels[next.declaration_type] ?? next.declaration_type,
        reviewDate: next.review_date!,
        participants: [],
        atRisk: 0,
      }
      const atRisk = next.status === 'not-eligible' || next.status === 'blocked'
      group.participants.push({
        participantId: e.participantId,
        fullName: e.fullName,
        status: next.status,
        atRisk,
        engagementPercent: e.engagement.percent,
        reasons: next.reasons,
      })
      if (atRisk) group.atRisk++
      groups.set(key, group)
    }
    for (const group of [...groups.values()].sort(
      (a, b) => a.reviewDate.localeCompare(b.reviewDate) || a.courseName.localeCompare(b.courseName),
    )) {
      group.participants.sort((a, b) => Number(b.atRisk) - Number(a.atRisk) || collator.compare(a.fullName, b.fullName))
      outputsDue.push(group)
    }
    return { engagement, outputsDue, escalated, calculatedAt }
  }

  return {
    leadProvider: q.leadProvider,
    deliveryPartner: q.deliveryPartner,
    halfTerm: q.halfTerm,
    asOf,
    calculatedAt,
    engagement,
    outputsDue,
    escalations: sortByUrgency(escalated),
  }
}

const statusLabels: Record<string, string> = {
  'not-eligible': 'Not met yet',
  blocked: 'Blocked',
  eligible: 'Met',
  declared: 'Declared',
}
export const outputStatusLabel = (status: string) => statusLabels[status] ?? status

/** The pack as a workbook: one sheet per section. */
export async function packXlsx(pack: Pack): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook()
  workbook.creator = 'NPQ delivery platform'
  const sheet = (name: string, columns: string[], rows: (string | number | null)[][]) => {
    const s = workbook.addWorksheet(name)
    s.addRow(columns).font = { bold: true }
    for (const row of rows) s.addRow(row)
    s.views = [{ state: 'frozen', ySplit: 1 }]
    columns.forEach((c, i) => (s.getColumn(i + 1).width = Math.max(14, Math.min(60, c.length + 4))))
    return s
  }
  const about = workbook.addWorksheet('About')
  for (const row of [
    ['Partnership meeting pack'],
    ['Lead provider', pack.leadProvider.name],
    ['Delivery partner', pack.deliveryPartner.name],
    ['Half term', `${pack.halfTerm.label} (${formatDate(pack.halfTerm.start)} to ${formatDate(pack.halfTerm.end)})`],
    ['Figures as of', formatDate(pack.asOf)],
  ])
    about.addRow(row)
  about.getRow(1).font = { bold: true }
  about.getColumn(1).width = 20
  about.getColumn(2).width = 70

  sheet(
    'Engagement',
    ['cohort', 'course', 'participants', 'mean_engagement_percent', 'at_least_90_percent', 'deferred_or_withdrawn_not_counted'],
    pack.engagement.map((e) => [e.cohort, e.courseName, e.participants, e.meanPercent, e.atLeast90, e.notCounted]),
  )
  sheet(
    'Outputs due',
    ['cohort', 'course', 'output', 'review_date', 'participant_id', 'full_name', 'status', 'at_risk', 'engagement_percent', 'reasons'],
    pack.outputsDue.flatMap((o) =>
      o.participants.map((p) => [
        o.cohort,
        o.courseName,
        o.outputLabel,
        o.reviewDate,
        p.participantId,
        p.fullName,
        outputStatusLabel(p.status),
        p.atRisk ? 'yes' : 'no',
        p.engagementPercent,
        p.reasons.join('; '),
      ]),
    ),
  )
  const escalations = sheet(
    'Escalations',
    [
      'participant_id',
      'full_name',
      'cohort',
      'course',
      'output',
      'review_date',
      'days_since_review',
      'stage',
      'interventions_tried',
      'interventions',
    ],
    pack.escalations.map((x) => [
      x.participantId,
      x.fullName,
      x.cohort,
      x.courseName,
      x.outputLabel,
      x.reviewDate,
      x.daysSinceReview,
      stageLabels[x.stage],
      x.interventions.length,
      x.interventions.map((i) => `${i.on}: ${i.what}${i.details ? ` – ${i.details}` : ''}`).join('\n'),
    ]),
  )
  escalations.getColumn(10).alignment = { wrapText: true, vertical: 'top' }
  return Buffer.from(await workbook.xlsx.writeBuffer())
}
