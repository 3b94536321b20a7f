import type { FastifyInstance } from 'fastify'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { forbidden, notFound } from '../errors.ts'
import { can } from '../policy/policy.ts'
import type { Services } from '../services.ts'

// The participant's course content: their design (the version their cohort runs), block by block,
// live from its go-live date. Progress and completion arrive with the learning records.

export function registerLearningRoutes(app: FastifyInstance, { db, designs, blockWindows }: Services): void {
  app.get<{ Params: { course: string } }>('/participant/courses/:course', { config: { access: 'signed-in' } }, async (req, reply) => {
    const principal = req.principal
    if (!principal || principal.kind !== 'user') throw forbidden()
    const course = findCourse(req.params.course)
    if (!course) throw notFound('Course')
    const enrolment = await db
      .selectFrom('enrolments as e')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
      .select([
        'e.lead_provider_id',
        'e.delivery_partner_id',
        'e.school_id',
        'e.line_manager_user_id',
        'e.cohort',
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

    const design = await designs.designForCohort(enrolment.code, course.identifier, enrolment.cohort)
    const windows = await blockWindows.forCohort(enrolment.code, course.identifier, enrolment.cohort)
    const today = londonDateOf(new Date())
    const blocks = (design?.blocks ?? [])
      .filter((b) => !b.provisional)
      .map((b) => {
        const window = windows.find((w) => w.block === b.block)
        return { ...b, window, live: !window || window.goesLiveOn <= today }
      })
    return reply.render('learning/views/course.njk', {
      title: course.name,
      course,
      leadProvider: enrolment.name,
      cohort: enrolment.cohort,
      design,
      blocks,
    })
  })
}
