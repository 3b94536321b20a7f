import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import { cohortPattern, findCourse } from '../catalogue/courses.ts'
import type { Db, Trx } from '../db/database.ts'
import type { EnrolmentStatus } from '../db/schema.ts'
import { AppError, notFound } from '../errors.ts'
import { statusLabels } from '../participants/lifecycle.ts'
import type { Principal } from '../policy/principal.ts'

// A delivery partner's local groups (issue 7, onboarding): each course and cohort a partner runs is
// taught in groups of participants with a facilitator. An accepted participant is placed in the
// partner's group for their course and cohort with the fewest members ("Group 1" is created when the
// partner has none yet); when the enrolment changes cohort, placing it again moves it. The partner's
// lead adds groups and moves participants between groups of the same course and cohort.

/** Enrolments in these states hold a place in a group; a withdrawn one no longer counts. */
const placedStatuses: EnrolmentStatus[] = ['accepted', 'active', 'deferred']
const countedStatuses: EnrolmentStatus[] = ['accepted', 'active', 'deferred', 'completed']

const userIdOf = (by: Principal) => (by.kind === 'user' ? by.userId : null)
const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true, sensitivity: 'base' })

/** The group a new member joins: the one with the fewest members; ties go to the first by name (pure). */
export function chooseGroup<G extends { name: string; members: number }>(groups: readonly G[]): G | undefined {
  return [...groups].sort((a, b) => a.members - b.members || byName(a.name, b.name))[0]
}

export const courseName = (identifier: string) => findCourse(identifier)?.name ?? identifier

type GroupWithCount = { id: string; name: string; members: number }

/** A partner's groups for one course and cohort, with how many current members each has. */
async function groupsFor(db: Db | Trx, deliveryPartnerId: string, courseIdentifier: string, cohort: string): Promise<GroupWithCount[]> {
  return db
    .selectFrom('participant_groups as g')
    .leftJoin('group_memberships as m', 'm.group_id', 'g.id')
    .leftJoin('enrolments as e', (j) => j.onRef('e.id', '=', 'm.enrolment_id').on('e.status', 'in', countedStatuses))
    .select(['g.id', 'g.name', sql<number>`count(e.id)::int`.as('members')])
    .where('g.delivery_partner_id', '=', deliveryPartnerId)
    .where('g.course_identifier', '=', courseIdentifier)
    .where('g.cohort', '=', cohort)
    .groupBy(['g.id', 'g.name'])
    .execute()
}

async function enrolmentOf(db: Db | Trx, enrolmentId: string) {
  return db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'e.delivery_partner_id', 'e.course_identifier', 'e.cohort', 'e.status', 'p.full_name'])
    .where('e.id', '=', enrolmentId)
    .executeTakeFirst()
}

async function membershipOf(db: Db | Trx, enrolmentId: string) {
  return db
    .selectFrom('group_memberships as m')
    .innerJoin('participant_groups as g', 'g.id', 'm.group_id')
    .select(['g.id', 'g.name', 'g.delivery_partner_id', 'g.course_identifier', 'g.cohort'])
    .where('m.enrolment_id', '=', enrolmentId)
    .executeTakeFirst()
}

async function setMembership(trx: Trx, by: Principal, enrolmentId: string, groupId: string) {
  await trx
    .insertInto('group_memberships')
    .values({ enrolment_id: enrolmentId, group_id: groupId, placed_by: userIdOf(by) })
    .onConflict((oc) => oc.column('enrolment_id').doUpdateSet({ group_id: groupId, placed_at: sql`now()`, placed_by: userIdOf(by) }))
    .execute()
}

export type Placement = {
  groupId: string
  groupName: string
  /** 'placed' the first time, 'moved' from a group of another course or cohort, 'unchanged' when already right. */
  outcome: 'placed' | 'moved' | 'unchanged'
  /** True when the partner had no group for the course and cohort and "Group 1" was created. */
  createdGroup: boolean
}

/**
 * Places an enrolment in its delivery partner's group for its course and cohort, in the caller's
 * transaction: the group with the fewest members (ties by name), creating "Group 1" when the partner
 * has none. Already in a group for its current course and cohort: nothing changes. In a group of
 * another cohort (the enrolment moved cohort): it is moved. No delivery partner, or withdrawn or
 * completed: nothing (null).
 */
export async function placeInGroup(trx: Trx, by: Principal, enrolmentId: string): Promise<Placement | null> {
  const e = await enrolmentOf(trx, enrolmentId)
  if (!e) throw notFound('Enrolment')
  if (!e.delivery_partner_id || !placedStatuses.includes(e.status)) return null
  const current = await membershipOf(trx, enrolmentId)
  if (
    current &&
    current.delivery_partner_id === e.delivery_partner_id &&
    current.course_identifier === e.course_identifier &&
    current.cohort === e.cohort
  ) {
    return { groupId: current.id, groupName: current.name, outcome: 'unchanged', createdGroup: false }
  }

  let createdGroup = false
  let target = chooseGroup(await groupsFor(trx, e.delivery_partner_id, e.course_identifier, e.cohort))
  if (!target) {
    const created = await trx
      .insertInto('participant_groups')
      .values({
        delivery_partner_id: e.delivery_partner_id,
        course_identifier: e.course_identifier,
        cohort: e.cohort,
        name: 'Group 1',
        created_by: userIdOf(by),
      })
      .onConflict((oc) => oc.columns(['delivery_partner_id', 'course_identifier', 'cohort', 'name']).doNothing())
      .returning(['id', 'name'])
      .executeTakeFirst()
    if (created) {
      createdGroup = true
      await recordAudit(trx, {
        by,
        action: 'participant-group.created',
        entityType: 'participant-group',
        entityId: created.id,
        after: { deliveryPartnerId: e.delivery_partner_id, courseIdentifier: e.course_identifier, cohort: e.cohort, name: created.name },
      })
    }
    target = created ? { ...created, members: 0 } : chooseGroup(await groupsFor(trx, e.delivery_partner_id, e.course_identifier, e.cohort))
    if (!target) throw new Error(`No group for enrolment ${enrolmentId}`)
  }

  await setMembership(trx, by, enrolmentId, target.id)
  const outcome = current ? 'moved' : 'placed'
  await recordAudit(trx, {
    by,
    action: outcome === 'moved' ? 'enrolment.group-moved' : 'enrolment.group-placed',
    entityType: 'enrolment',
    entityId: enrolmentId,
    before: current ? { groupId: current.id, groupName: current.name, cohort: current.cohort } : undefined,
    after: { groupId: target.id, groupName: target.name, cohort: e.cohort },
  })
  return { groupId: target.id, groupName: target.name, outcome, createdGroup }
}

/**
 * Places every enrolment with a delivery partner that is accepted, active or deferred and has no
 * group yet (existing data, e.g. the demo loader). Returns how many were placed.
 */
export async function placeUngrouped(db: Db | Trx, by: Principal): Promise<number> {
  const run = async (trx: Trx) => {
    const ungrouped = await trx
      .selectFrom('enrolments as e')
      .leftJoin('group_memberships as m', 'm.enrolment_id', 'e.id')
      .select('e.id')
      .where('e.delivery_partner_id', 'is not', null)
      .where('e.status', 'in', placedStatuses)
      .where('m.enrolment_id', 'is', null)
      .orderBy('e.created_at')
      .orderBy('e.id')
      .execute()
    let placed = 0
    for (const { id } of ungrouped) if (await placeInGroup(trx, by, id)) placed++
    return placed
  }
  return db.isTransaction ? run(db as Trx) : db.transaction().execute(run)
}

/** Moves an enrolment to another of its partner's groups for the same course and cohort. */
export async function moveToGroup(trx: Trx, by: Principal, enrolmentId: string, groupId: string): Promise<{ groupName: string }> {
  const e = await enrolmentOf(trx, enrolmentId)
  if (!e)
    throw new AppError('validation-failed', 'Choose a participant to move', [
      { field: 'enrolment', message: 'Choose a participant to move' },
    ])
  const group = /^[0-9a-f-]{36}$/i.test(groupId)
    ? await trx.selectFrom('participant_groups').selectAll().where('id', '=', groupId).executeTakeFirst()
    : undefined
  const refuse = (message: string, field = 'group') => new AppError('validation-failed', message, [{ field, message }])
  if (!group) throw refuse('Choose the group to move them to')
  if (!e.delivery_partner_id || group.delivery_partner_id !== e.delivery_partner_id) {
    throw refuse(`${group.name} belongs to another delivery partner: choose one of ${e.full_name}’s delivery partner’s groups`)
  }
  if (group.course_identifier !== e.course_identifier || group.cohort !== e.cohort) {
    throw refuse(
      `${group.name} is for ${courseName(group.course_identifier)}, ${group.cohort}: choose a group for ${e.full_name}’s course and cohort (${courseName(e.course_identifier)}, ${e.cohort})`,
    )
  }
  if (!placedStatuses.includes(e.status)) {
    throw refuse(`${e.full_name} is ${statusLabels[e.status].toLowerCase()}: only current participants can move group`, 'enrolment')
  }
  const current = await membershipOf(trx, enrolmentId)
  if (current?.id === group.id) throw refuse(`${e.full_name} is already in ${group.name}`)
  await setMembership(trx, by, enrolmentId, group.id)
  await recordAudit(trx, {
    by,
    action: 'enrolment.group-moved',
    entityType: 'enrolment',
    entityId: enrolmentId,
    before: current ? { groupId: current.id, groupName: current.name } : undefined,
    after: { groupId: group.id, groupName: group.name },
  })
  return { groupName: group.name }
}

export type NewGroup = {
  deliveryPartnerId: string
  courseIdentifier: string
  cohort: string
  name: string
  facilitatorUserId: string | null
}

/** Whether this person holds the facilitator role at the delivery partner. */
async function isFacilitatorAt(db: Db | Trx, userId: string, deliveryPartnerId: string): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/i.test(userId)) return false
  const row = await db
    .selectFrom('role_assignments')
    .select('id')
    .where('user_id', '=', userId)
    .where('role', '=', 'facilitator')
    .where('organisation_id', '=', deliveryPartnerId)
    .executeTakeFirst()
  return Boolean(row)
}

/**
 * Adds a group for a delivery partner's course and cohort. Errors name the field: course_cohort, name,
 * facilitator. The name is unique (ignoring case) among the partner's groups for the course and cohort.
 */
export async function createGroup(trx: Trx, by: Principal, input: NewGroup): Promise<{ id: string }> {
  const name = input.name.trim().replace(/\s+/g, ' ')
  const problems: { field: string; message: string }[] = []
  if (!findCourse(input.courseIdentifier) || !cohortPattern.test(input.cohort)) {
    problems.push({ field: 'course_cohort', message: 'Choose the course and cohort of the group' })
  }
  if (!name) problems.push({ field: 'name', message: 'Enter a name for the group' })
  else if (name.length > 100) problems.push({ field: 'name', message: 'The group’s name must be 100 characters or fewer' })
  if (input.facilitatorUserId && !(await isFacilitatorAt(trx, input.facilitatorUserId, input.deliveryPartnerId))) {
    problems.push({ field: 'facilitator', message: 'Choose a facilitator of your delivery partner' })
  }
  if (name && !problems.some((p) => p.field === 'course_cohort')) {
    const clash = await trx
      .selectFrom('participant_groups')
      .select('name')
      .where('delivery_partner_id', '=', input.deliveryPartnerId)
      .where('course_identifier', '=', input.courseIdentifier)
      .where('cohort', '=', input.cohort)
      .where(sql<string>`lower(name)`, '=', name.toLowerCase())
      .executeTakeFirst()
    if (clash) {
      problems.push({
        field: 'name',
        message: `There is already a group called ${clash.name} for ${courseName(input.courseIdentifier)}, ${input.cohort}: choose another name`,
      })
    }
  }
  if (problems.length) throw new AppError('validation-failed', problems[0]!.message, problems)

  const created = await trx
    .insertInto('participant_groups')
    .values({
      delivery_partner_id: input.deliveryPartnerId,
      course_identifier: input.courseIdentifier,
      cohort: input.cohort,
      name,
      facilitator_user_id: input.facilitatorUserId || null,
      created_by: userIdOf(by),
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await recordAudit(trx, {
    by,
    action: 'participant-group.created',
    entityType: 'participant-group',
    entityId: created.id,
    after: { ...input, name, facilitatorUserId: input.facilitatorUserId || null },
  })
  return created
}

// ---- Reading, for pages ----

export type GroupRow = {
  id: string
  name: string
  deliveryPartnerId: string
  deliveryPartnerName: string
  courseIdentifier: string
  courseName: string
  cohort: string
  facilitatorName: string | null
  members: number
}

/** The groups of these delivery partners, by partner, course, cohort and name, with current member counts. */
export async function listGroups(db: Db | Trx, deliveryPartnerIds: string[]): Promise<GroupRow[]> {
  if (deliveryPartnerIds.length === 0) return []
  const rows = await db
    .selectFrom('participant_groups as g')
    .innerJoin('organisations as o', 'o.id', 'g.delivery_partner_id')
    .leftJoin('users as f', 'f.id', 'g.facilitator_user_id')
    .leftJoin('group_memberships as m', 'm.group_id', 'g.id')
    .leftJoin('enrolments as e', (j) => j.onRef('e.id', '=', 'm.enrolment_id').on('e.status', 'in', countedStatuses))
    .select([
      'g.id',
      'g.name',
      'g.delivery_partner_id',
      'o.name as partner_name',
      'g.course_identifier',
      'g.cohort',
      'f.full_name as facilitator_name',
      sql<number>`count(e.id)::int`.as('members'),
    ])
    .where('g.delivery_partner_id', 'in', deliveryPartnerIds)
    .groupBy(['g.id', 'o.name', 'f.full_name'])
    .execute()
  return rows
    .map((r) => ({
      id: r.id,
      name: r.name,
      deliveryPartnerId: r.delivery_partner_id,
      deliveryPartnerName: r.partner_name,
      courseIdentifier: r.course_identifier,
      courseName: courseName(r.course_identifier),
      cohort: r.cohort,
      facilitatorName: r.facilitator_name,
      members: r.members,
    }))
    .sort(
      (a, b) =>
        a.deliveryPartnerName.localeCompare(b.deliveryPartnerName) ||
        a.courseName.localeCompare(b.courseName) ||
        a.cohort.localeCompare(b.cohort) ||
        byName(a.name, b.name),
    )
}

export type GroupMember = { enrolmentId: string; fullName: string; status: EnrolmentStatus; statusText: string; placedAt: Date }

/** One group with its members (every membership, withdrawn ones included, by name) and its sibling groups. */
export async function loadGroup(db: Db | Trx, groupId: string) {
  if (!/^[0-9a-f-]{36}$/i.test(groupId)) return undefined
  const group = await db
    .selectFrom('participant_groups as g')
    .innerJoin('organisations as o', 'o.id', 'g.delivery_partner_id')
    .leftJoin('users as f', 'f.id', 'g.facilitator_user_id')
    .select([
      'g.id',
      'g.name',
      'g.delivery_partner_id',
      'o.name as partner_name',
      'g.course_identifier',
      'g.cohort',
      'f.full_name as facilitator_name',
    ])
    .where('g.id', '=', groupId)
    .executeTakeFirst()
  if (!group) return undefined
  const [members, siblings] = await Promise.all([
    db
      .selectFrom('group_memberships as m')
      .innerJoin('enrolments as e', 'e.id', 'm.enrolment_id')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .select(['e.id', 'p.full_name', 'e.status', 'm.placed_at'])
      .where('m.group_id', '=', groupId)
      .orderBy('p.full_name')
      .execute(),
    groupsFor(db, group.delivery_partner_id, group.course_identifier, group.cohort),
  ])
  return {
    id: group.id,
    name: group.name,
    deliveryPartnerId: group.delivery_partner_id,
    deliveryPartnerName: group.partner_name,
    courseIdentifier: group.course_identifier,
    courseName: courseName(group.course_identifier),
    cohort: group.cohort,
    facilitatorName: group.facilitator_name,
    members: members.map((m): GroupMember => ({
      enrolmentId: m.id,
      fullName: m.full_name,
      status: m.status,
      statusText: statusLabels[m.status],
      placedAt: m.placed_at,
    })),
    /** The partner's other groups for the same course and cohort: where a member can move. */
    otherGroups: siblings.filter((g) => g.id !== group.id).sort((a, b) => byName(a.name, b.name)),
  }
}

/** The course and cohort pairs a delivery partner has enrolments for (the choices for a new group). */
export async function courseCohortsOf(db: Db | Trx, deliveryPartnerId: string) {
  const rows = await db
    .selectFrom('enrolments')
    .select(['course_identifier', 'cohort'])
    .distinct()
    .where('delivery_partner_id', '=', deliveryPartnerId)
    .execute()
  return rows
    .map((r) => ({ courseIdentifier: r.course_identifier, cohort: r.cohort, courseName: courseName(r.course_identifier) }))
    .sort((a, b) => a.courseName.localeCompare(b.courseName) || a.cohort.localeCompare(b.cohort))
}

/** The people holding the facilitator role at a delivery partner, by name. */
export async function facilitatorsOf(db: Db | Trx, deliveryPartnerId: string) {
  return db
    .selectFrom('role_assignments as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id', 'u.full_name'])
    .distinct()
    .where('r.role', '=', 'facilitator')
    .where('r.organisation_id', '=', deliveryPartnerId)
    .where('u.status', '<>', 'disabled')
    .orderBy('u.full_name')
    .execute()
}
