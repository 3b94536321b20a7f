import path from 'node:path'
import { declarationTypesOfGroup, findCourse } from './courses.ts'
import { loadCatalogue, type CatalogueData, type CohortSchedule, type Design, type OutputDates, type Policy } from './load.ts'

export const catalogueRoot = path.resolve(import.meta.dirname, '../../catalogue')

export type CohortOutputs = { cohort: string; selfReporting: boolean; scheduleOwner: string; outputs: OutputDates[] }

/** The programme catalogue: designs, cohorts with their output dates, and each provider's policies. */
export class Catalogue {
  private readonly data: CatalogueData
  constructor(data: CatalogueData) {
    this.data = data
  }

  static load(root = process.env.NPQ_CATALOGUE_DIR ?? catalogueRoot): Catalogue {
    return new Catalogue(loadCatalogue(root))
  }

  designs(): Design[] {
    return [...this.data.designs].sort(
      (a, b) => a.leadProvider.localeCompare(b.leadProvider) || a.courseIdentifier.localeCompare(b.courseIdentifier),
    )
  }

  design(leadProvider: string, courseIdentifier: string): Design | undefined {
    return this.data.designs.find((d) => d.leadProvider === leadProvider && d.courseIdentifier === courseIdentifier)
  }

  /** The courses a provider has a design for. */
  coursesOf(leadProvider: string): string[] {
    return this.designs()
      .filter((d) => d.leadProvider === leadProvider)
      .map((d) => d.courseIdentifier)
  }

  policy(leadProvider: string): Policy | undefined {
    return this.data.policies.find((p) => p.lead_provider === leadProvider)
  }

  /**
   * A course's output dates in a cohort for one lead provider: the provider's own schedule where it
   * has one for that cohort and course (EDT: Annex 1), otherwise DfE's milestone dates.
   */
  cohortOutputs(leadProvider: string, cohort: string, courseIdentifier: string): CohortOutputs | undefined {
    for (const owner of [leadProvider, 'dfe']) {
      const schedule = this.data.schedules.find((s) => s.leadProvider === owner && s.cohort === cohort)
      const group = schedule?.courseGroups.find((g) => g.courses.includes(courseIdentifier))
      if (schedule && group) {
        // The platform declares its course group's outputs: DfE's EHCO schedules list four declaration
        // types, seed 004 pays three (started, retained-1, completed).
        const types = declarationTypesOfGroup[findCourse(courseIdentifier)!.group]
        const outputs = group.outputs.filter((o) => types.includes(o.declarationType))
        return { cohort, selfReporting: owner === leadProvider && schedule.selfReporting, scheduleOwner: owner, outputs }
      }
    }
    return undefined
  }

  /** When a cohort starts, by the provider's own schedule where it has one, else DfE's. */
  cohortStartsOn(leadProvider: string, cohort: string): string | null {
    const own = this.data.schedules.find((s) => s.leadProvider === leadProvider && s.cohort === cohort)
    const dfe = this.data.schedules.find((s) => s.leadProvider === 'dfe' && s.cohort === cohort)
    return own?.startsOn ?? dfe?.startsOn ?? null
  }

  /** Cohorts in which a provider runs a course (its own schedule, or DfE's where it has none for the course). */
  cohortsFor(leadProvider: string, courseIdentifier: string): string[] {
    const has = (s: CohortSchedule) => s.courseGroups.some((g) => g.courses.includes(courseIdentifier))
    const own = this.data.schedules.filter((s) => s.leadProvider === leadProvider && has(s))
    const dfe = this.data.schedules.filter((s) => s.leadProvider === 'dfe' && has(s) && !own.some((o) => o.cohort === s.cohort))
    return [...own, ...dfe].map((s) => s.cohort).sort()
  }

  /** A provider's own cohort schedules, or DfE's where it has none (for the cohorts page). */
  schedulesFor(leadProvider: string): CohortSchedule[] {
    const own = this.data.schedules.filter((s) => s.leadProvider === leadProvider)
    const dfe = this.data.schedules.filter((s) => s.leadProvider === 'dfe' && !own.some((o) => o.cohort === s.cohort))
    return [...own, ...dfe].sort((a, b) => a.cohort.localeCompare(b.cohort))
  }

  isKnownCourse(courseIdentifier: string): boolean {
    return findCourse(courseIdentifier) !== undefined
  }
}
