import type { Db, Trx } from '../db/database.ts'
import type { Principal, RoleAssignment } from '../policy/principal.ts'
import { isRole } from '../policy/roles.ts'

/** Loads a person with every role they hold, ready for the policy layer. */
export async function loadUserPrincipal(db: Db | Trx, userId: string): Promise<Principal | null> {
  const user = await db.selectFrom('users').select(['id', 'email', 'full_name', 'status']).where('id', '=', userId).executeTakeFirst()
  if (!user || user.status !== 'active') return null
  const rows = await db
    .selectFrom('role_assignments as ra')
    .innerJoin('organisations as o', 'o.id', 'ra.organisation_id')
    .select(['ra.role', 'o.id', 'o.code', 'o.name', 'o.kind'])
    .where('ra.user_id', '=', userId)
    .orderBy('ra.created_at')
    .execute()
  const partnerIds = rows.filter((r) => r.kind === 'delivery-partner').map((r) => r.id)
  const partnerships = partnerIds.length
    ? await db.selectFrom('delivery_partnerships').selectAll().where('delivery_partner_id', 'in', partnerIds).execute()
    : []
  const roles: RoleAssignment[] = rows
    .filter((r) => isRole(r.role))
    .map((r) => ({
      role: r.role as RoleAssignment['role'],
      organisationId: r.id,
      organisationCode: r.code,
      organisationName: r.name,
      leadProviderIds:
        r.kind === 'lead-provider' ? [r.id] : partnerships.filter((p) => p.delivery_partner_id === r.id).map((p) => p.lead_provider_id),
    }))
  return { kind: 'user', userId: user.id, email: user.email, fullName: user.full_name, roles }
}
