import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findCourse } from '../catalogue/courses.ts'
import type { Design } from '../catalogue/load.ts'
import { londonDateOf } from '../dates/london.ts'
import { forbidden } from '../errors.ts'
import type { FieldError } from '../errors.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { areas, createScopeResolver, type Area } from '../web/report-scope.ts'
import {
  declarationRow,
  engagementRow,
  engagements,
  ReportQueryError,
  storedEngagements,
  type EnrolmentEngagement,
} from './engagement-reports.ts'
import { dashboardClock, memo, usesStoredFigures } from '../dashboards/figures.ts'
import { declarationTable, engagementTable, toCsv, toXlsx, type Table } from './formats.ts'

// The Engagement and Declaration reports as pages: lead-provider admins see their whole programme,
// filterable by delivery partner, course and cohort; delivery-partner leads see their own
// participants only (the server fixes the delivery partner; another one's is refused). A GET form,
// so every view is a link: sortable on the server (header links) and in the browser (MoJ sortable
// table), and downloadable as CSV or XLSX with the same filters. Names are shown, never logged.
// The page shows the rows a page at a time (`page=n`, in the chosen sort; the whole cohort is still
// computed, since some figures need it); the downloads always hold every row. With more than one
// page the table is sorted on the server only: sorting in the browser would sort just that page.

type ReportKind = 'engagement' | 'declaration'
type Order = 'ascending' | 'descending'

const reportNames: Record<ReportKind, string> = { engagement: 'Engagement', declaration: 'Declaration' }
const outputNames: Record<string, string> = {
  started: 'started',
  'retained-1': 'retained 1',
  'retained-2': 'retained 2',
  completed: 'completed',
}

const longDate = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' })
const formatDate = (iso: string) => longDate.format(new Date(`${iso}T12:00:00Z`))
const collator = new Intl.Collator('en-GB', { sensitivity: 'base', numeric: true })
const formatCount = (n: number) => n.toLocaleString('en-GB')

/** Rows on one page of the report: the downloads have them all. */
export const reportPageSize = 100

/** `page=n` from a link: a whole number from 1 (however large), or else page 1. */
function pageOf(value: string): number {
  return /^\d+$/.test(value) && Number(value) >= 1 ? Number(value) : 1
}

/**
 * GOV.UK pagination: previous and next, the first and last pages, and the current page with its
 * neighbours; an ellipsis for the pages left out.
 */
function paginationOf(page: number, pages: number, href: (n: number) => string) {
  if (pages <= 1) return null
  const shown = [...new Set([1, page - 1, page, page + 1, pages])].filter((n) => n >= 1 && n <= pages).sort((a, b) => a - b)
  const items: ({ number: number; href: string; current: boolean } | { ellipsis: true })[] = []
  let last = 0
  for (const n of shown) {
    if (n - last === 2) items.push({ number: n - 1, href: href(n - 1), current: false })
    else if (n - last > 2) items.push({ ellipsis: true })
    items.push({ number: n, href: href(n), current: n === page })
    last = n
  }
  return {
    previous: page > 1 ? { href: href(page - 1) } : undefined,
    next: page < pages ? { href: href(page + 1) } : undefined,
    items,
  }
}

const isoPattern = /^\d{4}-\d{2}-\d{2}$/
function isRealIsoDate(value: string): boolean {
  if (!isoPattern.test(value)) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value
}

type DateParts = { day: string; month: string; year: string }
type DateField = { iso: string | null; parts: DateParts; error: FieldError | null }

/**
 * A date from the GOV.UK date input (`name-day`, `name-month`, `name-year`), or from one ISO value
 * (`YYYY-MM-DD`) as the page's own links carry it. Neither given: iso null and no error.
 */
function readDate(query: (name: string) => string, name: string, label: string, isoParam?: string): DateField {
  const parts = { day: query(`${name}-day`), month: query(`${name}-month`), year: query(`${name}-year`) }
  const field = `${name}-day`
  if (parts.day || parts.month || parts.year) {
    const missing = (['day', 'month', 'year'] as const).filter((p) => !parts[p])
    if (missing.length) {
      return { iso: null, parts, error: { field: `${name}-${missing[0]}`, message: `${label} must include a ${missing.join(' and a ')}` } }
    }
    const valid = /^\d{1,2}$/.test(parts.day) && /^\d{1,2}$/.test(parts.month) && /^\d{4}$/.test(parts.year)
    const iso = valid ? `${parts.year}-${parts.month.padStart(2, '0')}-${parts.day.padStart(2, '0')}` : ''
    if (!isRealIsoDate(iso)) return { iso: null, parts, error: { field, message: `${label} must be a real date` } }
    return { iso, parts, error: null }
  }
  const iso = isoParam ? query(isoParam) : ''
  if (!iso) return { iso: null, parts, error: null }
  if (!isRealIsoDate(iso)) return { iso: null, parts, error: { field, message: `${label} must be a real date` } }
  return { iso, parts: partsOf(iso), error: null }
}

function partsOf(iso: string): DateParts {
  const [year, month, day] = iso.split('-') as [string, string, string]
  return { day: String(Number(day)), month: String(Number(month)), year }
}

/** Columns of the results, each sortable on the server by `sort=key`. */
type Column = { key: string; text: string; numeric: boolean; value: (e: Result) => string | number }
type Result = EnrolmentEngagement & { courseName: string; declaration: { inPeriod: number; cumulative: number } | null }

function blockLabel(block: number | string, style: Design['style']): string {
  if (typeof block === 'string') return block
  return style === 'items' ? `Course ${block}` : `Block ${block}`
}

const formatPercent = (n: number) => `${n}%`

function columnsFor(report: ReportKind, results: Result[]): Column[] {
  const common: Column[] = [
    { key: 'name', text: 'Participant', numeric: false, value: (e) => e.fullName },
    { key: 'course', text: 'Course', numeric: false, value: (e) => e.courseName },
    { key: 'delivery_partner', text: 'Delivery partner', numeric: false, value: (e) => e.deliveryPartnerName ?? '' },
  ]
  if (report === 'declaration') {
    return [
      ...common,
      { key: 'in_period', text: 'Credits in period', numeric: true, value: (e) => e.declaration!.inPeriod },
      { key: 'cumulative', text: 'Cumulative credits', numeric: true, value: (e) => e.declaration!.cumulative },
    ]
  }
  const blocks: { block: number | string; style: Design['style'] }[] = []
  for (const e of results) {
    for (const b of e.engagement.blocks) {
      if (!blocks.some((x) => x.block === b.block)) blocks.push({ block: b.block, style: e.design.style })
    }
  }
  return [
    ...common,
    { key: 'credits', text: 'Credits', numeric: true, value: (e) => e.engagement.creditsEarned },
    { key: 'percent', text: 'Engagement', numeric: true, value: (e) => e.engagement.ratio },
    { key: 'eligible', text: 'Eligible for assessment', numeric: false, value: (e) => (e.engagement.eligibleForAssessment ? 1 : 0) },
    ...blocks.map(({ block, style }) => ({
      key: `block_${block}`,
      text: `${blockLabel(block, style)} %`,
      numeric: true,
      value: (e: Result) => e.engagement.blocks.find((b) => b.block === block)?.percent ?? -1,
    })),
  ]
}

function sortResults(results: Result[], column: Column, order: Order): Result[] {
  const direction = order === 'ascending' ? 1 : -1
  const compare = (a: string | number, b: string | number) =>
    typeof a === 'number' && typeof b === 'number' ? a - b : collator.compare(String(a), String(b))
  return [...results].sort(
    (a, b) =>
      direction * compare(column.value(a), column.value(b)) ||
      collator.compare(a.fullName, b.fullName) ||
      a.participantId.localeCompare(b.participantId) ||
      a.courseIdentifier.localeCompare(b.courseIdentifier),
  )
}

export function registerReportRoutes(app: FastifyInstance, services: Services): void {
  const { db, catalogue } = services
  const { scopeOf, cohortsOf } = createScopeResolver(services, 'view-reports')

  async function reportPage(area: Area, req: FastifyRequest, reply: FastifyReply) {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    const raw = req.query as Record<string, string | string[] | undefined>
    const query = (name: string) => {
      const v = raw[name]
      return (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim()
    }
    const today = londonDateOf(dashboardClock.now())
    const scope = await scopeOf(area, p, query)
    const errors = [...scope.errors]
    const basePath = `/${area.slug}/reports`
    const lp = scope.leadProvider

    const page = {
      title: 'Reports',
      basePath,
      isLeadProviderArea: area.role === 'lead-provider-admin',
      scope,
      caption: area.role === 'lead-provider-admin' ? (lp?.name ?? '') : (scope.deliveryPartner?.name ?? ''),
    }
    if (!lp) {
      return reply.render('reports/views/reports.njk', { ...page, noLeadProvider: true })
    }

    // Report, cohort, course.
    const reportParam = query('report') || 'engagement'
    const report: ReportKind = reportParam === 'declaration' ? 'declaration' : 'engagement'
    if (reportParam !== 'engagement' && reportParam !== 'declaration') errors.push({ field: 'report', message: 'Select a report' })

    const cohorts = cohortsOf(lp.code)
    // By default the most recent cohort that has started and has participants here, so the page opens on figures.
    // (Places still being onboarded have no figures yet.)
    let withParticipants = db
      .selectFrom('enrolments')
      .select('cohort')
      .distinct()
      .where('lead_provider_id', '=', lp.id)
      .where('status', '<>', 'accepted')
    if (scope.deliveryPartner) withParticipants = withParticipants.where('delivery_partner_id', '=', scope.deliveryPartner.id)
    const populated = new Set((await withParticipants.execute()).map((r) => r.cohort))
    const started = cohorts.filter((c) => c.startsOn !== null && c.startsOn <= today)
    const defaultCohort = started.find((c) => populated.has(c.cohort)) ?? started[0] ?? cohorts.at(-1)
    let cohort = query('cohort') || defaultCohort?.cohort || ''
    if (!cohorts.some((c) => c.cohort === cohort)) {
      errors.push({ field: 'cohort', message: `Select a cohort that ${lp.name} runs` })
      cohort = ''
    }
    const courseCodes = catalogue.coursesOf(lp.code)
    let course = query('course')
    if (course && !courseCodes.includes(course)) {
      errors.push({ field: 'course', message: `Select a course that ${lp.name} runs` })
      course = ''
    } else if (course && cohort && !catalogue.cohortsFor(lp.code, course).includes(cohort)) {
      errors.push({
        field: 'course',
        message: `${findCourse(course)?.shortName ?? course} does not run in cohort ${cohort}: choose another course or cohort`,
      })
    }

    // As of, and for the Declaration report the date credits are counted from.
    const asOfField = readDate(query, 'as_of', 'The report date', 'as_of')
    if (asOfField.error) errors.push(asOfField.error)
    const asOf = asOfField.error ? null : (asOfField.iso ?? today)
    const asOfParts = asOfField.error ? asOfField.parts : partsOf(asOf!)

    const coursesInScope = (course ? [course] : courseCodes).filter((c) => cohort && catalogue.cohortsFor(lp.code, c).includes(cohort))
    // The cohort's output review dates before the report date: the usual previous declaration points.
    const reviewDates = new Map<string, { types: Set<string>; courses: Set<string> }>()
    for (const c of coursesInScope) {
      for (const o of catalogue.cohortOutputs(lp.code, cohort, c)?.outputs ?? []) {
        if (!o.reviewDate || (asOf && o.reviewDate >= asOf)) continue
        const entry = reviewDates.get(o.reviewDate) ?? { types: new Set<string>(), courses: new Set<string>() }
        entry.types.add(outputNames[o.declarationType] ?? o.declarationType)
        entry.courses.add(findCourse(c)?.shortName ?? c)
        reviewDates.set(o.reviewDate, entry)
      }
    }
    const fromOptions = [...reviewDates.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([date, { types, courses }]) => ({
        value: date,
        text: `${formatDate(date)}: ${[...types].join(' and ')} review date${courses.size < coursesInScope.length ? ` for ${[...courses].join(', ')}` : ''}`,
      }))

    // `from`: one of the review dates offered, `start`, or `custom` with the date in `from_date`
    // (parts from the form, or one ISO value in links). A review date that is not offered (one of
    // another cohort's, left checked when the cohort was changed) falls back to the latest offered.
    const latestReview = fromOptions.at(-1)?.value ?? 'start'
    let fromChoice = query('from') || latestReview
    const customFrom = readDate(query, 'from_date', 'The date credits are counted from', 'from_date')
    let fromDate: string | null = null
    if (fromChoice !== 'start' && fromChoice !== 'custom' && !fromOptions.some((o) => o.value === fromChoice)) {
      if (report === 'declaration' && !isRealIsoDate(fromChoice)) {
        errors.push({ field: 'from', message: 'Select the date credits are counted from' })
      }
      fromChoice = latestReview
    }
    if (fromChoice === 'custom') {
      if (report === 'declaration') {
        if (customFrom.error) errors.push(customFrom.error)
        else if (!customFrom.iso) errors.push({ field: 'from_date-day', message: 'Enter the date credits are counted from' })
      }
      fromDate = customFrom.iso
    } else if (fromChoice !== 'start') {
      fromDate = fromChoice
    }
    const fromParts: DateParts = customFrom.parts
    if (report === 'declaration' && fromDate && asOf && fromDate > asOf) {
      errors.push({
        field: fromChoice === 'custom' ? 'from_date-day' : 'from',
        message: 'The date credits are counted from must be on or before the report date',
      })
    }

    const format = query('format')
    const sortParam = query('sort')
    const order: Order = query('order') === 'descending' ? 'descending' : 'ascending'

    // The canonical link to this view, for sorting and downloads.
    const linkTo = (extra: Record<string, string>) => {
      const params = new URLSearchParams({ report, lead_provider: lp.code, cohort })
      if (course) params.set('course', course)
      if (scope.deliveryPartner) params.set('delivery_partner', scope.deliveryPartner.code)
      if (asOf) params.set('as_of', asOf)
      if (report === 'declaration') {
        params.set('from', fromChoice)
        if (fromChoice === 'custom' && fromDate) params.set('from_date', fromDate)
      }
      for (const [k, v] of Object.entries(extra)) params.set(k, v)
      return `${basePath}?${params.toString()}`
    }

    const form = {
      report,
      reportItems: (['engagement', 'declaration'] as const).map((r) => ({
        value: r,
        text: reportNames[r],
        checked: r === report,
        hint: {
          text:
            r === 'engagement'
              ? 'Credits earned out of those available, per block and in total, and who is eligible for assessment'
              : 'Credits earned between two dates (usually two output review dates), and in total',
        },
      })),
      leadProviderItems: scope.leadProviders.map((l) => ({ value: l.code, text: l.name, selected: l.code === lp.code })),
      deliveryPartnerItems:
        area.role === 'lead-provider-admin'
          ? [
              { value: '', text: 'All delivery partners' },
              ...scope.deliveryPartners.map((d) => ({ value: d.code, text: d.name, selected: d.code === scope.deliveryPartner?.code })),
            ]
          : scope.deliveryPartners.map((d) => ({ value: d.code, text: d.name, selected: d.code === scope.deliveryPartner?.code })),
      cohortItems: cohorts.map((c) => ({
        value: c.cohort,
        text: `${c.cohort}${c.label ? ` – ${c.label}` : ''}${c.startsOn ? ` (starts ${formatDate(c.startsOn)})` : ''}`,
        selected: c.cohort === cohort,
      })),
      courseItems: [
        { value: '', text: 'All courses' },
        ...courseCodes.map((c) => {
          const info = findCourse(c)
          return { value: c, text: info ? `${info.name} (${info.shortName})` : c, selected: c === course }
        }),
      ],
      asOfParts,
      fromItems: [
        { value: 'start', text: 'The start of the course (all credits so far)', checked: fromChoice === 'start' },
        ...fromOptions.map((o) => ({ ...o, checked: o.value === fromChoice })),
      ],
      fromCustomChecked: fromChoice === 'custom',
      fromParts,
    }

    if (errors.length) {
      return reply.render('reports/views/reports.njk', { ...page, form, ...formErrors(errors) }, 400)
    }

    let found: EnrolmentEngagement[]
    let version: string | null = null
    let computedAt: Date | null = null
    try {
      const reportQuery = {
        leadProvider: lp.code,
        cohort,
        course: course || undefined,
        deliveryPartner: scope.deliveryPartner?.code,
        asOf: asOf!,
      }
      // Today's engagement is stored by the figures job; another date, or credits between dates, is counted now.
      if (report === 'engagement' && usesStoredFigures(asOf!)) {
        ;({ engagements: found, version, computedAt } = await storedEngagements(services, reportQuery))
      } else {
        // Counted now, from the replica when there is one (a report may lag a moment; its page is read-only).
        found = await engagements(services, reportQuery, services.readDb)
      }
    } catch (error) {
      if (!(error instanceof ReportQueryError)) throw error
      const field = ['cohort', 'course', 'delivery_partner', 'lead_provider'].includes(error.field) ? error.field : 'cohort'
      const message =
        field === 'cohort' ? `${lp.name} runs no ${course ? findCourse(course)?.shortName : 'course'} in cohort ${cohort}` : error.message
      return reply.render('reports/views/reports.njk', { ...page, form, ...formErrors([{ field, message }]) }, 400)
    }

    const arrange = () => {
      const results: Result[] = found.map((e) => {
        const d = report === 'declaration' ? declarationRow(e, fromDate) : null
        return {
          ...e,
          courseName: findCourse(e.courseIdentifier)?.shortName ?? e.courseIdentifier,
          declaration: d ? { inPeriod: d.credits_in_period, cumulative: d.cumulative_credits } : null,
        }
      })
      const columns = columnsFor(report, results)
      const sortColumn = columns.find((c) => c.key === sortParam) ?? columns[0]!
      return { columns, sortColumn, sorted: sortResults(results, sortColumn, order) }
    }
    // Stored figures are sorted once per calculation, filter and order in this process (thousands of
    // names compared take tens of milliseconds); figures counted now are sorted for the request.
    const { columns, sortColumn, sorted } = version
      ? memo(services, `report/${version}/${course}/${sortParam}/${order}`, arrange)
      : arrange()

    if (format === 'csv' || format === 'xlsx') {
      const base: Table =
        report === 'engagement'
          ? engagementTable(sorted.map(engagementRow))
          : declarationTable(sorted.map((e) => declarationRow(e, fromDate)))
      // The name beside the id, for people working through the list.
      const table: Table = {
        columns: [base.columns[0]!, 'full_name', ...base.columns.slice(1)],
        rows: base.rows.map((row, i) => [row[0]!, sorted[i]!.fullName, ...row.slice(1)]),
      }
      const filename = [
        report,
        lp.code,
        cohort,
        course || null,
        scope.deliveryPartner?.code ?? null,
        report === 'declaration' && fromDate ? `${fromDate}-to` : null,
        asOf,
      ]
        .filter(Boolean)
        .join('-')
      reply.header('cache-control', 'no-store')
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${filename}.csv"`)
          .send(toCsv(table))
      }
      return reply
        .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="${filename}.xlsx"`)
        .send(await toXlsx(table, reportNames[report]))
    }

    const participants = new Set(sorted.map((e) => e.participantId)).size
    const styles = [...new Set(sorted.map((e) => e.design.style))]
    // One page of the sorted rows: a page past the end shows the last page, and says so.
    const pages = Math.max(1, Math.ceil(sorted.length / reportPageSize))
    const requestedPage = pageOf(query('page'))
    const pageNumber = Math.min(requestedPage, pages)
    const first = (pageNumber - 1) * reportPageSize
    const onPage = sorted.slice(first, first + reportPageSize)
    const blockColumns = columns.filter((c) => c.key.startsWith('block_'))
    return reply.render('reports/views/reports.njk', {
      ...page,
      form,
      results: {
        report,
        reportName: reportNames[report],
        asOf,
        computedAt,
        from: fromDate,
        count: sorted.length,
        countText: formatCount(sorted.length),
        participants,
        participantsText: formatCount(participants),
        page: pageNumber,
        pages,
        pastTheEnd: requestedPage > pages ? query('page') : null,
        showingFrom: formatCount(first + 1),
        showingTo: formatCount(first + onPage.length),
        pagination: paginationOf(pageNumber, pages, (n) => linkTo({ sort: sortColumn.key, order, page: String(n) })),
        styles,
        deliveryPartner: scope.deliveryPartner,
        cohort,
        courseName: course ? (findCourse(course)?.name ?? course) : null,
        csvUrl: linkTo({ sort: sortColumn.key, order, format: 'csv' }),
        xlsxUrl: linkTo({ sort: sortColumn.key, order, format: 'xlsx' }),
        head: columns.map((c) => {
          const sortedHere = c.key === sortColumn.key
          const next: Order = sortedHere && order === 'ascending' ? 'descending' : 'ascending'
          return {
            text: c.text,
            numeric: c.numeric,
            ariaSort: sortedHere ? order : 'none',
            href: linkTo({ sort: c.key, order: next }),
          }
        }),
        rows: onPage.map((e) => ({
          name: e.fullName,
          participantId: e.participantId,
          course: e.courseName,
          courseTitle: findCourse(e.courseIdentifier)?.name ?? e.courseIdentifier,
          deliveryPartner: e.deliveryPartnerName ?? '–',
          declaration: e.declaration,
          creditsEarned: e.engagement.creditsEarned,
          creditsAvailable: e.engagement.creditsAvailable,
          percent: formatPercent(e.engagement.percent),
          ratio: e.engagement.ratio,
          eligible: e.engagement.eligibleForAssessment,
          blocks: blockColumns.map((c) => {
            const value = c.value(e) as number
            return value < 0 ? { text: '–', sortValue: -1 } : { text: formatPercent(value), sortValue: value }
          }),
        })),
      },
    })
  }

  for (const area of areas) {
    app.get(`/${area.slug}/reports`, { config: { access: 'signed-in' } }, (req, reply) => reportPage(area, req, reply))
  }
}
