import { z } from 'zod'
import { londonDateOf } from '../dates/london.ts'
import { registerStatuses } from '../db/schema.ts'
import { optionalText, moment } from './fields.ts'
import type { Importer } from './import-file.ts'
import { currentRegisterEntries, recordRegisterEntry } from '../registers/register-entries.ts'
import { lockedFrom } from '../registers/register-rules.ts'

// `npq import attendance`: a facilitator's register entries. The register is the only evidence of
// attendance; a contingency completion (a catch-up after a missed session) says when it was done.

const row = z.object({
  event_id: z.string().min(1, 'must not be empty'),
  participant_id: z.uuid('must be a UUID'),
  status: z.enum(registerStatuses, `must be one of ${registerStatuses.join(', ')}`),
  completed_at: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim()))
    .pipe(moment.nullable()),
  note: optionalText.pipe(z.string().max(2000, 'must be 2000 characters or fewer').nullable()),
})

export const attendanceImporter: Importer<typeof row> = {
  kind: 'attendance',
  required: ['event_id', 'participant_id', 'status'],
  optional: ['completed_at', 'note'],
  row,
  async apply(trx, rows, { by, leadProvider, problem, failed }) {
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const now = Date.now()
    const inFile = new Set<string>()
    const eventsLocked = new Set<string>()
    for (const { row: csv, value } of rows) {
      const key = `${value.event_id}/${value.participant_id}`
      if (inFile.has(key)) problem(csv, 'participant_id', `this participant's entry for ${value.event_id} is on an earlier line`)
      inFile.add(key)
      if (value.status === 'contingency-completed' && value.completed_at === null) {
        problem(csv, 'completed_at', 'is required for contingency-completed: when the catch-up was done')
      }
      if (value.status !== 'contingency-completed' && value.completed_at !== null) {
        problem(csv, 'completed_at', `must be empty unless the status is contingency-completed`)
      }
      if (value.completed_at && Date.parse(value.completed_at) > now) problem(csv, 'completed_at', `${value.completed_at} is in the future`)

      const event = await trx
        .selectFrom('events as ev')
        .innerJoin('organisations as lp', 'lp.id', 'ev.lead_provider_id')
        .select(['ev.id', 'ev.lead_provider_id', 'ev.course_identifier', 'ev.cohort', 'ev.starts_at', 'lp.code as lead_provider'])
        .where('ev.event_ref', '=', value.event_id)
        .executeTakeFirst()
      if (!event || (leadProvider && event.lead_provider_id !== leadProvider.id)) {
        problem(csv, 'event_id', `unknown event ${value.event_id} (import events first)`)
        continue
      }
      if (new Date(event.starts_at).getTime() > now) {
        problem(csv, 'event_id', `event ${value.event_id} has not started yet: its register cannot be taken`)
      }
      const enrolment = await trx
        .selectFrom('enrolments')
        .select('id')
        .where('participant_id', '=', value.participant_id)
        .where('course_identifier', '=', event.course_identifier)
        .where('cohort', '=', event.cohort)
        .where('lead_provider_id', '=', event.lead_provider_id)
        .executeTakeFirst()
      if (!enrolment) {
        const known = await trx.selectFrom('participants').select('id').where('id', '=', value.participant_id).executeTakeFirst()
        if (known && !leadProvider) {
          problem(
            csv,
            'participant_id',
            `participant ${value.participant_id} is not enrolled on ${event.course_identifier} in cohort ${event.cohort} with ${event.lead_provider}`,
          )
        } else problem(csv, 'participant_id', `unknown participant ${value.participant_id}`)
        continue
      }
      if (failed(csv)) continue
      // The event's row is locked as the register page and API lock it, so that an entry recorded
      // meanwhile (or by the same file imported at the same time) is read below, not written twice.
      if (!eventsLocked.has(event.id)) {
        await trx.selectFrom('events').select('id').where('id', '=', event.id).forUpdate().execute()
        eventsLocked.add(event.id)
      }
      // As on the register page: once the register has locked (14 days after the event), changing
      // an attended or absent mark needs a reason — here the note, kept as the change's reason.
      const current = await currentRegisterEntries(trx)
        .select(['r.status'])
        .where('r.event_id', '=', event.id)
        .where('r.participant_id', '=', value.participant_id)
        .executeTakeFirst()
      const changesMark = current !== undefined && current.status !== value.status && value.status !== 'contingency-completed'
      const locked = londonDateOf(new Date(now)) >= lockedFrom(londonDateOf(new Date(event.starts_at)))
      if (changesMark && locked && !value.note) {
        problem(
          csv,
          'note',
          `is required: the register locked on ${lockedFrom(londonDateOf(new Date(event.starts_at)))}, so say why the mark changes`,
        )
        continue
      }
      const outcome = await recordRegisterEntry(trx, by, {
        eventId: event.id,
        participantId: value.participant_id,
        status: value.status,
        completedAt: value.completed_at ? new Date(value.completed_at).toISOString() : null,
        completedOn: value.completed_at ? londonDateOf(new Date(value.completed_at)) : null,
        note: value.note,
        changeReason: changesMark && locked ? value.note : null,
      })
      counts[outcome]++
    }
    return counts
  },
}
