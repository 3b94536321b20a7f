import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { findActivity } from '../catalogue/activities.ts'
import { cohortPattern } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { eventKinds } from '../db/schema.ts'
import { courseIdentifier, moment } from './fields.ts'
import type { Importer } from './import-file.ts'
import { leadProviderAndPartner } from './lookups.ts'
import { promoteWaiting } from '../events/booking.ts'
import { loadEvent } from '../events/events.ts'
import { sendEventEmail } from '../events/notifications.ts'

// `npq import events`: the live sessions a delivery partner runs, each delivering one event activity
// of the cohort's design (its register is the evidence). Welcome events and tutor sessions may
// deliver no design activity: their registers are kept but earn nothing.

const deliversNothing: readonly string[] = ['welcome', 'tutor-session']

const row = z.object({
  event_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,99}$/, 'must be letters, digits, . _ : / or - (at most 100)'),
  lead_provider: z.string().min(1, 'must not be empty'),
  delivery_partner: z.string().min(1, 'must not be empty'),
  course_identifier: courseIdentifier,
  cohort: z.string().regex(cohortPattern, 'must be a cohort like 2022-autumn'),
  activity_code: z.string().transform((s) => (s.trim() === '' ? null : s.trim())),
  kind: z.enum(eventKinds, `must be one of ${eventKinds.join(', ')}`),
  starts_at: moment,
  ends_at: moment,
  capacity: z
    .string()
    .regex(/^[0-9]+$/, 'must be a whole number')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be at least 1').max(100000, 'must be at most 100000')),
})

export const eventsImporter: Importer<typeof row> = {
  kind: 'events',
  required: Object.keys(row.shape),
  optional: [],
  row,
  async apply(trx, rows, { services, by, leadProvider, problem }) {
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const inFile = new Set<string>()
    for (const { row: csv, value } of rows) {
      if (inFile.has(value.event_id)) problem(csv, 'event_id', `event ${value.event_id} appears on an earlier line`)
      inFile.add(value.event_id)
      if (Date.parse(value.ends_at) <= Date.parse(value.starts_at)) problem(csv, 'ends_at', 'must be after starts_at')
      const found = await leadProviderAndPartner(trx, csv, value, { leadProvider, problem }, 'events')
      if (!found) continue
      const { lp, dp } = found
      if (!services.catalogue.cohortsFor(value.lead_provider, value.course_identifier).includes(value.cohort)) {
        problem(csv, 'cohort', `${value.lead_provider} does not run ${value.course_identifier} in cohort ${value.cohort}`)
        continue
      }
      if (value.activity_code === null) {
        if (!deliversNothing.includes(value.kind))
          problem(csv, 'activity_code', `must name the design activity a ${value.kind} event delivers`)
      } else {
        const design = await services.designs.designForCohort(value.lead_provider, value.course_identifier, value.cohort, trx)
        const found = design ? findActivity(design, value.activity_code) : null
        if (!found) {
          problem(csv, 'activity_code', `${value.activity_code} is not an activity of ${value.course_identifier} in cohort ${value.cohort}`)
        } else if (found.activity.evidence !== 'register') {
          problem(
            csv,
            'activity_code',
            `${value.activity_code} is not an event activity (it is evidenced by ${found.activity.evidence} rows)`,
          )
        }
      }
      if (!dp) continue

      const wanted = {
        lead_provider_id: lp.id,
        delivery_partner_id: dp.id,
        course_identifier: value.course_identifier,
        cohort: value.cohort,
        activity_code: value.activity_code,
        kind: value.kind,
        starts_at: new Date(value.starts_at).toISOString(),
        ends_at: new Date(value.ends_at).toISOString(),
        starts_on: londonDateOf(new Date(value.starts_at)),
        capacity: value.capacity,
      }
      const existing = await trx
        .selectFrom('events')
        .select([
          'id',
          'lead_provider_id',
          'delivery_partner_id',
          'course_identifier',
          'cohort',
          'activity_code',
          'kind',
          'starts_at',
          'ends_at',
          'starts_on',
          'capacity',
        ])
        .where('event_ref', '=', value.event_id)
        .executeTakeFirst()
      if (!existing) {
        const created = await trx
          .insertInto('events')
          .values({ event_ref: value.event_id, ...wanted })
          .returning('id')
          .executeTakeFirstOrThrow()
        await recordAudit(trx, { by, action: 'event.created', entityType: 'event', entityId: created.id, after: wanted })
        counts.created++
        continue
      }
      const { id, ...stored } = existing
      const before = { ...stored, starts_at: new Date(stored.starts_at).toISOString(), ends_at: new Date(stored.ends_at).toISOString() }
      if (JSON.stringify(before) === JSON.stringify(wanted)) {
        counts.unchanged++
        continue
      }
      if (stored.lead_provider_id !== lp.id) {
        problem(csv, 'event_id', `event ${value.event_id} belongs to another lead provider`)
        continue
      }
      const identityChanged = (['delivery_partner_id', 'course_identifier', 'cohort', 'activity_code'] as const).some(
        (k) => before[k] !== wanted[k],
      )
      if (identityChanged) {
        const register = await trx.selectFrom('register_entries').select('id').where('event_id', '=', id).executeTakeFirst()
        if (register) {
          problem(
            csv,
            'event_id',
            `event ${value.event_id} already has register entries: its delivery partner, course, cohort and activity cannot change`,
          )
          continue
        }
      }
      const booked = await trx
        .selectFrom('bookings')
        .select('participant_id')
        .where('event_id', '=', id)
        .where('status', '=', 'booked')
        .execute()
      if (value.capacity < booked.length) {
        problem(csv, 'capacity', `must be at least ${booked.length}: that many places are already booked`)
        continue
      }
      await trx
        .updateTable('events')
        .set({ ...wanted, updated_at: new Date() })
        .where('id', '=', id)
        .execute()
      await recordAudit(trx, { by, action: 'event.updated', entityType: 'event', entityId: id, before, after: wanted })
      // As when the event is changed on its page: the booked are told of a new time, and new places go to the waiting list.
      if (before.starts_at !== wanted.starts_at || before.ends_at !== wanted.ends_at) {
        const event = (await loadEvent(trx, id))!
        for (const b of booked) await sendEventEmail(trx, services, 'event-changed', event, b.participant_id)
      }
      await promoteWaiting(trx, services, id)
      counts.updated++
    }
    return counts
  },
}
