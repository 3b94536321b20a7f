import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import type { Principal } from '../policy/principal.ts'
import { notSuperseded } from '../db/append-only.ts'

// Line manager/mentor meeting logs. A log counts once signed by both; signed logs in meeting order
// confirm formative assessment tasks cumulatively. Logs are evidence: a change is a new log that
// supersedes the current one for that meeting.

export type MeetingLog = {
  participantId: string
  courseIdentifier: string
  meetingNumber: number
  heldOn: string
  signedByLineManager: boolean
  signedByParticipant: boolean
  fatsCompleted: number | null
}

/** The logs nobody has superseded. */
export function currentMeetingLogs(db: Db | Trx) {
  return db.selectFrom('meeting_logs as m').where(notSuperseded('meeting_logs', 'm'))
}

export async function recordMeetingLog(trx: Trx, by: Principal, log: MeetingLog): Promise<'created' | 'updated' | 'unchanged'> {
  const current = await currentMeetingLogs(trx)
    .select(['m.id', 'm.held_on', 'm.signed_by_line_manager', 'm.signed_by_participant', 'm.fats_completed'])
    .where('m.participant_id', '=', log.participantId)
    .where('m.course_identifier', '=', log.courseIdentifier)
    .where('m.meeting_number', '=', log.meetingNumber)
    .executeTakeFirst()
  const after = {
    heldOn: log.heldOn,
    signedByLineManager: log.signedByLineManager,
    signedByParticipant: log.signedByParticipant,
    fatsCompleted: log.fatsCompleted,
  }
  const before = current && {
    heldOn: current.held_on,
    signedByLineManager: current.signed_by_line_manager,
    signedByParticipant: current.signed_by_participant,
    fatsCompleted: current.fats_completed,
  }
  if (before && JSON.stringify(before) === JSON.stringify(after)) return 'unchanged'
  const created = await trx
    .insertInto('meeting_logs')
    .values({
      participant_id: log.participantId,
      course_identifier: log.courseIdentifier,
      meeting_number: log.meetingNumber,
      held_on: log.heldOn,
      signed_by_line_manager: log.signedByLineManager,
      signed_by_participant: log.signedByParticipant,
      fats_completed: log.fatsCompleted,
      supersedes: current?.id ?? null,
      recorded_by: by.kind === 'user' ? by.userId : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: current ? 'meeting-log.corrected' : 'meeting-log.recorded',
    entityType: 'meeting-log',
    entityId: created.id,
    before: before ?? undefined,
    after: { meetingNumber: log.meetingNumber, ...after },
  })
  return current ? 'updated' : 'created'
}
