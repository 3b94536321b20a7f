import { sql } from 'kysely'
import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import type { DesignVersions } from '../catalogue/versions.ts'
import type { Db } from '../db/database.ts'
import { moment } from '../imports/fields.ts'
import type { Principal } from '../policy/principal.ts'
import { checkLearningRecords } from './record-checks.ts'

// Learning records from a lead provider's own systems, in batches (POST /api/v1/learning-records).
// A batch is recorded whole or not at all, and is idempotent by the client's event id: an event id
// already stored with the same content changes nothing, with other content it is a problem. Built for
// volume: events are checked in memory with bulk lookups (learning/record-checks.ts), written with one
// statement, and the batch makes one audit entry.

export const MAX_EVENTS = 10_000

/** One event as a lead provider sends it (the wording of problems matches the activity import). */
export const learningEvent = z.strictObject({
  event_id: z
    .string('must be a string of 1 to 200 characters')
    .min(1, 'must be a string of 1 to 200 characters')
    .max(200, 'must be a string of 1 to 200 characters')
    .meta({ description: 'Your own id for the event: sending it again changes nothing' }),
  participant_id: z.uuid('must be a UUID'),
  activity_code: z.string('must be an activity code').min(1, 'must not be empty').meta({ description: 'e.g. NPQH-B1-S1.1a' }),
  occurred_at: moment.meta({ description: 'ISO 8601 with an offset or Z' }),
  source: z.enum(['automatic', 'self-report'], 'must be automatic or self-report'),
  progress_percent: z
    .number('must be a number from 0 to 100')
    .min(0, 'must be from 0 to 100')
    .max(100, 'must be from 0 to 100')
    .nullable()
    .optional()
    .meta({ description: 'Video progress; absent or null for a completion' }),
})
export type LearningEvent = z.infer<typeof learningEvent>

/** A problem with one event of a batch. `field` is null when it is about the whole event. */
export type EventProblem = { index: number; event_id: string | null; field: string | null; code: string; message: string }

export class EventsRejected extends Error {
  readonly problems: EventProblem[]
  readonly received: number
  constructor(problems: EventProblem[], received: number) {
    const events = new Set(problems.map((p) => p.index)).size
    super(`${events} of ${received} event${received === 1 ? '' : 's'} ${events === 1 ? 'has' : 'have'} problems; nothing was recorded`)
    this.problems = problems
    this.received = received
  }
}

export type IngestResult = { received: number; created: number; unchanged: number }

type Valid = { index: number; event: LearningEvent; key: string; stored: string }

/**
 * Checks and records a batch of events for the token's lead provider. Throws EventsRejected (and
 * writes nothing) when any event has a problem.
 */
export async function ingestLearningRecords(
  services: { db: Db; designs: DesignVersions; catalogue: Catalogue },
  by: Principal & { kind: 'api-client' },
  events: readonly unknown[],
): Promise<IngestResult> {
  const problems: EventProblem[] = []
  const valid: Valid[] = []
  // The first occurrence of each event id in the batch: a repeat with the same content is unchanged.
  const firstOf = new Map<string, Valid>()
  for (const [index, raw] of events.entries()) {
    const parsed = learningEvent.safeParse(raw)
    if (!parsed.success) {
      problems.push(...shapeProblems(index, raw, parsed.error))
      continue
    }
    const event = parsed.data
    const key = contentKey(event)
    const first = firstOf.get(event.event_id)
    if (first) {
      if (first.key !== key) {
        problems.push({
          index,
          event_id: event.event_id,
          field: 'event_id',
          code: 'conflicting_duplicate',
          message: `event ${event.event_id} is also at index ${first.index} with different content`,
        })
      }
      continue
    }
    // Event ids are the lead provider's own: two providers' ids never collide.
    const entry = { index, event, key, stored: `${by.leadProviderId}:${event.event_id}` }
    firstOf.set(event.event_id, entry)
    valid.push(entry)
  }

  return services.db.transaction().execute(async (trx) => {
    const checks = await checkLearningRecords(
      trx,
      services,
      valid.map(({ event }) => ({
        participantId: event.participant_id,
        activityCode: event.activity_code,
        occurredAt: event.occurred_at,
        source: event.source,
      })),
      { leadProviderId: by.leadProviderId },
    )
    for (const [i, check] of checks.entries()) {
      const { index, event } = valid[i]!
      for (const p of check.problems) problems.push({ index, event_id: event.event_id, field: p.field, code: p.code, message: p.message })
    }
    if (problems.length) throw new EventsRejected(sortProblems(problems), events.length)

    const columns = {
      participant: [] as string[],
      course: [] as string[],
      activity: [] as string[],
      occurred: [] as string[],
      source: [] as string[],
      percent: [] as (number | null)[],
      eventId: [] as string[],
    }
    for (const [i, { event, stored }] of valid.entries()) {
      columns.participant.push(event.participant_id)
      columns.course.push(checks[i]!.course!)
      columns.activity.push(event.activity_code)
      columns.occurred.push(event.occurred_at)
      columns.source.push(event.source)
      columns.percent.push(event.progress_percent ?? null)
      columns.eventId.push(stored)
    }
    // One statement for the batch. A row already stored (same event id, or the same evidence sent
    // before under another id or by the import) is not inserted; the evidence date is the London date.
    const inserted = await sql<{ created: number }>`
      with inserted as (
        insert into learning_records
          (participant_id, course_identifier, activity_code, occurred_at, evidence_on, source, progress_percent, client_event_id)
        select participant_id, course_identifier, activity_code, occurred_at, (occurred_at at time zone 'Europe/London')::date,
          source, progress_percent, client_event_id
        from unnest(${columns.participant}::uuid[], ${columns.course}::text[], ${columns.activity}::text[],
          ${columns.occurred}::timestamptz[], ${columns.source}::text[], ${columns.percent}::numeric[], ${columns.eventId}::text[])
          as e(participant_id, course_identifier, activity_code, occurred_at, source, progress_percent, client_event_id)
        on conflict do nothing
        returning 1
      )
      select count(*)::int as created from inserted
    `.execute(trx)
    const created = inserted.rows[0]!.created

    // When some were not inserted, an event whose id is stored with other content is a conflict (the
    // rows just inserted match their events, so the whole batch can be compared in one query).
    if (created < valid.length) {
      const conflicting = await sql<{ client_event_id: string }>`
        select r.client_event_id
        from unnest(${columns.eventId}::text[], ${columns.participant}::uuid[], ${columns.activity}::text[],
          ${columns.occurred}::timestamptz[], ${columns.source}::text[], ${columns.percent}::numeric[])
          as e(client_event_id, participant_id, activity_code, occurred_at, source, progress_percent)
        join learning_records r on r.client_event_id = e.client_event_id
        where r.participant_id <> e.participant_id or r.activity_code <> e.activity_code or r.occurred_at <> e.occurred_at
          or r.source <> e.source or r.progress_percent is distinct from e.progress_percent::numeric(5, 2)
      `.execute(trx)
      if (conflicting.rows.length) {
        const ids = new Set(conflicting.rows.map((r) => r.client_event_id))
        const found = valid
          .filter((v) => ids.has(v.stored))
          .map((v) => ({
            index: v.index,
            event_id: v.event.event_id,
            field: 'event_id',
            code: 'conflicting_duplicate',
            message: `event ${v.event.event_id} was already recorded with different content`,
          }))
        throw new EventsRejected(found, events.length)
      }
    }

    const result = { received: events.length, created, unchanged: events.length - created }
    await recordAudit(trx, {
      by,
      action: 'learning-records.ingested',
      entityType: 'lead-provider',
      entityId: by.leadProviderId,
      after: result,
    })
    return result
  })
}

/** What makes two events with one id the same: the same evidence, to the stored precision. */
function contentKey(e: LearningEvent): string {
  const percent = e.progress_percent == null ? '' : String(Math.round(e.progress_percent * 100) / 100)
  return `${e.participant_id.toLowerCase()}|${e.activity_code}|${Date.parse(e.occurred_at)}|${e.source}|${percent}`
}

function shapeProblems(index: number, raw: unknown, error: z.ZodError): EventProblem[] {
  const isObject = typeof raw === 'object' && raw !== null && !Array.isArray(raw)
  const object = isObject ? (raw as Record<string, unknown>) : {}
  const eventId = typeof object.event_id === 'string' ? object.event_id : null
  if (!isObject) return [{ index, event_id: null, field: null, code: 'invalid', message: 'must be an object' }]
  const problems: EventProblem[] = []
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        problems.push({ index, event_id: eventId, field: key, code: 'unknown_field', message: `unknown field "${key}"` })
      continue
    }
    const field = String(issue.path[0] ?? '')
    if (!(field in object)) problems.push({ index, event_id: eventId, field, code: 'missing', message: 'is required' })
    else problems.push({ index, event_id: eventId, field, code: 'invalid', message: issue.message })
  }
  return problems
}

const fieldOrder = ['event_id', 'participant_id', 'activity_code', 'occurred_at', 'source', 'progress_percent']

function sortProblems(problems: EventProblem[]): EventProblem[] {
  const rank = (f: string | null) => (f === null ? -1 : fieldOrder.indexOf(f) === -1 ? fieldOrder.length : fieldOrder.indexOf(f))
  return problems.sort((a, b) => a.index - b.index || rank(a.field) - rank(b.field))
}
