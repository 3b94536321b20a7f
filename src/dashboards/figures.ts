import { londonDateOf } from '../dates/london.ts'
import { sql } from 'kysely'
import type { Design } from '../catalogue/load.ts'
import type { Db, Trx } from '../db/database.ts'
import type { DeclarationState, EnrolmentStatus } from '../db/schema.ts'
import { kindsDeliveringNothing } from '../events/events.ts'
import { loadMoney, type MoneyStatement } from '../money/money.ts'
import { activeOn, outputEvaluations } from '../outputs/report.ts'
import { ReportQueryError } from '../reports/engagement-reports.ts'
import type { Services } from '../services.ts'
import { ensureFigures, loadStoredFigures } from './figure-store.ts'
import { projectEngagement, risksOf, type OutputStatusLite, type Release, type Risk } from './projection.ts'

// What the dashboards show, in two kinds:
//  - per-participant figures (engagement, its projection, risks, outputs) come from the engagement
//    engine and output evaluation (src/outputs/report.ts), which cost seconds per cohort at national
//    scale, so a job computes them per lead provider × cohort into `enrolment_figures`
//    (figure-store.ts) and pages read those; the page says when they were calculated;
//  - counts that must be current (participants by status, events needing registers, declarations
//    by state) are set-based SQL aggregates run on every request.

/** One lead provider's cohort, optionally one delivery partner's participants in it (codes). */
export type FigureUnit = { leadProvider: string; cohort: string; course?: string; deliveryPartner?: string; participantIds?: string[] }

export type EnrolmentFigure = {
  enrolmentId: string
  participantId: string
  fullName: string
  leadProvider: string
  cohort: string
  courseIdentifier: string
  deliveryPartner: string | null
  deliveryPartnerName: string | null
  deliveryPartnerId: string | null
  creditsEarned: number
  creditsAvailable: number
  eligibleForAssessment: boolean
  /** Credits earned / available (exact; thresholds compare this). */
  ratio: number
  percent: number
  /** Neither deferred nor withdrawn today. */
  active: boolean
  /** The 90% engagement deadline: the next assessment window's, else the completed output's review date. */
  deadline: string | null
  projectedPercent: number | null
  risks: Risk[]
  outputs: OutputStatusLite[]
  blocks: { block: number | string; creditsEarned: number; creditsAvailable: number; percent: number }[]
}

/** Each numbered block's credits on its go-live date (projection.ts, step 1). */
function releasesOf(design: Design, windows: { block: number; goesLiveOn: string }[]): Release[] {
  return design.blocks.flatMap((b) => {
    const w = windows.find((x) => x.block === b.block)
    return w && !b.provisional ? [{ on: w.goesLiveOn, credits: b.creditsAvailable }] : []
  })
}

/**
 * The figures of every enrolment in the unit as of the date (no cache). An unknown scope has none.
 * Blocks and reasons are kept for a page about named participants and with `keepReasons` (to store).
 */
export async function computeFigures(
  services: Services,
  unit: FigureUnit,
  asOf: string,
  options: { keepReasons?: boolean; db?: Db } = {},
): Promise<EnrolmentFigure[]> {
  // The evidence and the windows from `options.db` (the replica, for the job's sweep), else the primary.
  const db = options.db ?? services.db
  const { catalogue } = services
  let evaluated
  try {
    evaluated = await outputEvaluations(
      services,
      {
        leadProvider: unit.leadProvider,
        cohort: unit.cohort,
        course: unit.course,
        deliveryPartner: unit.deliveryPartner,
        participantIds: unit.participantIds,
        asOf,
      },
      db,
    )
  } catch (error) {
    if (error instanceof ReportQueryError) return []
    throw error
  }
  if (evaluated.length === 0) return []
  const courses = [...new Set(evaluated.map((e) => e.courseIdentifier))]
  const [windows, deadlines] = await Promise.all([
    Promise.all(courses.map(async (c) => [c, await services.blockWindows.forCohort(unit.leadProvider, c, unit.cohort)] as const)),
    db
      .selectFrom('assessment_windows as w')
      .innerJoin('organisations as lp', 'lp.id', 'w.lead_provider_id')
      .select(['w.course_identifier', sql<string>`min(w.engagement_deadline)::text`.as('deadline')])
      .where('lp.code', '=', unit.leadProvider)
      .where('w.cohort', '=', unit.cohort)
      .where('w.engagement_deadline', '>=', asOf)
      .groupBy('w.course_identifier')
      .execute(),
  ])
  const windowsOf = new Map(windows)
  const deadlineOf = new Map(deadlines.map((d) => [d.course_identifier, d.deadline]))
  const startsOn = catalogue.cohortStartsOn(unit.leadProvider, unit.cohort)
  const releases = new Map<string, Release[]>()
  // Figures kept for a whole cohort stay small (tens of thousands are cached): the blocks and each
  // output's reasons are only kept for a page about named participants.
  const detailed = unit.participantIds !== undefined
  return evaluated.map((e) => {
    let r = releases.get(e.courseIdentifier)
    if (!r) releases.set(e.courseIdentifier, (r = releasesOf(e.design, windowsOf.get(e.courseIdentifier) ?? [])))
    const outputs: OutputStatusLite[] = e.outputs.map((o) => ({
      declarationType: o.declaration_type,
      reviewDate: o.review_date,
      status: o.status,
      reasons: o.reasons,
      evidence: o.evidence,
      evidenceOn: o.evidence_on,
    }))
    const completedReview = outputs.find((o) => o.declarationType === 'completed')?.reviewDate ?? null
    const deadline = deadlineOf.get(e.courseIdentifier) ?? completedReview
    const input = { earned: e.engagement.earned, creditsAvailable: e.engagement.creditsAvailable, releases: r, startsOn, asOf }
    const active = activeOn(e, asOf)
    const risks = risksOf(input, outputs, deadline, active)
    if (!detailed && !options.keepReasons) for (const o of outputs) o.reasons = []
    const projection = deadline && deadline > asOf ? projectEngagement(input, deadline) : null
    return {
      enrolmentId: e.enrolmentId,
      participantId: e.participantId,
      fullName: e.fullName,
      leadProvider: unit.leadProvider,
      cohort: unit.cohort,
      courseIdentifier: e.courseIdentifier,
      deliveryPartner: e.deliveryPartner,
      deliveryPartnerName: e.deliveryPartnerName,
      deliveryPartnerId: e.deliveryPartnerId,
      creditsEarned: e.engagement.creditsEarned,
      creditsAvailable: e.engagement.creditsAvailable,
      eligibleForAssessment: e.engagement.eligibleForAssessment,
      ratio: e.engagement.ratio,
      percent: e.engagement.percent,
      active,
      deadline,
      projectedPercent: projection ? Math.floor(projection.projectedRatio * 1000 + 1e-6) / 10 : null,
      risks,
      outputs,
      blocks: detailed || options.keepReasons ? e.engagement.blocks : [],
    }
  })
}

// --- The cache -----------------------------------------------------------------------------------

/** The dashboards' clock: the benchmark sets it to its data's date. */
export const dashboardClock = { now: () => new Date() }

/** How long computed figures are shown before a background refresh; 0 computes on every request (tests). */
export const dashboardCache = { ttlMs: 10 * 60_000 }

/** Whether pages read the stored figures for a date: today's, unless figures are computed on every request. */
export const usesStoredFigures = (asOf: string) => dashboardCache.ttlMs > 0 && asOf === londonDateOf(dashboardClock.now())

type Entry = { asOf: string; computedAt: Date; value: unknown; refreshing: boolean }
type Store = { entries: Map<string, Entry>; pending: Map<string, Promise<Entry>> }
const stores = new WeakMap<Services, Store>()

function storeOf(services: Services): Store {
  let store = stores.get(services)
  if (!store) stores.set(services, (store = { entries: new Map(), pending: new Map() }))
  return store
}

/** Forgets every cached figure (after a bulk change, and between benchmark phases). */
export function clearDashboardCache(services: Services): void {
  stores.delete(services)
  memos.delete(services)
  loadedFigures.delete(services)
}

/**
 * The value for a key as of a date: fresh from the cache; stale (older than the TTL) from the cache
 * while it is recomputed in the background; computed now when missing or for another day.
 */
export async function cached<T>(
  services: Services,
  key: string,
  asOf: string,
  compute: () => Promise<T>,
): Promise<{ value: T; computedAt: Date }> {
  if (dashboardCache.ttlMs <= 0) return { value: await compute(), computedAt: new Date() }
  const store = storeOf(services)
  const run = () => {
    let p = store.pending.get(key)
    if (!p) {
      p = compute()
        .then((value) => {
          const entry: Entry = { asOf, computedAt: new Date(), value, refreshing: false }
          store.entries.set(key, entry)
          return entry
        })
        .finally(() => store.pending.delete(key))
      store.pending.set(key, p)
    }
    return p
  }
  const entry = store.entries.get(key)
  if (entry && entry.asOf === asOf) {
    if (Date.now() - entry.computedAt.getTime() > dashboardCache.ttlMs && !entry.refreshing) {
      entry.refreshing = true
      run().catch((error: unknown) => {
        entry.refreshing = false
        services.logger.error({ err: error, key }, 'dashboard figures refresh failed')
      })
    }
    return { value: entry.value as T, computedAt: entry.computedAt }
  }
  const fresh = await run()
  return { value: fresh.value as T, computedAt: fresh.computedAt }
}

/** `version` changes whenever any unit's figures are recomputed (to memoise what is derived from them). */
export type CachedFigures = { figures: EnrolmentFigure[]; computedAt: Date | null; version: string }

/**
 * The figures of several units as of the date: the stored ones (figure-store.ts), read once per
 * computation into this process; computed on every request when the cache is off (tests). The
 * oldest calculation time is reported.
 */
export async function figuresOf(services: Services, units: FigureUnit[], asOf: string): Promise<CachedFigures> {
  const parts: EnrolmentFigure[][] = []
  let computedAt: Date | null = null
  const versions: string[] = []
  const codes = [...new Set(units.flatMap((u) => [u.leadProvider, u.deliveryPartner ?? []].flat()))]
  const ids = new Map(
    codes.length
      ? (await services.db.selectFrom('organisations').select(['id', 'code']).where('code', 'in', codes).execute()).map((o) => [
          o.code,
          o.id,
        ])
      : [],
  )
  for (const unit of units) {
    const leadProviderId = ids.get(unit.leadProvider)
    const deliveryPartnerId = unit.deliveryPartner ? ids.get(unit.deliveryPartner) : undefined
    if (!leadProviderId || (unit.deliveryPartner && !deliveryPartnerId)) continue
    const key = `figures/${unit.leadProvider}/${unit.cohort}/${unit.deliveryPartner ?? '*'}`
    if (dashboardCache.ttlMs <= 0) {
      parts.push(await computeFigures(services, unit, asOf))
      computedAt = new Date()
      versions.push(`${key}@${computedAt.getTime()}`)
      continue
    }
    const stored = { leadProviderId, leadProvider: unit.leadProvider, cohort: unit.cohort }
    const run = await ensureFigures(services, stored, asOf)
    const version = `${key}@${run.asOf}/${run.computedAt.getTime()}`
    const loaded = loadedOf(services)
    const load = (): Loaded => {
      const figures = loadStoredFigures(services.db, { ...stored, deliveryPartnerId })
      const next: Loaded = { version, asOf: run.asOf, computedAt: run.computedAt, figures, ready: false }
      figures.then(
        () => {
          next.ready = true
          loaded.set(key, next)
        },
        () => {
          if (loaded.get(key) === next) loaded.delete(key)
        },
      )
      return next
    }
    let entry = loaded.get(key)
    if (!entry || entry.asOf !== asOf || (entry.version !== version && !entry.ready)) {
      // Nothing for today in this process yet: read them now.
      entry = load()
      loaded.set(key, entry)
    } else if (entry.version !== version && !entry.reloading) {
      // A newer calculation: read it in the background and show the one in hand meanwhile (the page
      // says when that was), so no request waits for tens of thousands of rows every ten minutes.
      entry.reloading = true
      const previous = entry
      load().figures.catch((error: unknown) => {
        previous.reloading = false
        services.logger.error({ err: error, key }, 'reading stored figures failed')
      })
    }
    parts.push(await entry.figures)
    versions.push(entry.version)
    if (!computedAt || entry.computedAt < computedAt) computedAt = entry.computedAt
  }
  // Joined only when something is derived from them (memoised): a provider's tens of thousands of
  // figures are not copied on every request.
  return {
    get figures() {
      return parts.flat()
    },
    computedAt,
    version: `${asOf}|${versions.join('|')}`,
  }
}

// The stored figures last read into this process, per unit (one version each: a new computation replaces
// it once read).
type Loaded = { version: string; asOf: string; computedAt: Date; figures: Promise<EnrolmentFigure[]>; ready: boolean; reloading?: boolean }
const loadedFigures = new WeakMap<Services, Map<string, Loaded>>()
function loadedOf(services: Services) {
  let m = loadedFigures.get(services)
  if (!m) loadedFigures.set(services, (m = new Map()))
  return m
}

const memos = new WeakMap<Services, Map<string, unknown>>()
/** What is derived from cached figures, kept while they stand (`key` includes their version). */
export function memo<T>(services: Services, key: string, compute: () => T): T {
  if (dashboardCache.ttlMs <= 0) return compute()
  let m = memos.get(services)
  if (!m) memos.set(services, (m = new Map()))
  if (m.has(key)) return m.get(key) as T
  const value = compute()
  if (m.size >= 500) m.delete(m.keys().next().value!)
  m.set(key, value)
  return value
}

/** Money for a lead provider (optionally one cohort or course), from the cache: it evaluates outputs too. */
export async function moneyOf(services: Services, query: { leadProvider: string; today: string }) {
  const key = `money/${query.leadProvider}`
  return cached<MoneyStatement>(services, key, query.today, () => loadMoney(services, query, services.db, { storedFigures: true }))
}

// --- Live counts (SQL aggregates) ----------------------------------------------------------------

export type CountFilter = {
  leadProviderIds: string[]
  deliveryPartnerId?: string
  cohort?: string
  course?: string
}

export type StatusCount = { leadProviderId: string; cohort: string; courseIdentifier: string; status: EnrolmentStatus; n: number }

/** Participants (enrolments) by status, per lead provider, cohort and course. */
export async function statusCounts(db: Db | Trx, f: CountFilter): Promise<StatusCount[]> {
  if (f.leadProviderIds.length === 0) return []
  let q = db
    .selectFrom('enrolments as e')
    .select([
      'e.lead_provider_id as leadProviderId',
      'e.cohort',
      'e.course_identifier as courseIdentifier',
      'e.status',
      sql<number>`count(*)::int`.as('n'),
    ])
    .where('e.lead_provider_id', 'in', f.leadProviderIds)
  if (f.deliveryPartnerId) q = q.where('e.delivery_partner_id', '=', f.deliveryPartnerId)
  if (f.cohort) q = q.where('e.cohort', '=', f.cohort)
  if (f.course) q = q.where('e.course_identifier', '=', f.course)
  return q.groupBy(['e.lead_provider_id', 'e.cohort', 'e.course_identifier', 'e.status']).execute()
}

export type EventNeedingRegister = {
  id: string
  title: string | null
  kind: string
  activityCode: string | null
  courseIdentifier: string
  cohort: string
  startsAt: Date
  deliveryPartnerName: string | null
}

/**
 * Past events (ended before `now`, not cancelled, of a kind that delivers an activity) with no
 * register: not taken on the register page and no entry imported or recorded. The newest first.
 */
export async function eventsNeedingRegisters(
  db: Db | Trx,
  f: CountFilter,
  now: Date,
  limit = 50,
): Promise<{ total: number; events: EventNeedingRegister[] }> {
  if (f.leadProviderIds.length === 0) return { total: 0, events: [] }
  let q = db
    .selectFrom('events as ev')
    .where('ev.lead_provider_id', 'in', f.leadProviderIds)
    .where('ev.status', '=', 'scheduled')
    .where('ev.register_taken_at', 'is', null)
    .where('ev.register_entered_at', 'is', null)
    .where('ev.ends_at', '<', now)
    .where('ev.kind', 'not in', [...kindsDeliveringNothing])
  if (f.deliveryPartnerId) q = q.where('ev.delivery_partner_id', '=', f.deliveryPartnerId)
  if (f.cohort) q = q.where('ev.cohort', '=', f.cohort)
  if (f.course) q = q.where('ev.course_identifier', '=', f.course)
  const rows = await q
    .leftJoin('organisations as dp', 'dp.id', 'ev.delivery_partner_id')
    .select([
      'ev.id',
      'ev.title',
      'ev.kind',
      'ev.activity_code as activityCode',
      'ev.course_identifier as courseIdentifier',
      'ev.cohort',
      'ev.starts_at as startsAt',
      'dp.name as deliveryPartnerName',
      sql<number>`count(*) over ()::int`.as('total'),
    ])
    .orderBy('ev.starts_at', 'desc')
    .limit(limit)
    .execute()
  return {
    total: rows[0]?.total ?? 0,
    events: rows.map(({ total: _total, ...r }) => ({ ...r, startsAt: new Date(r.startsAt) })),
  }
}

export type DeclarationCount = { deliveryPartnerId: string | null; declarationType: string; state: DeclarationState; n: number }

/** Declarations by partner, type and state. */
export async function declarationCounts(db: Db | Trx, f: CountFilter): Promise<DeclarationCount[]> {
  if (f.leadProviderIds.length === 0) return []
  let q = db
    .selectFrom('declarations as d')
    .select([
      'd.delivery_partner_id as deliveryPartnerId',
      'd.declaration_type as declarationType',
      'd.state',
      sql<number>`count(*)::int`.as('n'),
    ])
    .where('d.lead_provider_id', 'in', f.leadProviderIds)
  if (f.deliveryPartnerId) q = q.where('d.delivery_partner_id', '=', f.deliveryPartnerId)
  if (f.cohort) q = q.where('d.cohort', '=', f.cohort)
  if (f.course) q = q.where('d.course_identifier', '=', f.course)
  return q.groupBy(['d.delivery_partner_id', 'd.declaration_type', 'd.state']).execute()
}
