import { recordAudit } from '../audit/audit.ts'
import type { Trx } from '../db/database.ts'
import type { DeclarationState } from '../db/schema.ts'
import { describePrincipal, type Principal } from '../policy/principal.ts'

// DfE's declaration states (RULES.md "States"): submitted → eligible → payable → paid; voided;
// ineligible; awaiting-clawback → clawed-back. A declaration's content never changes; its state does,
// and every change is kept in declaration_state_changes with who (or DfE) made it and why.

const transitions: Record<DeclarationState, readonly DeclarationState[]> = {
  submitted: ['eligible', 'payable', 'paid', 'ineligible', 'voided'],
  eligible: ['payable', 'paid', 'ineligible', 'voided'],
  payable: ['paid', 'voided'],
  paid: ['awaiting-clawback'],
  ineligible: ['voided', 'eligible'],
  voided: [],
  'awaiting-clawback': ['clawed-back'],
  'clawed-back': [],
}

export function canMove(from: DeclarationState, to: DeclarationState): boolean {
  return from === to || transitions[from].includes(to)
}

export class DeclarationStateError extends Error {}

/**
 * Moves a declaration to a new state, in the caller's transaction, recording the change and an audit
 * entry. The row is locked first so two changes cannot interleave. Moving to the state it is in is
 * a no-op (DfE repeats states in every response); an impossible move is a DeclarationStateError.
 */
export async function changeDeclarationState(
  trx: Trx,
  change: { declarationId: string; to: DeclarationState; source: 'platform' | 'dfe'; reason?: string | null; by: Principal },
): Promise<{ from: DeclarationState; to: DeclarationState; changed: boolean }> {
  const current = await trx
    .selectFrom('declarations')
    .select(['state'])
    .where('id', '=', change.declarationId)
    .forUpdate()
    .executeTakeFirstOrThrow()
  const from = current.state
  if (from === change.to) return { from, to: from, changed: false }
  if (!canMove(from, change.to)) throw new DeclarationStateError(`A declaration that is ${from} cannot become ${change.to}`)
  await trx
    .updateTable('declarations')
    .set({ state: change.to, state_changed_at: new Date() })
    .where('id', '=', change.declarationId)
    .execute()
  const { actorUserId } = describePrincipal(change.by)
  await trx
    .insertInto('declaration_state_changes')
    .values({
      declaration_id: change.declarationId,
      from_state: from,
      to_state: change.to,
      source: change.source,
      reason: change.reason ?? null,
      changed_by: actorUserId,
    })
    .execute()
  await recordAudit(trx, {
    by: change.by,
    action: 'declaration.state-changed',
    entityType: 'declaration',
    entityId: change.declarationId,
    before: { state: from },
    after: { state: change.to, source: change.source, reason: change.reason ?? null },
  })
  return { from, to: change.to, changed: true }
}
