import type { Db, Trx } from './database.ts'

/** Runs work in a transaction, or inside the caller's when one is given (so commands compose). */
export async function inTransaction<T>(db: Db | Trx, work: (trx: Trx) => Promise<T>): Promise<T> {
  if (db.isTransaction) return work(db as Trx)
  return db.transaction().execute(work)
}
