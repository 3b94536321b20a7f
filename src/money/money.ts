import { sql } from 'kysely'
import type { DeclarationType } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Db, Trx } from '../db/database.ts'
import { findOrganisation } from '../organisations/organisations.ts'
import { activeOn, outputEvaluations } from '../outputs/report.ts'
import { ReportQueryError } from '../reports/engagement-reports.ts'
import type { Services } from '../services.ts'
import { figuresOf, usesStoredFigures } from '../dashboards/figures.ts'
import { currentPrices, priceKey } from './prices.ts'
import {
  canInvoiceNow,
  expectedByMonth,
  nextTwelveMonths,
  isPaid,
  paidByMonth,
  statementLines,
  summaryByPartner,
  type EnrolmentOutlook,
  type ExpectedRow,
  type InvoiceRow,
  type MoneyDeclaration,
  type PaidRow,
  type PartnerSummary,
  type StatementLine,
} from './statements.ts'

// Loads what statements.ts needs for one lead provider (and one delivery partner, for a partner's
// own figures) and runs it. The whole programme is loaded whatever the cohort and course filters,
// because a clawback is deducted on the partner's next invoice, which may be another cohort's: the
// filters then choose which lines are shown, so a line's figures never depend on the filter.

export type MoneyQuery = {
  /** Lead provider code. */
  leadProvider: string
  /** Delivery partner code: only this partner's figures. */
  deliveryPartner?: string
  cohort?: string
  course?: string
  /** London date: what can be invoiced by today, what is expected after it. */
  today: string
}

export type MoneyStatement = {
  today: string
  /** The twelve months of the expected table (YYYY-MM). */
  months: string[]
  lines: StatementLine[]
  invoiceNow: InvoiceRow[]
  expected: ExpectedRow[]
  paid: PaidRow[]
  summary: PartnerSummary[]
  /** Delivery partner names by code. */
  partnerNames: Map<string, string>
  /** When the stored figures behind `expected` were calculated (the oldest), null when evaluated now. */
  outlooksCalculatedAt: Date | null
  /** Courses and cohorts shown that have declarations or participants but no price yet. */
  missingPrices: { cohort: string; courseIdentifier: string }[]
}

export async function loadMoney(
  services: Services,
  query: MoneyQuery,
  db: Db | Trx = services.db,
  options: { storedFigures?: boolean } = {},
): Promise<MoneyStatement> {
  const { catalogue } = services
  const lp = await findOrganisation(db, 'lead-provider', query.leadProvider)
  if (!lp) throw new ReportQueryError('lead_provider', `unknown lead provider "${query.leadProvider}"`)
  const dp = query.deliveryPartner ? await findOrganisation(db, 'delivery-partner', query.deliveryPartner) : undefined
  if (query.deliveryPartner && !dp) throw new ReportQueryError('delivery_partner', `unknown delivery partner "${query.deliveryPartner}"`)

  let declarationQuery = db
    .selectFrom('declarations as d')
    .innerJoin('participants as p', 'p.id', 'd.participant_id')
    .leftJoin('organisations as dp', 'dp.id', 'd.delivery_partner_id')
    .leftJoin('clawbacks as c', 'c.declaration_id', 'd.id')
    .select([
      'd.id',
      'd.enrolment_id',
      'd.participant_id',
      'p.full_name',
      'dp.code as dp_code',
      'dp.name as dp_name',
      'd.course_identifier',
      'd.cohort',
      'd.declaration_type',
      sql<string>`d.declaration_date::text`.as('declaration_date'),
      'd.state',
      'd.state_changed_at',
      sql<string | null>`c.raised_on::text`.as('raised_on'),
      sql<string | null>`c.clawed_back_on::text`.as('clawed_back_on'),
      // When DfE's state became paid: the latest change to paid in the history.
      (eb) =>
        eb
          .selectFrom('declaration_state_changes as s')
          .select((s) => s.fn.max('s.changed_at').as('paid_at'))
          .whereRef('s.declaration_id', '=', 'd.id')
          .where('s.to_state', '=', 'paid')
          .as('paid_at'),
    ])
    .where('d.lead_provider_id', '=', lp.id)
  if (dp) declarationQuery = declarationQuery.where('d.delivery_partner_id', '=', dp.id)

  let enrolmentQuery = db
    .selectFrom('enrolments as e')
    .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .select(['dp.code as dp_code', 'dp.name as dp_name', 'e.cohort', 'e.course_identifier'])
    .distinct()
    .where('e.lead_provider_id', '=', lp.id)
  if (dp) enrolmentQuery = enrolmentQuery.where('e.delivery_partner_id', '=', dp.id)

  const [declarationRows, programmeRows, prices] = await Promise.all([
    declarationQuery.orderBy('p.full_name').orderBy('d.participant_id').execute(),
    enrolmentQuery.execute(),
    currentPrices(db, lp.id),
  ])

  const partnerNames = new Map<string, string>()
  for (const r of [...declarationRows, ...programmeRows]) if (r.dp_code && r.dp_name) partnerNames.set(r.dp_code, r.dp_name)

  const declarations: MoneyDeclaration[] = declarationRows.map((r) => {
    const paid = isPaid(r.state)
    // A paid declaration without a recorded change to paid: the state's own timestamp is the best there is.
    const paidAt = r.paid_at ?? (r.state === 'paid' ? r.state_changed_at : null)
    return {
      id: r.id,
      enrolmentId: r.enrolment_id,
      participantId: r.participant_id,
      fullName: r.full_name,
      deliveryPartner: r.dp_code,
      courseIdentifier: r.course_identifier,
      cohort: r.cohort,
      declarationType: r.declaration_type as DeclarationType,
      declarationDate: r.declaration_date,
      state: r.state,
      paidOn: paid && paidAt ? londonDateOf(new Date(paidAt)) : null,
      clawback: r.raised_on ? { raisedOn: r.raised_on, clawedBackOn: r.clawed_back_on } : null,
    }
  })

  const priceOf = new Map(prices.map((p) => [priceKey(p.cohort, p.courseIdentifier), p.pricePence]))
  const lines = statementLines({
    declarations,
    programmes: programmeRows.map((r) => ({ deliveryPartner: r.dp_code, cohort: r.cohort, courseIdentifier: r.course_identifier })),
    outputsOf: (cohort, course) => catalogue.cohortOutputs(query.leadProvider, cohort, course)?.outputs,
    priceOf: (cohort, course) => priceOf.get(priceKey(cohort, course)) ?? null,
  })
  const shown = (l: { cohort: string; courseIdentifier: string }) =>
    (!query.cohort || l.cohort === query.cohort) && (!query.course || l.courseIdentifier === query.course)
  const linesShown = lines.filter(shown)

  // Projections are needed only where an invoice date falls in the next twelve months.
  const months = nextTwelveMonths(query.today)
  const projected = new Set(
    linesShown
      .filter((l) => l.invoiceDate !== null && l.invoiceDate > query.today && months.includes(l.invoiceDate.slice(0, 7)))
      .map((l) => l.cohort),
  )
  const outlooks: EnrolmentOutlook[] = []
  let outlooksCalculatedAt: Date | null = null
  // Today's outlook from the stored figures (src/dashboards/figure-store.ts) when asked: the same
  // evaluation, made by the job; another date's is evaluated now.
  const stored = options.storedFigures === true && usesStoredFigures(query.today)
  for (const cohort of [...projected].sort()) {
    if (stored) {
      const unit = { leadProvider: query.leadProvider, cohort, deliveryPartner: query.deliveryPartner }
      const got = await figuresOf(services, [unit], query.today)
      if (got.computedAt && (!outlooksCalculatedAt || got.computedAt < outlooksCalculatedAt)) outlooksCalculatedAt = got.computedAt
      for (const f of got.figures) {
        if (query.course && f.courseIdentifier !== query.course) continue
        outlooks.push({
          enrolmentId: f.enrolmentId,
          participantId: f.participantId,
          fullName: f.fullName,
          deliveryPartner: f.deliveryPartner,
          cohort,
          courseIdentifier: f.courseIdentifier,
          active: f.active,
          // The stored outputs carry more than the outlook needs; shared, not copied (they are not changed).
          outputs: f.outputs as EnrolmentOutlook['outputs'],
        })
      }
      continue
    }
    try {
      const evaluated = await outputEvaluations(
        services,
        { leadProvider: query.leadProvider, cohort, course: query.course, deliveryPartner: query.deliveryPartner, asOf: query.today },
        db,
      )
      for (const e of evaluated) {
        outlooks.push({
          enrolmentId: e.enrolmentId,
          participantId: e.participantId,
          fullName: e.fullName,
          deliveryPartner: e.deliveryPartner,
          cohort,
          courseIdentifier: e.courseIdentifier,
          active: activeOn(e, query.today),
          outputs: e.outputs.map((o) => ({ declarationType: o.declaration_type, status: o.status })),
        })
      }
    } catch (error) {
      // A cohort the provider does not run the chosen course in has nobody to project.
      if (!(error instanceof ReportQueryError)) throw error
    }
  }

  const invoiceNow = canInvoiceNow(linesShown, query.today)
  const expected = expectedByMonth(linesShown, outlooks, query.today)
  const paid = paidByMonth(linesShown)
  const missing = new Map<string, { cohort: string; courseIdentifier: string }>()
  for (const l of linesShown) {
    if (l.pricePence === null)
      missing.set(priceKey(l.cohort, l.courseIdentifier), { cohort: l.cohort, courseIdentifier: l.courseIdentifier })
  }
  return {
    today: query.today,
    months,
    lines: linesShown,
    invoiceNow,
    expected,
    paid,
    summary: summaryByPartner(invoiceNow, expected, paid),
    outlooksCalculatedAt,
    partnerNames,
    missingPrices: [...missing.values()].sort(
      (a, b) => b.cohort.localeCompare(a.cohort) || a.courseIdentifier.localeCompare(b.courseIdentifier),
    ),
  }
}
