import { stringify } from 'csv-stringify/sync'
import ExcelJS from 'exceljs'
import type { EscalationRow, OutputsRow } from '../outputs/report.ts'
import type { DeclarationRow, EngagementRow } from './engagement-reports.ts'

// Report rows as flat tables for CSV and XLSX downloads: one column per field, and for the
// Engagement report three columns per block (in the order the blocks first appear).

export type Table = { columns: string[]; rows: (string | number | boolean | null)[][] }

export function engagementTable(rows: EngagementRow[]): Table {
  const blocks: (number | string)[] = []
  for (const row of rows) for (const b of row.blocks) if (!blocks.includes(b.block)) blocks.push(b.block)
  const fixed = [
    'participant_id',
    'course_identifier',
    'delivery_partner',
    'credits_earned',
    'credits_available',
    'engagement_percent',
    'eligible_for_assessment',
  ] as const
  const blockColumns = blocks.flatMap((b) => [`block_${b}_credits_earned`, `block_${b}_credits_available`, `block_${b}_percent`])
  return {
    columns: [...fixed, ...blockColumns],
    rows: rows.map((row) => [
      ...fixed.map((c) => row[c]),
      ...blocks.flatMap((name) => {
        const b = row.blocks.find((x) => x.block === name)
        return b ? [b.credits_earned, b.credits_available, b.percent] : [null, null, null]
      }),
    ]),
  }
}

export function declarationTable(rows: DeclarationRow[]): Table {
  const columns = ['participant_id', 'course_identifier', 'delivery_partner', 'credits_in_period', 'cumulative_credits'] as const
  return { columns: [...columns], rows: rows.map((row) => columns.map((c) => row[c])) }
}

/** One set of columns per output, in the order the outputs first appear. */
export function outputsTable(rows: OutputsRow[]): Table {
  const types: string[] = []
  for (const row of rows) for (const o of row.outputs) if (!types.includes(o.declaration_type)) types.push(o.declaration_type)
  const fields = ['review_date', 'status', 'evidence', 'evidence_on', 'reasons'] as const
  return {
    columns: ['participant_id', 'course_identifier', ...types.flatMap((t) => fields.map((f) => `${t}_${f}`))],
    rows: rows.map((row) => [
      row.participant_id,
      row.course_identifier,
      ...types.flatMap((t) => {
        const o = row.outputs.find((x) => x.declaration_type === t)
        return fields.map((f) => (!o ? null : f === 'reasons' ? o.reasons.join('; ') : o[f]))
      }),
    ]),
  }
}

export function escalationsTable(rows: EscalationRow[]): Table {
  const columns = ['participant_id', 'declaration_type', 'review_date', 'stage', 'days_since_review'] as const
  return { columns: [...columns], rows: rows.map((row) => columns.map((c) => row[c])) }
}

export function toCsv(table: Table): string {
  return stringify([table.columns, ...table.rows], {
    cast: { boolean: (b) => (b ? 'true' : 'false') },
  })
}

export async function toXlsx(table: Table, sheetName: string): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook()
  workbook.creator = 'NPQ delivery platform'
  const sheet = workbook.addWorksheet(sheetName)
  sheet.addRow(table.columns).font = { bold: true }
  for (const row of table.rows) sheet.addRow(row)
  sheet.views = [{ state: 'frozen', ySplit: 1 }]
  table.columns.forEach((name, i) => {
    sheet.getColumn(i + 1).width = Math.max(12, Math.min(40, name.length + 2))
  })
  return Buffer.from(await workbook.xlsx.writeBuffer())
}
