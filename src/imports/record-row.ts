import { recordAudit } from '../audit/audit.ts'
import type { Trx } from '../db/database.ts'
import type { Principal } from '../policy/principal.ts'

// For the import kinds whose rows are facts keyed by participant (deferrals, withdrawals, assessment
// attempts): a new key is inserted, a known one is left alone when the file says the same and
// updated when it says otherwise, with an audit entry for either change.

export async function recordRow<T extends Record<string, unknown>>(
  trx: Trx,
  by: Principal,
  entityType: string,
  existing: { id: string; stored: T } | undefined,
  wanted: T,
  write: { insert: () => Promise<string>; update: (id: string) => Promise<void> },
): Promise<'created' | 'updated' | 'unchanged'> {
  if (!existing) {
    const id = await write.insert()
    await recordAudit(trx, { by, action: `${entityType}.recorded`, entityType, entityId: id, after: wanted })
    return 'created'
  }
  if (Object.keys(wanted).every((k) => existing.stored[k] === wanted[k])) return 'unchanged'
  await write.update(existing.id)
  await recordAudit(trx, { by, action: `${entityType}.changed`, entityType, entityId: existing.id, before: existing.stored, after: wanted })
  return 'updated'
}
