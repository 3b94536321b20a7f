import ExcelJS from 'exceljs'
import { toCsv } from '../reports/formats.ts'
import { penceAsDecimal } from './pence.ts'
import type { ExpectedRow, InvoiceRow, PaidRow, StatementLine, Total } from './statements.ts'

// The money tables as CSV and XLSX downloads: one row per line of the page's table, amounts in pounds
// and pence (CSV: 1234.56 as text; XLSX: currency-formatted numbers), blank where no price is set.

type Cell = string | number | null
type Column = { name: string; money?: boolean }
export type MoneyTable = { sheet: string; columns: Column[]; rows: Cell[][] }

/** An amount cell: pence, or null when an output in it has no price (the figure would be wrong). */
const amount = (t: Total): number | null => (t.priceMissing ? null : t.pence)
const lineColumns: Column[] = [
  { name: 'delivery_partner' },
  { name: 'delivery_partner_name' },
  { name: 'cohort' },
  { name: 'course_identifier' },
  { name: 'declaration_type' },
  { name: 'review_date' },
  { name: 'invoice_date' },
  { name: 'payment_date' },
]
const lineCells = (l: StatementLine, names: Map<string, string>): Cell[] => [
  l.deliveryPartner,
  l.deliveryPartner ? (names.get(l.deliveryPartner) ?? null) : null,
  l.cohort,
  l.courseIdentifier,
  l.declarationType,
  l.reviewDate,
  l.invoiceDate,
  l.paymentDate,
]

export function invoiceNowTable(rows: InvoiceRow[], names: Map<string, string>): MoneyTable {
  return {
    sheet: 'Can invoice now',
    columns: [
      ...lineColumns,
      { name: 'validated_declarations' },
      { name: 'price_per_teacher', money: true },
      { name: 'share', money: true },
      { name: 'total', money: true },
      { name: 'clawbacks' },
      { name: 'clawbacks_deducted', money: true },
      { name: 'net', money: true },
    ],
    rows: rows.map((r) => [
      ...lineCells(r.line, names),
      r.declarations.length,
      r.line.pricePence,
      r.line.sharePence,
      amount(r.total),
      r.clawbacks.length,
      amount(r.clawbackTotal),
      amount(r.net),
    ]),
  }
}

export function expectedTable(rows: ExpectedRow[], names: Map<string, string>): MoneyTable {
  return {
    sheet: 'Expected by month',
    columns: [
      { name: 'month' },
      ...lineColumns,
      { name: 'projected_participants' },
      { name: 'price_per_teacher', money: true },
      { name: 'share', money: true },
      { name: 'total', money: true },
      { name: 'clawbacks' },
      { name: 'clawbacks_deducted', money: true },
      { name: 'net', money: true },
    ],
    rows: rows.map((r) => [
      r.month,
      ...lineCells(r.line, names),
      r.participants.length,
      r.line.pricePence,
      r.line.sharePence,
      amount(r.total),
      r.clawbacks.length,
      amount(r.clawbackTotal),
      amount(r.net),
    ]),
  }
}

export function paidTable(rows: PaidRow[], names: Map<string, string>): MoneyTable {
  return {
    sheet: 'Paid',
    columns: [
      { name: 'delivery_partner' },
      { name: 'delivery_partner_name' },
      { name: 'month' },
      { name: 'declarations_paid' },
      { name: 'paid', money: true },
      { name: 'clawbacks' },
      { name: 'clawed_back', money: true },
      { name: 'net', money: true },
    ],
    rows: rows.map((r) => [
      r.deliveryPartner,
      r.deliveryPartner ? (names.get(r.deliveryPartner) ?? null) : null,
      r.month,
      r.paid.length,
      amount(r.paidTotal),
      r.clawedBack.length,
      amount(r.clawedBackTotal),
      amount(r.net),
    ]),
  }
}

export function moneyCsv(table: MoneyTable): string {
  return toCsv({
    columns: table.columns.map((c) => c.name),
    rows: table.rows.map((row) =>
      row.map((cell, i) => (table.columns[i]!.money && typeof cell === 'number' ? penceAsDecimal(cell) : cell)),
    ),
  })
}

export async function moneyXlsx(table: MoneyTable): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook()
  workbook.creator = 'NPQ delivery platform'
  const sheet = workbook.addWorksheet(table.sheet)
  sheet.addRow(table.columns.map((c) => c.name)).font = { bold: true }
  for (const row of table.rows) {
    // Spreadsheets hold numbers as binary fractions: the division happens here, at the edge, and
    // the currency format shows every amount to the exact penny.
    sheet.addRow(row.map((cell, i) => (table.columns[i]!.money && typeof cell === 'number' ? cell / 100 : cell)))
  }
  table.columns.forEach((c, i) => {
    const column = sheet.getColumn(i + 1)
    column.width = Math.max(12, Math.min(40, c.name.length + 2))
    if (c.money) column.numFmt = '"£"#,##0.00;-"£"#,##0.00'
  })
  sheet.views = [{ state: 'frozen', ySplit: 1 }]
  return Buffer.from(await workbook.xlsx.writeBuffer())
}
