import { z } from 'zod'
import { londonDateOf } from '../dates/london.ts'
import type { Trx } from '../db/database.ts'
import { deferralReasons, withdrawalReasons, type EnrolmentStatus } from '../db/schema.ts'
import { transitionEnrolment } from '../participants/lifecycle.ts'
import type { Principal } from '../policy/principal.ts'
import { calendarDate } from './fields.ts'
import type { ImportContext, Importer } from './import-file.ts'
import type { CsvRow } from './csv.ts'
import { recordRow } from './record-row.ts'
import { withdrawalInForce } from '../participants/in-force.ts'

// `npq import deferrals` and `npq import withdrawals`: approved deferrals (deferred from `deferred_on`
// until the day before `planned_return_on`) and withdrawals, with DfE's reasons. Output evaluation
// reads them by date: nothing is declared while deferred, nor from evidence after a withdrawal.

const optionalDate = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim()))
  .pipe(calendarDate.nullable())

/** The participant, if they are enrolled with the importing lead provider (any, from the CLI). */
async function knownParticipant(trx: Trx, csv: CsvRow, participantId: string, { leadProvider, problem }: ImportContext): Promise<boolean> {
  let q = trx.selectFrom('enrolments').select('id').where('participant_id', '=', participantId)
  if (leadProvider) q = q.where('lead_provider_id', '=', leadProvider.id)
  if (await q.executeTakeFirst()) return true
  problem(csv, 'participant_id', `unknown participant ${participantId}`)
  return false
}

const deferralRow = z.object({
  participant_id: z.uuid('must be a UUID'),
  reason: z.enum(deferralReasons, `must be one of ${deferralReasons.join(', ')}`),
  deferred_on: calendarDate,
  planned_return_on: optionalDate,
})

export const deferralsImporter: Importer<typeof deferralRow> = {
  kind: 'deferrals',
  required: ['participant_id', 'reason', 'deferred_on'],
  optional: ['planned_return_on'],
  row: deferralRow,
  async apply(trx, rows, context) {
    const { by, problem, failed } = context
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const inFile: { participant: string; from: string; until: string | null; line: number }[] = []
    for (const { row: csv, value, line } of rows) {
      if (value.planned_return_on !== null && value.planned_return_on <= value.deferred_on)
        problem(csv, 'planned_return_on', 'must be after deferred_on')
      if (!(await knownParticipant(trx, csv, value.participant_id, context))) continue
      const withdrawal = await trx
        .selectFrom('withdrawals')
        .select('withdrawn_on')
        .where('participant_id', '=', value.participant_id)
        .where(withdrawalInForce)
        .executeTakeFirst()
      if (withdrawal && withdrawal.withdrawn_on <= value.deferred_on)
        problem(csv, 'deferred_on', `the participant withdrew on ${withdrawal.withdrawn_on}: a deferral cannot start after that`)
      // Deferrals of one person do not overlap (in the file, or with those already recorded).
      const others = [
        ...inFile.filter((d) => d.participant === value.participant_id),
        ...(
          await trx
            .selectFrom('deferrals')
            .select(['deferred_on', 'planned_return_on'])
            .where('participant_id', '=', value.participant_id)
            .where('deferred_on', '<>', value.deferred_on)
            .execute()
        ).map((d) => ({ participant: value.participant_id, from: d.deferred_on, until: d.planned_return_on, line: 0 })),
      ]
      const overlaps = others.find(
        (o) =>
          o.from !== value.deferred_on &&
          (o.until === null || o.until > value.deferred_on) &&
          (value.planned_return_on === null || value.planned_return_on > o.from),
      )
      if (overlaps)
        problem(csv, 'deferred_on', `overlaps the deferral from ${overlaps.from}${overlaps.line ? ` on line ${overlaps.line}` : ''}`)
      if (inFile.some((d) => d.participant === value.participant_id && d.from === value.deferred_on))
        problem(csv, 'deferred_on', 'this deferral is on an earlier line')
      inFile.push({ participant: value.participant_id, from: value.deferred_on, until: value.planned_return_on, line })

      if (failed(csv)) continue
      const wanted = { reason: value.reason, planned_return_on: value.planned_return_on }
      const existing = await trx
        .selectFrom('deferrals')
        .select(['id', 'reason', 'planned_return_on'])
        .where('participant_id', '=', value.participant_id)
        .where('deferred_on', '=', value.deferred_on)
        .executeTakeFirst()
      const outcome = await recordRow(
        trx,
        by,
        'deferral',
        existing && { id: existing.id, stored: { reason: existing.reason, planned_return_on: existing.planned_return_on } },
        wanted,
        {
          insert: async () =>
            (
              await trx
                .insertInto('deferrals')
                .values({
                  participant_id: value.participant_id,
                  deferred_on: value.deferred_on,
                  ...wanted,
                  recorded_by: by.kind === 'user' ? by.userId : null,
                })
                .returning('id')
                .executeTakeFirstOrThrow()
            ).id,
          update: async (id) => void (await trx.updateTable('deferrals').set(wanted).where('id', '=', id).execute()),
        },
      )
      counts[outcome]++
      // A deferral in force today moves the person's active enrolments too (once: then they are deferred).
      const today = londonDateOf(new Date())
      if (value.deferred_on <= today && (value.planned_return_on === null || value.planned_return_on > today))
        await transitionParticipant(
          trx,
          by,
          context.leadProvider?.id,
          value.participant_id,
          ['active'],
          'deferred',
          value.deferred_on,
          value.reason,
        )
    }
    return counts
  },
}

const withdrawalRow = z.object({
  participant_id: z.uuid('must be a UUID'),
  reason: z.enum(withdrawalReasons, `must be one of DfE's withdrawal reasons, e.g. ${withdrawalReasons.slice(0, 3).join(', ')}`),
  withdrawn_on: calendarDate,
})

export const withdrawalsImporter: Importer<typeof withdrawalRow> = {
  kind: 'withdrawals',
  required: ['participant_id', 'reason', 'withdrawn_on'],
  optional: [],
  row: withdrawalRow,
  async apply(trx, rows, context) {
    const { by, problem, failed } = context
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const today = londonDateOf(new Date())
    const inFile = new Set<string>()
    for (const { row: csv, value } of rows) {
      if (value.withdrawn_on > today)
        problem(csv, 'withdrawn_on', `${value.withdrawn_on} is in the future: record a withdrawal once it has happened`)
      if (inFile.has(value.participant_id)) problem(csv, 'participant_id', 'this participant is on an earlier line')
      inFile.add(value.participant_id)
      if (!(await knownParticipant(trx, csv, value.participant_id, context))) continue
      if (failed(csv)) continue
      const wanted = { reason: value.reason, withdrawn_on: value.withdrawn_on }
      const existing = await trx
        .selectFrom('withdrawals')
        .select(['id', 'reason', 'withdrawn_on'])
        .where('participant_id', '=', value.participant_id)
        // The import's row is the person-wide one; a withdrawal from one course is the lifecycle pages'.
        .where('enrolment_id', 'is', null)
        .where(withdrawalInForce)
        .executeTakeFirst()
      const outcome = await recordRow(
        trx,
        by,
        'withdrawal',
        existing && { id: existing.id, stored: { reason: existing.reason, withdrawn_on: existing.withdrawn_on } },
        wanted,
        {
          insert: async () =>
            (
              await trx
                .insertInto('withdrawals')
                .values({ participant_id: value.participant_id, ...wanted, recorded_by: by.kind === 'user' ? by.userId : null })
                .returning('id')
                .executeTakeFirstOrThrow()
            ).id,
          update: async (id) => void (await trx.updateTable('withdrawals').set(wanted).where('id', '=', id).execute()),
        },
      )
      counts[outcome]++
      await transitionParticipant(
        trx,
        by,
        context.leadProvider?.id,
        value.participant_id,
        ['active'],
        'withdrawn',
        value.withdrawn_on,
        value.reason,
      )
    }
    return counts
  },
}

/** Moves the participant's enrolments that are in one of `from` to `to` (an imported row names only the person). */
async function transitionParticipant(
  trx: Trx,
  by: Principal,
  leadProviderId: string | undefined,
  participantId: string,
  from: EnrolmentStatus[],
  to: EnrolmentStatus,
  effectiveOn: string,
  reason: string,
): Promise<void> {
  let q = trx.selectFrom('enrolments').select('id').where('participant_id', '=', participantId).where('status', 'in', from)
  // The importing lead provider's enrolments only (every one, from the CLI).
  if (leadProviderId) q = q.where('lead_provider_id', '=', leadProviderId)
  const enrolments = await q.execute()
  for (const e of enrolments)
    await transitionEnrolment(trx, by, { enrolmentId: e.id, to, effectiveOn, reason, details: 'Recorded by a CSV import' })
}
