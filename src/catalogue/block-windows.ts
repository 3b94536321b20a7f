import { recordAudit } from '../audit/audit.ts'
import type { Db } from '../db/database.ts'
import { AppError, notFound } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import { defaultBlockWindows, type BlockWindow } from './block-dates.ts'
import type { Catalogue } from './catalogue.ts'
import type { DesignVersions } from './versions.ts'

export type CohortBlockWindow = BlockWindow & { title: string | null; provisional: boolean; setByAdmin: boolean }

/** A cohort's block dates: an admin's where set, the derived default otherwise. */
export class BlockWindows {
  private readonly db: Db
  private readonly catalogue: Catalogue
  private readonly designs: DesignVersions
  constructor(db: Db, catalogue: Catalogue, designs: DesignVersions) {
    this.db = db
    this.catalogue = catalogue
    this.designs = designs
  }

  async forCohort(leadProvider: string, courseIdentifier: string, cohort: string): Promise<CohortBlockWindow[]> {
    const design = await this.designs.designForCohort(leadProvider, courseIdentifier, cohort)
    const schedule = this.catalogue.cohortOutputs(leadProvider, cohort, courseIdentifier)
    if (!design || !schedule) return []
    const numbered = design.blocks.filter((b): b is typeof b & { block: number } => typeof b.block === 'number')
    const defaults = defaultBlockWindows(
      numbered.map((b) => b.block),
      this.catalogue.cohortStartsOn(leadProvider, cohort),
      schedule.outputs,
    )
    const saved = await this.db
      .selectFrom('block_windows')
      .selectAll()
      .where('lead_provider', '=', leadProvider)
      .where('course_identifier', '=', courseIdentifier)
      .where('cohort', '=', cohort)
      .execute()
    return numbered.flatMap((b) => {
      const own = saved.find((s) => s.block === b.block)
      const fallback = defaults.find((d) => d.block === b.block)
      const window = own ? { block: b.block, goesLiveOn: own.goes_live_on, completesBy: own.completes_by } : fallback
      return window ? [{ ...window, title: b.title, provisional: b.provisional, setByAdmin: Boolean(own) }] : []
    })
  }

  /** Saves an admin's dates for some blocks of a cohort, all or none. */
  async set(by: Principal, leadProvider: string, courseIdentifier: string, cohort: string, windows: BlockWindow[]): Promise<void> {
    const current = await this.forCohort(leadProvider, courseIdentifier, cohort)
    if (current.length === 0) throw notFound('Cohort schedule')
    const problems = windows.flatMap((w) => {
      if (!current.some((c) => c.block === w.block))
        return [{ field: `goesLiveOn-${w.block}`, message: `Block ${w.block} is not in this design` }]
      if (w.completesBy < w.goesLiveOn) {
        return [{ field: `completesBy-${w.block}`, message: `Block ${w.block} must be due on or after the day it goes live` }]
      }
      return []
    })
    if (problems.length) throw new AppError('validation-failed', 'Check the block dates', problems)
    await this.db.transaction().execute(async (trx) => {
      for (const w of windows) {
        const before = current.find((c) => c.block === w.block)!
        if (before.goesLiveOn === w.goesLiveOn && before.completesBy === w.completesBy) continue
        await trx
          .insertInto('block_windows')
          .values({
            lead_provider: leadProvider,
            course_identifier: courseIdentifier,
            cohort,
            block: w.block,
            goes_live_on: w.goesLiveOn,
            completes_by: w.completesBy,
            updated_by: by.kind === 'user' ? by.userId : null,
          })
          .onConflict((oc) =>
            oc.columns(['lead_provider', 'course_identifier', 'cohort', 'block']).doUpdateSet({
              goes_live_on: w.goesLiveOn,
              completes_by: w.completesBy,
              updated_by: by.kind === 'user' ? by.userId : null,
              updated_at: new Date(),
            }),
          )
          .execute()
        await recordAudit(trx, {
          by,
          action: 'block-window.set',
          entityType: 'block-window',
          entityId: `${leadProvider}/${courseIdentifier}/${cohort}/${w.block}`,
          before: { goes_live_on: before.goesLiveOn, completes_by: before.completesBy },
          after: { goes_live_on: w.goesLiveOn, completes_by: w.completesBy },
        })
      }
    })
  }
}
