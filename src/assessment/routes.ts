import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { sql } from 'kysely'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { formatDate } from '../escalations/cases.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { dateFromParts } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import {
  attemptState,
  editRefusal,
  enterNextAttempt,
  entryHistory,
  extenuatingOf,
  extenuatingRefusal,
  loadEntry,
  ordinal,
  requestExtenuating,
  saveDraft,
  selectEnrolmentPeople,
  submitResponse,
  decideExtenuating,
  type Entry,
} from './entry.ts'
import { engagementRatios } from './jobs.ts'
import {
  assessedCourses,
  assessmentPolicy,
  caseStudyReleased,
  courseName,
  createWindow,
  isAssessedCourse,
  loadWindow,
  londonToday,
  updateWindow,
  validateWindow,
  windowPhase,
  windowsOf,
  type Window,
} from './windows.ts'
import { countWords } from './words.ts'

// The summative assessment's pages. Lead-provider admins set windows, choose second-attempt windows and
// decide extenuating circumstances (/lead-provider/assessment); participants see their entry and sit the
// assessment (/participant/assessment). "Today" is the London date of assessmentClock (windows.ts).

type User = Principal & { kind: 'user' }
type Body = Record<string, string | string[] | undefined>
const text = (v: unknown) => (typeof v === 'string' ? v : '').trim()
const raw = (v: unknown) => (typeof v === 'string' ? v.replace(/\r\n/g, '\n') : '')
const view = (name: string) => `assessment/views/${name}.njk`
const words = (n: number) => `${n.toLocaleString('en-GB')} ${n === 1 ? 'word' : 'words'}`

const phaseText = (w: Window, today: string) =>
  ({ upcoming: `Opens on ${formatDate(w.opensOn)}`, open: `Open until the end of ${formatDate(w.closesOn)}`, closed: 'Closed' })[
    windowPhase(w, today)
  ]

const decisionText = { entered: 'Entered', 'not-entered': 'Not entered (attempt lost)', kept: 'Not entered (attempt kept)' } as const
const outcomeText = {
  submitted: 'Submitted',
  lost: 'Not submitted (attempt lost)',
  kept: 'Attempt kept (extenuating circumstances)',
} as const

function entryStatus(e: Pick<Entry, 'decision' | 'outcome'>): string {
  if (e.outcome) return outcomeText[e.outcome]
  return e.decision === 'entered' ? 'Entered: not submitted yet' : decisionText[e.decision]
}

const dateValues = (date: string | null | undefined) => {
  const [year, month, day] = (date ?? '').split('-')
  return date ? { day: String(Number(day)), month: String(Number(month)), year } : {}
}
const partsOf = (body: Body, name: string) => ({
  day: text(body[`${name}-day`]),
  month: text(body[`${name}-month`]),
  year: text(body[`${name}-year`]),
})
const dateOf = (body: Body, name: string) => {
  const p = partsOf(body, name)
  return dateFromParts(p.day, p.month, p.year)
}
/** Date inputs are named `<field>-day` etc.: errors point at the day box. */
const pointAtInputs = (errors: FieldError[]) =>
  errors.map((e) => (['opens_on', 'engagement_deadline'].includes(e.field) ? { ...e, field: `${e.field}-day` } : e))

export function registerAssessmentRoutes(app: FastifyInstance, services: Services): void {
  const { db, catalogue } = services
  const userOf = (req: FastifyRequest): User => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    return p
  }

  /** The lead providers this admin runs (id and code); none → forbidden. */
  async function adminProviders(user: User) {
    const ids = organisationsWithRole(user, 'lead-provider-admin')
    if (ids.length === 0) throw forbidden()
    return db.selectFrom('organisations').select(['id', 'code', 'name']).where('id', 'in', ids).orderBy('name').execute()
  }

  async function adminWindow(user: User, id: string) {
    const providers = await adminProviders(user)
    const w = await loadWindow(db, id)
    const lp = w && providers.find((p) => p.id === w.leadProviderId)
    if (!w || !lp) throw notFound('Assessment window')
    return { w, lp }
  }

  // ---- Lead provider: windows ----

  app.get('/lead-provider/assessment', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const providers = await adminProviders(user)
    return reply.render(view('admin'), await adminOverview(providers, req.query as { done?: string }))
  })

  async function adminOverview(providers: { id: string; code: string; name: string }[], query: { done?: string }, extra: object = {}) {
    const today = londonToday()
    const windows = await windowsOf(
      db,
      providers.map((p) => p.id),
    )
    const counts = windows.length
      ? await db
          .selectFrom('assessment_entries')
          .select(['window_id', 'decision', (eb) => eb.fn.countAll<string>().as('n'), sql<string>`count(submitted_at)`.as('submitted')])
          .where(
            'window_id',
            'in',
            windows.map((w) => w.id),
          )
          .groupBy(['window_id', 'decision'])
          .execute()
      : []
    const countOf = (id: string, decision: string) => Number(counts.find((c) => c.window_id === id && c.decision === decision)?.n ?? 0)
    const submittedOf = (id: string) => counts.filter((c) => c.window_id === id).reduce((sum, c) => sum + Number(c.submitted), 0)

    // People who used (or kept) an attempt without passing and have one left: the admin chooses a later window.
    const nextAttempt = []
    for (const lp of providers) {
      const policy = assessmentPolicy(catalogue, lp.code)
      const people = await selectEnrolmentPeople(db)
        .where('e.lead_provider_id', '=', lp.id)
        .where('e.status', 'in', ['active', 'deferred'])
        .where((eb) => eb.exists(eb.selectFrom('assessment_entries as a').select('a.id').whereRef('a.enrolment_id', '=', 'e.id')))
        .orderBy('p.full_name')
        .execute()
      const history = await entryHistory(
        db,
        people.map((p) => p.enrolmentId),
      )
      for (const person of people) {
        const past = history.get(person.enrolmentId) ?? []
        const state = attemptState(past, policy.attempts)
        if (!state.needsNextAttempt) continue
        const last = past.at(-1)!
        const later = windows.filter(
          (w) =>
            w.leadProviderId === lp.id &&
            w.courseIdentifier === person.courseIdentifier &&
            w.opensOn > last.closesOn &&
            today <= w.closesOn,
        )
        nextAttempt.push({
          ...person,
          courseName: courseName(person.courseIdentifier),
          attempt: state.used + 1,
          attemptText: `${ordinal(state.used + 1)} of ${state.allowed}`,
          lastText: entryStatus(last),
          windowItems: [
            { value: '', text: later.length ? 'Choose a window' : 'No later window yet' },
            ...later.map((w) => ({ value: w.id, text: `${w.cohort}: ${formatDate(w.opensOn)} to ${formatDate(w.closesOn)}` })),
          ],
        })
      }
    }

    const extenuating = windows.length
      ? await db
          .selectFrom('extenuating_circumstances as x')
          .innerJoin('assessment_entries as a', 'a.id', 'x.entry_id')
          .innerJoin('assessment_windows as w', 'w.id', 'a.window_id')
          .innerJoin('enrolments as e', 'e.id', 'a.enrolment_id')
          .innerJoin('participants as p', 'p.id', 'e.participant_id')
          .select([
            'x.id',
            'x.reason',
            'x.requested_at',
            'p.full_name',
            'w.course_identifier',
            sql<string>`w.opens_on::text`.as('opens_on'),
          ])
          .where(
            'w.lead_provider_id',
            'in',
            providers.map((p) => p.id),
          )
          .where('x.decision', 'is', null)
          .orderBy('x.requested_at')
          .execute()
      : []

    return {
      title: 'Assessment',
      done: query.done,
      windows: windows.map((w) => ({
        ...w,
        courseName: courseName(w.courseIdentifier),
        href: `/lead-provider/assessment/windows/${w.id}`,
        dates: `${formatDate(w.opensOn)} to ${formatDate(w.closesOn)}`,
        deadline: formatDate(w.engagementDeadline),
        state: phaseText(w, today),
        entries: w.entriesDecidedAt
          ? `${countOf(w.id, 'entered')} entered, ${countOf(w.id, 'not-entered')} not entered, ${countOf(w.id, 'kept')} kept; ${submittedOf(w.id)} submitted`
          : 'Decided after the deadline',
      })),
      nextAttempt,
      extenuating: extenuating.map((x) => ({
        ...x,
        requestedOn: formatDate(new Date(x.requested_at).toISOString().slice(0, 10)),
        window: `${courseName(x.course_identifier)}, ${formatDate(x.opens_on)}`,
      })),
      ...extra,
    }
  }

  function windowForm(reply: FastifyReply, input: { lpCode: string; body: Body | null; w?: Window; errors?: FieldError[] }) {
    const { body, w } = input
    const policy = assessmentPolicy(catalogue, input.lpCode)
    const course = body ? text(body.course) : (w?.courseIdentifier ?? '')
    const cohort = body ? text(body.cohort) : (w?.cohort ?? '')
    const cohorts = [...new Set(assessedCourses(catalogue, input.lpCode).flatMap((c) => catalogue.cohortsFor(input.lpCode, c)))].sort()
    return reply.render(
      view('window-form'),
      {
        title: w ? 'Change the assessment window' : 'Create an assessment window',
        action: w ? `/lead-provider/assessment/windows/${w.id}/edit` : '/lead-provider/assessment/windows',
        back: w ? `/lead-provider/assessment/windows/${w.id}` : '/lead-provider/assessment',
        defaultWords: policy.maxWords.toLocaleString('en-GB'),
        courseItems: [
          { value: '', text: 'Select a course' },
          ...assessedCourses(catalogue, input.lpCode).map((c) => ({ value: c, text: courseName(c), selected: c === course })),
        ],
        cohortItems: [{ value: '', text: 'Select a cohort' }, ...cohorts.map((c) => ({ value: c, text: c, selected: c === cohort }))],
        values: {
          opens_on: body ? partsOf(body, 'opens_on') : dateValues(w?.opensOn),
          engagement_deadline: body ? partsOf(body, 'engagement_deadline') : dateValues(w?.engagementDeadline),
          max_words: body ? text(body.max_words) : String(w?.maxWords ?? policy.maxWords),
          case_study_title: body ? text(body.case_study_title) : (w?.caseStudyTitle ?? ''),
          case_study: body ? raw(body.case_study) : (w?.caseStudy ?? ''),
        },
        ...(input.errors ? formErrors(pointAtInputs(input.errors)) : {}),
      },
      input.errors ? 400 : 200,
    )
  }

  const windowInput = (body: Body) => ({
    course: text(body.course),
    cohort: text(body.cohort),
    opensOn: dateOf(body, 'opens_on'),
    engagementDeadline: dateOf(body, 'engagement_deadline'),
    maxWords: text(body.max_words),
    caseStudyTitle: text(body.case_study_title),
    caseStudy: raw(body.case_study),
  })

  const refusalErrors = (error: unknown, field: string): FieldError[] => {
    if (!(error instanceof AppError) || !['validation-failed', 'invalid-transition'].includes(error.code)) throw error
    return error.fieldErrors.length ? error.fieldErrors : [{ field, message: error.message }]
  }

  app.get('/lead-provider/assessment/windows/new', { config: { access: 'signed-in' } }, async (req, reply) => {
    const [lp] = await adminProviders(userOf(req))
    return windowForm(reply, { lpCode: lp!.code, body: null })
  })

  app.post<{ Body: Body }>('/lead-provider/assessment/windows', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const [lp] = await adminProviders(user)
    const body = req.body ?? {}
    const checked = validateWindow(catalogue, lp!.code, windowInput(body))
    if (!checked.ok) return windowForm(reply, { lpCode: lp!.code, body, errors: checked.errors })
    try {
      const id = await db.transaction().execute((trx) => createWindow(trx, user, lp!.id, checked.value))
      return reply.redirect(`/lead-provider/assessment/windows/${id}?done=created`, 303)
    } catch (error) {
      return windowForm(reply, { lpCode: lp!.code, body, errors: refusalErrors(error, 'opens_on') })
    }
  })

  app.get<{ Params: { id: string } }>('/lead-provider/assessment/windows/:id', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { w, lp } = await adminWindow(userOf(req), req.params.id)
    const today = londonToday()
    const entries = await db
      .selectFrom('assessment_entries as a')
      .innerJoin('enrolments as e', 'e.id', 'a.enrolment_id')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .select([
        'a.id',
        'p.full_name',
        'a.attempt',
        'a.decision',
        'a.outcome',
        'a.engagement_percent',
        'a.submitted_word_count',
        'a.submitted_at',
      ])
      .where('a.window_id', '=', w.id)
      .orderBy('p.full_name')
      .execute()
    return reply.render(view('window'), {
      title: `${courseName(w.courseIdentifier)}, ${w.cohort}`,
      w,
      lp,
      done: (req.query as { done?: string }).done,
      canChange: today < w.opensOn,
      summary: [
        ['Course', courseName(w.courseIdentifier)],
        ['Cohort', w.cohort],
        ['Day 1', formatDate(w.opensOn)],
        ['Day 8 (last day to submit)', formatDate(w.closesOn)],
        ['90% engagement deadline', formatDate(w.engagementDeadline)],
        ['Maximum words', w.maxWords.toLocaleString('en-GB')],
        [
          'Entries',
          w.entriesDecidedAt
            ? `Decided on ${formatDate(w.entriesDecidedAt.toISOString().slice(0, 10))}`
            : 'Decided the day after the deadline',
        ],
        ['Window', phaseText(w, today)],
        ['Case study', w.caseStudyTitle],
      ].map(([key, value]) => ({ key: { text: key }, value: { text: value } })),
      entries: entries.map((e) => [
        { text: e.full_name },
        { text: String(e.attempt) },
        { text: e.engagement_percent === null ? '' : `${Number(e.engagement_percent)}%` },
        { text: entryStatus(e) },
        { text: e.submitted_word_count === null ? '' : words(e.submitted_word_count) },
      ]),
    })
  })

  app.get<{ Params: { id: string } }>(
    '/lead-provider/assessment/windows/:id/edit',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { w, lp } = await adminWindow(userOf(req), req.params.id)
      return windowForm(reply, { lpCode: lp.code, body: null, w })
    },
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    '/lead-provider/assessment/windows/:id/edit',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { w, lp } = await adminWindow(user, req.params.id)
      const body = req.body ?? {}
      const checked = validateWindow(catalogue, lp.code, windowInput(body))
      if (!checked.ok) return windowForm(reply, { lpCode: lp.code, body, w, errors: checked.errors })
      try {
        await db.transaction().execute((trx) => updateWindow(trx, user, w, checked.value, londonToday()))
        return reply.redirect(`/lead-provider/assessment/windows/${w.id}?done=changed`, 303)
      } catch (error) {
        return windowForm(reply, { lpCode: lp.code, body, w, errors: refusalErrors(error, 'opens_on') })
      }
    },
  )

  // ---- Lead provider: the next attempt, extenuating circumstances ----

  app.post<{ Body: Body }>('/lead-provider/assessment/next-attempt', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const providers = await adminProviders(user)
    const body = req.body ?? {}
    const enrolmentId = text(body.enrolment_id)
    const windowId = text(body.window_id)
    const redisplay = async (message: string) =>
      reply.render(view('admin'), await adminOverview(providers, {}, formErrors([{ field: `window-${enrolmentId}`, message }])), 400)
    if (!windowId) return redisplay('Choose the window for the next attempt')
    const w = await loadWindow(db, windowId)
    const lp = w && providers.find((p) => p.id === w.leadProviderId)
    if (!w || !lp) return redisplay('Choose the window for the next attempt')
    try {
      const person = await selectEnrolmentPeople(db)
        .where('e.id', '=', /^[0-9a-f-]{36}$/i.test(enrolmentId) ? enrolmentId : (null as never))
        .executeTakeFirst()
      const ratio = person
        ? ((
            await engagementRatios(
              services,
              db,
              {
                leadProviderId: lp.id,
                leadProviderCode: lp.code,
                course: person.courseIdentifier,
                cohort: person.cohort,
                participantIds: [person.participantId],
              },
              londonToday(),
            )
          ).get(person.participantId) ?? null)
        : null
      await db.transaction().execute((trx) =>
        enterNextAttempt(trx, services, user, {
          enrolmentId,
          window: w,
          attemptsAllowed: assessmentPolicy(catalogue, lp.code).attempts,
          engagementRatio: ratio,
          today: londonToday(),
        }),
      )
      return reply.redirect(`/lead-provider/assessment/windows/${w.id}?done=entered`, 303)
    } catch (error) {
      return redisplay(refusalErrors(error, 'window')[0]!.message)
    }
  })

  /** An extenuating circumstances request of one of this admin's windows (not found otherwise). */
  async function adminExtenuating(user: User, id: string) {
    const providers = await adminProviders(user)
    const x = /^[0-9a-f-]{36}$/i.test(id)
      ? await db
          .selectFrom('extenuating_circumstances as x')
          .innerJoin('assessment_entries as a', 'a.id', 'x.entry_id')
          .innerJoin('assessment_windows as w', 'w.id', 'a.window_id')
          .innerJoin('enrolments as e', 'e.id', 'a.enrolment_id')
          .innerJoin('participants as p', 'p.id', 'e.participant_id')
          .select([
            'x.id',
            'x.reason',
            'x.requested_at',
            'x.decision',
            'x.decision_reason',
            'p.full_name',
            'a.attempt',
            'a.window_id',
            'w.lead_provider_id',
            'w.course_identifier',
            sql<string>`w.opens_on::text`.as('opens_on'),
            sql<string>`w.closes_on::text`.as('closes_on'),
          ])
          .where('x.id', '=', id)
          .executeTakeFirst()
      : undefined
    if (!x || !providers.some((p) => p.id === x.lead_provider_id)) throw notFound('Request')
    return x
  }

  async function extenuatingPage(req: FastifyRequest, reply: FastifyReply, id: string, body: Body | null, errors?: FieldError[]) {
    const x = await adminExtenuating(userOf(req), id)
    return reply.render(
      view('extenuating'),
      {
        title: `Extenuating circumstances: ${x.full_name}`,
        x,
        summary: [
          ['Participant', x.full_name],
          [
            'Assessment',
            `${courseName(x.course_identifier)}, ${formatDate(x.opens_on)} to ${formatDate(x.closes_on)} (attempt ${x.attempt})`,
          ],
          ['Requested', formatDate(new Date(x.requested_at).toISOString().slice(0, 10))],
          ['What happened', x.reason],
          ...(x.decision
            ? [['Decision', `${x.decision === 'accepted' ? 'Accepted' : 'Declined'}${x.decision_reason ? `: ${x.decision_reason}` : ''}`]]
            : []),
        ].map(([key, value]) => ({ key: { text: key }, value: { text: value } })),
        decisionItems: [
          { value: 'accepted', text: 'Accept: the attempt is kept', checked: body?.decision === 'accepted' },
          { value: 'declined', text: 'Decline: a response not submitted loses the attempt', checked: body?.decision === 'declined' },
        ],
        values: { decision_reason: text(body?.decision_reason) },
        ...(errors ? formErrors(errors) : {}),
      },
      errors ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string } }>('/lead-provider/assessment/extenuating/:id', { config: { access: 'signed-in' } }, (req, reply) =>
    extenuatingPage(req, reply, req.params.id, null),
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    '/lead-provider/assessment/extenuating/:id',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const body = req.body ?? {}
      const decision = text(body.decision)
      if (decision !== 'accepted' && decision !== 'declined')
        return extenuatingPage(req, reply, req.params.id, body, [
          { field: 'decision', message: 'Choose whether to accept or decline the request' },
        ])
      await adminExtenuating(user, req.params.id)
      try {
        await db
          .transaction()
          .execute((trx) => decideExtenuating(trx, services, user, req.params.id, decision, text(body.decision_reason), londonToday()))
        return reply.redirect(`/lead-provider/assessment?done=extenuating-${decision}`, 303)
      } catch (error) {
        return extenuatingPage(req, reply, req.params.id, body, refusalErrors(error, 'decision'))
      }
    },
  )

  // ---- Participant ----

  /** The participant's entry (not found for anyone else's). */
  async function ownEntry(user: User, id: string) {
    const entry = await loadEntry(db, id)
    if (!entry) throw notFound('Assessment')
    const person = await selectEnrolmentPeople(db).where('e.id', '=', entry.enrolmentId).executeTakeFirst()
    if (!person || person.participantUserId !== user.userId) throw notFound('Assessment')
    const w = (await loadWindow(db, entry.windowId))!
    return { entry, person, w, policy: assessmentPolicy(catalogue, person.leadProviderCode) }
  }

  app.get('/participant/assessment', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const today = londonToday()
    const enrolments = await selectEnrolmentPeople(db).where('p.user_id', '=', user.userId).orderBy('e.created_at').execute()
    const history = await entryHistory(
      db,
      enrolments.map((e) => e.enrolmentId),
    )
    const courses = []
    for (const e of enrolments) {
      if (!isAssessedCourse(e.courseIdentifier)) {
        courses.push({ name: courseName(e.courseIdentifier), notAssessed: true, entries: [], upcoming: [] })
        continue
      }
      const past = history.get(e.enrolmentId) ?? []
      const windows = await Promise.all(past.map((h) => loadWindow(db, h.windowId)))
      const entries = past.map((h, i) => {
        const w = windows[i]!
        return {
          href: `/participant/assessment/${h.id}`,
          attempt: h.attempt,
          dates: `${formatDate(w.opensOn)} to ${formatDate(w.closesOn)}`,
          status: entryStatus(h),
          phase: phaseText(w, today),
        }
      })
      // Windows of their course and cohort still to be decided: when they are and what 90% by when.
      const upcoming = (await windowsOf(db, [e.leadProviderId]))
        .filter((w) => w.courseIdentifier === e.courseIdentifier && w.cohort === e.cohort && !w.entriesDecidedAt)
        .filter((w) => !past.some((h) => h.windowId === w.id))
        .map((w) => ({ dates: `${formatDate(w.opensOn)} to ${formatDate(w.closesOn)}`, deadline: formatDate(w.engagementDeadline) }))
        .reverse()
      const state = attemptState(past, assessmentPolicy(catalogue, e.leadProviderCode).attempts)
      courses.push({
        name: courseName(e.courseIdentifier),
        notAssessed: false,
        entries,
        upcoming,
        attempts: `You have used ${state.used} of your ${state.allowed} attempts.`,
      })
    }
    return reply.render(view('participant'), { title: 'Your assessment', courses })
  })

  async function sittingPage(
    req: FastifyRequest,
    reply: FastifyReply,
    id: string,
    extra: { response?: string; errors?: FieldError[]; reason?: string; notice?: string } = {},
  ) {
    const user = userOf(req)
    const { entry, w, policy } = await ownEntry(user, id)
    const today = londonToday()
    const released = caseStudyReleased(w, today)
    const refusal = editRefusal(entry, w, today)
    const ec = await extenuatingOf(db, entry.id)
    const ecRefusal = extenuatingRefusal(
      entry,
      w,
      today,
      ec.some((x) => x.decision === null),
    )
    const response = extra.response ?? entry.draft
    const done = extra.notice ?? (req.query as { done?: string }).done
    return reply.render(
      view('sitting'),
      {
        title: `${courseName(w.courseIdentifier)} assessment`,
        entry,
        w,
        phase: windowPhase(w, today),
        opensOn: formatDate(w.opensOn),
        closesOn: formatDate(w.closesOn),
        status: entryStatus(entry),
        released,
        canEdit: refusal === null,
        refusal,
        response,
        maxWords: w.maxWords,
        maxWordsText: w.maxWords.toLocaleString('en-GB'),
        minWords: policy.minWords,
        wordCountText: `${words(countWords(response))} of ${w.maxWords.toLocaleString('en-GB')}`,
        over: countWords(response) > w.maxWords,
        savedAt: entry.draftSavedAt,
        done,
        submittedWords: entry.submittedWordCount === null ? null : words(entry.submittedWordCount),
        extenuating: ec.map((x) => ({
          ...x,
          requestedOn: formatDate(x.requestedAt.toISOString().slice(0, 10)),
          decisionText: x.decision
            ? `${x.decision === 'accepted' ? 'Accepted' : 'Declined'}${x.decisionReason ? `: ${x.decisionReason}` : ''}`
            : 'Waiting for a decision',
        })),
        canRequestExtenuating: ecRefusal === null,
        reason: extra.reason ?? '',
        base: `/participant/assessment/${entry.id}`,
        ...(extra.errors ? formErrors(extra.errors) : {}),
      },
      extra.errors ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string } }>('/participant/assessment/:id', { config: { access: 'signed-in' } }, (req, reply) =>
    sittingPage(req, reply, req.params.id),
  )

  // Save draft and Submit are two buttons of one form, so both work without JavaScript.
  app.post<{ Params: { id: string }; Body: Body }>(
    '/participant/assessment/:id',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { entry, w, policy } = await ownEntry(user, req.params.id)
      const body = req.body ?? {}
      const response = raw(body.response)
      const today = londonToday()
      const refusal = editRefusal(entry, w, today)
      if (refusal) return sittingPage(req, reply, entry.id, { response, errors: [{ field: 'response', message: refusal }] })
      // The draft is saved first and in its own transaction, so a refused submission keeps it.
      await saveDraft(db, entry, w, response, today)
      if (text(body.action) !== 'submit') return reply.redirect(`/participant/assessment/${entry.id}?done=saved`, 303)
      try {
        await db.transaction().execute((trx) => submitResponse(trx, user, entry, w, response, policy, today))
      } catch (error) {
        return sittingPage(req, reply, entry.id, { response, errors: refusalErrors(error, 'response') })
      }
      return reply.redirect(`/participant/assessment/${entry.id}?done=submitted`, 303)
    },
  )

  // Autosave from the page's script (public/assessment.js): the same CSRF token as the form, JSON back.
  app.post<{ Params: { id: string }; Body: Body }>(
    '/participant/assessment/:id/autosave',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { entry, w } = await ownEntry(user, req.params.id)
      const refusal = editRefusal(entry, w, londonToday())
      if (refusal) return reply.status(409).send({ saved: false, message: refusal })
      const saved = await saveDraft(db, entry, w, raw(req.body?.response), londonToday())
      return reply.send({
        saved: true,
        wordCount: saved.wordCount,
        maxWords: w.maxWords,
        savedAt: saved.savedAt.toISOString(),
        savedAtText: new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', hour: 'numeric', minute: '2-digit' }).format(
          saved.savedAt,
        ),
      })
    },
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    '/participant/assessment/:id/extenuating',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { entry, w } = await ownEntry(user, req.params.id)
      const reason = text(req.body?.reason)
      if (!reason)
        return sittingPage(req, reply, entry.id, {
          reason,
          errors: [{ field: 'reason', message: 'Enter what happened and how it stopped you submitting' }],
        })
      try {
        await db.transaction().execute((trx) => requestExtenuating(trx, user, entry, w, reason, londonToday()))
      } catch (error) {
        return sittingPage(req, reply, entry.id, { reason, errors: refusalErrors(error, 'reason') })
      }
      return reply.redirect(`/participant/assessment/${entry.id}?done=extenuating-requested`, 303)
    },
  )
}
