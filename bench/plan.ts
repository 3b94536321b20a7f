import { findCourse } from '../src/catalogue/courses.ts'
import type { Design } from '../src/catalogue/load.ts'
import type { Services } from '../src/services.ts'

// The shape of the national data set: which lead providers run which courses in which cohorts, and in
// what proportions. Activities come from the designs each cohort is bound to, so every generated row
// is one the platform would accept (self-study rows for 'activity' evidence, registers for events,
// signed meeting logs for UCL's meetings, self-reports only in EDT's self-reporting cohorts).

export type LeadProviderPlan = {
  code: string
  name: string
  /** Share of all participants. */
  share: number
  cohorts: string[]
  /** Course identifier → relative weight within the provider. */
  courses: Record<string, number>
  /** Share of this provider's NPQH participants also on the Early Headship Coaching Offer (same cohort). */
  ehcoShare?: number
}

export const nationalPlan: LeadProviderPlan[] = [
  {
    code: 'edt',
    name: 'Education Development Trust',
    share: 0.4,
    // 2021-autumn uses self-reporting: event and MIT credits come from self-report rows.
    cohorts: ['2021-autumn', '2022-autumn', '2023-autumn', '2024-autumn'],
    courses: {
      'npq-headship': 3,
      'npq-senior-leadership': 3,
      'npq-leading-teaching': 2,
      'npq-leading-teaching-development': 1,
      'npq-leading-behaviour-culture': 1,
    },
  },
  {
    code: 'ucl',
    name: 'UCL Centre for Educational Leadership',
    share: 0.3,
    cohorts: ['2022-autumn', '2023-autumn', '2024-autumn', '2025-spring'],
    courses: { 'npq-headship': 3, 'npq-senior-leadership': 3, 'npq-leading-teaching': 2, 'npq-leading-behaviour-culture': 1 },
  },
  {
    code: 'ambition',
    name: 'Ambition Institute',
    share: 0.3,
    cohorts: ['2022-autumn', '2023-autumn', '2024-autumn', '2025-spring'],
    courses: {
      'npq-headship': 3,
      'npq-senior-leadership': 2,
      'npq-senco': 2,
      'npq-leading-teaching': 2,
      'npq-leading-primary-mathematics': 1,
    },
    ehcoShare: 0.2,
  },
]

export const deliveryPartnersPerLeadProvider = 10
export const ehcoCourse = 'npq-early-headship-coaching-offer'

/** The as-of date the benchmark reports on: later cohorts still have evidence after it. */
export const defaultAsOf = '2025-12-31'

export type CourseCohort = {
  leadProvider: string
  course: string
  cohort: string
  startsOn: string
  days: number
  selfReporting: boolean
  design: Design
  /** Share of all participants whose (first) enrolment is this one; 0 for EHCO (a second enrolment). */
  share: number
}

export type PlannedActivity = {
  leadProvider: string
  course: string
  cohort: string
  code: string
  evidence: 'activity' | 'register' | 'meeting-log'
  /** Where in the course it is done, 0…1 of its length. */
  position: number
  credits: number
  component: string
  isVideo: boolean
  isMit: boolean
  eventKind: string
}

const eventKinds: [RegExp, string][] = [
  [/-INDUCTION/, 'induction'],
  [/-CONFERENCE/, 'conference'],
  [/-CONSOLIDATION/, 'conference'],
  [/-PLG/, 'peer-learning-group'],
  [/-ASSESSMENT-CLINIC/, 'assessment-clinic'],
  [/-CLINIC/, 'clinic'],
  [/-COMMUNITY/, 'community'],
  [/-COACHING/, 'coaching'],
  [/-SCHOOL-VISIT|-SHADOWING/, 'school-visit'],
  [/-LIVE/, 'live-webinar'],
]

function eventKindOf(code: string): string {
  return eventKinds.find(([pattern]) => pattern.test(code))?.[1] ?? 'f2f'
}

/** Every (provider, course, cohort) of the plan with its bound design, dates and share of participants. */
export async function planCourseCohorts(services: Services, plan = nationalPlan): Promise<CourseCohort[]> {
  const result: CourseCohort[] = []
  const add = async (lp: LeadProviderPlan, course: string, cohort: string, share: number) => {
    if (!services.catalogue.cohortsFor(lp.code, course).includes(cohort)) return
    const design = await services.designs.designForCohort(lp.code, course, cohort)
    const startsOn = services.catalogue.cohortStartsOn(lp.code, cohort)
    const months = findCourse(course)?.months
    if (!design || !startsOn || !months) throw new Error(`no design, start date or length for ${lp.code} ${course} ${cohort}`)
    const selfReporting = services.catalogue.cohortOutputs(lp.code, cohort, course)?.selfReporting ?? false
    result.push({ leadProvider: lp.code, course, cohort, startsOn, days: Math.round(months * 30.4), selfReporting, design, share })
  }
  for (const lp of plan) {
    const total = Object.values(lp.courses).reduce((a, b) => a + b, 0)
    for (const cohort of lp.cohorts) {
      for (const [course, weight] of Object.entries(lp.courses)) {
        await add(lp, course, cohort, (lp.share / lp.cohorts.length) * (weight / total))
      }
      if (lp.ehcoShare) await add(lp, ehcoCourse, cohort, 0)
    }
  }
  return result
}

/** The published activities of a design, each placed in time along the course. */
export function plannedActivities(cc: CourseCohort): PlannedActivity[] {
  const { design } = cc
  const planned: PlannedActivity[] = []
  const push = (activity: Design['blocks'][number]['activities'][number], position: number) =>
    planned.push({
      leadProvider: cc.leadProvider,
      course: cc.course,
      cohort: cc.cohort,
      code: activity.code,
      evidence: activity.evidence,
      position: Math.min(0.98, Math.max(0.01, position)),
      credits: activity.credits,
      component: activity.component,
      isVideo: activity.code.endsWith('-VIDEO'),
      isMit: activity.code.endsWith('-MIT'),
      eventKind: eventKindOf(activity.code),
    })
  const blocks = design.blocks.filter((b) => !b.provisional)
  if (design.style === 'weighted') {
    // UCL components are kinds of work spread over the whole course, not periods.
    for (const component of blocks) {
      const n = component.activities.length
      component.activities.forEach((a, i) => {
        const position = component.block === 'INDUCTION' ? 0.02 : component.block === 'CONSOLIDATION' ? 0.95 : (i + 0.5) / n
        push(a, position)
      })
    }
  } else {
    blocks.forEach((block, b) => {
      const n = block.activities.length
      block.activities.forEach((a, i) => push(a, (b + (i + 0.5) / n) / blocks.length))
    })
    const n = design.programmeActivities.length
    design.programmeActivities.forEach((a, i) => push(a, (i + 0.5) / n))
  }
  return planned
}
