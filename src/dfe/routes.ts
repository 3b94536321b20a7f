import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { sql } from 'kysely'
import { findCourse } from '../catalogue/courses.ts'
import type { DfeRequestKind } from '../db/schema.ts'
import { notFound } from '../errors.ts'
import { administeredLeadProviders } from '../organisations/administered.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { queueDfeRequest } from './requests.ts'
import { cancelDfeRequest, type DfeSendResult } from './sync.ts'

// The DfE sync log for lead-provider admins: every request to DfE with its status and last error,
// each request with every attempt (body sent, status, DfE's response), and "Retry now" / "Cancel
// request" for a queued one. Admins see only their own lead provider's requests.

const base = '/lead-provider/dfe-sync'
const LIST_LIMIT = 200

export const kindLabels: Record<DfeRequestKind, string> = {
  'submit-declaration': 'Submit declaration',
  'void-declaration': 'Void declaration',
  'defer-participant': 'Defer participant',
  'resume-participant': 'Resume participant',
  'change-funded-place': 'Change funded place',
  'change-schedule': 'Change schedule (cohort)',
  'withdraw-participant': 'Withdraw participant',
  'post-outcome': 'Submit outcome',
  'pull-applications': 'Get applications',
  'pull-statements': 'Get statements and declaration states',
  'accept-application': 'Accept application',
  'reject-application': 'Reject application',
}

const statusFilters = [
  { value: 'all', text: 'All requests' },
  { value: 'failed', text: 'Failed, still queued' },
  { value: 'queued', text: 'Queued' },
  { value: 'sent', text: 'Sent' },
  { value: 'cancelled', text: 'Cancelled' },
] as const

type Listed = {
  status: 'queued' | 'sent' | 'cancelled'
  attempts: number
  last_error: string | null
}

/** What a person sees: a failed request is still queued, with its error. */
function statusTag(r: Listed): { text: string; classes: string } {
  if (r.status === 'sent') return { text: 'Sent', classes: 'govuk-tag--green' }
  if (r.status === 'cancelled') return { text: 'Cancelled', classes: 'govuk-tag--grey' }
  return r.last_error ? { text: 'Failed', classes: 'govuk-tag--red' } : { text: 'Queued', classes: 'govuk-tag--blue' }
}

const skippedMessages: Record<Extract<DfeSendResult, { outcome: 'skipped' }>['reason'], string> = {
  'sync-off': 'DfE sync is off: the platform needs DFE_API_URL and DFE_API_TOKEN before it can send anything',
  'not-queued': 'This request is no longer queued: it has been sent or cancelled',
  'in-flight': 'This request is being sent right now: wait a moment and look again',
  'waiting-for-earlier': 'An earlier request for this participant is still queued: it has to reach DfE first',
  'not-due': 'This request cannot be sent yet',
}

export function registerDfeSyncRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  const requests = () =>
    db
      .selectFrom('dfe_requests as r')
      .innerJoin('organisations as lp', 'lp.id', 'r.lead_provider_id')
      .leftJoin('participants as p', 'p.id', 'r.participant_id')
      .leftJoin('declarations as d', 'd.id', 'r.subject_id')
      .leftJoin('enrolments as e', 'e.id', 'r.subject_id')
      .select([
        'r.id',
        'r.kind',
        'r.status',
        'r.attempts',
        'r.last_error',
        'r.queued_at',
        'r.sent_at',
        'r.next_attempt_at',
        'r.lead_provider_id',
        'lp.name as lead_provider',
        'p.full_name',
        'r.participant_id',
        'd.declaration_type',
        sql<string | null>`coalesce(d.course_identifier, e.course_identifier)`.as('course_identifier'),
      ])

  type Row = Awaited<ReturnType<ReturnType<typeof requests>['execute']>>[number]
  const subjectOf = (r: Row) => {
    if (!r.participant_id) return 'All participants'
    const course = r.course_identifier ? (findCourse(r.course_identifier)?.name ?? r.course_identifier) : null
    return [r.full_name, [r.declaration_type ? `${r.declaration_type} declaration` : null, course].filter(Boolean).join(', ')]
      .filter(Boolean)
      .join(': ')
  }
  const present = (r: Row) => ({ ...r, kindLabel: kindLabels[r.kind], subject: subjectOf(r), tag: statusTag(r) })

  app.get<{ Querystring: { status?: string; done?: string } }>(base, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { leadProviders } = administeredLeadProviders(req, 'declare')
    const ids = leadProviders.map((l) => l.id)
    const wanted = req.query.status ?? 'all'
    const filter = statusFilters.find((s) => s.value === wanted)?.value
    let q = requests().where('r.lead_provider_id', 'in', ids)
    if (filter === 'failed') q = q.where('r.status', '=', 'queued').where('r.last_error', 'is not', null)
    else if (filter && filter !== 'all') q = q.where('r.status', '=', filter)
    const rows = filter ? await q.orderBy('r.seq', 'desc').limit(LIST_LIMIT).execute() : []
    const counts = await db
      .selectFrom('dfe_requests')
      .select([
        sql<number>`count(*) filter (where status = 'queued')`.as('queued'),
        sql<number>`count(*) filter (where status = 'queued' and last_error is not null)`.as('failed'),
      ])
      .where('lead_provider_id', 'in', ids)
      .executeTakeFirstOrThrow()
    return reply.render(
      'dfe/views/dfe-sync.njk',
      {
        title: 'DfE sync',
        base,
        enabled: services.dfe.enabled,
        leadProviders,
        manyProviders: leadProviders.length > 1,
        statusItems: statusFilters.map((s) => ({ value: s.value, text: s.text, selected: s.value === (filter ?? wanted) })),
        filter: filter ?? 'all',
        rows: rows.map(present),
        limit: LIST_LIMIT,
        queued: Number(counts.queued),
        failed: Number(counts.failed),
        done: req.query.done,
        ...(filter ? {} : formErrors([{ field: 'status', message: 'Select a status from the list' }])),
      },
      filter ? 200 : 400,
    )
  })

  const findRequest = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const { principal, leadProviders } = administeredLeadProviders(req, 'declare')
    if (!/^[0-9a-f-]{36}$/i.test(req.params.id)) throw notFound('Request')
    const row = await requests()
      .select([
        'r.method',
        'r.path',
        'r.body',
        'r.queued_by',
        'r.cancelled_at',
        sql<string | null>`(select full_name from users where id = r.queued_by)`.as('queued_by_name'),
        sql<string | null>`(select full_name from users where id = r.cancelled_by)`.as('cancelled_by_name'),
        sql<boolean>`r.claimed_until is not null and r.claimed_until >= now()`.as('in_flight'),
      ])
      .where('r.id', '=', req.params.id)
      .executeTakeFirst()
    // Another lead provider's request is not found, not forbidden: its existence is not shown.
    if (!row || !leadProviders.some((l) => l.id === row.lead_provider_id)) throw notFound('Request')
    return { principal, row }
  }

  const requestPage = async (
    req: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    problem?: { field: string; message: string },
  ) => {
    const { row } = await findRequest(req)
    const attempts = await db
      .selectFrom('dfe_request_attempts')
      .selectAll()
      .where('request_id', '=', row.id)
      .orderBy('attempted_at', 'desc')
      .orderBy('id', 'desc')
      .execute()
    const json = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value, null, 2))
    return reply.render(
      'dfe/views/dfe-request.njk',
      {
        title: `${kindLabels[row.kind]}: ${subjectOf(row)}`,
        base,
        request: { ...present(row), body: json(row.body) },
        enabled: services.dfe.enabled,
        attempts: attempts.map((a) => ({ ...a, response: json(a.response) })),
        done: (req.query as { done?: string }).done,
        ...(problem ? formErrors([problem]) : {}),
      },
      problem ? 409 : 200,
    )
  }

  app.get<{ Params: { id: string } }>(`${base}/:id`, { config: { access: 'signed-in' } }, (req, reply) => requestPage(req, reply))

  app.post<{ Params: { id: string } }>(`${base}/:id/retry`, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { row } = await findRequest(req)
    const result = await services.dfe.send(row.id, { force: true })
    if (result.outcome === 'skipped') return requestPage(req, reply, { field: 'retry', message: skippedMessages[result.reason] })
    return reply.redirect(`${base}/${row.id}?done=${result.outcome}`, 303)
  })

  app.post<{ Params: { id: string } }>(`${base}/:id/cancel`, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { principal, row } = await findRequest(req)
    const result = await cancelDfeRequest(db, row.id, principal)
    if (result !== 'cancelled') {
      return requestPage(req, reply, {
        field: 'cancel',
        message: result === 'in-flight' ? skippedMessages['in-flight'] : 'This request is no longer queued: it has been sent or cancelled',
      })
    }
    return reply.redirect(`${base}/${row.id}?done=cancelled`, 303)
  })

  // Ask DfE now for statements and declaration states (also done every morning by a job).
  app.post<{ Body: { leadProvider?: string } }>(`${base}/pull`, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { principal, leadProviders } = administeredLeadProviders(req, 'declare')
    const leadProvider = leadProviders.find((l) => l.code === req.body?.leadProvider) ?? leadProviders[0]!
    const id = await db
      .transaction()
      .execute((trx) => queueDfeRequest(trx, { leadProviderId: leadProvider.id, kind: 'pull-statements', queuedBy: principal }))
    if (services.dfe.enabled) await services.dfe.send(id, { force: true })
    return reply.redirect(`${base}/${id}`, 303)
  })
}
