import { recordAudit } from '../audit/audit.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import type { DesignVersions } from '../catalogue/versions.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Trx } from '../db/database.ts'
import { currentLearningRecords } from '../learning/current.ts'
import { checkLearningRecords } from '../learning/record-checks.ts'
import type { Principal } from '../policy/principal.ts'

// Participation that a design counts (a UCL forum, an EDT survey) becomes a learning record as if the
// learning platform had reported it: source 'automatic', checked by the same rules as every record.
// Only the first contribution records it; one the rules refuse (another course, a provisional block, an
// event activity) records nothing and does not stop the post or response itself.

export type RecordedActivity = 'recorded' | 'already-recorded' | { refused: string }

export async function recordParticipation(
  trx: Trx,
  services: { designs: DesignVersions; catalogue: Catalogue },
  by: Principal,
  participantId: string,
  activityCode: string,
  now = new Date(),
): Promise<RecordedActivity> {
  const existing = await currentLearningRecords(trx)
    .select('lr.id')
    .where('lr.participant_id', '=', participantId)
    .where('lr.activity_code', '=', activityCode)
    .executeTakeFirst()
  if (existing) return 'already-recorded'
  const occurredAt = now.toISOString()
  const [check] = await checkLearningRecords(trx, services, [{ participantId, activityCode, occurredAt, source: 'automatic' }], {
    now: now.getTime(),
  })
  if (!check || check.problems.length || !check.course) return { refused: check?.problems.map((p) => p.message).join('; ') ?? 'unknown' }
  const inserted = await trx
    .insertInto('learning_records')
    .values({
      participant_id: participantId,
      course_identifier: check.course,
      activity_code: activityCode,
      occurred_at: occurredAt,
      evidence_on: londonDateOf(now),
      source: 'automatic',
      progress_percent: null,
      recorded_by: by.kind === 'user' ? by.userId : null,
    })
    .onConflict((oc) => oc.doNothing())
    .returning('id')
    .executeTakeFirst()
  if (!inserted) return 'already-recorded'
  await recordAudit(trx, {
    by,
    action: 'learning-record.created',
    entityType: 'learning-record',
    entityId: inserted.id,
    after: { activity_code: activityCode, occurred_at: occurredAt },
  })
  return 'recorded'
}
