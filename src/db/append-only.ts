import { sql, type RawBuilder } from 'kysely'

// Evidence tables are append-only: a correction is a new row that names the row it supersedes, and
// the evidence as it stands is the rows no later row supersedes.

export type AppendOnlyTable = 'learning_records' | 'register_entries' | 'meeting_logs'

/** The row under `alias` has not been superseded: `.where(notSuperseded('meeting_logs', 'm'))`. */
export function notSuperseded(table: AppendOnlyTable, alias: string): RawBuilder<boolean> {
  return sql<boolean>`not exists (select 1 from ${sql.table(table)} as successor where successor.supersedes = ${sql.ref(`${alias}.id`)})`
}
