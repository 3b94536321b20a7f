import type { Db, Trx } from '../db/database.ts'
import { describePrincipal, type Principal } from '../policy/principal.ts'

// Every state change writes one audit entry in the same transaction as the change itself.

export type AuditEntry = {
  by: Principal
  action: string
  entityType: string
  entityId: string
  before?: unknown
  after?: unknown
}

export async function recordAudit(trx: Trx | Db, entry: AuditEntry): Promise<void> {
  const { actorUserId, actor } = describePrincipal(entry.by)
  await trx
    .insertInto('audit_events')
    .values({
      actor_user_id: actorUserId,
      actor,
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      before: entry.before === undefined ? null : JSON.stringify(redactSecrets(entry.before)),
      after: entry.after === undefined ? null : JSON.stringify(redactSecrets(entry.after)),
    })
    .execute()
}

const secretKeys = new Set(['password', 'password_hash', 'token', 'token_hash', 'id_hash'])

/** Audit entries record what changed, never a secret. */
function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets)
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, secretKeys.has(k) ? (v == null ? v : '[redacted]') : redactSecrets(v)]),
    )
  }
  return value
}
