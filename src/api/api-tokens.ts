import { recordAudit } from '../audit/audit.ts'
import { hashToken, randomToken } from '../accounts/tokens.ts'
import type { Db } from '../db/database.ts'
import { notFound } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'

// Bearer tokens for a lead provider's integrations. The secret is shown once; only its hash is kept.

export async function createApiToken(db: Db, by: Principal, leadProviderId: string, name: string): Promise<{ id: string; token: string }> {
  const token = `npq_${randomToken()}`
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('api_tokens')
      .values({ lead_provider_id: leadProviderId, name, token_hash: hashToken(token) })
      .returning(['id'])
      .executeTakeFirstOrThrow()
    await recordAudit(trx, {
      by,
      action: 'api-token.created',
      entityType: 'api-token',
      entityId: row.id,
      after: { name, lead_provider_id: leadProviderId },
    })
    return { id: row.id, token }
  })
}

export async function revokeApiToken(db: Db, by: Principal, leadProviderIds: string[], tokenId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', tokenId)
      .where('lead_provider_id', 'in', leadProviderIds)
      .where('revoked_at', 'is', null)
      .returning(['id', 'name'])
      .executeTakeFirst()
    if (!row) throw notFound('API token')
    await recordAudit(trx, { by, action: 'api-token.revoked', entityType: 'api-token', entityId: row.id, before: { name: row.name } })
  })
}

export async function listApiTokens(db: Db, leadProviderIds: string[]) {
  if (leadProviderIds.length === 0) return []
  return db
    .selectFrom('api_tokens as t')
    .innerJoin('organisations as o', 'o.id', 't.lead_provider_id')
    .select(['t.id', 't.name', 't.created_at', 't.last_used_at', 't.revoked_at', 'o.name as leadProvider'])
    .where('t.lead_provider_id', 'in', leadProviderIds)
    .orderBy('t.created_at', 'desc')
    .execute()
}

/** The API client a bearer token belongs to, or null. */
export async function authenticateApiToken(db: Db, token: string): Promise<Principal | null> {
  const row = await db
    .updateTable('api_tokens')
    .set({ last_used_at: new Date() })
    .where('token_hash', '=', hashToken(token))
    .where('revoked_at', 'is', null)
    .returning(['id', 'name', 'lead_provider_id'])
    .executeTakeFirst()
  return row ? { kind: 'api-client', tokenId: row.id, tokenName: row.name, leadProviderId: row.lead_provider_id } : null
}
