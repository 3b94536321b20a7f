import { recordAudit } from '../audit/audit.ts'
import type { Trx } from '../db/database.ts'
import { meetingStages, type MeetingStage } from '../db/schema.ts'
import { AppError, type FieldError } from '../errors.ts'
import { usersWithRole } from '../escalations/cases.ts'
import type { Services } from '../services.ts'
import { currentMeetingLogs, recordMeetingLog } from './meeting-logs.ts'
import { isLocked, isSignedByBoth, versionQuery, type MeetingEnrolment, type Party, type User, type VersionRow } from './meetings.ts'
import { logQuestions, stageLabels } from './prompts.ts'
import { meetingsPath } from './schedule.ts'

// The meeting log (seed 000, Appendix 1) in versions. Either party writes it; a version can be edited
// until someone signs it; signing locks it. When the participant and the enrolment's line manager have
// both signed, the version becomes evidence (a meeting_logs row through recordMeetingLog, in the same
// transaction) and the delivery partner's leads are told. A signed log changes only through a new
// version (a copy of the last), which supersedes the evidence once both have signed it too.

export type Deps = Pick<Services, 'config' | 'email'>

export type LogInput = {
  heldOn: string
  stage: MeetingStage
  fatsCompleted: boolean
  fatsCompletedCount: number
  checkingIn: string
  keyPurposes: string
  responses: string[]
}

const MAX_TEXT = 5000

/** Problems with a log as written; an empty list when it may be saved. */
export function logProblems(input: {
  heldOn: string | null
  stage: string
  fatsCompleted: string
  fatsCompletedCount: string
  checkingIn: string
  keyPurposes: string
  responses: string[]
  today: string
}): FieldError[] {
  const problems: FieldError[] = []
  if (!input.heldOn) problems.push({ field: 'held_on-day', message: 'Enter the date of the meeting as a real date, for example 27 3 2026' })
  else if (input.heldOn > input.today)
    problems.push({ field: 'held_on-day', message: 'The date of the meeting must be today or in the past' })
  if (!meetingStages.includes(input.stage as MeetingStage))
    problems.push({ field: 'stage', message: 'Select the main stage of this meeting' })
  if (input.fatsCompleted !== 'yes' && input.fatsCompleted !== 'no')
    problems.push({ field: 'fats_completed', message: 'Select yes if module formative assessment tasks (FATs) were completed' })
  if (input.fatsCompleted === 'yes') {
    const n = Number(input.fatsCompletedCount)
    if (!/^\d{1,2}$/.test(input.fatsCompletedCount.trim()) || n < 1)
      problems.push({ field: 'fats_completed_count', message: 'Enter how many FATs were completed, as a whole number of 1 or more' })
  }
  if (!input.checkingIn) problems.push({ field: 'checking_in', message: 'Enter the checking-in and progress since the last meeting' })
  if (!input.keyPurposes) problems.push({ field: 'key_purposes', message: 'Enter the key purposes of the meeting' })
  const texts: [string, string][] = [
    ['checking_in', input.checkingIn],
    ['key_purposes', input.keyPurposes],
    ...input.responses.map((r, i): [string, string] => [`answer-${i}`, r]),
  ]
  for (const [field, value] of texts)
    if (value.length > MAX_TEXT) problems.push({ field, message: `Keep this to ${MAX_TEXT} characters or fewer` })
  return problems
}

function mustTakePart(e: MeetingEnrolment, party: Party, what: string) {
  if (party === 'reader') {
    throw new AppError(
      'validation-failed',
      `Only ${e.fullName} or their line manager${e.lineManagerName ? `, ${e.lineManagerName},` : ''} can ${what} this meeting log`,
    )
  }
}

async function latestVersion(trx: Trx, e: MeetingEnrolment, meetingNumber: number): Promise<VersionRow | undefined> {
  // Lock the meeting's versions so two people signing or editing at once take turns.
  await trx
    .selectFrom('meeting_log_versions')
    .select('id')
    .where('enrolment_id', '=', e.id)
    .where('meeting_number', '=', meetingNumber)
    .forUpdate()
    .execute()
  return versionQuery(trx)
    .where('v.enrolment_id', '=', e.id)
    .where('v.meeting_number', '=', meetingNumber)
    .orderBy('v.version', 'desc')
    .limit(1)
    .executeTakeFirst()
}

const answersOf = (responses: string[]) => JSON.stringify(logQuestions.map((question, i) => ({ question, response: responses[i] ?? '' })))
const auditView = (input: LogInput) => ({ ...input, responses: input.responses.map((r) => r.slice(0, 200)) })

/** Writes the log: the first version, or changes to the latest while nobody has signed it. */
export async function saveLog(trx: Trx, by: User, e: MeetingEnrolment, party: Party, meetingNumber: number, input: LogInput) {
  mustTakePart(e, party, 'write')
  if (meetingNumber < 1 || meetingNumber > e.meetingsRequired) throw new AppError('not-found', 'No such meeting')
  const latest = await latestVersion(trx, e, meetingNumber)
  const values = {
    held_on: input.heldOn,
    stage: input.stage,
    fats_completed: input.fatsCompleted,
    fats_completed_count: input.fatsCompleted ? input.fatsCompletedCount : 0,
    checking_in: input.checkingIn,
    key_purposes: input.keyPurposes,
    answers: answersOf(input.responses),
  }
  if (latest && isLocked(latest)) {
    throw new AppError(
      'validation-failed',
      `Version ${latest.version} of this log has been signed, so it cannot be changed. Start a new version to change it: both of you then sign it again.`,
    )
  }
  if (!latest) {
    const row = await trx
      .insertInto('meeting_log_versions')
      .values({ enrolment_id: e.id, meeting_number: meetingNumber, version: 1, created_by: by.userId, ...values })
      .returning('id')
      .executeTakeFirstOrThrow()
    await recordAudit(trx, {
      by,
      action: 'meeting-log-version.created',
      entityType: 'meeting-log-version',
      entityId: row.id,
      after: { enrolmentId: e.id, meetingNumber, version: 1, ...auditView(input) },
    })
    return row.id
  }
  await trx
    .updateTable('meeting_log_versions')
    .set({ ...values, updated_at: new Date() })
    .where('id', '=', latest.id)
    .execute()
  await recordAudit(trx, {
    by,
    action: 'meeting-log-version.edited',
    entityType: 'meeting-log-version',
    entityId: latest.id,
    before: {
      heldOn: latest.heldOn,
      stage: latest.stage,
      fatsCompleted: latest.fatsCompleted,
      fatsCompletedCount: latest.fatsCompletedCount,
      checkingIn: latest.checkingIn.slice(0, 200),
      keyPurposes: latest.keyPurposes.slice(0, 200),
    },
    after: { version: latest.version, ...auditView(input) },
  })
  return latest.id
}

/** A new version of a signed log: a copy of the last one, unsigned, to edit and sign again. */
export async function startNewVersion(trx: Trx, by: User, e: MeetingEnrolment, party: Party, meetingNumber: number) {
  mustTakePart(e, party, 'change')
  const latest = await latestVersion(trx, e, meetingNumber)
  if (!latest) throw new AppError('validation-failed', 'There is no log of this meeting yet: write it first')
  if (!isLocked(latest)) {
    throw new AppError('validation-failed', `Version ${latest.version} is not signed yet, so you can still change it`)
  }
  const row = await trx
    .insertInto('meeting_log_versions')
    .values({
      enrolment_id: e.id,
      meeting_number: meetingNumber,
      version: latest.version + 1,
      held_on: latest.heldOn,
      stage: latest.stage,
      fats_completed: latest.fatsCompleted,
      fats_completed_count: latest.fatsCompletedCount,
      checking_in: latest.checkingIn,
      key_purposes: latest.keyPurposes,
      answers: JSON.stringify(latest.answers),
      created_by: by.userId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'meeting-log-version.created',
    entityType: 'meeting-log-version',
    entityId: row.id,
    after: { enrolmentId: e.id, meetingNumber, version: latest.version + 1, copyOf: latest.id },
  })
  return row.id
}

export type SignOutcome = 'signed' | 'evidence'

/**
 * Signs the latest version as the participant or as the enrolment's line manager (nobody else). The
 * version the signer read must still be the latest. When both have signed, it becomes evidence.
 */
export async function signLog(
  trx: Trx,
  deps: Deps,
  by: User,
  e: MeetingEnrolment,
  party: Party,
  meetingNumber: number,
  versionId: string,
): Promise<SignOutcome> {
  mustTakePart(e, party, 'sign')
  const side = party === 'participant' ? 'participant' : 'line-manager'
  if (side === 'line-manager' && e.lineManagerUserId !== by.userId) {
    throw new AppError('validation-failed', `Only ${e.fullName}'s line manager can sign this meeting log`)
  }
  const latest = await latestVersion(trx, e, meetingNumber)
  if (!latest) throw new AppError('validation-failed', 'There is no log of this meeting to sign yet')
  if (latest.id !== versionId) {
    throw new AppError('validation-failed', `The log has changed since you opened it: read version ${latest.version} before signing`)
  }
  if (isSignedByBoth(latest)) throw new AppError('validation-failed', `Version ${latest.version} is already signed by both of you`)
  const already = side === 'participant' ? latest.participantSignedAt : latest.lineManagerSignedAt
  if (already) throw new AppError('validation-failed', `You have already signed version ${latest.version} of this log`)
  if (side === 'participant' && !e.lineManagerUserId) {
    // Signing alone would lock a log nobody can complete.
    throw new AppError(
      'validation-failed',
      'No line manager or mentor is named for this course yet: ask your delivery partner to add them before you sign',
    )
  }

  const now = new Date()
  const signature =
    side === 'participant'
      ? { participant_signed_at: now, participant_signed_by: by.userId }
      : { line_manager_signed_at: now, line_manager_signed_by: by.userId }
  await trx.updateTable('meeting_log_versions').set(signature).where('id', '=', latest.id).execute()
  await recordAudit(trx, {
    by,
    action: 'meeting-log-version.signed',
    entityType: 'meeting-log-version',
    entityId: latest.id,
    after: { as: side, meetingNumber, version: latest.version },
  })

  const link = `${deps.config.baseUrl}${meetingsPath(e.id)}/logs/${meetingNumber}`
  const bothSigned = side === 'participant' ? Boolean(latest.lineManagerSignedAt) : Boolean(latest.participantSignedAt)
  if (!bothSigned) {
    const other = side === 'participant' ? { name: e.lineManagerName, email: e.lineManagerEmail } : { name: e.fullName, email: e.email }
    if (other.email) {
      await deps.email.queue(trx, {
        to: other.email,
        subject: `Please sign the log of meeting ${meetingNumber}: ${e.fullName}`,
        body:
          [
            `Hello ${other.name ?? ''},`,
            `${by.fullName || 'The other person'} has signed version ${latest.version} of the log of line manager meeting ${meetingNumber} (${e.courseName}).`,
            `Read it and sign it here: ${link}`,
            side === 'participant'
              ? `You can sign in with a link emailed to you, no password needed: ${deps.config.baseUrl}/sign-in/email-link`
              : '',
          ]
            .filter(Boolean)
            .join('\n\n') + '\n',
      })
    }
    return 'signed'
  }

  // Both have signed: the version becomes the meeting's evidence (superseding an earlier version's).
  const fats = latest.fatsCompleted ? latest.fatsCompletedCount : 0
  await recordMeetingLog(trx, by, {
    participantId: e.participantId,
    courseIdentifier: e.courseIdentifier,
    meetingNumber,
    heldOn: latest.heldOn,
    signedByLineManager: true,
    signedByParticipant: true,
    fatsCompleted: fats,
  })
  const evidence = await currentMeetingLogs(trx)
    .select('m.id')
    .where('m.participant_id', '=', e.participantId)
    .where('m.course_identifier', '=', e.courseIdentifier)
    .where('m.meeting_number', '=', meetingNumber)
    .executeTakeFirstOrThrow()
  await trx.updateTable('meeting_log_versions').set({ meeting_log_id: evidence.id }).where('id', '=', latest.id).execute()
  await recordAudit(trx, {
    by,
    action: 'meeting-log-version.became-evidence',
    entityType: 'meeting-log-version',
    entityId: latest.id,
    after: { meetingLogId: evidence.id, version: latest.version },
  })

  if (e.deliveryPartnerId) {
    const lines = [
      `${e.fullName} and their line manager${e.lineManagerName ? `, ${e.lineManagerName},` : ''} have signed ${latest.version > 1 ? `version ${latest.version} of ` : ''}the log of meeting ${meetingNumber} (${e.courseName}, ${e.cohort}).`,
      `Held on ${latest.heldOn}; stage: ${stageLabels[latest.stage]}; module FATs completed: ${latest.fatsCompleted ? `yes (${fats})` : 'no'}.`,
      `Read it: ${link}`,
    ]
    for (const lead of await usersWithRole(trx, 'delivery-partner-lead', e.deliveryPartnerId)) {
      await deps.email.queue(trx, {
        to: lead.email,
        subject: `Signed meeting log: ${e.fullName}, meeting ${meetingNumber}`,
        body: [`Hello ${lead.full_name},`, ...lines].join('\n\n') + '\n',
      })
    }
  }
  return 'evidence'
}
