import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import { findCourse } from '../catalogue/courses.ts'
import type { DesignVersions } from '../catalogue/versions.ts'
import type { Db, Trx } from '../db/database.ts'
import { AppError, notFound } from '../errors.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { recordParticipation, type RecordedActivity } from './evidence.ts'
import type { ForumKind } from './schema.ts'

// Discussion forums (issue 9). Who belongs where:
// - a group's forum: the group's members (their enrolments placed in it), the group's facilitator and
//   the delivery partner's leads;
// - a course's forum (one per lead provider and course, every cohort): the lead provider's participants
//   on the course, its admins, and the facilitators of groups with such participants.
// Each area of the site shows the forums the person belongs to in that role. Moderators (the group's
// facilitator and the partner's leads; on a course forum its facilitators and the lead provider's
// admins) hide posts with a reason and lock threads. Posts cannot be edited or deleted once posted: a
// forum is a record of a conversation, so a mistake is put right in a reply, or a moderator hides it.

export type Area = 'participant' | 'facilitator' | 'delivery-partner' | 'lead-provider'
export type User = Principal & { kind: 'user' }

export const THREADS_PER_PAGE = 20
export const POSTS_PER_PAGE = 30
export const MAX_TITLE_CHARS = 150
export const MAX_BODY_CHARS = 10_000
export const MAX_REASON_CHARS = 500

export type ForumSummary = {
  id: string
  kind: ForumKind
  name: string
  courseIdentifier: string
  threads: number
  lastActivityAt: Date | null
}

export type Membership = {
  forum: { id: string; kind: ForumKind; name: string; courseIdentifier: string; activityCode: string | null; leadProviderId: string | null }
  moderator: boolean
  /** The participant's own enrolment in this forum (participants only): whose posts may count as evidence. */
  participant: { participantId: string; enrolmentStatus: string } | null
}

const courseName = (identifier: string) => findCourse(identifier)?.name ?? identifier

/** The forum rows for these groups and (lead provider, course) pairs, created the first time they are needed. */
async function ensureForums(db: Db | Trx, groups: { id: string; course: string }[], courses: { leadProviderId: string; course: string }[]) {
  if (groups.length)
    await db
      .insertInto('forums')
      .values(groups.map((g) => ({ kind: 'group' as const, group_id: g.id, course_identifier: g.course })))
      .onConflict((oc) => oc.column('group_id').doNothing())
      .execute()
  if (courses.length)
    await db
      .insertInto('forums')
      .values(courses.map((c) => ({ kind: 'course' as const, lead_provider_id: c.leadProviderId, course_identifier: c.course })))
      .onConflict((oc) => oc.columns(['kind', 'lead_provider_id', 'course_identifier']).doNothing())
      .execute()
}

/** The groups and courses whose forums this person belongs to in this area. */
async function placesOf(db: Db | Trx, user: User, area: Area) {
  let groups: { id: string; course: string }[] = []
  let courses: { leadProviderId: string; course: string }[] = []
  if (area === 'participant') {
    const rows = await db
      .selectFrom('enrolments as e')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .leftJoin('group_memberships as gm', 'gm.enrolment_id', 'e.id')
      .select(['e.lead_provider_id', 'e.course_identifier', 'gm.group_id'])
      .where('p.user_id', '=', user.userId)
      .execute()
    groups = rows.flatMap((r) => (r.group_id ? [{ id: r.group_id, course: r.course_identifier }] : []))
    courses = rows.map((r) => ({ leadProviderId: r.lead_provider_id, course: r.course_identifier }))
  } else if (area === 'facilitator') {
    if (!organisationsWithRole(user, 'facilitator').length) return { groups, courses }
    const own = await db
      .selectFrom('participant_groups')
      .select(['id', 'course_identifier'])
      .where('facilitator_user_id', '=', user.userId)
      .execute()
    groups = own.map((g) => ({ id: g.id, course: g.course_identifier }))
    const rows = await db
      .selectFrom('participant_groups as g')
      .innerJoin('group_memberships as gm', 'gm.group_id', 'g.id')
      .innerJoin('enrolments as e', 'e.id', 'gm.enrolment_id')
      .select(['e.lead_provider_id', 'g.course_identifier'])
      .distinct()
      .where('g.facilitator_user_id', '=', user.userId)
      .execute()
    courses = rows.map((r) => ({ leadProviderId: r.lead_provider_id, course: r.course_identifier }))
  } else if (area === 'delivery-partner') {
    const partners = organisationsWithRole(user, 'delivery-partner-lead')
    if (partners.length)
      groups = (
        await db.selectFrom('participant_groups').select(['id', 'course_identifier']).where('delivery_partner_id', 'in', partners).execute()
      ).map((g) => ({ id: g.id, course: g.course_identifier }))
  } else {
    const providers = organisationsWithRole(user, 'lead-provider-admin')
    if (providers.length)
      courses = (
        await db
          .selectFrom('enrolments')
          .select(['lead_provider_id', 'course_identifier'])
          .distinct()
          .where('lead_provider_id', 'in', providers)
          .execute()
      ).map((r) => ({ leadProviderId: r.lead_provider_id, course: r.course_identifier }))
  }
  const uniqueCourses = [...new Map(courses.map((c) => [`${c.leadProviderId}/${c.course}`, c])).values()]
  return { groups, courses: uniqueCourses }
}

/** The forums this person belongs to in this area, most recent activity first. */
export async function forumsFor(db: Db, user: User, area: Area): Promise<ForumSummary[]> {
  const { groups, courses } = await placesOf(db, user, area)
  if (!groups.length && !courses.length) return []
  await ensureForums(db, groups, courses)
  const rows = await db
    .selectFrom('forums as f')
    .leftJoin('participant_groups as g', 'g.id', 'f.group_id')
    .leftJoin('organisations as lp', 'lp.id', 'f.lead_provider_id')
    .select((eb) => [
      'f.id',
      'f.kind',
      'f.course_identifier',
      'g.name as group_name',
      'g.cohort',
      'lp.name as lead_provider_name',
      eb.selectFrom('forum_threads as t').select(eb.fn.countAll<string>().as('n')).whereRef('t.forum_id', '=', 'f.id').as('threads'),
      eb
        .selectFrom('forum_threads as t')
        .select((e2) => e2.fn.max('t.last_activity_at').as('m'))
        .whereRef('t.forum_id', '=', 'f.id')
        .as('last_activity'),
    ])
    .where((eb) =>
      eb.or([
        ...(groups.length
          ? [
              eb(
                'f.group_id',
                'in',
                groups.map((g) => g.id),
              ),
            ]
          : []),
        ...courses.map((c) =>
          eb.and([eb('f.kind', '=', 'course'), eb('f.lead_provider_id', '=', c.leadProviderId), eb('f.course_identifier', '=', c.course)]),
        ),
      ]),
    )
    .execute()
  return rows
    .map((r) => ({
      id: r.id,
      kind: r.kind,
      name: forumName(r),
      courseIdentifier: r.course_identifier,
      threads: Number(r.threads ?? 0),
      lastActivityAt: r.last_activity ? new Date(r.last_activity as unknown as string) : null,
    }))
    .sort((a, b) => (b.lastActivityAt?.getTime() ?? 0) - (a.lastActivityAt?.getTime() ?? 0) || a.name.localeCompare(b.name))
}

function forumName(r: {
  kind: ForumKind
  course_identifier: string
  group_name: string | null
  cohort?: string | null
  lead_provider_name: string | null
}) {
  return r.kind === 'group'
    ? `${r.group_name} (${courseName(r.course_identifier)}, ${r.cohort})`
    : `${courseName(r.course_identifier)}: all participants (${r.lead_provider_name})`
}

/** This person's place in a forum from this area, or not found (no hint that the forum exists). */
export async function membershipOf(db: Db | Trx, user: User, area: Area, forumId: string): Promise<Membership> {
  if (!/^[0-9a-f-]{36}$/i.test(forumId)) throw notFound('Forum')
  const f = await db
    .selectFrom('forums as f')
    .leftJoin('participant_groups as g', 'g.id', 'f.group_id')
    .leftJoin('organisations as lp', 'lp.id', 'f.lead_provider_id')
    .select([
      'f.id',
      'f.kind',
      'f.group_id',
      'f.lead_provider_id',
      'f.course_identifier',
      'f.activity_code',
      'g.name as group_name',
      'g.cohort',
      'g.delivery_partner_id',
      'g.facilitator_user_id',
      'lp.name as lead_provider_name',
    ])
    .where('f.id', '=', forumId)
    .executeTakeFirst()
  if (!f) throw notFound('Forum')
  const forum = {
    id: f.id,
    kind: f.kind,
    name: forumName(f),
    courseIdentifier: f.course_identifier,
    activityCode: f.activity_code,
    leadProviderId: f.lead_provider_id,
  }
  let result: Membership | null = null
  if (area === 'participant') {
    let q = db
      .selectFrom('enrolments as e')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .select(['e.participant_id', 'e.status'])
      .where('p.user_id', '=', user.userId)
    q =
      f.kind === 'group'
        ? q.innerJoin('group_memberships as gm', 'gm.enrolment_id', 'e.id').where('gm.group_id', '=', f.group_id!)
        : q.where('e.lead_provider_id', '=', f.lead_provider_id!).where('e.course_identifier', '=', f.course_identifier)
    const e = await q.executeTakeFirst()
    if (e) result = { forum, moderator: false, participant: { participantId: e.participant_id, enrolmentStatus: e.status } }
  } else if (area === 'facilitator') {
    if (organisationsWithRole(user, 'facilitator').length) {
      const member =
        f.kind === 'group'
          ? f.facilitator_user_id === user.userId
          : Boolean(
              await db
                .selectFrom('participant_groups as g')
                .innerJoin('group_memberships as gm', 'gm.group_id', 'g.id')
                .innerJoin('enrolments as e', 'e.id', 'gm.enrolment_id')
                .select('g.id')
                .where('g.facilitator_user_id', '=', user.userId)
                .where('g.course_identifier', '=', f.course_identifier)
                .where('e.lead_provider_id', '=', f.lead_provider_id!)
                .executeTakeFirst(),
            )
      if (member) result = { forum, moderator: true, participant: null }
    }
  } else if (area === 'delivery-partner') {
    if (f.kind === 'group' && organisationsWithRole(user, 'delivery-partner-lead').includes(f.delivery_partner_id!))
      result = { forum, moderator: true, participant: null }
  } else if (f.kind === 'course' && organisationsWithRole(user, 'lead-provider-admin').includes(f.lead_provider_id!)) {
    result = { forum, moderator: true, participant: null }
  }
  if (!result) throw notFound('Forum')
  return result
}

export type ThreadSummary = {
  id: string
  title: string
  author: string
  createdAt: Date
  lastActivityAt: Date
  replies: number
  locked: boolean
}

export async function threadsOf(db: Db, forumId: string, page: number): Promise<{ threads: ThreadSummary[]; total: number }> {
  const [rows, count] = await Promise.all([
    db
      .selectFrom('forum_threads as t')
      .innerJoin('users as u', 'u.id', 't.created_by')
      .select((eb) => [
        't.id',
        't.title',
        'u.full_name',
        't.created_at',
        't.last_activity_at',
        't.locked_at',
        eb.selectFrom('forum_posts as p').select(eb.fn.countAll<string>().as('n')).whereRef('p.thread_id', '=', 't.id').as('posts'),
      ])
      .where('t.forum_id', '=', forumId)
      .orderBy('t.last_activity_at', 'desc')
      .orderBy('t.id', 'desc')
      .limit(THREADS_PER_PAGE)
      .offset((page - 1) * THREADS_PER_PAGE)
      .execute(),
    db
      .selectFrom('forum_threads')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('forum_id', '=', forumId)
      .executeTakeFirstOrThrow(),
  ])
  return {
    total: Number(count.n),
    threads: rows.map((r) => ({
      id: r.id,
      title: r.title,
      author: r.full_name,
      createdAt: r.created_at,
      lastActivityAt: r.last_activity_at,
      replies: Math.max(0, Number(r.posts ?? 1) - 1),
      locked: r.locked_at !== null,
    })),
  }
}

export type PostView = {
  id: string
  author: string
  own: boolean
  createdAt: Date
  /** Null when hidden from this reader. */
  body: string | null
  hidden: { reason: string; at: Date } | null
}

export async function loadThread(db: Db | Trx, forumId: string, threadId: string) {
  if (!/^[0-9a-f-]{36}$/i.test(threadId)) throw notFound('Thread')
  const thread = await db
    .selectFrom('forum_threads')
    .select(['id', 'title', 'locked_at', 'created_by'])
    .where('id', '=', threadId)
    .where('forum_id', '=', forumId)
    .executeTakeFirst()
  if (!thread) throw notFound('Thread')
  return thread
}

/** A thread's posts, oldest first. A hidden post's text is shown only to its author and to moderators. */
export async function postsOf(db: Db, user: User, membership: Membership, threadId: string, page: number) {
  const [rows, count] = await Promise.all([
    db
      .selectFrom('forum_posts as p')
      .innerJoin('users as u', 'u.id', 'p.author_user_id')
      .select(['p.id', 'p.body', 'p.created_at', 'p.author_user_id', 'u.full_name', 'p.hidden_at', 'p.hidden_reason'])
      .where('p.thread_id', '=', threadId)
      .orderBy('p.created_at')
      .orderBy('p.id')
      .limit(POSTS_PER_PAGE)
      .offset((page - 1) * POSTS_PER_PAGE)
      .execute(),
    db
      .selectFrom('forum_posts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('thread_id', '=', threadId)
      .executeTakeFirstOrThrow(),
  ])
  const posts: PostView[] = rows.map((r) => {
    const own = r.author_user_id === user.userId
    const hidden = r.hidden_at ? { reason: r.hidden_reason ?? '', at: r.hidden_at } : null
    return {
      id: r.id,
      author: r.full_name,
      own,
      createdAt: r.created_at,
      body: hidden && !own && !membership.moderator ? null : r.body,
      hidden,
    }
  })
  return { posts, total: Number(count.n) }
}

type EvidenceServices = { designs: DesignVersions; catalogue: Catalogue }

/** A participant's post counts where the forum names a design activity (their first one records it). */
async function participation(trx: Trx, services: EvidenceServices, user: User, m: Membership): Promise<RecordedActivity | null> {
  if (!m.forum.activityCode || !m.participant) return null
  return recordParticipation(trx, services, user, m.participant.participantId, m.forum.activityCode)
}

/** A post or thread repeated by the same author within this window is taken as the same one sent twice. */
const REPEAT_WINDOW = '2 minutes'

function refuseWithdrawn(m: Membership) {
  if (m.participant && (m.participant.enrolmentStatus === 'withdrawn' || m.participant.enrolmentStatus === 'deferred'))
    throw new AppError('invalid-transition', `You are ${m.participant.enrolmentStatus}: you can read this forum but not post in it`)
}

export async function startThread(
  db: Db,
  services: EvidenceServices,
  user: User,
  m: Membership,
  input: { title: string; body: string },
): Promise<{ threadId: string; evidence: RecordedActivity | null }> {
  refuseWithdrawn(m)
  return db.transaction().execute(async (trx) => {
    // One author's threads in a forum, one at a time: a form sent twice (a double click without
    // JavaScript) finds the first thread instead of making a second.
    await trx.selectFrom('forums').select('id').where('id', '=', m.forum.id).forUpdate().execute()
    const repeat = await trx
      .selectFrom('forum_threads as t')
      .innerJoin('forum_posts as p', 'p.thread_id', 't.id')
      .select('t.id')
      .where('t.forum_id', '=', m.forum.id)
      .where('t.created_by', '=', user.userId)
      .where('t.title', '=', input.title)
      .where('p.body', '=', input.body)
      .where('t.created_at', '>', sql<Date>`now() - ${REPEAT_WINDOW}::interval`)
      .executeTakeFirst()
    if (repeat) return { threadId: repeat.id, evidence: null }
    const thread = await trx
      .insertInto('forum_threads')
      .values({ forum_id: m.forum.id, title: input.title, created_by: user.userId })
      .returning('id')
      .executeTakeFirstOrThrow()
    const post = await trx
      .insertInto('forum_posts')
      .values({ thread_id: thread.id, author_user_id: user.userId, body: input.body })
      .returning('id')
      .executeTakeFirstOrThrow()
    await recordAudit(trx, {
      by: user,
      action: 'forum-thread.created',
      entityType: 'forum-thread',
      entityId: thread.id,
      after: { forum_id: m.forum.id, title: input.title, post_id: post.id },
    })
    return { threadId: thread.id, evidence: await participation(trx, services, user, m) }
  })
}

export async function reply(
  db: Db,
  services: EvidenceServices,
  user: User,
  m: Membership,
  threadId: string,
  body: string,
): Promise<{ postId: string; evidence: RecordedActivity | null }> {
  refuseWithdrawn(m)
  return db.transaction().execute(async (trx) => {
    // Locking the row: a reply cannot slip in while a moderator locks the thread.
    const thread = await trx
      .selectFrom('forum_threads')
      .select(['id', 'locked_at'])
      .where('id', '=', threadId)
      .where('forum_id', '=', m.forum.id)
      .forUpdate()
      .executeTakeFirst()
    if (!thread) throw notFound('Thread')
    if (thread.locked_at) throw new AppError('invalid-transition', 'This thread is locked: no more replies can be added')
    // The same reply sent twice (the thread row is locked, so concurrent copies wait here) is the first one.
    const repeat = await trx
      .selectFrom('forum_posts')
      .select('id')
      .where('thread_id', '=', thread.id)
      .where('author_user_id', '=', user.userId)
      .where('body', '=', body)
      .where('created_at', '>', sql<Date>`now() - ${REPEAT_WINDOW}::interval`)
      .executeTakeFirst()
    if (repeat) return { postId: repeat.id, evidence: null }
    const post = await trx
      .insertInto('forum_posts')
      .values({ thread_id: thread.id, author_user_id: user.userId, body })
      .returning(['id', 'created_at'])
      .executeTakeFirstOrThrow()
    await trx.updateTable('forum_threads').set({ last_activity_at: post.created_at }).where('id', '=', thread.id).execute()
    await recordAudit(trx, {
      by: user,
      action: 'forum-post.created',
      entityType: 'forum-post',
      entityId: post.id,
      after: { thread_id: thread.id },
    })
    return { postId: post.id, evidence: await participation(trx, services, user, m) }
  })
}

/** A moderator hides a post with a reason: the post is kept, and its author sees that it was hidden and why. */
export async function hidePost(db: Db, user: User, m: Membership, postId: string, reason: string): Promise<{ threadId: string }> {
  if (!m.moderator) throw notFound('Post')
  if (!/^[0-9a-f-]{36}$/i.test(postId)) throw notFound('Post')
  return db.transaction().execute(async (trx) => {
    const post = await trx
      .selectFrom('forum_posts as p')
      .innerJoin('forum_threads as t', 't.id', 'p.thread_id')
      .select(['p.id', 'p.thread_id', 'p.hidden_at'])
      .where('p.id', '=', postId)
      .where('t.forum_id', '=', m.forum.id)
      .executeTakeFirst()
    if (!post) throw notFound('Post')
    if (post.hidden_at) return { threadId: post.thread_id }
    await trx
      .updateTable('forum_posts')
      .set({ hidden_at: sql`now()`, hidden_by: user.userId, hidden_reason: reason })
      .where('id', '=', post.id)
      .execute()
    await recordAudit(trx, { by: user, action: 'forum-post.hidden', entityType: 'forum-post', entityId: post.id, after: { reason } })
    return { threadId: post.thread_id }
  })
}

export async function setLocked(db: Db, user: User, m: Membership, threadId: string, locked: boolean): Promise<void> {
  if (!m.moderator) throw notFound('Thread')
  await db.transaction().execute(async (trx) => {
    const thread = await loadThread(trx, m.forum.id, threadId)
    if (Boolean(thread.locked_at) === locked) return
    await trx
      .updateTable('forum_threads')
      .set(locked ? { locked_at: sql`now()`, locked_by: user.userId } : { locked_at: null, locked_by: null })
      .where('id', '=', thread.id)
      .execute()
    await recordAudit(trx, {
      by: user,
      action: locked ? 'forum-thread.locked' : 'forum-thread.unlocked',
      entityType: 'forum-thread',
      entityId: thread.id,
    })
  })
}

/** A lead provider's admin links its course forum to a design activity (or unlinks it: null). */
export async function setForumActivity(db: Db, user: User, m: Membership, activityCode: string | null): Promise<void> {
  if (
    m.forum.kind !== 'course' ||
    !m.moderator ||
    !m.forum.leadProviderId ||
    !organisationsWithRole(user, 'lead-provider-admin').includes(m.forum.leadProviderId)
  )
    throw notFound('Forum')
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('forums').set({ activity_code: activityCode }).where('id', '=', m.forum.id).execute()
    await recordAudit(trx, {
      by: user,
      action: 'forum.activity-set',
      entityType: 'forum',
      entityId: m.forum.id,
      before: { activity_code: m.forum.activityCode },
      after: { activity_code: activityCode },
    })
  })
}

/** Design activities a forum can count as: self-study ones (evidenced by activity rows) of the course, in any version's design. */
export function forumActivityChoices(catalogue: Catalogue, leadProviderCode: string, courseIdentifier: string) {
  const design = catalogue.design(leadProviderCode, courseIdentifier)
  if (!design) return []
  return design.blocks
    .filter((b) => !b.provisional)
    .flatMap((b) => b.activities)
    .filter((a) => a.evidence === 'activity')
    .map((a) => ({ code: a.code, title: a.title, component: a.component }))
}
