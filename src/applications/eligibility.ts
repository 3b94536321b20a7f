import { findCourse } from '../catalogue/courses.ts'
import type { Establishment } from '../db/schema.ts'

// The handbooks' eligibility rules (seed 001 "Funding and Eligibility", the course descriptions), as
// pure functions over what DfE's application and the short application form say. Each rule is met,
// not met or not yet known (the form has not been returned): admins decide, these inform them.

export type EligibilityInput = {
  courseIdentifier: string
  establishment: Establishment | null
  inEngland: boolean | null
  pupilPremiumUplift: boolean
  /** DfE's own answer (`eligible_for_funding`) and why not. */
  eligibleForFunding: boolean
  ineligibleForFundingReason: string | null
  /** DfE's `headteacher_status`, e.g. yes_in_first_five_years. */
  headteacherStatus: string | null
  /** From the short application form. */
  eyQualificationLevel: number | null
  headshipStartedOn: string | null
  npqhStatus: 'none' | 'in-progress' | 'completed' | null
}

export type Outcome = 'met' | 'not-met' | 'unknown'
export type EligibilityCheck = {
  rule: 'dfe-funding' | 'scholarship' | 'ey-level-3' | 'ehco-early-headship'
  label: string
  outcome: Outcome
  detail: string
}

/** DfE funding: employed in a state-funded school or a state-funded 16–19 organisation in England. */
export function fundingCheck(input: EligibilityInput): EligibilityCheck {
  const label = 'DfE funding'
  if (input.ineligibleForFundingReason === 'previously-funded')
    return { rule: 'dfe-funding', label, outcome: 'not-met', detail: 'DfE says this person has been funded for this course before' }
  if (input.inEngland === false) return { rule: 'dfe-funding', label, outcome: 'not-met', detail: 'Works outside England' }
  if (input.establishment === 'state-school' || input.establishment === 'sixteen-to-nineteen') {
    if (input.inEngland === null)
      return { rule: 'dfe-funding', label, outcome: 'unknown', detail: 'Not known whether the workplace is in England' }
    const where = input.establishment === 'state-school' ? 'a state-funded school' : 'a state-funded 16–19 organisation'
    return { rule: 'dfe-funding', label, outcome: 'met', detail: `Works in ${where} in England` }
  }
  if (input.establishment === null)
    return input.eligibleForFunding
      ? { rule: 'dfe-funding', label, outcome: 'met', detail: 'DfE says eligible for funding' }
      : { rule: 'dfe-funding', label, outcome: 'unknown', detail: 'Workplace not known' }
  return {
    rule: 'dfe-funding',
    label,
    outcome: 'not-met',
    detail: 'Not a state-funded school or 16–19 organisation: the school or the applicant pays (funding choice)',
  }
}

/** Scholarship funding follows pupil premium numbers: the flag is recorded, not decided here. */
export function scholarshipCheck(input: EligibilityInput): EligibilityCheck {
  return input.pupilPremiumUplift
    ? { rule: 'scholarship', label: 'Scholarship funding', outcome: 'met', detail: 'High pupil premium numbers: eligible for the uplift' }
    : { rule: 'scholarship', label: 'Scholarship funding', outcome: 'not-met', detail: 'Not flagged for high pupil premium numbers' }
}

/** NPQEYL: qualified to at least Level 3. */
export function earlyYearsLevelCheck(level: number | null): EligibilityCheck {
  const label = 'Qualified to Level 3 or above'
  if (level === null) return { rule: 'ey-level-3', label, outcome: 'unknown', detail: 'Not answered yet (application form)' }
  return level >= 3
    ? { rule: 'ey-level-3', label, outcome: 'met', detail: `Qualified to Level ${level}` }
    : { rule: 'ey-level-3', label, outcome: 'not-met', detail: `Qualified to Level ${level}: NPQEYL needs Level 3 or above` }
}

/** Whole years from one London date to another (a birthday-style count). */
export function yearsBetween(from: string, to: string): number {
  const [fy, fm, fd] = from.split('-').map(Number) as [number, number, number]
  const [ty, tm, td] = to.split('-').map(Number) as [number, number, number]
  return ty - fy - (tm < fm || (tm === fm && td < fd) ? 1 : 0)
}

/** EHCO: within the first five years of a first headship, alongside or after NPQH. */
export function ehcoCheck(
  input: Pick<EligibilityInput, 'headshipStartedOn' | 'npqhStatus' | 'headteacherStatus'>,
  today: string,
): EligibilityCheck {
  const label = 'First five years of headship, with NPQH'
  const npqh = input.npqhStatus
  if (npqh === 'none') return { rule: 'ehco-early-headship', label, outcome: 'not-met', detail: 'EHCO is taken alongside or after NPQH' }
  if (input.headshipStartedOn) {
    if (input.headshipStartedOn > today)
      return { rule: 'ehco-early-headship', label, outcome: 'not-met', detail: 'The headship has not started yet' }
    if (yearsBetween(input.headshipStartedOn, today) >= 5)
      return {
        rule: 'ehco-early-headship',
        label,
        outcome: 'not-met',
        detail: `Headship started ${input.headshipStartedOn}: more than five years ago`,
      }
    if (npqh === null) return { rule: 'ehco-early-headship', label, outcome: 'unknown', detail: 'NPQH not answered yet (application form)' }
    return {
      rule: 'ehco-early-headship',
      label,
      outcome: 'met',
      detail: `Headship started ${input.headshipStartedOn}; NPQH ${npqh === 'completed' ? 'completed' : 'in progress'}`,
    }
  }
  // Before the form: DfE's headteacher status says as much as it can.
  if (input.headteacherStatus === 'yes_over_five_years' || input.headteacherStatus === 'no')
    return { rule: 'ehco-early-headship', label, outcome: 'not-met', detail: 'DfE: not in the first five years of a headship' }
  return { rule: 'ehco-early-headship', label, outcome: 'unknown', detail: 'Headship start date not answered yet (application form)' }
}

/** The checks that apply to an application's course, in the order the page shows them. */
export function checkEligibility(input: EligibilityInput, today: string): EligibilityCheck[] {
  const checks = [fundingCheck(input), scholarshipCheck(input)]
  if (input.courseIdentifier === 'npq-early-years-leadership') checks.push(earlyYearsLevelCheck(input.eyQualificationLevel))
  if (findCourse(input.courseIdentifier)?.group === 'ehco') checks.push(ehcoCheck(input, today))
  return checks
}

/** Who endorses: the headteacher or principal, or the direct line manager for NPQH and NPQEL. */
export function endorserRoleFor(courseIdentifier: string): 'headteacher' | 'line-manager' {
  return courseIdentifier === 'npq-headship' || courseIdentifier === 'npq-executive-leadership' ? 'line-manager' : 'headteacher'
}

export const endorserLabels = { headteacher: 'Headteacher or principal', 'line-manager': 'Direct line manager' } as const
