import { describePrincipal } from '../policy/principal.ts'
import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { cohortPattern } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { findOrganisation } from '../organisations/organisations.ts'
import { courseIdentifier, yesNo } from './fields.ts'
import type { Importer } from './import-file.ts'
import { leadProviderAndPartner } from './lookups.ts'
import { placeInGroup } from '../groups/groups.ts'

// `npq import participants`: one row per enrolment (a person on one course).

const row = z.object({
  participant_id: z.uuid('must be a UUID'),
  full_name: z.string().min(1, 'must not be empty').max(200, 'must be 200 characters or fewer'),
  email: z.string().trim().toLowerCase().pipe(z.email('must be an email address')),
  trn: z.string().regex(/^[0-9]{7}$/, 'must be 7 digits'),
  lead_provider: z.string().min(1, 'must not be empty'),
  delivery_partner: z.string().min(1, 'must not be empty'),
  course_identifier: courseIdentifier,
  cohort: z.string().regex(cohortPattern, 'must be a cohort like 2022-autumn'),
  school_urn: z.string().regex(/^[0-9]{6,7}$/, 'must be a 6 or 7 digit URN'),
  school_contract_signed: yesNo,
  sponsorship_agreement_signed: yesNo,
})

export const participantsImporter: Importer<typeof row> = {
  kind: 'participants',
  required: Object.keys(row.shape),
  optional: [],
  row,
  async apply(trx, rows, { services, by, leadProvider, problem }) {
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const today = londonDateOf(new Date())
    const recorder = describePrincipal(by).actorUserId
    const inFile = new Map<string, string>() // trn → participant id, to catch one TRN given to two people
    const enrolmentsInFile = new Map<string, string>()
    for (const { row: csv, value } of rows) {
      const sameTrn = inFile.get(value.trn)
      if (sameTrn && sameTrn !== value.participant_id)
        problem(csv, 'trn', `TRN ${value.trn} is given to another participant on an earlier line`)
      inFile.set(value.trn, value.participant_id)
      const enrolmentKey = `${value.participant_id}/${value.course_identifier}`
      const fingerprint = JSON.stringify(value)
      if (enrolmentsInFile.has(enrolmentKey) && enrolmentsInFile.get(enrolmentKey) !== fingerprint) {
        problem(csv, 'course_identifier', `this participant and course appear on an earlier line with different details`)
      }
      enrolmentsInFile.set(enrolmentKey, fingerprint)

      const found = await leadProviderAndPartner(trx, csv, value, { leadProvider, problem }, 'participants')
      if (!found) continue
      const { lp, dp } = found
      if (!services.catalogue.cohortsFor(value.lead_provider, value.course_identifier).includes(value.cohort)) {
        problem(csv, 'cohort', `${value.lead_provider} does not run ${value.course_identifier} in cohort ${value.cohort}`)
      }
      if (!dp) continue

      const trnHolder = await trx.selectFrom('participants').select('id').where('trn', '=', value.trn).executeTakeFirst()
      if (trnHolder && trnHolder.id !== value.participant_id) {
        problem(csv, 'trn', `TRN ${value.trn} already belongs to participant ${trnHolder.id}`)
        continue
      }

      let school: { id: string } | undefined = await findOrganisation(trx, 'school', value.school_urn)
      if (!school) {
        school = await trx
          .insertInto('organisations')
          .values({ kind: 'school', code: value.school_urn, name: `School URN ${value.school_urn}` })
          .returning('id')
          .executeTakeFirstOrThrow()
        await recordAudit(trx, {
          by,
          action: 'organisation.created',
          entityType: 'organisation',
          entityId: school.id,
          after: { kind: 'school', code: value.school_urn },
        })
      }

      let changed = false
      const person = { full_name: value.full_name, email: value.email, trn: value.trn }
      const existing = await trx
        .selectFrom('participants')
        .select(['full_name', 'email', 'trn'])
        .where('id', '=', value.participant_id)
        .executeTakeFirst()
      if (!existing) {
        await trx
          .insertInto('participants')
          .values({ id: value.participant_id, ...person })
          .execute()
        await recordAudit(trx, { by, action: 'participant.created', entityType: 'participant', entityId: value.participant_id })
      } else if (JSON.stringify(existing) !== JSON.stringify(person)) {
        await trx.updateTable('participants').set(person).where('id', '=', value.participant_id).execute()
        await recordAudit(trx, {
          by,
          action: 'participant.updated',
          entityType: 'participant',
          entityId: value.participant_id,
          before: existing,
          after: person,
        })
        changed = true
      }

      const enrolment = await trx
        .selectFrom('enrolments')
        .select([
          'id',
          'lead_provider_id',
          'delivery_partner_id',
          'school_id',
          'cohort',
          'school_contract_signed_on',
          'sponsorship_agreement_signed_on',
          'school_contract_recorded_by',
          'sponsorship_agreement_recorded_by',
        ])
        .where('participant_id', '=', value.participant_id)
        .where('course_identifier', '=', value.course_identifier)
        .executeTakeFirst()
      // "yes" keeps the date it was first recorded; "no" clears it.
      const signedOn = (signed: boolean, before: string | null | undefined) => (signed ? (before ?? today) : null)
      const wanted = {
        lead_provider_id: lp.id,
        delivery_partner_id: dp.id,
        school_id: school.id,
        cohort: value.cohort,
        school_contract_signed_on: signedOn(value.school_contract_signed, enrolment?.school_contract_signed_on),
        sponsorship_agreement_signed_on: signedOn(value.sponsorship_agreement_signed, enrolment?.sponsorship_agreement_signed_on),
        // Who recorded each signature: kept from when it was first recorded.
        school_contract_recorded_by: value.school_contract_signed ? (enrolment?.school_contract_recorded_by ?? recorder) : null,
        sponsorship_agreement_recorded_by: value.sponsorship_agreement_signed
          ? (enrolment?.sponsorship_agreement_recorded_by ?? recorder)
          : null,
      }
      if (!enrolment) {
        const created = await trx
          .insertInto('enrolments')
          .values({ participant_id: value.participant_id, course_identifier: value.course_identifier, ...wanted })
          .returning('id')
          .executeTakeFirstOrThrow()
        await recordAudit(trx, {
          by,
          action: 'enrolment.created',
          entityType: 'enrolment',
          entityId: created.id,
          after: { course_identifier: value.course_identifier, ...wanted },
        })
        await placeInGroup(trx, by, created.id)
        counts.created++
        continue
      }
      const { id, ...before } = enrolment
      if (JSON.stringify(before) !== JSON.stringify(wanted)) {
        await trx.updateTable('enrolments').set(wanted).where('id', '=', id).execute()
        await recordAudit(trx, { by, action: 'enrolment.updated', entityType: 'enrolment', entityId: id, before, after: wanted })
        // A new partner or cohort: the partner's group for it.
        await placeInGroup(trx, by, id)
        changed = true
      }
      if (changed) counts.updated++
      else counts.unchanged++
    }
    return counts
  },
}
