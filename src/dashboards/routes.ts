import type { FastifyInstance, FastifyRequest } from 'fastify'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { declarationStates, enrolmentStatuses } from '../db/schema.ts'
import { forbidden } from '../errors.ts'
import { outputLabels } from '../escalations/queue.ts'
import { formatPence } from '../money/pence.ts'
import { paidByMonth, summaryByPartner } from '../money/statements.ts'
import { statusLabels } from '../participants/lifecycle.ts'
import { hasRole, type Principal, type RoleAssignment } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { aggregate } from './aggregate.ts'
import {
  dashboardClock,
  declarationCounts,
  eventsNeedingRegisters,
  figuresOf,
  memo,
  moneyOf,
  statusCounts,
  type CountFilter,
  type FigureUnit,
  type StatusCount,
} from './figures.ts'
import { participantPage } from './participant.ts'

// Issue 9, items 5 and 6: the delivery partner's and the lead provider's dashboards, and a page per
// participant. Filters are a GET form (course, cohort; the lead provider also by partner). Everything
// works without JavaScript: the engagement chart is server-rendered SVG with a table of the same figures.

type User = Principal & { kind: 'user' }
type Area = 'delivery-partner' | 'lead-provider'

function userWith(req: FastifyRequest, role: 'delivery-partner-lead' | 'lead-provider-admin'): { user: User; orgs: RoleAssignment[] } {
  const p = req.principal
  if (!p || p.kind !== 'user' || !hasRole(p, role)) throw forbidden()
  return { user: p, orgs: p.roles.filter((r) => r.role === role) }
}

const courseName = (c: string) => findCourse(c)?.name ?? c
const byCourseName = (a: string, b: string) => courseName(a).localeCompare(courseName(b))

type Query = { cohort?: string; course?: string; partner?: string; organisation?: string }

/** Participants by status, per course and cohort, as table rows. */
function statusTable(statuses: StatusCount[]) {
  const byProgramme = new Map<string, { course: string; cohort: string; counts: Record<string, number>; total: number }>()
  for (const s of statuses) {
    const key = `${s.cohort}/${s.courseIdentifier}`
    const row = byProgramme.get(key) ?? { course: courseName(s.courseIdentifier), cohort: s.cohort, counts: {}, total: 0 }
    row.counts[s.status] = (row.counts[s.status] ?? 0) + s.n
    row.total += s.n
    byProgramme.set(key, row)
  }
  return {
    statusRows: [...byProgramme.values()].sort((a, b) => b.cohort.localeCompare(a.cohort) || a.course.localeCompare(b.course)),
    statusHead: enrolmentStatuses.map((s) => statusLabels[s]),
    statuses: enrolmentStatuses,
  }
}

/** The cohorts a lead provider runs any of its courses in (the catalogue), newest first. */
function cohortsOf(services: Services, leadProvider: string): string[] {
  const set = new Set(services.catalogue.coursesOf(leadProvider).flatMap((c) => services.catalogue.cohortsFor(leadProvider, c)))
  return [...set].sort().reverse()
}

const option = (value: string, text: string, selected: string | undefined) => ({ value, text, selected: value === (selected ?? '') })

export function registerDashboardRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  // ── Delivery partner ─────────────────────────────────────────────────────────────────────────

  app.get<{ Querystring: Query }>('/delivery-partner/dashboard', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { orgs } = userWith(req, 'delivery-partner-lead')
    const dp = orgs.find((o) => o.organisationCode === req.query.organisation) ?? orgs[0]!
    const lps = dp.leadProviderIds.length
      ? await db.selectFrom('organisations').select(['id', 'code', 'name']).where('id', 'in', dp.leadProviderIds).orderBy('name').execute()
      : []
    const allCohorts = [...new Set(lps.flatMap((lp) => cohortsOf(services, lp.code)))].sort().reverse()
    const allCourses = [...new Set(lps.flatMap((lp) => services.catalogue.coursesOf(lp.code)))].sort(byCourseName)
    const cohort = allCohorts.includes(req.query.cohort ?? '') ? req.query.cohort : undefined
    const course = allCourses.includes(req.query.course ?? '') ? req.query.course : undefined
    // The partner's own figures per lead provider and cohort: a first visit computes only its participants.
    const units: FigureUnit[] = lps.flatMap((lp) =>
      cohortsOf(services, lp.code)
        .filter((c) => !cohort || c === cohort)
        .map((c) => ({ leadProvider: lp.code, cohort: c, deliveryPartner: dp.organisationCode })),
    )
    const now = dashboardClock.now()
    const today = londonDateOf(now)
    const filter: CountFilter = { leadProviderIds: lps.map((l) => l.id), deliveryPartnerId: dp.organisationId, cohort, course }
    const [figures, statuses, events] = await Promise.all([
      figuresOf(services, units, today),
      statusCounts(db, filter),
      eventsNeedingRegisters(db, filter, now),
    ])
    const summary = memo(services, `dp/${dp.organisationId}/${course ?? '*'}/${figures.version}`, () =>
      aggregate(figures.figures, { course, today, leadProvider: false }),
    )
    return reply.render('dashboards/views/dashboard.njk', {
      title: 'Dashboard',
      area: 'delivery-partner',
      caption: dp.organisationName,
      organisations: orgs.length > 1 ? orgs.map((o) => option(o.organisationCode, o.organisationName, dp.organisationCode)) : null,
      cohorts: [option('', 'All cohorts', cohort), ...allCohorts.map((c) => option(c, c, cohort))],
      courses: [option('', 'All courses', course), ...allCourses.map((c) => option(c, courseName(c), course))],
      today,
      computedAt: figures.computedAt,
      events,
      ...statusTable(statuses),
      ...summary,
    })
  })

  // ── Lead provider ─────────────────────────────────────────────────────────────────────────────

  app.get<{ Querystring: Query }>('/lead-provider/dashboard', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { orgs } = userWith(req, 'lead-provider-admin')
    const lp = orgs.find((o) => o.organisationCode === req.query.organisation) ?? orgs[0]!
    const partners = await db
      .selectFrom('organisations as o')
      .innerJoin('delivery_partnerships as p', 'p.delivery_partner_id', 'o.id')
      .select(['o.id', 'o.code', 'o.name'])
      .where('p.lead_provider_id', '=', lp.organisationId)
      .orderBy('o.name')
      .execute()
    const allCohorts = cohortsOf(services, lp.organisationCode)
    const allCourses = services.catalogue.coursesOf(lp.organisationCode).sort(byCourseName)
    const cohort = allCohorts.includes(req.query.cohort ?? '') ? req.query.cohort : undefined
    const course = allCourses.includes(req.query.course ?? '') ? req.query.course : undefined
    const partner = partners.find((p) => p.code === req.query.partner)
    // Whole cohorts, whatever the partner filter: one set of figures serves every view of the provider.
    const units: FigureUnit[] = allCohorts
      .filter((c) => !cohort || c === cohort)
      .map((c) => ({ leadProvider: lp.organisationCode, cohort: c }))
    const now = dashboardClock.now()
    const today = londonDateOf(now)
    const filter: CountFilter = { leadProviderIds: [lp.organisationId], deliveryPartnerId: partner?.id, cohort, course }
    const [figures, statuses, events, declarations, money] = await Promise.all([
      figuresOf(services, units, today),
      statusCounts(db, filter),
      eventsNeedingRegisters(db, filter, now),
      declarationCounts(db, filter),
      moneyOf(services, { leadProvider: lp.organisationCode, today }),
    ])
    const summary = memo(services, `lp/${lp.organisationId}/${course ?? '*'}/${partner?.code ?? '*'}/${figures.version}`, () =>
      aggregate(figures.figures, { course, partner: partner?.code, today, leadProvider: true }),
    )

    // Declarations by state (rows) and output (columns).
    const types = ['started', 'retained-1', 'retained-2', 'completed']
    const declarationRows = declarationStates
      .map((state) => {
        const byType = types.map((t) =>
          declarations.filter((d) => d.state === state && d.declarationType === t).reduce((n, d) => n + d.n, 0),
        )
        return { state, byType, total: byType.reduce((a, b) => a + b, 0) }
      })
      .filter((r) => r.total > 0)

    // Money: the provider's statement (src/money) for the lines in the selection, per partner and in total.
    const m = money.value
    const shown = (l: { cohort: string; courseIdentifier: string; deliveryPartner: string | null }) =>
      (!cohort || l.cohort === cohort) && (!course || l.courseIdentifier === course) && (!partner || l.deliveryPartner === partner.code)
    // Kept while the statement stands: filtering a provider's every line costs more than the page's budget.
    const moneyKey = `lp-money/${lp.organisationId}/${cohort ?? '*'}/${course ?? '*'}/${partner?.code ?? '*'}/${money.computedAt.getTime()}`
    const moneySummary = memo(services, moneyKey, () =>
      summaryByPartner(
        m.invoiceNow.filter((r) => shown(r.line)),
        m.expected.filter((r) => shown(r.line)),
        paidByMonth(m.lines.filter(shown)),
      ),
    )
    const sum = (field: 'invoiceNow' | 'expected' | 'paid') => moneySummary.reduce((n, s) => n + s[field].pence, 0)
    const moneyOfPartner = new Map(moneySummary.map((s) => [s.deliveryPartner ?? '', s]))

    return reply.render('dashboards/views/dashboard.njk', {
      title: 'Dashboard',
      area: 'lead-provider',
      caption: lp.organisationName,
      organisations: orgs.length > 1 ? orgs.map((o) => option(o.organisationCode, o.organisationName, lp.organisationCode)) : null,
      cohorts: [option('', 'All cohorts', cohort), ...allCohorts.map((c) => option(c, c, cohort))],
      courses: [option('', 'All courses', course), ...allCourses.map((c) => option(c, courseName(c), course))],
      partners: [option('', 'All delivery partners', partner?.code), ...partners.map((p) => option(p.code, p.name, partner?.code))],
      today,
      computedAt: figures.computedAt,
      events,
      ...statusTable(statuses),
      ...summary,
      comparison: summary.comparison.map((c) => {
        const own = moneyOfPartner.get(c.code ?? '')
        return { ...c, expected: formatPence(own?.expected.pence ?? 0), paid: formatPence(own?.paid.pence ?? 0) }
      }),
      declarationHead: types.map((t) => outputLabels[t] ?? t),
      declarationRows,
      money: {
        invoiceNow: formatPence(sum('invoiceNow')),
        expected: formatPence(sum('expected')),
        paid: formatPence(sum('paid')),
        priceMissing: moneySummary.some((s) => s.expected.priceMissing || s.paid.priceMissing || s.invoiceNow.priceMissing),
      },
    })
  })

  // ── A participant ─────────────────────────────────────────────────────────────────────────────

  for (const area of ['delivery-partner', 'lead-provider'] as const satisfies Area[]) {
    app.get<{ Params: { id: string } }>(`/${area}/participants/:id`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const { user } = userWith(req, area === 'delivery-partner' ? 'delivery-partner-lead' : 'lead-provider-admin')
      const view = await participantPage(services, user, area, req.params.id, dashboardClock.now())
      return reply.render('dashboards/views/participant.njk', view)
    })
  }
}
