import { z } from 'zod'
import type { ApiRegistry } from '../api/registry.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import type { DesignVersions } from '../catalogue/versions.ts'
import type { Db } from '../db/database.ts'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { moment } from '../imports/fields.ts'
import { can, type OrganisationRef } from '../policy/policy.ts'
import { correctLearningRecord, type LearningRecord } from './corrections.ts'
import { EventsRejected, ingestLearningRecords, learningEvent, MAX_EVENTS } from './ingest.ts'

// Learning records from lead providers' own systems: batches of events (self-study completions,
// video progress, self-reports), and corrections of a record already sent.

const ownLeadProvider = (id: string): OrganisationRef => ({ id, kind: 'lead-provider', leadProviderIds: [id] })

// Each event is checked by the operation itself, so that every problem is answered with its index and
// event id (422) rather than as a malformed request; the document still shows the event's schema.
const eventDocument = (() => {
  const json = z.toJSONSchema(learningEvent, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>
  delete json.$schema
  return json
})()

const ingestBody = z.object({
  events: z
    .array(z.unknown().meta(eventDocument))
    .min(1, `send 1 to ${MAX_EVENTS} events`)
    .max(MAX_EVENTS, `send 1 to ${MAX_EVENTS} events`),
})

const learningRecord = z
  .object({
    id: z.uuid(),
    supersedes: z.uuid().nullable(),
    participant_id: z.uuid(),
    course_identifier: z.string(),
    activity_code: z.string(),
    occurred_at: z.string(),
    evidence_on: z.string(),
    source: z.enum(['automatic', 'self-report']),
    progress_percent: z.number().nullable(),
    retracted: z.boolean(),
    reason: z.string().nullable(),
  })
  .meta({ id: 'LearningRecord' })

const correctionBody = z
  .strictObject({
    retract: z.literal(true, 'must be true').optional().meta({ description: 'The record was entered in error' }),
    occurred_at: moment.optional(),
    progress_percent: z
      .number('must be a number from 0 to 100')
      .min(0, 'must be from 0 to 100')
      .max(100, 'must be from 0 to 100')
      .nullable()
      .optional(),
    reason: z
      .string('give the reason for the correction')
      .trim()
      .min(1, 'give the reason for the correction')
      .max(2000, 'must be at most 2000 characters'),
  })
  .superRefine((b, ctx) => {
    const corrects = b.occurred_at !== undefined || b.progress_percent !== undefined
    if (b.retract && corrects)
      ctx.addIssue({ code: 'custom', path: ['retract'], message: 'retract the record, or correct its values, not both' })
    if (!b.retract && !corrects) {
      ctx.addIssue({ code: 'custom', path: ['occurred_at'], message: 'give occurred_at or progress_percent to correct, or retract: true' })
    }
  })

export function addLearningRecordOperations(api: ApiRegistry, services: { db: Db; designs: DesignVersions; catalogue: Catalogue }): void {
  const { db } = services

  api.add({
    method: 'POST',
    path: '/learning-records',
    operationId: 'recordLearning',
    summary: `Record up to ${MAX_EVENTS} learning events at once: all of them, or none when any has a problem (422)`,
    tag: 'Learning records',
    body: ingestBody,
    response: z.object({
      data: z.object({
        received: z.number().int(),
        created: z.number().int(),
        unchanged: z.number().int().meta({ description: 'Events already recorded (the same event id and content)' }),
      }),
    }),
    handler: async ({ principal, body }) => {
      if (!can(principal, 'view', { type: 'organisation', organisation: ownLeadProvider(principal.leadProviderId) })) throw forbidden()
      try {
        return { data: await ingestLearningRecords(services, principal, body.events) }
      } catch (error) {
        if (!(error instanceof EventsRejected)) throw error
        // The registry's error format: each problem is a field, with the event's index, id and a code.
        const fields: FieldError[] = error.problems.map((p) => ({
          field: ['body', 'events', p.index, ...(p.field === null ? [] : [p.field])].join('.'),
          message: p.message,
          index: p.index,
          event_id: p.event_id,
          code: p.code,
        }))
        throw new AppError('unprocessable', error.message, fields)
      }
    },
  })

  api.add({
    method: 'POST',
    path: '/learning-records/:id/corrections',
    operationId: 'correctLearningRecord',
    summary: 'Correct a learning record (new values) or retract it (entered in error): a new record supersedes it',
    tag: 'Learning records',
    params: z.object({ id: z.uuid('must be a UUID') }),
    body: correctionBody,
    status: 201,
    response: z.object({ data: learningRecord }),
    handler: async ({ principal, params, body }) => {
      const record = await db.transaction().execute(async (trx) => {
        const found = await trx
          .selectFrom('learning_records as r')
          .innerJoin('enrolments as e', (join) =>
            join.onRef('e.participant_id', '=', 'r.participant_id').onRef('e.course_identifier', '=', 'r.course_identifier'),
          )
          .innerJoin('participants as p', 'p.id', 'r.participant_id')
          .select(['e.lead_provider_id', 'e.delivery_partner_id', 'e.school_id', 'e.line_manager_user_id', 'p.user_id'])
          .where('r.id', '=', params.id)
          .executeTakeFirst()
        const enrolment = found && {
          participantUserId: found.user_id,
          leadProviderId: found.lead_provider_id,
          deliveryPartnerId: found.delivery_partner_id,
          schoolId: found.school_id,
          lineManagerUserId: found.line_manager_user_id,
        }
        // Another provider's record does not exist as far as this token can tell.
        if (!enrolment || !can(principal, 'view', { type: 'enrolment', enrolment })) throw notFound('Learning record')
        return correctLearningRecord(
          trx,
          principal,
          params.id,
          body.retract
            ? { retract: true, reason: body.reason }
            : { occurredAt: body.occurred_at, progressPercent: body.progress_percent, reason: body.reason },
        )
      })
      return { data: recordJson(record) }
    },
  })
}

function recordJson(r: LearningRecord): z.infer<typeof learningRecord> {
  return {
    id: r.id,
    supersedes: r.supersedes,
    participant_id: r.participant_id,
    course_identifier: r.course_identifier,
    activity_code: r.activity_code,
    occurred_at: new Date(r.occurred_at).toISOString(),
    evidence_on: r.evidence_on,
    source: r.source,
    progress_percent: r.progress_percent === null ? null : Number(r.progress_percent),
    retracted: r.retracted,
    reason: r.reason,
  }
}
