import { sql } from 'kysely'
import { findCourse } from '../catalogue/courses.ts'
import type { Db } from '../db/database.ts'
import { formatDate } from '../escalations/cases.ts'
import { withdrawalInForce } from '../participants/in-force.ts'

// What a deferred or withdrawn participant is told where they land (Home after signing in, and the
// course content page): why the course is closed or read-only, since when, and until when.

export type LifecycleNotice = { enrolmentId: string; courseIdentifier: string; status: 'deferred' | 'withdrawn'; text: string }

/** Notices for a participant's deferred and withdrawn enrolments (none for the others). */
export async function lifecycleNotices(db: Db, participantUserId: string): Promise<LifecycleNotice[]> {
  const enrolments = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'e.participant_id', 'e.course_identifier', 'e.status'])
    .where('p.user_id', '=', participantUserId)
    .where('e.status', 'in', ['deferred', 'withdrawn'])
    .orderBy('e.created_at')
    .execute()
  const notices: LifecycleNotice[] = []
  for (const e of enrolments) {
    const course = findCourse(e.course_identifier)?.name ?? e.course_identifier
    if (e.status === 'withdrawn') {
      const w = await db
        .selectFrom('withdrawals')
        .select(sql<string>`withdrawn_on::text`.as('on'))
        .where('participant_id', '=', e.participant_id)
        .where((eb) => eb.or([eb('enrolment_id', 'is', null), eb('enrolment_id', '=', e.id)]))
        .where(withdrawalInForce)
        .orderBy('enrolment_id', (ob) => ob.asc().nullsLast())
        .executeTakeFirst()
      notices.push({
        enrolmentId: e.id,
        courseIdentifier: e.course_identifier,
        status: 'withdrawn',
        text: `You withdrew from the ${course}${w ? ` on ${formatDate(w.on)}` : ''}. You can no longer use this course; your records are kept.`,
      })
      continue
    }
    const d = await db
      .selectFrom('deferrals')
      .select([sql<string | null>`planned_return_on::text`.as('returnOn'), 'return_confirmed_at'])
      .where('participant_id', '=', e.participant_id)
      .where((eb) => eb.or([eb('enrolment_id', 'is', null), eb('enrolment_id', '=', e.id)]))
      .where('resumed_on', 'is', null)
      .orderBy('deferred_on', 'desc')
      .executeTakeFirst()
    const until = d?.returnOn ? ` until ${formatDate(d.returnOn)}` : ''
    const next = d?.return_confirmed_at ? 'You have confirmed your return.' : 'Please tell us whether you are returning.'
    notices.push({
      enrolmentId: e.id,
      courseIdentifier: e.course_identifier,
      status: 'deferred',
      text: `Your place on the ${course} is deferred${until}. Until then your learning is read-only, you cannot book events and you get no reminders; your progress so far is kept. ${next}`,
    })
  }
  return notices
}
