import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Db, Trx } from '../db/database.ts'
import { AppError, type FieldError } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import { addDays } from '../registers/register-rules.ts'

// Summative assessment windows (../shared/DOMAIN.md "Summative assessment"; issue 8 item 4): per lead
// provider, course and cohort, 8 calendar days (day 1 to day 8, London dates) set from DfE's dates, with
// the 90% engagement deadline before day 1. Not for EHCO, which has no summative assessment. The case
// study is released at the start of day 1 (London) and never shown before.

/** The clock the assessment pages read; tests move it (services have no clock of their own). */
export const assessmentClock = { now: (): Date => new Date() }
export const londonToday = () => londonDateOf(assessmentClock.now())

export const WINDOW_DAYS = 8
export const DEFAULT_MAX_WORDS = 1500
export const DEFAULT_ATTEMPTS = 2
/** Extenuating circumstances may be requested during the window and up to this many days after it. */
export const EXTENUATING_DAYS_AFTER = 5
export const MAX_CASE_STUDY_CHARACTERS = 40_000

export type AssessmentPolicy = { maxWords: number; minWords: number | null; attempts: number }

/** The provider's assessment rules from the catalogue (1,500 words and two attempts where it says nothing). */
export function assessmentPolicy(catalogue: Catalogue, leadProvider: string): AssessmentPolicy {
  const a = catalogue.policy(leadProvider)?.assessment
  return { maxWords: a?.max_words ?? DEFAULT_MAX_WORDS, minWords: a?.min_words ?? null, attempts: a?.attempts ?? DEFAULT_ATTEMPTS }
}

/** Courses with a summative assessment that the provider runs: every one of its courses except EHCO. */
export function assessedCourses(catalogue: Catalogue, leadProvider: string): string[] {
  return catalogue.coursesOf(leadProvider).filter((c) => isAssessedCourse(c))
}
export const isAssessedCourse = (course: string) => {
  const found = findCourse(course)
  return found !== undefined && found.group !== 'ehco'
}
export const courseName = (course: string) => findCourse(course)?.name ?? course

export type Window = {
  id: string
  leadProviderId: string
  courseIdentifier: string
  cohort: string
  opensOn: string
  closesOn: string
  engagementDeadline: string
  maxWords: number
  caseStudyTitle: string
  caseStudy: string
  entriesDecidedAt: Date | null
}

export type WindowPhase = 'upcoming' | 'open' | 'closed'

/** Before day 1, days 1 to 8, after day 8 — by London calendar date. */
export function windowPhase(w: Pick<Window, 'opensOn' | 'closesOn'>, today: string): WindowPhase {
  return today < w.opensOn ? 'upcoming' : today <= w.closesOn ? 'open' : 'closed'
}

/** The case study is shown from the start of day 1 (London), and never before. */
export const caseStudyReleased = (w: Pick<Window, 'opensOn'>, today: string) => today >= w.opensOn

const windowColumns = [
  'w.id',
  'w.lead_provider_id',
  'w.course_identifier',
  'w.cohort',
  sql<string>`w.opens_on::text`.as('opens_on'),
  sql<string>`w.closes_on::text`.as('closes_on'),
  sql<string>`w.engagement_deadline::text`.as('engagement_deadline'),
  'w.max_words',
  'w.case_study_title',
  'w.case_study',
  'w.entries_decided_at',
] as const

type WindowRow = {
  id: string
  lead_provider_id: string
  course_identifier: string
  cohort: string
  opens_on: string
  closes_on: string
  engagement_deadline: string
  max_words: number
  case_study_title: string
  case_study: string
  entries_decided_at: Date | string | null
}

export function toWindow(r: WindowRow): Window {
  return {
    id: r.id,
    leadProviderId: r.lead_provider_id,
    courseIdentifier: r.course_identifier,
    cohort: r.cohort,
    opensOn: r.opens_on,
    closesOn: r.closes_on,
    engagementDeadline: r.engagement_deadline,
    maxWords: r.max_words,
    caseStudyTitle: r.case_study_title,
    caseStudy: r.case_study,
    entriesDecidedAt: r.entries_decided_at ? new Date(r.entries_decided_at) : null,
  }
}

export function selectWindows(db: Db | Trx) {
  return db.selectFrom('assessment_windows as w').select(windowColumns)
}

export async function loadWindow(db: Db | Trx, id: string): Promise<Window | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined
  const row = await selectWindows(db).where('w.id', '=', id).executeTakeFirst()
  return row ? toWindow(row) : undefined
}

export async function windowsOf(db: Db | Trx, leadProviderIds: string[]): Promise<Window[]> {
  if (leadProviderIds.length === 0) return []
  const rows = await selectWindows(db)
    .where('w.lead_provider_id', 'in', leadProviderIds)
    .orderBy('w.opens_on', 'desc')
    .orderBy('w.course_identifier')
    .execute()
  return rows.map(toWindow)
}

// ---- Creating and changing a window ----

export type WindowInput = {
  course: string
  cohort: string
  opensOn: string | null
  engagementDeadline: string | null
  maxWords: string
  caseStudyTitle: string
  caseStudy: string
}
export type WindowValues = {
  course: string
  cohort: string
  opensOn: string
  closesOn: string
  engagementDeadline: string
  maxWords: number
  caseStudyTitle: string
  caseStudy: string
}

/**
 * Checks a window against the catalogue: a course the provider runs with an assessment (not EHCO), a
 * cohort it runs that course in, day 1 a real date, the 90% deadline a real date before day 1, a
 * whole number of words (1 to 10,000), the case study's title and text. Pure: errors name the fields.
 */
export function validateWindow(
  catalogue: Catalogue,
  leadProvider: string,
  input: WindowInput,
): { ok: true; value: WindowValues } | { ok: false; errors: FieldError[] } {
  const errors: FieldError[] = []
  const courses = assessedCourses(catalogue, leadProvider)
  if (findCourse(input.course)?.group === 'ehco')
    errors.push({ field: 'course', message: 'The Early Headship Coaching Offer has no summative assessment: select another course' })
  else if (!courses.includes(input.course)) errors.push({ field: 'course', message: 'Select the course' })
  else if (!catalogue.cohortsFor(leadProvider, input.course).includes(input.cohort))
    errors.push({ field: 'cohort', message: `Select a cohort that runs ${courseName(input.course)}` })
  if (!input.opensOn) errors.push({ field: 'opens_on', message: 'Enter day 1 of the window as a real date, for example 5 6 2026' })
  if (!input.engagementDeadline)
    errors.push({ field: 'engagement_deadline', message: 'Enter the 90% engagement deadline as a real date, for example 28 5 2026' })
  else if (input.opensOn && input.engagementDeadline >= input.opensOn)
    errors.push({ field: 'engagement_deadline', message: 'The 90% engagement deadline must be before day 1 of the window' })
  const words = input.maxWords.replace(/,/g, '').trim()
  const maxWords = Number(words)
  if (!/^\d+$/.test(words) || maxWords < 1 || maxWords > 10_000)
    errors.push({ field: 'max_words', message: 'Enter the maximum number of words as a whole number from 1 to 10,000' })
  const title = input.caseStudyTitle.trim()
  if (!title) errors.push({ field: 'case_study_title', message: 'Enter the title of the case study' })
  else if (title.length > 200) errors.push({ field: 'case_study_title', message: 'The title must be 200 characters or fewer' })
  const caseStudy = input.caseStudy.trim()
  if (!caseStudy) errors.push({ field: 'case_study', message: 'Enter the case study' })
  else if (caseStudy.length > MAX_CASE_STUDY_CHARACTERS)
    errors.push({
      field: 'case_study',
      message: `The case study must be ${MAX_CASE_STUDY_CHARACTERS.toLocaleString('en-GB')} characters or fewer`,
    })
  if (errors.length) return { ok: false, errors }
  return {
    ok: true,
    value: {
      course: input.course,
      cohort: input.cohort,
      opensOn: input.opensOn!,
      closesOn: addDays(input.opensOn!, WINDOW_DAYS - 1),
      engagementDeadline: input.engagementDeadline!,
      maxWords,
      caseStudyTitle: title,
      caseStudy,
    },
  }
}

const duplicate = (v: WindowValues) =>
  new AppError('validation-failed', 'There is already a window for this course and cohort starting on that day', [
    { field: 'opens_on', message: `There is already a ${courseName(v.course)} window for ${v.cohort} starting on that day` },
  ])

async function clash(trx: Trx, leadProviderId: string, v: WindowValues, except?: string) {
  let q = trx
    .selectFrom('assessment_windows')
    .select('id')
    .where('lead_provider_id', '=', leadProviderId)
    .where('course_identifier', '=', v.course)
    .where('cohort', '=', v.cohort)
    .where('opens_on', '=', v.opensOn)
  if (except) q = q.where('id', '!=', except)
  return Boolean(await q.executeTakeFirst())
}

export async function createWindow(trx: Trx, by: Principal & { kind: 'user' }, leadProviderId: string, v: WindowValues): Promise<string> {
  if (await clash(trx, leadProviderId, v)) throw duplicate(v)
  const row = await trx
    .insertInto('assessment_windows')
    .values({
      lead_provider_id: leadProviderId,
      course_identifier: v.course,
      cohort: v.cohort,
      opens_on: v.opensOn,
      closes_on: v.closesOn,
      engagement_deadline: v.engagementDeadline,
      max_words: v.maxWords,
      case_study_title: v.caseStudyTitle,
      case_study: v.caseStudy,
      created_by: by.userId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, { by, action: 'assessment-window.created', entityType: 'assessment_window', entityId: row.id, after: auditOf(v) })
  return row.id
}

const auditOf = (v: WindowValues) => ({ ...v, caseStudy: `${v.caseStudy.length} characters` })

/**
 * Changes a window. Nothing changes once day 1 has come (participants may have read the case study);
 * the dates and course are fixed once the entry decisions are made.
 */
export async function updateWindow(trx: Trx, by: Principal & { kind: 'user' }, w: Window, v: WindowValues, today: string): Promise<void> {
  if (today >= w.opensOn) throw new AppError('validation-failed', 'The window has opened: it can no longer be changed')
  const hasEntries = Boolean(await trx.selectFrom('assessment_entries').select('id').where('window_id', '=', w.id).executeTakeFirst())
  if (
    (w.entriesDecidedAt || hasEntries) &&
    (v.course !== w.courseIdentifier || v.cohort !== w.cohort || v.opensOn !== w.opensOn || v.engagementDeadline !== w.engagementDeadline)
  )
    throw new AppError('validation-failed', 'Participants are entered: only the word limit and the case study can change', [
      { field: 'opens_on', message: 'Participants are entered for this window: the course, cohort and dates can no longer change' },
    ])
  if (await clash(trx, w.leadProviderId, v, w.id)) throw duplicate(v)
  await trx
    .updateTable('assessment_windows')
    .set({
      course_identifier: v.course,
      cohort: v.cohort,
      opens_on: v.opensOn,
      closes_on: v.closesOn,
      engagement_deadline: v.engagementDeadline,
      max_words: v.maxWords,
      case_study_title: v.caseStudyTitle,
      case_study: v.caseStudy,
    })
    .where('id', '=', w.id)
    .execute()
  await recordAudit(trx, {
    by,
    action: 'assessment-window.changed',
    entityType: 'assessment_window',
    entityId: w.id,
    before: {
      course: w.courseIdentifier,
      cohort: w.cohort,
      opensOn: w.opensOn,
      engagementDeadline: w.engagementDeadline,
      maxWords: w.maxWords,
      caseStudyTitle: w.caseStudyTitle,
    },
    after: auditOf(v),
  })
}
