import crypto from 'node:crypto'
import type { Activity } from '../catalogue/load.ts'
import type { Trx } from '../db/database.ts'
import type { EventKind } from '../db/schema.ts'
import { recordMeetingLog } from '../meetings/meeting-logs.ts'
import type { Principal } from '../policy/principal.ts'
import { recordRegisterEntry } from '../registers/register-entries.ts'
import type { Services } from '../services.ts'

// Learning evidence for the demo participants, so that engagement, reports and (later) outputs have
// something to show: each enrolment has worked through a share of its design in order, spread over
// its programme: self-study records, the delivery partner's events with registers, meeting logs.
// Deterministic and idempotent, like the rest of the demo.

const shares = [0.95, 0.62, 0.3, 1, 0.81, 0.12]
const DAY = 86_400_000

function eventKindOf(activity: Activity): EventKind {
  const key = activity.code.toUpperCase()
  if (key.includes('INDUCTION')) return 'induction'
  if (key.includes('CONFERENCE') || key.includes('CONSOLIDATION')) return 'conference'
  if (key.includes('PLG')) return 'peer-learning-group'
  if (key.includes('LIVE')) return 'live-webinar'
  if (key.includes('ASSESSMENT-CLINIC')) return 'assessment-clinic'
  if (key.includes('CLINIC')) return 'clinic'
  if (key.includes('COMMUNITY')) return 'community'
  if (key.includes('COACHING') || key.includes('SHADOWING')) return 'coaching'
  if (key.includes('SCHOOL-VISIT')) return 'school-visit'
  return 'f2f'
}

export type DemoEnrolment = {
  participantId: string
  leadProvider: string
  leadProviderId: string
  deliveryPartner: string
  deliveryPartnerId: string
  course: string
  cohort: string
}

export async function addDemoEvidence(
  services: Services,
  trx: Trx,
  by: Principal,
  enrolments: DemoEnrolment[],
  today = new Date(),
): Promise<number> {
  let created = 0
  for (const [index, e] of enrolments.entries()) {
    const design = await services.designs.designForCohort(e.leadProvider, e.course, e.cohort, trx)
    const startsOn = services.catalogue.cohortStartsOn(e.leadProvider, e.cohort)
    if (!design || !startsOn) continue
    const selfReporting = services.catalogue.cohortOutputs(e.leadProvider, e.cohort, e.course)?.selfReporting ?? false
    const activities = [...design.blocks.filter((b) => !b.provisional).flatMap((b) => b.activities), ...design.programmeActivities]
    const share = shares[index % shares.length]!
    const start = Date.parse(`${startsOn}T00:00:00Z`)
    const span = Math.min(((design.blocks.length || 6) * 75 + 30) * DAY, today.getTime() - start - DAY)
    if (span <= 0) continue
    const done = Math.ceil(share * activities.length)
    let meetingFats = 0
    for (const [i, activity] of activities.entries()) {
      // The activity's place in the programme gives its date; 10:00 London-ish, never in the future.
      const at = new Date(start + Math.round((span * (i + 0.5)) / activities.length) + 10 * 3_600_000)
      const completed = i < done
      if (activity.evidence === 'register') {
        const eventRef = `DEMO-${e.deliveryPartner}-${e.cohort}-${activity.code}`
        await trx
          .insertInto('events')
          .values({
            event_ref: eventRef,
            lead_provider_id: e.leadProviderId,
            delivery_partner_id: e.deliveryPartnerId,
            course_identifier: e.course,
            cohort: e.cohort,
            activity_code: activity.code,
            kind: eventKindOf(activity),
            starts_at: at.toISOString(),
            ends_at: new Date(at.getTime() + 2 * 3_600_000).toISOString(),
            starts_on: at.toISOString().slice(0, 10),
            capacity: 40,
          })
          .onConflict((oc) => oc.column('event_ref').doNothing())
          .execute()
        const event = await trx.selectFrom('events').select('id').where('event_ref', '=', eventRef).executeTakeFirstOrThrow()
        const outcome = await recordRegisterEntry(trx, by, {
          eventId: event.id,
          participantId: e.participantId,
          status: completed ? 'attended' : 'absent',
          completedAt: null,
          completedOn: null,
          note: null,
        })
        if (outcome === 'created') created++
        if (!(selfReporting && completed)) continue
      } else if (activity.evidence === 'meeting-log') {
        if (!completed) continue
        const outcome = await recordMeetingLog(trx, by, {
          participantId: e.participantId,
          courseIdentifier: e.course,
          meetingNumber: Number(activity.code.split('-').at(-1)),
          heldOn: at.toISOString().slice(0, 10),
          signedByLineManager: true,
          signedByParticipant: true,
          fatsCompleted: 2 + (meetingFats++ % 2),
        })
        if (outcome === 'created') created++
        continue
      }
      if (!completed) continue
      const eventLike = activity.evidence === 'register' || activity.code.endsWith('-MIT')
      const rows = [
        ...(activity.code.endsWith('-VIDEO') ? [{ at: new Date(at.getTime() - DAY), percent: 55 }] : []),
        { at, percent: activity.code.endsWith('-VIDEO') ? 100 : null },
      ]
      for (const row of rows) {
        const inserted = await trx
          .insertInto('learning_records')
          .values({
            participant_id: e.participantId,
            course_identifier: e.course,
            activity_code: activity.code,
            occurred_at: row.at.toISOString(),
            evidence_on: row.at.toISOString().slice(0, 10),
            source: selfReporting && eventLike ? 'self-report' : 'automatic',
            progress_percent: row.percent,
            client_event_id: `demo-${crypto.createHash('sha1').update(`${e.participantId}/${activity.code}/${row.percent}`).digest('hex')}`,
          })
          .onConflict((oc) => oc.doNothing())
          .returning('id')
          .executeTakeFirst()
        if (inserted) created++
      }
    }
  }
  return created
}
