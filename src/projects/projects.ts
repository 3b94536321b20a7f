import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Db, Trx } from '../db/database.ts'
import { projectStages, type ProjectStage } from '../db/schema.ts'
import { notFound } from '../errors.ts'
import type { EnrolmentSummary } from '../lifecycle/requests.ts'
import type { Principal } from '../policy/principal.ts'

// The implementation project (issue 8, item 3; UCL handbook, seed 000): a work-based project through
// the four stages of the EEF's "Putting Evidence to Work" implementation process, with the participant's
// entries per stage (some of them reflections on a line manager/mentor meeting) and a short final
// report presented to peers. It is the participant's own record: it is never evidence of engagement,
// so nothing here writes learning records, meeting logs or anything the engagement engine reads.

export { projectStages, type ProjectStage }

/** The final report's file: at most this size, and only these types (checked by their content). */
export const MAX_REPORT_BYTES = 10 * 1024 * 1024
export const MAX_REPORT_SIZE_TEXT = '10 MB'
export const MAX_ENTRY_CHARS = 10_000
export const MAX_REPORT_TEXT_CHARS = 20_000
export const MAX_TITLE_CHARS = 200

export type ReportFileType = { extension: 'pdf' | 'docx' | 'pptx' | 'txt'; mimeType: string }
export const reportFileTypes: Record<ReportFileType['extension'], string> = {
  pdf: 'application/pdf',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  txt: 'text/plain; charset=utf-8',
}

/** The EEF's guidance for each stage, as UCL's handbook summarises it. */
export const stageGuidance: Record<ProjectStage, { label: string; summary: string; recommendations: string[] }> = {
  explore: {
    label: 'Explore',
    summary:
      'Define clearly the problem you want to solve, identify possible evidence-informed programmes or practices, and judge how feasible each option is in your setting.',
    recommendations: [
      'Define the problem you want to solve, using data about your pupils and school.',
      'Identify an evidence-informed approach that fits that problem and your context.',
    ],
  },
  prepare: {
    label: 'Prepare',
    summary:
      'Be clear which features of the approach (its "active ingredients") must be adopted closely to get the intended outcomes, and get ready to deliver them.',
    recommendations: [
      'Create a clear implementation plan: the active ingredients, the activities and the outcomes you expect.',
      'Assess the readiness of the school to deliver the plan.',
      'Prepare staff and resources before you start.',
    ],
  },
  deliver: {
    label: 'Deliver',
    summary:
      'Put the plan into practice with implementation strategies such as training, coaching, audit and feedback, and use what you learn to improve it.',
    recommendations: [
      'Support staff as they use the approach for the first time.',
      'Monitor progress and the quality of implementation.',
      'Solve problems and adapt strategies as they arise.',
    ],
  },
  sustain: {
    label: 'Sustain',
    summary: 'Use the outputs of your planning to keep the approach going, check its outcomes and decide whether to extend it.',
    recommendations: [
      'Plan for sustaining and scaling the approach from the outset.',
      'Continuously acknowledge, reward and recognise its use, and nurture it.',
    ],
  },
}

/** The EEF recommendations that apply across every stage. */
export const generalGuidance = [
  'Treat implementation as a process, not an event: plan and carry it out in stages.',
  'Create a leadership environment and school climate that is conducive to good implementation.',
]

export const isStage = (value: unknown): value is ProjectStage =>
  typeof value === 'string' && (projectStages as readonly string[]).includes(value)

// ---- File types by content ----

const startsWith = (content: Buffer, magic: number[]) => magic.every((b, i) => content[i] === b)
const ZIP = [0x50, 0x4b, 0x03, 0x04]

/**
 * The report file's type from its name and its first bytes, or null when it is not one we accept: a
 * PDF starts with `%PDF-`; DOCX and PPTX are ZIP packages with a `word/` or `ppt/` part; a text file is
 * UTF-8 without NUL or other binary control characters. The extension must agree with the content.
 */
export function detectReportType(fileName: string, content: Buffer): ReportFileType | null {
  const extension = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase()
  if (content.length === 0) return null
  let detected: ReportFileType['extension'] | null = null
  if (startsWith(content, [0x25, 0x50, 0x44, 0x46, 0x2d])) detected = 'pdf'
  else if (startsWith(content, ZIP)) {
    // Part names are stored as plain text in a ZIP's local headers and central directory.
    const names = content.toString('latin1')
    if (names.includes('[Content_Types].xml')) {
      if (names.includes('word/')) detected = 'docx'
      else if (names.includes('ppt/')) detected = 'pptx'
    }
  } else if (isPlainText(content)) detected = 'txt'
  if (!detected || detected !== extension) return null
  return { extension: detected, mimeType: reportFileTypes[detected] }
}

function isPlainText(content: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(content)
  } catch {
    return false
  }
  // Tab, line feed, form feed and carriage return are text; other C0 controls (and NUL) are not.
  for (const byte of content) if (byte < 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0c && byte !== 0x0d) return false
  return true
}

/** A file name safe for a Content-Disposition header, with the original kept in `filename*`. */
export function contentDisposition(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_') || 'report'
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`
}

// ---- Meetings the entries can reflect on ----

export type MeetingChoice = { number: number; on: string | null }

/**
 * Meetings 1..N, N the lead provider's meetings required for the course's group (catalogue policy),
 * each with its date when a log has been written (the latest version's date) or it has been scheduled.
 */
export async function meetingChoices(db: Db | Trx, catalogue: Catalogue, e: EnrolmentSummary): Promise<MeetingChoice[]> {
  const group = findCourse(e.courseIdentifier)?.group
  const required = group ? (catalogue.policy(e.leadProviderCode)?.meetings_required[group] ?? 0) : 0
  if (required <= 0) return []
  const [logs, schedules] = await Promise.all([
    db
      .selectFrom('meeting_log_versions')
      .select(['meeting_number', 'version', sql<string>`held_on::text`.as('held_on')])
      .where('enrolment_id', '=', e.id)
      .orderBy('version', 'desc')
      .execute(),
    db
      .selectFrom('meeting_schedules')
      .select(['meeting_number', 'starts_at'])
      .where('enrolment_id', '=', e.id)
      .where('cancelled_at', 'is', null)
      .execute(),
  ])
  return Array.from({ length: required }, (_, i) => {
    const number = i + 1
    const log = logs.find((l) => l.meeting_number === number)
    const schedule = schedules.find((s) => s.meeting_number === number)
    return { number, on: log?.held_on ?? (schedule ? londonDateOf(new Date(schedule.starts_at)) : null) }
  })
}

// ---- The project ----

export type ProjectEntry = {
  id: string
  stage: ProjectStage
  body: string
  meetingNumber: number | null
  createdBy: string | null
  createdAt: Date
  updatedAt: Date
}

export type ReportVersion = {
  id: string
  version: number
  body: string | null
  fileName: string | null
  fileType: string | null
  fileSize: number | null
  presentedOn: string | null
  submittedAt: Date
  submittedBy: string | null
}

export type Project = { title: string; entries: ProjectEntry[]; reports: ReportVersion[] }

/** The project of an enrolment: its title, entries oldest first and report versions newest first. */
export async function loadProject(db: Db | Trx, enrolmentId: string): Promise<Project> {
  const [project, entries, reports] = await Promise.all([
    db.selectFrom('implementation_projects').select('title').where('enrolment_id', '=', enrolmentId).executeTakeFirst(),
    db
      .selectFrom('project_entries')
      .select(['id', 'stage', 'body', 'meeting_number', 'created_by', 'created_at', 'updated_at'])
      .where('enrolment_id', '=', enrolmentId)
      .orderBy('created_at')
      .orderBy('id')
      .execute(),
    db
      .selectFrom('project_reports as r')
      .leftJoin('users as u', 'u.id', 'r.submitted_by')
      .select([
        'r.id',
        'r.body',
        'r.file_name',
        'r.file_type',
        'r.file_size',
        sql<string | null>`r.presented_on::text`.as('presented_on'),
        'r.submitted_at',
        'u.full_name as submitted_by',
      ])
      .where('r.enrolment_id', '=', enrolmentId)
      .orderBy('r.submitted_at')
      .orderBy('r.id')
      .execute(),
  ])
  return {
    title: project?.title ?? '',
    entries: entries.map((r) => ({
      id: r.id,
      stage: r.stage,
      body: r.body,
      meetingNumber: r.meeting_number,
      createdBy: r.created_by,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
    })),
    reports: reports
      .map((r, i) => ({
        id: r.id,
        version: i + 1,
        body: r.body,
        fileName: r.file_name,
        fileType: r.file_type,
        fileSize: r.file_size,
        presentedOn: r.presented_on,
        submittedAt: r.submitted_at,
        submittedBy: r.submitted_by,
      }))
      .reverse(),
  }
}

async function touchProject(trx: Trx, enrolmentId: string) {
  await trx
    .insertInto('implementation_projects')
    .values({ enrolment_id: enrolmentId })
    .onConflict((oc) => oc.column('enrolment_id').doUpdateSet({ updated_at: sql`now()` }))
    .execute()
}

export async function saveTitle(db: Db, by: Principal, enrolmentId: string, title: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('implementation_projects')
      .select('title')
      .where('enrolment_id', '=', enrolmentId)
      .executeTakeFirst()
    await trx
      .insertInto('implementation_projects')
      .values({ enrolment_id: enrolmentId, title })
      .onConflict((oc) => oc.column('enrolment_id').doUpdateSet({ title, updated_at: sql`now()` }))
      .execute()
    // The title is the participant's own words: the audit records that it changed, not what it says.
    await recordAudit(trx, {
      by,
      action: 'project.title-saved',
      entityType: 'implementation-project',
      entityId: enrolmentId,
      before: before ? { titleLength: before.title.length } : undefined,
      after: { titleLength: title.length },
    })
  })
}

export type EntryInput = { stage: ProjectStage; body: string; meetingNumber: number | null }

export async function addEntry(db: Db, by: Principal & { kind: 'user' }, enrolmentId: string, input: EntryInput): Promise<string> {
  return db.transaction().execute(async (trx) => {
    await touchProject(trx, enrolmentId)
    const row = await trx
      .insertInto('project_entries')
      .values({
        enrolment_id: enrolmentId,
        stage: input.stage,
        body: input.body,
        meeting_number: input.meetingNumber,
        created_by: by.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await recordAudit(trx, {
      by,
      action: 'project.entry-added',
      entityType: 'project-entry',
      entityId: row.id,
      after: { enrolmentId, stage: input.stage, meetingNumber: input.meetingNumber },
    })
    return row.id
  })
}

/** Changes an entry the person wrote on this enrolment's project (else not found). */
export async function updateEntry(
  db: Db,
  by: Principal & { kind: 'user' },
  enrolmentId: string,
  entryId: string,
  input: EntryInput,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom('project_entries')
      .select(['stage', 'meeting_number', 'created_by'])
      .where('id', '=', entryId)
      .where('enrolment_id', '=', enrolmentId)
      .forUpdate()
      .executeTakeFirst()
    if (!before || before.created_by !== by.userId) throw notFound('Entry')
    await trx
      .updateTable('project_entries')
      .set({ stage: input.stage, body: input.body, meeting_number: input.meetingNumber, updated_at: sql`now()` })
      .where('id', '=', entryId)
      .execute()
    await touchProject(trx, enrolmentId)
    await recordAudit(trx, {
      by,
      action: 'project.entry-edited',
      entityType: 'project-entry',
      entityId: entryId,
      before: { stage: before.stage, meetingNumber: before.meeting_number },
      after: { stage: input.stage, meetingNumber: input.meetingNumber },
    })
  })
}

export type ReportInput = {
  body: string | null
  file: { name: string; type: ReportFileType; content: Buffer } | null
  presentedOn: string | null
}

/** A new version of the final report: earlier versions are kept, the latest is the one shown. */
export async function submitReport(db: Db, by: Principal & { kind: 'user' }, enrolmentId: string, input: ReportInput): Promise<string> {
  return db.transaction().execute(async (trx) => {
    await touchProject(trx, enrolmentId)
    const row = await trx
      .insertInto('project_reports')
      .values({
        enrolment_id: enrolmentId,
        body: input.body,
        file_name: input.file?.name ?? null,
        file_type: input.file?.type.mimeType ?? null,
        file_size: input.file?.content.length ?? null,
        file_data: input.file?.content ?? null,
        presented_on: input.presentedOn,
        submitted_by: by.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    // What was submitted, never what it says.
    await recordAudit(trx, {
      by,
      action: 'project.report-submitted',
      entityType: 'project-report',
      entityId: row.id,
      after: {
        enrolmentId,
        text: input.body !== null,
        fileType: input.file?.type.extension ?? null,
        fileSize: input.file?.content.length ?? null,
        presentedOn: input.presentedOn,
      },
    })
    return row.id
  })
}

export async function reportFile(db: Db | Trx, enrolmentId: string, reportId: string) {
  if (!/^[0-9a-f-]{36}$/i.test(reportId)) return undefined
  return db
    .selectFrom('project_reports')
    .select(['file_name', 'file_type', 'file_data'])
    .where('id', '=', reportId)
    .where('enrolment_id', '=', enrolmentId)
    .where('file_data', 'is not', null)
    .executeTakeFirst()
}

/** Enrolments with a project started (title, entry or report), in the given organisations. */
export async function projectsOf(db: Db | Trx, scope: { deliveryPartnerIds?: string[]; leadProviderIds?: string[] }) {
  const dp = scope.deliveryPartnerIds ?? []
  const lp = scope.leadProviderIds ?? []
  if (!dp.length && !lp.length) return []
  const rows = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .leftJoin('implementation_projects as ip', 'ip.enrolment_id', 'e.id')
    .select([
      'e.id',
      'e.course_identifier',
      'e.cohort',
      'p.full_name',
      'ip.title',
      (eb) =>
        eb
          .selectFrom('project_entries as pe')
          .whereRef('pe.enrolment_id', '=', 'e.id')
          .select((sub) => sub.fn.countAll<string>().as('n'))
          .as('entries'),
      (eb) =>
        eb
          .selectFrom('project_reports as pr')
          .whereRef('pr.enrolment_id', '=', 'e.id')
          .select((sub) => sub.fn.max('pr.submitted_at').as('at'))
          .as('reported_at'),
    ])
    .where((eb) =>
      eb.or([...(dp.length ? [eb('e.delivery_partner_id', 'in', dp)] : []), ...(lp.length ? [eb('e.lead_provider_id', 'in', lp)] : [])]),
    )
    // From the few enrolments with a project, an entry or a report, not every enrolment in scope
    // (a lead provider's tens of thousands probed one by one took 50–110 ms at national scale).
    .where('e.id', 'in', (eb) =>
      eb
        .selectFrom('implementation_projects')
        .select('enrolment_id')
        .union(eb.selectFrom('project_entries').select('enrolment_id'))
        .union(eb.selectFrom('project_reports').select('enrolment_id')),
    )
    .orderBy('p.full_name')
    .orderBy('e.course_identifier')
    .execute()
  return rows.map((r) => ({
    id: r.id,
    fullName: r.full_name,
    courseName: findCourse(r.course_identifier)?.name ?? r.course_identifier,
    cohort: r.cohort,
    title: r.title ?? '',
    entries: Number(r.entries ?? 0),
    reportedAt: r.reported_at ? londonDateOf(new Date(r.reported_at as Date | string)) : null,
  }))
}
