import { recordAudit } from '../audit/audit.ts'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Trx } from '../db/database.ts'
import type { DfeRequestKind } from '../db/schema.ts'
import type { JobSender } from '../jobs/queue.ts'
import { describePrincipal, type Principal } from '../policy/principal.ts'
import { withdrawalInForce } from '../participants/in-force.ts'
import { defaultSchedule, schedulesForCourse } from '../catalogue/schedules.ts'

// Requests to DfE's Lead Provider API v3 (spec/dfe-npq-api/v3/swagger.yaml), queued by other modules
// inside the transaction that makes them necessary, so a request exists exactly when the change does.
// The body is built here from the subject as it is when queued; src/dfe/sync.ts sends it later.
//
// Subjects: a declaration (submit, void, post-outcome), an enrolment (defer, resume, withdraw: DfE
// acts on a participant and course), nothing for the pulls. `participant_id` everywhere is DfE's
// participant id, which is our participants.id.

export const dfeSyncJobName = 'dfe-sync'
export const dfeSendRequestJobName = 'dfe-send-request'

/** Stands for DfE's id of the declaration in a void's path until DfE has given it (the submit succeeded). */
export const dfeDeclarationIdPlaceholder = '{dfe_declaration_id}'

export class DfeRequestError extends Error {}

export type DfeRequestPlan = {
  method: 'GET' | 'POST' | 'PUT'
  /** Relative to the configured base URL (…/api/v3). */
  path: string
  body: object | null
  participantId: string | null
}

/**
 * Queues a request to DfE inside the caller's transaction and returns its id. A submit or void that
 * is already queued or sent for the same declaration, or a pull already waiting, is not queued twice
 * (its id is returned). With `jobs`, a send is also attempted as soon as the transaction commits.
 */
export async function queueDfeRequest(
  trx: Trx,
  request: { leadProviderId: string; kind: DfeRequestKind; subjectId?: string | null; queuedBy: Principal; jobs?: JobSender },
): Promise<string> {
  const subjectId = request.subjectId ?? null
  const once = ['submit-declaration', 'void-declaration', 'pull-applications', 'pull-statements'].includes(request.kind)
  if (once) {
    let existing = trx
      .selectFrom('dfe_requests')
      .select('id')
      .where('lead_provider_id', '=', request.leadProviderId)
      .where('kind', '=', request.kind)
    existing = subjectId
      ? existing.where('subject_id', '=', subjectId).where('status', 'in', ['queued', 'sent'])
      : existing.where('subject_id', 'is', null).where('status', '=', 'queued')
    const found = await existing.executeTakeFirst()
    if (found) return found.id
  }
  const plan = await planDfeRequest(trx, request.leadProviderId, request.kind, subjectId)
  const row = await trx
    .insertInto('dfe_requests')
    .values({
      lead_provider_id: request.leadProviderId,
      kind: request.kind,
      subject_id: subjectId,
      participant_id: plan.participantId,
      method: plan.method,
      path: plan.path,
      body: plan.body === null ? null : JSON.stringify(plan.body),
      queued_by: describePrincipal(request.queuedBy).actorUserId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by: request.queuedBy,
    action: 'dfe-request.queued',
    entityType: 'dfe-request',
    entityId: row.id,
    after: { kind: request.kind, subject_id: subjectId, method: plan.method, path: plan.path },
  })
  if (request.jobs) await request.jobs.send(dfeSendRequestJobName, { requestId: row.id }, trx)
  return row.id
}

/** What a request of this kind about this subject sends (exported for the conformance tests). */
export async function planDfeRequest(
  trx: Trx,
  leadProviderId: string,
  kind: DfeRequestKind,
  subjectId: string | null,
): Promise<DfeRequestPlan> {
  switch (kind) {
    case 'pull-applications':
      return { method: 'GET', path: '/npq-applications', body: null, participantId: null }
    case 'pull-statements':
      return { method: 'GET', path: '/statements', body: null, participantId: null }
    case 'submit-declaration':
    case 'void-declaration':
    case 'post-outcome':
      return planForDeclaration(trx, leadProviderId, kind, required(kind, subjectId))
    case 'defer-participant':
    case 'resume-participant':
    case 'withdraw-participant':
    case 'change-schedule':
      return planForEnrolment(trx, leadProviderId, kind, required(kind, subjectId))
    case 'accept-application':
    case 'reject-application':
    case 'change-funded-place':
      return planForApplication(trx, leadProviderId, kind, required(kind, subjectId))
  }
}

/**
 * Accept (with the schedule and funded place) or reject one of DfE's applications, or change the
 * funded place of an accepted one; reject has no body in the spec.
 */
async function planForApplication(
  trx: Trx,
  leadProviderId: string,
  kind: 'accept-application' | 'reject-application' | 'change-funded-place',
  applicationId: string,
): Promise<DfeRequestPlan> {
  const a = await trx
    .selectFrom('applications as a')
    .leftJoin('participants as p', 'p.id', 'a.participant_id')
    .select([
      'a.lead_provider_id',
      'a.dfe_application_id',
      'a.schedule_identifier',
      'a.eligible_for_funding',
      'a.funded_place',
      'p.id as participant_id',
    ])
    .where('a.id', '=', applicationId)
    .executeTakeFirst()
  if (!a) throw new DfeRequestError(`No application ${applicationId}`)
  if (a.lead_provider_id !== leadProviderId) throw new DfeRequestError(`Application ${applicationId} is another lead provider's`)
  if (!a.dfe_application_id) throw new DfeRequestError('DfE does not know this application (it came from a file without its DfE id)')
  if (kind === 'reject-application')
    return { method: 'POST', path: `/npq-applications/${a.dfe_application_id}/reject`, body: null, participantId: a.participant_id }
  const fundedPlace = a.funded_place ?? a.eligible_for_funding
  if (kind === 'change-funded-place')
    return {
      method: 'PUT',
      path: `/npq-applications/${a.dfe_application_id}/change-funded-place`,
      body: { data: { type: 'npq-application-change-funded-place', attributes: { funded_place: fundedPlace } } },
      participantId: a.participant_id,
    }
  const attributes: Record<string, unknown> = { funded_place: fundedPlace }
  if (a.schedule_identifier) attributes.schedule_identifier = a.schedule_identifier
  return {
    method: 'POST',
    path: `/npq-applications/${a.dfe_application_id}/accept`,
    body: { data: { type: 'npq-application-accept', attributes } },
    participantId: a.participant_id,
  }
}

function required(kind: DfeRequestKind, subjectId: string | null): string {
  if (!subjectId) throw new DfeRequestError(`A ${kind} request needs its subject`)
  return subjectId
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * DfE's declaration_date is an RFC 3339 date-time; ours is a London calendar date. Midnight UTC is on
 * that date both in London and in UTC, so DfE's date checks (schedule start, not in future) see it.
 */
export function dfeDateTime(date: string): string {
  return `${date}T00:00:00Z`
}

async function planForDeclaration(
  trx: Trx,
  leadProviderId: string,
  kind: 'submit-declaration' | 'void-declaration' | 'post-outcome',
  declarationId: string,
): Promise<DfeRequestPlan> {
  const d = await trx
    .selectFrom('declarations as d')
    .leftJoin('organisations as dp', 'dp.id', 'd.delivery_partner_id')
    .select([
      'd.id',
      'd.participant_id',
      'd.lead_provider_id',
      'd.course_identifier',
      'd.declaration_type',
      'd.declaration_date',
      'd.has_passed',
      'd.dfe_declaration_id',
      'dp.code as delivery_partner_code',
    ])
    .where('d.id', '=', declarationId)
    .executeTakeFirst()
  if (!d) throw new DfeRequestError(`No declaration ${declarationId}`)
  if (d.lead_provider_id !== leadProviderId) throw new DfeRequestError(`Declaration ${declarationId} is another lead provider's`)

  if (kind === 'submit-declaration') {
    const attributes: Record<string, unknown> = {
      participant_id: d.participant_id,
      declaration_type: d.declaration_type,
      declaration_date: dfeDateTime(d.declaration_date),
      course_identifier: d.course_identifier,
    }
    if (d.declaration_type === 'completed') {
      if (d.has_passed === null) throw new DfeRequestError('A completed declaration needs has_passed')
      attributes.has_passed = d.has_passed
    }
    // DfE knows delivery partners by its own UUIDs (required from the 2024 cohort): a partner imported
    // with DfE's id as its delivery_partner_id is named; one with a local code cannot be, and DfE says so.
    if (d.delivery_partner_code && uuidPattern.test(d.delivery_partner_code)) attributes.delivery_partner_id = d.delivery_partner_code
    return {
      method: 'POST',
      path: '/participant-declarations',
      body: { data: { type: 'participant-declaration', attributes } },
      participantId: d.participant_id,
    }
  }

  if (kind === 'void-declaration') {
    return {
      method: 'PUT',
      path: `/participant-declarations/${d.dfe_declaration_id ?? dfeDeclarationIdPlaceholder}/void`,
      body: null,
      participantId: d.participant_id,
    }
  }

  // post-outcome: a changed assessment result for a completed declaration (DfE creates the first
  // outcome itself from the completed declaration's has_passed; this reports a later one, e.g. a resit).
  if (d.declaration_type !== 'completed') throw new DfeRequestError('An outcome belongs to a completed declaration')
  if (findCourse(d.course_identifier)?.group === 'ehco') throw new DfeRequestError(`DfE takes no outcomes for ${d.course_identifier}`)
  const attempt = await trx
    .selectFrom('assessment_attempts')
    .select(['result', 'externally_moderated_at', 'moderated_at', 'marked_at'])
    .where('participant_id', '=', d.participant_id)
    .where('result', 'is not', null)
    .orderBy('attempt', 'desc')
    .executeTakeFirst()
  if (!attempt?.result) throw new DfeRequestError('No assessment result to send as the outcome')
  const decided = attempt.externally_moderated_at ?? attempt.moderated_at ?? attempt.marked_at
  return {
    method: 'POST',
    path: `/participants/npq/${d.participant_id}/outcomes`,
    body: {
      data: {
        type: 'npq-outcome-confirmation',
        attributes: {
          course_identifier: d.course_identifier,
          state: attempt.result,
          completion_date: decided ? londonDateOf(new Date(decided)) : d.declaration_date,
        },
      },
    },
    participantId: d.participant_id,
  }
}

async function planForEnrolment(
  trx: Trx,
  leadProviderId: string,
  kind: 'defer-participant' | 'resume-participant' | 'withdraw-participant' | 'change-schedule',
  enrolmentId: string,
): Promise<DfeRequestPlan> {
  const e = await trx
    .selectFrom('enrolments')
    .select(['participant_id', 'lead_provider_id', 'course_identifier', 'cohort'])
    .where('id', '=', enrolmentId)
    .executeTakeFirst()
  if (!e) throw new DfeRequestError(`No enrolment ${enrolmentId}`)
  if (e.lead_provider_id !== leadProviderId) throw new DfeRequestError(`Enrolment ${enrolmentId} is another lead provider's`)
  const attributes: Record<string, unknown> = { course_identifier: e.course_identifier }
  if (kind === 'defer-participant') {
    const deferral = await trx
      .selectFrom('deferrals')
      .select('reason')
      .where('participant_id', '=', e.participant_id)
      // This enrolment's own, or a person-wide one (the CSV import names only the person).
      .where((eb) => eb.or([eb('enrolment_id', 'is', null), eb('enrolment_id', '=', enrolmentId)]))
      .orderBy('deferred_on', 'desc')
      .executeTakeFirst()
    if (!deferral) throw new DfeRequestError('No deferral recorded for this participant')
    attributes.reason = deferral.reason
  }
  if (kind === 'withdraw-participant') {
    const withdrawal = await trx
      .selectFrom('withdrawals')
      .select('reason')
      .where('participant_id', '=', e.participant_id)
      .where((eb) => eb.or([eb('enrolment_id', 'is', null), eb('enrolment_id', '=', enrolmentId)]))
      .where(withdrawalInForce)
      .orderBy('enrolment_id', (ob) => ob.asc().nullsLast())
      .executeTakeFirst()
    if (!withdrawal) throw new DfeRequestError('No withdrawal recorded for this participant')
    attributes.reason = withdrawal.reason
  }
  if (kind === 'change-schedule') {
    // The place moved cohort: DfE's cohort is the year; the schedule is the one accepted onto if it fits the season.
    const accepted = await trx
      .selectFrom('applications')
      .select('schedule_identifier')
      .where('enrolment_id', '=', enrolmentId)
      .executeTakeFirst()
    const schedule =
      accepted?.schedule_identifier && schedulesForCourse(e.course_identifier).includes(accepted.schedule_identifier)
        ? accepted.schedule_identifier
        : defaultSchedule(e.course_identifier, e.cohort)
    return {
      method: 'PUT',
      path: `/participants/npq/${e.participant_id}/change-schedule`,
      body: {
        data: {
          type: 'participant-change-schedule',
          attributes: { schedule_identifier: schedule, course_identifier: e.course_identifier, cohort: e.cohort.slice(0, 4) },
        },
      },
      participantId: e.participant_id,
    }
  }
  const action = kind.replace('-participant', '') as 'defer' | 'resume' | 'withdraw'
  return {
    method: 'PUT',
    path: `/participants/npq/${e.participant_id}/${action}`,
    body: { data: { type: `participant-${action}`, attributes } },
    participantId: e.participant_id,
  }
}
