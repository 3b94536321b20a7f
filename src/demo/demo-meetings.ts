import { loadUserPrincipal } from '../accounts/principals.ts'
import { addDays } from '../applications/deadlines.ts'
import { londonDateOf, londonMoment } from '../dates/london.ts'
import { saveLog, signLog } from '../meetings/log-versions.ts'
import { loadMeetingEnrolments, type User } from '../meetings/meetings.ts'
import { scheduleMeeting } from '../meetings/schedule.ts'
import type { Services } from '../services.ts'

// Line manager/mentor meetings (issue 8) for the demo's UCL participant, Sam Whitfield (ucl-participant@demo.test),
// whose line manager is Liam Murphy (line-manager@demo.test): UCL's NPQLBC needs three meetings.
//   1  held five weeks ago, its log signed by both: evidence for UCL's compliance component;
//   2  held last week, logged and signed by Sam, waiting for Liam's signature (his Home says so);
//   3  scheduled in three weeks, with calendar invitations to both.
// Through the meetings' own functions, as the pages do; a second load finds meeting 1 and creates nothing.

export const uclParticipantEmail = 'ucl-participant@demo.test'

const log = (heldOn: string, stage: 'contracting' | 'check-in', fats: number) => ({
  heldOn,
  stage,
  fatsCompleted: fats > 0,
  fatsCompletedCount: fats,
  checkingIn: 'Settling into the programme; the first module on routines has gone well with Year 8.',
  keyPurposes: 'Agree how we work together, and what Sam will try in his classes before the next meeting.',
  responses: [
    'The whole-school routines for corridor transitions.',
    'Pupils arrive calmer; two colleagues have asked to see the approach.',
    'Whether the routines last after half term without reminders.',
    'Observe a colleague’s lesson start and compare.',
    'Liam will protect time in the next department meeting.',
  ],
})

export async function addDemoMeetings(services: Services, progress: (line: string) => void): Promise<number> {
  const { db, catalogue } = services
  const sam = await db.selectFrom('users').select('id').where('email', '=', uclParticipantEmail).executeTakeFirst()
  const liam = await db.selectFrom('users').select('id').where('email', '=', 'line-manager@demo.test').executeTakeFirst()
  if (!sam || !liam) return 0
  const [e] = await loadMeetingEnrolments(db, catalogue, { participantUserId: sam.id })
  if (!e || e.meetingsRequired === 0) return 0
  const already = await db.selectFrom('meeting_schedules').select('id').where('enrolment_id', '=', e.id).executeTakeFirst()
  if (already) return 0
  progress('demo: line manager meetings')
  const asSam = (await loadUserPrincipal(db, sam.id)) as User
  const asLiam = (await loadUserPrincipal(db, liam.id)) as User
  const deps = { config: services.config, email: services.email }
  const today = londonDateOf(new Date())
  const at = (date: string) => londonMoment(date, '15:30')!
  let created = 0
  await db.transaction().execute(async (trx) => {
    // Meetings in the past are recorded as they were scheduled then (the form only takes future times).
    for (const [n, date] of [
      [1, addDays(today, -35)],
      [2, addDays(today, -7)],
    ] as const) {
      await trx
        .insertInto('meeting_schedules')
        .values({
          enrolment_id: e.id,
          meeting_number: n,
          starts_at: at(date),
          location: 'Oakfield Primary, head’s office',
          scheduled_by: sam.id,
        })
        .execute()
      created++
    }
    await scheduleMeeting(trx, deps, asSam, e, {
      meetingNumber: 3,
      startsAt: at(addDays(today, 21)),
      durationMinutes: 45,
      location: 'Oakfield Primary, head’s office',
    })
    created++

    const first = await saveLog(trx, asSam, e, 'participant', 1, log(addDays(today, -35), 'contracting', 1))
    await signLog(trx, deps, asSam, e, 'participant', 1, first)
    await signLog(trx, deps, asLiam, e, 'line-manager', 1, first)
    const second = await saveLog(trx, asSam, e, 'participant', 2, log(addDays(today, -7), 'check-in', 2))
    await signLog(trx, deps, asSam, e, 'participant', 2, second)
    created += 3
  })
  return created
}
