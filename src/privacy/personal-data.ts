import { sql, type RawBuilder } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import type { Db, Trx } from '../db/database.ts'
import { AppError, forbidden } from '../errors.ts'
import { can } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'

// Who a person is in the database, and every table's rows about them (docs/RELIABILITY.md "Data protection").
//
// A person may be a participant (DfE's participant_id), a user account (participants, line managers,
// staff), an applicant, or all three; they are found by email, TRN, participant id or user id and then
// by everything those lead to: their participant rows, their accounts, their applications and their
// enrolments. Each section below names, in plain words, one table's rows about them.

export type Subject = {
  participantIds: string[]
  userIds: string[]
  enrolmentIds: string[]
  applicationIds: string[]
  emails: string[]
  trns: string[]
  names: string[]
  /** The lead providers they are enrolled with or applied to: whose admins may export their data. */
  leadProviderIds: string[]
}

export type SubjectQuery = { email?: string; trn?: string; participantId?: string; userId?: string }

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
const unique = <T>(values: (T | null | undefined)[]): T[] => [...new Set(values.filter((v): v is T => v !== null && v !== undefined))]

/** Finds the person (null when nobody matches). */
export async function findSubject(db: Db | Trx, query: SubjectQuery): Promise<Subject | null> {
  const email = query.email?.trim().toLowerCase() || null
  const trn = query.trn?.trim() || null
  const participantId = query.participantId && uuidPattern.test(query.participantId) ? query.participantId.toLowerCase() : null
  const userId = query.userId && uuidPattern.test(query.userId) ? query.userId.toLowerCase() : null
  if (!email && !trn && !participantId && !userId) return null

  const seedParticipants = await db
    .selectFrom('participants')
    .select(['id', 'user_id'])
    .where((eb) =>
      eb.or([
        ...(participantId ? [eb('id', '=', participantId)] : []),
        ...(email ? [eb('email', '=', email)] : []),
        ...(trn ? [eb('trn', '=', trn)] : []),
        ...(userId ? [eb('user_id', '=', userId)] : []),
      ]),
    )
    .execute()
  const users = await db
    .selectFrom('users')
    .select(['id', 'email', 'full_name'])
    .where((eb) =>
      eb.or([
        ...(userId ? [eb('id', '=', userId)] : []),
        ...(email ? [eb('email', '=', email)] : []),
        ...(seedParticipants.some((p) => p.user_id) ? [eb('id', 'in', unique(seedParticipants.map((p) => p.user_id)))] : []),
      ]),
    )
    .execute()
  const userIds = unique(users.map((u) => u.id))
  const participants = await db
    .selectFrom('participants')
    .select(['id', 'email', 'trn', 'full_name'])
    .where((eb) =>
      eb.or([
        eb('id', 'in', [...seedParticipants.map((p) => p.id), '00000000-0000-0000-0000-000000000000']),
        ...(userIds.length ? [eb('user_id', 'in', userIds)] : []),
      ]),
    )
    .execute()
  const participantIds = unique(participants.map((p) => p.id))
  const participantEmails = unique([...participants.map((p) => p.email), ...users.map((u) => u.email)])
  const participantTrns = unique(participants.map((p) => p.trn))
  const applications = await db
    .selectFrom('applications')
    .select(['id', 'lead_provider_id', 'email', 'trn', 'full_name'])
    .where((eb) =>
      eb.or([
        ...(participantIds.length ? [eb('participant_id', 'in', participantIds)] : []),
        ...(participantEmails.length || email ? [eb('email', 'in', unique([...participantEmails, email]))] : []),
        ...(participantTrns.length || trn ? [eb('trn', 'in', unique([...participantTrns, trn]))] : []),
      ]),
    )
    .execute()
  if (participants.length === 0 && users.length === 0 && applications.length === 0) return null
  const enrolments = participantIds.length
    ? await db.selectFrom('enrolments').select(['id', 'lead_provider_id']).where('participant_id', 'in', participantIds).execute()
    : []
  return {
    participantIds,
    userIds,
    enrolmentIds: unique(enrolments.map((e) => e.id)),
    applicationIds: unique(applications.map((a) => a.id)),
    emails: unique([...participantEmails, ...applications.map((a) => a.email)]),
    trns: unique([...participantTrns, ...applications.map((a) => a.trn)]).filter((t) => /^[0-9]{7}$/.test(t)),
    names: unique([...participants.map((p) => p.full_name), ...users.map((u) => u.full_name), ...applications.map((a) => a.full_name)]),
    leadProviderIds: unique([...enrolments.map((e) => e.lead_provider_id), ...applications.map((a) => a.lead_provider_id)]),
  }
}

type Condition = (s: Subject) => RawBuilder<unknown>
const ids = (values: string[]) => sql`${values}::uuid[]`
const byParticipant: Condition = (s) => sql`participant_id = any(${ids(s.participantIds)})`
const byEnrolment: Condition = (s) => sql`enrolment_id = any(${ids(s.enrolmentIds)})`
const byUser =
  (column: string): Condition =>
  (s) =>
    sql`${sql.ref(column)} = any(${ids(s.userIds)})`
const byDeclaration: Condition = (s) =>
  sql`declaration_id in (select id from declarations where participant_id = any(${ids(s.participantIds)}))`
const byEntry: Condition = (s) => sql`entry_id in (select id from assessment_entries where enrolment_id = any(${ids(s.enrolmentIds)}))`

export type Section = {
  /** What the rows are, in plain words. */
  name: string
  table: string
  where: Condition
  /** Secrets (hashes of tokens and passwords) and file contents, which go under `files`. */
  omit?: string[]
  /** A column holding a file they uploaded. */
  file?: { data: string; name: string; type: string }
}

/** Every table holding rows about a person. The export has one section per entry, in this order. */
export const sections: Section[] = [
  {
    name: 'Participant record (DfE participant id, name, email, TRN)',
    table: 'participants',
    where: (s) => sql`id = any(${ids(s.participantIds)})`,
  },
  { name: 'User accounts', table: 'users', where: (s) => sql`id = any(${ids(s.userIds)})`, omit: ['password_hash'] },
  { name: 'Roles held on the platform', table: 'role_assignments', where: byUser('user_id') },
  { name: 'Signed-in sessions', table: 'sessions', where: byUser('user_id'), omit: ['id_hash'] },
  { name: 'Invitation, sign-in and password links sent', table: 'one_time_links', where: byUser('user_id'), omit: ['token_hash'] },
  { name: 'Sign-in attempts with their email address', table: 'sign_in_attempts', where: (s) => sql`email = any(${s.emails}::text[])` },
  { name: 'Private calendar feed', table: 'calendar_feeds', where: byUser('user_id'), omit: ['token_hash'] },
  { name: 'Emails sent to them', table: 'email_outbox', where: (s) => sql`to_address = any(${s.emails}::text[])` },
  { name: 'Applications for a course', table: 'applications', where: (s) => sql`id = any(${ids(s.applicationIds)})` },
  { name: 'Places on courses (enrolments)', table: 'enrolments', where: byParticipant },
  { name: 'Changes of enrolment status', table: 'enrolment_transitions', where: byEnrolment },
  { name: 'Engagement and outputs as last calculated for the dashboards', table: 'enrolment_figures', where: byEnrolment },
  { name: 'School contract and sponsorship agreements', table: 'agreement_requests', where: byEnrolment, omit: ['token_hash'] },
  { name: 'Who pays for the place', table: 'place_funding', where: byEnrolment },
  { name: 'Delivery partner group', table: 'group_memberships', where: byEnrolment },
  { name: 'Buddies, clinic groups, communities and peer learning groups', table: 'people_group_members', where: byEnrolment },
  { name: 'Learning records (activity evidence)', table: 'learning_records', where: byParticipant },
  { name: 'First completion of each activity (kept beside the learning records)', table: 'learning_completions', where: byParticipant },
  { name: 'First attendance of each event activity (kept beside the registers)', table: 'attendance_firsts', where: byParticipant },
  { name: 'Event bookings', table: 'bookings', where: byParticipant },
  {
    name: 'Event reminders sent to them',
    table: 'event_reminders',
    where: (s) => sql`recipient_id = any(${ids([...s.participantIds, ...s.userIds])})`,
  },
  { name: 'Register entries (attendance evidence)', table: 'register_entries', where: byParticipant },
  { name: 'Line manager or mentor meetings: signed logs (evidence)', table: 'meeting_logs', where: byParticipant },
  { name: 'Line manager or mentor meetings: schedule', table: 'meeting_schedules', where: byEnrolment },
  { name: 'Line manager or mentor meetings: the written logs', table: 'meeting_log_versions', where: byEnrolment },
  { name: 'Implementation project', table: 'implementation_projects', where: byEnrolment },
  { name: 'Implementation project entries and reflections', table: 'project_entries', where: byEnrolment },
  {
    name: 'Implementation project final reports',
    table: 'project_reports',
    where: byEnrolment,
    omit: ['file_data'],
    file: { data: 'file_data', name: 'file_name', type: 'file_type' },
  },
  { name: 'Deferrals', table: 'deferrals', where: byParticipant },
  { name: 'Withdrawals', table: 'withdrawals', where: byParticipant },
  { name: 'Requests to defer', table: 'deferral_requests', where: byEnrolment },
  { name: 'Requests to withdraw', table: 'withdrawal_requests', where: byEnrolment },
  { name: 'Assessment attempts and results (imported)', table: 'assessment_attempts', where: byParticipant },
  { name: 'Assessment entries and written responses', table: 'assessment_entries', where: byEnrolment },
  { name: 'Extenuating circumstances', table: 'extenuating_circumstances', where: byEntry },
  { name: 'Assessment marks, results and feedback', table: 'assessment_marks', where: byEntry },
  { name: 'Declarations to DfE (funding evidence)', table: 'declarations', where: byParticipant },
  { name: 'Declaration state changes', table: 'declaration_state_changes', where: byDeclaration },
  { name: 'Clawbacks', table: 'clawbacks', where: byDeclaration },
  { name: 'Requests sent to DfE about them', table: 'dfe_requests', where: byParticipant },
  {
    name: 'Attempts to send those requests, with DfE’s responses',
    table: 'dfe_request_attempts',
    where: (s) => sql`request_id in (select id from dfe_requests where participant_id = any(${ids(s.participantIds)}))`,
  },
  { name: 'Escalation cases (outputs not met on time)', table: 'escalation_cases', where: byParticipant },
  {
    name: 'Escalation actions and notes',
    table: 'escalation_actions',
    where: (s) => sql`case_id in (select id from escalation_cases where participant_id = any(${ids(s.participantIds)}))`,
  },
  { name: 'Progress through course content', table: 'content_progress', where: byEnrolment },
  { name: 'Quiz and diagnostic attempts', table: 'quiz_attempts', where: byEnrolment },
  {
    name: 'Formative assessment tasks submitted',
    table: 'task_submissions',
    where: byEnrolment,
    omit: ['file_data'],
    file: { data: 'file_data', name: 'file_name', type: 'file_type' },
  },
  { name: 'Learning audits (private)', table: 'learning_audits', where: byEnrolment },
  { name: 'Journal entries (private)', table: 'journal_entries', where: byUser('user_id') },
  { name: 'Safeguarding concerns they raised', table: 'safeguarding_concerns', where: byUser('raised_by') },
  { name: 'Forum threads they started', table: 'forum_threads', where: byUser('created_by') },
  { name: 'Forum posts they wrote', table: 'forum_posts', where: byUser('author_user_id') },
  { name: 'Survey responses', table: 'survey_responses', where: byEnrolment },
  { name: 'Events they facilitate (staff)', table: 'event_facilitators', where: byUser('user_id') },
  { name: 'Observations of their facilitation (staff)', table: 'facilitator_observations', where: byUser('facilitator_user_id') },
  { name: 'Delivery partner contact (staff)', table: 'delivery_partner_contacts', where: byUser('user_id') },
  { name: 'Designated safeguarding lead (staff)', table: 'safeguarding_leads', where: byUser('user_id') },
  { name: 'Programme contact (staff)', table: 'programme_contacts', where: (s) => sql`email = any(${s.emails}::text[])` },
  {
    name: 'CSV uploads that name them (listed; the files hold other people’s rows too)',
    table: 'import_uploads',
    where: (s) => sql`exists (select 1 from unnest(${[...s.emails, ...s.trns]}::text[]) n where strpos(lower(content), n) > 0)`,
    omit: ['content', 'result'],
  },
  {
    name: 'Audit entries about them or made by them',
    table: 'audit_events',
    where: (s) =>
      sql`(entity_id = any(${[...s.participantIds, ...s.userIds, ...s.enrolmentIds, ...s.applicationIds]}::text[]) or actor_user_id = any(${ids(s.userIds)}))`,
  },
]

export type ExportSection = { name: string; table: string; rows: Record<string, unknown>[] }
export type ExportFile = {
  section: string
  table: string
  row_id: string
  file_name: string | null
  file_type: string | null
  size: number
  content_base64: string
}

export type SubjectAccessExport = {
  format: 'npq-subject-access-export/1'
  generated_at: string
  generated_by: string
  subject: { participant_ids: string[]; user_ids: string[]; emails: string[]; trns: string[]; names: string[] }
  about: string[]
  sections: ExportSection[]
  files: ExportFile[]
}

/** Everything the platform holds about the person: every section, empty ones included (so the reader sees what was searched). */
export async function buildExport(db: Db | Trx, subject: Subject, generatedBy: string, now = new Date()): Promise<SubjectAccessExport> {
  const out: ExportSection[] = []
  const files: ExportFile[] = []
  for (const section of sections) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(section.table)} where ${section.where(subject)}`.execute(
      db,
    )
    const omit = new Set(section.omit ?? [])
    out.push({
      name: section.name,
      table: section.table,
      rows: rows.map((row) => {
        const kept = Object.fromEntries(Object.entries(row).filter(([k]) => !omit.has(k)))
        const file = section.file
        if (file && Buffer.isBuffer(row[file.data])) {
          const data = row[file.data] as Buffer
          files.push({
            section: section.name,
            table: section.table,
            row_id: String(row.id),
            file_name: (row[file.name] as string | null) ?? null,
            file_type: (row[file.type] as string | null) ?? null,
            size: data.length,
            content_base64: data.toString('base64'),
          })
          kept[file.data] = `see files (row ${String(row.id)})`
        }
        return kept
      }),
    })
  }
  return {
    format: 'npq-subject-access-export/1',
    generated_at: now.toISOString(),
    generated_by: generatedBy,
    subject: {
      participant_ids: subject.participantIds,
      user_ids: subject.userIds,
      emails: subject.emails,
      trns: subject.trns,
      names: subject.names,
    },
    about: [
      'Everything the NPQ delivery platform holds about this person: one section per kind of record, each with every row about them, empty sections included.',
      'Secrets are left out (password and link hashes). Files they uploaded are under "files", base64-encoded.',
      'Audit entries record who changed what and when; they are kept for the retention period and never edited.',
    ],
    sections: out,
    files,
  }
}

/**
 * A subject access export, asked of the policy and audited (who exported whose data, and when): the
 * audit entry holds ids and counts, never the data.
 */
export async function exportPersonalData(db: Db, by: Principal, query: SubjectQuery): Promise<SubjectAccessExport> {
  return db.transaction().execute(async (trx) => {
    const subject = await findSubject(trx, query)
    if (!subject) throw new AppError('not-found', 'Nobody with that email address, TRN or id')
    if (!can(by, 'export-personal-data', { type: 'personal-data', leadProviderIds: subject.leadProviderIds })) throw forbidden()
    const document = await buildExport(
      trx,
      subject,
      by.kind === 'user' ? `${by.fullName} <${by.email}>` : by.kind === 'system' ? `system: ${by.name}` : `api token ${by.tokenId}`,
    )
    const [entityType, entityId] = subject.participantIds[0]
      ? ['participant', subject.participantIds[0]]
      : subject.userIds[0]
        ? ['user', subject.userIds[0]]
        : ['application', subject.applicationIds[0]!]
    await recordAudit(trx, {
      by,
      action: 'privacy.export',
      entityType,
      entityId,
      after: {
        participant_ids: subject.participantIds,
        user_ids: subject.userIds,
        application_ids: subject.applicationIds,
        rows: document.sections.reduce((n, section) => n + section.rows.length, 0),
        files: document.files.length,
      },
    })
    return document
  })
}
