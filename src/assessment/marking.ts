import crypto from 'node:crypto'
import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf, londonMoment } from '../dates/london.ts'
import type { Db, Trx } from '../db/database.ts'
import { liveDeclarationStates } from '../db/schema.ts'
import { queueDfeRequest } from '../dfe/requests.ts'
import { AppError, type FieldError } from '../errors.ts'
import { can } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'

// Marking, moderation and releasing the summative assessment's results (issue 8, item 7).
//
// 1. Allocation: once a window has closed (the day after day 8, London), a lead-provider admin
//    allocates its submitted responses ("scripts") to the lead provider's assessors, spread evenly, and
//    can re-allocate an unmarked script. Each script gets a random reference (S-7K3Q9) that says nothing
//    about the person; assessors and moderators see the script by that reference only (no name, TRN,
//    email, school or delivery partner).
// 2. Marking: the assessor records a mark (0–100), a result (passed or failed) and feedback, and can
//    change them until the script is moderated, external moderation is recorded or results are released.
// 3. Internal moderation of a sample, drawn when every script is marked (and drawn again whenever a mark
//    changes before external moderation, keeping the scripts already moderated). The rule (sampleOf):
//    scripts are put in a random but reproducible order (SHA-256 of the window id and the entry id);
//    the sample is the first script of each assessor in that order, every script near or across the
//    pass-mark guide (failed with a mark of 40 or more, or passed with a mark under 50), and then more
//    scripts in that order until it holds at least 10% of the window's scripts (rounded up). A moderator
//    agrees or changes each sampled script's result, with notes (required when they change it); nobody
//    moderates a script they marked.
// 4. External moderation: the admin records the date it was done for the window (after the internal
//    moderation); marks and internal moderation are then fixed.
// 5. Release: all the window's results together, once every script is marked, the sample moderated and
//    external moderation recorded. In one transaction: an assessment_attempts row per script (the
//    outputs' evidence for `completed`: result = the moderated result where moderated, else the
//    assessor's), audit entries, an email to each participant with their result and feedback, one to
//    each delivery partner's leads, and DfE's post-outcome where a completed declaration already
//    exists (a later result, e.g. a resit). Nothing changes a mark after release.

export const MARK_MAX = 100
/** The pass-mark guide: the result is the assessor's judgement; scripts across or near it are moderated. */
export const PASS_MARK_GUIDE = 50
/** Failed scripts with at least this mark are "near the boundary" and always moderated. */
export const NEAR_BOUNDARY_FROM = 40
export const SAMPLE_FRACTION = 0.1

export type Result = 'passed' | 'failed'

// ---- Pure rules ----

const referenceAlphabet = '23456789ABCDEFGHJKMNPQRSTVWXYZ'

/** A random script reference, e.g. S-7K3Q9: never derived from the person. */
export function newScriptReference(): string {
  let s = 'S-'
  for (let i = 0; i < 5; i++) s += referenceAlphabet[crypto.randomInt(referenceAlphabet.length)]
  return s
}

export type SampleScript = { entryId: string; assessorUserId: string; mark: number | null; result: Result | null; moderated: boolean }

const sampleOrderKey = (windowId: string, entryId: string) => crypto.createHash('sha256').update(`${windowId}:${entryId}`).digest('hex')

/** The entries in the moderation sample of a window's scripts (see the rule at the top of this file). */
export function sampleOf(windowId: string, scripts: SampleScript[]): Set<string> {
  const ordered = [...scripts].sort((a, b) => sampleOrderKey(windowId, a.entryId).localeCompare(sampleOrderKey(windowId, b.entryId)))
  const sample = new Set<string>()
  for (const s of ordered) if (s.moderated) sample.add(s.entryId)
  const assessors = new Set<string>()
  for (const s of ordered) {
    if (assessors.has(s.assessorUserId)) continue
    assessors.add(s.assessorUserId)
    sample.add(s.entryId)
  }
  for (const s of ordered) {
    if (s.mark === null) continue
    if ((s.result === 'failed' && s.mark >= NEAR_BOUNDARY_FROM) || (s.result === 'passed' && s.mark < PASS_MARK_GUIDE))
      sample.add(s.entryId)
  }
  const wanted = Math.ceil(scripts.length * SAMPLE_FRACTION)
  for (const s of ordered) {
    if (sample.size >= wanted) break
    sample.add(s.entryId)
  }
  return sample
}

/** Spreads new scripts over assessors: each to the one with the fewest so far (ties by the order given). */
export function spread(newScripts: number, loads: { userId: string; scripts: number }[]): string[] {
  const current = loads.map((l) => ({ ...l }))
  const out: string[] = []
  for (let i = 0; i < newScripts; i++) {
    let least = current[0]!
    for (const l of current) if (l.scripts < least.scripts) least = l
    least.scripts++
    out.push(least.userId)
  }
  return out
}

// ---- Loading ----

const validationFailed = (message: string, fieldErrors: FieldError[] = []) => new AppError('validation-failed', message, fieldErrors)

export type MarkingWindow = {
  id: string
  leadProviderId: string
  courseIdentifier: string
  courseName: string
  cohort: string
  opensOn: string
  closesOn: string
  caseStudyTitle: string
  externallyModeratedAt: Date | null
  externallyModeratedByName: string | null
  resultsReleasedAt: Date | null
  resultsReleasedByName: string | null
  closed: boolean
}

const isUuid = (s: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)
const dateOf = (v: Date | string | null): Date | null => (v === null ? null : new Date(v))
const courseName = (identifier: string) => findCourse(identifier)?.name ?? identifier

export async function loadMarkingWindow(db: Db | Trx, windowId: string): Promise<MarkingWindow | null> {
  if (!isUuid(windowId)) return null
  const w = await db
    .selectFrom('assessment_windows as w')
    .leftJoin('users as x', 'x.id', 'w.externally_moderated_by')
    .leftJoin('users as r', 'r.id', 'w.results_released_by')
    .select([
      'w.id',
      'w.lead_provider_id',
      'w.course_identifier',
      'w.cohort',
      'w.opens_on',
      'w.closes_on',
      'w.case_study_title',
      'w.externally_moderated_at',
      'w.results_released_at',
      'x.full_name as externally_moderated_by_name',
      'r.full_name as results_released_by_name',
    ])
    .where('w.id', '=', windowId)
    .executeTakeFirst()
  if (!w) return null
  const closesOn = String(w.closes_on)
  return {
    id: w.id,
    leadProviderId: w.lead_provider_id,
    courseIdentifier: w.course_identifier,
    courseName: courseName(w.course_identifier),
    cohort: w.cohort,
    opensOn: String(w.opens_on),
    closesOn,
    caseStudyTitle: w.case_study_title,
    externallyModeratedAt: dateOf(w.externally_moderated_at),
    externallyModeratedByName: w.externally_moderated_by_name,
    resultsReleasedAt: dateOf(w.results_released_at),
    resultsReleasedByName: w.results_released_by_name,
    closed: londonDateOf(new Date()) > closesOn,
  }
}

/** A lead provider's windows with their marking progress, latest first. */
export async function markingWindows(db: Db, leadProviderIds: string[]) {
  if (!leadProviderIds.length) return []
  const rows = await db
    .selectFrom('assessment_windows as w')
    .select((eb) => [
      'w.id',
      'w.course_identifier',
      'w.cohort',
      'w.opens_on',
      'w.closes_on',
      'w.externally_moderated_at',
      'w.results_released_at',
      eb
        .selectFrom('assessment_entries as e')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('e.window_id', '=', 'w.id')
        .where('e.submitted_at', 'is not', null)
        .as('submitted'),
      eb
        .selectFrom('assessment_marks as m')
        .innerJoin('assessment_entries as e', 'e.id', 'm.entry_id')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('e.window_id', '=', 'w.id')
        .as('allocated'),
      eb
        .selectFrom('assessment_marks as m')
        .innerJoin('assessment_entries as e', 'e.id', 'm.entry_id')
        .select(sql<number>`count(*)::int`.as('n'))
        .whereRef('e.window_id', '=', 'w.id')
        .where('m.marked_at', 'is not', null)
        .as('marked'),
    ])
    .where('w.lead_provider_id', 'in', leadProviderIds)
    .orderBy('w.opens_on', 'desc')
    .orderBy('w.course_identifier')
    .execute()
  const today = londonDateOf(new Date())
  return rows.map((w) => ({
    id: w.id,
    courseName: courseName(w.course_identifier),
    cohort: w.cohort,
    opensOn: String(w.opens_on),
    closesOn: String(w.closes_on),
    closed: today > String(w.closes_on),
    submitted: w.submitted ?? 0,
    allocated: w.allocated ?? 0,
    marked: w.marked ?? 0,
    externallyModerated: w.externally_moderated_at !== null,
    released: w.results_released_at !== null,
  }))
}

export type AdminScript = {
  entryId: string
  markId: string | null
  reference: string | null
  participantName: string
  deliveryPartnerName: string | null
  attempt: number
  wordCount: number | null
  assessorUserId: string | null
  assessorName: string | null
  mark: number | null
  result: Result | null
  markedAt: Date | null
  inSample: boolean
  moderatedResult: Result | null
  moderatedAt: Date | null
  moderatorName: string | null
}

/** Every submitted script of a window, for the lead provider's admins (who may see who wrote it). */
export async function windowScripts(db: Db | Trx, windowId: string): Promise<AdminScript[]> {
  const rows = await db
    .selectFrom('assessment_entries as e')
    .innerJoin('enrolments as en', 'en.id', 'e.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'en.participant_id')
    .leftJoin('organisations as dp', 'dp.id', 'en.delivery_partner_id')
    .leftJoin('assessment_marks as m', 'm.entry_id', 'e.id')
    .leftJoin('users as a', 'a.id', 'm.assessor_user_id')
    .leftJoin('users as mo', 'mo.id', 'm.moderated_by')
    .select([
      'e.id as entry_id',
      'e.attempt',
      'e.submitted_word_count',
      'p.full_name',
      'dp.name as dp_name',
      'm.id as mark_id',
      'm.script_reference',
      'm.assessor_user_id',
      'a.full_name as assessor_name',
      'm.mark',
      'm.result',
      'm.marked_at',
      'm.in_moderation_sample',
      'm.moderated_result',
      'm.moderated_at',
      'mo.full_name as moderator_name',
    ])
    .where('e.window_id', '=', windowId)
    .where('e.submitted_at', 'is not', null)
    .orderBy('m.script_reference')
    .orderBy('p.full_name')
    .execute()
  return rows.map((r) => ({
    entryId: r.entry_id,
    markId: r.mark_id,
    reference: r.script_reference,
    participantName: r.full_name,
    deliveryPartnerName: r.dp_name,
    attempt: r.attempt,
    wordCount: r.submitted_word_count,
    assessorUserId: r.assessor_user_id,
    assessorName: r.assessor_name,
    mark: r.mark,
    result: r.result,
    markedAt: dateOf(r.marked_at),
    inSample: r.in_moderation_sample === true,
    moderatedResult: r.moderated_result,
    moderatedAt: dateOf(r.moderated_at),
    moderatorName: r.moderator_name,
  }))
}

/** The lead provider's active assessors. */
export async function assessorsOf(db: Db | Trx, leadProviderId: string) {
  return db
    .selectFrom('role_assignments as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id', 'u.full_name', 'u.email'])
    .where('r.role', '=', 'assessor')
    .where('r.organisation_id', '=', leadProviderId)
    .where('u.status', '=', 'active')
    .orderBy('u.full_name')
    .orderBy('u.email')
    .execute()
}

/** What still stands in the way of releasing a window's results (empty: it can be released). */
export function releaseProblems(window: MarkingWindow, scripts: AdminScript[]): string[] {
  if (window.resultsReleasedAt) return ['The results of this window are already released']
  if (!window.closed) return [`The window is still open: it closes at the end of ${window.closesOn}`]
  if (!scripts.length) return ['No responses were submitted in this window']
  const problems: string[] = []
  const unallocated = scripts.filter((s) => !s.markId).length
  const unmarked = scripts.filter((s) => s.markId && !s.markedAt).length
  const unmoderated = scripts.filter((s) => s.inSample && !s.moderatedAt).length
  const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`
  if (unallocated) problems.push(`${plural(unallocated, 'script is', 'scripts are')} not allocated to an assessor`)
  if (unmarked) problems.push(`${plural(unmarked, 'script is', 'scripts are')} not marked yet`)
  if (!unallocated && !unmarked && !scripts.some((s) => s.inSample)) problems.push('The moderation sample is not drawn yet')
  if (unmoderated)
    problems.push(
      `${plural(unmoderated, 'script', 'scripts')} in the moderation sample ${unmoderated === 1 ? 'is' : 'are'} not moderated yet`,
    )
  if (!window.externallyModeratedAt) problems.push('External moderation is not recorded yet')
  return problems
}

// ---- Allocation ----

async function lockWindow(trx: Trx, windowId: string) {
  if (!isUuid(windowId)) throw new AppError('not-found', 'Assessment window not found')
  await trx.selectFrom('assessment_windows').select('id').where('id', '=', windowId).forUpdate().execute()
  const w = await loadMarkingWindow(trx, windowId)
  if (!w) throw new AppError('not-found', 'Assessment window not found')
  return w
}

async function uniqueReferences(trx: Trx, n: number): Promise<string[]> {
  const out = new Set<string>()
  while (out.size < n) {
    const candidates = Array.from({ length: (n - out.size) * 2 }, newScriptReference).filter((c) => !out.has(c))
    const taken = new Set(
      (await trx.selectFrom('assessment_marks').select('script_reference').where('script_reference', 'in', candidates).execute()).map(
        (r) => r.script_reference,
      ),
    )
    for (const c of candidates) if (!taken.has(c) && out.size < n) out.add(c)
  }
  return [...out]
}

const appUrl = (services: Pick<Services, 'config'>, path: string) => `${services.config.baseUrl.replace(/\/$/, '')}${path}`

/** Allocates every submitted, unallocated script of a closed window to the lead provider's assessors, evenly. */
export async function allocateScripts(trx: Trx, services: Services, by: Principal, windowId: string): Promise<number> {
  const w = await lockWindow(trx, windowId)
  if (w.resultsReleasedAt) throw validationFailed('The results of this window are already released')
  if (!w.closed) throw validationFailed(`Scripts are allocated after the window closes (the end of ${w.closesOn})`)
  const assessors = await assessorsOf(trx, w.leadProviderId)
  if (!assessors.length) throw validationFailed('Your organisation has no assessors: invite one from Team first')
  const scripts = await windowScripts(trx, windowId)
  const unallocated = scripts.filter((s) => !s.markId)
  if (!unallocated.length) throw validationFailed('Every submitted script is already allocated')
  const loads = assessors.map((a) => ({ userId: a.id, scripts: scripts.filter((s) => s.assessorUserId === a.id).length }))
  // A random order, so that who marks whom follows nothing about the people.
  const shuffled = [...unallocated]
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = crypto.randomInt(i + 1)
    ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
  }
  const to = spread(shuffled.length, loads)
  const references = await uniqueReferences(trx, shuffled.length)
  const byUser = by.kind === 'user' ? by.userId : null
  const counts = new Map<string, number>()
  for (const [i, s] of shuffled.entries()) {
    const row = await trx
      .insertInto('assessment_marks')
      .values({ entry_id: s.entryId, script_reference: references[i]!, assessor_user_id: to[i]!, allocated_by: byUser })
      .returning('id')
      .executeTakeFirstOrThrow()
    await recordAudit(trx, {
      by,
      action: 'assessment-script.allocated',
      entityType: 'assessment-mark',
      entityId: row.id,
      after: { entry_id: s.entryId, script_reference: references[i], assessor_user_id: to[i] },
    })
    counts.set(to[i]!, (counts.get(to[i]!) ?? 0) + 1)
  }
  for (const a of assessors) {
    const n = counts.get(a.id)
    if (!n) continue
    await services.email.queue(trx, {
      to: a.email,
      subject: `Scripts to mark: ${w.courseName}, ${w.cohort}`,
      body:
        [
          `Hello ${a.full_name},`,
          `You have ${n} new summative assessment script${n === 1 ? '' : 's'} to mark for ${w.courseName} (${w.cohort}).`,
          `Your scripts: ${appUrl(services, '/assessor/scripts')}`,
        ].join('\n\n') + '\n',
    })
  }
  return shuffled.length
}

/** Gives an unmarked script to another assessor of the lead provider. */
export async function reallocateScript(trx: Trx, by: Principal, windowId: string, markId: string, assessorUserId: string): Promise<void> {
  const w = await lockWindow(trx, windowId)
  if (w.resultsReleasedAt) throw validationFailed('The results of this window are already released')
  const script = (await windowScripts(trx, windowId)).find((s) => s.markId === markId)
  if (!script) throw validationFailed('Choose a script of this window', [{ field: 'script', message: 'Choose a script of this window' }])
  if (script.markedAt) {
    const message = `${script.reference} is already marked: only unmarked scripts can be re-allocated`
    throw validationFailed(message, [{ field: 'script', message }])
  }
  if (!(await assessorsOf(trx, w.leadProviderId)).some((a) => a.id === assessorUserId)) {
    throw validationFailed('Choose one of your assessors', [{ field: 'assessor', message: 'Choose one of your assessors' }])
  }
  if (script.assessorUserId === assessorUserId) {
    const message = `${script.reference} is already allocated to ${script.assessorName}`
    throw validationFailed(message, [{ field: 'assessor', message }])
  }
  await trx.updateTable('assessment_marks').set({ assessor_user_id: assessorUserId }).where('id', '=', markId).execute()
  await recordAudit(trx, {
    by,
    action: 'assessment-script.reallocated',
    entityType: 'assessment-mark',
    entityId: markId,
    before: { assessor_user_id: script.assessorUserId },
    after: { assessor_user_id: assessorUserId },
  })
  await redrawSample(trx, windowId)
}

// ---- Scripts as assessors and moderators see them: by reference, nothing about the person ----

export type AnonymousScript = {
  markId: string
  reference: string
  windowId: string
  leadProviderId: string
  courseName: string
  cohort: string
  opensOn: string
  closesOn: string
  caseStudyTitle: string
  text: string
  wordCount: number | null
  maxWords: number
  assessorUserId: string
  assessorName: string
  mark: number | null
  result: Result | null
  feedback: string | null
  markedAt: Date | null
  inSample: boolean
  moderatedBy: string | null
  moderatorName: string | null
  moderatedAt: Date | null
  moderatedResult: Result | null
  moderationNotes: string | null
  externallyModerated: boolean
  released: boolean
}

function anonymousScripts(db: Db | Trx) {
  return db
    .selectFrom('assessment_marks as m')
    .innerJoin('assessment_entries as e', 'e.id', 'm.entry_id')
    .innerJoin('assessment_windows as w', 'w.id', 'e.window_id')
    .innerJoin('users as a', 'a.id', 'm.assessor_user_id')
    .leftJoin('users as mo', 'mo.id', 'm.moderated_by')
    .select([
      'm.id',
      'm.script_reference',
      'w.id as window_id',
      'w.lead_provider_id',
      'w.course_identifier',
      'w.cohort',
      'w.opens_on',
      'w.closes_on',
      'w.case_study_title',
      'w.max_words',
      'w.externally_moderated_at',
      'w.results_released_at',
      'e.submitted_text',
      'e.submitted_word_count',
      'm.assessor_user_id',
      'a.full_name as assessor_name',
      'm.mark',
      'm.result',
      'm.feedback',
      'm.marked_at',
      'm.in_moderation_sample',
      'm.moderated_by',
      'mo.full_name as moderator_name',
      'm.moderated_at',
      'm.moderated_result',
      'm.moderation_notes',
    ])
}

type AnonymousRow = Awaited<ReturnType<ReturnType<typeof anonymousScripts>['execute']>>[number]
const toAnonymous = (r: AnonymousRow): AnonymousScript => ({
  markId: r.id,
  reference: r.script_reference,
  windowId: r.window_id,
  leadProviderId: r.lead_provider_id,
  courseName: courseName(r.course_identifier),
  cohort: r.cohort,
  opensOn: String(r.opens_on),
  closesOn: String(r.closes_on),
  caseStudyTitle: r.case_study_title,
  text: r.submitted_text ?? '',
  wordCount: r.submitted_word_count,
  maxWords: r.max_words,
  assessorUserId: r.assessor_user_id,
  assessorName: r.assessor_name,
  mark: r.mark,
  result: r.result,
  feedback: r.feedback,
  markedAt: dateOf(r.marked_at),
  inSample: r.in_moderation_sample === true,
  moderatedBy: r.moderated_by,
  moderatorName: r.moderator_name,
  moderatedAt: dateOf(r.moderated_at),
  moderatedResult: r.moderated_result,
  moderationNotes: r.moderation_notes,
  externallyModerated: r.externally_moderated_at !== null,
  released: r.results_released_at !== null,
})

/** An assessor's own scripts (of lead providers where they still are an assessor). */
export async function scriptsForAssessor(db: Db | Trx, user: Principal & { kind: 'user' }): Promise<AnonymousScript[]> {
  const rows = await anonymousScripts(db)
    .where('m.assessor_user_id', '=', user.userId)
    .orderBy('w.opens_on', 'desc')
    .orderBy('m.script_reference')
    .execute()
  return rows.map(toAnonymous).filter((s) => can(user, 'mark', { type: 'assessment-script', script: s }))
}

/** The scripts in the moderation samples of the moderator's lead providers. */
export async function scriptsForModerator(db: Db | Trx, user: Principal & { kind: 'user' }): Promise<AnonymousScript[]> {
  const leadProviderIds = user.roles.filter((r) => r.role === 'moderator').map((r) => r.organisationId)
  if (!leadProviderIds.length) return []
  const rows = await anonymousScripts(db)
    .where('w.lead_provider_id', 'in', leadProviderIds)
    .where('m.in_moderation_sample', '=', true)
    .orderBy('w.opens_on', 'desc')
    .orderBy('m.script_reference')
    .execute()
  return rows.map(toAnonymous)
}

/** One script by its reference, if this person may see it as an assessor (their own) or moderator (sampled). */
export async function scriptFor(
  db: Db | Trx,
  user: Principal & { kind: 'user' },
  reference: string,
  as: 'assessor' | 'moderator',
): Promise<AnonymousScript | null> {
  if (!/^S-[0-9A-Z]{5}$/.test(reference)) return null
  const row = await anonymousScripts(db).where('m.script_reference', '=', reference).executeTakeFirst()
  if (!row) return null
  const s = toAnonymous(row)
  return can(user, as === 'assessor' ? 'mark' : 'moderate', { type: 'assessment-script', script: s }) ? s : null
}

/** Why an assessor cannot change this script's mark now (null: they can). */
export function markLockedBecause(s: AnonymousScript): string | null {
  if (s.released) return 'The results are released: the mark can no longer change.'
  if (s.externallyModerated) return 'External moderation is recorded for this window: the mark can no longer change.'
  if (s.moderatedAt) return 'This script is moderated: the mark can no longer change.'
  return null
}

/** Why a moderator cannot moderate this script now (null: they can). */
export function moderationLockedBecause(s: AnonymousScript, moderatorUserId: string): string | null {
  if (s.released) return 'The results are released: the moderation can no longer change.'
  if (s.externallyModerated) return 'External moderation is recorded for this window: the moderation can no longer change.'
  if (s.assessorUserId === moderatorUserId) return 'You marked this script, so another moderator moderates it.'
  if (!s.markedAt) return 'This script is not marked yet.'
  return null
}

export type MarkInput = { mark: string; result: string; feedback: string }

export function markProblems(input: MarkInput): FieldError[] {
  const problems: FieldError[] = []
  const mark = input.mark.trim()
  if (!mark) problems.push({ field: 'mark', message: 'Enter the mark' })
  else if (!/^\d{1,3}$/.test(mark) || Number(mark) > MARK_MAX)
    problems.push({ field: 'mark', message: `Enter a whole number from 0 to ${MARK_MAX}` })
  if (input.result !== 'passed' && input.result !== 'failed') problems.push({ field: 'result', message: 'Choose passed or failed' })
  if (!input.feedback.trim()) problems.push({ field: 'feedback', message: 'Enter feedback for the participant' })
  else if (input.feedback.length > 10000) problems.push({ field: 'feedback', message: 'Feedback must be 10,000 characters or fewer' })
  return problems
}

/** The person's script with its window locked, read again after the lock so checks see the latest state. */
async function lockedScript(trx: Trx, user: Principal & { kind: 'user' }, reference: string, as: 'assessor' | 'moderator') {
  const found = await scriptFor(trx, user, reference, as)
  if (!found) throw new AppError('not-found', 'Script not found')
  await lockWindow(trx, found.windowId)
  return (await scriptFor(trx, user, reference, as))!
}

/** Records (or changes) the assessor's mark, result and feedback. */
export async function recordMark(
  trx: Trx,
  user: Principal & { kind: 'user' },
  reference: string,
  input: MarkInput,
  notify?: Pick<Services, 'email' | 'config'>,
): Promise<AnonymousScript> {
  const s = await lockedScript(trx, user, reference, 'assessor')
  const locked = markLockedBecause(s)
  if (locked) throw validationFailed(locked)
  const problems = markProblems(input)
  if (problems.length) throw validationFailed(problems[0]!.message, problems)
  const after = { mark: Number(input.mark.trim()), result: input.result as Result, feedback: input.feedback.trim() }
  await trx
    .updateTable('assessment_marks')
    .set({ ...after, marked_at: new Date() })
    .where('id', '=', s.markId)
    .where('moderated_at', 'is', null)
    .execute()
  await recordAudit(trx, {
    by: user,
    action: s.markedAt ? 'assessment-script.mark-changed' : 'assessment-script.marked',
    entityType: 'assessment-mark',
    entityId: s.markId,
    before: s.markedAt ? { mark: s.mark, result: s.result, feedback: s.feedback } : undefined,
    after,
  })
  await redrawSample(trx, s.windowId, notify)
  return (await scriptFor(trx, user, reference, 'assessor'))!
}

/**
 * Draws the window's moderation sample once every script is marked (again after any change, keeping
 * the scripts already moderated); clears it while some script is unmarked or unallocated.
 */
export async function redrawSample(trx: Trx, windowId: string, notify?: Pick<Services, 'email' | 'config'>): Promise<void> {
  const w = await loadMarkingWindow(trx, windowId)
  if (!w || w.externallyModeratedAt || w.resultsReleasedAt) return
  const scripts = await windowScripts(trx, windowId)
  const complete = scripts.length > 0 && scripts.every((s) => s.markId && s.markedAt)
  const sample = complete
    ? sampleOf(
        windowId,
        scripts.map((s) => ({
          entryId: s.entryId,
          assessorUserId: s.assessorUserId!,
          mark: s.mark,
          result: s.result,
          moderated: s.moderatedAt !== null,
        })),
      )
    : new Set(scripts.filter((s) => s.moderatedAt).map((s) => s.entryId))
  let added = 0
  for (const s of scripts) {
    if (!s.markId || s.inSample === sample.has(s.entryId)) continue
    if (!s.inSample) added++
    await trx
      .updateTable('assessment_marks')
      .set({ in_moderation_sample: sample.has(s.entryId) })
      .where('id', '=', s.markId)
      .execute()
  }
  if (added && notify) await tellModerators(trx, notify, w, added)
}

/** The lead provider's moderators hear when scripts join the sample, so moderation starts without anyone chasing. */
async function tellModerators(trx: Trx, services: Pick<Services, 'email' | 'config'>, w: MarkingWindow, added: number) {
  const moderators = await trx
    .selectFrom('role_assignments as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.email', 'u.full_name'])
    .where('r.role', '=', 'moderator')
    .where('r.organisation_id', '=', w.leadProviderId)
    .where('u.status', '=', 'active')
    .execute()
  for (const m of moderators) {
    await services.email.queue(trx, {
      to: m.email,
      subject: `Scripts to moderate: ${w.courseName}, ${w.cohort}`,
      body:
        [
          `Hello ${m.full_name},`,
          `Every script of ${w.courseName} (${w.cohort}) is marked, and ${added} ${added === 1 ? 'is' : 'are'} now in the sample for internal moderation.`,
          `The sample: ${appUrl(services, '/moderator/scripts')}`,
        ].join('\n\n') + '\n',
    })
  }
}

export type ModerationInput = { result: string; notes: string }

/** The moderator agrees with or changes the sampled script's result, with notes. */
export async function moderateScript(
  trx: Trx,
  user: Principal & { kind: 'user' },
  reference: string,
  input: ModerationInput,
): Promise<AnonymousScript> {
  const s = await lockedScript(trx, user, reference, 'moderator')
  const locked = moderationLockedBecause(s, user.userId)
  if (locked) throw validationFailed(locked)
  const problems: FieldError[] = []
  if (input.result !== 'passed' && input.result !== 'failed') problems.push({ field: 'result', message: 'Choose the moderated result' })
  const notes = input.notes.trim()
  if (input.result !== s.result && (input.result === 'passed' || input.result === 'failed') && !notes) {
    problems.push({ field: 'notes', message: 'Enter notes saying why you changed the result' })
  }
  if (notes.length > 10000) problems.push({ field: 'notes', message: 'Notes must be 10,000 characters or fewer' })
  if (problems.length) throw validationFailed(problems[0]!.message, problems)
  const after = { moderated_result: input.result as Result, moderation_notes: notes || null }
  await trx
    .updateTable('assessment_marks')
    .set({ ...after, moderated_by: user.userId, moderated_at: new Date() })
    .where('id', '=', s.markId)
    .execute()
  await recordAudit(trx, {
    by: user,
    action: s.moderatedAt ? 'assessment-script.moderation-changed' : 'assessment-script.moderated',
    entityType: 'assessment-mark',
    entityId: s.markId,
    before: s.moderatedAt ? { moderated_result: s.moderatedResult, moderation_notes: s.moderationNotes } : undefined,
    after: { ...after, assessor_result: s.result, agreed: input.result === s.result },
  })
  return (await scriptFor(trx, user, reference, 'moderator'))!
}

// ---- External moderation and release ----

/** Records that the window's external moderation was done on a date (after the internal moderation). */
export async function recordExternalModeration(trx: Trx, by: Principal & { kind: 'user' }, windowId: string, on: string): Promise<void> {
  const w = await lockWindow(trx, windowId)
  if (w.resultsReleasedAt) throw validationFailed('The results of this window are already released')
  if (w.externallyModeratedAt) throw validationFailed('External moderation is already recorded for this window')
  const scripts = await windowScripts(trx, windowId)
  const before = releaseProblems({ ...w, externallyModeratedAt: new Date() }, scripts)
  if (before.length) throw validationFailed(`Internal moderation comes first: ${before[0]!.charAt(0).toLowerCase()}${before[0]!.slice(1)}`)
  const field = (message: string) => validationFailed(message, [{ field: 'on', message }])
  if (on > londonDateOf(new Date())) throw field('The date of the external moderation must be today or in the past')
  if (on <= w.closesOn) throw field(`The date of the external moderation must be after the window closed on ${w.closesOn}`)
  const at = londonMoment(on, '12:00')
  if (!at) throw field('Enter a real date')
  await trx
    .updateTable('assessment_windows')
    .set({ externally_moderated_at: at, externally_moderated_by: by.userId })
    .where('id', '=', windowId)
    .execute()
  await recordAudit(trx, {
    by,
    action: 'assessment-window.externally-moderated',
    entityType: 'assessment-window',
    entityId: windowId,
    after: { externally_moderated_on: on },
  })
}

/** Releases every result of the window together (see the top of this file). Returns how many. */
export async function releaseResults(trx: Trx, services: Services, by: Principal & { kind: 'user' }, windowId: string): Promise<number> {
  const w = await lockWindow(trx, windowId)
  const scripts = await windowScripts(trx, windowId)
  const problems = releaseProblems(w, scripts)
  if (problems.length) throw validationFailed(problems.join('. '))
  const releasedAt = new Date()
  // Scripts outside the sample were moderated with the sample: its last moderation dates them.
  const internalModerationAt = new Date(Math.max(...scripts.filter((s) => s.moderatedAt).map((s) => s.moderatedAt!.getTime())))
  const details = await trx
    .selectFrom('assessment_entries as e')
    .innerJoin('enrolments as en', 'en.id', 'e.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'en.participant_id')
    .innerJoin('assessment_marks as m', 'm.entry_id', 'e.id')
    .select([
      'e.id',
      'e.attempt',
      'e.submitted_at',
      'e.submitted_word_count',
      'en.participant_id',
      'en.delivery_partner_id',
      'en.course_identifier',
      'p.full_name',
      'p.email',
      'm.feedback',
      'm.moderation_notes',
    ])
    .where('e.window_id', '=', windowId)
    .where('e.submitted_at', 'is not', null)
    .execute()
  const detailOf = new Map(details.map((d) => [d.id, d]))

  await trx
    .updateTable('assessment_windows')
    .set({ results_released_at: releasedAt, results_released_by: by.userId })
    .where('id', '=', windowId)
    .execute()
  await recordAudit(trx, {
    by,
    action: 'assessment-window.results-released',
    entityType: 'assessment-window',
    entityId: windowId,
    after: { scripts: scripts.length },
  })

  const byPartner = new Map<string, { name: string; result: Result }[]>()
  for (const s of scripts) {
    const d = detailOf.get(s.entryId)!
    const result = s.moderatedResult ?? s.result!
    const values = {
      submitted_at: d.submitted_at,
      word_count: d.submitted_word_count,
      result,
      marked_at: s.markedAt,
      moderated_at: s.moderatedAt ?? internalModerationAt,
      externally_moderated_at: w.externallyModeratedAt,
    }
    const existing = await trx
      .selectFrom('assessment_attempts')
      .selectAll()
      .where('participant_id', '=', d.participant_id)
      .where('attempt', '=', d.attempt)
      .executeTakeFirst()
    let attemptId: string
    if (existing) {
      attemptId = existing.id
      await trx
        .updateTable('assessment_attempts')
        .set({ ...values, recorded_by: by.userId, recorded_at: releasedAt })
        .where('id', '=', existing.id)
        .execute()
    } else {
      attemptId = (
        await trx
          .insertInto('assessment_attempts')
          .values({ participant_id: d.participant_id, attempt: d.attempt, ...values, recorded_by: by.userId, recorded_at: releasedAt })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id
    }
    await recordAudit(trx, {
      by,
      action: existing ? 'assessment-attempt.updated' : 'assessment-attempt.created',
      entityType: 'assessment-attempt',
      entityId: attemptId,
      before: existing ? { ...existing, id: undefined } : undefined,
      after: { ...values, from_window: windowId, script_reference: s.reference },
    })

    // A later result for a completed declaration already made goes to DfE as an outcome.
    const completed = await trx
      .selectFrom('declarations')
      .select('id')
      .where('participant_id', '=', d.participant_id)
      .where('course_identifier', '=', d.course_identifier)
      .where('lead_provider_id', '=', w.leadProviderId)
      .where('declaration_type', '=', 'completed')
      .where('state', 'in', liveDeclarationStates)
      .executeTakeFirst()
    if (completed && findCourse(d.course_identifier)?.group !== 'ehco') {
      await queueDfeRequest(trx, {
        leadProviderId: w.leadProviderId,
        kind: 'post-outcome',
        subjectId: completed.id,
        queuedBy: by,
        jobs: services.jobs,
      })
    }

    const changed = s.moderatedResult !== null && s.moderatedResult !== s.result
    await services.email.queue(trx, {
      to: d.email,
      subject: `Your NPQ assessment result: ${w.courseName}`,
      body:
        [
          `Hello ${d.full_name},`,
          `The result of your summative assessment for ${w.courseName} (attempt ${d.attempt}) is: ${result === 'passed' ? 'passed' : 'not passed'}.`,
          `Feedback from your assessor:\n\n${d.feedback ?? ''}`,
          changed && d.moderation_notes ? `The result was changed at moderation:\n\n${d.moderation_notes}` : '',
          `You can read your result and feedback at ${appUrl(services, '/participant/assessment/results')}`,
        ]
          .filter(Boolean)
          .join('\n\n') + '\n',
    })
    if (d.delivery_partner_id) {
      const list = byPartner.get(d.delivery_partner_id) ?? []
      list.push({ name: d.full_name, result })
      byPartner.set(d.delivery_partner_id, list)
    }
  }

  for (const [partnerId, results] of byPartner) {
    const leads = await trx
      .selectFrom('role_assignments as r')
      .innerJoin('users as u', 'u.id', 'r.user_id')
      .select(['u.email', 'u.full_name'])
      .where('r.role', '=', 'delivery-partner-lead')
      .where('r.organisation_id', '=', partnerId)
      .where('u.status', '=', 'active')
      .orderBy('u.email')
      .execute()
    const lines = results
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((r) => `- ${r.name}: ${r.result === 'passed' ? 'passed' : 'not passed'}`)
      .join('\n')
    for (const lead of leads) {
      await services.email.queue(trx, {
        to: lead.email,
        subject: `Assessment results released: ${w.courseName}, ${w.cohort}`,
        body:
          [
            `Hello ${lead.full_name},`,
            `The summative assessment results for ${w.courseName} (${w.cohort}, window ${w.opensOn} to ${w.closesOn}) are released to your participants:`,
            lines,
          ].join('\n\n') + '\n',
      })
    }
  }
  return scripts.length
}

// ---- The participant's released results ----

export type ReleasedResult = {
  windowId: string
  courseIdentifier: string
  courseName: string
  cohort: string
  opensOn: string
  closesOn: string
  attempt: number
  result: Result
  feedback: string
  /** The moderator's notes, where moderation changed the assessor's result. */
  moderationNote: string | null
  releasedAt: Date
}

/** A participant's released assessment results, latest first (for their pages). */
export async function releasedResultsFor(db: Db | Trx, participantUserId: string): Promise<ReleasedResult[]> {
  const rows = await db
    .selectFrom('participants as p')
    .innerJoin('enrolments as en', 'en.participant_id', 'p.id')
    .innerJoin('assessment_entries as e', 'e.enrolment_id', 'en.id')
    .innerJoin('assessment_windows as w', 'w.id', 'e.window_id')
    .innerJoin('assessment_marks as m', 'm.entry_id', 'e.id')
    .select([
      'w.id as window_id',
      'en.course_identifier',
      'w.cohort',
      'w.opens_on',
      'w.closes_on',
      'w.results_released_at',
      'e.attempt',
      'm.result',
      'm.moderated_result',
      'm.feedback',
      'm.moderation_notes',
    ])
    .where('p.user_id', '=', participantUserId)
    .where('w.results_released_at', 'is not', null)
    .where('m.result', 'is not', null)
    .orderBy('w.results_released_at', 'desc')
    .execute()
  return rows.map((r) => {
    const changed = r.moderated_result !== null && r.moderated_result !== r.result
    return {
      windowId: r.window_id,
      courseIdentifier: r.course_identifier,
      courseName: courseName(r.course_identifier),
      cohort: r.cohort,
      opensOn: String(r.opens_on),
      closesOn: String(r.closes_on),
      attempt: r.attempt,
      result: (r.moderated_result ?? r.result)!,
      feedback: r.feedback ?? '',
      moderationNote: changed ? r.moderation_notes : null,
      releasedAt: new Date(r.results_released_at!),
    }
  })
}
