import { sql } from 'kysely'
import type { Db, Trx } from '../db/database.ts'
import { isCurrentLearningRecord } from '../learning/current.ts'
import type { Evidence } from './engine.ts'

// Loads the evidence the engagement engine needs for a set of enrolments, as of a date, in three
// queries whatever the number of participants. Each query keeps only the current evidence (nothing
// superseded or retracted) and only the first date of each kind of evidence per activity: the
// engine counts an activity once, at its first completion, so the later rows cannot change it.

export type EnrolmentScope = {
  leadProviderId: string
  cohort: string
  courseIdentifier?: string
  deliveryPartnerId?: string
  participantIds?: string[]
}

/** Evidence per enrolment, keyed `participant_id/course_identifier`. */
export type EvidenceByEnrolment = Map<string, Evidence[]>

export const enrolmentKey = (participantId: string, courseIdentifier: string) => `${participantId}/${courseIdentifier}`

export async function loadEvidence(db: Db | Trx, scope: EnrolmentScope, asOf: string): Promise<EvidenceByEnrolment> {
  const enrolments = () => {
    let q = db
      .selectFrom('enrolments as e')
      .select(['e.participant_id', 'e.course_identifier'])
      .where('e.lead_provider_id', '=', scope.leadProviderId)
      .where('e.cohort', '=', scope.cohort)
    if (scope.courseIdentifier) q = q.where('e.course_identifier', '=', scope.courseIdentifier)
    if (scope.deliveryPartnerId) q = q.where('e.delivery_partner_id', '=', scope.deliveryPartnerId)
    if (scope.participantIds) q = q.where('e.participant_id', 'in', scope.participantIds.length ? scope.participantIds : [null as never])
    return q
  }

  const [activity, register, meetings] = await Promise.all([
    db
      .with('scope', () => enrolments())
      .selectFrom('learning_records as r')
      .innerJoin('scope as e', (j) =>
        j.onRef('e.participant_id', '=', 'r.participant_id').onRef('e.course_identifier', '=', 'r.course_identifier'),
      )
      .select(['r.participant_id', 'r.course_identifier', 'r.activity_code', 'r.source', sql<string>`min(r.evidence_on)`.as('on')])
      .where('r.evidence_on', '<=', asOf)
      // Only completions earn credits: a row with a percentage is one at 100.
      .where((eb) => eb.or([eb('r.progress_percent', 'is', null), eb('r.progress_percent', '>=', '100')]))
      .where(isCurrentLearningRecord('r'))
      .groupBy(['r.participant_id', 'r.course_identifier', 'r.activity_code', 'r.source'])
      .execute(),
    db
      .with('scope', () => enrolments())
      .selectFrom('register_entries as r')
      .innerJoin('events as ev', 'ev.id', 'r.event_id')
      .innerJoin('scope as e', (j) =>
        j.onRef('e.participant_id', '=', 'r.participant_id').onRef('e.course_identifier', '=', 'ev.course_identifier'),
      )
      .select([
        'r.participant_id',
        'ev.course_identifier',
        'ev.activity_code',
        'r.status',
        sql<string>`min(coalesce(r.completed_on, ev.starts_on))`.as('on'),
      ])
      .where('ev.lead_provider_id', '=', scope.leadProviderId)
      .where('ev.activity_code', 'is not', null)
      .where('r.status', 'in', ['attended', 'contingency-completed'])
      .where(sql<boolean>`coalesce(r.completed_on, ev.starts_on) <= ${asOf}`)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('register_entries as later').select('later.id').whereRef('later.supersedes', '=', 'r.id'))),
      )
      .groupBy(['r.participant_id', 'ev.course_identifier', 'ev.activity_code', 'r.status'])
      .execute(),
    db
      .with('scope', () => enrolments())
      .selectFrom('meeting_logs as m')
      .innerJoin('scope as e', (j) =>
        j.onRef('e.participant_id', '=', 'm.participant_id').onRef('e.course_identifier', '=', 'm.course_identifier'),
      )
      .select([
        'm.participant_id',
        'm.course_identifier',
        'm.meeting_number',
        'm.held_on',
        'm.signed_by_line_manager',
        'm.signed_by_participant',
        'm.fats_completed',
      ])
      .where('m.held_on', '<=', asOf)
      .where(({ not, exists, selectFrom }) =>
        not(exists(selectFrom('meeting_logs as later').select('later.id').whereRef('later.supersedes', '=', 'm.id'))),
      )
      .execute(),
  ])

  const evidence: EvidenceByEnrolment = new Map()
  const add = (participantId: string, course: string, e: Evidence) => {
    const key = enrolmentKey(participantId, course)
    const list = evidence.get(key)
    if (list) list.push(e)
    else evidence.set(key, [e])
  }
  for (const r of activity) {
    add(r.participant_id, r.course_identifier, {
      kind: 'activity',
      code: r.activity_code,
      on: r.on,
      source: r.source,
      progressPercent: null,
    })
  }
  for (const r of register) {
    add(r.participant_id, r.course_identifier, { kind: 'register', code: r.activity_code!, on: r.on, status: r.status })
  }
  for (const m of meetings) {
    add(m.participant_id, m.course_identifier, {
      kind: 'meeting-log',
      meetingNumber: m.meeting_number,
      on: m.held_on,
      signedByLineManager: m.signed_by_line_manager,
      signedByParticipant: m.signed_by_participant,
      fatsCompleted: m.fats_completed,
    })
  }
  return evidence
}
