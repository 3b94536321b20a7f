import { calendarDate } from '../imports/fields.ts'
import crypto from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findCourse, type DeclarationType } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { declarationStates, type DeclarationState } from '../db/schema.ts'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { deliveryPartnersOf } from '../organisations/organisations.ts'
import { can } from '../policy/policy.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { ReportQueryError } from '../reports/engagement-reports.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { criterionLabels, type Criterion } from '../outputs/evaluate.ts'
import { dashboardClock, usesStoredFigures } from '../dashboards/figures.ts'
import { liveReview, storedReview, type Review } from './review.ts'
import { registerAgreementRoutes } from './agreements.ts'
import { declareOutputs, voidDeclaration } from './declarations.ts'

/** Whether a path parameter can be a row id at all (PostgreSQL refuses anything else as a uuid). */
const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)

// Declaring outputs to DfE, for lead-provider admins: review who is eligible for an output as of a
// review date (filter by cohort, course and delivery partner), declare a selection in bulk, see
// every declaration with its DfE state, its evidence snapshot and history, and void one.

const base = '/lead-provider/declarations'
/** Eligible participants listed to choose from (more are declared with "Declare all"); others per page. */
const ELIGIBLE_SHOWN = 200
const OTHERS_PER_PAGE = 100
type Body = Record<string, string | string[] | undefined>
type Lp = { id: string; code: string; name: string }

export const typeLabels: Record<DeclarationType, string> = {
  started: 'Started',
  'retained-1': 'Retained 1',
  'retained-2': 'Retained 2',
  completed: 'Completed',
}
export const stateLabels: Record<DeclarationState, string> = {
  submitted: 'Submitted',
  eligible: 'Eligible',
  payable: 'Payable',
  paid: 'Paid',
  voided: 'Voided',
  ineligible: 'Ineligible',
  'awaiting-clawback': 'Awaiting clawback',
  'clawed-back': 'Clawed back',
}
const stateColours: Partial<Record<DeclarationState, string>> = {
  submitted: 'govuk-tag--grey',
  eligible: 'govuk-tag--blue',
  payable: 'govuk-tag--turquoise',
  paid: 'govuk-tag--green',
  voided: 'govuk-tag--red',
  ineligible: 'govuk-tag--orange',
  'awaiting-clawback': 'govuk-tag--yellow',
  'clawed-back': 'govuk-tag--purple',
}

const isRealDate = (v: string) => calendarDate.safeParse(v).success
const one = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim()
const many = (v: string | string[] | undefined) => (Array.isArray(v) ? v : v ? [v] : [])

export function registerDeclarationRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services
  registerAgreementRoutes(app, services)

  async function leadProviderOf(req: FastifyRequest): Promise<{ user: Principal; lp: Lp }> {
    const p = req.principal
    const id = p ? organisationsWithRole(p, 'lead-provider-admin')[0] : undefined
    if (!p || !id) throw forbidden()
    const lp = await db.selectFrom('organisations').select(['id', 'code', 'name']).where('id', '=', id).executeTakeFirstOrThrow()
    return { user: p, lp }
  }

  /** The filters: cohorts and courses the lead provider runs, its partners, the output types. */
  async function choices(lp: Lp) {
    const courses = services.catalogue.coursesOf(lp.code)
    const cohorts = [...new Set(courses.flatMap((c) => services.catalogue.cohortsFor(lp.code, c)))].sort().reverse()
    const partners = await deliveryPartnersOf(db, lp.id)
    return { courses, cohorts, partners }
  }

  type Filters = { cohort: string; course: string; deliveryPartner: string; type: DeclarationType; asOf: string }
  function readFilters(q: Body, cohorts: string[], today: string): { filters: Filters; errors: FieldError[] } {
    const errors: FieldError[] = []
    const type = (one(q.type) || 'started') as DeclarationType
    if (!(type in typeLabels)) errors.push({ field: 'type', message: 'Choose an output' })
    let asOf = one(q.as_of) || today
    if (!isRealDate(asOf)) {
      errors.push({ field: 'as_of', message: 'Review date must be a real date, like 2023-01-31' })
      asOf = today
    } else if (asOf > today) {
      errors.push({ field: 'as_of', message: 'Review date must be today or in the past' })
    }
    const cohort = one(q.cohort) || cohorts[0] || ''
    if (!cohorts.includes(cohort)) errors.push({ field: 'cohort', message: 'Choose a cohort' })
    return { filters: { cohort, course: one(q.course), deliveryPartner: one(q.delivery_partner), type, asOf }, errors }
  }

  /** The output's review dates in the cohort, for the courses shown (they may differ by course), earliest first. */
  function reviewDatesOf(leadProvider: string, f: Filters, courses: string[]): string[] {
    const dates = new Set<string>()
    for (const c of f.course ? [f.course] : courses)
      for (const o of services.catalogue.cohortOutputs(leadProvider, f.cohort, c)?.outputs ?? [])
        if (o.declarationType === f.type && o.reviewDate) dates.add(o.reviewDate)
    return [...dates].sort()
  }

  async function reviewPage(req: FastifyRequest, reply: FastifyReply, body: Body, extra: { errors?: FieldError[]; status?: number } = {}) {
    const { lp } = await leadProviderOf(req)
    const today = londonDateOf(dashboardClock.now())
    const options = await choices(lp)
    const { filters, errors } = readFilters(body, options.cohorts, today)
    const allErrors = [...errors, ...(extra.errors ?? [])]
    let review: Review = { eligibleTotal: 0, othersTotal: 0, eligible: [], others: [], computedAt: null }
    const page = Math.max(1, Math.min(10_000, Number.parseInt(one(body.page), 10) || 1))
    const limits = { eligibleLimit: ELIGIBLE_SHOWN, othersOffset: (page - 1) * OTHERS_PER_PAGE, othersLimit: OTHERS_PER_PAGE }
    if (errors.length === 0) {
      // Today's figures are stored for the whole cohort; a course or partner that is not the provider's
      // goes the live way, which names what is wrong.
      const known =
        (!filters.course ||
          (options.courses.includes(filters.course) && services.catalogue.cohortsFor(lp.code, filters.course).includes(filters.cohort))) &&
        (!filters.deliveryPartner || options.partners.some((p) => p.code === filters.deliveryPartner))
      try {
        review =
          known && usesStoredFigures(filters.asOf)
            ? await storedReview(services, lp, filters, limits)
            : await liveReview(services, lp, filters, limits)
      } catch (error) {
        if (!(error instanceof ReportQueryError)) throw error
        allErrors.push({ field: error.field === 'delivery_partner' ? 'delivery_partner' : error.field, message: error.message })
      }
    }
    const pages = Math.max(1, Math.ceil(review.othersTotal / OTHERS_PER_PAGE))
    const pageLink = (n: number) => {
      const params = new URLSearchParams({ cohort: filters.cohort, type: filters.type, as_of: filters.asOf, page: String(n) })
      if (filters.course) params.set('course', filters.course)
      if (filters.deliveryPartner) params.set('delivery_partner', filters.deliveryPartner)
      return `${base}?${params.toString()}#others`
    }
    const pagination =
      pages > 1
        ? {
            previous: page > 1 ? { href: pageLink(page - 1) } : undefined,
            next: page < pages ? { href: pageLink(page + 1) } : undefined,
            items: [...new Set([1, page - 1, page, page + 1, pages])]
              .filter((n) => n >= 1 && n <= pages)
              .sort((a, b) => a - b)
              .map((n) => ({ number: n, href: pageLink(n), current: n === page })),
          }
        : null
    const form = formErrors(allErrors)
    return reply.render(
      'declarations/views/review.njk',
      {
        title: 'Declare outputs',
        base,
        filters,
        reviewDates: reviewDatesOf(lp.code, filters, options.courses),
        eligible: review.eligible,
        others: review.others,
        eligibleTotal: review.eligibleTotal,
        othersTotal: review.othersTotal,
        computedAt: review.computedAt,
        othersFrom: limits.othersOffset + 1,
        pagination,
        cohortItems: options.cohorts.map((c) => ({ value: c, text: c, selected: c === filters.cohort })),
        courseItems: [
          { value: '', text: 'All courses' },
          ...options.courses.map((c) => ({ value: c, text: findCourse(c)?.name ?? c, selected: c === filters.course })),
        ],
        partnerItems: [
          { value: '', text: 'All delivery partners' },
          ...options.partners.map((p) => ({ value: p.code, text: p.name, selected: p.code === filters.deliveryPartner })),
        ],
        typeItems: Object.entries(typeLabels).map(([value, text]) => ({ value, text, selected: value === filters.type })),
        selected: new Set(many(body.participant)),
        requestKey: crypto.randomUUID(),
        ...form,
      },
      extra.status ?? (allErrors.length ? 400 : 200),
    )
  }

  app.get(base, { config: { access: 'signed-in' } }, (req, reply) => reviewPage(req, reply, req.query as Body))

  app.post<{ Body: Body }>(base, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { user, lp } = await leadProviderOf(req)
    const body = req.body ?? {}
    const today = londonDateOf(new Date())
    const { cohorts } = await choices(lp)
    const { filters, errors } = readFilters(body, cohorts, today)
    // "Declare all" declares everyone eligible in the filters (more than the page lists); otherwise the ticked ones.
    const all = one(body.all) === 'yes'
    const participants = many(body.participant)
    if (!all && participants.length === 0) errors.push({ field: 'participants', message: 'Select at least one participant to declare' })
    if (errors.length) return reviewPage(req, reply, body, { errors: errors.filter((e) => e.field === 'participants') })
    const result = await declareOutputs(services, user, {
      leadProvider: lp.code,
      cohort: filters.cohort,
      course: filters.course || undefined,
      deliveryPartner: filters.deliveryPartner || undefined,
      asOf: filters.asOf,
      declarationType: filters.type,
      participantIds: all ? undefined : participants,
      requestKey: `page/${one(body.request_key) || crypto.randomUUID()}`,
    })
    // Named only where the admin may see the person (any id can be posted): another provider's
    // participant stays the id that was sent.
    const ids = [
      ...new Set([...participants, ...result.created.map((c) => c.participant_id), ...result.refused.map((r) => r.participant_id)]),
    ].filter(isUuid)
    const enrolled = ids.length
      ? await db
          .selectFrom('participants as p')
          .innerJoin('enrolments as e', 'e.participant_id', 'p.id')
          .select([
            'p.id',
            'p.full_name',
            'p.user_id',
            'e.lead_provider_id',
            'e.delivery_partner_id',
            'e.school_id',
            'e.line_manager_user_id',
          ])
          .where('p.id', 'in', ids)
          .execute()
      : []
    const names = new Map(
      enrolled
        .filter((r) =>
          can(user, 'view', {
            type: 'enrolment',
            enrolment: {
              participantUserId: r.user_id,
              leadProviderId: r.lead_provider_id,
              deliveryPartnerId: r.delivery_partner_id,
              schoolId: r.school_id,
              lineManagerUserId: r.line_manager_user_id,
            },
          }),
        )
        .map((r) => [r.id, r.full_name]),
    )
    return reply.render('declarations/views/declared.njk', {
      title: 'Declarations made',
      base,
      filters,
      typeLabel: typeLabels[filters.type],
      created: result.created.map((c) => ({ ...c, name: names.get(c.participant_id) ?? c.participant_id })),
      refused: result.refused.map((r) => ({ ...r, name: names.get(r.participant_id) ?? r.participant_id })),
    })
  })

  app.get(`${base}/made`, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { lp } = await leadProviderOf(req)
    const q = req.query as Body
    const options = await choices(lp)
    const state = one(q.state)
    const cohort = one(q.cohort)
    let query = db
      .selectFrom('declarations as d')
      .innerJoin('participants as p', 'p.id', 'd.participant_id')
      .leftJoin('organisations as dp', 'dp.id', 'd.delivery_partner_id')
      .select([
        'd.id',
        'p.full_name',
        'd.course_identifier',
        'd.cohort',
        'd.declaration_type',
        'd.declaration_date',
        'd.state',
        'dp.name as dp_name',
      ])
      .where('d.lead_provider_id', '=', lp.id)
    if (state && (declarationStates as readonly string[]).includes(state)) query = query.where('d.state', '=', state as DeclarationState)
    if (cohort) query = query.where('d.cohort', '=', cohort)
    const rows = await query.orderBy('d.declared_at', 'desc').limit(500).execute()
    return reply.render('declarations/views/made.njk', {
      title: 'Declarations',
      base,
      rows: rows.map((r) => ({
        ...r,
        course: findCourse(r.course_identifier)?.name ?? r.course_identifier,
        type: typeLabels[r.declaration_type],
        stateLabel: stateLabels[r.state],
        stateClass: stateColours[r.state],
      })),
      stateItems: [
        { value: '', text: 'Any state' },
        ...declarationStates.map((s) => ({ value: s, text: stateLabels[s], selected: s === state })),
      ],
      cohortItems: [{ value: '', text: 'All cohorts' }, ...options.cohorts.map((c) => ({ value: c, text: c, selected: c === cohort }))],
    })
  })

  async function declarationPage(
    req: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    extra: { errors?: FieldError[]; reason?: string } = {},
  ) {
    const { lp } = await leadProviderOf(req)
    const id = req.params.id
    if (!/^[0-9a-f-]{36}$/i.test(id)) throw notFound('Declaration')
    const d = await db
      .selectFrom('declarations as d')
      .innerJoin('participants as p', 'p.id', 'd.participant_id')
      .leftJoin('organisations as dp', 'dp.id', 'd.delivery_partner_id')
      .leftJoin('users as u', 'u.id', 'd.declared_by')
      .selectAll('d')
      .select(['p.full_name', 'dp.name as dp_name', 'u.full_name as declared_by_name'])
      .where('d.id', '=', id)
      .executeTakeFirst()
    if (!d || d.lead_provider_id !== lp.id) throw notFound('Declaration')
    const [history, requests] = await Promise.all([
      db
        .selectFrom('declaration_state_changes as c')
        .leftJoin('users as u', 'u.id', 'c.changed_by')
        .select(['c.from_state', 'c.to_state', 'c.source', 'c.reason', 'c.changed_at', 'u.full_name'])
        .where('c.declaration_id', '=', id)
        .orderBy('c.changed_at')
        .execute(),
      db
        .selectFrom('dfe_requests')
        .select(['id', 'kind', 'status', 'attempts', 'last_error', 'queued_at', 'sent_at'])
        .where('subject_id', '=', id)
        .orderBy('queued_at')
        .execute(),
    ])
    const evidence = d.evidence as {
      criterion: string
      evidence_on: string
      review_date: string | null
      records: { kind: string; id: string; on: string; code?: string }[]
    }
    const engagement = d.engagement as { credits_earned: number; credits_available: number; engagement_percent: number }
    const form = formErrors(extra.errors ?? [])
    return reply.render(
      'declarations/views/declaration.njk',
      {
        title: `${typeLabels[d.declaration_type]} declaration for ${d.full_name}`,
        base,
        d: {
          ...d,
          type: typeLabels[d.declaration_type],
          course: findCourse(d.course_identifier)?.name ?? d.course_identifier,
          stateLabel: stateLabels[d.state],
          stateClass: stateColours[d.state],
        },
        evidence: { ...evidence, criterionLabel: criterionLabels[evidence.criterion as Criterion] ?? evidence.criterion },
        engagement,
        history: history.map((h) => ({
          ...h,
          fromLabel: h.from_state ? stateLabels[h.from_state] : 'New',
          toLabel: stateLabels[h.to_state],
          by: h.source === 'dfe' ? 'DfE' : (h.full_name ?? 'The platform'),
        })),
        requests,
        canVoid: ['submitted', 'eligible', 'payable', 'ineligible', 'paid'].includes(d.state),
        voidCreatesClawback: d.state === 'paid',
        reason: extra.reason ?? '',
        done: (req.query as { done?: string }).done,
        ...form,
      },
      extra.errors?.length ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string } }>(`${base}/:id`, { config: { access: 'signed-in' } }, (req, reply) => declarationPage(req, reply))

  app.post<{ Params: { id: string }; Body: Body }>(`${base}/:id/void`, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { user, lp } = await leadProviderOf(req)
    const reason = one(req.body?.reason)
    if (!isUuid(req.params.id)) throw notFound('Declaration')
    const owner = await db.selectFrom('declarations').select('lead_provider_id').where('id', '=', req.params.id).executeTakeFirst()
    if (!owner || owner.lead_provider_id !== lp.id) throw notFound('Declaration')
    try {
      await voidDeclaration(services, user, { declarationId: req.params.id, reason })
    } catch (error) {
      if (!(error instanceof AppError) || !['validation-failed', 'conflict'].includes(error.code)) throw error
      return declarationPage(req, reply, { errors: [{ field: 'reason', message: error.fieldErrors[0]?.message ?? error.message }], reason })
    }
    return reply.redirect(`${base}/${req.params.id}?done=voided`, 303)
  })
}
