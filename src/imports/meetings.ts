import { z } from 'zod'
import { londonDateOf } from '../dates/london.ts'
import { recordMeetingLog } from '../meetings/meeting-logs.ts'
import { calendarDate, courseIdentifier, yesNo } from './fields.ts'
import type { Importer } from './import-file.ts'

// `npq import meetings`: signed line manager/mentor meeting logs. Where the design counts meetings
// (UCL's MEETING component) the number must be one of its meetings.

const wholeNumber = (min: number) =>
  z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min, `must be at least ${min}`).max(100, 'must be at most 100'))

const row = z.object({
  participant_id: z.uuid('must be a UUID'),
  course_identifier: courseIdentifier,
  meeting_number: wholeNumber(1),
  held_on: calendarDate,
  signed_by_line_manager: yesNo,
  signed_by_participant: yesNo,
  fats_completed: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim()))
    .pipe(wholeNumber(0).nullable()),
})

export const meetingsImporter: Importer<typeof row> = {
  kind: 'meetings',
  required: ['participant_id', 'course_identifier', 'meeting_number', 'held_on', 'signed_by_line_manager', 'signed_by_participant'],
  optional: ['fats_completed'],
  row,
  async apply(trx, rows, { services, by, leadProvider, problem, failed }) {
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const today = londonDateOf(new Date())
    const inFile = new Set<string>()
    for (const { row: csv, value } of rows) {
      const key = `${value.participant_id}/${value.course_identifier}/${value.meeting_number}`
      if (inFile.has(key)) problem(csv, 'meeting_number', `meeting ${value.meeting_number} of this participant is on an earlier line`)
      inFile.add(key)
      if (value.held_on > today) problem(csv, 'held_on', `${value.held_on} is in the future`)
      let q = trx
        .selectFrom('enrolments as e')
        .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
        .select(['e.cohort', 'lp.code'])
        .where('e.participant_id', '=', value.participant_id)
        .where('e.course_identifier', '=', value.course_identifier)
      if (leadProvider) q = q.where('e.lead_provider_id', '=', leadProvider.id)
      const enrolment = await q.executeTakeFirst()
      if (!enrolment) {
        const known = await trx.selectFrom('participants').select('id').where('id', '=', value.participant_id).executeTakeFirst()
        if (known && !leadProvider) {
          problem(csv, 'course_identifier', `participant ${value.participant_id} is not enrolled on ${value.course_identifier}`)
        } else problem(csv, 'participant_id', `unknown participant ${value.participant_id}`)
        continue
      }
      const design = await services.designs.designForCohort(enrolment.code, value.course_identifier, enrolment.cohort, trx)
      const meetings = design?.blocks.find((b) => b.block === 'MEETING')
      if (meetings && value.meeting_number > meetings.activities.length) {
        problem(csv, 'meeting_number', `${value.course_identifier} has ${meetings.activities.length} line manager/mentor meetings`)
      }
      const fats = design?.blocks.find((b) => b.block === 'FAT')
      if (value.fats_completed && !fats) {
        problem(csv, 'fats_completed', `${value.course_identifier} in cohort ${enrolment.cohort} has no formative assessment tasks`)
      }
      if (failed(csv)) continue
      const outcome = await recordMeetingLog(trx, by, {
        participantId: value.participant_id,
        courseIdentifier: value.course_identifier,
        meetingNumber: value.meeting_number,
        heldOn: value.held_on,
        signedByLineManager: value.signed_by_line_manager,
        signedByParticipant: value.signed_by_participant,
        fatsCompleted: value.fats_completed,
      })
      counts[outcome]++
    }
    return counts
  },
}
