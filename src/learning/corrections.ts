import type { Selectable } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Trx } from '../db/database.ts'
import type { LearningRecordsTable } from '../db/schema.ts'
import { AppError, notFound } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'

// Corrections of learning records. Records are never edited: a correction is a new row that
// supersedes the old one, carrying the corrected values, or retracting it (entered in error). Each
// record has at most one successor, so only the latest record of a chain can be corrected (correcting
// a retraction with values restores the record).

export type LearningRecord = Selectable<LearningRecordsTable>

export type LearningRecordChange =
  { retract: true; reason: string } | { retract?: false; occurredAt?: string; progressPercent?: number | null; reason: string }

export async function correctLearningRecord(
  trx: Trx,
  by: Principal,
  recordId: string,
  change: LearningRecordChange,
): Promise<LearningRecord> {
  const record = await trx.selectFrom('learning_records').selectAll().where('id', '=', recordId).executeTakeFirst()
  if (!record) throw notFound('Learning record')
  const reason = change.reason.trim()
  if (!reason)
    throw new AppError('validation-failed', 'Give the reason for the correction', [{ field: 'reason', message: 'Enter a reason' }])
  await refuseIfSuperseded(trx, recordId)

  let values: { occurredAt: Date | string; progressPercent: number | null; retracted: boolean }
  const recorded = {
    occurredAt: record.occurred_at,
    progressPercent: record.progress_percent === null ? null : Number(record.progress_percent),
  }
  if (change.retract) {
    if (record.retracted) throw new AppError('conflict', 'This learning record is already retracted')
    values = { ...recorded, retracted: true }
  } else {
    if (change.occurredAt === undefined && change.progressPercent === undefined) {
      throw new AppError('validation-failed', 'Give the corrected values, or retract the record', [
        { field: 'occurred_at', message: 'Give occurred_at or progress_percent to correct' },
      ])
    }
    if (change.occurredAt !== undefined && Date.parse(change.occurredAt) > Date.now()) {
      throw new AppError('validation-failed', 'The corrected time is in the future', [
        { field: 'occurred_at', message: `${change.occurredAt} is in the future` },
      ])
    }
    values = {
      occurredAt: change.occurredAt ?? recorded.occurredAt,
      progressPercent: change.progressPercent === undefined ? recorded.progressPercent : change.progressPercent,
      retracted: false,
    }
  }

  let inserted: LearningRecord
  try {
    inserted = await trx
      .insertInto('learning_records')
      .values({
        participant_id: record.participant_id,
        course_identifier: record.course_identifier,
        activity_code: record.activity_code,
        occurred_at: values.occurredAt,
        evidence_on: londonDateOf(new Date(values.occurredAt)),
        source: record.source,
        progress_percent: values.progressPercent,
        supersedes: record.id,
        retracted: values.retracted,
        reason,
        recorded_by: by.kind === 'user' ? by.userId : null,
      })
      .returningAll()
      .executeTakeFirstOrThrow()
  } catch (error) {
    // Two corrections of one record at once: the unique successor index lets one through.
    if ((error as { code?: string }).code === '23505')
      throw new AppError('conflict', 'This learning record has already been corrected or retracted')
    throw error
  }

  const snapshot = (r: LearningRecord) => ({
    id: r.id,
    participant_id: r.participant_id,
    activity_code: r.activity_code,
    occurred_at: r.occurred_at,
    source: r.source,
    progress_percent: r.progress_percent === null ? null : Number(r.progress_percent),
    retracted: r.retracted,
  })
  await recordAudit(trx, {
    by,
    action: change.retract ? 'learning-record.retracted' : 'learning-record.corrected',
    entityType: 'learning-record',
    entityId: record.id,
    before: snapshot(record),
    after: { ...snapshot(inserted), supersedes: record.id, reason },
  })
  return inserted
}

async function refuseIfSuperseded(trx: Trx, recordId: string): Promise<void> {
  const successor = await trx.selectFrom('learning_records').select('id').where('supersedes', '=', recordId).executeTakeFirst()
  if (successor) {
    throw new AppError(
      'conflict',
      `This learning record has already been corrected or retracted: correct the latest record, ${successor.id}`,
    )
  }
}
