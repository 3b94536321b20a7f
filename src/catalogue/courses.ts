// The eleven DfE NPQ courses (DOMAIN.md "Courses"). Course groups decide the outputs declared.

export type CourseGroup = 'leadership' | 'specialist' | 'ehco'
export type DeclarationType = 'started' | 'retained-1' | 'retained-2' | 'completed'

export type Course = {
  identifier: string
  name: string
  shortName: string
  group: CourseGroup
  months: number
}

export const courses: readonly Course[] = [
  { identifier: 'npq-senior-leadership', name: 'NPQ for Senior Leadership', shortName: 'NPQSL', group: 'leadership', months: 18 },
  { identifier: 'npq-headship', name: 'NPQ for Headship', shortName: 'NPQH', group: 'leadership', months: 18 },
  { identifier: 'npq-executive-leadership', name: 'NPQ for Executive Leadership', shortName: 'NPQEL', group: 'leadership', months: 18 },
  {
    identifier: 'npq-early-years-leadership',
    name: 'NPQ for Early Years Leadership',
    shortName: 'NPQEYL',
    group: 'leadership',
    months: 18,
  },
  {
    identifier: 'npq-senco',
    name: 'NPQ for Special Educational Needs Co-ordinators',
    shortName: 'NPQSENCO',
    group: 'leadership',
    months: 18,
  },
  { identifier: 'npq-leading-teaching', name: 'NPQ for Leading Teaching', shortName: 'NPQLT', group: 'specialist', months: 12 },
  {
    identifier: 'npq-leading-teaching-development',
    name: 'NPQ for Leading Teacher Development',
    shortName: 'NPQLTD',
    group: 'specialist',
    months: 12,
  },
  {
    identifier: 'npq-leading-behaviour-culture',
    name: 'NPQ for Leading Behaviour and Culture',
    shortName: 'NPQLBC',
    group: 'specialist',
    months: 12,
  },
  { identifier: 'npq-leading-literacy', name: 'NPQ for Leading Literacy', shortName: 'NPQLL', group: 'specialist', months: 12 },
  {
    identifier: 'npq-leading-primary-mathematics',
    name: 'NPQ for Leading Primary Mathematics',
    shortName: 'NPQLPM',
    group: 'specialist',
    months: 12,
  },
  // 12 months per seed 003 (seed 001 lists it with the 18-month leadership NPQs); no summative assessment.
  { identifier: 'npq-early-headship-coaching-offer', name: 'Early Headship Coaching Offer', shortName: 'EHCO', group: 'ehco', months: 12 },
]

export const declarationTypesOfGroup: Record<CourseGroup, readonly DeclarationType[]> = {
  leadership: ['started', 'retained-1', 'retained-2', 'completed'],
  specialist: ['started', 'retained-1', 'completed'],
  ehco: ['started', 'retained-1', 'completed'],
}

const byIdentifier = new Map(courses.map((c) => [c.identifier, c]))

export function findCourse(identifier: string): Course | undefined {
  return byIdentifier.get(identifier)
}

export const cohortPattern = /^[0-9]{4}-(autumn|spring)$/
