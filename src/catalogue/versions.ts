import crypto from 'node:crypto'
import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import { AppError, notFound } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import type { Catalogue } from './catalogue.ts'
import { designFromContent, type Design } from './load.ts'

// Design versions in the database. At every start the reviewed files are compared with the latest
// version of each design: a changed file becomes a new version. Each scheduled cohort is bound to a
// version the first time it is seen and keeps it until a lead-provider admin moves it.

export type VersionSummary = {
  version: number
  origin: 'file' | 'admin'
  note: string | null
  createdAt: Date
  cohorts: string[]
}

/** A hash that does not depend on key order, so re-reading an unchanged file makes no new version. */
export function contentHash(content: unknown): string {
  const canonical = (value: unknown): unknown =>
    Array.isArray(value)
      ? value.map(canonical)
      : value && typeof value === 'object'
        ? Object.fromEntries(
            Object.keys(value)
              .sort()
              .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
          )
        : value
  return crypto
    .createHash('sha256')
    .update(JSON.stringify(canonical(content)))
    .digest('hex')
}

async function nextVersion(trx: Trx, leadProvider: string, courseIdentifier: string): Promise<number> {
  const last = await trx
    .selectFrom('design_versions')
    .select(sql<number>`coalesce(max(version), 0)`.as('version'))
    .where('lead_provider', '=', leadProvider)
    .where('course_identifier', '=', courseIdentifier)
    .executeTakeFirstOrThrow()
  return Number(last.version) + 1
}

export class DesignVersions {
  private readonly db: Db
  private readonly catalogue: Catalogue
  private readonly parsed = new Map<string, Design>()

  constructor(db: Db, catalogue: Catalogue) {
    this.db = db
    this.catalogue = catalogue
  }

  /** Records new versions for changed files and binds newly scheduled cohorts (idempotent). */
  async syncFromFiles(by: Principal): Promise<{ versionsCreated: number; cohortsBound: number }> {
    let versionsCreated = 0
    let cohortsBound = 0
    await this.db.transaction().execute(async (trx) => {
      // Several processes may start at once: one at a time does the sync.
      await sql`select pg_advisory_xact_lock(hashtext('npq-design-sync'))`.execute(trx)
      for (const design of this.catalogue.designs()) {
        const hash = contentHash(design.content)
        const latest = await trx
          .selectFrom('design_versions')
          .select(['id', 'version', 'content_hash'])
          .where('lead_provider', '=', design.leadProvider)
          .where('course_identifier', '=', design.courseIdentifier)
          .where('origin', '=', 'file')
          .orderBy('version', 'desc')
          .limit(1)
          .executeTakeFirst()
        let latestId = latest?.id
        if (!latest || latest.content_hash !== hash) {
          const row = await trx
            .insertInto('design_versions')
            .values({
              lead_provider: design.leadProvider,
              course_identifier: design.courseIdentifier,
              version: await nextVersion(trx, design.leadProvider, design.courseIdentifier),
              content: JSON.stringify(design.content),
              content_hash: hash,
              origin: 'file',
              note: latest ? 'The reviewed data file changed' : 'Shipped with the platform',
            })
            .returning(['id', 'version'])
            .executeTakeFirstOrThrow()
          latestId = row.id
          versionsCreated++
          await recordAudit(trx, {
            by,
            action: 'design.version-created',
            entityType: 'design',
            entityId: `${design.leadProvider}/${design.courseIdentifier}`,
            after: { version: row.version, origin: 'file' },
          })
        }
        for (const cohort of this.catalogue.cohortsFor(design.leadProvider, design.courseIdentifier)) {
          const bound = await trx
            .insertInto('cohort_designs')
            .values({
              lead_provider: design.leadProvider,
              course_identifier: design.courseIdentifier,
              cohort,
              design_version_id: latestId!,
            })
            .onConflict((oc) => oc.doNothing())
            .returning('cohort')
            .executeTakeFirst()
          if (bound) cohortsBound++
        }
      }
    })
    return { versionsCreated, cohortsBound }
  }

  /** The newest version of a design, or a given version. */
  async design(leadProvider: string, courseIdentifier: string, version?: number): Promise<Design | undefined> {
    let query = this.db
      .selectFrom('design_versions')
      .select(['version', 'content'])
      .where('lead_provider', '=', leadProvider)
      .where('course_identifier', '=', courseIdentifier)
    if (version !== undefined) query = query.where('version', '=', version)
    const row = await query.orderBy('version', 'desc').limit(1).executeTakeFirst()
    return row ? designFromContent(row.content, row.version, `${leadProvider}/${courseIdentifier} version ${row.version}`) : undefined
  }

  /** The version a cohort runs. */
  async designForCohort(
    leadProvider: string,
    courseIdentifier: string,
    cohort: string,
    db: Db | Trx = this.db,
  ): Promise<Design | undefined> {
    // Inside a transaction pass it in: on the embedded database a query through the pool would wait
    // for the transaction to end.
    const bound = await db
      .selectFrom('cohort_designs as c')
      .select('c.design_version_id as id')
      .where('c.lead_provider', '=', leadProvider)
      .where('c.course_identifier', '=', courseIdentifier)
      .where('c.cohort', '=', cohort)
      .executeTakeFirst()
    if (!bound) return undefined
    // Versions are append-only, so a parsed version never goes stale; reports ask for the same few.
    const cached = this.parsed.get(bound.id)
    if (cached) return cached
    const row = await db.selectFrom('design_versions').select(['version', 'content']).where('id', '=', bound.id).executeTakeFirstOrThrow()
    const design = designFromContent(row.content, row.version, `${leadProvider}/${courseIdentifier} version ${row.version}`)
    this.parsed.set(bound.id, design)
    return design
  }

  async versions(leadProvider: string, courseIdentifier: string): Promise<VersionSummary[]> {
    const rows = await this.db
      .selectFrom('design_versions as v')
      .leftJoin('cohort_designs as c', 'c.design_version_id', 'v.id')
      .select([
        'v.version',
        'v.origin',
        'v.note',
        'v.created_at',
        sql<string[]>`coalesce(array_agg(c.cohort order by c.cohort) filter (where c.cohort is not null), '{}')`.as('cohorts'),
      ])
      .where('v.lead_provider', '=', leadProvider)
      .where('v.course_identifier', '=', courseIdentifier)
      .groupBy(['v.version', 'v.origin', 'v.note', 'v.created_at'])
      .orderBy('v.version', 'desc')
      .execute()
    return rows.map((r) => ({ version: r.version, origin: r.origin, note: r.note, createdAt: r.created_at, cohorts: r.cohorts }))
  }

  /**
   * Records a version authored by a lead-provider admin. Cohorts already running keep their version;
   * scheduled cohorts that have none yet (a course designed for the first time) start on this one.
   */
  async createVersion(by: Principal, design: Design, note: string): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      await sql`select pg_advisory_xact_lock(hashtext('npq-design-sync'))`.execute(trx)
      const version = await nextVersion(trx, design.leadProvider, design.courseIdentifier)
      const row = await trx
        .insertInto('design_versions')
        .values({
          lead_provider: design.leadProvider,
          course_identifier: design.courseIdentifier,
          version,
          content: JSON.stringify(design.content),
          content_hash: contentHash(design.content),
          origin: 'admin',
          note,
          created_by: by.kind === 'user' ? by.userId : null,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      for (const cohort of this.catalogue.cohortsFor(design.leadProvider, design.courseIdentifier)) {
        await trx
          .insertInto('cohort_designs')
          .values({ lead_provider: design.leadProvider, course_identifier: design.courseIdentifier, cohort, design_version_id: row.id })
          .onConflict((oc) => oc.doNothing())
          .execute()
      }
      await recordAudit(trx, {
        by,
        action: 'design.version-created',
        entityType: 'design',
        entityId: `${design.leadProvider}/${design.courseIdentifier}`,
        after: { version, origin: 'admin', note },
      })
      return version
    })
  }

  /** Publishes a provisional block: a new version in which the block is live and counted. */
  async publishBlock(by: Principal, leadProvider: string, courseIdentifier: string, block: number): Promise<number> {
    const latest = await this.design(leadProvider, courseIdentifier)
    if (!latest) throw notFound('Design')
    const content = structuredClone(latest.content)
    const target = content.style === 'weighted' ? undefined : content.blocks.find((b) => b.block === block)
    if (!target || !target.provisional) throw new AppError('invalid-transition', `Block ${block} is not a provisional block of this design`)
    target.provisional = false
    if (content.style === 'credits') target.stated_total = target.activities.reduce((n, a) => n + (a.credits ?? 0), 0)
    if (content.style === 'credits' && content.stated_total !== null) content.stated_total += target.stated_total ?? 0
    const design = designFromContent(content, latest.version + 1, `${leadProvider}/${courseIdentifier}`)
    return this.createVersion(by, design, `Block ${block} published`)
  }

  /** Moves a cohort to another version of its design: an explicit, audited decision. */
  async bindCohort(by: Principal, leadProvider: string, courseIdentifier: string, cohort: string, version: number): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      const target = await trx
        .selectFrom('design_versions')
        .select(['id'])
        .where('lead_provider', '=', leadProvider)
        .where('course_identifier', '=', courseIdentifier)
        .where('version', '=', version)
        .executeTakeFirst()
      if (!target) throw notFound('Design version')
      const current = await trx
        .selectFrom('cohort_designs as c')
        .innerJoin('design_versions as v', 'v.id', 'c.design_version_id')
        .select(['v.version'])
        .where('c.lead_provider', '=', leadProvider)
        .where('c.course_identifier', '=', courseIdentifier)
        .where('c.cohort', '=', cohort)
        .forUpdate()
        .executeTakeFirst()
      if (!current) throw new AppError('not-found', `Cohort ${cohort} does not run ${courseIdentifier} with ${leadProvider}`)
      if (current.version === version) return
      await trx
        .updateTable('cohort_designs')
        .set({ design_version_id: target.id, bound_at: new Date(), bound_by: by.kind === 'user' ? by.userId : null })
        .where('lead_provider', '=', leadProvider)
        .where('course_identifier', '=', courseIdentifier)
        .where('cohort', '=', cohort)
        .execute()
      await recordAudit(trx, {
        by,
        action: 'cohort.design-moved',
        entityType: 'cohort-design',
        entityId: `${leadProvider}/${courseIdentifier}/${cohort}`,
        before: { version: current.version },
        after: { version },
      })
    })
  }
}
