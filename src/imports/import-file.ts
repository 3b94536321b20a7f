import type { z } from 'zod'
import { sql } from 'kysely'
import type { Trx } from '../db/database.ts'
import { figuresRefreshJobName } from '../dashboards/figure-store.ts'
import { inTransaction } from '../db/transaction.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { readCsv, type CsvRow, type ImportProblem } from './csv.ts'

// The import pipeline: read and check every row, then apply the whole file in one transaction. Any
// problem, in any row, means nothing is written; importing the same file twice — also at the same
// time — changes nothing.

export type ImportCounts = { created: number; updated: number; unchanged: number }

export type Importer<S extends z.ZodType> = {
  kind: string
  required: readonly string[]
  optional: readonly string[]
  row: S
  /** Applies the checked rows; problems it finds (unknown references, conflicts) stop the import. */
  apply(trx: Trx, rows: { line: number; row: CsvRow; value: z.infer<S> }[], context: ImportContext): Promise<ImportCounts>
}

export type ImportContext = {
  services: Services
  by: Principal
  /** The lead provider the importer acts for (an admin's upload): rows of other providers are refused. Null: any (the CLI). */
  leadProvider: { id: string; code: string } | null
  problem: (row: CsvRow, column: string | null, message: string) => void
  /** Whether a problem has been reported for this row: its other checks still run, but it is not written. */
  failed: (row: CsvRow) => boolean
}

export class ImportError extends Error {
  readonly problems: ImportProblem[]
  constructor(problems: ImportProblem[]) {
    super(`${problems.length} problem${problems.length === 1 ? '' : 's'} in the file; nothing was imported`)
    this.problems = problems
  }
}

export type ImportResult = ImportCounts & { kind: string; rows: number }

/** Thrown inside the transaction of a dry run so that nothing it did is kept. */
class DryRun extends Error {
  readonly counts: ImportCounts
  constructor(counts: ImportCounts) {
    super('dry run')
    this.counts = counts
  }
}

export type ImportOptions = {
  /** The lead provider the importer acts for; rows of others are refused. */
  leadProvider?: ImportContext['leadProvider']
  /** Work out what would change, then roll everything back (the upload page's preview). */
  dryRun?: boolean
  /** Apply the file inside this transaction (the upload page marks its upload applied in the same one). Not with dryRun. */
  trx?: Trx
}

export async function importFile<S extends z.ZodType>(
  services: Services,
  importer: Importer<S>,
  text: string,
  by: Principal,
  options: ImportOptions = {},
): Promise<ImportResult> {
  const { rows, problems } = readCsv(text, importer)
  const checked: { line: number; row: CsvRow; value: z.infer<S> }[] = []
  for (const row of rows) {
    const parsed = importer.row.safeParse(row.values)
    if (parsed.success) {
      checked.push({ line: row.line, row, value: parsed.data })
      continue
    }
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? '')
      problems.push({ line: row.line, column: name ? row.columnOf(name) : null, columnName: name || null, message: issue.message })
    }
  }
  // The well-formed rows are applied even when others are not, so that every problem is reported in
  // one go; any problem rolls the whole file back.
  let counts: ImportCounts
  try {
    counts = await inTransaction(options.trx ?? services.db, async (trx) => {
      // One import of a kind at a time: the same file sent twice at once (a retried command, a
      // double-clicked upload) is applied by the first, and the second — run after it commits —
      // finds every row unchanged instead of inserting it again or failing on a duplicate key.
      if (!options.dryRun) await sql`select pg_advisory_xact_lock(hashtext(${`npq-import:${importer.kind}`}))`.execute(trx)
      const found: ImportProblem[] = []
      const context: ImportContext = {
        services,
        by,
        leadProvider: options.leadProvider ?? null,
        problem: (row, column, message) =>
          found.push({ line: row.line, column: column ? row.columnOf(column) : null, columnName: column, message }),
        failed: (row) => found.some((p) => p.line === row.line),
      }
      const result = await importer.apply(trx, checked, context)
      const all = [...problems, ...found].sort((a, b) => a.line - b.line || (a.column ?? 0) - (b.column ?? 0))
      if (all.length) throw new ImportError(all)
      if (options.dryRun) throw new DryRun(result)
      // New evidence shows on the dashboards and reports soon after, not at the next scheduled refresh.
      if (result.created + result.updated > 0)
        await services.jobs.send(figuresRefreshJobName, { changed: { leadProviderId: options.leadProvider?.id ?? null } }, trx)
      return result
    })
  } catch (error) {
    if (!(error instanceof DryRun)) throw error
    counts = error.counts
  }
  return { kind: importer.kind, rows: checked.length, ...counts }
}
