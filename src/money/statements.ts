import type { DeclarationType } from '../catalogue/courses.ts'
import type { OutputDates } from '../catalogue/load.ts'
import type { DeclarationState } from '../db/schema.ts'
import type { OutputStatus } from '../outputs/evaluate.ts'
import { outputAmounts } from './shares.ts'

// What a lead provider owes its delivery partners (seed 004: "Once the evidence has been validated
// you will need to submit an invoice and payment will be made to you"). Pure: declarations, prices,
// the schedule and today's date are passed in.
//
// A statement line is one delivery partner's output in one cohort and course (its review date): the
// declarations DfE has validated × the output's share of the price per teacher, invoiced on the
// schedule's invoice date and paid on or after its payment date. A clawback (a paid declaration
// voided) is deducted on the partner's next invoice after it was raised.

export const validatedStates = ['eligible', 'payable', 'paid', 'awaiting-clawback', 'clawed-back'] as const satisfies DeclarationState[]
/** Paid by DfE: paid, and those paid and since clawed back. */
export const paidStates = ['paid', 'awaiting-clawback', 'clawed-back'] as const satisfies DeclarationState[]

export const isValidated = (state: DeclarationState) => (validatedStates as readonly DeclarationState[]).includes(state)
export const isPaid = (state: DeclarationState) => (paidStates as readonly DeclarationState[]).includes(state)

export type MoneyDeclaration = {
  id: string
  enrolmentId: string
  participantId: string
  fullName: string
  /** The delivery partner's code, as declared (null: the participant had none). */
  deliveryPartner: string | null
  courseIdentifier: string
  cohort: string
  declarationType: DeclarationType
  declarationDate: string
  state: DeclarationState
  /** London date of the change to paid (null when not paid, or not recorded). */
  paidOn: string | null
  clawback: { raisedOn: string; clawedBackOn: string | null } | null
}

/** A delivery partner's participants on one course in one cohort. */
export type Programme = { deliveryPartner: string | null; cohort: string; courseIdentifier: string }

export type StatementInput = {
  declarations: MoneyDeclaration[]
  /** Programmes to cover besides those with declarations (enrolments not yet declared). */
  programmes?: Programme[]
  /** The course group's outputs in the cohort, in order (Catalogue.cohortOutputs). */
  outputsOf: (cohort: string, courseIdentifier: string) => OutputDates[] | undefined
  /** The current price per teacher in pence, or null when none has been set. */
  priceOf: (cohort: string, courseIdentifier: string) => number | null
}

export type ClawbackDeduction = {
  declaration: MoneyDeclaration
  /** The share paid for the clawed-back output (null when its price is not set). */
  amountPence: number | null
  /** Clawed back already (clawed_back_on recorded); otherwise still to be deducted. */
  settled: boolean
}

export type StatementLine = Programme & {
  declarationType: DeclarationType
  /** Position of the output in its course group (0 = started). */
  outputIndex: number
  reviewDate: string | null
  /** When the partner invoices: the schedule's invoice date, else the review date (DfE's schedules give none); null: neither. */
  invoiceDate: string | null
  invoiceDateFrom: 'schedule' | 'review-date' | null
  paymentDate: string | null
  pricePence: number | null
  /** The output's share of the price (shares.ts), null when no price is set. */
  sharePence: number | null
  /** Declarations DfE has validated for this output (also those paid, and paid and since clawed back). */
  validated: MoneyDeclaration[]
  /** Clawbacks deducted on this line's invoice. */
  clawbacks: ClawbackDeduction[]
}

const keyOf = (p: Programme) => `${p.deliveryPartner ?? ''}|${p.cohort}|${p.courseIdentifier}`
const lineKey = (p: Programme, type: string) => `${keyOf(p)}|${type}`
const byProgramme = (a: Programme, b: Programme) =>
  (a.deliveryPartner ?? '\uffff').localeCompare(b.deliveryPartner ?? '\uffff') ||
  a.cohort.localeCompare(b.cohort) ||
  a.courseIdentifier.localeCompare(b.courseIdentifier)

/** Every output line of every programme, with its validated declarations and the clawbacks deducted on it. */
export function statementLines(input: StatementInput): StatementLine[] {
  const programmes = new Map<string, Programme>()
  for (const p of [...input.declarations, ...(input.programmes ?? [])]) {
    programmes.set(keyOf(p), { deliveryPartner: p.deliveryPartner, cohort: p.cohort, courseIdentifier: p.courseIdentifier })
  }
  const lines = new Map<string, StatementLine>()
  for (const p of [...programmes.values()].sort(byProgramme)) {
    const outputs = input.outputsOf(p.cohort, p.courseIdentifier) ?? []
    const price = input.priceOf(p.cohort, p.courseIdentifier)
    const amounts = price === null ? null : outputAmounts(price, outputs)
    outputs.forEach((o, outputIndex) => {
      lines.set(lineKey(p, o.declarationType), {
        ...p,
        declarationType: o.declarationType,
        outputIndex,
        reviewDate: o.reviewDate,
        invoiceDate: o.invoiceDate ?? o.reviewDate,
        invoiceDateFrom: o.invoiceDate ? 'schedule' : o.reviewDate ? 'review-date' : null,
        paymentDate: o.paymentDate,
        pricePence: price,
        sharePence: amounts?.get(o.declarationType) ?? null,
        validated: [],
        clawbacks: [],
      })
    })
  }

  for (const d of input.declarations) {
    if (!isValidated(d.state)) continue
    let line = lines.get(lineKey(d, d.declarationType))
    if (!line) {
      // A declaration of an output the schedule does not list: shown, with nothing to price it by.
      line = {
        deliveryPartner: d.deliveryPartner,
        cohort: d.cohort,
        courseIdentifier: d.courseIdentifier,
        declarationType: d.declarationType,
        outputIndex: 99,
        reviewDate: null,
        invoiceDate: null,
        invoiceDateFrom: null,
        paymentDate: null,
        pricePence: input.priceOf(d.cohort, d.courseIdentifier),
        sharePence: null,
        validated: [],
        clawbacks: [],
      }
      lines.set(lineKey(d, d.declarationType), line)
    }
    line.validated.push(d)
  }

  const all = [...lines.values()].sort((a, b) => byProgramme(a, b) || a.outputIndex - b.outputIndex)
  for (const line of all) {
    for (const d of line.validated) {
      if (!d.clawback) continue
      nextInvoiceAfter(all, line, d.clawback.raisedOn).clawbacks.push({
        declaration: d,
        amountPence: line.sharePence,
        settled: d.clawback.clawedBackOn !== null,
      })
    }
  }
  return all
}

/**
 * The line a clawback raised on a date is deducted on: the partner's next invoice after that date
 * (the earliest invoice date later than it, the same cohort and course first when several share
 * it). With no invoice left in the schedule, the output it was paid for, at once.
 */
function nextInvoiceAfter(lines: StatementLine[], clawedBack: StatementLine, raisedOn: string): StatementLine {
  let best: StatementLine | null = null
  const sameProgramme = (l: StatementLine) => keyOf(l) === keyOf(clawedBack)
  for (const l of lines) {
    if (l.deliveryPartner !== clawedBack.deliveryPartner || l.invoiceDate === null || l.invoiceDate <= raisedOn) continue
    if (
      best === null ||
      l.invoiceDate < best.invoiceDate! ||
      (l.invoiceDate === best.invoiceDate && sameProgramme(l) && !sameProgramme(best))
    ) {
      best = l
    }
  }
  return best ?? clawedBack
}

/** An amount that may include outputs without a price: the known part, and whether something is missing. */
export type Total = { pence: number; priceMissing: boolean }

const times = (count: number, share: number | null): number | null => (count === 0 ? 0 : share === null ? null : count * share)
const sumOf = (amounts: (number | null)[]): Total => ({
  pence: amounts.reduce<number>((a, b) => a + (b ?? 0), 0),
  priceMissing: amounts.some((a) => a === null),
})
const minus = (a: Total, b: Total): Total => ({ pence: a.pence - b.pence, priceMissing: a.priceMissing || b.priceMissing })

export type InvoiceRow = {
  line: StatementLine
  /** Validated and not yet paid: the evidence the invoice rests on. */
  declarations: MoneyDeclaration[]
  total: Total
  /** Clawbacks not yet clawed back, deducted on this invoice. */
  clawbacks: ClawbackDeduction[]
  clawbackTotal: Total
  net: Total
}

/**
 * What each partner can invoice now: lines whose invoice date is on or before today (or that have no
 * date: invoiced once validated), with the declarations DfE has validated and not yet paid, less the
 * clawbacks due on them and not yet clawed back.
 */
export function canInvoiceNow(lines: StatementLine[], today: string): InvoiceRow[] {
  const rows: InvoiceRow[] = []
  for (const line of lines) {
    if (line.invoiceDate !== null && line.invoiceDate > today) continue
    const declarations = line.validated.filter((d) => !isPaid(d.state))
    const clawbacks = line.clawbacks.filter((c) => !c.settled)
    if (declarations.length === 0 && clawbacks.length === 0) continue
    const total = sumOf([times(declarations.length, line.sharePence)])
    const clawbackTotal = sumOf(clawbacks.map((c) => c.amountPence))
    rows.push({ line, declarations, total, clawbacks, clawbackTotal, net: minus(total, clawbackTotal) })
  }
  return rows
}

export type PaidRow = {
  deliveryPartner: string | null
  /** YYYY-MM of the payment (null: paid on a date not recorded). */
  month: string | null
  paid: { declaration: MoneyDeclaration; line: StatementLine }[]
  paidTotal: Total
  clawedBack: ClawbackDeduction[]
  clawedBackTotal: Total
  net: Total
}

/** What has been paid, by partner and month: declarations paid that month, less clawbacks clawed back that month. */
export function paidByMonth(lines: StatementLine[]): PaidRow[] {
  const rows = new Map<string, PaidRow>()
  const rowOf = (deliveryPartner: string | null, month: string | null) => {
    const key = `${deliveryPartner ?? ''}|${month ?? ''}`
    let row = rows.get(key)
    if (!row) {
      const none = { pence: 0, priceMissing: false }
      row = { deliveryPartner, month, paid: [], paidTotal: none, clawedBack: [], clawedBackTotal: none, net: none }
      rows.set(key, row)
    }
    return row
  }
  for (const line of lines) {
    for (const d of line.validated) {
      if (!isPaid(d.state)) continue
      rowOf(line.deliveryPartner, d.paidOn?.slice(0, 7) ?? null).paid.push({ declaration: d, line })
      if (d.clawback?.clawedBackOn) {
        rowOf(line.deliveryPartner, d.clawback.clawedBackOn.slice(0, 7)).clawedBack.push({
          declaration: d,
          amountPence: line.sharePence,
          settled: true,
        })
      }
    }
  }
  return [...rows.values()]
    .map((row) => {
      const paidTotal = sumOf(row.paid.map((p) => p.line.sharePence))
      const clawedBackTotal = sumOf(row.clawedBack.map((c) => c.amountPence))
      return { ...row, paidTotal, clawedBackTotal, net: minus(paidTotal, clawedBackTotal) }
    })
    .sort(
      (a, b) =>
        (a.deliveryPartner ?? '\uffff').localeCompare(b.deliveryPartner ?? '\uffff') || (a.month ?? '').localeCompare(b.month ?? ''),
    )
}

/** A participant's outputs as evaluated today (outputs/report.ts), and whether they are active. */
export type EnrolmentOutlook = Programme & {
  enrolmentId: string
  participantId: string
  fullName: string
  /** Neither withdrawn nor deferred today. */
  active: boolean
  outputs: { declarationType: DeclarationType; status: OutputStatus }[]
}

export type ProjectionBasis = 'declared' | 'eligible' | 'previous-output-met' | 'enrolled'

const met = (status: OutputStatus | undefined) => status === 'eligible' || status === 'declared'

/**
 * Why a participant is expected to reach an output, or null: active today, and already declared or
 * eligible for it, or met the output before it (for the first output, being enrolled is the step
 * before). So each active participant counts towards the next output after the last one they met.
 */
export function projectionBasis(outlook: EnrolmentOutlook, declarationType: DeclarationType): ProjectionBasis | null {
  if (!outlook.active) return null
  const index = outlook.outputs.findIndex((o) => o.declarationType === declarationType)
  if (index < 0) return null
  const status = outlook.outputs[index]!.status
  if (status === 'declared') return 'declared'
  if (status === 'eligible') return 'eligible'
  if (index === 0) return 'enrolled'
  return met(outlook.outputs[index - 1]!.status) ? 'previous-output-met' : null
}

export type ExpectedParticipant = {
  enrolmentId: string
  participantId: string
  fullName: string
  basis: ProjectionBasis | 'validated'
}

export type ExpectedRow = {
  line: StatementLine
  /** YYYY-MM of the invoice date. */
  month: string
  participants: ExpectedParticipant[]
  total: Total
  clawbacks: ClawbackDeduction[]
  clawbackTotal: Total
  net: Total
}

/** The twelve months from today's, as YYYY-MM. */
export function nextTwelveMonths(today: string): string[] {
  const [year, month] = today.split('-').map(Number) as [number, number]
  return Array.from({ length: 12 }, (_, i) => {
    const m = month - 1 + i
    return `${year + Math.floor(m / 12)}-${String((m % 12) + 1).padStart(2, '0')}`
  })
}

/**
 * What each partner can expect to invoice, output by output, for invoice dates after today in this
 * month and the next eleven: the participants projected to reach the output (projectionBasis) and
 * those already validated and not yet paid, × the output's share; less clawbacks due then.
 */
/** People by name: the order of localeCompare(…, 'en-GB'), without building a collator for every comparison. */
export const byName = new Intl.Collator('en-GB')

export function expectedByMonth(lines: StatementLine[], outlooks: EnrolmentOutlook[], today: string): ExpectedRow[] {
  const months = nextTwelveMonths(today)
  const outlooksOf = new Map<string, EnrolmentOutlook[]>()
  for (const o of outlooks) {
    const key = keyOf(o)
    const group = outlooksOf.get(key)
    if (group) group.push(o)
    else outlooksOf.set(key, [o])
  }
  const rows: ExpectedRow[] = []
  for (const line of lines) {
    if (line.invoiceDate === null || line.invoiceDate <= today || !months.includes(line.invoiceDate.slice(0, 7))) continue
    const participants = new Map<string, ExpectedParticipant>()
    const paid = new Set(line.validated.filter((d) => isPaid(d.state)).map((d) => d.enrolmentId))
    for (const d of line.validated) {
      if (!isPaid(d.state)) {
        participants.set(d.enrolmentId, {
          enrolmentId: d.enrolmentId,
          participantId: d.participantId,
          fullName: d.fullName,
          basis: 'validated',
        })
      }
    }
    for (const o of outlooksOf.get(keyOf(line)) ?? []) {
      const basis = projectionBasis(o, line.declarationType)
      if (basis && !paid.has(o.enrolmentId) && !participants.has(o.enrolmentId)) {
        participants.set(o.enrolmentId, { enrolmentId: o.enrolmentId, participantId: o.participantId, fullName: o.fullName, basis })
      }
    }
    const clawbacks = line.clawbacks.filter((c) => !c.settled)
    if (participants.size === 0 && clawbacks.length === 0) continue
    const total = sumOf([times(participants.size, line.sharePence)])
    const clawbackTotal = sumOf(clawbacks.map((c) => c.amountPence))
    rows.push({
      line,
      month: line.invoiceDate.slice(0, 7),
      // In no particular order: only their number is used, except on a line's page, which sorts them (byName).
      participants: [...participants.values()],
      total,
      clawbacks,
      clawbackTotal,
      net: minus(total, clawbackTotal),
    })
  }
  return rows.sort(
    (a, b) =>
      a.month.localeCompare(b.month) ||
      (a.line.deliveryPartner ?? '\uffff').localeCompare(b.line.deliveryPartner ?? '\uffff') ||
      a.line.invoiceDate!.localeCompare(b.line.invoiceDate!) ||
      byProgramme(a.line, b.line) ||
      a.line.outputIndex - b.line.outputIndex,
  )
}

export type PartnerSummary = { deliveryPartner: string | null; invoiceNow: Total; expected: Total; paid: Total }

/** Per partner: the net amount to invoice now, expected over the twelve months, and paid. */
export function summaryByPartner(invoiceRows: InvoiceRow[], expectedRows: ExpectedRow[], paidRows: PaidRow[]): PartnerSummary[] {
  const summaries = new Map<string, PartnerSummary>()
  const none: Total = { pence: 0, priceMissing: false }
  const add = (deliveryPartner: string | null, field: 'invoiceNow' | 'expected' | 'paid', amount: Total) => {
    const key = deliveryPartner ?? ''
    const s = summaries.get(key) ?? { deliveryPartner, invoiceNow: none, expected: none, paid: none }
    summaries.set(key, {
      ...s,
      [field]: { pence: s[field].pence + amount.pence, priceMissing: s[field].priceMissing || amount.priceMissing },
    })
  }
  for (const r of invoiceRows) add(r.line.deliveryPartner, 'invoiceNow', r.net)
  for (const r of expectedRows) add(r.line.deliveryPartner, 'expected', r.net)
  for (const r of paidRows) add(r.deliveryPartner, 'paid', r.net)
  return [...summaries.values()].sort((a, b) => (a.deliveryPartner ?? '\uffff').localeCompare(b.deliveryPartner ?? '\uffff'))
}

/** Amounts added up, for the totals under a table. */
export function totalOf(amounts: Total[]): Total {
  return amounts.reduce((a, b) => ({ pence: a.pence + b.pence, priceMissing: a.priceMissing || b.priceMissing }), {
    pence: 0,
    priceMissing: false,
  })
}
