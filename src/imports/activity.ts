import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { londonDateOf } from '../dates/london.ts'
import { checkLearningRecords } from '../learning/record-checks.ts'
import { moment, percent } from './fields.ts'
import type { Importer } from './import-file.ts'

// `npq import activity`: learning records (self-study completions, video progress, self-reports).
// Events are evidenced by registers and meetings by signed logs, so such rows are refused here, as is
// a self-report in a cohort that does not use self-reporting (the rules are learning/record-checks.ts,
// shared with the ingest API). An admin's upload for one lead provider sees only its participants.

const row = z.object({
  participant_id: z.uuid('must be a UUID'),
  activity_code: z.string().min(1, 'must not be empty'),
  occurred_at: moment,
  source: z.enum(['automatic', 'self-report'], 'must be automatic or self-report'),
  progress_percent: percent,
})

export const activityImporter: Importer<typeof row> = {
  kind: 'activity',
  required: ['participant_id', 'activity_code', 'occurred_at', 'source'],
  optional: ['progress_percent'],
  row,
  async apply(trx, rows, { services, by, leadProvider, problem }) {
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const checks = await checkLearningRecords(
      trx,
      services,
      rows.map(({ value }) => ({
        participantId: value.participant_id,
        activityCode: value.activity_code,
        occurredAt: value.occurred_at,
        source: value.source,
      })),
      { leadProviderId: leadProvider?.id ?? null },
    )
    for (const [i, { row: csv, value }] of rows.entries()) {
      const { problems, course } = checks[i]!
      for (const p of problems) problem(csv, p.field, p.message)
      if (problems.length || !course) continue
      const inserted = await trx
        .insertInto('learning_records')
        .values({
          participant_id: value.participant_id,
          course_identifier: course,
          activity_code: value.activity_code,
          occurred_at: value.occurred_at,
          evidence_on: londonDateOf(new Date(value.occurred_at)),
          source: value.source,
          progress_percent: value.progress_percent,
          recorded_by: by.kind === 'user' ? by.userId : null,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst()
      if (inserted) {
        counts.created++
        await recordAudit(trx, { by, action: 'learning-record.imported', entityType: 'learning-record', entityId: inserted.id })
      } else counts.unchanged++
    }
    return counts
  },
}
