import crypto from 'node:crypto'
import { sql } from 'kysely'
import { loadUserPrincipal } from '../accounts/principals.ts'
import { createApiToken } from '../api/api-tokens.ts'
import { createFeedToken } from '../calendar/feeds.ts'
import type { Db } from '../db/database.ts'
import { placeUngrouped } from '../groups/groups.ts'
import type { Owner, ResourceKind } from '../policy/access-expectations.ts'
import type { Principal } from '../policy/principal.ts'
import type { Role } from '../policy/roles.ts'
import type { Services } from '../services.ts'
import { organisation } from './fixtures.ts'

// The data the access matrix (src/policy/access-matrix.db.test.ts) requests, beside the demo data:
// for every kind of resource a route names, one of the demo people's own (EDT, North Star, Oakfield
// Primary, Priya Patel), one of another participant at the same partner (Petra Peerless), one of
// another delivery partner of the same lead provider (East Coast, Sienna Siblingham) and one of another
// lead provider and partner altogether (Ambition, Southern Lights, Xanthe Otherworld). Each person's
// name, email and TRN, and a marker written into the text of what they own, are what a leak would show.

export type PersonKey = 'priya' | 'sam' | 'petra' | 'sienna' | 'xanthe' | 'otherStaff'

export type AccessWorld = {
  /** Resource ids (or codes) by kind and owner; a missing owner is not tested for that kind. */
  ids: Record<ResourceKind, Partial<Record<Owner, string>>>
  /** What identifies each person (and their private writing) in a response body. */
  identities: Record<PersonKey, string[]>
  /** Text only its owner (and the roles named) may ever read: journals, safeguarding concerns. */
  privateMarkers: { marker: string; readers: Role[] }[]
  apiTokens: { own: string; other: string }
  feeds: { priya: string; xanthe: string; facilitator: string }
  /** Titles of events, to tell one person's calendar feed from another's. */
  eventTitles: { own: string; other: string; sibling: string }
  codes: { otherLeadProvider: string; otherDeliveryPartner: string; siblingDeliveryPartner: string; otherCourse: string }
  orgIds: { otherLeadProvider: string; otherDeliveryPartner: string; siblingDeliveryPartner: string }
}

const system: Principal = { kind: 'system', name: 'access-matrix' }
/** The password of the people the matrix creates (only the former line manager signs in). */
export const matrixPassword = 'a long test password for the matrix'
/** A line manager whose role has been taken away, still named on a participant's enrolment. */
export const formerLineManager = 'leah.formerline@peer.test'
export const markers = { petra: 'PEERMARK-5F2A', sienna: 'SIBMARK-8C1D', xanthe: 'OTHERMARK-3E9B' } as const
const journalMarker = 'PRIVMARK-JOURNAL-71AC'
const concernMarker = 'PRIVMARK-CONCERN-2B6E'

/** A copy of a row with some columns changed (a new id unless given): quicker than restating every column. */
async function cloneRow(db: Db, table: string, id: string, overrides: Record<string, unknown>): Promise<string> {
  const columns = (
    await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_schema = current_schema() and table_name = ${table}
        and is_generated = 'NEVER' and not (is_identity = 'YES' and identity_generation = 'ALWAYS')
      order by ordinal_position`.execute(db)
  ).rows.map((r) => sql.ref(r.column_name))
  const values = JSON.stringify({ id: crypto.randomUUID(), ...overrides })
  const result = await sql<{ id: string }>`
    insert into ${sql.table(table)} (${sql.join(columns)})
    select ${sql.join(columns)}
    from jsonb_populate_record(null::${sql.table(table)}, (select to_jsonb(t) from ${sql.table(table)} t where t.id = ${id}) || ${values}::jsonb)
    returning id`.execute(db)
  const row = result.rows[0]
  if (!row) throw new Error(`no ${table} row ${id} to copy`)
  return row.id
}

export async function buildAccessWorld(services: Services): Promise<AccessWorld> {
  const { db } = services
  const orgId = async (code: string) =>
    (await db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirstOrThrow()).id
  const userId = async (email: string) =>
    (await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()).id
  const userPrincipal = async (id: string) => {
    const p = await loadUserPrincipal(db, id)
    if (p?.kind !== 'user') throw new Error(`user ${id} cannot act`)
    return p
  }

  const [edt, ambition, northStar, eastCoast, southernLights, riverside, hillcrest] = (await Promise.all(
    ['edt', 'ambition', 'north-star-tsh', 'east-coast-tsh', 'southern-lights-mat', '100002', '100003'].map(orgId),
  )) as [string, string, string, string, string, string, string]
  const otherSchool = await organisation(db, 'school', '999001', 'Otherway Vale School')

  // Participants get a password (an active account, whose calendar feed works); staff stay invited.
  const staff = async (email: string, fullName: string, role: Role, organisationId: string) =>
    services.accounts.createUser(system, {
      email,
      fullName,
      role,
      organisationId,
      ...(role === 'participant' || email === formerLineManager ? { password: matrixPassword } : {}),
    })
  const [priyaUser, laura, fatima, assessor] = (await Promise.all(
    ['participant@demo.test', 'lead-provider-admin@demo.test', 'facilitator@demo.test', 'assessor@demo.test'].map(userId),
  )) as [string, string, string, string]
  const petraUser = await staff('petra.peerless@peer.test', 'Petra Peerless', 'participant', northStar)
  const siennaUser = await staff('sienna.siblingham@sibling.test', 'Sienna Siblingham', 'participant', eastCoast)
  const xantheUser = await staff('xanthe.otherworld@other.test', 'Xanthe Otherworld', 'participant', southernLights)
  const olly = await staff('olly.otherline@other.test', 'Olly Otherline', 'line-manager', otherSchool)
  const otto = await staff('otto.otheradmin@other.test', 'Otto Otheradmin', 'lead-provider-admin', ambition)
  const olga = await staff('olga.otherlead@other.test', 'Olga Otherlead', 'delivery-partner-lead', southernLights)
  const ossie = await staff('ossie.otherfac@other.test', 'Ossie Otherfac', 'facilitator', southernLights)
  const otis = await staff('otis.otherassessor@other.test', 'Otis Otherassessor', 'assessor', ambition)
  const sol = await staff('sol.siblingfac@sibling.test', 'Sol Siblingfac', 'facilitator', eastCoast)
  const asa = await staff('asa.secondassessor@peer.test', 'Asa Secondassessor', 'assessor', edt)

  // Participants: the demo's Priya Patel, and three more who each have a sign-in.
  const participant = async (p: { name: string; email: string; trn: string; user: string }) =>
    (
      await db
        .insertInto('participants')
        .values({ id: crypto.randomUUID(), full_name: p.name, email: p.email, trn: p.trn, user_id: p.user })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
  const enrol = async (e: { participant: string; lp: string; dp: string; school: string; course: string; cohort: string; lm?: string }) =>
    (
      await db
        .insertInto('enrolments')
        .values({
          participant_id: e.participant,
          lead_provider_id: e.lp,
          delivery_partner_id: e.dp,
          school_id: e.school,
          line_manager_user_id: e.lm ?? null,
          course_identifier: e.course,
          cohort: e.cohort,
          status: 'active',
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
  const petra = await participant({ name: 'Petra Peerless', email: 'petra.peerless@peer.test', trn: '7770001', user: petraUser })
  const sienna = await participant({ name: 'Sienna Siblingham', email: 'sienna.siblingham@sibling.test', trn: '7770002', user: siennaUser })
  const xanthe = await participant({ name: 'Xanthe Otherworld', email: 'xanthe.otherworld@other.test', trn: '7770003', user: xantheUser })
  const petraEnrolment = await enrol({
    participant: petra,
    lp: edt,
    dp: northStar,
    school: riverside,
    course: 'npq-headship',
    cohort: '2022-autumn',
  })
  const siennaEnrolment = await enrol({
    participant: sienna,
    lp: edt,
    dp: eastCoast,
    school: hillcrest,
    course: 'npq-senior-leadership',
    cohort: '2022-spring',
  })
  const xantheEnrolment = await enrol({
    participant: xanthe,
    lp: ambition,
    dp: southernLights,
    school: otherSchool,
    course: 'npq-leading-literacy',
    cohort: '2024-autumn',
    lm: olly,
  })
  await placeUngrouped(db, system)

  const priya = (await db.selectFrom('participants').select('id').where('user_id', '=', priyaUser).executeTakeFirstOrThrow()).id
  const enrolmentOf = async (participantId: string, course: string) =>
    (
      await db
        .selectFrom('enrolments')
        .select('id')
        .where('participant_id', '=', participantId)
        .where('course_identifier', '=', course)
        .executeTakeFirstOrThrow()
    ).id
  const priyaEnrolment = await enrolmentOf(priya, 'npq-headship')
  const sam = (await db.selectFrom('participants').select('id').where('email', '=', 'ucl-participant@demo.test').executeTakeFirstOrThrow())
    .id
  const samEnrolment = await enrolmentOf(sam, 'npq-leading-behaviour-culture')
  // A UCL participant at North Star without a line manager: the demo line manager is not theirs.
  const uclPeer = await db
    .selectFrom('enrolments as e')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select('e.id')
    .where('lp.code', '=', 'ucl')
    .where('e.delivery_partner_id', '=', northStar)
    .where('e.line_manager_user_id', 'is', null)
    .orderBy('e.id')
    .executeTakeFirstOrThrow()

  // The UCL peer's line manager once; the role since removed (the enrolment still names them).
  const leah = await staff(formerLineManager, 'Leah Formerline', 'line-manager', riverside)
  await db.updateTable('enrolments').set({ line_manager_user_id: leah }).where('id', '=', uclPeer.id).execute()
  await db.deleteFrom('role_assignments').where('user_id', '=', leah).execute()

  // ---- Events, bookings ----
  const ownEvent = (
    await db
      .selectFrom('event_facilitators as ef')
      .innerJoin('events as ev', 'ev.id', 'ef.event_id')
      .select(['ev.id', 'ev.title'])
      .where('ef.user_id', '=', fatima)
      .where('ev.starts_at', '>', new Date())
      .orderBy('ev.starts_at')
      .executeTakeFirstOrThrow()
  ).id
  const eventOf = async (dp: string, course: string) =>
    (
      await db
        .selectFrom('events')
        .select('id')
        .where('delivery_partner_id', '=', dp)
        .where('course_identifier', '=', course)
        .orderBy('starts_at', 'desc')
        .executeTakeFirstOrThrow()
    ).id
  const eventTitles = {
    own: 'Matrix own event North Star',
    sibling: `Matrix sibling event ${markers.sienna}`,
    other: `Matrix other event ${markers.xanthe}`,
  }
  const siblingEvent = await eventOf(eastCoast, 'npq-senior-leadership')
  // Another of North Star's events, which the demo facilitator does not facilitate.
  const peerEvent = (
    await db
      .selectFrom('events as ev')
      .select('ev.id')
      .where('ev.delivery_partner_id', '=', northStar)
      .where('ev.lead_provider_id', '=', edt)
      .where((eb) =>
        eb.not(eb.exists(eb.selectFrom('event_facilitators as ef').select('ef.event_id').whereRef('ef.event_id', '=', 'ev.id'))),
      )
      .orderBy('ev.starts_at', 'desc')
      .executeTakeFirstOrThrow()
  ).id
  const otherEvent = await eventOf(southernLights, 'npq-leading-literacy')
  const future = new Date(Date.now() + 30 * 86_400_000)
  const later = new Date(future.getTime() + 2 * 3_600_000)
  await db.updateTable('events').set({ title: eventTitles.own }).where('id', '=', ownEvent).execute()
  for (const [id, title] of [
    [siblingEvent, eventTitles.sibling],
    [otherEvent, eventTitles.other],
  ] as const) {
    await db
      .updateTable('events')
      .set({ title, starts_at: future, ends_at: later, starts_on: future.toISOString().slice(0, 10) })
      .where('id', '=', id)
      .execute()
  }
  // The API names events by their event_id (event_ref).
  const refOf = async (id: string) => {
    const row = await db.selectFrom('events').select('event_ref').where('id', '=', id).executeTakeFirstOrThrow()
    if (row.event_ref) return row.event_ref
    const ref = `matrix-${id}`
    await db.updateTable('events').set({ event_ref: ref }).where('id', '=', id).execute()
    return ref
  }
  const eventRefs = {
    own: await refOf(ownEvent),
    peer: await refOf(peerEvent),
    sibling: await refOf(siblingEvent),
    other: await refOf(otherEvent),
  }
  await db.insertInto('event_facilitators').values({ event_id: otherEvent, user_id: ossie }).execute()
  await db.insertInto('event_facilitators').values({ event_id: siblingEvent, user_id: sol }).execute()
  const book = (eventId: string, participantId: string) =>
    db
      .insertInto('bookings')
      .values({ event_id: eventId, participant_id: participantId, status: 'booked', booked_at: new Date() })
      .execute()
  await book(ownEvent, priya)
  await book(ownEvent, petra)
  await book(siblingEvent, sienna)
  await book(otherEvent, xanthe)

  // ---- Lead-provider records: imports, applications, DfE requests, declarations ----
  const upload = (lp: string, by: string, content: string) =>
    db
      .insertInto('import_uploads')
      .values({ lead_provider_id: lp, kind: 'participants', filename: 'matrix.csv', content, uploaded_by: by })
      .returning('id')
      .executeTakeFirstOrThrow()
  const ownUpload = (await upload(edt, laura, 'full_name,email,trn\nPriya Patel,participant@demo.test,1000001\n')).id
  const otherUpload = (
    await upload(ambition, otto, `full_name,email,trn\nXanthe Otherworld,xanthe.otherworld@other.test,7770003\n${markers.xanthe},x,1\n`)
  ).id
  const ownApplication = (
    await db
      .selectFrom('applications')
      .select('id')
      .where('lead_provider_id', '=', edt)
      .where('status', '=', 'applied')
      .orderBy('id')
      .executeTakeFirstOrThrow()
  ).id
  const otherApplication = await cloneRow(db, 'applications', ownApplication, {
    lead_provider_id: ambition,
    full_name: 'Xanthe Otherworld',
    email: 'xanthe.otherworld@other.test',
    trn: '7770003',
    dfe_application_id: crypto.randomUUID(),
    course_identifier: 'npq-leading-literacy',
  })
  const ownDfeRequest = (
    await db.selectFrom('dfe_requests').select('id').where('lead_provider_id', '=', edt).orderBy('seq').executeTakeFirstOrThrow()
  ).id
  const otherDfeRequest = await cloneRow(db, 'dfe_requests', ownDfeRequest, {
    lead_provider_id: ambition,
    participant_id: xanthe,
    subject_id: crypto.randomUUID(),
    body: JSON.stringify({ participant: 'Xanthe Otherworld', email: 'xanthe.otherworld@other.test' }),
  })
  const ownDeclaration = (
    await db
      .selectFrom('declarations')
      .select('id')
      .where('participant_id', '=', priya)
      .where('declaration_type', '=', 'started')
      .executeTakeFirstOrThrow()
  ).id
  const declarationFor = (enrolmentId: string, participantId: string, lp: string, dp: string, course: string, cohort: string) =>
    cloneRow(db, 'declarations', ownDeclaration, {
      enrolment_id: enrolmentId,
      participant_id: participantId,
      lead_provider_id: lp,
      delivery_partner_id: dp,
      course_identifier: course,
      cohort,
      idempotency_key: crypto.randomUUID(),
      dfe_declaration_id: null,
    })
  const siblingDeclaration = await declarationFor(siennaEnrolment, sienna, edt, eastCoast, 'npq-senior-leadership', '2022-spring')
  const otherDeclaration = await declarationFor(xantheEnrolment, xanthe, ambition, southernLights, 'npq-leading-literacy', '2024-autumn')

  // ---- Escalation cases, deferral and withdrawal requests ----
  const escalation = (enrolmentId: string, participantId: string, course: string) =>
    db
      .insertInto('escalation_cases')
      .values({
        enrolment_id: enrolmentId,
        participant_id: participantId,
        course_identifier: course,
        declaration_type: 'retained-2',
        review_date: '2023-06-30',
        opened_on: '2023-07-01',
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  const escalations = {
    own: (await escalation(priyaEnrolment, priya, 'npq-headship')).id,
    peer: (await escalation(petraEnrolment, petra, 'npq-headship')).id,
    sibling: (await escalation(siennaEnrolment, sienna, 'npq-senior-leadership')).id,
    other: (await escalation(xantheEnrolment, xanthe, 'npq-leading-literacy')).id,
  }
  // The two request tables share these columns; one query serves both.
  const requestOf = async (table: 'deferral_requests' | 'withdrawal_requests') =>
    (
      await db
        .selectFrom(`${table as 'deferral_requests'} as r`)
        .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
        .select('r.id')
        .where('e.delivery_partner_id', '=', northStar)
        .where('r.status', '=', 'requested')
        .orderBy('r.requested_at')
        .executeTakeFirstOrThrow()
    ).id
  const ownDeferral = await requestOf('deferral_requests')
  const ownWithdrawal = await requestOf('withdrawal_requests')
  const deferrals = {
    own: ownDeferral,
    sibling: await cloneRow(db, 'deferral_requests', ownDeferral, { enrolment_id: siennaEnrolment, details: markers.sienna }),
    other: await cloneRow(db, 'deferral_requests', ownDeferral, { enrolment_id: xantheEnrolment, details: markers.xanthe }),
  }
  const withdrawals = {
    own: ownWithdrawal,
    sibling: await cloneRow(db, 'withdrawal_requests', ownWithdrawal, { enrolment_id: siennaEnrolment, details: markers.sienna }),
    other: await cloneRow(db, 'withdrawal_requests', ownWithdrawal, { enrolment_id: xantheEnrolment, details: markers.xanthe }),
  }

  // ---- Groups ----
  const groupOf = async (dp: string, course: string) =>
    (
      await db
        .selectFrom('participant_groups')
        .select('id')
        .where('delivery_partner_id', '=', dp)
        .where('course_identifier', '=', course)
        .orderBy('created_at')
        .executeTakeFirstOrThrow()
    ).id
  const groups = {
    own: await groupOf(northStar, 'npq-headship'),
    sibling: await groupOf(eastCoast, 'npq-senior-leadership'),
    other: await groupOf(southernLights, 'npq-leading-literacy'),
  }

  // ---- The assessment: windows, entries, extenuating circumstances, scripts ----
  const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10)
  const window = (lp: string, course: string, cohort: string, by: string) =>
    db
      .insertInto('assessment_windows')
      .values({
        lead_provider_id: lp,
        course_identifier: course,
        cohort,
        opens_on: day(-21),
        closes_on: day(-14),
        engagement_deadline: day(-28),
        max_words: 1000,
        case_study_title: 'Matrix case study',
        case_study: 'A case study.',
        created_by: by,
        entries_decided_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  const ownWindow = (await window(edt, 'npq-headship', '2022-autumn', laura)).id
  const otherWindow = (await window(ambition, 'npq-leading-literacy', '2024-autumn', otto)).id
  const siblingWindow = (
    await db
      .selectFrom('assessment_windows')
      .select('id')
      .where('lead_provider_id', '=', edt)
      .where('course_identifier', '=', 'npq-senior-leadership')
      .executeTakeFirstOrThrow()
  ).id
  const entry = (windowId: string, enrolmentId: string, text: string) =>
    db
      .insertInto('assessment_entries')
      .values({
        window_id: windowId,
        enrolment_id: enrolmentId,
        attempt: 1,
        decision: 'entered',
        engagement_percent: 95,
        decided_at: new Date(),
        draft: text,
        draft_word_count: text.split(' ').length,
        submitted_text: text,
        submitted_word_count: text.split(' ').length,
        submitted_at: new Date(),
        outcome: 'submitted',
      })
      .returning('id')
      .executeTakeFirstOrThrow()
  const entries = {
    own: (await entry(ownWindow, priyaEnrolment, 'My response to the case study.')).id,
    peer: (await entry(ownWindow, petraEnrolment, `Response ${markers.petra}`)).id,
    sibling: (await entry(siblingWindow, siennaEnrolment, `Response ${markers.sienna}`)).id,
    other: (await entry(otherWindow, xantheEnrolment, `Response ${markers.xanthe}`)).id,
  }
  const extenuating = async (entryId: string, reason: string, by: string) =>
    (
      await db
        .insertInto('extenuating_circumstances')
        .values({ entry_id: entryId, reason, requested_by: by })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
  const extenuatings = {
    own: await extenuating(entries.own, 'Illness', priyaUser),
    peer: await extenuating(entries.peer, `Illness ${markers.petra}`, petraUser),
    sibling: await extenuating(entries.sibling, `Illness ${markers.sienna}`, siennaUser),
    other: await extenuating(entries.other, `Illness ${markers.xanthe}`, xantheUser),
  }
  const script = (entryId: string, reference: string, assessorId: string, inSample: boolean) =>
    db
      .insertInto('assessment_marks')
      .values({
        entry_id: entryId,
        script_reference: reference,
        assessor_user_id: assessorId,
        allocated_by: laura,
        mark: 60,
        result: 'passed',
        feedback: 'Clear.',
        marked_at: new Date(),
        in_moderation_sample: inSample,
      })
      .execute()
  // The demo assessor's script is in the moderation sample; another EDT assessor's is not.
  await script(entries.own, 'S-OWN01', assessor, true)
  await script(entries.peer, 'S-PEER1', asa, false)
  await script(entries.other, 'S-OTHR1', otis, true)

  // ---- Implementation projects ----
  const project = async (enrolmentId: string, by: string, text: string) => {
    await db
      .insertInto('implementation_projects')
      .values({ enrolment_id: enrolmentId, title: `Project ${text}` })
      .execute()
    const entryId = (
      await db
        .insertInto('project_entries')
        .values({ enrolment_id: enrolmentId, stage: 'explore', body: `Entry ${text}`, created_by: by })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
    const data = Buffer.from(`Final report ${text}`)
    const reportId = (
      await db
        .insertInto('project_reports')
        .values({
          enrolment_id: enrolmentId,
          file_name: 'report.txt',
          file_type: 'text/plain',
          file_size: data.length,
          file_data: data,
          submitted_by: by,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
    return { entryId, reportId }
  }
  const projects = {
    own: await project(priyaEnrolment, priyaUser, 'of my own'),
    peer: await project(petraEnrolment, petraUser, markers.petra),
    sibling: await project(siennaEnrolment, siennaUser, markers.sienna),
    other: await project(xantheEnrolment, xantheUser, markers.xanthe),
  }

  // ---- Line manager meetings: the UCL demo participant's, and one for Xanthe ----
  const ownSchedule = (
    await db
      .selectFrom('meeting_schedules')
      .select('id')
      .where('enrolment_id', '=', samEnrolment)
      .orderBy('meeting_number')
      .executeTakeFirstOrThrow()
  ).id
  const otherSchedule = (
    await db
      .insertInto('meeting_schedules')
      .values({ enrolment_id: xantheEnrolment, meeting_number: 1, starts_at: future, location: markers.xanthe, scheduled_by: xantheUser })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id

  // ---- Block content: items, files, task submissions ----
  const ownItem = (
    await db
      .selectFrom('content_items')
      .select('id')
      .where('lead_provider_id', '=', edt)
      .where('kind', '=', 'task')
      .executeTakeFirstOrThrow()
  ).id
  const ownFile = (await db.selectFrom('content_files').select('id').where('lead_provider_id', '=', edt).executeTakeFirstOrThrow()).id
  const otherFile = await cloneRow(db, 'content_files', ownFile, {
    lead_provider_id: ambition,
    name: `${markers.xanthe}.wav`,
    uploaded_by: otto,
  })
  const otherItem = await cloneRow(db, 'content_items', ownItem, {
    lead_provider_id: ambition,
    course_identifier: 'npq-leading-literacy',
    block: '1',
    title: `Task ${markers.xanthe}`,
    file_id: otherFile,
    created_by: otto,
  })
  const itemOfKind = async (kind: 'quiz' | 'reflection' | 'podcast') => {
    const id = (
      await db
        .selectFrom('content_items')
        .select('id')
        .where('lead_provider_id', '=', edt)
        .where('kind', '=', kind)
        .executeTakeFirstOrThrow()
    ).id
    const other = await cloneRow(db, 'content_items', id, {
      lead_provider_id: ambition,
      course_identifier: 'npq-leading-literacy',
      block: '1',
      title: `${kind} ${markers.xanthe}`,
      created_by: otto,
    })
    return { own: id, other }
  }
  // A recorded webinar (versions to choose between): a copy of the demo podcast.
  const webinarOf = async (podcast: { own: string }) => {
    const id = await cloneRow(db, 'content_items', podcast.own, { kind: 'webinar', title: 'Recorded webinar' })
    const other = await cloneRow(db, 'content_items', id, {
      lead_provider_id: ambition,
      course_identifier: 'npq-leading-literacy',
      block: '1',
      title: `Webinar ${markers.xanthe}`,
      created_by: otto,
    })
    return { own: id, other }
  }
  const quizItems = await itemOfKind('quiz')
  const promptItems = await itemOfKind('reflection')
  const mediaItems = await itemOfKind('podcast')
  const webinarItems = await webinarOf(mediaItems)
  const ownSubmission = (await db.selectFrom('task_submissions').select('id').where('item_id', '=', ownItem).executeTakeFirstOrThrow()).id
  // A file with the submission, so its download is requested too (the copies below carry their own text).
  await db
    .updateTable('task_submissions')
    .set({ file_name: 'answer.txt', file_type: 'text/plain', file_data: Buffer.from('My answer to the task.') })
    .where('id', '=', ownSubmission)
    .execute()
  const submissions = {
    own: ownSubmission,
    peer: await cloneRow(db, 'task_submissions', ownSubmission, {
      enrolment_id: petraEnrolment,
      body: `Task ${markers.petra}`,
      file_data: Buffer.from(`Answer ${markers.petra}`),
      submitted_by: petraUser,
    }),
    other: await cloneRow(db, 'task_submissions', ownSubmission, {
      item_id: otherItem,
      enrolment_id: xantheEnrolment,
      body: `Task ${markers.xanthe}`,
      file_data: Buffer.from(`Answer ${markers.xanthe}`),
      submitted_by: xantheUser,
    }),
  }

  // ---- People: journals, safeguarding concerns, people groups ----
  const journal = async (user: string, enrolmentId: string, text: string) =>
    (
      await db
        .insertInto('journal_entries')
        .values({ user_id: user, entry_on: day(-1), title: `Journal ${text}`, body: `Thoughts ${text}`, enrolment_id: enrolmentId })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
  const journals = {
    own: await journal(priyaUser, priyaEnrolment, journalMarker),
    peer: await journal(petraUser, petraEnrolment, markers.petra),
    other: await journal(xantheUser, xantheEnrolment, markers.xanthe),
  }
  const concern = async (by: string, lp: string, dp: string, text: string) =>
    (
      await db
        .insertInto('safeguarding_concerns')
        .values({ raised_by: by, lead_provider_id: lp, delivery_partner_id: dp, concern: text, immediate_risk: false, contact_by: 'email' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
  const concerns = {
    own: await concern(priyaUser, edt, northStar, `Concern ${concernMarker}`),
    sibling: await concern(siennaUser, edt, eastCoast, `Concern ${markers.sienna}`),
    other: await concern(xantheUser, ambition, southernLights, `Concern ${markers.xanthe}`),
  }
  await db.insertInto('safeguarding_leads').values({ organisation_id: southernLights, user_id: olga }).execute()
  await db.insertInto('safeguarding_leads').values({ organisation_id: eastCoast, user_id: sol }).execute()
  const ownPeopleGroup = (
    await db.selectFrom('people_groups').select('id').where('delivery_partner_id', '=', northStar).orderBy('name').executeTakeFirstOrThrow()
  ).id
  const peopleGroup = async (dp: string, enrolmentId: string, text: string, course: string, cohort: string) => {
    const id = await cloneRow(db, 'people_groups', ownPeopleGroup, {
      delivery_partner_id: dp,
      name: `Buddies ${text}`,
      course_identifier: course,
      cohort,
    })
    await db.insertInto('people_group_members').values({ group_id: id, enrolment_id: enrolmentId }).execute()
    return id
  }
  const peopleGroups = {
    own: ownPeopleGroup,
    sibling: await peopleGroup(eastCoast, siennaEnrolment, markers.sienna, 'npq-senior-leadership', '2022-spring'),
    other: await peopleGroup(southernLights, xantheEnrolment, markers.xanthe, 'npq-leading-literacy', '2024-autumn'),
  }
  await db
    .insertInto('facilitator_observations')
    .values({
      delivery_partner_id: southernLights,
      facilitator_user_id: ossie,
      observed_on: day(-3),
      observer: 'Olga Otherlead',
      strengths: markers.xanthe,
      areas_to_develop: markers.xanthe,
      rating: 'good',
    })
    .execute()

  // ---- News ----
  const newsOf = async (org: string) =>
    (await db.selectFrom('programme_news').select('id').where('organisation_id', '=', org).orderBy('created_at').executeTakeFirstOrThrow())
      .id
  const ownLpNews = await newsOf(edt)
  const ownDpNews = await newsOf(northStar)
  const news = (from: string, org: string, by: string, text: string) =>
    cloneRow(db, 'programme_news', from, { organisation_id: org, title: `News ${text}`, created_by: by, course_identifier: null })

  // ---- Forums: a group forum at each partner, with a thread and a post by its participant ----
  const ownForum = (await db.selectFrom('forums').select('id').where('group_id', '=', groups.own).executeTakeFirstOrThrow()).id
  const ownThread = (
    await db.selectFrom('forum_threads').select('id').where('forum_id', '=', ownForum).orderBy('created_at').executeTakeFirstOrThrow()
  ).id
  const ownPost = (
    await db
      .selectFrom('forum_posts')
      .select('id')
      .where('thread_id', '=', ownThread)
      .where('author_user_id', '=', priyaUser)
      .executeTakeFirstOrThrow()
  ).id
  const forum = async (groupId: string, course: string, author: string, text: string) => {
    const forumId = (
      await db
        .insertInto('forums')
        .values({ kind: 'group', group_id: groupId, course_identifier: course })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
    const threadId = (
      await db
        .insertInto('forum_threads')
        .values({ forum_id: forumId, title: `Thread ${text}`, created_by: author })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
    const postId = (
      await db
        .insertInto('forum_posts')
        .values({ thread_id: threadId, author_user_id: author, body: `Post ${text}` })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
    return { forumId, threadId, postId }
  }
  const courseForum = async (lp: string, course: string, author: string, text: string) => {
    const forumId = (
      await db
        .insertInto('forums')
        .values({ kind: 'course', lead_provider_id: lp, course_identifier: course })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
    const threadId = (
      await db
        .insertInto('forum_threads')
        .values({ forum_id: forumId, title: `Thread ${text}`, created_by: author })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
    const postId = (
      await db
        .insertInto('forum_posts')
        .values({ thread_id: threadId, author_user_id: author, body: `Post ${text}` })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
    return { forumId, threadId, postId }
  }
  const ownCourseForum = (
    await db.selectFrom('forums').select('id').where('kind', '=', 'course').where('lead_provider_id', '=', edt).executeTakeFirstOrThrow()
  ).id
  const ownCourseThread = (
    await db.selectFrom('forum_threads').select('id').where('forum_id', '=', ownCourseForum).executeTakeFirstOrThrow()
  ).id
  const ownCoursePost = (
    await db
      .selectFrom('forum_posts')
      .select('id')
      .where('thread_id', '=', ownCourseThread)
      .where('author_user_id', '=', priyaUser)
      .executeTakeFirstOrThrow()
  ).id
  const siblingCourseForum = await courseForum(edt, 'npq-senior-leadership', siennaUser, markers.sienna)
  const otherCourseForum = await courseForum(ambition, 'npq-leading-literacy', xantheUser, markers.xanthe)
  const siblingForum = await forum(groups.sibling, 'npq-senior-leadership', siennaUser, markers.sienna)
  const otherForum = await forum(groups.other, 'npq-leading-literacy', xantheUser, markers.xanthe)

  // ---- Surveys, with a response each ----
  const ownSurvey = (await db.selectFrom('surveys').select('id').where('lead_provider_id', '=', edt).executeTakeFirstOrThrow()).id
  const otherSurvey = await cloneRow(db, 'surveys', ownSurvey, {
    lead_provider_id: ambition,
    course_identifier: 'npq-leading-literacy',
    cohort: '2024-autumn',
    activity_code: null,
    title: `Survey ${markers.xanthe}`,
    created_by: otto,
  })
  const respond = (surveyId: string, enrolmentId: string, by: string, text: string) =>
    db
      .insertInto('survey_responses')
      .values({ survey_id: surveyId, enrolment_id: enrolmentId, answers: JSON.stringify({ q1: 4, q3: text }), submitted_by: by })
      .execute()
  await respond(ownSurvey, petraEnrolment, petraUser, `Answer ${markers.petra}`)
  await respond(otherSurvey, xantheEnrolment, xantheUser, `Answer ${markers.xanthe}`)

  // ---- Learning records ----
  const record = async (participantId: string, course: string, code: string) =>
    (
      await db
        .insertInto('learning_records')
        .values({
          participant_id: participantId,
          course_identifier: course,
          activity_code: code,
          occurred_at: new Date(Date.now() - 86_400_000).toISOString(),
          evidence_on: day(-1),
          source: 'automatic',
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id
  const selfStudy = async (lp: string, course: string, cohort: string) => {
    const design = await services.designs.designForCohort(lp, course, cohort)
    const activity = design?.blocks.flatMap((b) => b.activities).find((a) => a.evidence === 'activity')
    if (!activity) throw new Error(`no self-study activity in ${lp} ${course}`)
    return activity.code
  }
  const codes = {
    own: await selfStudy('edt', 'npq-headship', '2022-autumn'),
    sibling: await selfStudy('edt', 'npq-senior-leadership', '2022-spring'),
    other: await selfStudy('ambition', 'npq-leading-literacy', '2024-autumn'),
  }
  const records = {
    own: await record(priya, 'npq-headship', codes.own),
    sibling: await record(sienna, 'npq-senior-leadership', codes.sibling),
    other: await record(xanthe, 'npq-leading-literacy', codes.other),
  }

  // ---- Tokens: API clients of both lead providers (and one of each to revoke), calendar feeds ----
  const apiTokens = {
    own: (await createApiToken(db, system, edt, 'Matrix own')).token,
    other: (await createApiToken(db, system, ambition, 'Matrix other')).token,
  }
  const revocable = {
    own: (await createApiToken(db, system, edt, 'Matrix revoke own')).id,
    other: (await createApiToken(db, system, ambition, 'Matrix revoke other')).id,
  }
  const feeds = {
    priya: await createFeedToken(db, await userPrincipal(priyaUser)),
    xanthe: await createFeedToken(db, await userPrincipal(xantheUser)),
    facilitator: await createFeedToken(db, await userPrincipal(fatima)),
  }
  const anEmail = (await db.selectFrom('email_outbox').select('id').orderBy('created_at').executeTakeFirstOrThrow()).id

  const ids: AccessWorld['ids'] = {
    // Scalars: codes of each world (a participant's own course is the demo participant's).
    'lp-code': { own: 'edt', sibling: 'edt', other: 'ambition' },
    'dp-code': { own: 'north-star-tsh', sibling: 'east-coast-tsh', other: 'southern-lights-mat' },
    'dp-id': { own: northStar, sibling: eastCoast, other: southernLights },
    'lp-id': { own: edt, other: ambition },
    course: { own: 'npq-headship', sibling: 'npq-senior-leadership', other: 'npq-leading-literacy' },
    cohort: { own: '2022-autumn', sibling: '2022-spring', other: '2024-autumn' },
    'design-block': { own: '1' },
    'content-block': { own: '4', sibling: '1', other: '1' },
    'activity-code': codes,
    'meeting-number': { own: '1' },
    'content-action': { own: 'publish' },
    'link-token': { own: crypto.randomBytes(24).toString('base64url') },
    'feed-token': { own: feeds.priya },
    email: { own: anEmail },
    // Records.
    enrolment: { own: priyaEnrolment, peer: petraEnrolment, sibling: siennaEnrolment, other: xantheEnrolment },
    participant: { own: priya, peer: petra, sibling: sienna, other: xanthe },
    'meeting-enrolment': { own: samEnrolment, peer: uclPeer.id, other: xantheEnrolment },
    'meeting-schedule': { own: ownSchedule, other: otherSchedule },
    event: { own: ownEvent, peer: peerEvent, sibling: siblingEvent, other: otherEvent },
    'event-ref': eventRefs,
    'import-upload': { own: ownUpload, other: otherUpload },
    application: { own: ownApplication, other: otherApplication },
    'dfe-request': { own: ownDfeRequest, other: otherDfeRequest },
    declaration: { own: ownDeclaration, sibling: siblingDeclaration, other: otherDeclaration },
    'escalation-case': escalations,
    'deferral-request': deferrals,
    'withdrawal-request': withdrawals,
    'participant-group': groups,
    'assessment-window': { own: ownWindow, sibling: siblingWindow, other: otherWindow },
    'assessment-entry': entries,
    extenuating: extenuatings,
    'script-reference': { own: 'S-OWN01', peer: 'S-PEER1', other: 'S-OTHR1' },
    'project-entry': {
      own: projects.own.entryId,
      peer: projects.peer.entryId,
      sibling: projects.sibling.entryId,
      other: projects.other.entryId,
    },
    'project-report': {
      own: projects.own.reportId,
      peer: projects.peer.reportId,
      sibling: projects.sibling.reportId,
      other: projects.other.reportId,
    },
    'content-item': { own: ownItem, other: otherItem },
    'quiz-item': quizItems,
    'prompt-item': promptItems,
    'media-item': mediaItems,
    'webinar-item': webinarItems,
    'content-file': { own: ownFile, other: otherFile },
    'task-submission': submissions,
    'journal-entry': journals,
    'safeguarding-concern': concerns,
    'people-group': peopleGroups,
    'facilitator-user': { own: fatima, sibling: sol, other: ossie },
    'lp-news': { own: ownLpNews, other: await news(ownLpNews, ambition, otto, markers.xanthe) },
    'dp-news': {
      own: ownDpNews,
      sibling: await news(ownDpNews, eastCoast, sol, markers.sienna),
      other: await news(ownDpNews, southernLights, olga, markers.xanthe),
    },
    forum: { own: ownForum, sibling: siblingForum.forumId, other: otherForum.forumId },
    'forum-thread': { own: ownThread, sibling: siblingForum.threadId, other: otherForum.threadId },
    'forum-post': { own: ownPost, sibling: siblingForum.postId, other: otherForum.postId },
    'course-forum': { own: ownCourseForum, sibling: siblingCourseForum.forumId, other: otherCourseForum.forumId },
    'course-forum-thread': { own: ownCourseThread, sibling: siblingCourseForum.threadId, other: otherCourseForum.threadId },
    'course-forum-post': { own: ownCoursePost, sibling: siblingCourseForum.postId, other: otherCourseForum.postId },
    survey: { own: ownSurvey, other: otherSurvey },
    'learning-record': records,
    'api-token': revocable,
  }

  return {
    ids,
    identities: {
      priya: ['Priya Patel'],
      sam: ['Sam Whitfield', 'ucl-participant@demo.test'],
      petra: ['Petra Peerless', 'petra.peerless@peer.test', '7770001', markers.petra],
      sienna: ['Sienna Siblingham', 'sienna.siblingham@sibling.test', '7770002', markers.sienna],
      xanthe: ['Xanthe Otherworld', 'xanthe.otherworld@other.test', '7770003', markers.xanthe],
      otherStaff: ['Olly Otherline', 'Otto Otheradmin', 'Olga Otherlead', 'Ossie Otherfac', 'Otis Otherassessor'],
    },
    privateMarkers: [
      { marker: journalMarker, readers: ['participant'] },
      { marker: concernMarker, readers: ['delivery-partner-lead'] },
    ],
    apiTokens,
    feeds,
    eventTitles,
    codes: {
      otherLeadProvider: 'ambition',
      otherDeliveryPartner: 'southern-lights-mat',
      siblingDeliveryPartner: 'east-coast-tsh',
      otherCourse: 'npq-leading-literacy',
    },
    orgIds: { otherLeadProvider: ambition, otherDeliveryPartner: southernLights, siblingDeliveryPartner: eastCoast },
  }
}
