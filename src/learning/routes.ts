import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { findCourse, type Course } from '../catalogue/courses.ts'
import type { Activity } from '../catalogue/load.ts'
import { londonDateOf } from '../dates/london.ts'
import { AppError, forbidden, notFound, statusOfCode } from '../errors.ts'
import { can } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { currentLearningRecords } from './current.ts'
import { lifecycleNotices } from '../lifecycle/notices.ts'
import { checkLearningRecords } from './record-checks.ts'

// The participant's course content: their design (the version their cohort runs), block by block,
// live from its go-live date, with what they have completed. Self-study is recorded as they work: a
// "Mark as complete" button per self-study activity, and a JSON endpoint for video progress.

type Params = { course: string; code: string }

export function registerLearningRoutes(app: FastifyInstance, services: Services): void {
  const { db, designs, blockWindows } = services

  app.get<{ Params: { course: string } }>('/participant/courses/:course', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { course, enrolment } = await ownEnrolment(services, req.principal, req.params.course)
    const design = await designs.designForCohort(enrolment.code, course.identifier, enrolment.cohort)
    const windows = await blockWindows.forCohort(enrolment.code, course.identifier, enrolment.cohort)
    const records = await currentLearningRecords(db)
      .select(['lr.activity_code', 'lr.progress_percent'])
      .where('lr.participant_id', '=', enrolment.participant_id)
      .where('lr.course_identifier', '=', course.identifier)
      .execute()
    const today = londonDateOf(new Date())
    // Deferred or withdrawn: the content stays visible, read-only, with the reason at the top.
    const closed = enrolment.status === 'deferred' || enrolment.status === 'withdrawn'
    const notice = closed ? (await lifecycleNotices(db, enrolment.user_id!)).find((n) => n.enrolmentId === enrolment.id) : undefined
    const blocks = (design?.blocks ?? [])
      .filter((b) => !b.provisional)
      .map((b) => {
        const window = windows.find((w) => w.block === b.block)
        const live = !window || window.goesLiveOn <= today
        const activities = b.activities.map((a) => {
          const status = isSelfStudy(a) ? statusOf(records.filter((r) => r.activity_code === a.code)) : null
          return { ...a, status, canComplete: !closed && live && status !== null && !status.completed }
        })
        return { ...b, activities, window, live }
      })
    return reply.render('learning/views/course.njk', {
      title: course.name,
      course,
      leadProvider: enrolment.name,
      cohort: enrolment.cohort,
      design,
      blocks,
      notice,
    })
  })

  app.post<{ Params: Params }>(
    '/participant/courses/:course/activities/:code/complete',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { course, activity } = await recordSelfStudy(services, req, null)
      return reply.redirect(`/participant/courses/${course.identifier}#activity-${activity.code}`, 303)
    },
  )

  // Video progress from the player: JSON `{ "percent": 0–100 }`, with the page's CSRF token as `_csrf`.
  const progressBody = z.object({
    percent: z.number('must be a number from 0 to 100').min(0, 'must be from 0 to 100').max(100, 'must be from 0 to 100'),
  })
  app.post<{ Params: Params }>(
    '/participant/courses/:course/activities/:code/progress',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      try {
        const parsed = progressBody.safeParse(req.body ?? {})
        if (!parsed.success) {
          const fields = parsed.error.issues.map((i) => ({ field: i.path.join('.') || 'percent', message: i.message }))
          throw new AppError('validation-failed', 'The progress is not valid', fields)
        }
        const { activity, status } = await recordSelfStudy(services, req, parsed.data.percent)
        return reply.send({ data: { activity_code: activity.code, progress_percent: parsed.data.percent, completed: status.completed } })
      } catch (error) {
        if (error instanceof AppError) return sendJsonError(reply, error)
        throw error
      }
    },
  )
}

/** The signed-in participant's own enrolment on a course, or 404 (no course of theirs) / 403. */
export async function ownEnrolment({ db }: Services, principal: Principal | null, courseParam: string) {
  if (!principal || principal.kind !== 'user') throw forbidden()
  const course = findCourse(courseParam)
  if (!course) throw notFound('Course')
  const enrolment = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select([
      'e.id',
      'e.participant_id',
      'e.lead_provider_id',
      'e.delivery_partner_id',
      'e.school_id',
      'e.line_manager_user_id',
      'e.cohort',
      'e.status',
      'p.user_id',
      'lp.code',
      'lp.name',
    ])
    .where('p.user_id', '=', principal.userId)
    .where('e.course_identifier', '=', course.identifier)
    .executeTakeFirst()
  if (!enrolment) throw notFound('Course')
  const allowed = can(principal, 'view', {
    type: 'enrolment',
    enrolment: {
      participantUserId: enrolment.user_id,
      leadProviderId: enrolment.lead_provider_id,
      deliveryPartnerId: enrolment.delivery_partner_id,
      schoolId: enrolment.school_id,
      lineManagerUserId: enrolment.line_manager_user_id,
    },
  })
  if (!allowed) throw forbidden()
  return { principal, course, enrolment }
}

/**
 * Records the signed-in participant's own work on a self-study activity, now: a completion (percent
 * null) or video progress. Only the participant records their own; only self-study in a live block.
 */
async function recordSelfStudy(
  services: Services,
  req: FastifyRequest<{ Params: Params }>,
  percent: number | null,
): Promise<{ course: Course; activity: Activity; status: Status }> {
  const { principal, course, enrolment } = await ownEnrolment(services, req.principal, req.params.course)
  const { activity, status } = await recordActivityDone(services, principal, enrolment, course, req.params.code, percent)
  return { course, activity, status }
}

export type OwnEnrolment = Awaited<ReturnType<typeof ownEnrolment>>['enrolment']

/**
 * Records a participant's own work on a self-study activity of their design, now: a completion
 * (percent null) or progress. Used by "Mark as complete", video progress and block content (src/content).
 */
export async function recordActivityDone(
  services: Services,
  principal: Principal & { kind: 'user' },
  enrolment: OwnEnrolment,
  course: Course,
  code: string,
  percent: number | null,
): Promise<{ activity: Activity; status: Status }> {
  if (enrolment.user_id !== principal.userId) throw forbidden()
  // Deferred or withdrawn: learning is read-only (progress so far is kept).
  if (enrolment.status === 'deferred' || enrolment.status === 'withdrawn')
    throw new AppError('invalid-transition', `You are ${enrolment.status} from this course: your learning is read-only`)
  const design = await services.designs.designForCohort(enrolment.code, course.identifier, enrolment.cohort)
  const block = design?.blocks.find((b) => !b.provisional && b.activities.some((a) => a.code === code))
  const activity = block?.activities.find((a) => a.code === code)
  if (!block || !activity) throw notFound('Activity')
  if (!isSelfStudy(activity)) {
    throw new AppError('validation-failed', `${activity.title} is recorded by your facilitator or through your meeting logs, not here`)
  }
  const windows = await services.blockWindows.forCohort(enrolment.code, course.identifier, enrolment.cohort)
  const window = windows.find((w) => w.block === block.block)
  if (window && window.goesLiveOn > londonDateOf(new Date())) throw new AppError('validation-failed', 'This block is not open yet')

  const status = await services.db.transaction().execute(async (trx) => {
    const occurredAt = new Date().toISOString()
    const [check] = await checkLearningRecords(trx, services, [
      { participantId: enrolment.participant_id, activityCode: code, occurredAt, source: 'automatic' },
    ])
    if (check!.problems.length) {
      throw new AppError(
        'validation-failed',
        'This activity cannot be recorded',
        check!.problems.map(({ field, message }) => ({ field, message })),
      )
    }
    const inserted = await trx
      .insertInto('learning_records')
      .values({
        participant_id: enrolment.participant_id,
        course_identifier: course.identifier,
        activity_code: code,
        occurred_at: occurredAt,
        evidence_on: londonDateOf(new Date(occurredAt)),
        source: 'automatic',
        progress_percent: percent,
        recorded_by: principal.userId,
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst()
    if (inserted) {
      await recordAudit(trx, {
        by: principal,
        action: 'learning-record.created',
        entityType: 'learning-record',
        entityId: inserted.id,
        after: { activity_code: code, occurred_at: occurredAt, progress_percent: percent },
      })
    }
    const records = await currentLearningRecords(trx)
      .select(['lr.progress_percent'])
      .where('lr.participant_id', '=', enrolment.participant_id)
      .where('lr.activity_code', '=', code)
      .execute()
    return statusOf(records)
  })
  return { activity, status }
}

export type Status = { completed: boolean; text: string; classes: string }

export const isSelfStudy = (a: Activity) => a.evidence === 'activity'

/** Completed by a record without a percentage or at 100%; otherwise in progress at the highest percentage. */
export function statusOf(records: { progress_percent: string | null }[]): Status {
  const percents = records.map((r) => (r.progress_percent === null ? 100 : Number(r.progress_percent)))
  const best = percents.length ? Math.max(...percents) : null
  if (best === 100) return { completed: true, text: 'Completed', classes: 'govuk-tag--green' }
  if (best === null) return { completed: false, text: 'Not started', classes: 'govuk-tag--grey' }
  return { completed: false, text: `In progress ${Math.floor(best)}%`, classes: 'govuk-tag--blue' }
}

function sendJsonError(reply: FastifyReply, error: AppError) {
  const fields = error.fieldErrors.length ? { fields: error.fieldErrors } : {}
  return reply.status(statusOfCode[error.code]).send({ error: { code: error.code, message: error.message, ...fields } })
}
