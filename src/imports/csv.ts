import { parse } from 'csv-parse/sync'

// Reading an import file: a header row, columns in any order, unknown columns refused. Every problem
// carries its line and column so the person fixing the file can find it.

export type ImportProblem = { line: number; column: number | null; columnName: string | null; message: string }

export type CsvRow = {
  line: number
  values: Record<string, string>
  /** The 1-based position of each column in this file. */
  columnOf: (name: string) => number
}

export function readCsv(
  text: string,
  columns: { required: readonly string[]; optional: readonly string[] },
): { rows: CsvRow[]; problems: ImportProblem[] } {
  const problems: ImportProblem[] = []
  let records: { record: string[]; info: { lines: number } }[]
  try {
    records = parse(text, {
      bom: true,
      info: true,
      skip_empty_lines: true,
      trim: true,
      relax_column_count: true,
    }) as unknown as typeof records
  } catch (error) {
    const e = error as { lines?: number; message: string }
    return { rows: [], problems: [{ line: e.lines ?? 1, column: null, columnName: null, message: `not valid CSV: ${e.message}` }] }
  }
  if (records.length === 0)
    return { rows: [], problems: [{ line: 1, column: null, columnName: null, message: 'the file is empty: a header row is required' }] }

  const header = records[0]!.record.map((h) => h.trim().toLowerCase())
  const known = new Set([...columns.required, ...columns.optional])
  header.forEach((name, i) => {
    if (!known.has(name))
      problems.push({ line: 1, column: i + 1, columnName: name, message: `unknown column "${name}" (columns: ${[...known].join(', ')})` })
    if (header.indexOf(name) !== i) problems.push({ line: 1, column: i + 1, columnName: name, message: `column "${name}" appears twice` })
  })
  for (const name of columns.required) {
    if (!header.includes(name)) problems.push({ line: 1, column: null, columnName: name, message: `missing column "${name}"` })
  }
  if (problems.length) return { rows: [], problems }

  const columnOf = (name: string) => header.indexOf(name) + 1
  const rows = records.slice(1).map(({ record, info }) => {
    if (record.length !== header.length) {
      problems.push({
        line: info.lines,
        column: null,
        columnName: null,
        message: `has ${record.length} fields; the header has ${header.length}`,
      })
    }
    return { line: info.lines, values: Object.fromEntries(header.map((name, i) => [name, record[i] ?? ''])), columnOf }
  })
  return { rows, problems }
}

export function formatProblem(file: string, p: ImportProblem): string {
  const line = `${file}:${p.line}${p.column ? `:${p.column}` : ''}${p.columnName ? ` (${p.columnName})` : ''}: ${p.message}`
  // Names and values from the file are echoed: their control characters (a carriage return, a terminal
  // escape sequence) are shown escaped, so one problem stays one line and cannot rewrite the terminal.
  return [...line].map((c) => (isControl(c) ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}` : c)).join('')
}

function isControl(c: string): boolean {
  const code = c.charCodeAt(0)
  return code < 0x20 || (code >= 0x7f && code <= 0x9f)
}
