import type { Trx } from '../db/database.ts'
import { londonMoment } from '../dates/london.ts'
import { scheduleEvents, type EventInput } from '../events/scheduling.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'

// Upcoming events for the demo, so that the Events zone, the booking journey and the facilitator's
// list have something to show: two dates of North Star's Headship face-to-face session (a
// participant books one), a live webinar, and a welcome evening, a few weeks from today. Added once.

export async function addDemoEvents(services: Services, trx: Trx, by: Principal, today = new Date()): Promise<number> {
  const already = await trx.selectFrom('events').select('id').where('title', 'like', 'Demo: %').executeTakeFirst()
  if (already) return 0
  const org = async (kind: 'lead-provider' | 'delivery-partner', code: string) =>
    (await trx.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow()).id
  const facilitator = await trx.selectFrom('users').select('id').where('email', '=', 'facilitator@demo.test').executeTakeFirst()
  const design = await services.designs.designForCohort('edt', 'npq-headship', '2022-autumn', trx)
  const events = (design?.blocks ?? []).flatMap((b) => b.activities).filter((a) => a.evidence === 'register')
  const f2f = events.find((a) => a.code.endsWith('-F2F'))
  const live = events.find((a) => a.code.endsWith('-LIVE'))
  const day = (weeks: number, weekday: number) => {
    const d = new Date(today.getTime() + weeks * 7 * 86_400_000)
    d.setUTCDate(d.getUTCDate() + ((weekday - d.getUTCDay() + 7) % 7))
    return d.toISOString().slice(0, 10)
  }
  const base = {
    leadProviderId: await org('lead-provider', 'edt'),
    deliveryPartnerId: await org('delivery-partner', 'north-star-tsh'),
    courseIdentifier: 'npq-headship',
    cohort: '2022-autumn',
    description: null,
    bookingOpensAt: null,
    bookingClosesAt: null,
    cancelBy: null,
    reminderDaysBefore: 2,
    facilitatorUserIds: facilitator ? [facilitator.id] : [],
    sharedWithPartnerIds: [],
  }
  const at = (date: string, starts: string, ends: string) => ({ startsAt: londonMoment(date, starts)!, endsAt: londonMoment(date, ends)! })
  const inputs: EventInput[] = [
    ...(f2f
      ? [3, 4].map((weeks, i) => ({
          ...base,
          kind: 'f2f' as const,
          activityCode: f2f.code,
          title: `Demo: ${f2f.title} (date ${i + 1})`,
          ...at(day(weeks, 3), '09:30', '16:00'),
          venue: 'North Star Teaching School Hub, 1 Station Road, Leeds LS1 1AA',
          joiningLink: null,
          capacity: 24,
        }))
      : []),
    ...(live
      ? [
          {
            ...base,
            kind: 'live-webinar' as const,
            activityCode: live.code,
            title: `Demo: ${live.title}`,
            ...at(day(2, 2), '16:00', '17:30'),
            venue: null,
            joiningLink: 'https://meet.example.invalid/npq-headship-live',
            capacity: 60,
          },
        ]
      : []),
    {
      ...base,
      kind: 'welcome',
      activityCode: null,
      title: 'Demo: Welcome evening',
      ...at(day(1, 4), '17:00', '18:30'),
      venue: null,
      joiningLink: 'https://meet.example.invalid/welcome',
      capacity: 100,
    },
  ]
  await scheduleEvents(trx, services, by, inputs)
  return inputs.length
}
