import { inTransaction } from '../db/transaction.ts'
import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import { AppError } from '../errors.ts'
import { describePrincipal, type Principal } from '../policy/principal.ts'
import { formatPence, maxPricePence } from './pence.ts'

// Contract prices: the price per teacher a lead provider pays its delivery partners for a course in a
// cohort, entered by its admins. The table is append-only: a change is a new row, the newest row is
// the price, and the rows before it are the price's history (who set what, when).

export type ContractPrice = {
  courseIdentifier: string
  cohort: string
  pricePence: number
  recordedAt: Date
  recordedByName: string | null
}

const priceRows = (db: Db | Trx, leadProviderId: string) =>
  db
    .selectFrom('contract_prices as c')
    .leftJoin('users as u', 'u.id', 'c.recorded_by')
    .select(['c.course_identifier', 'c.cohort', 'c.price_pence', 'c.recorded_at', 'u.full_name'])
    .where('c.lead_provider_id', '=', leadProviderId)

const toPrice = (r: { course_identifier: string; cohort: string; price_pence: number; recorded_at: Date; full_name: string | null }) => ({
  courseIdentifier: r.course_identifier,
  cohort: r.cohort,
  pricePence: r.price_pence,
  recordedAt: r.recorded_at,
  recordedByName: r.full_name,
})

/** The current price of every course and cohort that has one. */
export async function currentPrices(db: Db | Trx, leadProviderId: string): Promise<ContractPrice[]> {
  const rows = await priceRows(db, leadProviderId)
    .distinctOn(['c.course_identifier', 'c.cohort'])
    .orderBy('c.course_identifier')
    .orderBy('c.cohort')
    // uuid_v7 ids grow with time: they order two rows recorded in the same transaction instant.
    .orderBy('c.recorded_at', 'desc')
    .orderBy('c.id', 'desc')
    .execute()
  return rows.map(toPrice)
}

/** Every price a course and cohort has had, newest first. */
export async function priceHistory(
  db: Db | Trx,
  leadProviderId: string,
  courseIdentifier: string,
  cohort: string,
): Promise<ContractPrice[]> {
  const rows = await priceRows(db, leadProviderId)
    .where('c.course_identifier', '=', courseIdentifier)
    .where('c.cohort', '=', cohort)
    .orderBy('c.recorded_at', 'desc')
    .orderBy('c.id', 'desc')
    .execute()
  return rows.map(toPrice)
}

export const priceKey = (cohort: string, courseIdentifier: string) => `${cohort}|${courseIdentifier}`

/**
 * Sets the price per teacher of a course in a cohort: a new row and its audit entry, in one
 * transaction. The same price again changes nothing. The caller has checked that the person may.
 */
export async function setContractPrice(
  db: Db | Trx,
  by: Principal,
  change: { leadProviderId: string; courseIdentifier: string; cohort: string; pricePence: number },
): Promise<{ changed: boolean; previousPence: number | null }> {
  if (!Number.isSafeInteger(change.pricePence) || change.pricePence <= 0 || change.pricePence > maxPricePence) {
    throw new AppError('validation-failed', 'Enter a valid price', [
      { field: 'price', message: `The price per teacher must be more than £0 and ${formatPence(maxPricePence)} or less` },
    ])
  }
  return inTransaction(db, async (trx) => {
    // One change at a time per course and cohort, so "previous" in the audit entry is the one replaced.
    await sql`select pg_advisory_xact_lock(hashtext(${`contract-price|${change.leadProviderId}|${change.courseIdentifier}|${change.cohort}`}))`.execute(
      trx,
    )
    const previous = (await priceHistory(trx, change.leadProviderId, change.courseIdentifier, change.cohort))[0] ?? null
    if (previous?.pricePence === change.pricePence) return { changed: false, previousPence: previous.pricePence }
    const row = await trx
      .insertInto('contract_prices')
      .values({
        lead_provider_id: change.leadProviderId,
        course_identifier: change.courseIdentifier,
        cohort: change.cohort,
        price_pence: change.pricePence,
        recorded_by: describePrincipal(by).actorUserId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await recordAudit(trx, {
      by,
      action: 'contract-price.set',
      entityType: 'contract-price',
      entityId: row.id,
      before: { price_pence: previous?.pricePence ?? null },
      after: {
        lead_provider_id: change.leadProviderId,
        course_identifier: change.courseIdentifier,
        cohort: change.cohort,
        price_pence: change.pricePence,
      },
    })
    return { changed: true, previousPence: previous?.pricePence ?? null }
  })
}
