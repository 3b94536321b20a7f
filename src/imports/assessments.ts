import { z } from 'zod'
import { moment } from './fields.ts'
import type { Importer } from './import-file.ts'
import { recordRow } from './record-row.ts'

// `npq import assessments`: summative assessment attempts (a case-study response; at most two) with
// their result and when it was marked, moderated and externally moderated. The `completed` output
// needs a result that went through all three.

const optionalMoment = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim()))
  .pipe(moment.nullable())

const row = z.object({
  participant_id: z.uuid('must be a UUID'),
  attempt: z.enum(['1', '2'], 'must be 1 or 2').transform(Number),
  submitted_at: optionalMoment,
  word_count: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim()))
    .pipe(
      z
        .string()
        .regex(/^[0-9]{1,6}$/, 'must be a whole number')
        .transform(Number)
        .nullable(),
    ),
  result: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim().toLowerCase()))
    .pipe(z.enum(['passed', 'failed'], 'must be passed, failed or blank').nullable()),
  marked_at: optionalMoment,
  moderated_at: optionalMoment,
  externally_moderated_at: optionalMoment,
})

const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString())

export const assessmentsImporter: Importer<typeof row> = {
  kind: 'assessments',
  required: ['participant_id', 'attempt'],
  optional: ['submitted_at', 'word_count', 'result', 'marked_at', 'moderated_at', 'externally_moderated_at'],
  row,
  async apply(trx, rows, { by, leadProvider, problem, failed }) {
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const now = Date.now()
    const inFile = new Map<string, { attempt: number; result: string | null }>()
    for (const { row: csv, value } of rows) {
      const key = `${value.participant_id}/${value.attempt}`
      if (inFile.has(key)) problem(csv, 'attempt', `attempt ${value.attempt} of this participant is on an earlier line`)
      inFile.set(key, { attempt: value.attempt, result: value.result })
      // Each step follows the one before: submitted, marked (with a result), moderated, externally moderated.
      const steps = [
        ['submitted_at', value.submitted_at],
        ['marked_at', value.marked_at],
        ['moderated_at', value.moderated_at],
        ['externally_moderated_at', value.externally_moderated_at],
      ] as const
      for (const [i, [name, at]] of steps.entries()) {
        if (at === null) continue
        if (Date.parse(at) > now) problem(csv, name, `${at} is in the future`)
        const before = steps.slice(0, i).filter(([, b]) => b !== null)
        const last = before.at(-1)
        if (i > 0 && before.length < i) problem(csv, name, `needs ${steps[i - 1]![0]} first`)
        else if (last && Date.parse(at) < Date.parse(last[1]!)) problem(csv, name, `must not be before ${last[0]}`)
      }
      if (value.marked_at !== null && value.result === null) problem(csv, 'result', 'is required once the attempt is marked')
      if (value.result !== null && value.marked_at === null) problem(csv, 'marked_at', 'is required when there is a result')

      let q = trx.selectFrom('enrolments').select('id').where('participant_id', '=', value.participant_id)
      if (leadProvider) q = q.where('lead_provider_id', '=', leadProvider.id)
      if (!(await q.executeTakeFirst())) {
        problem(csv, 'participant_id', `unknown participant ${value.participant_id}`)
        continue
      }
      if (value.attempt === 2) {
        // A second attempt follows a failed first one.
        const first =
          inFile.get(`${value.participant_id}/1`) ??
          (await trx
            .selectFrom('assessment_attempts')
            .select('result')
            .where('participant_id', '=', value.participant_id)
            .where('attempt', '=', 1)
            .executeTakeFirst())
        if (!first || first.result !== 'failed') problem(csv, 'attempt', 'a second attempt needs a first attempt that failed')
      }

      if (failed(csv)) continue
      const wanted = {
        submitted_at: value.submitted_at,
        word_count: value.word_count,
        result: value.result as 'passed' | 'failed' | null,
        marked_at: value.marked_at,
        moderated_at: value.moderated_at,
        externally_moderated_at: value.externally_moderated_at,
      }
      const existing = await trx
        .selectFrom('assessment_attempts')
        .select(['id', 'submitted_at', 'word_count', 'result', 'marked_at', 'moderated_at', 'externally_moderated_at'])
        .where('participant_id', '=', value.participant_id)
        .where('attempt', '=', value.attempt)
        .executeTakeFirst()
      // Compared as ISO strings: the database gives back Dates.
      const normal = (w: { [K in keyof typeof wanted]: (typeof wanted)[K] | Date }) => ({
        ...w,
        submitted_at: iso(w.submitted_at),
        marked_at: iso(w.marked_at),
        moderated_at: iso(w.moderated_at),
        externally_moderated_at: iso(w.externally_moderated_at),
      })
      const outcome = await recordRow(
        trx,
        by,
        'assessment-attempt',
        existing && { id: existing.id, stored: normal(existing) },
        normal(wanted),
        {
          insert: async () =>
            (
              await trx
                .insertInto('assessment_attempts')
                .values({
                  participant_id: value.participant_id,
                  attempt: value.attempt,
                  ...wanted,
                  recorded_by: by.kind === 'user' ? by.userId : null,
                })
                .returning('id')
                .executeTakeFirstOrThrow()
            ).id,
          update: async (id) => void (await trx.updateTable('assessment_attempts').set(wanted).where('id', '=', id).execute()),
        },
      )
      counts[outcome]++
    }
    return counts
  },
}
