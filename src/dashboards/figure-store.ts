import { sql } from 'kysely'
import type { Db } from '../db/database.ts'
import { londonDateOf } from '../dates/london.ts'
import { defineJob } from '../jobs/queue.ts'
import type { Services } from '../services.ts'
import { z } from 'zod'
import { computeFigures, type EnrolmentFigure } from './figures.ts'
import type { OutputStatusLite, Risk } from './projection.ts'

// Per-enrolment figures kept in the database (migration 0026), so that no page showing a whole cohort
// waits for the engagement engine and output evaluation (seconds per cohort at national scale):
//  - the `figures-refresh` job recomputes every lead provider's cohorts every ten minutes, and a new
//    London day's figures just after midnight, in the worker;
//  - a page that finds no figures for today computes that cohort once and stores them (the first
//    request of a new deployment), so every web process then reads the same rows;
//  - figures are read by any web process with SQL; what changed since they were computed shows at
//    the next refresh, and the pages say when that was. Actions (declaring, invoicing) never use them:
//    they evaluate live.

/** Where the evidence is read: the scheduled sweep may read a replica (DATABASE_REPLICA_URL); a page or a change, the primary. */
export type Source = 'primary' | 'replica'

export type StoredUnit = { leadProviderId: string; leadProvider: string; cohort: string }
export type FigureRun = { asOf: string; computedAt: Date; enrolments: number; tookMs: number }

/** How old stored figures may be before the scheduled refresh recomputes them. */
export const figureRefresh = { maxAgeMs: 10 * 60_000 }

export async function figureRunOf(db: Db, unit: { leadProviderId: string; cohort: string }): Promise<FigureRun | null> {
  const row = await db
    .selectFrom('figure_runs')
    .select([sql<string>`as_of::text`.as('as_of'), 'computed_at', 'enrolments', 'took_ms'])
    .where('lead_provider_id', '=', unit.leadProviderId)
    .where('cohort', '=', unit.cohort)
    .executeTakeFirst()
  return row ? { asOf: row.as_of, computedAt: new Date(row.computed_at), enrolments: row.enrolments, tookMs: row.took_ms } : null
}

const outputsJson = (f: EnrolmentFigure) =>
  JSON.stringify(
    f.outputs.map((o) => ({
      declarationType: o.declarationType,
      reviewDate: o.reviewDate,
      status: o.status,
      evidence: o.evidence ?? null,
      evidenceOn: o.evidenceOn ?? null,
    })),
  )

/**
 * Computes a lead provider's cohort as of the date and replaces its stored figures in one transaction
 * (writers of the same cohort take turns: a transaction-scoped advisory lock).
 */
export async function storeFigures(services: Services, unit: StoredUnit, asOf: string, source: Source = 'primary'): Promise<FigureRun> {
  const started = Date.now()
  const figures = await computeFigures(services, { leadProvider: unit.leadProvider, cohort: unit.cohort }, asOf, {
    keepReasons: true,
    db: source === 'replica' ? services.readDb : services.db,
  })
  const computedAt = new Date()
  const tookMs = Date.now() - started
  await services.db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext(${`figures/${unit.leadProviderId}/${unit.cohort}`}))`.execute(trx)
    await trx
      .deleteFrom('enrolment_figures')
      .where('lead_provider_id', '=', unit.leadProviderId)
      .where('cohort', '=', unit.cohort)
      .execute()
    for (let i = 0; i < figures.length; i += 2000) {
      await trx
        .insertInto('enrolment_figures')
        .values(
          figures.slice(i, i + 2000).map((f) => ({
            enrolment_id: f.enrolmentId,
            lead_provider_id: unit.leadProviderId,
            cohort: unit.cohort,
            course_identifier: f.courseIdentifier,
            delivery_partner_id: f.deliveryPartnerId,
            as_of: asOf,
            active: f.active,
            ratio: f.ratio,
            percent: f.percent,
            deadline: f.deadline,
            projected_percent: f.projectedPercent,
            risks: JSON.stringify(f.risks),
            engagement: JSON.stringify({
              creditsEarned: f.creditsEarned,
              creditsAvailable: f.creditsAvailable,
              eligibleForAssessment: f.eligibleForAssessment,
              blocks: f.blocks,
            }),
            outputs: outputsJson(f),
            reasons: JSON.stringify(f.outputs.map((o) => o.reasons)),
          })),
        )
        .execute()
    }
    await trx
      .insertInto('figure_runs')
      .values({
        lead_provider_id: unit.leadProviderId,
        cohort: unit.cohort,
        as_of: asOf,
        computed_at: computedAt,
        enrolments: figures.length,
        took_ms: tookMs,
      })
      .onConflict((oc) =>
        oc
          .columns(['lead_provider_id', 'cohort'])
          .doUpdateSet({ as_of: asOf, computed_at: computedAt, enrolments: figures.length, took_ms: tookMs }),
      )
      .execute()
  })
  return { asOf, computedAt, enrolments: figures.length, tookMs }
}

// One computation per cohort at a time in this process (a page and the job asking together share it).
const pending = new WeakMap<Services, Map<string, Promise<FigureRun>>>()

/** Today's run for the cohort: the stored one, or computed and stored now when there is none for the date. */
export async function ensureFigures(services: Services, unit: StoredUnit, asOf: string): Promise<FigureRun> {
  const run = await figureRunOf(services.db, unit)
  if (run && run.asOf === asOf) return run
  return storeOnce(services, unit, asOf)
}

function storeOnce(services: Services, unit: StoredUnit, asOf: string, source: Source = 'primary'): Promise<FigureRun> {
  let mine = pending.get(services)
  if (!mine) pending.set(services, (mine = new Map()))
  const key = `${unit.leadProviderId}/${unit.cohort}/${asOf}`
  let p = mine.get(key)
  if (!p) {
    p = storeFigures(services, unit, asOf, source).finally(() => mine.delete(key))
    mine.set(key, p)
  }
  return p
}

/** Every lead provider's cohorts that have enrolments (the catalogue's cohorts without any have no figures). */
export async function storedUnits(db: Db): Promise<StoredUnit[]> {
  const rows = await db
    .selectFrom('enrolments as e')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select(['e.lead_provider_id as leadProviderId', 'lp.code as leadProvider', 'e.cohort'])
    .distinct()
    .execute()
  return rows.sort((a, b) => a.leadProvider.localeCompare(b.leadProvider) || b.cohort.localeCompare(a.cohort))
}

/**
 * The scheduled refresh: every cohort (of one lead provider, when given) whose figures are not for
 * today or are older than `maxAgeMs`, one at a time.
 */
export async function refreshFigures(
  services: Services,
  now = new Date(),
  maxAgeMs = figureRefresh.maxAgeMs,
  leadProviderId?: string,
  source: Source = 'replica',
): Promise<FigureRun[]> {
  const asOf = londonDateOf(now)
  const done: FigureRun[] = []
  for (const unit of await storedUnits(services.db)) {
    if (leadProviderId && unit.leadProviderId !== leadProviderId) continue
    const run = await figureRunOf(services.db, unit)
    // maxAgeMs 0 recomputes every cohort (the benchmark's job; a change the job is told of).
    if (maxAgeMs > 0 && run && run.asOf === asOf && now.getTime() - run.computedAt.getTime() < maxAgeMs) continue
    done.push(await storeOnce(services, unit, asOf, source))
  }
  // The table is rewritten wholesale: fresh statistics keep the pages' plans right before autovacuum's turn.
  if (done.length) await sql`analyze enrolment_figures`.execute(services.db)
  services.logger.info({ cohorts: done.length, enrolments: done.reduce((n, r) => n + r.enrolments, 0) }, 'figures refreshed')
  return done
}

export const figuresRefreshJobName = 'figures-refresh'

/**
 * The job definition; `services` is read when the job runs (the job queue starts before it exists).
 * Scheduled, it refreshes what is old; sent after an import with `changed`, it recomputes at once the
 * cohorts of that lead provider (or of every one, for an import not made for one provider).
 */
export function figureJobDefinitions(servicesOf: () => Services) {
  return [
    defineJob({
      name: figuresRefreshJobName,
      schema: z.object({ changed: z.object({ leadProviderId: z.string().nullable() }).optional() }),
      retryLimit: 2,
      retryDelay: 60,
      schedule: '*/10 * * * *',
      handler: async (data) => {
        // A change just committed is read from the primary (a replica may not have it yet).
        await refreshFigures(
          servicesOf(),
          new Date(),
          data.changed ? 0 : figureRefresh.maxAgeMs,
          data.changed?.leadProviderId ?? undefined,
          data.changed ? 'primary' : 'replica',
        )
      },
    }),
  ]
}

type StoredRow = {
  enrolment_id: string
  participant_id: string
  full_name: string
  course_identifier: string
  dp_code: string | null
  dp_name: string | null
  delivery_partner_id: string | null
  active: boolean
  ratio: number
  percent: number
  deadline: string | null
  projected_percent: number | null
  risks: unknown
  engagement: unknown
  outputs: unknown
}

/** The stored figures of a cohort (optionally one delivery partner's participants), as the dashboards use them. */
export async function loadStoredFigures(db: Db, unit: StoredUnit & { deliveryPartnerId?: string }): Promise<EnrolmentFigure[]> {
  let q = db
    .selectFrom('enrolment_figures as f')
    .innerJoin('enrolments as e', 'e.id', 'f.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .leftJoin('organisations as dp', 'dp.id', 'f.delivery_partner_id')
    .select([
      'f.enrolment_id',
      'e.participant_id',
      'p.full_name',
      'f.course_identifier',
      'dp.code as dp_code',
      'dp.name as dp_name',
      'f.delivery_partner_id',
      'f.active',
      'f.ratio',
      'f.percent',
      sql<string | null>`f.deadline::text`.as('deadline'),
      'f.projected_percent',
      'f.risks',
      'f.engagement',
      'f.outputs',
    ])
    .where('f.lead_provider_id', '=', unit.leadProviderId)
    .where('f.cohort', '=', unit.cohort)
  if (unit.deliveryPartnerId) q = q.where('f.delivery_partner_id', '=', unit.deliveryPartnerId)
  const rows = (await q.orderBy('e.participant_id').orderBy('f.course_identifier').execute()) as StoredRow[]
  return rows.map((r) => {
    const engagement = r.engagement as Pick<EnrolmentFigure, 'creditsEarned' | 'creditsAvailable' | 'eligibleForAssessment' | 'blocks'>
    return {
      enrolmentId: r.enrolment_id,
      participantId: r.participant_id,
      fullName: r.full_name,
      leadProvider: unit.leadProvider,
      cohort: unit.cohort,
      courseIdentifier: r.course_identifier,
      deliveryPartner: r.dp_code,
      deliveryPartnerName: r.dp_name,
      deliveryPartnerId: r.delivery_partner_id,
      creditsEarned: engagement.creditsEarned,
      creditsAvailable: engagement.creditsAvailable,
      eligibleForAssessment: engagement.eligibleForAssessment,
      ratio: r.ratio,
      percent: r.percent,
      active: r.active,
      deadline: r.deadline,
      projectedPercent: r.projected_percent,
      risks: r.risks as Risk[],
      outputs: (r.outputs as Omit<OutputStatusLite, 'reasons'>[]).map((o) => ({ ...o, reasons: [] })),
      blocks: engagement.blocks,
    }
  })
}
