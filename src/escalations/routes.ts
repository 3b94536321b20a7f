import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { dashboardClock } from '../dashboards/figures.ts'
import { londonDateOf } from '../dates/london.ts'
import { contactChannels, contactOutcomes } from '../db/schema.ts'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { addDays, ENCOURAGE_DAYS, type EscalationStage } from '../outputs/escalation-stage.ts'
import { caseKey, escalations, type Escalation } from '../outputs/report.ts'
import { deliveryPartnersOf } from '../organisations/organisations.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import {
  agreeExtension,
  channelLabels,
  closedReasonLabels,
  decideRemoval,
  describeAction,
  formatDate,
  isIntervention,
  loadActions,
  loadCase,
  loadCases,
  logContactAttempt,
  outcomeLabels,
  pendingProposal,
  proposeRemoval,
  recordSupportOffered,
  type CaseRow,
  type ContactChannel,
  type ContactOutcome,
  type RemovalOutcome,
} from './cases.ts'
import { halfTermById, halfTermOf, halfTermsBetween, nextHalfTerm } from './half-terms.ts'
import { outputStatusLabel, packXlsx, partnershipPack } from './pack.ts'
import { awaitingSignOff, caseAccess, removalSignOffOf, type CaseAccess } from './policy.ts'
import { sortByUrgency, stageHints, stageLabels, stageTagClasses } from './queue.ts'
import { withdrawalInForce, deferredOn } from '../participants/in-force.ts'

// The escalation queue and case pages, and the partnership meeting pack. Delivery-partner leads work
// their own partner's cases (/delivery-partner/escalations); lead-provider admins see every partner's,
// filter by partner and sign off removals (/lead-provider/escalations). Stages are worked out live, as
// of today, by the same escalations() as the report; the daily job opens and closes the cases.

type AreaSlug = 'delivery-partner' | 'lead-provider'
type Area = { slug: AreaSlug; role: 'delivery-partner-lead' | 'lead-provider-admin' }
type User = Principal & { kind: 'user' }
type Org = { id: string; code: string; name: string }
type Body = Record<string, string | string[] | undefined>

const areas: Area[] = [
  { slug: 'delivery-partner', role: 'delivery-partner-lead' },
  { slug: 'lead-provider', role: 'lead-provider-admin' },
]

const MAX_TEXT = 2000
/** What a redirect after a form may say happened (case.njk has the words). */
const doneMessages = ['extension', 'contact', 'support', 'proposed', 'removed', 'rejected']
// The pages' clock (the benchmark sets it to its data's date; in use it is the real one).
/** How many at-risk participants per output and escalations the pack's page lists (the download has all). */
const PACK_AT_RISK_SHOWN = 50
const PACK_ESCALATIONS_SHOWN = 100

const today = () => londonDateOf(dashboardClock.now())
const days = (from: string, to: string) => Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000)

const isRealIsoDate = (value: string) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false
  const date = new Date(`${value}T00:00:00Z`)
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === value
}

const text = (body: Body, name: string) => {
  const v = body[name]
  return (Array.isArray(v) ? (v[0] ?? '') : (v ?? '')).trim()
}

type DateParts = { day: string; month: string; year: string }

/** A required GOV.UK date input (`name-day`, `name-month`, `name-year`). */
function readDate(body: Body, name: string, label: string): { iso: string | null; parts: DateParts; error: FieldError | null } {
  const parts = { day: text(body, `${name}-day`), month: text(body, `${name}-month`), year: text(body, `${name}-year`) }
  const missing = (['day', 'month', 'year'] as const).filter((p) => !parts[p])
  if (missing.length === 3) return { iso: null, parts, error: { field: `${name}-day`, message: `Enter ${label}` } }
  if (missing.length) {
    const capital = label.charAt(0).toUpperCase() + label.slice(1)
    return { iso: null, parts, error: { field: `${name}-${missing[0]}`, message: `${capital} must include a ${missing.join(' and a ')}` } }
  }
  const ok = /^\d{1,2}$/.test(parts.day) && /^\d{1,2}$/.test(parts.month) && /^\d{4}$/.test(parts.year)
  const iso = ok ? `${parts.year}-${parts.month.padStart(2, '0')}-${parts.day.padStart(2, '0')}` : ''
  if (!isRealIsoDate(iso)) {
    const capital = label.charAt(0).toUpperCase() + label.slice(1)
    return { iso: null, parts, error: { field: `${name}-day`, message: `${capital} must be a real date` } }
  }
  return { iso, parts, error: null }
}

const limit = (errors: FieldError[], field: string, value: string, what: string) => {
  if (value.length > MAX_TEXT) errors.push({ field, message: `${what} must be ${MAX_TEXT.toLocaleString('en-GB')} characters or fewer` })
}

export function registerEscalationRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  const organisations = async (ids: string[]): Promise<Org[]> =>
    ids.length ? db.selectFrom('organisations').select(['id', 'code', 'name']).where('id', 'in', ids).orderBy('name').execute() : []

  const userOf = (req: FastifyRequest, area: Area): User & { organisationIds: string[] } => {
    const p = req.principal
    const organisationIds = p ? [...new Set(organisationsWithRole(p, area.role))] : []
    if (!p || p.kind !== 'user' || organisationIds.length === 0) throw forbidden()
    return { ...p, organisationIds }
  }

  /** Live escalations for the cases given, keyed like the cases: one evaluation per provider, cohort and partner. */
  async function liveFor(cases: CaseRow[], asOf: string): Promise<Map<string, Escalation>> {
    const groups = new Map<string, { leadProvider: string; cohort: string; deliveryPartner?: string }>()
    for (const c of cases) {
      const q = { leadProvider: c.leadProviderCode, cohort: c.cohort, deliveryPartner: c.deliveryPartnerCode ?? undefined }
      groups.set(JSON.stringify(q), q)
    }
    const live = new Map<string, Escalation>()
    for (const q of groups.values()) {
      for (const x of await escalations(services, { ...q, asOf })) {
        live.set(caseKey(x.enrolment.enrolmentId, x.output.declaration_type, x.reviewDate), x)
      }
    }
    return live
  }
  const keyOf = (c: CaseRow) => caseKey(c.enrolmentId, c.declarationType, c.reviewDate)

  /** Nobody is removed who has met the output since, or deferred or withdrew (the job closes such cases next morning). */
  const refuseUnlessEscalated = async (c: CaseRow, now: string) => {
    const live = (await liveFor([c], now)).get(keyOf(c))
    if (!live || live.stage === 'resolved') {
      throw new AppError(
        'invalid-transition',
        'The participant no longer needs escalating (the output is met, or they deferred or withdrew)',
      )
    }
  }

  // ── The queue ────────────────────────────────────────────────────────────────────────────────

  for (const area of areas) {
    const base = `/${area.slug}/escalations`

    app.get(base, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req, area)
      const raw = req.query as Record<string, string | undefined>
      const errors: FieldError[] = []
      let partners: Org[] = []
      let filter: Org | null = null
      if (area.slug === 'lead-provider') {
        const seen = new Map<string, Org>()
        for (const lp of user.organisationIds) for (const dp of await deliveryPartnersOf(db, lp)) seen.set(dp.id, dp)
        partners = [...seen.values()].sort((a, b) => a.name.localeCompare(b.name))
        const code = (raw.delivery_partner ?? '').trim()
        if (code) {
          filter = partners.find((p) => p.code === code) ?? null
          if (!filter) errors.push({ field: 'delivery_partner', message: 'Select one of your delivery partners' })
        }
      }
      const scope =
        area.slug === 'delivery-partner'
          ? { deliveryPartnerIds: user.organisationIds }
          : { leadProviderIds: user.organisationIds, ...(filter ? { deliveryPartnerIds: [filter.id] } : {}) }
      const now = today()
      const open = await loadCases(db, { ...scope, open: true })
      const closed = await loadCases(db, { ...scope, open: false, limit: 100 })
      const live = await liveFor(open, now)
      const actions = await loadActions(
        db,
        open.map((c) => c.id),
      )
      const lastAction = new Map<string, string>()
      for (const a of actions.filter(isIntervention)) lastAction.set(a.caseId, `${describeAction(a).what} (${formatDate(a.onDate)})`)

      const row = (c: CaseRow, stage: EscalationStage | null) => ({
        id: c.id,
        name: c.fullName,
        course: c.courseName,
        cohort: c.cohort,
        output: c.outputLabel,
        reviewDate: c.reviewDate,
        daysSinceReview: days(c.reviewDate, now),
        deliveryPartner: c.deliveryPartnerName ?? 'Not allocated',
        stage: stage ?? 'resolved',
        stageLabel: stage ? stageLabels[stage] : 'No longer escalated',
        stageClass: stage ? stageTagClasses[stage] : 'govuk-tag--grey',
        lastAction: lastAction.get(c.id) ?? 'Nothing recorded yet',
      })
      const working = []
      const settled = []
      for (const c of open) {
        const stage = live.get(keyOf(c))?.stage ?? null
        if (stage && stage !== 'resolved') working.push(row(c, stage))
        else settled.push(row(c, stage))
      }
      return reply.render(
        'escalations/views/queue.njk',
        {
          title: 'Escalations',
          base,
          area: area.slug,
          today: now,
          queue: sortByUrgency(working),
          settled,
          closed: closed.map((c) => ({
            id: c.id,
            name: c.fullName,
            course: c.courseName,
            cohort: c.cohort,
            output: c.outputLabel,
            reviewDate: c.reviewDate,
            deliveryPartner: c.deliveryPartnerName ?? 'Not allocated',
            closedOn: c.closedOn,
            reason: c.closedReason ? closedReasonLabels[c.closedReason] : '',
          })),
          partnerItems: [
            { value: '', text: 'All delivery partners' },
            ...partners.map((p) => ({ value: p.code, text: p.name, selected: p.code === filter?.code })),
          ],
          filter,
          ...(errors.length ? formErrors(errors) : {}),
        },
        errors.length ? 400 : 200,
      )
    })

    // ── A case ────────────────────────────────────────────────────────────────────────────────

    const findCase = async (req: FastifyRequest<{ Params: { id: string } }>) => {
      const user = userOf(req, area)
      const c = await loadCase(db, req.params.id)
      if (!c) throw notFound('Escalation case')
      const access = caseAccess(user, area.slug, c)
      if (!access.view) throw forbidden()
      return { user, c, access }
    }

    const casePage = async (
      reply: FastifyReply,
      user: User,
      c: CaseRow,
      access: CaseAccess,
      extra: { errors?: FieldError[]; values?: Record<string, unknown>; done?: string } = {},
    ) => {
      const now = today()
      const actions = await loadActions(db, [c.id])
      const live = c.closedOn === null ? (await liveFor([c], now)).get(keyOf(c)) : undefined
      const stage: EscalationStage | null = live?.stage ?? null
      const withdrawal = await db
        .selectFrom('withdrawals')
        .select(['reason', 'withdrawn_on'])
        .where('participant_id', '=', c.participantId)
        .where(withdrawalInForce)
        .executeTakeFirst()
      const deferral = await db
        .selectFrom('deferrals')
        .select(['deferred_on', 'planned_return_on'])
        .where('participant_id', '=', c.participantId)
        .where(deferredOn(now))
        .executeTakeFirst()
      const participantStatus = withdrawal
        ? `Withdrawn from ${formatDate(String(withdrawal.withdrawn_on))} (${withdrawal.reason.replaceAll('-', ' ')})`
        : deferral
          ? `Deferred from ${formatDate(String(deferral.deferred_on))}`
          : 'Active'
      const rule = removalSignOffOf(services.catalogue, c.leadProviderCode)
      const proposal = pendingProposal(actions)
      const awaiting = proposal ? awaitingSignOff(rule, ['delivery-partner']) : []
      const isOpen = c.closedOn === null
      const contactAttempts = actions.filter((a) => a.kind === 'contact-attempt').length
      const values = extra.values ?? {}
      const errors = extra.errors ?? []
      return reply.render(
        'escalations/views/case.njk',
        {
          title: `${c.fullName}: ${c.outputLabel.toLowerCase()}`,
          base,
          area: area.slug,
          c,
          isOpen,
          stage,
          stageLabel: stage ? stageLabels[stage] : isOpen ? 'No longer escalated' : 'Closed',
          stageClass: stage ? stageTagClasses[stage] : 'govuk-tag--grey',
          stageHint: stage
            ? stageHints[stage]
            : isOpen
              ? 'The participant no longer needs escalating: the case closes at the next daily check.'
              : '',
          closedReason: c.closedReason ? closedReasonLabels[c.closedReason] : null,
          daysSinceReview: days(c.reviewDate, now),
          encourageUntil: addDays(c.reviewDate, ENCOURAGE_DAYS),
          participantStatus,
          history: actions.map((a) => ({
            on: a.onDate,
            ...describeAction(a),
            by: a.recordedBy ?? 'Daily check',
            system: a.recordedBy === null,
          })),
          canWork: access.work && isOpen,
          contactAttempts,
          proposal: proposal ? { on: proposal.onDate, by: proposal.recordedBy, reason: proposal.notes } : null,
          rule,
          ruleText:
            rule === 'joint'
              ? `${c.leadProviderName}'s policy: removal is decided jointly by the delivery partner and the lead provider. The partner's proposal is its approval; a lead provider admin then approves or rejects it.`
              : `${c.leadProviderName}'s policy: final sign-off of a removal sits with the delivery partner. Proposing removal removes the participant.`,
          awaitingLeadProvider: awaiting.includes('lead-provider'),
          canDecide: isOpen && proposal !== null && access.party === 'lead-provider' && awaiting.includes('lead-provider'),
          canWithdrawProposal: isOpen && proposal !== null && access.work,
          channelItems: contactChannels.map((ch) => ({ value: ch, text: channelLabels[ch], checked: values.channel === ch })),
          outcomeItems: contactOutcomes.map((o) => ({ value: o, text: outcomeLabels[o], checked: values.outcome === o })),
          decisionItems: [
            { value: 'approve', text: 'Approve: remove the participant', checked: values.decision === 'approve' },
            { value: 'reject', text: 'Reject: keep the participant on the course', checked: values.decision === 'reject' },
          ],
          values,
          done: extra.done,
          ...(errors.length ? formErrors(errors) : {}),
        },
        errors.length ? 400 : 200,
      )
    }

    app.get<{ Params: { id: string }; Querystring: { done?: string } }>(
      `${base}/:id`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const { user, c, access } = await findCase(req)
        const done = doneMessages.includes(req.query.done ?? '') ? req.query.done : undefined
        return casePage(reply, user, c, access, { done })
      },
    )

    /**
     * A form on the case page: read and check it (errors re-render the page, 400, nothing changed), then
     * do it in one transaction. Refusals by the rules (a closed case, no contact attempt yet) show the
     * same way, on the form's first field.
     */
    const post = (
      path: string,
      allowed: (access: CaseAccess) => boolean,
      field: string,
      handle: (input: { user: User; c: CaseRow; access: CaseAccess; body: Body; now: string }) => {
        errors: FieldError[]
        values: Record<string, unknown>
        run: () => Promise<string>
      },
    ) =>
      app.post<{ Params: { id: string }; Body: Body }>(`${base}/:id/${path}`, { config: { access: 'signed-in' } }, async (req, reply) => {
        const { user, c, access } = await findCase(req)
        if (!allowed(access)) throw forbidden()
        const body = req.body ?? {}
        const { errors, values, run } = handle({ user, c, access, body, now: today() })
        if (errors.length) return casePage(reply, user, c, access, { errors, values })
        try {
          const done = await run()
          return reply.redirect(`${base}/${c.id}?done=${done}`, 303)
        } catch (error) {
          if (!(error instanceof AppError) || !['invalid-transition', 'validation-failed'].includes(error.code)) throw error
          const problems = error.fieldErrors.length ? error.fieldErrors : [{ field, message: error.message }]
          return casePage(reply, user, (await loadCase(db, c.id))!, access, { errors: problems, values })
        }
      })

    post(
      'extension',
      (a) => a.work,
      'deadline-day',
      ({ user, c, body, now }) => {
        const errors: FieldError[] = []
        const deadline = readDate(body, 'deadline', 'the extended deadline')
        if (deadline.error) errors.push(deadline.error)
        else if (deadline.iso! <= now) errors.push({ field: 'deadline-day', message: 'The extended deadline must be after today' })
        const reason = text(body, 'extension_reason')
        if (!reason) errors.push({ field: 'extension_reason', message: 'Enter the reason for the extended deadline' })
        limit(errors, 'extension_reason', reason, 'The reason')
        return {
          errors,
          values: { deadline: deadline.parts, extension_reason: reason },
          run: async () => {
            await db.transaction().execute((trx) => agreeExtension(trx, user, c, { deadline: deadline.iso!, reason, today: now }))
            return 'extension'
          },
        }
      },
    )

    post(
      'contact',
      (a) => a.work,
      'contact_date-day',
      ({ user, c, body, now }) => {
        const errors: FieldError[] = []
        const on = readDate(body, 'contact_date', 'the date of the contact attempt')
        if (on.error) errors.push(on.error)
        else if (on.iso! > now)
          errors.push({ field: 'contact_date-day', message: 'The date of the contact attempt must be today or in the past' })
        else if (on.iso! < c.reviewDate)
          errors.push({
            field: 'contact_date-day',
            message: `The date of the contact attempt must be on or after the review date, ${formatDate(c.reviewDate)}`,
          })
        const channel = text(body, 'channel')
        if (!(contactChannels as readonly string[]).includes(channel))
          errors.push({ field: 'channel', message: 'Select how you tried to contact the participant' })
        const outcome = text(body, 'outcome')
        if (!(contactOutcomes as readonly string[]).includes(outcome))
          errors.push({ field: 'outcome', message: 'Select what came of the contact attempt' })
        const notes = text(body, 'contact_notes')
        limit(errors, 'contact_notes', notes, 'The notes')
        return {
          errors,
          values: { contact_date: on.parts, channel, outcome, contact_notes: notes },
          run: async () => {
            await db.transaction().execute((trx) =>
              logContactAttempt(trx, user, c, {
                on: on.iso!,
                channel: channel as ContactChannel,
                outcome: outcome as ContactOutcome,
                notes,
              }),
            )
            return 'contact'
          },
        }
      },
    )

    post(
      'support',
      (a) => a.work,
      'support_notes',
      ({ user, c, body, now }) => {
        const errors: FieldError[] = []
        const notes = text(body, 'support_notes')
        if (!notes) errors.push({ field: 'support_notes', message: 'Enter the support you offered' })
        limit(errors, 'support_notes', notes, 'The support offered')
        return {
          errors,
          values: { support_notes: notes },
          run: async () => {
            await db.transaction().execute((trx) => recordSupportOffered(trx, user, c, { notes, today: now }))
            return 'support'
          },
        }
      },
    )

    post(
      'removal',
      (a) => a.work,
      'removal_reason',
      ({ user, c, body, now }) => {
        const errors: FieldError[] = []
        const reason = text(body, 'removal_reason')
        if (!reason) errors.push({ field: 'removal_reason', message: 'Enter why the participant should be removed' })
        limit(errors, 'removal_reason', reason, 'The reason')
        const confirmed = text(body, 'removal_confirm') === 'yes'
        return {
          errors,
          values: { removal_reason: reason, removal_confirm: confirmed },
          run: async () => {
            await refuseUnlessEscalated(c, now)
            const outcome: RemovalOutcome = await db
              .transaction()
              .execute((trx) => proposeRemoval(trx, services, user, c, { reason, confirmed, today: now }))
            return outcome === 'removed' ? 'removed' : 'proposed'
          },
        }
      },
    )

    post(
      'removal/decision',
      (a) => a.party !== null,
      'decision',
      ({ user, c, access, body, now }) => {
        const errors: FieldError[] = []
        // A partner's lead can only take its own proposal back; a lead provider's admin approves or rejects.
        const decision = access.party === 'delivery-partner' ? 'reject' : text(body, 'decision')
        if (decision !== 'approve' && decision !== 'reject')
          errors.push({ field: 'decision', message: 'Select whether you approve or reject the removal' })
        const notes = text(body, 'decision_notes')
        if (decision === 'reject' && !notes) {
          errors.push({
            field: 'decision_notes',
            message:
              access.party === 'delivery-partner' ? 'Enter why you are taking the proposal back' : 'Enter why you reject the removal',
          })
        }
        limit(errors, 'decision_notes', notes, 'The notes')
        const organisationId = access.party === 'delivery-partner' ? c.deliveryPartnerId! : c.leadProviderId
        return {
          errors,
          values: { decision, decision_notes: notes },
          run: async () => {
            if (decision === 'approve') await refuseUnlessEscalated(c, now)
            const outcome = await db.transaction().execute((trx) =>
              decideRemoval(trx, services, user, c, {
                party: access.party!,
                organisationId,
                decision: decision as 'approve' | 'reject',
                notes,
                today: now,
              }),
            )
            return outcome
          },
        }
      },
    )
  }

  // ── The partnership meeting pack ─────────────────────────────────────────────────────────────

  for (const area of areas) {
    const base = `/${area.slug}/partnership-pack`
    app.get(base, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req, area)
      const raw = req.query as Record<string, string | undefined>
      const query = (name: string) => (raw[name] ?? '').trim()
      const errors: FieldError[] = []
      const now = today()

      let leadProviders: Org[]
      let deliveryPartners: Org[]
      let leadProvider: Org | null
      let deliveryPartner: Org | null
      if (area.slug === 'delivery-partner') {
        deliveryPartners = await organisations(user.organisationIds)
        deliveryPartner = deliveryPartners[0]!
        if (query('delivery_partner')) {
          const chosen = deliveryPartners.find((d) => d.code === query('delivery_partner'))
          // Another partner's pack is not this lead's to see.
          if (!chosen) throw forbidden()
          deliveryPartner = chosen
        }
        const lpIds = (
          await db
            .selectFrom('delivery_partnerships')
            .select('lead_provider_id')
            .where('delivery_partner_id', '=', deliveryPartner.id)
            .execute()
        ).map((r) => r.lead_provider_id)
        leadProviders = await organisations(lpIds)
        leadProvider = leadProviders[0] ?? null
        if (query('lead_provider')) {
          leadProvider = leadProviders.find((l) => l.code === query('lead_provider')) ?? null
          if (!leadProvider)
            errors.push({ field: 'lead_provider', message: `Select a lead provider that ${deliveryPartner.name} works with` })
        }
      } else {
        leadProviders = await organisations(user.organisationIds)
        leadProvider = leadProviders[0]!
        if (query('lead_provider')) {
          const chosen = leadProviders.find((l) => l.code === query('lead_provider'))
          if (!chosen) throw forbidden()
          leadProvider = chosen
        }
        deliveryPartners = await deliveryPartnersOf(db, leadProvider.id)
        deliveryPartner = null
        if (query('delivery_partner')) {
          deliveryPartner = deliveryPartners.find((d) => d.code === query('delivery_partner')) ?? null
          if (!deliveryPartner) {
            const exists = await db
              .selectFrom('organisations')
              .select('id')
              .where('kind', '=', 'delivery-partner')
              .where('code', '=', query('delivery_partner'))
              .executeTakeFirst()
            if (exists) throw forbidden()
            errors.push({ field: 'delivery_partner', message: `Select a delivery partner that works with ${leadProvider.name}` })
          }
        }
      }

      // Half terms from the provider's earliest cohort with participants here to the next one.
      const current = halfTermOf(now)
      const starts = leadProvider
        ? (
            await db
              .selectFrom('enrolments')
              .select('cohort')
              .distinct()
              .where('lead_provider_id', '=', leadProvider.id)
              .$if(deliveryPartner !== null, (q) => q.where('delivery_partner_id', '=', deliveryPartner!.id))
              .execute()
          )
            .map((r) => services.catalogue.cohortStartsOn(leadProvider!.code, r.cohort))
            .filter((d): d is string => d !== null)
            .sort()
        : []
      const earliest = starts[0] && starts[0] < current.start ? starts[0] : current.start
      const halfTerms = halfTermsBetween(earliest, nextHalfTerm(current).start).reverse()
      let halfTerm = current
      if (query('half_term')) {
        const chosen = halfTermById(query('half_term'))
        if (chosen) halfTerm = chosen
        else errors.push({ field: 'half_term', message: 'Select a half term' })
      }

      const page = {
        title: 'Partnership meeting pack',
        base,
        area: area.slug,
        leadProviderItems: leadProviders.map((l) => ({ value: l.code, text: l.name, selected: l.code === leadProvider?.code })),
        deliveryPartnerItems: [
          ...(area.slug === 'lead-provider' ? [{ value: '', text: 'Select a delivery partner' }] : []),
          ...deliveryPartners.map((d) => ({ value: d.code, text: d.name, selected: d.code === deliveryPartner?.code })),
        ],
        halfTermItems: (halfTerms.some((h) => h.id === halfTerm.id) ? halfTerms : [halfTerm, ...halfTerms]).map((h) => ({
          value: h.id,
          text: `${h.label} (${formatDate(h.start)} to ${formatDate(h.end)})`,
          selected: h.id === halfTerm.id,
        })),
        showLeadProviders: leadProviders.length > 1 || errors.some((e) => e.field === 'lead_provider'),
        showDeliveryPartners: area.slug === 'lead-provider' || deliveryPartners.length > 1,
      }
      if (errors.length) return reply.render('escalations/views/pack.njk', { ...page, ...formErrors(errors) }, 400)
      if (!leadProvider || !deliveryPartner) return reply.render('escalations/views/pack.njk', { ...page, noPartner: !leadProvider })

      const pack = await partnershipPack(services, { leadProvider, deliveryPartner, halfTerm, today: now })
      if (query('format') === 'xlsx') {
        const filename = `partnership-pack-${leadProvider.code}-${deliveryPartner.code}-${halfTerm.id}.xlsx`
        return reply
          .header('cache-control', 'no-store')
          .type('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
          .header('content-disposition', `attachment; filename="${filename}"`)
          .send(await packXlsx(pack))
      }
      const params = new URLSearchParams({
        lead_provider: leadProvider.code,
        delivery_partner: deliveryPartner.code,
        half_term: halfTerm.id,
      })
      // The page lists the first of each (the download has everyone): a partner's pack at national
      // scale named thousands, megabytes no meeting reads on screen.
      const shown = {
        ...pack,
        outputsDue: pack.outputsDue.map((o) => ({
          ...o,
          atRiskShown: o.participants.filter((p) => p.atRisk).slice(0, PACK_AT_RISK_SHOWN),
        })),
        escalationsShown: pack.escalations.slice(0, PACK_ESCALATIONS_SHOWN),
      }
      return reply.render('escalations/views/pack.njk', {
        ...page,
        pack: shown,
        xlsxUrl: `${base}?${params.toString()}&format=xlsx`,
        caseBase: `/${area.slug}/escalations`,
        statusLabel: outputStatusLabel,
        stageLabels,
        stageTagClasses,
        stageHints,
        formatDate,
      })
    })
  }
}
