import { sql } from 'kysely'
import type { Db, Trx } from '../db/database.ts'
import type { Evidence } from './engine.ts'
import { notSuperseded } from '../db/append-only.ts'

// Loads the evidence the engagement engine needs for a set of enrolments, as of a date, in two
// queries whatever the number of participants. Only the current evidence counts (nothing superseded
// or retracted), and only the first date of each kind of evidence per activity: the engine counts an
// activity once, at its first completion, so the later rows cannot change it.

export type EnrolmentScope = {
  leadProviderId: string
  cohort: string
  courseIdentifier?: string
  deliveryPartnerId?: string
  participantIds?: string[]
}

// Separators that cannot occur in activity codes, sources or dates (ASCII unit and record separators).
const UNIT = '\u001f'
const RECORD = '\u001e'
/** `code␟kind␟date` → the code, the kind's first letter (its values differ there) and the date. */
function fields(item: string): [string, string, string] {
  const i = item.indexOf(UNIT)
  const j = item.indexOf(UNIT, i + 1)
  return [item.slice(0, i), item[i + 1]!, item.slice(j + 1)]
}

// node-postgres needs DateStyle ISO, so a date as text is YYYY-MM-DD (faster than to_char).
const isoDate = (column: string) => sql<string>`${sql.ref(column)}::text`

// Participant ids are random UUIDs: this splits any set of them in two roughly equal halves.
const MIDDLE = '80000000-0000-0000-0000-000000000000'

const enrolmentKey = (participantId: string, courseIdentifier: string) => `${participantId}/${courseIdentifier}`

/** The enrolments (alias `e`) of a report's scope, to select from or join to. */
export function enrolmentsInScope(db: Db | Trx, scope: EnrolmentScope) {
  let q = db.selectFrom('enrolments as e').where('e.lead_provider_id', '=', scope.leadProviderId).where('e.cohort', '=', scope.cohort)
  if (scope.courseIdentifier) q = q.where('e.course_identifier', '=', scope.courseIdentifier)
  if (scope.deliveryPartnerId) q = q.where('e.delivery_partner_id', '=', scope.deliveryPartnerId)
  if (scope.participantIds) q = q.where('e.participant_id', 'in', scope.participantIds.length ? scope.participantIds : [null as never])
  return q
}

/** An enrolment in scope, with who it is and its evidence. */
export type EnrolmentEvidence = {
  participantId: string
  courseIdentifier: string
  fullName: string
  deliveryPartner: string | null
  deliveryPartnerName: string | null
  evidence: Evidence[]
}

/** The enrolments in scope, ordered by participant and course, each with its evidence as of the date. */
export async function loadEvidence(
  db: Db | Trx,
  scope: EnrolmentScope,
  asOf: string,
  options: { meetingLogs?: boolean } = {},
): Promise<EnrolmentEvidence[]> {
  const enrolments = () => enrolmentsInScope(db, scope)

  // First completions and first attendances are kept per key by triggers (migration 0007). They
  // come back as one string per enrolment and kind, with the enrolment itself: decoding ~50 rows per
  // participant cost more than the query.
  const half = (lower: boolean) =>
    enrolments()
      .where('e.participant_id', lower ? '<' : '>=', MIDDLE)
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
      .select([
        'e.participant_id',
        'e.course_identifier',
        'p.full_name',
        'dp.code as dp_code',
        'dp.name as dp_name',
        (eb) =>
          eb
            .selectFrom('learning_completions as c')
            .select(
              sql<string | null>`string_agg(c.activity_code || ${UNIT} || c.source || ${UNIT} || ${isoDate('c.first_on')}, ${RECORD})`.as(
                'list',
              ),
            )
            .whereRef('c.participant_id', '=', 'e.participant_id')
            .whereRef('c.course_identifier', '=', 'e.course_identifier')
            .where('c.first_on', '<=', asOf)
            .as('completions'),
        (eb) =>
          eb
            .selectFrom('attendance_firsts as a')
            .select(
              sql<string | null>`string_agg(a.activity_code || ${UNIT} || a.status || ${UNIT} || ${isoDate('a.first_on')}, ${RECORD})`.as(
                'list',
              ),
            )
            .whereRef('a.participant_id', '=', 'e.participant_id')
            .whereRef('a.course_identifier', '=', 'e.course_identifier')
            .where('a.lead_provider_id', '=', scope.leadProviderId)
            .where('a.first_on', '<=', asOf)
            .as('attendances'),
      ])
      .orderBy('e.participant_id')
      .orderBy('e.course_identifier')
      .execute()
  const [low, high, meetings] = await Promise.all([
    // In two halves by participant id, so PostgreSQL works on both cores and Node starts on the
    // first half while the second is read; concatenated they are still in participant order.
    half(true),
    half(false),
    // Only UCL's weighted designs count meeting logs; reports of other designs skip the query.
    options.meetingLogs === false
      ? []
      : db
          .with('scope', () => enrolments().select(['e.participant_id', 'e.course_identifier']))
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
          .where(notSuperseded('meeting_logs', 'm'))
          .execute(),
  ])

  const logs = new Map<string, Evidence[]>()
  for (const m of meetings) {
    const key = enrolmentKey(m.participant_id, m.course_identifier)
    const log: Evidence = {
      kind: 'meeting-log',
      meetingNumber: m.meeting_number,
      on: m.held_on,
      signedByLineManager: m.signed_by_line_manager,
      signedByParticipant: m.signed_by_participant,
      fatsCompleted: m.fats_completed,
    }
    const list = logs.get(key)
    if (list) list.push(log)
    else logs.set(key, [log])
  }
  return [...low, ...high].map((r) => {
    const evidence: Evidence[] = logs.get(enrolmentKey(r.participant_id, r.course_identifier)) ?? []
    for (const item of r.completions?.split(RECORD) ?? []) {
      const [code, kind, on] = fields(item)
      evidence.push({ kind: 'activity', code, on, source: kind === 'a' ? 'automatic' : 'self-report', progressPercent: null })
    }
    for (const item of r.attendances?.split(RECORD) ?? []) {
      const [code, kind, on] = fields(item)
      evidence.push({ kind: 'register', code, on, status: kind === 'a' ? 'attended' : 'contingency-completed' })
    }
    return {
      participantId: r.participant_id,
      courseIdentifier: r.course_identifier,
      fullName: r.full_name,
      deliveryPartner: r.dp_code,
      deliveryPartnerName: r.dp_name,
      evidence,
    }
  })
}
