import type { Db } from '../db/database.ts'
import type { OrganisationKind } from '../db/schema.ts'
import type { Principal } from '../policy/principal.ts'
import type { Role } from '../policy/roles.ts'
import type { Services } from '../services.ts'

// Small factories for tests: an organisation, a person with a role and a password.

export const systemPrincipal: Principal = { kind: 'system', name: 'test' }

export async function organisation(db: Db, kind: OrganisationKind, code: string, name = code): Promise<string> {
  const row = await db
    .insertInto('organisations')
    .values({ kind, code, name })
    .onConflict((oc) => oc.columns(['kind', 'code']).doUpdateSet({ name }))
    .returning('id')
    .executeTakeFirstOrThrow()
  return row.id
}

export async function partnership(db: Db, leadProviderId: string, deliveryPartnerId: string): Promise<void> {
  await db
    .insertInto('delivery_partnerships')
    .values({ lead_provider_id: leadProviderId, delivery_partner_id: deliveryPartnerId })
    .onConflict((oc) => oc.doNothing())
    .execute()
}

export async function person(
  services: Services,
  email: string,
  role: Role,
  organisationId: string,
  password = 'a long test password',
): Promise<string> {
  return services.accounts.createUser(systemPrincipal, { email, fullName: email.split('@')[0]!, role, organisationId, password })
}
