import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import { liveDeclarationStates } from '../db/schema.ts'
import type { JobSender } from '../jobs/queue.ts'
import type { Principal } from '../policy/principal.ts'
import { queueDfeRequest } from './requests.ts'

// DfE's participant actions (defer, resume, withdraw, change schedule) for one enrolment, queued only
// where DfE takes them.

type ParticipantChange = 'defer-participant' | 'resume-participant' | 'withdraw-participant' | 'change-schedule'

/**
 * Queues DfE's defer, resume, withdraw or change-schedule where DfE will take it (RULES.md: defer needs
 * a declaration, withdraw a started one, resume follows a defer or withdraw DfE was sent, and the
 * cohort can change only before any declaration). Otherwise nothing is sent; the audit says why.
 */
export async function queueParticipantChange(
  trx: Trx,
  services: { jobs?: JobSender },
  by: Principal,
  e: { id: string; leadProviderId: string },
  kind: ParticipantChange,
): Promise<boolean> {
  const why = await dfeWouldRefuse(trx, e.id, kind)
  if (why) {
    await recordAudit(trx, { by, action: 'dfe-request.not-sent', entityType: 'enrolment', entityId: e.id, after: { kind, why } })
    return false
  }
  await queueDfeRequest(trx, { leadProviderId: e.leadProviderId, kind, subjectId: e.id, queuedBy: by, jobs: services.jobs })
  return true
}

/** Why DfE would refuse a participant action for this enrolment (pure over what is recorded); null when it would not. */
export async function dfeWouldRefuse(db: Db | Trx, enrolmentId: string, kind: ParticipantChange): Promise<string | null> {
  if (kind === 'resume-participant') {
    const told = await db
      .selectFrom('dfe_requests')
      .select('id')
      .where('subject_id', '=', enrolmentId)
      .where('kind', 'in', ['defer-participant', 'withdraw-participant'])
      .where('status', 'in', ['queued', 'sent'])
      .executeTakeFirst()
    return told ? null : 'DfE was not told of a deferral or withdrawal, so there is nothing to resume there'
  }
  if (kind === 'change-schedule') {
    const declared = await db
      .selectFrom('declarations')
      .select('id')
      .where('enrolment_id', '=', enrolmentId)
      .where('state', 'in', [...liveDeclarationStates])
      .executeTakeFirst()
    return declared
      ? 'DfE changes the cohort only before a declaration: DfE keeps the original cohort, and the new one is ours for delivery'
      : null
  }
  let q = db
    .selectFrom('declarations')
    .select('id')
    .where('enrolment_id', '=', enrolmentId)
    .where('state', 'in', [...liveDeclarationStates])
  if (kind === 'withdraw-participant') q = q.where('declaration_type', '=', 'started')
  const declared = await q.executeTakeFirst()
  if (declared) return null
  return kind === 'withdraw-participant'
    ? 'DfE takes a withdrawal only after a started declaration: none has been made'
    : 'DfE takes a deferral only after a declaration: none has been made'
}
