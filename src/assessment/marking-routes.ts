import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { can } from '../policy/policy.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { dateFromParts } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import {
  allocateScripts,
  assessorsOf,
  loadMarkingWindow,
  markingWindows,
  markLockedBecause,
  moderateScript,
  moderationLockedBecause,
  reallocateScript,
  recordExternalModeration,
  recordMark,
  releasedResultsFor,
  releaseProblems,
  releaseResults,
  scriptFor,
  scriptsForAssessor,
  scriptsForModerator,
  windowScripts,
  type AnonymousScript,
  MARK_MAX,
  PASS_MARK_GUIDE,
} from './marking.ts'

// Pages for marking, moderation and releasing results (the rules are in marking.ts):
//   /lead-provider/assessment/marking                    windows and their marking progress (admins)
//   /lead-provider/assessment/windows/:id/marking        allocate, re-allocate, external moderation, release
//   /assessor/scripts, /assessor/scripts/:reference      an assessor's scripts, marking one
//   /moderator/scripts, /moderator/scripts/:reference    the moderation samples, moderating one
//   /participant/assessment/results                      the participant's released results
// Assessors and moderators see scripts by reference only: nothing on their pages names the person.

type User = Principal & { kind: 'user' }
type Body = Record<string, string | undefined>
const text = (v: unknown) => (typeof v === 'string' ? v : '')
const view = (name: string) => `assessment/views/marking/${name}.njk`
const resultLabel = (r: string | null) => (r === 'passed' ? 'Passed' : r === 'failed' ? 'Failed' : '')

function userWith(req: FastifyRequest, role: 'lead-provider-admin' | 'assessor' | 'moderator' | 'participant'): User {
  const p = req.principal
  if (!p || p.kind !== 'user' || !can(p, 'view', { type: 'role-home', role })) throw forbidden()
  return p
}

const doneMessages: Record<string, string> = {
  allocated: 'Scripts are allocated to your assessors.',
  reallocated: 'The script is re-allocated.',
  'externally-moderated': 'External moderation is recorded.',
  released: 'Results are released to participants, and their delivery partners are told.',
  marked: 'Your mark is saved.',
  moderated: 'Your moderation is saved.',
}

export function registerMarkingRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  // ---- Lead-provider admins ----

  app.get('/lead-provider/assessment/marking', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userWith(req, 'lead-provider-admin')
    const windows = await markingWindows(db, organisationsWithRole(user, 'lead-provider-admin'))
    return reply.render(view('windows'), { title: 'Assessment marking', windows })
  })

  async function adminWindow(req: FastifyRequest<{ Params: { id: string } }>) {
    const user = userWith(req, 'lead-provider-admin')
    const w = await loadMarkingWindow(db, req.params.id)
    if (!w || !can(user, 'run-marking', { type: 'assessment-window', leadProviderId: w.leadProviderId }))
      throw notFound('Assessment window')
    return { user, w }
  }

  async function windowPage(
    req: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    values: Body = {},
    errors: FieldError[] = [],
    status = 200,
  ) {
    const { w } = await adminWindow(req)
    const [scripts, assessors] = await Promise.all([windowScripts(db, w.id), assessorsOf(db, w.leadProviderId)])
    const done = doneMessages[text((req.query as { done?: string }).done)] ?? null
    const unmarked = scripts.filter((s) => s.markId && !s.markedAt)
    const perAssessor = assessors.map((a) => ({
      name: a.full_name,
      scripts: scripts.filter((s) => s.assessorUserId === a.id).length,
      marked: scripts.filter((s) => s.assessorUserId === a.id && s.markedAt).length,
    }))
    const sample = scripts.filter((s) => s.inSample)
    return reply.render(
      view('window'),
      {
        title: `Marking: ${w.courseName}, ${w.cohort}`,
        w,
        scripts: scripts.map((s) => ({
          ...s,
          resultText: resultLabel(s.result),
          moderatedText: s.moderatedAt
            ? `${resultLabel(s.moderatedResult)}${s.moderatedResult === s.result ? ' (agreed)' : ' (changed)'}`
            : '',
        })),
        perAssessor,
        counts: {
          submitted: scripts.length,
          unallocated: scripts.filter((s) => !s.markId).length,
          marked: scripts.filter((s) => s.markedAt).length,
          sample: sample.length,
          moderated: sample.filter((s) => s.moderatedAt).length,
        },
        releaseProblems: releaseProblems(w, scripts),
        externalProblems: releaseProblems({ ...w, externallyModeratedAt: new Date() }, scripts),
        done,
        scriptItems: [
          { value: '', text: 'Choose a script' },
          ...unmarked.map((s) => ({
            value: s.markId,
            text: `${s.reference} (${s.participantName}), now with ${s.assessorName}`,
            selected: s.markId === values.script,
          })),
        ],
        assessorItems: [
          { value: '', text: 'Choose an assessor' },
          ...assessors.map((a) => ({ value: a.id, text: a.full_name, selected: a.id === values.assessor })),
        ],
        canReallocate: unmarked.length > 0 && assessors.length > 1 && !w.resultsReleasedAt,
        values,
        ...formErrors(errors),
      },
      errors.length ? 400 : status,
    )
  }

  const base = '/lead-provider/assessment/windows/:id/marking'
  type WindowReq = FastifyRequest<{ Params: { id: string }; Body: Body }>
  const act =
    (field: string, fn: (req: WindowReq, user: User, windowId: string) => Promise<string>) =>
    async (req: WindowReq, reply: FastifyReply) => {
      const { user, w } = await adminWindow(req)
      try {
        const done = await fn(req, user, w.id)
        return reply.redirect(`/lead-provider/assessment/windows/${w.id}/marking?done=${done}`, 303)
      } catch (error) {
        if (error instanceof AppError && error.code === 'validation-failed') {
          return windowPage(req, reply, req.body ?? {}, error.fieldErrors.length ? error.fieldErrors : [{ field, message: error.message }])
        }
        throw error
      }
    }

  app.get<{ Params: { id: string } }>(base, { config: { access: 'signed-in' } }, (req, reply) => windowPage(req, reply))

  app.post<{ Params: { id: string }; Body: Body }>(
    `${base}/allocate`,
    { config: { access: 'signed-in' } },
    act('allocate', async (_req, user, id) => {
      await db.transaction().execute((trx) => allocateScripts(trx, services, user, id))
      return 'allocated'
    }),
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    `${base}/reallocate`,
    { config: { access: 'signed-in' } },
    act('script', async (req, user, id) => {
      const body = req.body ?? {}
      await db.transaction().execute((trx) => reallocateScript(trx, user, id, text(body.script), text(body.assessor)))
      return 'reallocated'
    }),
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    `${base}/external-moderation`,
    { config: { access: 'signed-in' } },
    act('on', async (req, user, id) => {
      const body = req.body ?? {}
      const on = dateFromParts(text(body['on-day']), text(body['on-month']), text(body['on-year']))
      if (!on)
        throw new AppError('validation-failed', 'Enter the date of the external moderation as a real date, for example 27 3 2024', [
          { field: 'on', message: 'Enter the date of the external moderation as a real date, for example 27 3 2024' },
        ])
      await db.transaction().execute((trx) => recordExternalModeration(trx, user, id, on))
      return 'externally-moderated'
    }),
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    `${base}/release`,
    { config: { access: 'signed-in' } },
    act('release', async (_req, user, id) => {
      await db.transaction().execute((trx) => releaseResults(trx, services, user, id))
      return 'released'
    }),
  )

  // ---- Assessors and moderators: scripts by reference ----

  const scriptRows = (scripts: AnonymousScript[], as: 'assessor' | 'moderator') =>
    scripts.map((s) => ({
      ...s,
      href: `/${as}/scripts/${s.reference}`,
      resultText: resultLabel(s.result),
      moderatedText: s.moderatedAt ? resultLabel(s.moderatedResult) : '',
      status:
        as === 'assessor'
          ? s.released
            ? 'Released'
            : s.markedAt
              ? markLockedBecause(s)
                ? 'Marked (final)'
                : 'Marked'
              : 'To mark'
          : s.released
            ? 'Released'
            : s.moderatedAt
              ? 'Moderated'
              : s.markedAt
                ? 'To moderate'
                : 'Not marked yet',
    }))

  app.get('/assessor/scripts', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userWith(req, 'assessor')
    const scripts = await scriptsForAssessor(db, user)
    return reply.render(view('assessor-scripts'), {
      title: 'Scripts to mark',
      scripts: scriptRows(scripts, 'assessor'),
      toMark: scripts.filter((s) => !s.markedAt).length,
    })
  })

  async function assessorScriptPage(
    req: FastifyRequest<{ Params: { reference: string } }>,
    reply: FastifyReply,
    values?: Body,
    errors: FieldError[] = [],
  ) {
    const user = userWith(req, 'assessor')
    const s = await scriptFor(db, user, req.params.reference, 'assessor')
    if (!s) throw notFound('Script')
    const v = values ?? { mark: s.mark === null ? '' : String(s.mark), result: s.result ?? '', feedback: s.feedback ?? '' }
    return reply.render(
      view('script'),
      {
        title: `Script ${s.reference}`,
        s,
        locked: markLockedBecause(s),
        done: doneMessages[text((req.query as { done?: string }).done)] ?? null,
        resultText: resultLabel(s.result),
        moderatedText: resultLabel(s.moderatedResult),
        markMax: MARK_MAX,
        passMarkGuide: PASS_MARK_GUIDE,
        values: v,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: { reference: string } }>('/assessor/scripts/:reference', { config: { access: 'signed-in' } }, (req, reply) =>
    assessorScriptPage(req, reply),
  )

  app.post<{ Params: { reference: string }; Body: Body }>(
    '/assessor/scripts/:reference',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userWith(req, 'assessor')
      const body = req.body ?? {}
      const input = { mark: text(body.mark), result: text(body.result), feedback: text(body.feedback) }
      try {
        const s = await db.transaction().execute((trx) => recordMark(trx, user, req.params.reference, input, services))
        return reply.redirect(`/assessor/scripts/${s.reference}?done=marked`, 303)
      } catch (error) {
        if (error instanceof AppError && error.code === 'validation-failed') {
          return assessorScriptPage(
            req,
            reply,
            body,
            error.fieldErrors.length ? error.fieldErrors : [{ field: 'mark', message: error.message }],
          )
        }
        throw error
      }
    },
  )

  app.get('/moderator/scripts', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userWith(req, 'moderator')
    const scripts = await scriptsForModerator(db, user)
    return reply.render(view('moderator-scripts'), {
      title: 'Scripts to moderate',
      scripts: scriptRows(scripts, 'moderator'),
      toModerate: scripts.filter((s) => !s.moderatedAt && !moderationLockedBecause(s, user.userId)).length,
    })
  })

  async function moderatorScriptPage(
    req: FastifyRequest<{ Params: { reference: string } }>,
    reply: FastifyReply,
    values?: Body,
    errors: FieldError[] = [],
  ) {
    const user = userWith(req, 'moderator')
    const s = await scriptFor(db, user, req.params.reference, 'moderator')
    if (!s) throw notFound('Script')
    const v = values ?? { result: s.moderatedResult ?? s.result ?? '', notes: s.moderationNotes ?? '' }
    return reply.render(
      view('moderate'),
      {
        title: `Moderate script ${s.reference}`,
        s,
        locked: moderationLockedBecause(s, user.userId),
        done: doneMessages[text((req.query as { done?: string }).done)] ?? null,
        resultText: resultLabel(s.result),
        moderatedText: resultLabel(s.moderatedResult),
        values: v,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: { reference: string } }>('/moderator/scripts/:reference', { config: { access: 'signed-in' } }, (req, reply) =>
    moderatorScriptPage(req, reply),
  )

  app.post<{ Params: { reference: string }; Body: Body }>(
    '/moderator/scripts/:reference',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userWith(req, 'moderator')
      const body = req.body ?? {}
      const input = { result: text(body.result), notes: text(body.notes) }
      try {
        const s = await db.transaction().execute((trx) => moderateScript(trx, user, req.params.reference, input))
        return reply.redirect(`/moderator/scripts/${s.reference}?done=moderated`, 303)
      } catch (error) {
        if (error instanceof AppError && error.code === 'validation-failed') {
          return moderatorScriptPage(
            req,
            reply,
            body,
            error.fieldErrors.length ? error.fieldErrors : [{ field: 'result', message: error.message }],
          )
        }
        throw error
      }
    },
  )

  // ---- Participants ----

  app.get('/participant/assessment/results', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userWith(req, 'participant')
    const results = await releasedResultsFor(db, user.userId)
    return reply.render(view('results'), {
      title: 'Your assessment results',
      results: results.map((r) => ({ ...r, resultText: r.result === 'passed' ? 'Passed' : 'Not passed' })),
      today: londonDateOf(new Date()),
    })
  })
}
