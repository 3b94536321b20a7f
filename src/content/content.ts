import type { Selectable } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import { findCourse, type Course } from '../catalogue/courses.ts'
import type { Activity, Design } from '../catalogue/load.ts'
import type { CohortBlockWindow } from '../catalogue/block-windows.ts'
import type { Db } from '../db/database.ts'
import { currentLearningRecords } from '../learning/current.ts'
import { isSelfStudy, recordActivityDone, statusOf, type OwnEnrolment, type Status } from '../learning/routes.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { isMediaKind, isWatched, kindNames, mergeIntervals, scoreQuiz, watchedPercent, type QuizResult } from './rules.ts'
import type { ContentItemsTable, ContentProgressTable, Interval } from './schema.ts'

// Block content as participants meet it: what is live for an enrolment, each item's status, completing
// an item (which records its design activity as learning evidence), watched time, quiz attempts,
// answers and task submissions. Authoring and the routes are in routes.ts.

export type Item = Selectable<ContentItemsTable>
export type Progress = Selectable<ContentProgressTable>
export type User = Principal & { kind: 'user' }

export const blockKey = (block: number | string) => String(block)

/** The blocks of a design that content may be attached to (provisional blocks are not yet designed). */
export const designBlocks = (design: Design | undefined) => (design?.blocks ?? []).filter((b) => !b.provisional)

/**
 * Participants see an item once it is published, its block is live (the cohort's block window) and
 * its own go-live date, if it has one, has come. Drafts and future items never.
 */
export function isVisible(
  item: Pick<Item, 'status' | 'goes_live_on'>,
  window: Pick<CohortBlockWindow, 'goesLiveOn'> | undefined,
  today: string,
) {
  if (item.status !== 'published') return false
  if (window && window.goesLiveOn > today) return false
  return !item.goes_live_on || item.goes_live_on <= today
}

/** The date participants first see it: the later of the block's go-live and the item's own. */
export function goesLiveOn(item: Pick<Item, 'goes_live_on'>, window: Pick<CohortBlockWindow, 'goesLiveOn'> | undefined): string | null {
  const dates = [item.goes_live_on, window?.goesLiveOn].filter((d): d is string => !!d).sort()
  return dates.at(-1) ?? null
}

export type ItemStatus = { completed: boolean; text: string; classes: string }

export function itemStatus(item: Item, progress: Progress | undefined, submitted = false): ItemStatus {
  if (progress?.completed_at) return { completed: true, text: 'Completed', classes: 'govuk-tag--green' }
  if (item.kind === 'task' && submitted) return { completed: false, text: 'Submitted', classes: 'govuk-tag--blue' }
  if (progress && isMediaKind(item.kind)) {
    const media = item.media[progress.chosen_version ?? 0]
    const percent = media ? watchedPercent(progress.intervals[String(progress.chosen_version ?? 0)] ?? [], media.durationSeconds) : 0
    if (percent > 0) return { completed: false, text: `In progress ${Math.floor(percent)}%`, classes: 'govuk-tag--blue' }
  }
  if (progress && Object.values(progress.answers).some((a) => a))
    return { completed: false, text: 'In progress', classes: 'govuk-tag--blue' }
  return { completed: false, text: 'Not started', classes: 'govuk-tag--grey' }
}

export async function loadItems(db: Db, leadProviderId: string, courseIdentifier: string) {
  return db
    .selectFrom('content_items')
    .selectAll()
    .where('lead_provider_id', '=', leadProviderId)
    .where('course_identifier', '=', courseIdentifier)
    .orderBy('block')
    .orderBy('position')
    .orderBy('created_at')
    .execute()
}

export async function loadItem(db: Db, id: string): Promise<Item | undefined> {
  if (!/^[0-9a-f-]{36}$/i.test(id)) return undefined
  return db.selectFrom('content_items').selectAll().where('id', '=', id).executeTakeFirst()
}

export async function localContextFor(db: Db, deliveryPartnerId: string | null, leadProviderId: string, course: string, block: string) {
  if (!deliveryPartnerId) return undefined
  const row = await db
    .selectFrom('local_contexts as lc')
    .innerJoin('organisations as o', 'o.id', 'lc.delivery_partner_id')
    .select(['lc.notes', 'lc.examples', 'lc.updated_at', 'o.name as deliveryPartnerName'])
    .where('lc.delivery_partner_id', '=', deliveryPartnerId)
    .where('lc.lead_provider_id', '=', leadProviderId)
    .where('lc.course_identifier', '=', course)
    .where('lc.block', '=', block)
    .executeTakeFirst()
  return row && (row.notes || row.examples) ? row : undefined
}

// ---- An enrolment's Learn zone ----

export type LearnItem = Item & { state: ItemStatus; href: string; kindName: string; activity: Activity | undefined }
export type LearnActivity = Activity & { status: Status | null }
export type LearnBlock = {
  key: string
  title: string
  live: boolean
  window: CohortBlockWindow | undefined
  items: LearnItem[]
  activities: LearnActivity[]
  percent: number
  href: string
}

export const learnPath = (course: string) => `/participant/learn/${course}`
export const itemPath = (course: string, id: string) => `/participant/learn/${course}/items/${id}`

/** An enrolment's blocks (live or not), with the items participants may see and every status. */
export async function learnBlocks(
  services: Services,
  enrolment: OwnEnrolment,
  course: Course,
  today: string,
): Promise<{ design: Design | undefined; blocks: LearnBlock[] }> {
  const { db, designs, blockWindows } = services
  const design = await designs.designForCohort(enrolment.code, course.identifier, enrolment.cohort)
  const windows = await blockWindows.forCohort(enrolment.code, course.identifier, enrolment.cohort)
  const items = await loadItems(db, enrolment.lead_provider_id, course.identifier)
  const progress = await db.selectFrom('content_progress').selectAll().where('enrolment_id', '=', enrolment.id).execute()
  const submitted = new Set(
    (await db.selectFrom('task_submissions').select('item_id').where('enrolment_id', '=', enrolment.id).execute()).map((r) => r.item_id),
  )
  const records = await currentLearningRecords(db)
    .select(['lr.activity_code', 'lr.progress_percent'])
    .where('lr.participant_id', '=', enrolment.participant_id)
    .where('lr.course_identifier', '=', course.identifier)
    .execute()
  const blocks = designBlocks(design).map((b): LearnBlock => {
    const key = blockKey(b.block)
    const window = windows.find((w) => String(w.block) === key)
    const live = !window || window.goesLiveOn <= today
    const activities = b.activities.map((a) => ({
      ...a,
      status: isSelfStudy(a) ? statusOf(records.filter((r) => r.activity_code === a.code)) : null,
    }))
    const visible = items
      .filter((i) => i.block === key && isVisible(i, window, today))
      .map((i) => ({
        ...i,
        state: itemStatus(
          i,
          progress.find((p) => p.item_id === i.id),
          submitted.has(i.id),
        ),
        href: itemPath(course.identifier, i.id),
        kindName: kindNames[i.kind],
        activity: b.activities.find((a) => a.code === i.activity_code),
      }))
    // Complete: self-study activities done, plus the items that count for no activity.
    const units = [
      ...activities.filter((a) => a.status).map((a) => a.status!.completed),
      ...visible.filter((i) => !i.activity).map((i) => i.state.completed),
    ]
    const percent = units.length ? Math.round((units.filter(Boolean).length / units.length) * 100) : 0
    return {
      key,
      title: b.title ? (design?.style === 'weighted' ? b.title : `Block ${key}: ${b.title}`) : `Block ${key}`,
      live,
      window,
      items: visible,
      activities,
      percent,
      href: `${learnPath(course.identifier)}/blocks/${encodeURIComponent(key)}`,
    }
  })
  return { design, blocks }
}

/**
 * "Continue where you left off": the participant's next unfinished thing in a live block, in course
 * order: an item they have started, else the first unfinished item, else the first self-study
 * activity not done (linking to its block). Null when there is nothing to continue.
 */
export async function continueLearning(
  db: Db,
  services: Services,
  userId: string,
  today: string,
): Promise<{ href: string; title: string; course: string } | null> {
  const enrolments = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select([
      'e.id',
      'e.participant_id',
      'e.lead_provider_id',
      'e.delivery_partner_id',
      'e.school_id',
      'e.line_manager_user_id',
      'e.cohort',
      'e.status',
      'e.course_identifier',
      'p.user_id',
      'lp.code',
      'lp.name',
    ])
    .where('p.user_id', '=', userId)
    .where('e.status', 'not in', ['deferred', 'withdrawn'])
    .orderBy('e.created_at')
    .execute()
  const started: { href: string; title: string; course: string }[] = []
  const fresh: { href: string; title: string; course: string }[] = []
  for (const e of enrolments) {
    const course = findCourse(e.course_identifier)
    if (!course) continue
    const { blocks } = await learnBlocks({ ...services, db }, e, course, today)
    for (const b of blocks.filter((x) => x.live)) {
      for (const i of b.items.filter((x) => !x.state.completed && x.kind !== 'task')) {
        const entry = { href: i.href, title: i.title, course: course.name }
        if (i.state.text !== 'Not started') started.push(entry)
        else fresh.push(entry)
      }
      const activity = b.activities.find((a) => a.status && !a.status.completed && !b.items.some((i) => i.activity_code === a.code))
      if (activity) fresh.push({ href: `${b.href}#activity-${activity.code}`, title: activity.title, course: course.name })
    }
  }
  return started[0] ?? fresh[0] ?? null
}

// ---- Doing the work ----

async function progressRow(db: Db, itemId: string, enrolmentId: string): Promise<Progress> {
  await db
    .insertInto('content_progress')
    .values({ item_id: itemId, enrolment_id: enrolmentId })
    .onConflict((oc) => oc.doNothing())
    .execute()
  return db
    .selectFrom('content_progress')
    .selectAll()
    .where('item_id', '=', itemId)
    .where('enrolment_id', '=', enrolmentId)
    .executeTakeFirstOrThrow()
}

export async function loadProgress(db: Db, itemId: string, enrolmentId: string) {
  return db
    .selectFrom('content_progress')
    .selectAll()
    .where('item_id', '=', itemId)
    .where('enrolment_id', '=', enrolmentId)
    .executeTakeFirst()
}

/**
 * Marks an item complete for the enrolment (once) and, when it is linked to a self-study activity of
 * their design not yet done, records that activity as learning evidence, as "Mark as complete" does.
 */
export async function completeItem(services: Services, by: User, enrolment: OwnEnrolment, course: Course, item: Item): Promise<void> {
  const { db } = services
  if (item.activity_code) {
    const design = await services.designs.designForCohort(enrolment.code, course.identifier, enrolment.cohort)
    const activity = designBlocks(design)
      .find((b) => blockKey(b.block) === item.block)
      ?.activities.find((a) => a.code === item.activity_code)
    if (activity && isSelfStudy(activity)) {
      const records = await currentLearningRecords(db)
        .select(['lr.progress_percent'])
        .where('lr.participant_id', '=', enrolment.participant_id)
        .where('lr.activity_code', '=', activity.code)
        .execute()
      if (!statusOf(records).completed) await recordActivityDone(services, by, enrolment, course, activity.code, null)
    }
  }
  await progressRow(db, item.id, enrolment.id)
  const done = await db
    .updateTable('content_progress')
    .set({ completed_at: new Date(), updated_at: new Date() })
    .where('item_id', '=', item.id)
    .where('enrolment_id', '=', enrolment.id)
    .where('completed_at', 'is', null)
    .returning('id')
    .executeTakeFirst()
  if (done) {
    await recordAudit(db, {
      by,
      action: 'content-item.completed',
      entityType: 'content-progress',
      entityId: done.id,
      after: { item_id: item.id, activity_code: item.activity_code },
    })
  }
}

/**
 * Watched time: the player's intervals (seconds of the chosen version) merged with those already
 * stored. Complete at the threshold. Returns the share watched.
 */
export async function recordWatched(
  services: Services,
  by: User,
  enrolment: OwnEnrolment,
  course: Course,
  item: Item,
  version: number,
  intervals: Interval[],
): Promise<{ percent: number; completed: boolean }> {
  const media = item.media[version]
  if (!media) throw new Error('no such version')
  const row = await progressRow(services.db, item.id, enrolment.id)
  const key = String(version)
  const merged = mergeIntervals([...(row.intervals[key] ?? []), ...intervals], media.durationSeconds)
  const percent = watchedPercent(merged, media.durationSeconds)
  await services.db
    .updateTable('content_progress')
    .set({
      intervals: JSON.stringify({ ...row.intervals, [key]: merged }),
      watched_seconds: Math.round(merged.reduce((s, [a, b]) => s + b - a, 0) * 100) / 100,
      chosen_version: version,
      updated_at: new Date(),
    })
    .where('id', '=', row.id)
    .execute()
  const completed = !!row.completed_at || isWatched(merged, media.durationSeconds)
  if (completed && !row.completed_at) await completeItem(services, by, enrolment, course, item)
  return { percent, completed }
}

export async function chooseVersion(db: Db, item: Item, enrolmentId: string, version: number): Promise<void> {
  const row = await progressRow(db, item.id, enrolmentId)
  await db.updateTable('content_progress').set({ chosen_version: version, updated_at: new Date() }).where('id', '=', row.id).execute()
}

/** Saves a participant's private answers (reflection, micro task, Study, Apply). */
export async function saveAnswers(db: Db, item: Item, enrolmentId: string, answers: Record<string, string>): Promise<void> {
  const row = await progressRow(db, item.id, enrolmentId)
  await db
    .updateTable('content_progress')
    .set({ answers: JSON.stringify({ ...row.answers, ...answers }), updated_at: new Date() })
    .where('id', '=', row.id)
    .execute()
}

export async function submitQuiz(
  services: Services,
  by: User,
  enrolment: OwnEnrolment,
  course: Course,
  item: Item,
  answers: number[][],
): Promise<QuizResult & { attemptId: string }> {
  const result = scoreQuiz(item.questions, answers, item.kind === 'diagnostic' ? null : item.pass_mark)
  const attempt = await services.db
    .insertInto('quiz_attempts')
    .values({
      item_id: item.id,
      enrolment_id: enrolment.id,
      answers: JSON.stringify(answers),
      score: result.score,
      max_score: result.maxScore,
      passed: result.passed,
      submitted_by: by.userId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(services.db, {
    by,
    action: 'quiz-attempt.submitted',
    entityType: 'quiz-attempt',
    entityId: attempt.id,
    after: { item_id: item.id, score: result.score, max_score: result.maxScore, passed: result.passed },
  })
  // A diagnostic is done once taken; a quiz once passed (or taken, when it has no pass mark).
  if (result.passed !== false) await completeItem(services, by, enrolment, course, item)
  return { ...result, attemptId: attempt.id }
}

export async function latestAttempt(db: Db, itemId: string, enrolmentId: string) {
  return db
    .selectFrom('quiz_attempts')
    .selectAll()
    .where('item_id', '=', itemId)
    .where('enrolment_id', '=', enrolmentId)
    .orderBy('submitted_at', 'desc')
    .orderBy('id', 'desc')
    .executeTakeFirst()
}

export type Upload = { name: string; type: string; content: Buffer }

/** A formative assessment task submitted (text and/or a file): completes the item; the facilitator gives feedback later. */
export async function submitTask(
  services: Services,
  by: User,
  enrolment: OwnEnrolment,
  course: Course,
  item: Item,
  body: string,
  file: Upload | null,
): Promise<string> {
  const row = await services.db
    .insertInto('task_submissions')
    .values({
      item_id: item.id,
      enrolment_id: enrolment.id,
      body,
      file_name: file?.name ?? null,
      file_type: file?.type ?? null,
      file_data: file?.content ?? null,
      submitted_by: by.userId,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(services.db, {
    by,
    action: 'task-submission.submitted',
    entityType: 'task-submission',
    entityId: row.id,
    after: { item_id: item.id, file_name: file?.name ?? null },
  })
  await completeItem(services, by, enrolment, course, item)
  return row.id
}

export async function submissionsOf(db: Db, itemId: string, enrolmentId: string) {
  return db
    .selectFrom('task_submissions as s')
    .leftJoin('users as f', 'f.id', 's.feedback_by')
    .select(['s.id', 's.body', 's.file_name', 's.submitted_at', 's.feedback', 's.feedback_at', 'f.full_name as feedbackByName'])
    .where('s.item_id', '=', itemId)
    .where('s.enrolment_id', '=', enrolmentId)
    .orderBy('s.submitted_at', 'desc')
    .execute()
}

// ---- Formative assessment task feedback ----

export type TaskScope = { facilitatorUserId: string; deliveryPartnerIds: string[] }

/** Submissions the person may give feedback on: their groups' (facilitator) and their partners' (delivery partner lead). */
export function taskQueue(db: Db, scope: TaskScope) {
  return db
    .selectFrom('task_submissions as s')
    .innerJoin('content_items as i', 'i.id', 's.item_id')
    .innerJoin('enrolments as e', 'e.id', 's.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .leftJoin('group_memberships as gm', 'gm.enrolment_id', 'e.id')
    .leftJoin('participant_groups as g', 'g.id', 'gm.group_id')
    .where((eb) =>
      eb.or([
        eb('g.facilitator_user_id', '=', scope.facilitatorUserId),
        ...(scope.deliveryPartnerIds.length ? [eb('e.delivery_partner_id', 'in', scope.deliveryPartnerIds)] : []),
      ]),
    )
}
