import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { sql } from 'kysely'
import { londonDateOf } from '../dates/london.ts'
import { deferralReasons, withdrawalReasons, type DeferralReason, type WithdrawalReason } from '../db/schema.ts'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { formatDate } from '../escalations/cases.ts'
import { statusLabels } from '../participants/lifecycle.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { dateFromParts } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import {
  addMonths,
  answerReturn,
  currentDeferral,
  dateText,
  decideDeferral,
  decideWithdrawal,
  deferralReasonLabels,
  enrolmentTimeline,
  loadEnrolment,
  recordConversation,
  reinstateEnrolment,
  requestDeferral,
  resumeEnrolment,
  requestWithdrawal,
  withdrawalReasonLabel,
  type EnrolmentSummary,
} from './requests.ts'

/** Whether a path parameter can be a row id at all (PostgreSQL refuses anything else as a uuid). */
const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)

// Deferral and withdrawal pages. The participant asks (/participant/enrolments/:id), their delivery
// partner's lead records the conversation or asks on their behalf (/delivery-partner/lifecycle), the
// lead provider's admin decides (/lead-provider/lifecycle). Everyone sees the enrolment's timeline.

type Area = 'participant' | 'delivery-partner' | 'lead-provider'
type User = Principal & { kind: 'user' }
type Body = Record<string, string | string[] | undefined>
const text = (v: unknown) => (typeof v === 'string' ? v : '').trim()
const view = (name: string) => `lifecycle/views/${name}.njk`

/** Date inputs are named `<field>-day` etc.; errors point at the day box. */
const dateFields = ['starts', 'planned_return', 'planned_on']
const pointAtInputs = (errors: FieldError[]) => errors.map((e) => (dateFields.includes(e.field) ? { ...e, field: `${e.field}-day` } : e))

function readDate(body: Body, name: string, label: string, problems: FieldError[]): string | null {
  const parts = ['day', 'month', 'year'].map((p) => text(body[`${name}-${p}`])) as [string, string, string]
  const date = dateFromParts(...parts)
  if (!date) problems.push({ field: `${name}-day`, message: `Enter ${label} as a real date, for example 27 3 2026` })
  return date
}
const dateValues = (date: string | null | undefined) => {
  const [year, month, day] = (date ?? '').split('-')
  return date ? { day: String(Number(day)), month: String(Number(month)), year } : {}
}
const valuesOf = (body: Body, name: string) => ({
  day: text(body[`${name}-day`]),
  month: text(body[`${name}-month`]),
  year: text(body[`${name}-year`]),
})

export function registerLifecycleRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services
  const userOf = (req: FastifyRequest): User => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    return p
  }

  /** The enrolment, if this person may see it from this area (else not found: no hint it exists). */
  async function enrolmentFor(user: User, area: Area, enrolmentId: string): Promise<EnrolmentSummary> {
    if (!/^[0-9a-f-]{36}$/i.test(enrolmentId)) throw notFound('Course')
    const e = await loadEnrolment(db, enrolmentId)
    const allowed =
      e &&
      (area === 'participant'
        ? e.participantUserId === user.userId
        : area === 'delivery-partner'
          ? e.deliveryPartnerId !== null && organisationsWithRole(user, 'delivery-partner-lead').includes(e.deliveryPartnerId)
          : organisationsWithRole(user, 'lead-provider-admin').includes(e.leadProviderId))
    if (!e || !allowed) throw notFound('Course')
    return e
  }

  const enrolmentPath = (area: Area, id: string) =>
    area === 'participant' ? `/participant/enrolments/${id}` : `/${area}/lifecycle/enrolments/${id}`

  // ---- The enrolment page: status, timeline, what can be asked ----

  async function enrolmentPage(req: FastifyRequest, reply: FastifyReply, area: Area, id: string, extra: Record<string, unknown> = {}) {
    const user = userOf(req)
    const e = await enrolmentFor(user, area, id)
    const [timeline, deferral, withdrawal, openDeferral, openWithdrawal, group] = await Promise.all([
      enrolmentTimeline(db, e.id),
      currentDeferral(db, e.id),
      db
        .selectFrom('withdrawals')
        .select([sql<string>`withdrawn_on::text`.as('on'), 'reason'])
        .where('participant_id', '=', e.participantId)
        .where((eb) => eb.or([eb('enrolment_id', 'is', null), eb('enrolment_id', '=', e.id)]))
        .where('reinstated_on', 'is', null)
        .executeTakeFirst(),
      db.selectFrom('deferral_requests').select('id').where('enrolment_id', '=', e.id).where('status', '=', 'requested').executeTakeFirst(),
      db
        .selectFrom('withdrawal_requests')
        .select('id')
        .where('enrolment_id', '=', e.id)
        .where('status', '=', 'requested')
        .executeTakeFirst(),
      db
        .selectFrom('group_memberships as m')
        .innerJoin('participant_groups as g', 'g.id', 'm.group_id')
        .leftJoin('users as f', 'f.id', 'g.facilitator_user_id')
        .select(['g.name', 'f.full_name as facilitator'])
        .where('m.enrolment_id', '=', e.id)
        .executeTakeFirst(),
    ])
    const base = enrolmentPath(area, e.id)
    return reply.render(
      view('enrolment'),
      {
        title: `${e.courseName}, ${e.cohort}`,
        area,
        e,
        base,
        backHref: area === 'participant' ? '/participant/enrolments' : `/${area}/lifecycle`,
        status: statusLabels[e.status],
        groupText: group ? `${group.name}${group.facilitator ? `, facilitated by ${group.facilitator}` : ''}` : 'Not placed yet',
        withdrawnText: withdrawal ? `${formatDate(withdrawal.on)} (${withdrawalReasonLabel(withdrawal.reason).toLowerCase()})` : null,
        returnOn: e.status === 'deferred' && deferral?.returnOn ? formatDate(deferral.returnOn) : null,
        returnConfirmed: e.status === 'deferred' && Boolean(deferral?.confirmedAt),
        canResume: area === 'lead-provider' && e.status === 'deferred',
        canReinstate: area === 'lead-provider' && e.status === 'withdrawn',
        values: { on: dateValues(londonDateOf(new Date())), ...(extra.values as object | undefined) },
        canDefer: (e.status === 'active' || e.status === 'accepted') && !openDeferral && area !== 'lead-provider',
        canWithdraw: ['accepted', 'active', 'deferred'].includes(e.status) && !openWithdrawal && area !== 'lead-provider',
        openDeferral: openDeferral?.id,
        openWithdrawal: openWithdrawal?.id,
        timeline: timeline.map((t) => ({ on: formatDate(t.on), text: t.text, details: t.details ?? '' })),
        done: (req.query as { done?: string }).done,
        ...extra,
      },
      extra.errorList ? 400 : 200,
    )
  }

  // ---- Request forms (participant, or a delivery partner's lead on their behalf) ----

  async function deferForm(req: FastifyRequest, reply: FastifyReply, area: Area, id: string, body: Body | null, errors?: FieldError[]) {
    const e = await enrolmentFor(userOf(req), area, id)
    const funding = await db.selectFrom('place_funding').select(['funding', 'paid_on']).where('enrolment_id', '=', e.id).executeTakeFirst()
    const today = londonDateOf(new Date())
    return reply.render(
      view('defer'),
      {
        title: 'Request a deferral',
        e,
        back: enrolmentPath(area, e.id),
        action: `${enrolmentPath(area, e.id)}/defer`,
        onBehalf: area !== 'participant',
        beforeStart: e.status === 'accepted',
        noFunding: !funding,
        latestReturn: formatDate(addMonths(today, 12)),
        reasonItems: deferralReasons.map((r) => ({ value: r, text: deferralReasonLabels[r], checked: body?.reason === r })),
        values: {
          details: text(body?.details),
          starts: body ? valuesOf(body, 'starts') : dateValues(today),
          planned_return: body ? valuesOf(body, 'planned_return') : {},
        },
        ...(errors ? formErrors(pointAtInputs(errors)) : {}),
      },
      errors ? 400 : 200,
    )
  }

  async function withdrawForm(req: FastifyRequest, reply: FastifyReply, area: Area, id: string, body: Body | null, errors?: FieldError[]) {
    const e = await enrolmentFor(userOf(req), area, id)
    return reply.render(
      view('withdraw'),
      {
        title: 'Request to withdraw',
        e,
        back: enrolmentPath(area, e.id),
        action: `${enrolmentPath(area, e.id)}/withdraw`,
        onBehalf: area !== 'participant',
        reasonItems: [
          { value: '', text: 'Select a reason' },
          ...withdrawalReasons.map((r) => ({ value: r, text: withdrawalReasonLabel(r), selected: body?.reason === r })),
        ],
        values: {
          details: text(body?.details),
          planned_on: body ? valuesOf(body, 'planned_on') : dateValues(londonDateOf(new Date())),
        },
        ...(errors ? formErrors(pointAtInputs(errors)) : {}),
      },
      errors ? 400 : 200,
    )
  }

  /** Runs a change in a transaction; a refusal re-renders the page with the message and changes nothing. */
  async function attempt(work: () => Promise<string>, redisplay: (errors: FieldError[]) => Promise<unknown>, field: string) {
    try {
      return { location: await work() }
    } catch (error) {
      if (!(error instanceof AppError) || !['validation-failed', 'invalid-transition'].includes(error.code)) throw error
      return { page: await redisplay(error.fieldErrors.length ? error.fieldErrors : [{ field, message: error.message }]) }
    }
  }

  for (const area of ['participant', 'delivery-partner'] as const) {
    const base = area === 'participant' ? '/participant/enrolments/:id' : '/delivery-partner/lifecycle/enrolments/:id'

    app.get<{ Params: { id: string } }>(`${base}/defer`, { config: { access: 'signed-in' } }, (req, reply) =>
      deferForm(req, reply, area, req.params.id, null),
    )
    app.post<{ Params: { id: string }; Body: Body }>(`${base}/defer`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req)
      const e = await enrolmentFor(user, area, req.params.id)
      const body = req.body ?? {}
      const problems: FieldError[] = []
      const reason = text(body.reason)
      if (!deferralReasons.includes(reason as DeferralReason))
        problems.push({ field: 'reason', message: 'Select the reason for the deferral' })
      const details = text(body.details)
      if (!details) problems.push({ field: 'details', message: 'Enter what has happened and what support would help' })
      const startsOn = readDate(body, 'starts', 'the date the deferral starts', problems)
      const plannedReturnOn = readDate(body, 'planned_return', 'the planned return date', problems)
      if (problems.length) return deferForm(req, reply, area, e.id, body, problems)
      const result = await attempt(
        async () => {
          await db.transaction().execute((trx) =>
            requestDeferral(trx, services, user, {
              enrolmentId: e.id,
              reason: reason as DeferralReason,
              details,
              startsOn: startsOn!,
              plannedReturnOn: plannedReturnOn!,
            }),
          )
          return `${enrolmentPath(area, e.id)}?done=deferral-requested`
        },
        (errors) => deferForm(req, reply, area, e.id, body, errors),
        'reason',
      )
      return result.location ? reply.redirect(result.location, 303) : result.page
    })

    app.get<{ Params: { id: string } }>(`${base}/withdraw`, { config: { access: 'signed-in' } }, (req, reply) =>
      withdrawForm(req, reply, area, req.params.id, null),
    )
    app.post<{ Params: { id: string }; Body: Body }>(`${base}/withdraw`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req)
      const e = await enrolmentFor(user, area, req.params.id)
      const body = req.body ?? {}
      const problems: FieldError[] = []
      const reason = text(body.reason)
      if (!withdrawalReasons.includes(reason as WithdrawalReason))
        problems.push({ field: 'reason', message: 'Select the reason for withdrawing' })
      const plannedOn = readDate(body, 'planned_on', 'the date you plan to withdraw', problems)
      if (problems.length) return withdrawForm(req, reply, area, e.id, body, problems)
      const result = await attempt(
        async () => {
          await db.transaction().execute((trx) =>
            requestWithdrawal(trx, services, user, {
              enrolmentId: e.id,
              reason: reason as WithdrawalReason,
              details: text(body.details) || null,
              plannedOn: plannedOn!,
            }),
          )
          return `${enrolmentPath(area, e.id)}?done=withdrawal-requested`
        },
        (errors) => withdrawForm(req, reply, area, e.id, body, errors),
        'reason',
      )
      return result.location ? reply.redirect(result.location, 303) : result.page
    })
  }

  // ---- Participant ----

  app.get('/participant/enrolments', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const rows = await db
      .selectFrom('enrolments as e')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .select(['e.id'])
      .where('p.user_id', '=', user.userId)
      .orderBy('e.created_at')
      .execute()
    const enrolments = await Promise.all(rows.map((r) => loadEnrolment(db, r.id)))
    return reply.render(view('enrolments'), {
      title: 'Your courses',
      enrolments: enrolments.map((e) => ({ ...e!, statusText: statusLabels[e!.status] })),
    })
  })

  app.get<{ Params: { id: string } }>('/participant/enrolments/:id', { config: { access: 'signed-in' } }, (req, reply) =>
    enrolmentPage(req, reply, 'participant', req.params.id),
  )

  // ---- Lead provider: resume a deferred participant early, reinstate a withdrawn one ----

  for (const action of ['resume', 'reinstate'] as const)
    app.post<{ Params: { id: string }; Body: Body }>(
      `/lead-provider/lifecycle/enrolments/:id/${action}`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const e = await enrolmentFor(user, 'lead-provider', req.params.id)
        const body = req.body ?? {}
        const problems: FieldError[] = []
        const reason = text(body.reason)
        if (!reason)
          problems.push({ field: 'reason', message: `Enter why the participant is ${action === 'resume' ? 'resumed' : 'reinstated'}` })
        const on = readDate(body, 'on', 'the date they are back from', problems)
        const redisplay = (errors: FieldError[]) =>
          enrolmentPage(req, reply, 'lead-provider', e.id, { ...formErrors(errors), values: { reason, on: valuesOf(body, 'on') } })
        if (problems.length) return redisplay(problems)
        const result = await attempt(
          async () => {
            await db
              .transaction()
              .execute((trx) =>
                action === 'resume'
                  ? resumeEnrolment(trx, services, user, e.id, on!, `Resumed by the lead provider: ${reason}`)
                  : reinstateEnrolment(trx, services, user, e.id, reason, on!),
              )
            return `/lead-provider/lifecycle/enrolments/${e.id}?done=${action === 'resume' ? 'resumed-by-provider' : 'reinstated'}`
          },
          redisplay,
          'reason',
        )
        return result.location ? reply.redirect(result.location, 303) : result.page
      },
    )

  app.post<{ Params: { id: string }; Body: Body }>(
    '/participant/enrolments/:id/return',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const e = await enrolmentFor(user, 'participant', req.params.id)
      const answer = text(req.body?.returning)
      if (answer !== 'yes' && answer !== 'no')
        return enrolmentPage(
          req,
          reply,
          'participant',
          e.id,
          formErrors([{ field: 'returning', message: 'Select whether you are returning' }]),
        )
      const result = await attempt(
        async () => {
          const outcome = await db.transaction().execute((trx) => answerReturn(trx, services, user, e.id, answer === 'yes'))
          return `/participant/enrolments/${e.id}?done=${outcome}`
        },
        (errors) => enrolmentPage(req, reply, 'participant', e.id, formErrors(errors)),
        'returning',
      )
      return result.location ? reply.redirect(result.location, 303) : result.page
    },
  )

  // ---- Delivery partner and lead provider: requests, enrolment timelines, conversation, decisions ----

  for (const area of ['delivery-partner', 'lead-provider'] as const) {
    const role = area === 'delivery-partner' ? 'delivery-partner-lead' : 'lead-provider-admin'
    const base = `/${area}/lifecycle`
    const orgsOf = (req: FastifyRequest) => {
      const orgs = organisationsWithRole(userOf(req), role)
      if (!orgs.length) throw forbidden()
      return orgs
    }
    const column = area === 'delivery-partner' ? 'e.delivery_partner_id' : 'e.lead_provider_id'

    app.get(base, { config: { access: 'signed-in' } }, async (req, reply) => {
      const orgs = orgsOf(req)
      const requests = (kind: 'deferral_requests' | 'withdrawal_requests') =>
        db
          .selectFrom(`${kind} as r` as 'deferral_requests as r')
          .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
          .innerJoin('participants as p', 'p.id', 'e.participant_id')
          .select(['r.id', 'r.status', 'r.requested_at', 'p.full_name', 'e.course_identifier', 'e.cohort'])
          .where(column, 'in', orgs)
          .orderBy('r.requested_at', 'desc')
          .limit(200)
          .execute()
      const [deferrals, withdrawals] = await Promise.all([requests('deferral_requests'), requests('withdrawal_requests')])
      const rows = [
        ...deferrals.map((r) => ({ ...r, kind: 'Deferral', href: `${base}/deferrals/${r.id}` })),
        ...withdrawals.map((r) => ({ ...r, kind: 'Withdrawal', href: `${base}/withdrawals/${r.id}` })),
      ]
        .sort(
          (a, b) =>
            (a.status === 'requested' ? 0 : 1) - (b.status === 'requested' ? 0 : 1) ||
            +new Date(b.requested_at) - +new Date(a.requested_at),
        )
        .map((r) => ({ ...r, on: formatDate(londonDateOf(new Date(r.requested_at))) }))
      const people =
        area === 'delivery-partner'
          ? await db
              .selectFrom('enrolments as e')
              .innerJoin('participants as p', 'p.id', 'e.participant_id')
              .select(['e.id', 'p.full_name', 'e.course_identifier', 'e.cohort', 'e.status'])
              .where(column, 'in', orgs)
              .where('e.status', 'in', ['accepted', 'active', 'deferred'])
              .orderBy('p.full_name')
              .limit(1000)
              .execute()
          : []
      return reply.render(view('requests'), {
        title: 'Deferrals and withdrawals',
        area,
        base,
        rows,
        enrolmentItems: [
          { value: '', text: 'Select a participant' },
          ...people.map((p) => ({
            value: p.id,
            text: `${p.full_name}: ${p.course_identifier}, ${p.cohort} (${statusLabels[p.status].toLowerCase()})`,
          })),
        ],
      })
    })

    // The "request on behalf" chooser submits here (GET, so no CSRF): on to the participant's page.
    app.get<{ Querystring: { enrolment?: string } }>(`${base}/enrolments`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const id = text(req.query.enrolment)
      if (!id) return reply.redirect(base, 303)
      const e = await enrolmentFor(userOf(req), area, id)
      return reply.redirect(enrolmentPath(area, e.id), 303)
    })

    app.get<{ Params: { id: string } }>(`${base}/enrolments/:id`, { config: { access: 'signed-in' } }, (req, reply) =>
      enrolmentPage(req, reply, area, req.params.id),
    )

    for (const kind of ['deferrals', 'withdrawals'] as const) {
      const table = kind === 'deferrals' ? 'deferral_requests' : 'withdrawal_requests'
      const requestPage = async (
        req: FastifyRequest<{ Params: { id: string } }>,
        reply: FastifyReply,
        body: Body | null,
        errors?: FieldError[],
      ) => {
        const user = userOf(req)
        if (!/^[0-9a-f-]{36}$/i.test(req.params.id)) throw notFound('Request')
        const r = await db
          .selectFrom(table as 'deferral_requests')
          .selectAll()
          .where('id', '=', req.params.id)
          .executeTakeFirst()
        if (!r) throw notFound('Request')
        const e = await enrolmentFor(user, area, r.enrolment_id).catch(() => {
          throw notFound('Request')
        })
        const w = r as unknown as { reason: string; details: string | null; planned_on: string | Date; refund_note: string | null }
        const rows =
          kind === 'deferrals'
            ? [
                ['Reason', deferralReasonLabels[r.reason]],
                ['Details', r.details],
                ['Deferral starts', formatDate(dateText(r.starts_on))],
                ['Planned return', formatDate(dateText(r.planned_return_on))],
                [
                  'Proposed return',
                  r.proposed_cohort
                    ? `${r.proposed_cohort} cohort, block ${r.proposed_return_block ?? 1}`
                    : 'No later cohort of this course',
                ],
                ['Delivery partner’s conversation', r.conversation_notes ?? 'Not recorded yet'],
              ]
            : [
                ['Reason', withdrawalReasonLabel(w.reason)],
                ['Details', w.details ?? ''],
                ['Planned withdrawal date', formatDate(dateText(w.planned_on))],
                ...(w.refund_note ? [['Refund note', w.refund_note]] : []),
              ]
        const statusRow = [
          'Status',
          r.status.charAt(0).toUpperCase() + r.status.slice(1) + (r.decision_reason ? `: ${r.decision_reason}` : ''),
        ]
        const timeline = await enrolmentTimeline(db, e.id)
        return reply.render(
          view('request'),
          {
            title: `${kind === 'deferrals' ? 'Deferral' : 'Withdrawal'} request: ${e.fullName}`,
            kind,
            area,
            base,
            e,
            r,
            enrolmentHref: enrolmentPath(area, e.id),
            summaryRows: [...rows, statusRow].map(([k, v]) => ({ key: { text: k }, value: { text: v } })),
            open: r.status === 'requested',
            timeline: timeline.map((t) => ({ on: formatDate(t.on), text: t.text, details: t.details ?? '' })),
            values: {
              notes: body ? text(body.notes) : (r.conversation_notes ?? ''),
              decision: text(body?.decision),
              decision_reason: text(body?.decision_reason),
              refund_note: text(body?.refund_note),
              override: body?.override === 'yes',
              planned_return: body
                ? valuesOf(body, 'planned_return')
                : kind === 'deferrals'
                  ? dateValues(dateText(r.planned_return_on))
                  : {},
            },
            done: (req.query as { done?: string }).done,
            ...(errors ? formErrors(pointAtInputs(errors)) : {}),
          },
          errors ? 400 : 200,
        )
      }

      app.get<{ Params: { id: string } }>(`${base}/${kind}/:id`, { config: { access: 'signed-in' } }, (req, reply) =>
        requestPage(req, reply, null),
      )

      if (area === 'delivery-partner' && kind === 'deferrals') {
        app.post<{ Params: { id: string }; Body: Body }>(
          `${base}/${kind}/:id/conversation`,
          { config: { access: 'signed-in' } },
          async (req, reply) => {
            const user = userOf(req)
            const body = req.body ?? {}
            if (!isUuid(req.params.id)) throw notFound('Request')
            const r = await db.selectFrom('deferral_requests').select('enrolment_id').where('id', '=', req.params.id).executeTakeFirst()
            if (!r) throw notFound('Request')
            await enrolmentFor(user, area, r.enrolment_id)
            const notes = text(body.notes)
            if (!notes) return requestPage(req, reply, body, [{ field: 'notes', message: 'Enter what you discussed with the participant' }])
            const result = await attempt(
              async () => {
                await db.transaction().execute((trx) => recordConversation(trx, user, req.params.id, notes))
                return `${base}/${kind}/${req.params.id}?done=conversation`
              },
              (errors) => requestPage(req, reply, body, errors),
              'notes',
            )
            return result.location ? reply.redirect(result.location, 303) : result.page
          },
        )
      }

      if (area === 'lead-provider') {
        app.post<{ Params: { id: string }; Body: Body }>(
          `${base}/${kind}/:id/decision`,
          { config: { access: 'signed-in' } },
          async (req, reply) => {
            const user = userOf(req)
            const body = req.body ?? {}
            if (!isUuid(req.params.id)) throw notFound('Request')
            const r = await db
              .selectFrom(table as 'deferral_requests')
              .select('enrolment_id')
              .where('id', '=', req.params.id)
              .executeTakeFirst()
            if (!r) throw notFound('Request')
            await enrolmentFor(user, area, r.enrolment_id)
            const decision = text(body.decision)
            const problems: FieldError[] = []
            if (decision !== 'approve' && decision !== 'decline') problems.push({ field: 'decision', message: 'Select your decision' })
            const reason = text(body.decision_reason)
            if (decision === 'decline' && !reason) problems.push({ field: 'decision_reason', message: 'Enter why the request is declined' })
            const plannedReturnOn =
              kind === 'deferrals' && decision === 'approve' ? readDate(body, 'planned_return', 'the planned return date', problems) : null
            if (problems.length) return requestPage(req, reply, body, problems)
            const result = await attempt(
              async () => {
                const outcome = await db.transaction().execute((trx) =>
                  kind === 'deferrals'
                    ? decideDeferral(trx, services, user, req.params.id, {
                        approve: decision === 'approve',
                        reason,
                        override: body.override === 'yes',
                        plannedReturnOn: plannedReturnOn ?? undefined,
                      })
                    : decideWithdrawal(trx, services, user, req.params.id, {
                        confirm: decision === 'approve',
                        reason,
                        refundNote: text(body.refund_note) || null,
                      }),
                )
                return `${base}/${kind}/${req.params.id}?done=${outcome}`
              },
              (errors) => requestPage(req, reply, body, errors),
              'decision',
            )
            return result.location ? reply.redirect(result.location, 303) : result.page
          },
        )
      }
    }
  }
}
