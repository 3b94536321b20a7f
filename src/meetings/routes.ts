import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { formatLondonDate, londonDateOf, londonMoment, londonTimeOf } from '../dates/london.ts'
import { meetingStages, type MeetingStage } from '../db/schema.ts'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { formatSpan } from '../events/times.ts'
import { organisationsWithRole } from '../policy/principal.ts'
import { dateFromParts } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { logProblems, saveLog, signLog, startNewVersion, type LogInput } from './log-versions.ts'
import {
  enrolmentFor,
  isLocked,
  isSignedByBoth,
  loadMeetingEnrolments,
  logStateLabels,
  meetingEnrolmentPage,
  meetingOverviews,
  meetingSummary,
  needsSignatureOf,
  versionQuery,
  type MeetingEnrolment,
  type MeetingOverview,
  type Party,
  type User,
  type VersionRow,
} from './meetings.ts'
import { logQuestions, logSections, stageLabels, stagePrompts, stagePurposes } from './prompts.ts'
import { cancelMeeting, meetingsPath, rescheduleMeeting, scheduleMeeting } from './schedule.ts'

// Line manager/mentor meeting pages. Both the participant and their line manager use the same pages
// (/meetings/:enrolment), the participant's list is /participant/meetings, the line manager's is their
// Home; a delivery partner's leads read signed logs (/delivery-partner/meetings) and every log page.

type Body = Record<string, string | string[] | undefined>
const text = (v: unknown) => (typeof v === 'string' ? v : '').trim()
const view = (name: string) => `meetings/views/${name}.njk`
const durations = [30, 45, 60, 90, 120]

const dateValues = (date: string | null | undefined) => {
  const [year, month, day] = (date ?? '').split('-')
  return date ? { day: String(Number(day)), month: String(Number(month)), year } : {}
}
const valuesOf = (body: Body, name: string) => ({
  day: text(body[`${name}-day`]),
  month: text(body[`${name}-month`]),
  year: text(body[`${name}-year`]),
})
const dateOf = (body: Body, name: string) =>
  dateFromParts(text(body[`${name}-day`]), text(body[`${name}-month`]), text(body[`${name}-year`]))

const PER_PAGE = 50
const MAX_UNCHOSEN = 1000

/** GOV.UK pagination: previous and next, the first and last pages and those either side of this one, with gaps. */
export function paginationOf(href: (page: number) => string, page: number, total: number, perPage: number) {
  const pages = Math.max(1, Math.ceil(total / perPage))
  if (pages === 1) return null
  const items: ({ number: number; href: string; current: boolean } | { ellipsis: true })[] = []
  for (let n = 1; n <= pages; n++) {
    if (n === 1 || n === pages || Math.abs(n - page) <= 1) items.push({ number: n, href: href(n), current: n === page })
    else if (!('ellipsis' in (items.at(-1) ?? {}))) items.push({ ellipsis: true })
  }
  return {
    previous: page > 1 ? { href: href(page - 1) } : undefined,
    next: page < pages ? { href: href(page + 1) } : undefined,
    items,
  }
}

/** The meeting rows of an overview, ready for the templates. */
export function meetingRows(o: MeetingOverview, party: Party) {
  return o.meetings.map((m) => ({
    number: m.number,
    when: m.schedule
      ? formatSpan(m.schedule.startsAt, new Date(m.schedule.startsAt.getTime() + m.schedule.durationMinutes * 60_000))
      : null,
    where: m.schedule?.location ?? null,
    scheduleId: m.schedule?.id ?? null,
    state: m.state,
    stateText: logStateLabels[m.state],
    signedOn:
      m.signed?.lineManagerSignedAt && m.signed.participantSignedAt
        ? londonDateOf(new Date(Math.max(m.signed.lineManagerSignedAt.getTime(), m.signed.participantSignedAt.getTime())))
        : null,
    needsYou: needsSignatureOf(m, party),
    logHref: `${meetingsPath(o.e.id)}/logs/${m.number}`,
  }))
}

export function registerMeetingRoutes(app: FastifyInstance, services: Services): void {
  const { db, catalogue } = services
  const userOf = (req: FastifyRequest): User => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    return p
  }
  const load = (req: FastifyRequest, id: string) => enrolmentFor(db, catalogue, userOf(req), id)
  const meetingNumberOf = (e: MeetingEnrolment, raw: string) => {
    const n = Number(raw)
    if (!Number.isInteger(n) || n < 1 || n > e.meetingsRequired) throw notFound('Meeting')
    return n
  }

  /** Runs a change in a transaction; a refusal re-renders the page with the message and changes nothing. */
  async function attempt(work: () => Promise<string>, redisplay: (errors: FieldError[]) => Promise<unknown>, field: string) {
    try {
      return { location: await work() }
    } catch (error) {
      if (!(error instanceof AppError) || !['validation-failed', 'invalid-transition', 'not-found'].includes(error.code)) throw error
      return { page: await redisplay(error.fieldErrors.length ? error.fieldErrors : [{ field, message: error.message }]) }
    }
  }

  // ---- Lists ----

  app.get('/participant/meetings', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const enrolments = await loadMeetingEnrolments(db, catalogue, { participantUserId: user.userId })
    const overviews = await meetingOverviews(db, enrolments)
    return reply.render(view('participant'), {
      title: 'Line manager meetings',
      overviews: overviews.map((o) => ({ ...o, rows: meetingRows(o, 'participant'), href: meetingsPath(o.e.id) })),
    })
  })

  // Delivery partner leads and lead provider admins read signed logs and each participant's progress.
  // A summary per delivery partner, course and cohort, then one page of participants (filtered by
  // delivery partner, course and cohort) with the signed logs of the participants on that page.
  for (const area of ['delivery-partner', 'lead-provider'] as const) {
    app.get<{ Querystring: { deliveryPartner?: string; course?: string; cohort?: string; page?: string } }>(
      `/${area}/meetings`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const organisationIds = organisationsWithRole(user, area === 'delivery-partner' ? 'delivery-partner-lead' : 'lead-provider-admin')
        if (!organisationIds.length) throw forbidden()
        const scope = area === 'delivery-partner' ? { deliveryPartnerIds: organisationIds } : { leadProviderIds: organisationIds }
        const summary = await meetingSummary(db, catalogue, scope)
        // Only values the summary offers: anything else is no filter at all.
        const partners = [
          ...new Map(summary.map((r) => [r.deliveryPartnerId ?? '', r.deliveryPartnerName ?? 'No delivery partner'])).entries(),
        ]
        const courseList = [...new Map(summary.map((r) => [r.courseIdentifier, r.courseName])).entries()]
        const cohorts = [...new Set(summary.map((r) => r.cohort))].sort()
        const q = req.query
        const filter = {
          deliveryPartnerId: partners.some(([id]) => id && id === text(q.deliveryPartner)) ? text(q.deliveryPartner) : undefined,
          courseIdentifier: courseList.some(([id]) => id === text(q.course)) ? text(q.course) : undefined,
          cohort: cohorts.includes(text(q.cohort)) ? text(q.cohort) : undefined,
        }
        // How many match, from the summary's counts. Beyond MAX_UNCHOSEN, a delivery partner is chosen
        // first (a list of thousands sorted by name is neither quick nor usable); a page past the end shows the last.
        const total = summary
          .filter(
            (r) =>
              (!filter.deliveryPartnerId || r.deliveryPartnerId === filter.deliveryPartnerId) &&
              (!filter.courseIdentifier || r.courseIdentifier === filter.courseIdentifier) &&
              (!filter.cohort || r.cohort === filter.cohort),
          )
          .reduce((sum, r) => sum + r.participants, 0)
        const choosePartner = area === 'lead-provider' && !filter.deliveryPartnerId && total > MAX_UNCHOSEN
        const requested = Number(text(q.page) || '1')
        const page = Math.min(Number.isInteger(requested) && requested > 0 ? requested : 1, Math.max(1, Math.ceil(total / PER_PAGE)))
        const enrolments =
          total && !choosePartner
            ? await meetingEnrolmentPage(db, catalogue, scope, filter, { limit: PER_PAGE, offset: (page - 1) * PER_PAGE })
            : []
        const result = { enrolments, total }
        const overviews = await meetingOverviews(db, result.enrolments)
        const signed = overviews.flatMap((o) =>
          o.meetings
            .filter((m) => m.signed)
            .map((m) => ({
              name: o.e.fullName,
              course: `${o.e.courseName}, ${o.e.cohort}`,
              number: m.number,
              heldOn: m.signed!.heldOn,
              version: m.signed!.version,
              fats: m.signed!.fatsCompleted ? `Yes (${m.signed!.fatsCompletedCount})` : 'No',
              href: `${meetingsPath(o.e.id)}/logs/${m.number}`,
            })),
        )
        signed.sort((a, b) => b.heldOn.localeCompare(a.heldOn) || a.name.localeCompare(b.name))
        const base = `/${area}/meetings`
        const query = (f: { deliveryPartnerId?: string; courseIdentifier?: string; cohort?: string }, n = 1) => {
          const params = new URLSearchParams()
          if (f.deliveryPartnerId) params.set('deliveryPartner', f.deliveryPartnerId)
          if (f.courseIdentifier) params.set('course', f.courseIdentifier)
          if (f.cohort) params.set('cohort', f.cohort)
          if (n > 1) params.set('page', String(n))
          const s = params.toString()
          return s ? `${base}?${s}` : base
        }
        const filtered = Boolean(filter.deliveryPartnerId || filter.courseIdentifier || filter.cohort)
        return reply.render(view('delivery-partner'), {
          title: 'Line manager meeting logs',
          area,
          base,
          summary: summary.map((r) => ({
            ...r,
            href: query({ deliveryPartnerId: r.deliveryPartnerId ?? undefined, courseIdentifier: r.courseIdentifier, cohort: r.cohort }),
          })),
          partnerItems: [
            { value: '', text: 'All delivery partners' },
            ...partners.filter(([id]) => id).map(([id, name]) => ({ value: id, text: name, selected: id === filter.deliveryPartnerId })),
          ],
          courseItems: [
            { value: '', text: 'All courses' },
            ...courseList.map(([id, name]) => ({ value: id, text: name, selected: id === filter.courseIdentifier })),
          ],
          cohortItems: [{ value: '', text: 'All cohorts' }, ...cohorts.map((c) => ({ value: c, text: c, selected: c === filter.cohort }))],
          filtered,
          total: result.total,
          from: result.total ? (page - 1) * PER_PAGE + 1 : 0,
          to: Math.min(page * PER_PAGE, result.total),
          choosePartner,
          pagination: choosePartner ? null : paginationOf((n) => query(filter, n), page, result.total, PER_PAGE),
          signed,
          progress: overviews.map((o) => ({
            name: o.e.fullName,
            course: `${o.e.courseName}, ${o.e.cohort}`,
            deliveryPartner: o.e.deliveryPartnerName,
            required: o.e.meetingsRequired,
            scheduled: o.scheduledCount,
            signed: o.signedCount,
            lineManager: o.e.lineManagerName,
            href: meetingsPath(o.e.id),
          })),
        })
      },
    )
  }

  // ---- One enrolment's meetings ----

  app.get<{ Params: { id: string }; Querystring: { done?: string } }>(
    '/meetings/:id',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { e, party } = await load(req, req.params.id)
      const [o] = await meetingOverviews(db, [e])
      return reply.render(view('enrolment'), {
        title: `Line manager meetings: ${e.fullName}`,
        e,
        party,
        rows: meetingRows(o!, party),
        o,
        backHref:
          party === 'participant' ? '/participant/meetings' : party === 'line-manager' ? '/line-manager' : '/delivery-partner/meetings',
        done: req.query.done,
      })
    },
  )

  // ---- Scheduling ----

  async function scheduleForm(
    req: FastifyRequest,
    reply: FastifyReply,
    e: MeetingEnrolment,
    scheduleId: string | null,
    body: Body | null,
    errors?: FieldError[],
  ) {
    const [o] = await meetingOverviews(db, [e])
    const existing = scheduleId ? o!.meetings.find((m) => m.schedule?.id === scheduleId)?.schedule : null
    if (scheduleId && !existing) throw notFound('Meeting')
    const free = o!.meetings.filter((m) => !m.schedule && m.number <= e.meetingsRequired).map((m) => m.number)
    const wanted = text(body?.meetingNumber) || text((req.query as { number?: string }).number) || String(free[0] ?? '')
    const startsAt = existing ? new Date(existing.startsAt) : null
    return reply.render(
      view('schedule'),
      {
        title: existing ? `Change meeting ${existing.meetingNumber}` : 'Schedule a meeting',
        e,
        back: meetingsPath(e.id),
        action: existing ? `${meetingsPath(e.id)}/schedules/${existing.id}` : `${meetingsPath(e.id)}/schedule`,
        cancelAction: existing ? `${meetingsPath(e.id)}/schedules/${existing.id}/cancel` : null,
        existing,
        numberItems: free.map((n) => ({ value: String(n), text: `Meeting ${n} of ${e.meetingsRequired}`, selected: wanted === String(n) })),
        durationItems: durations.map((d) => ({
          value: String(d),
          text: d < 60 ? `${d} minutes` : d === 60 ? '1 hour' : `${d / 60} hours`,
          selected: (text(body?.durationMinutes) || String(existing?.durationMinutes ?? 60)) === String(d),
        })),
        values: {
          date: body ? valuesOf(body, 'date') : dateValues(startsAt ? londonDateOf(startsAt) : null),
          time: body ? text(body.time) : startsAt ? londonTimeOf(startsAt) : '',
          location: body ? text(body.location) : (existing?.location ?? ''),
        },
        ...(errors ? formErrors(errors) : {}),
      },
      errors ? 400 : 200,
    )
  }

  function readSchedule(body: Body) {
    const problems: FieldError[] = []
    const date = dateOf(body, 'date')
    if (!date) problems.push({ field: 'date-day', message: 'Enter the date of the meeting as a real date, for example 27 3 2026' })
    const time = text(body.time)
    const startsAt = date && /^\d{1,2}:\d{2}$/.test(time) ? londonMoment(date, time) : null
    if (!startsAt) problems.push({ field: 'time', message: 'Enter the start time as hours and minutes, for example 09:30' })
    const durationMinutes = Number(text(body.durationMinutes))
    if (!durations.includes(durationMinutes)) problems.push({ field: 'durationMinutes', message: 'Select how long the meeting is' })
    const location = text(body.location)
    if (!location) problems.push({ field: 'location', message: 'Enter where the meeting is, or the link to join it online' })
    else if (location.length > 500) problems.push({ field: 'location', message: 'Keep the place or link to 500 characters or fewer' })
    return { problems, startsAt, durationMinutes, location }
  }

  const mustTakePart = (e: MeetingEnrolment, party: Party) => {
    if (party === 'reader') throw forbidden()
    if (e.meetingsRequired === 0) throw notFound('Meeting')
  }

  app.get<{ Params: { id: string } }>('/meetings/:id/schedule', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { e, party } = await load(req, req.params.id)
    mustTakePart(e, party)
    return scheduleForm(req, reply, e, null, null)
  })

  app.post<{ Params: { id: string }; Body: Body }>('/meetings/:id/schedule', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const { e, party } = await load(req, req.params.id)
    mustTakePart(e, party)
    const body = req.body ?? {}
    const { problems, startsAt, durationMinutes, location } = readSchedule(body)
    const meetingNumber = Number(text(body.meetingNumber))
    if (!Number.isInteger(meetingNumber) || meetingNumber < 1)
      problems.unshift({ field: 'meetingNumber', message: 'Choose the meeting number' })
    if (problems.length) return scheduleForm(req, reply, e, null, body, problems)
    const result = await attempt(
      async () => {
        await db
          .transaction()
          .execute((trx) => scheduleMeeting(trx, services, user, e, { meetingNumber, startsAt: startsAt!, durationMinutes, location }))
        return `${meetingsPath(e.id)}?done=scheduled`
      },
      (errors) => scheduleForm(req, reply, e, null, body, errors),
      'meetingNumber',
    )
    return result.location ? reply.redirect(result.location, 303) : result.page
  })

  app.get<{ Params: { id: string; sid: string } }>(
    '/meetings/:id/schedules/:sid',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { e, party } = await load(req, req.params.id)
      mustTakePart(e, party)
      return scheduleForm(req, reply, e, req.params.sid, null)
    },
  )

  app.post<{ Params: { id: string; sid: string }; Body: Body }>(
    '/meetings/:id/schedules/:sid',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { e, party } = await load(req, req.params.id)
      mustTakePart(e, party)
      const body = req.body ?? {}
      const { problems, startsAt, durationMinutes, location } = readSchedule(body)
      if (problems.length) return scheduleForm(req, reply, e, req.params.sid, body, problems)
      const result = await attempt(
        async () => {
          await db
            .transaction()
            .execute((trx) => rescheduleMeeting(trx, services, user, e, req.params.sid, { startsAt: startsAt!, durationMinutes, location }))
          return `${meetingsPath(e.id)}?done=changed`
        },
        (errors) => scheduleForm(req, reply, e, req.params.sid, body, errors),
        'date-day',
      )
      return result.location ? reply.redirect(result.location, 303) : result.page
    },
  )

  app.post<{ Params: { id: string; sid: string } }>(
    '/meetings/:id/schedules/:sid/cancel',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { e, party } = await load(req, req.params.id)
      mustTakePart(e, party)
      const result = await attempt(
        async () => {
          await db.transaction().execute((trx) => cancelMeeting(trx, services, user, e, req.params.sid))
          return `${meetingsPath(e.id)}?done=cancelled`
        },
        (errors) => scheduleForm(req, reply, e, req.params.sid, null, errors),
        'date-day',
      )
      return result.location ? reply.redirect(result.location, 303) : result.page
    },
  )

  // ---- The log ----

  async function versionsOf(e: MeetingEnrolment, n: number): Promise<VersionRow[]> {
    return versionQuery(db).where('v.enrolment_id', '=', e.id).where('v.meeting_number', '=', n).orderBy('v.version').execute()
  }

  const signedText = (at: Date | null) => (at ? `Signed on ${formatLondonDate(at)}` : 'Not signed')

  async function logPage(req: FastifyRequest, reply: FastifyReply, e: MeetingEnrolment, party: Party, n: number, errors?: FieldError[]) {
    const versions = await versionsOf(e, n)
    const latest = versions.at(-1) ?? null
    const evidence = versions.filter(isSignedByBoth).at(-1) ?? null
    const [o] = await meetingOverviews(db, [e])
    const m = o!.meetings.find((x) => x.number === n)!
    const takesPart = party !== 'reader'
    const side = party === 'participant' ? 'participant' : 'line-manager'
    const done = (req.query as { done?: string }).done
    return reply.render(
      view('log'),
      {
        title: `Meeting ${n} log: ${e.fullName}`,
        e,
        n,
        party,
        back: meetingsPath(e.id),
        base: `${meetingsPath(e.id)}/logs/${n}`,
        latest,
        evidence,
        stateText: logStateLabels[m.state],
        stageLabel: latest ? stageLabels[latest.stage] : null,
        sections: logSections.map((s) => ({ stage: s.stage, label: stageLabels[s.stage], prompts: stagePrompts[s.stage] })),
        participantSigned: latest ? signedText(latest.participantSignedAt) : null,
        lineManagerSigned: latest ? signedText(latest.lineManagerSignedAt) : null,
        canWrite: takesPart && (!latest || !isLocked(latest)),
        canSign:
          takesPart &&
          latest !== null &&
          !isSignedByBoth(latest) &&
          !(side === 'participant' ? latest.participantSignedAt : latest.lineManagerSignedAt),
        canNewVersion: takesPart && latest !== null && isLocked(latest),
        noLineManager: !e.lineManagerUserId,
        history: versions
          .slice()
          .reverse()
          .map((v) => ({
            version: v.version,
            writtenBy: v.createdByName ?? '',
            updated: londonDateOf(v.updatedAt),
            participant: signedText(v.participantSignedAt),
            lineManager: signedText(v.lineManagerSignedAt),
            status: v.meetingLogId
              ? evidence && v.id === evidence.id
                ? 'Evidence (current)'
                : 'Evidence (superseded)'
              : isLocked(v)
                ? latest && v.id === latest.id
                  ? 'Waiting for a signature'
                  : 'Replaced by a later version'
                : 'Draft',
          })),
        done,
        ...(errors ? formErrors(errors) : {}),
      },
      errors ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string; n: string } }>('/meetings/:id/logs/:n', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { e, party } = await load(req, req.params.id)
    return logPage(req, reply, e, party, meetingNumberOf(e, req.params.n))
  })

  async function logForm(
    req: FastifyRequest,
    reply: FastifyReply,
    e: MeetingEnrolment,
    n: number,
    body: Body | null,
    errors?: FieldError[],
  ) {
    const versions = await versionsOf(e, n)
    const latest = versions.at(-1) ?? null
    const [o] = await meetingOverviews(db, [e])
    const schedule = o!.meetings.find((m) => m.number === n)?.schedule
    const heldOn = latest?.heldOn ?? (schedule ? londonDateOf(schedule.startsAt) : londonDateOf(new Date()))
    const stage = body ? text(body.stage) : (latest?.stage ?? '')
    const fats = body ? text(body.fats_completed) : latest ? (latest.fatsCompleted ? 'yes' : 'no') : ''
    const responses = logQuestions.map((_, i) => (body ? text(body[`answer-${i}`]) : (latest?.answers[i]?.response ?? '')))
    return reply.render(
      view('log-form'),
      {
        title: `Write the log of meeting ${n}`,
        e,
        n,
        back: `${meetingsPath(e.id)}/logs/${n}`,
        action: `${meetingsPath(e.id)}/logs/${n}/edit`,
        version: latest?.version ?? 1,
        stageItems: meetingStages.map((s) => ({ value: s, text: stageLabels[s], hint: { text: stagePurposes[s] }, checked: stage === s })),
        fats,
        sections: Object.fromEntries(
          logSections.map((s) => [
            s.stage,
            { label: stageLabels[s.stage], purpose: stagePurposes[s.stage], prompts: stagePrompts[s.stage] },
          ]),
        ),
        questions: logQuestions.map((q, i) => ({ id: `answer-${i}`, question: q, value: responses[i] })),
        values: {
          held_on: body ? valuesOf(body, 'held_on') : dateValues(heldOn),
          fats_completed_count: body ? text(body.fats_completed_count) : latest?.fatsCompleted ? String(latest.fatsCompletedCount) : '',
          checking_in: body ? text(body.checking_in) : (latest?.checkingIn ?? ''),
          key_purposes: body ? text(body.key_purposes) : (latest?.keyPurposes ?? ''),
        },
        ...(errors ? formErrors(errors) : {}),
      },
      errors ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string; n: string } }>('/meetings/:id/logs/:n/edit', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { e, party } = await load(req, req.params.id)
    const n = meetingNumberOf(e, req.params.n)
    if (party === 'reader') {
      return logPage(req, reply, e, party, n, [
        { field: 'log', message: `Only ${e.fullName} or their line manager can write this meeting log` },
      ])
    }
    const latest = (await versionsOf(e, n)).at(-1)
    if (latest && isLocked(latest)) return reply.redirect(`${meetingsPath(e.id)}/logs/${n}`, 303)
    return logForm(req, reply, e, n, null)
  })

  app.post<{ Params: { id: string; n: string }; Body: Body }>(
    '/meetings/:id/logs/:n/edit',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { e, party } = await load(req, req.params.id)
      const n = meetingNumberOf(e, req.params.n)
      const body = req.body ?? {}
      const raw = {
        heldOn: dateOf(body, 'held_on'),
        stage: text(body.stage),
        fatsCompleted: text(body.fats_completed),
        fatsCompletedCount: text(body.fats_completed_count),
        checkingIn: text(body.checking_in),
        keyPurposes: text(body.key_purposes),
        responses: logQuestions.map((_, i) => text(body[`answer-${i}`])),
        today: londonDateOf(new Date()),
      }
      const problems = logProblems(raw)
      const redisplay = async (errors: FieldError[]) => {
        const latest = (await versionsOf(e, n)).at(-1)
        // A signed (locked) version or someone who may not write: the log page says why.
        if (party === 'reader' || (latest && isLocked(latest)))
          return logPage(
            req,
            reply,
            e,
            party,
            n,
            errors.map((x) => ({ ...x, field: 'log' })),
          )
        return logForm(req, reply, e, n, body, errors)
      }
      if (problems.length) return redisplay(problems)
      const input: LogInput = {
        heldOn: raw.heldOn!,
        stage: raw.stage as MeetingStage,
        fatsCompleted: raw.fatsCompleted === 'yes',
        fatsCompletedCount: raw.fatsCompleted === 'yes' ? Number(raw.fatsCompletedCount) : 0,
        checkingIn: raw.checkingIn,
        keyPurposes: raw.keyPurposes,
        responses: raw.responses,
      }
      const result = await attempt(
        async () => {
          await db.transaction().execute((trx) => saveLog(trx, user, e, party, n, input))
          return `${meetingsPath(e.id)}/logs/${n}?done=saved`
        },
        redisplay,
        'log',
      )
      return result.location ? reply.redirect(result.location, 303) : result.page
    },
  )

  app.post<{ Params: { id: string; n: string }; Body: Body }>(
    '/meetings/:id/logs/:n/sign',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { e, party } = await load(req, req.params.id)
      const n = meetingNumberOf(e, req.params.n)
      const versionId = text(req.body?.version)
      let outcome = ''
      const result = await attempt(
        async () => {
          outcome = await db.transaction().execute((trx) => signLog(trx, services, user, e, party, n, versionId))
          return `${meetingsPath(e.id)}/logs/${n}?done=${outcome}`
        },
        (errors) =>
          logPage(
            req,
            reply,
            e,
            party,
            n,
            errors.map((x) => ({ ...x, field: 'log' })),
          ),
        'log',
      )
      return result.location ? reply.redirect(result.location, 303) : result.page
    },
  )

  app.post<{ Params: { id: string; n: string } }>(
    '/meetings/:id/logs/:n/new-version',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { e, party } = await load(req, req.params.id)
      const n = meetingNumberOf(e, req.params.n)
      const result = await attempt(
        async () => {
          await db.transaction().execute((trx) => startNewVersion(trx, user, e, party, n))
          return `${meetingsPath(e.id)}/logs/${n}/edit`
        },
        (errors) =>
          logPage(
            req,
            reply,
            e,
            party,
            n,
            errors.map((x) => ({ ...x, field: 'log' })),
          ),
        'log',
      )
      return result.location ? reply.redirect(result.location, 303) : result.page
    },
  )
}
