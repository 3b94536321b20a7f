import { findCourse } from '../catalogue/courses.ts'
import type { Db } from '../db/database.ts'
import { ASSESSMENT_GATE, roundPercent } from '../engagement/engine.ts'
import type { DeclarationType } from '../catalogue/courses.ts'
import type { EnrolmentStatus } from '../db/schema.ts'
import { outputEvaluations } from '../outputs/report.ts'
import type { Services } from '../services.ts'

// A participant's own progress, course by course: engagement against the 90% line, each block's share
// with what is left in it, and the outputs they have achieved. The same engine and output rules the
// lead provider is paid on, as of today, so what a participant sees is what their provider sees.

export const outputLabels: Record<DeclarationType, string> = {
  started: 'Started',
  'retained-1': 'Retention point 1',
  'retained-2': 'Retention point 2',
  completed: 'Completed',
}

/** The Learn zone's page of one block (src/content). */
export const learnBlockPath = (course: string, block: string | number) =>
  `/participant/learn/${course}/blocks/${encodeURIComponent(String(block))}`

export type BlockProgress = {
  block: string
  title: string
  live: boolean
  goesLiveOn: string | null
  completesBy: string | null
  percent: number
  creditsEarned: number
  creditsAvailable: number
  left: { code: string; title: string }[]
  /** Where the block is in the Learn zone. */
  href: string
}

export type CourseProgress = {
  enrolmentId: string
  courseIdentifier: string
  courseName: string
  cohort: string
  status: EnrolmentStatus
  leadProviderName: string
  percent: number
  creditsEarned: number
  creditsAvailable: number
  /** At or above the 90% line (the exact ratio, as the assessment entry decision uses). */
  onTrackForAssessment: boolean
  /** Percentage points still needed to reach 90%, rounded up to one decimal; 0 when reached. */
  pointsToGate: number
  blocks: BlockProgress[]
  outputs: { label: string; status: 'achieved' | 'not-yet'; on: string | null; reviewDate: string | null }[]
  hasDesign: boolean
}

type EnrolmentRow = {
  id: string
  participant_id: string
  course_identifier: string
  cohort: string
  status: EnrolmentStatus
  lp_code: string
  lp_name: string
}

export async function participantEnrolments(db: Db, userId: string): Promise<EnrolmentRow[]> {
  return db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select(['e.id', 'e.participant_id', 'e.course_identifier', 'e.cohort', 'e.status', 'lp.code as lp_code', 'lp.name as lp_name'])
    .where('p.user_id', '=', userId)
    .orderBy('e.cohort', 'desc')
    .orderBy('e.course_identifier')
    .execute()
}

/** Points from the ratio to the 90% line, rounded up (so "0.1 to go" never hides a shortfall). */
export function pointsToGate(ratio: number): number {
  if (ratio >= ASSESSMENT_GATE) return 0
  return Math.ceil((ASSESSMENT_GATE - ratio) * 1000 - 1e-9) / 10
}

export async function progressOf(services: Services, userId: string, today: string): Promise<CourseProgress[]> {
  const enrolments = await participantEnrolments(services.db, userId)
  const result: CourseProgress[] = []
  for (const e of enrolments) {
    const courseName = findCourse(e.course_identifier)?.name ?? e.course_identifier
    const base = {
      enrolmentId: e.id,
      courseIdentifier: e.course_identifier,
      courseName,
      cohort: e.cohort,
      status: e.status,
      leadProviderName: e.lp_name,
    }
    const [evaluated] = (
      await outputEvaluations(services, {
        leadProvider: e.lp_code,
        cohort: e.cohort,
        course: e.course_identifier,
        asOf: today,
        participantIds: [e.participant_id],
      }).catch(() => [])
    ).filter((x) => x.enrolmentId === e.id)
    if (!evaluated) {
      result.push({
        ...base,
        percent: 0,
        creditsEarned: 0,
        creditsAvailable: 0,
        onTrackForAssessment: false,
        pointsToGate: 0,
        blocks: [],
        outputs: [],
        hasDesign: false,
      })
      continue
    }
    const { design, engagement } = evaluated
    const windows = await services.blockWindows.forCohort(e.lp_code, e.course_identifier, e.cohort)
    const earned = new Set(engagement.earned.map((x) => x.code))
    const blocks = design.blocks
      .filter((b) => !b.provisional)
      .map((b) => {
        const window = windows.find((w) => w.block === b.block)
        const counted = engagement.blocks.find((x) => String(x.block) === String(b.block))
        return {
          block: String(b.block),
          title: b.title ?? `Block ${b.block}`,
          live: !window || window.goesLiveOn <= today,
          goesLiveOn: window?.goesLiveOn ?? null,
          completesBy: window?.completesBy ?? null,
          percent: counted?.percent ?? 0,
          creditsEarned: counted?.creditsEarned ?? 0,
          creditsAvailable: counted?.creditsAvailable ?? b.creditsAvailable,
          left: b.activities.filter((a) => !earned.has(a.code)).map((a) => ({ code: a.code, title: a.title })),
          href: learnBlockPath(e.course_identifier, b.block),
        }
      })
    result.push({
      ...base,
      percent: engagement.percent,
      creditsEarned: roundPercent(engagement.creditsEarned),
      creditsAvailable: roundPercent(engagement.creditsAvailable),
      onTrackForAssessment: engagement.ratio >= ASSESSMENT_GATE,
      pointsToGate: pointsToGate(engagement.ratio),
      blocks,
      outputs: evaluated.outputs.map((o) => ({
        label: outputLabels[o.declaration_type],
        status: o.status === 'eligible' || o.status === 'declared' ? 'achieved' : 'not-yet',
        on: o.status === 'eligible' || o.status === 'declared' ? o.evidence_on : null,
        reviewDate: o.review_date,
      })),
      hasDesign: true,
    })
  }
  return result
}
