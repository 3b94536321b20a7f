import { sql, type RawBuilder } from 'kysely'
import type { Db, Trx } from '../db/database.ts'
import { notSuperseded } from '../db/append-only.ts'

// Learning records are append-only: a correction is a new row that supersedes the old one, and a
// retraction ("entered in error") is such a row marked retracted. The current evidence is therefore
// the rows that are not retracted and that no other row supersedes. Reports, pages and the API read
// learning records through these helpers.

/** The current learning records, as `lr`: not retracted and not superseded by another row. */
export function currentLearningRecords(db: Db | Trx) {
  return db.selectFrom('learning_records as lr').where(isCurrentLearningRecord('lr'))
}

/**
 * The condition for the learning record under `alias` to be current evidence, for queries that join
 * learning records themselves: `.where(isCurrentLearningRecord('r'))`.
 */
export function isCurrentLearningRecord(alias: string): RawBuilder<boolean> {
  return sql<boolean>`(${sql.ref(`${alias}.retracted`)} = false and ${notSuperseded('learning_records', alias)})`
}
