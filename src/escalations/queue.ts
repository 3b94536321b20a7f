import type { EscalationStage } from '../outputs/escalation-stage.ts'

// The escalation queue's order and words. Pure.

export const stageLabels: Record<EscalationStage, string> = {
  'removal-proposed': 'Removal proposed',
  contact: 'Contact',
  encourage: 'Encourage',
  resolved: 'Resolved',
}

/** What each stage asks of the delivery partner (seed 004 "Participant engagement escalation process"). */
export const stageHints: Record<EscalationStage, string> = {
  'removal-proposed': 'A removal has been proposed and waits for its sign-off.',
  contact:
    'The 3-week window (or the agreed extended deadline) has passed: contact the participant, ask what is in the way and offer support, including deferral.',
  encourage: 'Within 3 weeks of the review date, or before an agreed extended deadline: encourage the participant to engage.',
  resolved: 'The participant has met the criteria since the review date.',
}

export const stageTagClasses: Record<EscalationStage, string> = {
  'removal-proposed': 'govuk-tag--red',
  contact: 'govuk-tag--orange',
  encourage: 'govuk-tag--yellow',
  resolved: 'govuk-tag--green',
}

export const outputLabels: Record<string, string> = {
  started: 'Started (training commenced)',
  'retained-1': 'Retention point 1',
  'retained-2': 'Retention point 2',
  completed: 'Completed (assessed and moderated)',
}

const urgency: Record<EscalationStage, number> = { 'removal-proposed': 0, contact: 1, encourage: 2, resolved: 3 }
const collator = new Intl.Collator('en-GB', { sensitivity: 'base', numeric: true })

export type QueueEntry = { stage: EscalationStage; daysSinceReview: number; name: string; id: string }

/**
 * Most urgent first: removals waiting for sign-off, then participants to contact, then those still in
 * the encourage window (resolved last); within a stage, the longest since the review date first.
 */
export function byUrgency(a: QueueEntry, b: QueueEntry): number {
  return (
    urgency[a.stage] - urgency[b.stage] ||
    b.daysSinceReview - a.daysSinceReview ||
    collator.compare(a.name, b.name) ||
    a.id.localeCompare(b.id)
  )
}

export function sortByUrgency<T extends QueueEntry>(entries: T[]): T[] {
  return [...entries].sort(byUrgency)
}
