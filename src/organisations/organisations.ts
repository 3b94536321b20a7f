import type { Db, Trx } from '../db/database.ts'
import type { OrganisationKind } from '../db/schema.ts'
import type { OrganisationRef } from '../policy/policy.ts'

/** What the policy layer needs to know about an organisation. */
export async function organisationRef(db: Db | Trx, id: string): Promise<OrganisationRef | null> {
  const org = await db.selectFrom('organisations').select(['id', 'kind']).where('id', '=', id).executeTakeFirst()
  if (!org) return null
  const leadProviderIds =
    org.kind === 'lead-provider'
      ? [org.id]
      : org.kind === 'delivery-partner'
        ? (await db.selectFrom('delivery_partnerships').select('lead_provider_id').where('delivery_partner_id', '=', id).execute()).map(
            (p) => p.lead_provider_id,
          )
        : []
  return { id: org.id, kind: org.kind, leadProviderIds }
}

export async function findOrganisation(db: Db | Trx, kind: OrganisationKind, code: string) {
  return db.selectFrom('organisations').selectAll().where('kind', '=', kind).where('code', '=', code).executeTakeFirst()
}

/** The delivery partners working with a lead provider. */
export async function deliveryPartnersOf(db: Db | Trx, leadProviderId: string) {
  return db
    .selectFrom('organisations as o')
    .innerJoin('delivery_partnerships as p', 'p.delivery_partner_id', 'o.id')
    .select(['o.id', 'o.code', 'o.name'])
    .where('p.lead_provider_id', '=', leadProviderId)
    .orderBy('o.name')
    .execute()
}
