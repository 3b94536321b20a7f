import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import { findCourse } from '../catalogue/courses.ts'
import type { Db, Trx } from '../db/database.ts'
import { AppError } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import type { AuditRatings } from './domains.ts'
import { groupSizeProblem } from './rules.ts'
import type { ObservationRating, PeopleGroupKind } from './schema.ts'

// Learning audits, journals, people groups, contacts, safeguarding concerns and facilitators' records.
// Every function is scoped by who asks: the routes pass the signed-in user's own ids, never a
// participant's or organisation's id from the request without checking it against their roles.

export type Deps = Pick<Services, 'db' | 'email' | 'config'>
type User = Principal & { kind: 'user' }

const courseName = (id: string | null) => (id ? (findCourse(id)?.name ?? id) : 'All courses')

// ---- A participant's enrolments ----

export type OwnEnrolment = {
  id: string
  courseIdentifier: string
  courseName: string
  cohort: string
  leadProviderId: string
  leadProviderCode: string
  leadProviderName: string
  deliveryPartnerId: string | null
  deliveryPartnerName: string | null
}

export async function ownEnrolments(db: Db | Trx, userId: string): Promise<OwnEnrolment[]> {
  const rows = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .select([
      'e.id',
      'e.course_identifier as courseIdentifier',
      'e.cohort',
      'e.lead_provider_id as leadProviderId',
      'lp.code as leadProviderCode',
      'lp.name as leadProviderName',
      'e.delivery_partner_id as deliveryPartnerId',
      'dp.name as deliveryPartnerName',
    ])
    .where('p.user_id', '=', userId)
    .orderBy('e.cohort', 'desc')
    .orderBy('e.course_identifier')
    .execute()
  return rows.map((r) => ({ ...r, courseName: courseName(r.courseIdentifier) }))
}

// ---- Learning audits (the participant's only) ----

export type LearningAudit = { id: string; takenOn: string; ratings: AuditRatings; note: string; createdAt: Date }

export async function auditsOf(db: Db | Trx, enrolmentId: string): Promise<LearningAudit[]> {
  const rows = await db
    .selectFrom('learning_audits')
    .select(['id', sql<string>`taken_on::text`.as('taken_on'), 'ratings', 'note', 'created_at'])
    .where('enrolment_id', '=', enrolmentId)
    .orderBy('created_at')
    .execute()
  return rows.map((r) => ({
    id: r.id,
    takenOn: r.taken_on,
    ratings: (typeof r.ratings === 'string' ? JSON.parse(r.ratings) : r.ratings) as AuditRatings,
    note: r.note,
    createdAt: r.created_at,
  }))
}

export async function addAudit(db: Db, by: User, enrolmentId: string, input: { takenOn: string; ratings: AuditRatings; note: string }) {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('learning_audits')
      .values({
        enrolment_id: enrolmentId,
        taken_on: input.takenOn,
        ratings: JSON.stringify(input.ratings),
        note: input.note,
        created_by: by.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    // The ratings are the participant's private self-assessment: the audit log says only that one was taken.
    await recordAudit(trx, {
      by,
      action: 'learning-audit.taken',
      entityType: 'enrolment',
      entityId: enrolmentId,
      after: { auditId: row.id },
    })
    return row.id
  })
}

// ---- The personal learning journal (the participant's only) ----

export type JournalEntry = {
  id: string
  entryOn: string
  title: string
  body: string
  enrolmentId: string | null
  block: string | null
  createdAt: Date
  updatedAt: Date
}

const journalColumns = [
  'id',
  sql<string>`entry_on::text`.as('entryOn'),
  'title',
  'body',
  'enrolment_id as enrolmentId',
  'block',
  'created_at as createdAt',
  'updated_at as updatedAt',
] as const

export const journalOf = (db: Db | Trx, userId: string): Promise<JournalEntry[]> =>
  db
    .selectFrom('journal_entries')
    .select(journalColumns)
    .where('user_id', '=', userId)
    .orderBy('entry_on', 'desc')
    .orderBy('created_at', 'desc')
    .execute()

/** One entry, if it is this user's (else undefined: no hint that it exists). */
export const journalEntry = (db: Db | Trx, userId: string, id: string): Promise<JournalEntry | undefined> =>
  db.selectFrom('journal_entries').select(journalColumns).where('id', '=', id).where('user_id', '=', userId).executeTakeFirst()

export type JournalInput = { entryOn: string; title: string; body: string; enrolmentId: string | null; block: string | null }

export async function saveJournalEntry(db: Db, by: User, input: JournalInput, id?: string): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const values = { entry_on: input.entryOn, title: input.title, body: input.body, enrolment_id: input.enrolmentId, block: input.block }
    let entryId = id
    if (id) {
      const updated = await trx
        .updateTable('journal_entries')
        .set({ ...values, updated_at: new Date() })
        .where('id', '=', id)
        .where('user_id', '=', by.userId)
        .returning('id')
        .executeTakeFirst()
      if (!updated) throw new AppError('not-found', 'Journal entry not found')
    } else {
      entryId = (
        await trx
          .insertInto('journal_entries')
          .values({ ...values, user_id: by.userId })
          .returning('id')
          .executeTakeFirstOrThrow()
      ).id
    }
    // Private: the audit log records that an entry changed, never its content.
    await recordAudit(trx, {
      by,
      action: id ? 'journal-entry.updated' : 'journal-entry.created',
      entityType: 'journal-entry',
      entityId: entryId!,
    })
    return entryId!
  })
}

// ---- People groups ----

export type GroupMember = { enrolmentId: string; fullName: string; email: string; courseName: string; cohort: string }
export type PeopleGroup = {
  id: string
  deliveryPartnerId: string
  kind: PeopleGroupKind
  name: string
  courseIdentifier: string | null
  cohort: string | null
  courseName: string
  description: string
  members: GroupMember[]
}

async function membersOf(db: Db | Trx, groupIds: string[]): Promise<Map<string, GroupMember[]>> {
  const out = new Map<string, GroupMember[]>()
  if (!groupIds.length) return out
  const rows = await db
    .selectFrom('people_group_members as m')
    .innerJoin('enrolments as e', 'e.id', 'm.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['m.group_id', 'm.enrolment_id', 'p.full_name', 'p.email', 'e.course_identifier', 'e.cohort'])
    .where('m.group_id', 'in', groupIds)
    .orderBy('p.full_name')
    .execute()
  for (const r of rows) {
    const list = out.get(r.group_id) ?? []
    list.push({
      enrolmentId: r.enrolment_id,
      fullName: r.full_name,
      email: r.email,
      courseName: courseName(r.course_identifier),
      cohort: r.cohort,
    })
    out.set(r.group_id, list)
  }
  return out
}

async function withMembers(
  db: Db | Trx,
  rows: {
    id: string
    delivery_partner_id: string
    kind: PeopleGroupKind
    name: string
    course_identifier: string | null
    cohort: string | null
    description: string
  }[],
) {
  const members = await membersOf(
    db,
    rows.map((r) => r.id),
  )
  return rows.map((r): PeopleGroup => ({
    id: r.id,
    deliveryPartnerId: r.delivery_partner_id,
    kind: r.kind,
    name: r.name,
    courseIdentifier: r.course_identifier,
    cohort: r.cohort,
    courseName: courseName(r.course_identifier),
    description: r.description,
    members: members.get(r.id) ?? [],
  }))
}

const groupColumns = ['g.id', 'g.delivery_partner_id', 'g.kind', 'g.name', 'g.course_identifier', 'g.cohort', 'g.description'] as const

export async function groupsOfPartner(db: Db | Trx, deliveryPartnerIds: string[]): Promise<PeopleGroup[]> {
  if (!deliveryPartnerIds.length) return []
  const rows = await db
    .selectFrom('people_groups as g')
    .select(groupColumns)
    .where('g.delivery_partner_id', 'in', deliveryPartnerIds)
    .orderBy('g.kind')
    .orderBy('g.name')
    .execute()
  return withMembers(db, rows)
}

export async function loadGroup(db: Db | Trx, deliveryPartnerIds: string[], id: string): Promise<PeopleGroup | undefined> {
  if (!deliveryPartnerIds.length) return undefined
  const row = await db
    .selectFrom('people_groups as g')
    .select(groupColumns)
    .where('g.id', '=', id)
    .where('g.delivery_partner_id', 'in', deliveryPartnerIds)
    .executeTakeFirst()
  return row && (await withMembers(db, [row]))[0]
}

/** The groups a participant is in (through any of their enrolments). */
export async function groupsOfParticipant(db: Db | Trx, userId: string): Promise<PeopleGroup[]> {
  const rows = await db
    .selectFrom('people_groups as g')
    .innerJoin('people_group_members as m', 'm.group_id', 'g.id')
    .innerJoin('enrolments as e', 'e.id', 'm.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(groupColumns)
    .where('p.user_id', '=', userId)
    .orderBy('g.kind')
    .orderBy('g.name')
    .execute()
  return withMembers(db, rows)
}

export type PartnerParticipant = { enrolmentId: string; fullName: string; courseIdentifier: string; courseName: string; cohort: string }

/** A delivery partner's participants (one row per enrolment), for choosing group members. */
export async function participantsOfPartner(
  db: Db | Trx,
  deliveryPartnerId: string,
  programme?: { courseIdentifier: string; cohort: string },
): Promise<PartnerParticipant[]> {
  let q = db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'p.full_name', 'e.course_identifier', 'e.cohort'])
    .where('e.delivery_partner_id', '=', deliveryPartnerId)
    .where('e.status', 'not in', ['withdrawn'])
  if (programme) q = q.where('e.course_identifier', '=', programme.courseIdentifier).where('e.cohort', '=', programme.cohort)
  const rows = await q.orderBy('e.course_identifier').orderBy('e.cohort').orderBy('p.full_name').execute()
  return rows.map((r) => ({
    enrolmentId: r.id,
    fullName: r.full_name,
    courseIdentifier: r.course_identifier,
    courseName: courseName(r.course_identifier),
    cohort: r.cohort,
  }))
}

/** The courses and cohorts a delivery partner's participants are on (not withdrawn), with how many on each. */
export async function programmesOfPartner(
  db: Db | Trx,
  deliveryPartnerId: string,
): Promise<{ courseIdentifier: string; courseName: string; cohort: string; participants: number }[]> {
  const rows = await db
    .selectFrom('enrolments as e')
    .select(['e.course_identifier', 'e.cohort', (eb) => eb.fn.countAll<string>().as('n')])
    .where('e.delivery_partner_id', '=', deliveryPartnerId)
    .where('e.status', 'not in', ['withdrawn'])
    .groupBy(['e.course_identifier', 'e.cohort'])
    .orderBy('e.course_identifier')
    .orderBy('e.cohort')
    .execute()
  return rows.map((r) => ({
    courseIdentifier: r.course_identifier,
    courseName: courseName(r.course_identifier),
    cohort: r.cohort,
    participants: Number(r.n),
  }))
}

export type GroupInput = {
  kind: PeopleGroupKind
  name: string
  courseIdentifier: string | null
  cohort: string | null
  description: string
}

/** Checks members against the group: the partner's own participants, on the group's course and cohort. */
async function checkMembers(
  trx: Trx,
  deliveryPartnerId: string,
  group: { courseIdentifier: string | null; cohort: string | null },
  enrolmentIds: string[],
) {
  if (!enrolmentIds.length) return
  // A posted value that is not a uuid is no participant of theirs (rather than an error from PostgreSQL).
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
  if (!enrolmentIds.every((id) => typeof id === 'string' && uuid.test(id)))
    throw new AppError('validation-failed', 'Select your own participants', [
      { field: 'members', message: 'Select participants from your own delivery partner' },
    ])
  const rows = await trx
    .selectFrom('enrolments')
    .select(['id', 'course_identifier', 'cohort'])
    .where('id', 'in', enrolmentIds)
    .where('delivery_partner_id', '=', deliveryPartnerId)
    .execute()
  if (rows.length !== new Set(enrolmentIds).size)
    throw new AppError('validation-failed', 'Select your own participants', [
      { field: 'members', message: 'Select participants from your own delivery partner' },
    ])
  for (const r of rows) {
    if ((group.courseIdentifier && r.course_identifier !== group.courseIdentifier) || (group.cohort && r.cohort !== group.cohort))
      throw new AppError('validation-failed', 'Members must be on the group’s course', [
        {
          field: 'members',
          message: `Select participants on ${courseName(group.courseIdentifier)}${group.cohort ? `, ${group.cohort}` : ''}`,
        },
      ])
  }
}

/** Buddies: a participant has at most one buddy group per enrolment. */
async function checkNotAlreadyBuddies(trx: Trx, enrolmentIds: string[], exceptGroup?: string) {
  if (!enrolmentIds.length) return
  let q = trx
    .selectFrom('people_group_members as m')
    .innerJoin('people_groups as g', 'g.id', 'm.group_id')
    .innerJoin('enrolments as e', 'e.id', 'm.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['p.full_name'])
    .where('g.kind', '=', 'buddies')
    .where('m.enrolment_id', 'in', enrolmentIds)
  if (exceptGroup) q = q.where('g.id', '!=', exceptGroup)
  const taken = await q.execute()
  if (taken.length)
    throw new AppError('validation-failed', 'Already has buddies', [
      {
        field: 'members',
        message: `${taken.map((t) => t.full_name).join(' and ')} already ${taken.length > 1 ? 'have' : 'has'} buddies on this course`,
      },
    ])
}

export async function createGroup(db: Db, by: User, deliveryPartnerId: string, input: GroupInput, enrolmentIds: string[]): Promise<string> {
  const size = groupSizeProblem(input.kind, new Set(enrolmentIds).size)
  if (size) throw new AppError('validation-failed', size, [{ field: 'members', message: size }])
  return db.transaction().execute(async (trx) => {
    const clash = await trx
      .selectFrom('people_groups')
      .select('id')
      .where('delivery_partner_id', '=', deliveryPartnerId)
      .where('kind', '=', input.kind)
      .where('name', '=', input.name)
      .executeTakeFirst()
    if (clash)
      throw new AppError('validation-failed', 'Name taken', [
        { field: 'name', message: 'You already have a group of this kind with this name' },
      ])
    await checkMembers(trx, deliveryPartnerId, input, enrolmentIds)
    if (input.kind === 'buddies') await checkNotAlreadyBuddies(trx, enrolmentIds)
    const group = await trx
      .insertInto('people_groups')
      .values({
        delivery_partner_id: deliveryPartnerId,
        kind: input.kind,
        name: input.name,
        course_identifier: input.courseIdentifier,
        cohort: input.cohort,
        description: input.description,
        created_by: by.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    for (const enrolmentId of new Set(enrolmentIds))
      await trx.insertInto('people_group_members').values({ group_id: group.id, enrolment_id: enrolmentId, added_by: by.userId }).execute()
    await recordAudit(trx, {
      by,
      action: 'people-group.created',
      entityType: 'people-group',
      entityId: group.id,
      after: { ...input, members: enrolmentIds },
    })
    return group.id
  })
}

/** Adds or removes one member, keeping buddies to pairs or threes (the group row is locked meanwhile). */
export async function changeMember(
  db: Db,
  by: User,
  deliveryPartnerIds: string[],
  groupId: string,
  enrolmentId: string,
  change: 'add' | 'remove',
) {
  return db.transaction().execute(async (trx) => {
    const group = await trx
      .selectFrom('people_groups')
      .select(['id', 'delivery_partner_id', 'kind', 'course_identifier', 'cohort'])
      .where('id', '=', groupId)
      .where('delivery_partner_id', 'in', deliveryPartnerIds.length ? deliveryPartnerIds : ['00000000-0000-0000-0000-000000000000'])
      .forUpdate()
      .executeTakeFirst()
    if (!group) throw new AppError('not-found', 'Group not found')
    const current = await trx.selectFrom('people_group_members').select('enrolment_id').where('group_id', '=', groupId).execute()
    const isMember = current.some((m) => m.enrolment_id === enrolmentId)
    if (change === 'add') {
      if (isMember) return
      const size = groupSizeProblem(group.kind, current.length + 1)
      if (size) throw new AppError('validation-failed', size, [{ field: 'member', message: size }])
      await checkMembers(trx, group.delivery_partner_id, { courseIdentifier: group.course_identifier, cohort: group.cohort }, [enrolmentId])
      if (group.kind === 'buddies') await checkNotAlreadyBuddies(trx, [enrolmentId], groupId)
      await trx.insertInto('people_group_members').values({ group_id: groupId, enrolment_id: enrolmentId, added_by: by.userId }).execute()
    } else {
      if (!isMember) return
      const size = groupSizeProblem(group.kind, current.length - 1)
      if (size)
        throw new AppError('validation-failed', size, [
          { field: 'member', message: 'Buddies work in pairs or threes: add someone else before removing this person' },
        ])
      await trx.deleteFrom('people_group_members').where('group_id', '=', groupId).where('enrolment_id', '=', enrolmentId).execute()
    }
    await recordAudit(trx, {
      by,
      action: `people-group.member-${change === 'add' ? 'added' : 'removed'}`,
      entityType: 'people-group',
      entityId: groupId,
      after: { enrolmentId },
    })
  })
}

// ---- Contacts ----

export type Contact = { name: string; email: string; phone: string }

export async function programmeContacts(db: Db | Trx, leadProviderId: string): Promise<{ programme?: Contact; technicalHelp?: Contact }> {
  const rows = await db
    .selectFrom('programme_contacts')
    .select(['kind', 'name', 'email', 'phone'])
    .where('lead_provider_id', '=', leadProviderId)
    .execute()
  const pick = (kind: string) => {
    const r = rows.find((x) => x.kind === kind)
    return r && { name: r.name, email: r.email, phone: r.phone }
  }
  return { programme: pick('programme'), technicalHelp: pick('technical-help') }
}

export async function saveProgrammeContacts(
  db: Db,
  by: User,
  leadProviderId: string,
  contacts: { programme: Contact; technicalHelp: Contact },
) {
  await db.transaction().execute(async (trx) => {
    for (const [kind, c] of [
      ['programme', contacts.programme],
      ['technical-help', contacts.technicalHelp],
    ] as const) {
      await trx
        .insertInto('programme_contacts')
        .values({ lead_provider_id: leadProviderId, kind, name: c.name, email: c.email, phone: c.phone, updated_by: by.userId })
        .onConflict((oc) =>
          oc
            .columns(['lead_provider_id', 'kind'])
            .doUpdateSet({ name: c.name, email: c.email, phone: c.phone, updated_by: by.userId, updated_at: new Date() }),
        )
        .execute()
    }
    await recordAudit(trx, { by, action: 'programme-contacts.set', entityType: 'organisation', entityId: leadProviderId, after: contacts })
  })
}

export type StaffMember = { userId: string; fullName: string; email: string; roles: string[] }

/** The people with a staff role at an organisation (not participants), to name as contacts or DSLs. */
export async function staffOf(db: Db | Trx, organisationId: string): Promise<StaffMember[]> {
  const rows = await db
    .selectFrom('role_assignments as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id', 'u.full_name', 'u.email', 'r.role'])
    .where('r.organisation_id', '=', organisationId)
    .where('r.role', 'in', ['delivery-partner-lead', 'facilitator', 'lead-provider-admin', 'assessor', 'moderator'])
    .where('u.status', '!=', 'disabled')
    .orderBy('u.full_name')
    .execute()
  const byUser = new Map<string, StaffMember>()
  for (const r of rows) {
    const s = byUser.get(r.id) ?? { userId: r.id, fullName: r.full_name, email: r.email, roles: [] }
    s.roles.push(r.role)
    byUser.set(r.id, s)
  }
  return [...byUser.values()]
}

export async function partnerContacts(db: Db | Trx, deliveryPartnerId: string) {
  return db
    .selectFrom('delivery_partner_contacts as c')
    .innerJoin('users as u', 'u.id', 'c.user_id')
    .select(['c.course_identifier as courseIdentifier', 'u.id as userId', 'u.full_name as fullName', 'u.email'])
    .where('c.delivery_partner_id', '=', deliveryPartnerId)
    .orderBy('c.course_identifier')
    .execute()
}

/** Names (or, with no user, clears) the partner's contact for a course ('' = every course). */
export async function setPartnerContact(db: Db, by: User, deliveryPartnerId: string, courseIdentifier: string, userId: string | null) {
  await db.transaction().execute(async (trx) => {
    if (userId) {
      const staff = await staffOf(trx, deliveryPartnerId)
      if (!staff.some((s) => s.userId === userId))
        throw new AppError('validation-failed', 'Not one of your team', [
          { field: 'contact', message: 'Select someone from your own team' },
        ])
      await trx
        .insertInto('delivery_partner_contacts')
        .values({ delivery_partner_id: deliveryPartnerId, course_identifier: courseIdentifier, user_id: userId, updated_by: by.userId })
        .onConflict((oc) =>
          oc
            .columns(['delivery_partner_id', 'course_identifier'])
            .doUpdateSet({ user_id: userId, updated_by: by.userId, updated_at: new Date() }),
        )
        .execute()
    } else {
      await trx
        .deleteFrom('delivery_partner_contacts')
        .where('delivery_partner_id', '=', deliveryPartnerId)
        .where('course_identifier', '=', courseIdentifier)
        .execute()
    }
    await recordAudit(trx, {
      by,
      action: 'partner-contact.set',
      entityType: 'organisation',
      entityId: deliveryPartnerId,
      after: { courseIdentifier, userId },
    })
  })
}

export const safeguardingLeadsOf = (db: Db | Trx, organisationIds: string[]) =>
  organisationIds.length
    ? db
        .selectFrom('safeguarding_leads as s')
        .innerJoin('users as u', 'u.id', 's.user_id')
        .select(['s.organisation_id as organisationId', 'u.id as userId', 'u.full_name as fullName', 'u.email'])
        .where('s.organisation_id', 'in', organisationIds)
        .where('u.status', '!=', 'disabled')
        .orderBy('u.full_name')
        .execute()
    : Promise.resolve([])

/** Replaces the organisation's designated safeguarding leads with these members of its staff. */
export async function setSafeguardingLeads(db: Db, by: User, organisationId: string, userIds: string[]) {
  await db.transaction().execute(async (trx) => {
    const staff = await staffOf(trx, organisationId)
    if (userIds.some((id) => !staff.some((s) => s.userId === id)))
      throw new AppError('validation-failed', 'Not one of your team', [{ field: 'dsl', message: 'Select people from your own team' }])
    await trx.deleteFrom('safeguarding_leads').where('organisation_id', '=', organisationId).execute()
    for (const userId of new Set(userIds))
      await trx.insertInto('safeguarding_leads').values({ organisation_id: organisationId, user_id: userId, named_by: by.userId }).execute()
    await recordAudit(trx, {
      by,
      action: 'safeguarding-leads.set',
      entityType: 'organisation',
      entityId: organisationId,
      after: { userIds },
    })
  })
}

/** Everything a participant sees on their contacts page, per enrolment. */
export async function contactsForParticipant(db: Db | Trx, userId: string) {
  const enrolments = await ownEnrolments(db, userId)
  return Promise.all(
    enrolments.map(async (e) => {
      const [lp, dpContacts, dsls] = await Promise.all([
        programmeContacts(db, e.leadProviderId),
        e.deliveryPartnerId ? partnerContacts(db, e.deliveryPartnerId) : Promise.resolve([]),
        safeguardingLeadsOf(db, [e.leadProviderId, ...(e.deliveryPartnerId ? [e.deliveryPartnerId] : [])]),
      ])
      const dpContact =
        dpContacts.find((c) => c.courseIdentifier === e.courseIdentifier) ?? dpContacts.find((c) => c.courseIdentifier === '')
      return {
        enrolment: e,
        deliveryPartnerContact: dpContact ?? null,
        programme: lp.programme ?? null,
        technicalHelp: lp.technicalHelp ?? null,
        safeguardingLeads: dsls.map((d) => ({
          ...d,
          organisationName: d.organisationId === e.leadProviderId ? e.leadProviderName : (e.deliveryPartnerName ?? ''),
        })),
      }
    }),
  )
}

// ---- Safeguarding concerns: only the DSLs of the organisations it went to read them ----

export type ConcernInput = {
  leadProviderId: string
  deliveryPartnerId: string | null
  concern: string
  immediateRisk: boolean
  contactBy: 'email' | 'phone'
  phone: string
}

export async function raiseConcern(deps: Deps, by: User, input: ConcernInput): Promise<{ id: string; notified: number }> {
  return deps.db.transaction().execute(async (trx) => {
    // Only about a programme the participant is on.
    const own = await ownEnrolments(trx, by.userId)
    if (!own.some((e) => e.leadProviderId === input.leadProviderId && e.deliveryPartnerId === input.deliveryPartnerId))
      throw new AppError('validation-failed', 'Not your programme', [{ field: 'programme', message: 'Select one of your programmes' }])
    const row = await trx
      .insertInto('safeguarding_concerns')
      .values({
        raised_by: by.userId,
        lead_provider_id: input.leadProviderId,
        delivery_partner_id: input.deliveryPartnerId,
        concern: input.concern,
        immediate_risk: input.immediateRisk,
        contact_by: input.contactBy,
        phone: input.phone,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    const dsls = await safeguardingLeadsOf(trx, [input.leadProviderId, ...(input.deliveryPartnerId ? [input.deliveryPartnerId] : [])])
    const recipients = [...new Map(dsls.map((d) => [d.email, d])).values()]
    const link = `${deps.config.baseUrl}/safeguarding/concerns/${row.id}`
    // The email carries no personal content: only that a concern is waiting, and where to read it.
    for (const dsl of recipients)
      await deps.email.queue(trx, {
        to: dsl.email,
        subject: input.immediateRisk ? 'Urgent: a safeguarding concern has been raised' : 'A safeguarding concern has been raised',
        body: `Hello ${dsl.fullName},\n\nA safeguarding concern has been raised with you as a designated safeguarding lead${input.immediateRisk ? '. The person raising it believes someone may be at immediate risk' : ''}.\n\nSign in to read it: ${link}\n`,
      })
    await deps.email.queue(trx, {
      to: by.email,
      subject: 'We have received your safeguarding concern',
      body: `Hello ${by.fullName},\n\nThank you for raising a safeguarding concern. It has gone to the designated safeguarding lead, who will contact you by ${input.contactBy === 'phone' ? 'phone' : 'email'}.\n\nIf anyone is in immediate danger, call 999.\n`,
    })
    await recordAudit(trx, {
      by,
      action: 'safeguarding-concern.raised',
      entityType: 'safeguarding-concern',
      entityId: row.id,
      after: { notified: recipients.length },
    })
    return { id: row.id, notified: recipients.length }
  })
}

/** The organisations whose concerns this user reads as a DSL. */
export async function dslOrganisations(db: Db | Trx, userId: string): Promise<string[]> {
  return (await db.selectFrom('safeguarding_leads').select('organisation_id').where('user_id', '=', userId).execute()).map(
    (r) => r.organisation_id,
  )
}

const concernScope = (orgs: string[]) => (orgs.length ? orgs : ['00000000-0000-0000-0000-000000000000'])

export async function concernsFor(db: Db | Trx, userId: string) {
  const orgs = concernScope(await dslOrganisations(db, userId))
  return db
    .selectFrom('safeguarding_concerns as c')
    .innerJoin('users as u', 'u.id', 'c.raised_by')
    .innerJoin('organisations as lp', 'lp.id', 'c.lead_provider_id')
    .leftJoin('organisations as dp', 'dp.id', 'c.delivery_partner_id')
    .select([
      'c.id',
      'c.status',
      'c.raised_at as raisedAt',
      'c.immediate_risk as immediateRisk',
      'u.full_name as raisedBy',
      'lp.name as leadProviderName',
      'dp.name as deliveryPartnerName',
    ])
    .where((eb) => eb.or([eb('c.lead_provider_id', 'in', orgs), eb('c.delivery_partner_id', 'in', orgs)]))
    .orderBy('c.raised_at', 'desc')
    .execute()
}

export async function loadConcern(db: Db | Trx, userId: string, id: string) {
  const orgs = concernScope(await dslOrganisations(db, userId))
  return db
    .selectFrom('safeguarding_concerns as c')
    .innerJoin('users as u', 'u.id', 'c.raised_by')
    .innerJoin('organisations as lp', 'lp.id', 'c.lead_provider_id')
    .leftJoin('organisations as dp', 'dp.id', 'c.delivery_partner_id')
    .leftJoin('users as ack', 'ack.id', 'c.acknowledged_by')
    .leftJoin('users as cl', 'cl.id', 'c.closed_by')
    .select([
      'c.id',
      'c.status',
      'c.concern',
      'c.immediate_risk as immediateRisk',
      'c.contact_by as contactBy',
      'c.phone',
      'c.raised_at as raisedAt',
      'c.acknowledged_at as acknowledgedAt',
      'ack.full_name as acknowledgedBy',
      'c.closed_at as closedAt',
      'cl.full_name as closedBy',
      'c.outcome',
      'u.full_name as raisedBy',
      'u.email as raisedByEmail',
      'lp.name as leadProviderName',
      'dp.name as deliveryPartnerName',
    ])
    .where('c.id', '=', id)
    .where((eb) => eb.or([eb('c.lead_provider_id', 'in', orgs), eb('c.delivery_partner_id', 'in', orgs)]))
    .executeTakeFirst()
}

/** A DSL acknowledges a concern, or closes it with what was done (the outcome stays out of the audit log). */
export async function progressConcern(db: Db, by: User, id: string, step: 'acknowledge' | 'close', outcome: string) {
  await db.transaction().execute(async (trx) => {
    const concern = await loadConcern(trx, by.userId, id)
    if (!concern) throw new AppError('not-found', 'Concern not found')
    if (concern.status === 'closed') throw new AppError('invalid-transition', 'This concern is already closed')
    if (step === 'acknowledge') {
      if (concern.status !== 'open') return
      await trx
        .updateTable('safeguarding_concerns')
        .set({ status: 'acknowledged', acknowledged_at: new Date(), acknowledged_by: by.userId })
        .where('id', '=', id)
        .execute()
    } else {
      await trx
        .updateTable('safeguarding_concerns')
        .set({
          status: 'closed',
          closed_at: new Date(),
          closed_by: by.userId,
          outcome,
          ...(concern.status === 'open' ? { acknowledged_at: new Date(), acknowledged_by: by.userId } : {}),
        })
        .where('id', '=', id)
        .execute()
    }
    await recordAudit(trx, {
      by,
      action: `safeguarding-concern.${step === 'close' ? 'closed' : 'acknowledged'}`,
      entityType: 'safeguarding-concern',
      entityId: id,
    })
  })
}

// ---- Facilitators' records ----

export async function facilitatorsOf(db: Db | Trx, deliveryPartnerId: string) {
  const rows = await db
    .selectFrom('role_assignments as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id as userId', 'u.full_name as fullName', 'u.email'])
    .where('r.organisation_id', '=', deliveryPartnerId)
    .where('r.role', '=', 'facilitator')
    .orderBy('u.full_name')
    .execute()
  return Promise.all(
    rows.map(async (f) => {
      const [events, groups, observations] = await Promise.all([
        db
          .selectFrom('event_facilitators as ef')
          .innerJoin('events as ev', 'ev.id', 'ef.event_id')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('ef.user_id', '=', f.userId)
          .where('ev.delivery_partner_id', '=', deliveryPartnerId)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('participant_groups')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('facilitator_user_id', '=', f.userId)
          .where('delivery_partner_id', '=', deliveryPartnerId)
          .executeTakeFirstOrThrow(),
        db
          .selectFrom('facilitator_observations')
          .select([(eb) => eb.fn.countAll<number>().as('n'), (eb) => eb.fn.max(sql<string>`observed_on::text`).as('latest')])
          .where('facilitator_user_id', '=', f.userId)
          .where('delivery_partner_id', '=', deliveryPartnerId)
          .executeTakeFirstOrThrow(),
      ])
      return {
        ...f,
        events: Number(events.n),
        groups: Number(groups.n),
        observations: Number(observations.n),
        latestObservation: observations.latest as string | null,
      }
    }),
  )
}

/** One facilitator of the partner, with what they run and their observations; undefined if not the partner's. */
export async function facilitatorRecord(db: Db | Trx, deliveryPartnerId: string, userId: string) {
  const f = await db
    .selectFrom('role_assignments as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id as userId', 'u.full_name as fullName', 'u.email'])
    .where('r.organisation_id', '=', deliveryPartnerId)
    .where('r.role', '=', 'facilitator')
    .where('u.id', '=', userId)
    .executeTakeFirst()
  if (!f) return undefined
  const [events, groups, observations] = await Promise.all([
    db
      .selectFrom('event_facilitators as ef')
      .innerJoin('events as ev', 'ev.id', 'ef.event_id')
      .select([
        'ev.id',
        'ev.title',
        'ev.kind',
        'ev.course_identifier as courseIdentifier',
        'ev.cohort',
        'ev.starts_at as startsAt',
        'ev.status',
      ])
      .where('ef.user_id', '=', userId)
      .where('ev.delivery_partner_id', '=', deliveryPartnerId)
      .orderBy('ev.starts_at', 'desc')
      .execute(),
    db
      .selectFrom('participant_groups as g')
      .select([
        'g.id',
        'g.name',
        'g.course_identifier as courseIdentifier',
        'g.cohort',
        (eb) =>
          eb
            .selectFrom('group_memberships as m')
            .select((e2) => e2.fn.countAll<number>().as('n'))
            .whereRef('m.group_id', '=', 'g.id')
            .as('members'),
      ])
      .where('g.facilitator_user_id', '=', userId)
      .where('g.delivery_partner_id', '=', deliveryPartnerId)
      .orderBy('g.cohort', 'desc')
      .orderBy('g.name')
      .execute(),
    db
      .selectFrom('facilitator_observations as o')
      .leftJoin('events as ev', 'ev.id', 'o.event_id')
      .select([
        'o.id',
        sql<string>`o.observed_on::text`.as('observedOn'),
        'o.session',
        'ev.title as eventTitle',
        'ev.kind as eventKind',
        'o.observer',
        'o.strengths',
        'o.areas_to_develop as areasToDevelop',
        'o.rating',
      ])
      .where('o.facilitator_user_id', '=', userId)
      .where('o.delivery_partner_id', '=', deliveryPartnerId)
      .orderBy('o.observed_on', 'desc')
      .orderBy('o.created_at', 'desc')
      .execute(),
  ])
  return {
    ...f,
    events: events.map((e) => ({ ...e, courseName: courseName(e.courseIdentifier) })),
    groups: groups.map((g) => ({ ...g, members: Number(g.members ?? 0), courseName: courseName(g.courseIdentifier) })),
    observations,
  }
}

export type ObservationInput = {
  observedOn: string
  eventId: string | null
  session: string
  observer: string
  strengths: string
  areasToDevelop: string
  rating: ObservationRating
}

export async function addObservation(db: Db, by: User, deliveryPartnerId: string, facilitatorUserId: string, input: ObservationInput) {
  return db.transaction().execute(async (trx) => {
    if (input.eventId) {
      const ev = await trx
        .selectFrom('event_facilitators as ef')
        .innerJoin('events as ev', 'ev.id', 'ef.event_id')
        .select('ev.id')
        .where('ef.user_id', '=', facilitatorUserId)
        .where('ev.delivery_partner_id', '=', deliveryPartnerId)
        .where('ev.id', '=', input.eventId)
        .executeTakeFirst()
      if (!ev)
        throw new AppError('validation-failed', 'Not their event', [
          { field: 'event', message: 'Select one of the events this facilitator runs' },
        ])
    }
    const row = await trx
      .insertInto('facilitator_observations')
      .values({
        delivery_partner_id: deliveryPartnerId,
        facilitator_user_id: facilitatorUserId,
        observed_on: input.observedOn,
        event_id: input.eventId,
        session: input.session,
        observer: input.observer,
        strengths: input.strengths,
        areas_to_develop: input.areasToDevelop,
        rating: input.rating,
        created_by: by.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await recordAudit(trx, {
      by,
      action: 'facilitator-observation.added',
      entityType: 'facilitator-observation',
      entityId: row.id,
      after: { facilitatorUserId, observedOn: input.observedOn, rating: input.rating },
    })
    return row.id
  })
}

/** The participant's delivery-partner groups (issue 7, one per enrolment) with their facilitators. */
export async function localGroupsOf(db: Db | Trx, userId: string) {
  const rows = await db
    .selectFrom('group_memberships as m')
    .innerJoin('participant_groups as g', 'g.id', 'm.group_id')
    .innerJoin('enrolments as e', 'e.id', 'm.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as dp', 'dp.id', 'g.delivery_partner_id')
    .leftJoin('users as f', 'f.id', 'g.facilitator_user_id')
    .select([
      'g.id',
      'g.name',
      'g.course_identifier',
      'g.cohort',
      'dp.name as deliveryPartnerName',
      'f.full_name as facilitatorName',
      'f.email as facilitatorEmail',
    ])
    .where('p.user_id', '=', userId)
    .orderBy('g.cohort', 'desc')
    .orderBy('g.course_identifier')
    .execute()
  return rows.map((r) => ({ ...r, courseName: courseName(r.course_identifier) }))
}
