import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { courses, findCourse } from '../catalogue/courses.ts'
import { schedulesForCourse } from '../catalogue/schedules.ts'
import { londonDateOf } from '../dates/london.ts'
import { applicationStatuses } from '../db/schema.ts'
import { AppError, notFound } from '../errors.ts'
import { administeredLeadProviders } from '../organisations/administered.ts'
import type { Services } from '../services.ts'
import { formErrors, type FormErrors } from '../web/forms.ts'
import {
  acceptanceProblems,
  acceptApplication,
  changeFundedPlace,
  eligibilityOf,
  fundedPlaceOf,
  extendForm,
  findEndorsementLink,
  findFormLink,
  formAnswers,
  giveEndorsement,
  rejectApplication,
  sendApplicationForm,
  statusLabels,
  submitApplicationForm,
  type Application,
} from './applications.ts'
import { formStatus } from './deadlines.ts'
import { endorserLabels, endorserRoleFor } from './eligibility.ts'

// Lead-provider admins' applications (/lead-provider/applications): a list with filters, an
// application with its eligibility, form and endorsement, and the decision. The applicant's form
// (/application-form/:token) and the endorsement (/endorse/:token) are public pages behind one-time links.

const base = '/lead-provider/applications'
type Params = { id: string }
type Body = Record<string, string>
const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

const statusTags: Record<Application['status'], string> = {
  applied: 'govuk-tag--blue',
  accepted: 'govuk-tag--green',
  rejected: 'govuk-tag--red',
  expired: 'govuk-tag--grey',
}
const outcomeTags = {
  met: { text: 'Met', classes: 'govuk-tag--green' },
  'not-met': { text: 'Not met', classes: 'govuk-tag--red' },
  unknown: { text: 'Not known yet', classes: 'govuk-tag--grey' },
}
const formStatusText = { 'not-sent': 'Not sent', sent: 'Sent, waiting for the applicant', returned: 'Returned', overdue: 'Overdue' }

export function registerApplicationRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services
  const deps = { email: services.email, config: services.config, catalogue: services.catalogue, jobs: services.jobs }
  const adminOf = (req: FastifyRequest) => administeredLeadProviders(req, 'manage-applications')

  app.get<{ Querystring: { status?: string; course?: string; q?: string } }>(
    base,
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { leadProviders } = adminOf(req)
      const status = (applicationStatuses as readonly string[]).includes(req.query.status ?? '') ? req.query.status! : ''
      const course = findCourse(req.query.course ?? '') ? req.query.course! : ''
      const q = (req.query.q ?? '').trim().slice(0, 100)
      let query = db
        .selectFrom('applications')
        .select([
          'id',
          'full_name',
          'trn',
          'course_identifier',
          'cohort',
          'status',
          'received_at',
          'form_sent_on',
          'form_returned_at',
          'endorsed_at',
        ])
        .where(
          'lead_provider_id',
          'in',
          leadProviders.map((l) => l.id),
        )
      if (status) query = query.where('status', '=', status as Application['status'])
      if (course) query = query.where('course_identifier', '=', course)
      if (q) query = query.where((eb) => eb.or([eb('full_name', 'ilike', `%${q.replace(/[%_\\]/g, '\\$&')}%`), eb('trn', '=', q)]))
      const rows = await query.orderBy('received_at', 'desc').limit(500).execute()
      return reply.render('applications/views/list.njk', {
        title: 'Applications',
        base,
        filters: { status, course, q },
        statusItems: [
          { value: '', text: 'Any status' },
          ...applicationStatuses.map((s) => ({ value: s, text: statusLabels[s], selected: s === status })),
        ],
        courseItems: [
          { value: '', text: 'Any course' },
          ...courses.map((c) => ({ value: c.identifier, text: c.name, selected: c.identifier === course })),
        ],
        rows: rows.map((r) => ({
          ...r,
          course: findCourse(r.course_identifier)?.name ?? r.course_identifier,
          statusText: statusLabels[r.status],
          statusClass: statusTags[r.status],
          form: r.form_returned_at ? 'Returned' : r.form_sent_on ? 'Sent' : 'Not sent',
          endorsed: r.endorsed_at ? 'Yes' : 'No',
        })),
      })
    },
  )

  const find = async (req: FastifyRequest<{ Params: Params }>) => {
    const { principal, leadProviders } = adminOf(req)
    if (!uuid.test(req.params.id)) throw notFound('Application')
    const a = await db.selectFrom('applications').selectAll().where('id', '=', req.params.id).executeTakeFirst()
    const lead = a && leadProviders.find((l) => l.id === a.lead_provider_id)
    if (!a || !lead) throw notFound('Application')
    return { principal, a, lead }
  }

  const page = async (
    req: FastifyRequest<{ Params: Params }>,
    reply: FastifyReply,
    extra: Partial<FormErrors> & { values?: Body } = {},
  ) => {
    const { a, lead } = await find(req)
    const today = londonDateOf(new Date())
    const partners = await db
      .selectFrom('delivery_partnerships as d')
      .innerJoin('organisations as o', 'o.id', 'd.delivery_partner_id')
      .select(['o.id', 'o.name'])
      .where('d.lead_provider_id', '=', lead.id)
      .orderBy('o.name')
      .execute()
    const decided = a.status === 'accepted' || a.status === 'rejected'
    const people = await db
      .selectFrom('users')
      .select(['id', 'full_name'])
      .where(
        'id',
        'in',
        [a.decided_by, a.form_extended_by].filter((id): id is string => id !== null).concat(['00000000-0000-0000-0000-000000000000']),
      )
      .execute()
    const nameOf = (id: string | null) => people.find((p) => p.id === id)?.full_name ?? null
    const partner = partners.find((p) => p.id === a.delivery_partner_id)
    const values = extra.values ?? {}
    // The cohorts of the application's DfE cohort year come first to choose from (all when it has none).
    const runs = services.catalogue.cohortsFor(lead.code, a.course_identifier)
    const ofYear = a.cohort ? runs.filter((c) => c.startsWith(`${a.cohort}-`)) : []
    const cohorts = ofYear.length ? ofYear : runs
    const chosenCohort = values.cohort ?? ''
    const role = a.endorser_role ?? endorserRoleFor(a.course_identifier)
    return reply.render(
      'applications/views/application.njk',
      {
        title: `${a.full_name}: ${findCourse(a.course_identifier)?.name ?? a.course_identifier}`,
        base,
        a,
        course: findCourse(a.course_identifier)?.name ?? a.course_identifier,
        statusText: statusLabels[a.status],
        statusClass: statusTags[a.status],
        checks: eligibilityOf(a, today).map((c) => ({ ...c, tag: outcomeTags[c.outcome] })),
        form: formStatusText[
          formStatus(
            { sentOn: a.form_sent_on, dueOn: a.form_due_on, remindedAt: a.form_reminded_at, returnedAt: a.form_returned_at },
            today,
          )
        ],
        extendedBy: nameOf(a.form_extended_by),
        decidedBy: nameOf(a.decided_by),
        endorserLabel: endorserLabels[role],
        partnerName: partner?.name ?? null,
        decided,
        canSendForm: a.status === 'applied' && !a.form_returned_at,
        canExtend: (a.status === 'applied' || a.status === 'expired') && a.form_sent_on !== null && !a.form_returned_at,
        canDecide: a.status === 'applied',
        acceptProblems: a.status === 'applied' ? acceptanceProblems(a, today) : [],
        fundedPlace: fundedPlaceOf(a, today),
        canReject: a.status === 'applied' || a.status === 'expired',
        partnerItems: [
          { value: '', text: 'Select a delivery partner' },
          ...partners.map((p) => ({ value: p.id, text: p.name, selected: values.deliveryPartner === p.id })),
        ],
        cohortItems: [{ value: '', text: 'Select a cohort' }, ...cohorts.map((c) => ({ value: c, text: c, selected: chosenCohort === c }))],
        scheduleItems: [
          { value: '', text: 'The one matching the cohort' },
          ...schedulesForCourse(a.course_identifier).map((s) => ({ value: s, text: s, selected: values.schedule === s })),
        ],
        values,
        done: (req.query as { done?: string }).done,
        ...extra,
      },
      extra.errorList?.length ? 400 : 200,
    )
  }

  app.get<{ Params: Params }>(`${base}/:id`, { config: { access: 'signed-in' } }, (req, reply) => page(req, reply))

  /** A change from the application page: done → back to it with a banner; refused → the page with the error. */
  const action = (path: string, field: string, work: (ctx: Awaited<ReturnType<typeof find>>, body: Body) => Promise<string>) =>
    app.post<{ Params: Params; Body: Body }>(`${base}/:id/${path}`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const ctx = await find(req)
      const body = req.body ?? {}
      try {
        const done = await work(ctx, body)
        return await reply.redirect(`${base}/${ctx.a.id}?done=${done}`, 303)
      } catch (error) {
        if (!(error instanceof AppError) || !['validation-failed', 'invalid-transition', 'conflict'].includes(error.code)) throw error
        const errors = error.fieldErrors.length ? error.fieldErrors : [{ field, message: error.message }]
        return page(req, reply, { ...formErrors(errors), values: body })
      }
    })

  action('send-form', 'send-form', async ({ principal, a, lead }) => {
    await db.transaction().execute((trx) => sendApplicationForm(trx, deps, principal, a.id, lead.id))
    return 'form-sent'
  })
  action('extend', 'days', async ({ principal, a, lead }, body) => {
    await db.transaction().execute((trx) => extendForm(trx, principal, a.id, lead.id, Number(body.days)))
    return 'extended'
  })
  action('accept', 'deliveryPartner', async ({ principal, a, lead }, body) => {
    await db.transaction().execute((trx) =>
      acceptApplication(trx, deps, principal, a.id, lead, {
        deliveryPartnerId: uuid.test(body.deliveryPartner ?? '') ? body.deliveryPartner : undefined,
        cohort: (typeof body.cohort === 'string' && body.cohort) || undefined,
        scheduleIdentifier: (typeof body.schedule === 'string' && body.schedule) || undefined,
        overrideReason: typeof body.override === 'string' ? body.override : undefined,
      }),
    )
    return 'accepted'
  })
  action('funded-place', 'funded_place', async ({ principal, a, lead }, body) => {
    const choice = body.funded_place === 'yes' ? true : body.funded_place === 'no' ? false : null
    await db.transaction().execute((trx) => changeFundedPlace(trx, deps, principal, a.id, lead.id, choice))
    return 'funded-place'
  })
  action('reject', 'reason', async ({ principal, a, lead }, body) => {
    await db.transaction().execute((trx) => rejectApplication(trx, deps, principal, a.id, lead.id, body.reason ?? ''))
    return 'rejected'
  })

  // ── The applicant's form ──
  const linkProblem = (reply: FastifyReply, error: unknown) => {
    if (!(error instanceof AppError) || !['not-found', 'invalid-transition'].includes(error.code)) throw error
    return reply.render(
      'applications/views/link-problem.njk',
      { title: 'This link cannot be used', message: error.message },
      error.code === 'not-found' ? 404 : 410,
    )
  }

  const renderForm = (reply: FastifyReply, token: string, a: Application, values: Body, errors?: FormErrors) =>
    reply.render(
      'applications/views/form.njk',
      {
        title: 'Your application form',
        token,
        a,
        course: findCourse(a.course_identifier)?.name ?? a.course_identifier,
        endorserLabel: endorserLabels[endorserRoleFor(a.course_identifier)],
        asksLevel: a.course_identifier === 'npq-early-years-leadership',
        asksHeadship: findCourse(a.course_identifier)?.group === 'ehco',
        values,
        ...errors,
      },
      errors ? 400 : 200,
    )

  app.get<{ Params: { token: string } }>('/application-form/:token', { config: { access: 'public' } }, async (req, reply) => {
    try {
      const a = await findFormLink(db, req.params.token)
      if (a.status !== 'applied')
        throw new AppError('invalid-transition', `This application is ${a.status}: the form can no longer be returned`)
      return await renderForm(reply, req.params.token, a, {})
    } catch (error) {
      return linkProblem(reply, error)
    }
  })

  app.post<{ Params: { token: string }; Body: Body }>('/application-form/:token', { config: { access: 'public' } }, async (req, reply) => {
    const body = req.body ?? {}
    let a: Application
    try {
      a = await findFormLink(db, req.params.token)
    } catch (error) {
      return linkProblem(reply, error)
    }
    const problems: { field: string; message: string }[] = []
    const level = a.course_identifier === 'npq-early-years-leadership' ? Number.parseInt(body.ey_qualification_level ?? '', 10) : null
    if (level !== null && !(level >= 1 && level <= 8))
      problems.push({ field: 'ey_qualification_level', message: 'Select the level of your highest early years qualification' })
    const ehco = findCourse(a.course_identifier)?.group === 'ehco'
    const started = ehco ? (body.headship_started_on ?? '').trim() : null
    if (started !== null && !/^\d{4}-\d{2}-\d{2}$/.test(started))
      problems.push({ field: 'headship_started_on', message: 'Enter the date your first headship started, like 2023-09-01' })
    const npqh = ehco ? (body.npqh_status ?? '') : null
    if (npqh !== null && !['none', 'in-progress', 'completed'].includes(npqh))
      problems.push({ field: 'npqh_status', message: 'Select whether you have taken NPQH' })
    const parsed = formAnswers.safeParse({
      endorser_name: body.endorser_name ?? '',
      endorser_email: body.endorser_email ?? '',
      ey_qualification_level: level,
      headship_started_on: started,
      npqh_status: npqh,
    })
    if (!parsed.success) problems.unshift(...parsed.error.issues.map((i) => ({ field: String(i.path[0]), message: i.message })))
    if (problems.length || !parsed.success) return renderForm(reply, req.params.token, a, body, formErrors(problems))
    try {
      await submitApplicationForm(db, deps, req.params.token, parsed.data)
    } catch (error) {
      return linkProblem(reply, error)
    }
    return reply.render('applications/views/done.njk', {
      title: 'Application form returned',
      panel: 'Application form returned',
      message: `Thank you. We have emailed ${parsed.data.endorser_name} to endorse your application.`,
    })
  })

  // ── The endorsement ──
  app.get<{ Params: { token: string } }>('/endorse/:token', { config: { access: 'public' } }, async (req, reply) => {
    try {
      const a = await findEndorsementLink(db, req.params.token)
      return await reply.render('applications/views/endorse.njk', {
        title: 'Endorse an application',
        token: req.params.token,
        a,
        course: findCourse(a.course_identifier)?.name ?? a.course_identifier,
        values: { name: a.endorser_name ?? '' },
      })
    } catch (error) {
      return linkProblem(reply, error)
    }
  })

  app.post<{ Params: { token: string }; Body: Body }>('/endorse/:token', { config: { access: 'public' } }, async (req, reply) => {
    const name = (req.body?.name ?? '').trim()
    try {
      if (!name) {
        const a = await findEndorsementLink(db, req.params.token)
        return await reply.render(
          'applications/views/endorse.njk',
          {
            title: 'Endorse an application',
            token: req.params.token,
            a,
            course: findCourse(a.course_identifier)?.name ?? a.course_identifier,
            values: { name },
            ...formErrors([{ field: 'name', message: 'Enter your full name' }]),
          },
          400,
        )
      }
      const a = await giveEndorsement(db, req.params.token, name)
      return await reply.render('applications/views/done.njk', {
        title: 'Application endorsed',
        panel: 'Application endorsed',
        message: `Thank you. Your endorsement of ${a.full_name}'s application has been recorded.`,
      })
    } catch (error) {
      return linkProblem(reply, error)
    }
  })
}
