import fs from 'node:fs'
import path from 'node:path'
import { parse } from 'yaml'
import { z } from 'zod'

// The eleven DfE NPQ courses and the outputs each course group declares, from catalogue/courses.yaml.
// Read once when first imported: everything else in the catalogue is checked against this list.

export type CourseGroup = 'leadership' | 'specialist' | 'ehco'
export type DeclarationType = 'started' | 'retained-1' | 'retained-2' | 'completed'

export type Course = {
  identifier: string
  name: string
  shortName: string
  group: CourseGroup
  months: number
}

const declarationType = z.enum(['started', 'retained-1', 'retained-2', 'completed'])
const coursesFile = z.strictObject({
  declaration_types: z.strictObject({
    leadership: z.array(declarationType),
    specialist: z.array(declarationType),
    ehco: z.array(declarationType),
  }),
  courses: z
    .array(
      z.strictObject({
        identifier: z.string().regex(/^npq-[a-z-]+$/),
        name: z.string().min(1),
        short_name: z.string().regex(/^[A-Z]+$/),
        group: z.enum(['leadership', 'specialist', 'ehco']),
        months: z.number().int().positive(),
        source: z.string().min(1),
      }),
    )
    .min(1),
})

const file = path.resolve(import.meta.dirname, '../../catalogue/courses.yaml')
const parsed = coursesFile.safeParse(parse(fs.readFileSync(file, 'utf8')))
if (!parsed.success) {
  throw new Error(`catalogue/courses.yaml: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`)
}

export const courses: readonly Course[] = parsed.data.courses.map((c) => ({
  identifier: c.identifier,
  name: c.name,
  shortName: c.short_name,
  group: c.group,
  months: c.months,
}))

/** The DfE course identifiers, as a tuple for z.enum. */
export const courseIdentifiers = courses.map((c) => c.identifier) as [string, ...string[]]

export const declarationTypesOfGroup: Record<CourseGroup, readonly DeclarationType[]> = parsed.data.declaration_types

const byIdentifier = new Map(courses.map((c) => [c.identifier, c]))

export function findCourse(identifier: string): Course | undefined {
  return byIdentifier.get(identifier)
}

export const cohortPattern = /^[0-9]{4}-(autumn|spring)$/

const byShortName = new Map(courses.map((c) => [c.shortName, c]))

/** The course an activity code belongs to: codes start with the course's short name (`NPQH-B1-VIDEO`). */
export function courseOfActivityCode(code: string): Course | undefined {
  return byShortName.get(code.split('-')[0]!)
}
