import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import type { EntryDecision, EntryOutcome } from '../db/schema.ts'
import { ASSESSMENT_GATE } from '../engagement/engine.ts'
import { AppError } from '../errors.ts'
import { formatDate } from '../escalations/cases.ts'
import type { Principal } from '../policy/principal.ts'
import { addDays } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { countWords } from './words.ts'
import { courseName, EXTENUATING_DAYS_AFTER, windowPhase, type AssessmentPolicy, type Window } from './windows.ts'

// Entry to the summative assessment, attempts, the response and extenuating circumstances
// (../shared/DOMAIN.md "Summative assessment"; issue 8 items 5 and 6).
//
// - At the 90% deadline each participant is entered (engagement ≥ 90%, the exact ratio), or not entered
//   (an attempt lost), or kept (below 90% with a deferral requested by the deadline: the attempt is kept).
// - An entered participant writes a draft during days 1–8 and submits it by the end of day 8 (London);
//   not submitted by then → the attempt is lost, unless extenuating circumstances are accepted (kept).
// - Attempts used: entries not entered, lost or submitted. The provider's policy allows two; the second
//   is sat in a later window the lead provider chooses; a third is refused.

type User = Principal & { kind: 'user' }
type Mail = Pick<Services, 'email' | 'config'>

/** The entry rule, pure: the exact ratio against 90% (never the rounded percentage), then a deferral. */
export function entryDecision(input: { ratio: number; deferralRequestedByDeadline: boolean }): EntryDecision {
  if (input.ratio >= ASSESSMENT_GATE) return 'entered'
  return input.deferralRequestedByDeadline ? 'kept' : 'not-entered'
}

/** The engagement recorded with a decision: truncated to 2 decimals, so 89.999% never shows as 90%. */
export const recordedPercent = (ratio: number) => Math.floor(ratio * 10000 + 1e-7) / 100

export type HistoryEntry = {
  id: string
  windowId: string
  attempt: number
  decision: EntryDecision
  outcome: EntryOutcome | null
  submittedAt: Date | null
  closesOn: string
  /** The released result of a submitted script, when there is one. */
  result: 'passed' | 'failed' | null
}

/** Whether an entry uses one of the participant's attempts. */
export const usesAttempt = (e: Pick<HistoryEntry, 'decision' | 'outcome'>) =>
  e.decision === 'not-entered' || e.outcome === 'lost' || e.outcome === 'submitted'

export type AttemptState = {
  used: number
  allowed: number
  /** Entered and not yet over (still to submit, or submitted and waiting for a result). */
  pending: boolean
  passed: boolean
  /** Used an attempt (or kept one) without passing, has one left, and has nothing pending: the provider chooses a later window. */
  needsNextAttempt: boolean
}

export function attemptState(history: Pick<HistoryEntry, 'decision' | 'outcome' | 'result'>[], allowed: number): AttemptState {
  const used = history.filter(usesAttempt).length
  const pending = history.some((e) => (e.decision === 'entered' && e.outcome === null) || (e.outcome === 'submitted' && e.result === null))
  const passed = history.some((e) => e.outcome === 'submitted' && e.result === 'passed')
  return { used, allowed, pending, passed, needsNextAttempt: history.length > 0 && !pending && !passed && used < allowed }
}

/** Every entry of these enrolments, oldest first, with the released result of marked scripts. */
export async function entryHistory(db: Db | Trx, enrolmentIds: string[]): Promise<Map<string, HistoryEntry[]>> {
  const result = new Map<string, HistoryEntry[]>()
  if (enrolmentIds.length === 0) return result
  const rows = await db
    .selectFrom('assessment_entries as a')
    .innerJoin('assessment_windows as w', 'w.id', 'a.window_id')
    .leftJoin('assessment_marks as m', 'm.entry_id', 'a.id')
    .select([
      'a.id',
      'a.enrolment_id',
      'a.window_id',
      'a.attempt',
      'a.decision',
      'a.outcome',
      'a.submitted_at',
      sql<string>`w.closes_on::text`.as('closes_on'),
      sql<'passed' | 'failed' | null>`case when w.results_released_at is not null then coalesce(m.moderated_result, m.result) end`.as(
        'result',
      ),
    ])
    .where('a.enrolment_id', 'in', enrolmentIds)
    .orderBy('w.opens_on')
    .orderBy('a.attempt')
    .execute()
  for (const r of rows) {
    const list = result.get(r.enrolment_id) ?? []
    list.push({
      id: r.id,
      windowId: r.window_id,
      attempt: r.attempt,
      decision: r.decision,
      outcome: r.outcome,
      submittedAt: r.submitted_at ? new Date(r.submitted_at) : null,
      closesOn: r.closes_on,
      result: r.result,
    })
    result.set(r.enrolment_id, list)
  }
  return result
}

// ---- Who a decision is about ----

export type EnrolmentPerson = {
  enrolmentId: string
  participantId: string
  participantUserId: string | null
  fullName: string
  email: string
  leadProviderId: string
  leadProviderCode: string
  courseIdentifier: string
  cohort: string
  status: string
}

export function selectEnrolmentPeople(db: Db | Trx) {
  return db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select([
      'e.id as enrolmentId',
      'p.id as participantId',
      'p.user_id as participantUserId',
      'p.full_name as fullName',
      'p.email',
      'e.lead_provider_id as leadProviderId',
      'lp.code as leadProviderCode',
      'e.course_identifier as courseIdentifier',
      'e.cohort',
      'e.status',
    ])
}

// ---- The participant's entry ----

export type Entry = {
  id: string
  windowId: string
  enrolmentId: string
  attempt: number
  decision: EntryDecision
  engagementPercent: string | null
  draft: string
  draftWordCount: number
  draftSavedAt: Date | null
  submittedText: string | null
  submittedWordCount: number | null
  submittedAt: Date | null
  outcome: EntryOutcome | null
}

export async function loadEntry(db: Db | Trx, id: string): Promise<Entry | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined
  const r = await db.selectFrom('assessment_entries').selectAll().where('id', '=', id).executeTakeFirst()
  if (!r) return undefined
  return {
    id: r.id,
    windowId: r.window_id,
    enrolmentId: r.enrolment_id,
    attempt: r.attempt,
    decision: r.decision,
    engagementPercent: r.engagement_percent,
    draft: r.draft,
    draftWordCount: r.draft_word_count,
    draftSavedAt: r.draft_saved_at ? new Date(r.draft_saved_at) : null,
    submittedText: r.submitted_text,
    submittedWordCount: r.submitted_word_count,
    submittedAt: r.submitted_at ? new Date(r.submitted_at) : null,
    outcome: r.outcome,
  }
}

/** Why the response cannot be edited now, or null when it can. */
export function editRefusal(entry: Entry, w: Window, today: string): string | null {
  if (entry.decision !== 'entered') return 'You are not entered for this assessment window'
  if (entry.submittedAt) return 'Your response is submitted: it can no longer be changed'
  if (entry.outcome === 'kept') return 'Your extenuating circumstances were accepted: this attempt is kept for a later window'
  const phase = windowPhase(w, today)
  if (phase === 'upcoming') return `The assessment opens on ${formatDate(w.opensOn)}`
  if (phase === 'closed')
    return `The assessment window closed at the end of ${formatDate(w.closesOn)}: responses can no longer be changed or submitted`
  return null
}

/**
 * Saves the draft with the server's word count. Drafts are the participant's working copy, saved every
 * 20 seconds while they write: not audited (the submission is).
 */
export async function saveDraft(db: Db | Trx, entry: Entry, w: Window, text: string, today: string) {
  const refusal = editRefusal(entry, w, today)
  if (refusal) throw new AppError('invalid-transition', refusal)
  const wordCount = countWords(text)
  const savedAt = new Date()
  await db
    .updateTable('assessment_entries')
    .set({ draft: text, draft_word_count: wordCount, draft_saved_at: savedAt })
    .where('id', '=', entry.id)
    .where('submitted_at', 'is', null)
    .execute()
  return { wordCount, savedAt }
}

/** Why a response of this many words cannot be submitted (limits from the window and the provider's policy). */
export function wordLimitRefusal(words: number, maxWords: number, minWords: number | null): string | null {
  if (words === 0) return 'Write your response before you submit it'
  if (words > maxWords)
    return `Your response is ${words.toLocaleString('en-GB')} words: the maximum is ${maxWords.toLocaleString('en-GB')}. Shorten it by ${(words - maxWords).toLocaleString('en-GB')} words and submit again: your draft is saved`
  if (minWords && words < minWords)
    return `Your response is ${words.toLocaleString('en-GB')} words: the minimum is ${minWords.toLocaleString('en-GB')}. Your draft is saved`
  return null
}

/**
 * Submits the response (the draft must already hold this text: a refused submission keeps it). Accepted
 * from day 1 to the end of day 8 (London), within the word limits, once.
 */
export async function submitResponse(trx: Trx, by: User, entry: Entry, w: Window, text: string, policy: AssessmentPolicy, today: string) {
  const refusal = editRefusal(entry, w, today) ?? wordLimitRefusal(countWords(text), w.maxWords, policy.minWords)
  if (refusal) throw new AppError('validation-failed', refusal, [{ field: 'response', message: refusal }])
  const words = countWords(text)
  const updated = await trx
    .updateTable('assessment_entries')
    .set({
      draft: text,
      draft_word_count: words,
      draft_saved_at: new Date(),
      submitted_text: text,
      submitted_word_count: words,
      submitted_at: new Date(),
      outcome: 'submitted',
    })
    .where('id', '=', entry.id)
    .where('submitted_at', 'is', null)
    .returning('id')
    .executeTakeFirst()
  if (!updated) throw new AppError('invalid-transition', 'Your response is already submitted')
  await recordAudit(trx, {
    by,
    action: 'assessment-entry.submitted',
    entityType: 'assessment_entry',
    entityId: entry.id,
    after: { word_count: words, window_id: w.id, attempt: entry.attempt },
  })
}

// ---- Extenuating circumstances ----

export type Extenuating = {
  id: string
  reason: string
  requestedAt: Date
  decision: 'accepted' | 'declined' | null
  decisionReason: string | null
  decidedAt: Date | null
}

export async function extenuatingOf(db: Db | Trx, entryId: string): Promise<Extenuating[]> {
  const rows = await db
    .selectFrom('extenuating_circumstances')
    .selectAll()
    .where('entry_id', '=', entryId)
    .orderBy('requested_at')
    .execute()
  return rows.map((r) => ({
    id: r.id,
    reason: r.reason,
    requestedAt: new Date(r.requested_at),
    decision: r.decision,
    decisionReason: r.decision_reason,
    decidedAt: r.decided_at ? new Date(r.decided_at) : null,
  }))
}

/** Why extenuating circumstances cannot be requested for this entry now, or null. */
export function extenuatingRefusal(entry: Entry, w: Window, today: string, open: boolean): string | null {
  if (entry.decision !== 'entered') return 'Extenuating circumstances are for participants entered for the assessment'
  if (entry.submittedAt) return 'Your response is submitted: extenuating circumstances no longer apply'
  if (entry.outcome === 'kept') return 'Your extenuating circumstances are already accepted'
  if (open) return 'Your request is waiting for a decision'
  if (today < w.opensOn) return `Extenuating circumstances can be requested from ${formatDate(w.opensOn)}`
  const last = addDays(w.closesOn, EXTENUATING_DAYS_AFTER)
  if (today > last) return `Extenuating circumstances had to be requested by ${formatDate(last)}`
  return null
}

export async function requestExtenuating(trx: Trx, by: User, entry: Entry, w: Window, reason: string, today: string): Promise<string> {
  const open = (await extenuatingOf(trx, entry.id)).some((x) => x.decision === null)
  const refusal = extenuatingRefusal(entry, w, today, open)
  if (refusal) throw new AppError('invalid-transition', refusal)
  if (!reason.trim())
    throw new AppError('validation-failed', 'Enter what happened', [
      { field: 'reason', message: 'Enter what happened and how it stopped you submitting' },
    ])
  const row = await trx
    .insertInto('extenuating_circumstances')
    .values({ entry_id: entry.id, reason: reason.trim(), requested_by: by.userId })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'extenuating-circumstances.requested',
    entityType: 'assessment_entry',
    entityId: entry.id,
    after: { reason },
  })
  return row.id
}

/**
 * The lead provider's decision. Accepted: the attempt is kept (outcome kept; it does not count). Declined:
 * after the window, the entry not submitted is lost (the daily job would make it so anyway).
 */
export async function decideExtenuating(
  trx: Trx,
  mail: Mail,
  by: User,
  ecId: string,
  decision: 'accepted' | 'declined',
  reason: string,
  today: string,
): Promise<void> {
  const ec = await trx.selectFrom('extenuating_circumstances').selectAll().where('id', '=', ecId).forUpdate().executeTakeFirst()
  if (!ec) throw new AppError('not-found', 'Request not found')
  if (ec.decision) throw new AppError('invalid-transition', 'This request is already decided')
  if (decision === 'declined' && !reason.trim())
    throw new AppError('validation-failed', 'Enter why the request is declined', [
      { field: 'decision_reason', message: 'Enter why the request is declined' },
    ])
  const entry = (await loadEntry(trx, ec.entry_id))!
  await trx
    .updateTable('extenuating_circumstances')
    .set({ decision, decision_reason: reason.trim() || null, decided_by: by.userId, decided_at: new Date() })
    .where('id', '=', ecId)
    .execute()
  const w = (await trx
    .selectFrom('assessment_windows')
    .select([sql<string>`closes_on::text`.as('closes_on'), 'course_identifier'])
    .where('id', '=', entry.windowId)
    .executeTakeFirstOrThrow())!
  let outcome: EntryOutcome | null = entry.outcome
  if (!entry.submittedAt) {
    if (decision === 'accepted') outcome = 'kept'
    else if (today > w.closes_on) outcome = 'lost'
    if (outcome !== entry.outcome) await trx.updateTable('assessment_entries').set({ outcome }).where('id', '=', entry.id).execute()
  }
  await recordAudit(trx, {
    by,
    action: `extenuating-circumstances.${decision}`,
    entityType: 'assessment_entry',
    entityId: entry.id,
    before: { outcome: entry.outcome },
    after: { outcome, reason: reason.trim() || null },
  })
  const person = await selectEnrolmentPeople(trx).where('e.id', '=', entry.enrolmentId).executeTakeFirstOrThrow()
  await mail.email.queue(trx, {
    to: person.email,
    subject: `Your extenuating circumstances are ${decision}`,
    body:
      [
        `Hello ${person.fullName},`,
        decision === 'accepted'
          ? `Your extenuating circumstances for the ${courseName(w.course_identifier)} assessment are accepted: this attempt does not count, and you will sit the assessment in a later window.`
          : `Your extenuating circumstances for the ${courseName(w.course_identifier)} assessment are declined${reason.trim() ? `: ${reason.trim()}` : ''}.${outcome === 'lost' ? ' As no response was submitted, this attempt is lost.' : ''}`,
        `${mail.config.baseUrl}/participant/assessment`,
      ].join('\n\n') + '\n',
  })
}

// ---- The second attempt, in a later window the lead provider chooses ----

/**
 * Enters a participant for their next attempt in a later window of their course. The 90% gate was
 * applied at their first attempt's deadline, and the lead provider has reviewed their engagement in
 * choosing (the page shows it): so the choice enters them directly (decision entered, decided by the
 * admin), with today's engagement recorded beside it. A third attempt (beyond the policy) is refused.
 */
export async function enterNextAttempt(
  trx: Trx,
  mail: Mail,
  by: User,
  input: { enrolmentId: string; window: Window; attemptsAllowed: number; engagementRatio: number | null; today: string },
): Promise<string> {
  const { window: w, today } = input
  const person = await selectEnrolmentPeople(trx).where('e.id', '=', input.enrolmentId).forUpdate(['e']).executeTakeFirst()
  if (!person || person.leadProviderId !== w.leadProviderId) throw new AppError('not-found', 'Participant not found')
  const fail = (message: string) => new AppError('validation-failed', message, [{ field: 'window', message }])
  if (person.courseIdentifier !== w.courseIdentifier) throw fail(`Choose a ${courseName(person.courseIdentifier)} window`)
  if (!['active', 'deferred'].includes(person.status)) throw fail(`${person.fullName} is ${person.status}: they cannot be entered`)
  const history = (await entryHistory(trx, [person.enrolmentId])).get(person.enrolmentId) ?? []
  const state = attemptState(history, input.attemptsAllowed)
  if (state.passed) throw fail(`${person.fullName} has passed the assessment`)
  if (state.used >= state.allowed)
    throw fail(
      `${person.fullName} has used ${state.used} of ${state.allowed} attempts: a ${ordinal(state.used + 1)} attempt is not allowed`,
    )
  if (state.pending) throw fail(`${person.fullName} is already entered for a window that is not over`)
  if (history.some((h) => h.windowId === w.id)) throw fail(`${person.fullName} already has an entry in this window`)
  const last = history.at(-1)
  if (last && w.opensOn <= last.closesOn) throw fail('Choose a window that opens after their last window closed')
  if (today > w.closesOn) throw fail('That window has closed: choose a later one')
  const attempt = state.used + 1
  const row = await trx
    .insertInto('assessment_entries')
    .values({
      window_id: w.id,
      enrolment_id: person.enrolmentId,
      attempt,
      decision: 'entered',
      engagement_percent: input.engagementRatio === null ? null : recordedPercent(input.engagementRatio),
      decided_by: by.userId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'assessment-entry.entered-for-next-attempt',
    entityType: 'assessment_entry',
    entityId: row.id,
    after: { enrolment_id: person.enrolmentId, window_id: w.id, attempt },
  })
  await mail.email.queue(trx, entryEmail(mail, person, w, 'entered', attempt, null))
  return row.id
}

export const ordinal = (n: number) => ['zeroth', 'first', 'second', 'third', 'fourth', 'fifth'][n] ?? `${n}th`

/** The email telling a participant their entry decision. */
export function entryEmail(
  mail: Mail,
  person: Pick<EnrolmentPerson, 'email' | 'fullName'>,
  w: Window,
  decision: EntryDecision,
  attempt: number,
  percent: number | null,
) {
  const course = courseName(w.courseIdentifier)
  const engagement = percent === null ? '' : ` Your engagement at the deadline (${formatDate(w.engagementDeadline)}) was ${percent}%.`
  const text = {
    entered: `You are entered for the ${course} summative assessment (attempt ${attempt}).${engagement} The window opens on ${formatDate(w.opensOn)}, when the case study is released, and closes at the end of ${formatDate(w.closesOn)}. Your response can be up to ${w.maxWords.toLocaleString('en-GB')} words.`,
    'not-entered': `You are not entered for the ${course} summative assessment in the window opening on ${formatDate(w.opensOn)}: you needed 90% engagement by ${formatDate(w.engagementDeadline)}.${engagement} This counts as one of your attempts. Your delivery partner will talk to you about your next one.`,
    kept: `You are not entered for the ${course} summative assessment in the window opening on ${formatDate(w.opensOn)}.${engagement} As you asked to defer before the deadline, you keep your attempt for a later window.`,
  }[decision]
  return {
    to: person.email,
    subject: decision === 'entered' ? `You are entered for the ${course} assessment` : `Your ${course} assessment entry`,
    body: [`Hello ${person.fullName},`, text, `${mail.config.baseUrl}/participant/assessment`].join('\n\n') + '\n',
  }
}

// ---- For marking ----

export type SubmittedEntry = { entryId: string; attempt: number; submittedWordCount: number; submittedAt: Date; submittedText: string }

/** A window's submitted responses, oldest submission first: no name or TRN (marking is anonymous). */
export async function submittedEntries(db: Db | Trx, windowId: string): Promise<SubmittedEntry[]> {
  const rows = await db
    .selectFrom('assessment_entries')
    .select(['id', 'attempt', 'submitted_word_count', 'submitted_at', 'submitted_text'])
    .where('window_id', '=', windowId)
    .where('submitted_at', 'is not', null)
    .orderBy('submitted_at')
    .execute()
  return rows.map((r) => ({
    entryId: r.id,
    attempt: r.attempt,
    submittedWordCount: r.submitted_word_count ?? 0,
    submittedAt: new Date(r.submitted_at!),
    submittedText: r.submitted_text ?? '',
  }))
}
