import type { DeclarationType } from '../catalogue/courses.ts'

// Output evaluation (../shared/INTERFACES.md `outputs`, DOMAIN.md "Outputs", seed 004): for one
// participant on one course, as of a date, each output's status, the criterion that evidences it, the
// date it was met and, when it is not eligible, what is missing. Pure: the facts and the date are
// passed in; loading them is the caller's business.

export type OutputStatus = 'blocked' | 'eligible' | 'declared' | 'not-eligible'

export type Criterion = 'register-attendance' | 'self-study-credit' | 'video-90' | 'credits-increase' | 'credits-90-and-assessment'

export type OutputFacts = {
  /** The course group's outputs in order, with their review dates in the participant's cohort. */
  outputs: { declarationType: DeclarationType; reviewDate: string | null }[]
  schoolContractSignedOn: string | null
  sponsorshipAgreementSignedOn: string | null
  /** Deferrals: from the London date deferred, until the date resumed (null: still deferred). */
  deferrals: { from: string; resumedOn: string | null }[]
  withdrawnOn: string | null
  /** Outputs with a live declaration. */
  declared: DeclarationType[]
  /** London dates of register entries attended or contingency-completed, any event. */
  registerAttendances: string[]
  /** Dates on which a credit was earned from a Self-study activity (DIAGNOSTIC, VIDEO, S…, MIT). */
  selfStudyCredits: string[]
  /** Dates on which any credit was earned. */
  creditsEarned: string[]
  /** Per block, the first date its VIDEO reached 90% or more. */
  videos90: { block: number | string; on: string }[]
  /** The date credits earned first reached 90% of credits available (null: not yet). */
  credits90On: string | null
  /** The summative assessment result, once marked, moderated and externally moderated. */
  assessment: { passed: boolean; externallyModeratedOn: string } | null
}

export type OutputEvaluation = {
  declaration_type: DeclarationType
  review_date: string | null
  status: OutputStatus
  evidence: Criterion | null
  evidence_on: string | null
  reasons: string[]
}

/** How pages name each criterion. */
export const criterionLabels: Record<Criterion, string> = {
  'register-attendance': 'Register attendance',
  'self-study-credit': 'Self-study credit',
  'video-90': 'Video watched to 90%',
  'credits-increase': 'New credits',
  'credits-90-and-assessment': '90% of credits and a moderated assessment result',
}

const criteriaOf: Record<DeclarationType, Criterion[]> = {
  started: ['register-attendance', 'self-study-credit', 'video-90'],
  'retained-1': ['credits-increase', 'register-attendance', 'video-90'],
  'retained-2': ['credits-increase', 'register-attendance', 'video-90'],
  completed: ['credits-90-and-assessment'],
}

const missing: Record<DeclarationType, string> = {
  started: 'No register attendance, self-study credit or Block 1 video watched to 90%',
  'retained-1': 'No new credits, register attendance or block video watched to 90% since the previous output',
  'retained-2': 'No new credits, register attendance or block video watched to 90% since the previous output',
  completed: 'Not yet 90% of credits with an assessment result that is marked and moderated',
}

const earliest = (dates: string[], after: string | null, upTo: string): string | null => {
  let first: string | null = null
  for (const d of dates) if ((after === null || d > after) && d <= upTo && (first === null || d < first)) first = d
  return first
}

/** The earliest date in (after, upTo] on which a criterion was met; null if it was not. */
function metOn(criterion: Criterion, type: DeclarationType, f: OutputFacts, after: string | null, upTo: string): string | null {
  switch (criterion) {
    case 'register-attendance':
      return earliest(f.registerAttendances, after, upTo)
    case 'self-study-credit':
      return earliest(f.selfStudyCredits, after, upTo)
    case 'credits-increase':
      return earliest(f.creditsEarned, after, upTo)
    case 'video-90':
      // `started` counts the Block 1 video introduction only; retention points any block's.
      return earliest(
        f.videos90.filter((v) => type !== 'started' || String(v.block) === '1').map((v) => v.on),
        after,
        upTo,
      )
    case 'credits-90-and-assessment': {
      if (!f.credits90On || !f.assessment) return null
      const on = f.credits90On > f.assessment.externallyModeratedOn ? f.credits90On : f.assessment.externallyModeratedOn
      return on <= upTo ? on : null
    }
  }
}

const deferredOn = (f: OutputFacts, date: string) => f.deferrals.some((d) => d.from <= date && (d.resumedOn === null || d.resumedOn > date))

export function evaluateOutputs(f: OutputFacts, asOf: string): OutputEvaluation[] {
  const results: OutputEvaluation[] = []
  // Evidence after a withdrawal date never counts.
  const upTo = f.withdrawnOn !== null && f.withdrawnOn < asOf ? f.withdrawnOn : asOf
  for (const [i, output] of f.outputs.entries()) {
    const previous = i > 0 ? results[i - 1]! : null
    // A retention output takes evidence after the later of the previous review date and evidence date.
    const retention = output.declarationType === 'retained-1' || output.declarationType === 'retained-2'
    const after = retention && previous ? later(f.outputs[i - 1]!.reviewDate, previous.evidence_on) : null
    const onTimeBy = output.reviewDate !== null && output.reviewDate < upTo ? output.reviewDate : upTo
    const met = criteriaOf[output.declarationType].map((c) => ({ criterion: c, on: metOn(c, output.declarationType, f, after, upTo) }))
    const onTime = met.find((m) => m.on !== null && m.on <= onTimeBy)
    // Only if none was met on time: the most preferred met late, dated within the late part.
    const late = onTime
      ? undefined
      : met
          .map((m) => ({ ...m, on: metOn(m.criterion, output.declarationType, f, maxDate(after, onTimeBy), upTo) }))
          .find((m) => m.on !== null)
    const chosen = onTime ?? late ?? null

    const reasons: string[] = []
    // A recorded signature counts whatever its date: the participants import's yes/no carries no date
    // (it is dated the day of the import), and outputs are routinely evaluated for past dates.
    const signed = (on: string | null) => on !== null
    if (!signed(f.schoolContractSignedOn)) reasons.push('School contract not signed')
    if (!signed(f.sponsorshipAgreementSignedOn)) reasons.push('Sponsorship agreement not signed')
    if (deferredOn(f, asOf)) reasons.push(`Deferred on ${asOf}`)
    if (previous && previous.status !== 'eligible' && previous.status !== 'declared')
      reasons.push(`The previous output (${previous.declaration_type}) is not eligible`)
    if (f.withdrawnOn !== null && f.withdrawnOn <= asOf && !chosen)
      reasons.push(`Withdrawn on ${f.withdrawnOn} before the criteria were met`)
    const blocked = reasons.length > 0
    if (!chosen) reasons.push(missing[output.declarationType])

    results.push({
      declaration_type: output.declarationType,
      review_date: output.reviewDate,
      status: blocked ? 'blocked' : !chosen ? 'not-eligible' : f.declared.includes(output.declarationType) ? 'declared' : 'eligible',
      evidence: chosen?.criterion ?? null,
      evidence_on: chosen?.on ?? null,
      reasons,
    })
  }
  return results
}

function later(a: string | null, b: string | null): string | null {
  if (a === null) return b
  if (b === null) return a
  return a > b ? a : b
}

const maxDate = later
