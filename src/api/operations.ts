import { z } from 'zod'
import { cohortPattern, courseIdentifiers } from '../catalogue/courses.ts'
import type { Db } from '../db/database.ts'
import { forbidden } from '../errors.ts'
import { deliveryPartnersOf } from '../organisations/organisations.ts'
import { can, type OrganisationRef } from '../policy/policy.ts'
import type { ApiRegistry } from './registry.ts'

// Lead-provider integration endpoints. Capabilities add their operations to the same registry.

const deliveryPartner = z.object({ delivery_partner_id: z.string(), name: z.string() }).meta({ id: 'DeliveryPartner' })

const participant = z
  .object({
    participant_id: z.uuid(),
    full_name: z.string(),
    email: z.string(),
    trn: z.string(),
    course_identifier: z.string(),
    cohort: z.string(),
    delivery_partner_id: z.string().nullable(),
    status: z.string(),
  })
  .meta({ id: 'Participant' })

const ownLeadProvider = (id: string): OrganisationRef => ({ id, kind: 'lead-provider', leadProviderIds: [id] })

export function addFoundationOperations(api: ApiRegistry, db: Db): void {
  api.add({
    method: 'GET',
    path: '/delivery-partners',
    operationId: 'listDeliveryPartners',
    summary: 'The delivery partners your lead provider works with',
    tag: 'Organisations',
    response: z.object({ data: z.array(deliveryPartner) }),
    handler: async ({ principal }) => {
      if (!can(principal, 'view', { type: 'organisation', organisation: ownLeadProvider(principal.leadProviderId) })) throw forbidden()
      const partners = await deliveryPartnersOf(db, principal.leadProviderId)
      return { data: partners.map((p) => ({ delivery_partner_id: p.code, name: p.name })) }
    },
  })

  api.add({
    method: 'GET',
    path: '/participants',
    operationId: 'listParticipants',
    summary: 'Your lead provider’s participants, one row per enrolment',
    tag: 'Participants',
    query: z.object({
      cohort: z.string().regex(cohortPattern, 'Use a cohort like 2022-autumn').optional().meta({ description: 'e.g. 2022-autumn' }),
      course_identifier: z.enum(courseIdentifiers).optional(),
      delivery_partner_id: z.string().max(100).optional(),
    }),
    response: z.object({ data: z.array(participant) }),
    handler: async ({ principal, query }) => {
      if (!can(principal, 'list-participants', { type: 'organisation', organisation: ownLeadProvider(principal.leadProviderId) })) {
        throw forbidden()
      }
      let q = db
        .selectFrom('enrolments as e')
        .innerJoin('participants as p', 'p.id', 'e.participant_id')
        .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
        .select(['p.id', 'p.full_name', 'p.email', 'p.trn', 'e.course_identifier', 'e.cohort', 'dp.code as dp', 'e.status'])
        .where('e.lead_provider_id', '=', principal.leadProviderId)
      if (query.cohort) q = q.where('e.cohort', '=', query.cohort)
      if (query.course_identifier) q = q.where('e.course_identifier', '=', query.course_identifier)
      if (query.delivery_partner_id) q = q.where('dp.code', '=', query.delivery_partner_id)
      const rows = await q.orderBy('p.id').orderBy('e.course_identifier').execute()
      return {
        data: rows.map((r) => ({
          participant_id: r.id,
          full_name: r.full_name,
          email: r.email,
          trn: r.trn,
          course_identifier: r.course_identifier,
          cohort: r.cohort,
          delivery_partner_id: r.dp,
          status: r.status,
        })),
      }
    },
  })
}
