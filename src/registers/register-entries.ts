import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import type { ContingencyMethod, RegisterStatus } from '../db/schema.ts'
import type { Principal } from '../policy/principal.ts'
import { notSuperseded } from '../db/append-only.ts'

// A facilitator's register: one current entry per participant and event. Entries are evidence, so
// they are never edited: a change is a new entry that supersedes the current one.

export type RegisterEntry = {
  eventId: string
  participantId: string
  status: RegisterStatus
  completedAt: string | null
  completedOn: string | null
  note: string | null
  /**
   * How a missed session was made up (contingency-completed only). Left out (an import, which has no
   * such column): a contingency completion keeps the method the current entry has.
   */
  contingencyMethod?: ContingencyMethod | null
  /** Why a locked register was changed (a delivery-partner lead or lead-provider admin). */
  changeReason?: string | null
}

/** The entries nobody has superseded: the register as it stands. */
export function currentRegisterEntries(db: Db | Trx) {
  return db.selectFrom('register_entries as r').where(notSuperseded('register_entries', 'r'))
}

/**
 * Records an entry unless the register already says exactly this. The caller holds the event's row
 * lock (`select … for update`: the register page, the API and the attendance import all take it), so
 * two writers of one entry run one after the other and the second finds the first's: one current entry.
 */
export async function recordRegisterEntry(trx: Trx, by: Principal, entry: RegisterEntry): Promise<'created' | 'updated' | 'unchanged'> {
  const current = await currentRegisterEntries(trx)
    .select(['r.id', 'r.status', 'r.completed_at', 'r.note', 'r.contingency_method'])
    .where('r.event_id', '=', entry.eventId)
    .where('r.participant_id', '=', entry.participantId)
    .executeTakeFirst()
  const before = current && {
    status: current.status,
    completedAt: current.completed_at ? new Date(current.completed_at).toISOString() : null,
    note: current.note,
    contingencyMethod: current.contingency_method,
  }
  const contingencyMethod =
    entry.status !== 'contingency-completed'
      ? null
      : entry.contingencyMethod !== undefined
        ? entry.contingencyMethod
        : current?.status === 'contingency-completed'
          ? current.contingency_method
          : null
  const after = { status: entry.status, completedAt: entry.completedAt, note: entry.note, contingencyMethod }
  if (before && JSON.stringify(before) === JSON.stringify(after)) return 'unchanged'
  const changeReason = entry.changeReason ?? null
  const created = await trx
    .insertInto('register_entries')
    .values({
      event_id: entry.eventId,
      participant_id: entry.participantId,
      status: entry.status,
      completed_at: entry.completedAt,
      completed_on: entry.completedOn,
      note: entry.note,
      contingency_method: contingencyMethod,
      change_reason: changeReason,
      supersedes: current?.id ?? null,
      recorded_by: by.kind === 'user' ? by.userId : null,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: current ? 'register-entry.corrected' : 'register-entry.recorded',
    entityType: 'register-entry',
    entityId: created.id,
    before: before ?? undefined,
    after: { eventId: entry.eventId, participantId: entry.participantId, ...after, ...(changeReason ? { changeReason } : {}) },
  })
  return current ? 'updated' : 'created'
}
