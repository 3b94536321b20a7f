import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { findActivity } from '../catalogue/activities.ts'
import { courseOfActivityCode } from '../catalogue/courses.ts'
import type { Design } from '../catalogue/load.ts'
import { londonDateOf } from '../dates/london.ts'
import { moment, percent } from './fields.ts'
import type { Importer } from './import-file.ts'

// `npq import activity`: learning records (self-study completions, video progress, self-reports).
// Events are evidenced by registers and meetings by signed logs, so such rows are refused here, as is
// a self-report in a cohort that does not use self-reporting.

const row = z.object({
  participant_id: z.uuid('must be a UUID'),
  activity_code: z.string().min(1, 'must not be empty'),
  occurred_at: moment,
  source: z.enum(['automatic', 'self-report'], 'must be automatic or self-report'),
  progress_percent: percent,
})

export const activityImporter: Importer<typeof row> = {
  kind: 'activity',
  required: ['participant_id', 'activity_code', 'occurred_at', 'source'],
  optional: ['progress_percent'],
  row,
  async apply(trx, rows, { services, by, problem }) {
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const now = Date.now()
    const designs = new Map<string, Promise<Design | undefined>>()
    for (const { row: csv, value } of rows) {
      const course = courseOfActivityCode(value.activity_code)?.identifier
      if (!course) {
        problem(csv, 'activity_code', `unknown activity code ${value.activity_code}`)
        continue
      }
      const enrolment = await trx
        .selectFrom('enrolments as e')
        .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
        .select(['e.cohort', 'lp.code'])
        .where('e.participant_id', '=', value.participant_id)
        .where('e.course_identifier', '=', course)
        .executeTakeFirst()
      if (!enrolment) {
        const known = await trx.selectFrom('participants').select('id').where('id', '=', value.participant_id).executeTakeFirst()
        if (known) problem(csv, 'activity_code', `participant ${value.participant_id} is not enrolled on ${course}`)
        else problem(csv, 'participant_id', `unknown participant ${value.participant_id}`)
        continue
      }
      const key = `${enrolment.code}/${course}/${enrolment.cohort}`
      if (!designs.has(key)) designs.set(key, services.designs.designForCohort(enrolment.code, course, enrolment.cohort, trx))
      const design = await designs.get(key)
      const found = design ? findActivity(design, value.activity_code) : null
      if (!found) {
        problem(csv, 'activity_code', `${value.activity_code} is not an activity of ${course} in cohort ${enrolment.cohort}`)
        continue
      }
      if (found.provisional) problem(csv, 'activity_code', `${value.activity_code} is in a block that is not published yet`)
      if (Date.parse(value.occurred_at) > now) problem(csv, 'occurred_at', `${value.occurred_at} is in the future`)
      const selfReporting = services.catalogue.cohortOutputs(enrolment.code, enrolment.cohort, course)?.selfReporting ?? false
      if (value.source === 'self-report' && !selfReporting) {
        problem(csv, 'source', `cohort ${enrolment.cohort} does not use self-reporting with ${enrolment.code}`)
      }
      if (value.source === 'automatic' && found.activity.evidence === 'register') {
        problem(
          csv,
          'source',
          `${value.activity_code} is an event: attendance is evidenced by the facilitator's register, not activity rows`,
        )
      }
      if (found.activity.evidence === 'meeting-log') {
        problem(csv, 'activity_code', `${value.activity_code} is evidenced by the signed meeting log, not activity rows`)
      }
      const inserted = await trx
        .insertInto('learning_records')
        .values({
          participant_id: value.participant_id,
          course_identifier: course,
          activity_code: value.activity_code,
          occurred_at: value.occurred_at,
          evidence_on: londonDateOf(new Date(value.occurred_at)),
          source: value.source,
          progress_percent: value.progress_percent,
          recorded_by: by.kind === 'user' ? by.userId : null,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst()
      if (inserted) {
        counts.created++
        await recordAudit(trx, { by, action: 'learning-record.imported', entityType: 'learning-record', entityId: inserted.id })
      } else counts.unchanged++
    }
    return counts
  },
}
