// The stage of an escalation (INTERFACES.md `escalations`, DOMAIN.md "Escalation"): a 3-week window
// after the review date to encourage engagement (longer when an extended deadline is agreed), then
// contact; a removal proposal waits for its decision. Pure: the date is passed in.

export type EscalationStage = 'resolved' | 'removal-proposed' | 'encourage' | 'contact'

export const ENCOURAGE_DAYS = 21

export type CaseFacts = { extendedDeadline: string | null; removalProposed: boolean; removalDecided?: boolean }

export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`)
  d.setUTCDate(d.getUTCDate() + n)
  return d.toISOString().slice(0, 10)
}

export function escalationStage(input: { metLate: boolean; reviewDate: string; asOf: string; caseFacts?: CaseFacts }): EscalationStage {
  if (input.metLate) return 'resolved'
  const c = input.caseFacts
  if (c?.removalProposed && !c.removalDecided) return 'removal-proposed'
  if (input.asOf <= addDays(input.reviewDate, ENCOURAGE_DAYS)) return 'encourage'
  if (c?.extendedDeadline && input.asOf <= c.extendedDeadline) return 'encourage'
  return 'contact'
}
