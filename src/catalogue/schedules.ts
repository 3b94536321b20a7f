import { findCourse } from './courses.ts'

// DfE's schedules (spec: schedule_identifier): which a course may run on, and the one matching a cohort's season.

/** DfE's schedules a course may be accepted onto (spec: schedule_identifier). */
export function schedulesForCourse(courseIdentifier: string): string[] {
  switch (findCourse(courseIdentifier)?.group) {
    case 'ehco':
      return ['npq-ehco-march', 'npq-ehco-june', 'npq-ehco-november', 'npq-ehco-december']
    case 'specialist':
      return ['npq-specialist-autumn', 'npq-specialist-spring']
    default:
      return ['npq-leadership-autumn', 'npq-leadership-spring']
  }
}

/** The schedule matching a cohort's season, for the accept form's default. */
export function defaultSchedule(courseIdentifier: string, cohort: string): string {
  const options = schedulesForCourse(courseIdentifier)
  if (findCourse(courseIdentifier)?.group === 'ehco') return cohort.endsWith('spring') ? 'npq-ehco-march' : 'npq-ehco-november'
  return options.find((s) => s.endsWith(cohort.endsWith('spring') ? 'spring' : 'autumn')) ?? options[0]!
}
