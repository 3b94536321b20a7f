import { stringify } from 'csv-stringify/sync'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Trx } from '../db/database.ts'
import { AppError, forbidden, type FieldError } from '../errors.ts'
import { eventFor, eventRefOf, eventTitle, kindLabels, loadEvents, type EventDetails } from '../events/events.ts'
import { formatDate, formatSpan } from '../events/times.ts'
import { can } from '../policy/policy.ts'
import { hasRole, type Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { currentRegisterEntries } from './register-entries.ts'
import { addWalkIn, contingencyMethodLabels, loadRegister, markParticipants, recordContingency, walkInCandidates } from './register.ts'
import { dateFromParts, registerRules, type RegisterRules } from './register-rules.ts'

// Facilitators' registers (issue 5): the facilitator's events, and each event's register — marks in
// one go (MoJ multi-select table; a plain form without JavaScript), walk-ins, contingency
// completions, the CSV export in the `attendance` format of ../shared/INTERFACES.md.

const RECENT_DAYS = 60
const DAY = 86_400_000

type Params = { id: string }
type Body = Record<string, string | string[] | undefined>

const text = (v: string | string[] | undefined) => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''))
const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v]).filter((s) => s !== '')

const doneMessages: Record<string, (count: number) => string> = {
  attended: (n) => `${n} ${n === 1 ? 'participant' : 'participants'} marked as attended.`,
  absent: (n) => `${n} ${n === 1 ? 'participant' : 'participants'} marked as absent.`,
  'walk-in': () => 'The walk-in is added to the register as attended.',
  contingency: () => 'The contingency completion is recorded.',
}

function rulesFor(principal: Principal, event: EventDetails, now = new Date()): RegisterRules {
  return registerRules({
    startsAt: event.starts_at,
    cancelled: event.status === 'cancelled',
    now,
    mayChangeLocked: can(principal, 'change-locked-register', { type: 'event', event: eventRefOf(event) }),
  })
}

/** Where the register page leads back to: the facilitator's events, or the event's page for those who run it. */
function backLinkFor(principal: Principal, event: EventDetails): { href: string; text: string } {
  if (principal.kind === 'user' && event.facilitators.some((f) => f.userId === principal.userId)) {
    return { href: '/facilitator/events', text: 'Your events' }
  }
  if (event.delivery_partner_id && hasRole(principal, 'delivery-partner-lead', event.delivery_partner_id)) {
    return { href: `/delivery-partner/events/${event.id}`, text: 'Event' }
  }
  return { href: `/lead-provider/events/${event.id}`, text: 'Event' }
}

export function registerRegisterRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  app.get('/facilitator/events', { config: { access: 'signed-in' } }, async (req, reply) => {
    const principal = req.principal
    if (!principal || principal.kind !== 'user' || !can(principal, 'view', { type: 'role-home', role: 'facilitator' })) throw forbidden()
    const now = new Date()
    const ids = await db
      .selectFrom('event_facilitators as f')
      .innerJoin('events as ev', 'ev.id', 'f.event_id')
      .select('ev.id')
      .where('f.user_id', '=', principal.userId)
      .where('ev.starts_at', '>=', new Date(now.getTime() - RECENT_DAYS * DAY))
      .execute()
    const events = await loadEvents(
      db,
      ids.map((r) => r.id),
    )
    const marked = await currentRegisterEntries(db)
      .select(['r.event_id', (eb) => eb.fn.countAll<string>().as('n')])
      .where('r.event_id', 'in', events.length ? events.map((e) => e.id) : ['00000000-0000-0000-0000-000000000000'])
      .groupBy('r.event_id')
      .execute()
    const rowOf = (e: EventDetails) => {
      const started = new Date(e.starts_at) <= now
      const tag =
        e.status === 'cancelled'
          ? { text: 'Cancelled', classes: 'govuk-tag--grey' }
          : !started
            ? { text: 'Not started', classes: 'govuk-tag--blue' }
            : e.register_taken_at
              ? { text: 'Register taken', classes: 'govuk-tag--green' }
              : { text: 'Register not taken', classes: 'govuk-tag--red' }
      return {
        id: e.id,
        title: eventTitle(e),
        kind: kindLabels[e.kind],
        course: `${e.course_identifier}, ${e.cohort}`,
        runBy: e.deliveryPartner?.name ?? `${e.leadProvider.name} (central event)`,
        when: formatSpan(e.starts_at, e.ends_at),
        booked: e.booked,
        marked: Number(marked.find((m) => m.event_id === e.id)?.n ?? 0),
        tag,
      }
    }
    const upcoming = events.filter((e) => new Date(e.starts_at) > now).map(rowOf)
    const recent = events
      .filter((e) => new Date(e.starts_at) <= now)
      .reverse()
      .map(rowOf)
    return reply.render('registers/views/facilitator-events.njk', { title: 'Your events', upcoming, recent, recentDays: RECENT_DAYS })
  })

  const renderRegister = async (
    req: FastifyRequest<{ Params: Params; Querystring?: Record<string, string> }>,
    reply: FastifyReply,
    options: { errors?: FieldError[]; values?: Record<string, unknown> } = {},
  ) => {
    const event = await eventFor(db, req.principal, req.params.id, 'take-register')
    const principal = req.principal!
    const rules = rulesFor(principal, event)
    const rows = await loadRegister(db, event.id)
    const candidates = await walkInCandidates(
      db,
      event,
      rows.map((r) => r.participantId),
    )
    const takenBy = event.register_taken_by
      ? await db.selectFrom('users').select('full_name').where('id', '=', event.register_taken_by).executeTakeFirst()
      : undefined
    const values = options.values ?? {}
    const selected = new Set(list(values.participants as string[] | undefined))
    const query = (req.query ?? {}) as Record<string, string>
    const done = options.errors?.length ? undefined : doneMessages[query.done ?? '']?.(Number(query.count ?? 0))
    const absent = rows.filter((r) => r.entry?.status === 'absent' || r.entry?.status === 'contingency-completed')
    const errors = options.errors ?? []
    return reply.render(
      'registers/views/register.njk',
      {
        title: `Register: ${eventTitle(event)}`,
        eventTitle: eventTitle(event),
        event,
        kind: kindLabels[event.kind],
        when: formatSpan(event.starts_at, event.ends_at),
        runBy: event.deliveryPartner?.name ?? `${event.leadProvider.name} (central event)`,
        backLink: backLinkFor(principal, event),
        rules,
        lockedFromText: formatDate(`${rules.lockedFrom}T12:00:00Z`),
        taken: event.register_taken_at ? { at: event.register_taken_at, by: takenBy?.full_name ?? null } : null,
        bookedCount: rows.filter((r) => r.booked).length,
        unmarkedBooked: rows.filter((r) => r.booked && !r.entry).length,
        rows: rows.map((r) => ({
          ...r,
          selected: selected.has(r.participantId),
          method: r.entry?.contingencyMethod ? contingencyMethodLabels[r.entry.contingencyMethod] : null,
        })),
        walkInItems: [
          { value: '', text: 'Choose a participant' },
          ...candidates.map((c) => ({ value: c.id, text: `${c.full_name} (${c.email})`, selected: values.walkIn === c.id })),
        ],
        contingencyItems: [
          { value: '', text: 'Choose a participant' },
          ...absent.map((r) => ({ value: r.participantId, text: r.fullName, selected: values.contingencyParticipant === r.participantId })),
        ],
        methodItems: Object.entries(contingencyMethodLabels).map(([value, label]) => ({
          value,
          text: label,
          checked: values.method === value,
        })),
        hasAbsent: absent.length > 0,
        hasCandidates: candidates.length > 0,
        values,
        done,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: Params; Querystring: Record<string, string> }>(
    '/events/:id/register',
    { config: { access: 'signed-in' } },
    (req, reply) => renderRegister(req, reply),
  )

  /** Runs a change in one transaction; a validation problem re-renders the page with nothing changed. */
  const change = async (
    req: FastifyRequest<{ Params: Params; Body: Body }>,
    reply: FastifyReply,
    values: Record<string, unknown>,
    apply: (trx: Trx, principal: Principal, event: EventDetails, rules: RegisterRules) => Promise<string>,
  ) => {
    const event = await eventFor(db, req.principal, req.params.id, 'take-register')
    const principal = req.principal!
    try {
      const done = await db.transaction().execute((trx) => apply(trx, principal, event, rulesFor(principal, event)))
      return reply.redirect(`/events/${event.id}/register?${done}`, 303)
    } catch (error) {
      if (error instanceof AppError && error.code === 'validation-failed' && error.fieldErrors.length) {
        return renderRegister(req, reply, { errors: error.fieldErrors, values })
      }
      throw error
    }
  }

  app.post<{ Params: Params; Body: Body }>('/events/:id/register', { config: { access: 'signed-in' } }, (req, reply) => {
    const body = req.body ?? {}
    const participantIds = list(body.participants)
    const mark = text(body.mark)
    const reason = text(body.reason)
    return change(req, reply, { participants: participantIds, reason }, async (trx, principal, event, rules) => {
      if (mark !== 'attended' && mark !== 'absent') {
        throw new AppError('validation-failed', 'Choose attended or absent', [
          { field: 'participants', message: 'Choose “Mark selected as attended” or “Mark selected as absent”' },
        ])
      }
      const counts = await markParticipants(trx, principal, event, rules, { participantIds, status: mark, reason })
      return `done=${mark}&count=${counts.created + counts.updated + counts.unchanged}`
    })
  })

  app.post<{ Params: Params; Body: Body }>('/events/:id/register/walk-in', { config: { access: 'signed-in' } }, (req, reply) => {
    const body = req.body ?? {}
    const participantId = text(body.walkIn)
    const reason = text(body.walkInReason)
    return change(req, reply, { walkIn: participantId, walkInReason: reason }, async (trx, principal, event, rules) => {
      await addWalkIn(trx, principal, event, rules, { participantId, reason })
      return 'done=walk-in'
    })
  })

  app.post<{ Params: Params; Body: Body }>('/events/:id/register/contingency', { config: { access: 'signed-in' } }, (req, reply) => {
    const body = req.body ?? {}
    const [day, month, year] = [text(body['completedOn-day']), text(body['completedOn-month']), text(body['completedOn-year'])]
    const input = {
      participantId: text(body.contingencyParticipant),
      method: text(body.method),
      completedOn: dateFromParts(day, month, year),
      dateTyped: [day, month, year].some((s) => s.trim() !== ''),
      note: text(body.note),
    }
    const values = { contingencyParticipant: input.participantId, method: input.method, day, month, year, note: input.note }
    return change(req, reply, values, async (trx, principal, event, rules) => {
      await recordContingency(trx, principal, event, rules, input)
      return 'done=contingency'
    })
  })

  // The register as the `attendance` import reads it: current entries only, so it imports back unchanged.
  app.get<{ Params: Params }>('/events/:id/register.csv', { config: { access: 'signed-in' } }, async (req, reply) => {
    const event = await eventFor(db, req.principal, req.params.id, 'take-register')
    const entries = await currentRegisterEntries(db)
      .select(['r.participant_id', 'r.status', 'r.completed_at', 'r.note'])
      .where('r.event_id', '=', event.id)
      .orderBy('r.participant_id')
      .execute()
    const csv = stringify(
      entries.map((e) => [
        event.event_ref,
        e.participant_id,
        e.status,
        e.completed_at ? new Date(e.completed_at).toISOString() : '',
        e.note ?? '',
      ]),
      { header: true, columns: ['event_id', 'participant_id', 'status', 'completed_at', 'note'] },
    )
    const filename = `register-${event.event_ref.replace(/[^A-Za-z0-9._-]/g, '-')}.csv`
    return reply
      .header('cache-control', 'no-store')
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="${filename}"`)
      .send(csv)
  })
}
