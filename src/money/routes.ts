import { dashboardClock } from '../dashboards/figures.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { forbidden, notFound } from '../errors.ts'
import { administeredLeadProviders } from '../organisations/administered.ts'
import { findOrganisation } from '../organisations/organisations.ts'
import { can } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { areas, createScopeResolver, type Area, type Org } from '../web/report-scope.ts'
import { expectedTable, invoiceNowTable, moneyCsv, moneyXlsx, paidTable, type MoneyTable } from './exports.ts'
import { loadMoney, type MoneyStatement } from './money.ts'
import { formatPence, parsePounds, penceAsDecimal } from './pence.ts'
import { currentPrices, priceHistory, priceKey, setContractPrice } from './prices.ts'
import { splitPrice } from './shares.ts'
import { byName, isPaid, type ExpectedParticipant, type StatementLine, type Total } from './statements.ts'

// Money pages: lead-provider admins see every delivery partner's figures and set the price per
// teacher (/lead-provider/money); delivery-partner leads see their own partner's only
// (/delivery-partner/money: the server fixes the partner, another one's is refused). GET forms, so
// every view is a link, and each table downloads as CSV or XLSX with the same filters.

type User = Principal & { kind: 'user' }
type TableName = 'invoice-now' | 'expected' | 'paid'

// Money is seen by a partner's leads and its lead providers' admins ('view-money', checked by the
// scope resolver); prices are set by the provider's admins.
const setPricesAction = 'set-contract-prices' as const

/** Declarations without a delivery partner, as the line page's link names them. */
const noPartner = '_none'

const typeNames: Record<string, string> = {
  started: 'started',
  'retained-1': 'retained 1',
  'retained-2': 'retained 2',
  completed: 'completed',
}
const outputName = (l: Pick<StatementLine, 'declarationType' | 'outputIndex'>) =>
  l.outputIndex < 99 ? `Output ${l.outputIndex + 1}: ${typeNames[l.declarationType]}` : typeNames[l.declarationType]!
const courseShort = (c: string) => findCourse(c)?.shortName ?? c
const courseName = (c: string) => findCourse(c)?.name ?? c
const longDate = new Intl.DateTimeFormat('en-GB', { dateStyle: 'long', timeZone: 'UTC' })
const formatDate = (iso: string | null) => (iso ? longDate.format(new Date(`${iso}T12:00:00Z`)) : '–')
const monthFormat = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' })
const formatMonth = (month: string | null) => (month ? monthFormat.format(new Date(`${month}-15T12:00:00Z`)) : 'Date not recorded')

/** An amount for the page: "No price set" when none of it can be priced, a note when part cannot. */
function money(total: Total): string {
  if (total.priceMissing && total.pence === 0) return 'No price set'
  return total.priceMissing ? `${formatPence(total.pence)} and outputs with no price` : formatPence(total.pence)
}
const share = (pence: number | null) => (pence === null ? 'No price set' : formatPence(pence))

const basisText: Record<ExpectedParticipant['basis'], string> = {
  validated: 'Declaration validated by DfE, not yet paid',
  declared: 'Declared to DfE',
  eligible: 'Eligible now',
  'previous-output-met': 'Met the previous output',
  enrolled: 'Enrolled (first output)',
}

export function registerMoneyRoutes(app: FastifyInstance, services: Services): void {
  const { db, catalogue } = services
  const { scopeOf, cohortsOf } = createScopeResolver(services, 'view-money')

  const readQuery = (req: FastifyRequest) => {
    const raw = req.query as Record<string, string | string[] | undefined>
    return (name: string) => {
      const v = raw[name]
      return (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim()
    }
  }
  const userOf = (req: FastifyRequest): User => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    return p
  }

  /** Scope, filters and the canonical links of a money view. */
  async function viewOf(area: Area, req: FastifyRequest, options: { noPartner?: boolean } = {}) {
    const p = userOf(req)
    const raw = readQuery(req)
    // The line page names declarations without a delivery partner with a marker that is no partner's code.
    const query = (name: string) => (options.noPartner && name === 'delivery_partner' && raw(name) === noPartner ? '' : raw(name))
    const scope = await scopeOf(area, p, query)
    const errors = [...scope.errors]
    const lp = scope.leadProvider
    const cohorts = lp ? cohortsOf(lp.code) : []
    const courseCodes = lp ? catalogue.coursesOf(lp.code) : []
    let cohort = query('cohort')
    if (cohort && !cohorts.some((c) => c.cohort === cohort)) {
      errors.push({ field: 'cohort', message: `Select a cohort that ${lp?.name ?? 'the lead provider'} runs` })
      cohort = ''
    }
    let course = query('course')
    if (course && !courseCodes.includes(course)) {
      errors.push({ field: 'course', message: `Select a course that ${lp?.name ?? 'the lead provider'} runs` })
      course = ''
    }
    const basePath = `/${area.slug}/money`
    const params = (extra: Record<string, string> = {}) => {
      const search = new URLSearchParams()
      if (lp) search.set('lead_provider', lp.code)
      if (scope.deliveryPartner) search.set('delivery_partner', scope.deliveryPartner.code)
      if (cohort) search.set('cohort', cohort)
      if (course) search.set('course', course)
      for (const [k, v] of Object.entries(extra)) search.set(k, v)
      return search.toString()
    }
    const isLeadProviderArea = area.role === 'lead-provider-admin'
    const form = {
      leadProviderItems: scope.leadProviders.map((l) => ({ value: l.code, text: l.name, selected: l.code === lp?.code })),
      deliveryPartnerItems: isLeadProviderArea
        ? [
            { value: '', text: 'All delivery partners' },
            ...scope.deliveryPartners.map((d) => ({ value: d.code, text: d.name, selected: d.code === scope.deliveryPartner?.code })),
          ]
        : scope.deliveryPartners.map((d) => ({ value: d.code, text: d.name, selected: d.code === scope.deliveryPartner?.code })),
      cohortItems: [
        { value: '', text: 'All cohorts' },
        ...cohorts.map((c) => ({ value: c.cohort, text: `${c.cohort}${c.label ? ` – ${c.label}` : ''}`, selected: c.cohort === cohort })),
      ],
      courseItems: [
        { value: '', text: 'All courses' },
        ...courseCodes.map((c) => ({ value: c, text: `${courseName(c)} (${courseShort(c)})`, selected: c === course })),
      ],
    }
    return {
      p,
      query,
      scope,
      lp,
      errors,
      cohort,
      course,
      basePath,
      params,
      isLeadProviderArea,
      form,
      canSetPrices: isLeadProviderArea && lp !== null && hasPriceRights(p, lp),
      caption: isLeadProviderArea ? (lp?.name ?? '') : (scope.deliveryPartner?.name ?? ''),
      today: londonDateOf(dashboardClock.now()),
    }
  }

  const hasPriceRights = (p: Principal, lp: Org) =>
    can(p, setPricesAction, { type: 'organisation', organisation: { id: lp.id, kind: 'lead-provider', leadProviderIds: [lp.id] } })

  const partnerName = (statement: MoneyStatement, code: string | null) =>
    code ? (statement.partnerNames.get(code) ?? code) : 'No delivery partner'

  async function overview(area: Area, req: FastifyRequest, reply: FastifyReply) {
    const view = await viewOf(area, req)
    const { lp, scope, basePath } = view
    const page = {
      title: 'Money',
      basePath,
      caption: view.caption,
      isLeadProviderArea: view.isLeadProviderArea,
      form: view.form,
      canSetPrices: view.canSetPrices,
      pricesUrl: lp ? `/lead-provider/money/prices?lead_provider=${encodeURIComponent(lp.code)}` : null,
    }
    if (!lp) return reply.render('money/views/money.njk', { ...page, noLeadProvider: scope.deliveryPartner?.name })
    if (view.errors.length) return reply.render('money/views/money.njk', { ...page, ...formErrors(view.errors) }, 400)

    const statement = await loadMoney(
      services,
      {
        leadProvider: lp.code,
        deliveryPartner: scope.deliveryPartner?.code,
        cohort: view.cohort || undefined,
        course: view.course || undefined,
        today: view.today,
      },
      db,
      { storedFigures: true },
    )

    const table = view.query('table')
    const format = view.query('format')
    if (format || table) {
      const tables: Record<TableName, () => MoneyTable> = {
        'invoice-now': () => invoiceNowTable(statement.invoiceNow, statement.partnerNames),
        expected: () => expectedTable(statement.expected, statement.partnerNames),
        paid: () => paidTable(statement.paid, statement.partnerNames),
      }
      if (!(table in tables) || (format !== 'csv' && format !== 'xlsx')) throw notFound('Download')
      const data = tables[table as TableName]()
      const filename = ['money', table, lp.code, scope.deliveryPartner?.code, view.cohort, view.course, view.today]
        .filter(Boolean)
        .join('-')
      reply.header('cache-control', 'no-store')
      if (format === 'csv') {
        return reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${filename}.csv"`)
          .send(moneyCsv(data))
      }
      return reply
        .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
        .header('content-disposition', `attachment; filename="${filename}.xlsx"`)
        .send(await moneyXlsx(data))
    }

    const lineUrl = (l: StatementLine) =>
      `${basePath}/line?${view.params({
        delivery_partner: l.deliveryPartner ?? noPartner,
        cohort: l.cohort,
        course: l.courseIdentifier,
        output: l.declarationType,
      })}`
    const lineCells = (l: StatementLine) => ({
      deliveryPartner: partnerName(statement, l.deliveryPartner),
      cohort: l.cohort,
      course: courseShort(l.courseIdentifier),
      courseTitle: courseName(l.courseIdentifier),
      output: outputName(l),
      reviewDate: formatDate(l.reviewDate),
      invoiceDate: l.invoiceDate
        ? `${formatDate(l.invoiceDate)}${l.invoiceDateFrom === 'review-date' ? ' (review date)' : ''}`
        : 'Once validated',
      paymentDate: formatDate(l.paymentDate),
      share: share(l.sharePence),
      url: lineUrl(l),
    })
    const sum = (totals: Total[]): Total =>
      totals.reduce((a, b) => ({ pence: a.pence + b.pence, priceMissing: a.priceMissing || b.priceMissing }), {
        pence: 0,
        priceMissing: false,
      })
    const downloads = (name: TableName) => ({
      csv: `${basePath}?${view.params({ table: name, format: 'csv' })}`,
      xlsx: `${basePath}?${view.params({ table: name, format: 'xlsx' })}`,
    })

    const monthly = statement.months.map((month) => {
      const rows = statement.expected.filter((r) => r.month === month)
      return {
        month: formatMonth(month),
        participants: rows.reduce((n, r) => n + r.participants.length, 0),
        total: money(sum(rows.map((r) => r.total))),
        clawbacks: money(sum(rows.map((r) => r.clawbackTotal))),
        net: money(sum(rows.map((r) => r.net))),
      }
    })

    return reply.render('money/views/money.njk', {
      ...page,
      results: {
        today: view.today,
        firstMonth: formatMonth(statement.months[0]!),
        outlooksCalculatedAt: statement.outlooksCalculatedAt,
        lastMonth: formatMonth(statement.months.at(-1)!),
        deliveryPartner: scope.deliveryPartner,
        cohort: view.cohort,
        courseName: view.course ? courseName(view.course) : null,
        missingPrices: statement.missingPrices.map((m) => ({
          text: `${courseShort(m.courseIdentifier)} ${m.cohort}`,
          url: view.canSetPrices ? `/lead-provider/money/prices/${lp.code}/${m.courseIdentifier}/${m.cohort}` : null,
        })),
        summary: statement.summary.map((s) => ({
          deliveryPartner: partnerName(statement, s.deliveryPartner),
          invoiceNow: money(s.invoiceNow),
          expected: money(s.expected),
          paid: money(s.paid),
        })),
        summaryTotal: {
          invoiceNow: money(sum(statement.summary.map((s) => s.invoiceNow))),
          expected: money(sum(statement.summary.map((s) => s.expected))),
          paid: money(sum(statement.summary.map((s) => s.paid))),
        },
        invoiceNow: statement.invoiceNow.map((r) => ({
          ...lineCells(r.line),
          count: r.declarations.length,
          total: money(r.total),
          clawbacks: r.clawbacks.length ? `${money(r.clawbackTotal)} (${r.clawbacks.length})` : '–',
          net: money(r.net),
        })),
        invoiceNowTotal: money(sum(statement.invoiceNow.map((r) => r.net))),
        monthly,
        expected: statement.expected.map((r) => ({
          ...lineCells(r.line),
          month: formatMonth(r.month),
          count: r.participants.length,
          total: money(r.total),
          clawbacks: r.clawbacks.length ? `${money(r.clawbackTotal)} (${r.clawbacks.length})` : '–',
          net: money(r.net),
        })),
        expectedTotal: money(sum(statement.expected.map((r) => r.net))),
        paid: statement.paid.map((r) => ({
          deliveryPartner: partnerName(statement, r.deliveryPartner),
          month: formatMonth(r.month),
          count: r.paid.length,
          paid: money(r.paidTotal),
          clawedBack: r.clawedBack.length ? `${money(r.clawedBackTotal)} (${r.clawedBack.length})` : '–',
          net: money(r.net),
        })),
        paidTotal: money(sum(statement.paid.map((r) => r.net))),
        downloads: { invoiceNow: downloads('invoice-now'), expected: downloads('expected'), paid: downloads('paid') },
      },
    })
  }

  const catalogueIndex = (lp: string, d: { cohort: string; courseIdentifier: string; declarationType: string }) => {
    const index = catalogue
      .cohortOutputs(lp, d.cohort, d.courseIdentifier)
      ?.outputs.findIndex((o) => o.declarationType === d.declarationType)
    return index === undefined || index < 0 ? 99 : index
  }

  async function linePage(area: Area, req: FastifyRequest, reply: FastifyReply) {
    const view = await viewOf(area, req, { noPartner: area.role === 'lead-provider-admin' })
    const { lp, scope, basePath } = view
    const dpParam = readQuery(req)('delivery_partner')
    const output = view.query('output')
    if (!lp || view.errors.length || !view.cohort || !view.course || !output) throw notFound('Statement line')
    // An admin looks at one partner's line (or the declarations with none); a lead at their own.
    const partnerCode = dpParam === noPartner && view.isLeadProviderArea ? null : (scope.deliveryPartner?.code ?? null)
    if (partnerCode === null && dpParam !== noPartner) throw notFound('Statement line')
    const statement = await loadMoney(
      services,
      {
        leadProvider: lp.code,
        deliveryPartner: partnerCode ?? undefined,
        cohort: view.cohort,
        course: view.course,
        today: view.today,
      },
      db,
      { storedFigures: true },
    )
    const line = statement.lines.find((l) => l.deliveryPartner === partnerCode && l.declarationType === output)
    if (!line) throw notFound('Statement line')
    const invoice = statement.invoiceNow.find((r) => r.line === line)
    const expected = statement.expected.find((r) => r.line === line)
    const back = `${basePath}?${view.params()}`
    const title = `${outputName(line)}, ${courseShort(line.courseIdentifier)} ${line.cohort}`
    return reply.render('money/views/line.njk', {
      title,
      back,
      caption: partnerName(statement, line.deliveryPartner),
      summaryRows: [
        { key: { text: 'Delivery partner' }, value: { text: partnerName(statement, line.deliveryPartner) } },
        { key: { text: 'Course' }, value: { text: `${courseName(line.courseIdentifier)} (${courseShort(line.courseIdentifier)})` } },
        { key: { text: 'Cohort' }, value: { text: line.cohort } },
        { key: { text: 'Output' }, value: { text: outputName(line) } },
        { key: { text: 'Review date' }, value: { text: formatDate(line.reviewDate) } },
        {
          key: { text: 'Invoice date' },
          value: {
            text: line.invoiceDate
              ? `${formatDate(line.invoiceDate)}${line.invoiceDateFrom === 'review-date' ? ' (the review date: the schedule gives no invoice date)' : ''}`
              : 'Once the declarations are validated (the schedule gives no date)',
          },
        },
        { key: { text: 'Payment made on or after' }, value: { text: formatDate(line.paymentDate) } },
        { key: { text: 'Price per teacher' }, value: { text: share(line.pricePence) } },
        { key: { text: 'This output’s share' }, value: { text: share(line.sharePence) } },
        { key: { text: 'Declarations validated by DfE' }, value: { text: String(line.validated.length) } },
        {
          key: { text: 'Can invoice now' },
          value: {
            text: invoice
              ? `${money(invoice.net)}: ${invoice.declarations.length} declaration${invoice.declarations.length === 1 ? '' : 's'} not yet paid${invoice.clawbacks.length ? `, less ${money(invoice.clawbackTotal)} clawed back` : ''}`
              : line.invoiceDate && line.invoiceDate > view.today
                ? `Nothing yet: the invoice date is ${formatDate(line.invoiceDate)}`
                : 'Nothing: every validated declaration has been paid',
          },
        },
      ],
      declarations: line.validated.map((d) => ({
        name: d.fullName,
        participantId: d.participantId,
        declarationDate: formatDate(d.declarationDate),
        state: d.state,
        paid: isPaid(d.state) ? (d.paidOn ? formatDate(d.paidOn) : 'Paid (date not recorded)') : 'Not yet',
        clawback: d.clawback
          ? `Raised ${formatDate(d.clawback.raisedOn)}${d.clawback.clawedBackOn ? `, clawed back ${formatDate(d.clawback.clawedBackOn)}` : ''}`
          : '–',
      })),
      clawbacks: line.clawbacks.map((c) => ({
        name: c.declaration.fullName,
        participantId: c.declaration.participantId,
        output: `${outputName({ declarationType: c.declaration.declarationType, outputIndex: catalogueIndex(lp.code, c.declaration) })}, ${courseShort(c.declaration.courseIdentifier)} ${c.declaration.cohort}`,
        raisedOn: formatDate(c.declaration.clawback!.raisedOn),
        status: c.settled ? `Clawed back ${formatDate(c.declaration.clawback!.clawedBackOn)}` : 'To be deducted',
        amount: share(c.amountPence),
      })),
      expected: expected
        ? {
            month: formatMonth(expected.month),
            total: money(expected.net),
            participants: [...expected.participants]
              .sort((a, b) => byName.compare(a.fullName, b.fullName))
              .map((x) => ({
                name: x.fullName,
                participantId: x.participantId,
                basis: basisText[x.basis],
              })),
          }
        : null,
    })
  }

  for (const area of areas) {
    app.get(`/${area.slug}/money`, { config: { access: 'signed-in' } }, (req, reply) => overview(area, req, reply))
    app.get(`/${area.slug}/money/line`, { config: { access: 'signed-in' } }, (req, reply) => linePage(area, req, reply))
  }

  // Prices: lead-provider admins of the provider.
  const admin = (req: FastifyRequest) => administeredLeadProviders(req, setPricesAction)

  app.get('/lead-provider/money/prices', { config: { access: 'signed-in' } }, async (req, reply) => {
    const a = admin(req)
    const query = readQuery(req)
    const lp = a.leadProviders.find((l) => l.code === query('lead_provider')) ?? a.leadProviders[0]!
    if (query('lead_provider') && lp.code !== query('lead_provider')) {
      if (await findOrganisation(db, 'lead-provider', query('lead_provider'))) throw forbidden()
      throw notFound('Lead provider')
    }
    const prices = new Map((await currentPrices(db, lp.id)).map((p) => [priceKey(p.cohort, p.courseIdentifier), p]))
    const cohorts = cohortsOf(lp.code).map((c) => ({
      ...c,
      courses: catalogue
        .coursesOf(lp.code)
        .filter((course) => catalogue.cohortsFor(lp.code, course).includes(c.cohort))
        .map((course) => {
          const price = prices.get(priceKey(c.cohort, course))
          const outputs = catalogue.cohortOutputs(lp.code, c.cohort, course)?.outputs ?? []
          return {
            short: courseShort(course),
            name: courseName(course),
            price: price ? formatPence(price.pricePence) : 'Not set',
            shares: price
              ? splitPrice(
                  price.pricePence,
                  outputs.map((o) => o.sharePercent),
                )
                  .map(formatPence)
                  .join(', ')
              : '–',
            setBy: price ? `${price.recordedByName ?? 'The platform'}, ${formatLondonDateTime(price.recordedAt)}` : '–',
            changeUrl: `/lead-provider/money/prices/${lp.code}/${course}/${c.cohort}`,
          }
        }),
    }))
    // After a change: what the price now is, from the database (the link carries no text to show).
    const [setCourse, setCohort] = query('set').split('/')
    const set = setCourse && setCohort ? prices.get(priceKey(setCohort, setCourse)) : undefined
    const done = set
      ? `The price per teacher for ${courseShort(set.courseIdentifier)} ${set.cohort} ${query('unchanged') ? 'was already' : 'is now'} ${formatPence(set.pricePence)}`
      : null
    return reply.render('money/views/prices.njk', {
      title: 'Prices per teacher',
      lp,
      leadProviderItems:
        a.leadProviders.length > 1 ? a.leadProviders.map((l) => ({ value: l.code, text: l.name, selected: l === lp })) : null,
      cohorts,
      done,
    })
  })

  type PriceParams = { lp: string; course: string; cohort: string }
  const pricePage = async (req: FastifyRequest<{ Params: PriceParams }>) => {
    const a = admin(req)
    const lp = a.leadProviders.find((l) => l.code === req.params.lp)
    if (!lp) {
      if (await findOrganisation(db, 'lead-provider', req.params.lp)) throw forbidden()
      throw notFound('Lead provider')
    }
    const course = findCourse(req.params.course)
    if (!course || !catalogue.coursesOf(lp.code).includes(course.identifier)) throw notFound('Course')
    if (!catalogue.cohortsFor(lp.code, course.identifier).includes(req.params.cohort)) throw notFound('Cohort')
    const history = await priceHistory(db, lp.id, course.identifier, req.params.cohort)
    const outputs = catalogue.cohortOutputs(lp.code, req.params.cohort, course.identifier)?.outputs ?? []
    return {
      principal: a.principal,
      lp,
      course,
      cohort: req.params.cohort,
      history,
      context: {
        title: `Price per teacher: ${course.shortName} ${req.params.cohort}`,
        lp,
        course,
        cohort: req.params.cohort,
        current: history[0] ? formatPence(history[0].pricePence) : null,
        outputs: outputs.map((o, i) => ({
          name: outputName({ declarationType: o.declarationType, outputIndex: i }),
          share: o.sharePercent === null ? 'an equal part' : `${o.sharePercent}%`,
          invoiceDate: formatDate(o.invoiceDate ?? o.reviewDate),
        })),
        history: history.map((h) => ({
          price: formatPence(h.pricePence),
          setBy: h.recordedByName ?? 'The platform',
          when: formatLondonDateTime(h.recordedAt),
        })),
        back: `/lead-provider/money/prices?lead_provider=${encodeURIComponent(lp.code)}`,
      },
    }
  }

  app.get<{ Params: PriceParams }>(
    '/lead-provider/money/prices/:lp/:course/:cohort',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const page = await pricePage(req)
      return reply.render('money/views/price-form.njk', {
        ...page.context,
        value: page.history[0] ? penceAsDecimal(page.history[0].pricePence) : '',
      })
    },
  )

  app.post<{ Params: PriceParams; Body: Record<string, string> }>(
    '/lead-provider/money/prices/:lp/:course/:cohort',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const page = await pricePage(req)
      const text = String(req.body?.price ?? '')
      const parsed = parsePounds(text, 'The price per teacher')
      if ('error' in parsed) {
        return reply.render(
          'money/views/price-form.njk',
          { ...page.context, value: text, ...formErrors([{ field: 'price', message: parsed.error }]) },
          400,
        )
      }
      const result = await setContractPrice(db, page.principal, {
        leadProviderId: page.lp.id,
        courseIdentifier: page.course.identifier,
        cohort: page.cohort,
        pricePence: parsed.pence,
      })
      const done = new URLSearchParams({ lead_provider: page.lp.code, set: `${page.course.identifier}/${page.cohort}` })
      if (!result.changed) done.set('unchanged', 'yes')
      return reply.redirect(`/lead-provider/money/prices?${done.toString()}`, 303)
    },
  )
}

const londonDateTime = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Europe/London' })
const formatLondonDateTime = (d: Date | string) => londonDateTime.format(new Date(d))
