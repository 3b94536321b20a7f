import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { courseIdentifier, optionalText, yesNo } from '../imports/fields.ts'
import type { Importer } from '../imports/import-file.ts'
import { findOrganisation } from '../organisations/organisations.ts'

// `applications` upload: DfE's application fields, one row per application. A row with DfE's
// application id is matched on it; one without on the person, course and cohort. Importing the same
// file twice changes nothing; a decided application is never changed by a file.

const optionalYesNo = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s))
  .pipe(yesNo.optional())
  .transform((v) => v ?? null)

const row = z.object({
  lead_provider: z.string().min(1, 'must not be empty'),
  trn: z.string().regex(/^[0-9]{7}$/, 'must be 7 digits (the teacher reference number)'),
  full_name: z.string().min(1, 'must not be empty').max(200, 'must be 200 characters or fewer'),
  email: z.string().trim().toLowerCase().pipe(z.email('must be an email address')),
  course_identifier: courseIdentifier,
  dfe_application_id: optionalText,
  participant_id: z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? null : s.trim()))
    .pipe(z.uuid('must be a UUID').nullable()),
  cohort: optionalText.pipe(
    z
      .string()
      .regex(/^[0-9]{4}$/, 'must be a year like 2024')
      .nullable(),
  ),
  school_urn: optionalText.pipe(
    z
      .string()
      .regex(/^[0-9]{6,7}$/, 'must be a 6 or 7 digit URN')
      .nullable(),
  ),
  employer_name: optionalText,
  funding_choice: optionalText,
  eligible_for_funding: optionalYesNo,
  headteacher_status: optionalText,
  establishment: optionalText.pipe(
    z
      .enum(
        ['state-school', 'sixteen-to-nineteen', 'early-years', 'independent', 'other'],
        'must be state-school, sixteen-to-nineteen, early-years, independent or other',
      )
      .nullable(),
  ),
  in_england: optionalYesNo,
  pupil_premium_uplift: optionalYesNo,
})

const optional = Object.keys(row.shape).filter((k) => !['lead_provider', 'trn', 'full_name', 'email', 'course_identifier'].includes(k))

export const applicationsImporter: Importer<typeof row> = {
  kind: 'applications',
  required: ['lead_provider', 'trn', 'full_name', 'email', 'course_identifier'],
  optional,
  row,
  async apply(trx, rows, { by, leadProvider, problem }) {
    const counts = { created: 0, updated: 0, unchanged: 0 }
    for (const { row: csv, value } of rows) {
      if (leadProvider && value.lead_provider !== leadProvider.code) {
        problem(csv, 'lead_provider', `you can import applications of ${leadProvider.code} only`)
        continue
      }
      const lp = await findOrganisation(trx, 'lead-provider', value.lead_provider)
      if (!lp) {
        problem(csv, 'lead_provider', `unknown lead provider "${value.lead_provider}"`)
        continue
      }
      const details = {
        participant_id: value.participant_id,
        trn: value.trn,
        full_name: value.full_name,
        email: value.email,
        course_identifier: value.course_identifier,
        cohort: value.cohort,
        school_urn: value.school_urn,
        employer_name: value.employer_name,
        funding_choice: value.funding_choice,
        eligible_for_funding: value.eligible_for_funding ?? false,
        headteacher_status: value.headteacher_status,
        establishment: value.establishment,
        in_england: value.in_england,
        pupil_premium_uplift: value.pupil_premium_uplift ?? false,
      }
      let q = trx.selectFrom('applications').selectAll().where('lead_provider_id', '=', lp.id)
      q = value.dfe_application_id
        ? q.where('dfe_application_id', '=', value.dfe_application_id)
        : q
            .where('dfe_application_id', 'is', null)
            .where('trn', '=', value.trn)
            .where('course_identifier', '=', value.course_identifier)
            .where((eb) => (value.cohort ? eb('cohort', '=', value.cohort) : eb('cohort', 'is', null)))
      const existing = await q.forUpdate().executeTakeFirst()
      if (!existing) {
        if (value.dfe_application_id) {
          const elsewhere = await trx
            .selectFrom('applications')
            .select('id')
            .where('dfe_application_id', '=', value.dfe_application_id)
            .executeTakeFirst()
          if (elsewhere) {
            problem(csv, 'dfe_application_id', `application ${value.dfe_application_id} belongs to another lead provider`)
            continue
          }
        }
        const created = await trx
          .insertInto('applications')
          .values({ lead_provider_id: lp.id, source: 'csv', dfe_application_id: value.dfe_application_id, ...details })
          .returning('id')
          .executeTakeFirstOrThrow()
        await recordAudit(trx, {
          by,
          action: 'application.received',
          entityType: 'application',
          entityId: created.id,
          after: { source: 'csv' },
        })
        counts.created++
        continue
      }
      const same = (Object.keys(details) as (keyof typeof details)[]).every((k) => existing[k] === details[k])
      if (same) {
        counts.unchanged++
        continue
      }
      if (existing.status !== 'applied') {
        problem(csv, null, `this application is already ${existing.status}: a file cannot change it`)
        continue
      }
      await trx
        .updateTable('applications')
        .set({ ...details, updated_at: new Date() })
        .where('id', '=', existing.id)
        .execute()
      await recordAudit(trx, { by, action: 'application.updated', entityType: 'application', entityId: existing.id, after: details })
      counts.updated++
    }
    return counts
  },
}
