import type { Db } from '../db/database.ts'
import { roleLabels, type Role } from '../policy/roles.ts'

export type TeamMember = {
  userId: string
  fullName: string
  email: string
  status: string
  role: string
  roleLabel: string
  organisation: string
}

/** People holding roles in the given organisations. */
export async function listTeam(db: Db, organisationIds: string[]): Promise<TeamMember[]> {
  if (organisationIds.length === 0) return []
  const rows = await db
    .selectFrom('role_assignments as ra')
    .innerJoin('users as u', 'u.id', 'ra.user_id')
    .innerJoin('organisations as o', 'o.id', 'ra.organisation_id')
    .select(['u.id as userId', 'u.full_name as fullName', 'u.email', 'u.status', 'ra.role', 'o.name as organisation'])
    .where('ra.organisation_id', 'in', organisationIds)
    .where('ra.role', '!=', 'participant')
    .orderBy('o.name')
    .orderBy('u.full_name')
    .execute()
  return rows.map((r) => ({ ...r, roleLabel: roleLabels[r.role as Role] ?? r.role }))
}

/**
 * Organisations a lead provider's admin works with: itself, its delivery partners and, unless
 * `schools` is false, its participants' schools.
 */
export async function organisationsOfLeadProvider(db: Db, leadProviderIds: string[], { schools = true } = {}) {
  if (leadProviderIds.length === 0) return []
  return db
    .selectFrom('organisations as o')
    .select(['o.id', 'o.kind', 'o.name'])
    .where((eb) =>
      eb.or([
        eb('o.id', 'in', leadProviderIds),
        eb(
          'o.id',
          'in',
          eb.selectFrom('delivery_partnerships').select('delivery_partner_id').where('lead_provider_id', 'in', leadProviderIds),
        ),
        ...(schools
          ? [
              eb(
                'o.id',
                'in',
                eb
                  .selectFrom('enrolments')
                  .select('school_id')
                  .where('lead_provider_id', 'in', leadProviderIds)
                  .where('school_id', 'is not', null)
                  .$narrowType<{ school_id: string }>(),
              ),
            ]
          : []),
      ]),
    )
    .orderBy('o.kind')
    .orderBy('o.name')
    .execute()
}

/** The lead provider itself and its delivery partners: the organisations offered when inviting someone. */
export const providerAndPartners = (db: Db, leadProviderIds: string[]) =>
  organisationsOfLeadProvider(db, leadProviderIds, { schools: false })

/** One school of the lead provider's participants, by its URN or its id; undefined when it is not one of theirs. */
export async function schoolOfLeadProvider(db: Db, leadProviderIds: string[], school: { urn: string } | { id: string }) {
  if (leadProviderIds.length === 0) return undefined
  return db
    .selectFrom('organisations as o')
    .select(['o.id', 'o.kind', 'o.name'])
    .where('o.kind', '=', 'school')
    .where('urn' in school ? 'o.code' : 'o.id', '=', 'urn' in school ? school.urn : school.id)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('enrolments as e')
          .select('e.id')
          .whereRef('e.school_id', '=', 'o.id')
          .where('e.lead_provider_id', 'in', leadProviderIds),
      ),
    )
    .executeTakeFirst()
}
