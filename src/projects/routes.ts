import fastifyMultipart from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { formatDate } from '../escalations/cases.ts'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { loadEnrolment, type EnrolmentSummary } from '../lifecycle/requests.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { dateFromParts } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import {
  addEntry,
  contentDisposition,
  detectReportType,
  generalGuidance,
  isStage,
  loadProject,
  MAX_ENTRY_CHARS,
  MAX_REPORT_BYTES,
  MAX_REPORT_SIZE_TEXT,
  MAX_REPORT_TEXT_CHARS,
  MAX_TITLE_CHARS,
  meetingChoices,
  projectsOf,
  projectStages,
  reportFile,
  saveTitle,
  stageGuidance,
  submitReport,
  updateEntry,
  type MeetingChoice,
  type ProjectStage,
} from './projects.ts'

// The implementation project's pages. The participant keeps their project at
// /participant/enrolments/:id/project (all of theirs at /participant/project); their delivery
// partner's leads and their lead provider's admins read it at /delivery-partner/projects/:id and
// /lead-provider/projects/:id. Nothing here is evidence of engagement.

type Area = 'participant' | 'delivery-partner' | 'lead-provider'
type User = Principal & { kind: 'user' }
type Body = Record<string, unknown>
type UploadedFile = { filename: string; content: Buffer; truncated: boolean }

const text = (v: unknown) => (typeof v === 'string' ? v : '').trim()
const view = (name: string) => `projects/views/${name}.njk`
const isId = (id: string) => /^[0-9a-f-]{36}$/i.test(id)

const projectPath = (area: Area, id: string) =>
  area === 'participant' ? `/participant/enrolments/${id}/project` : `/${area}/projects/${id}`
const listPath = (area: Area) => (area === 'participant' ? '/participant/project' : `/${area}/projects`)

const meetingLabel = (m: MeetingChoice) => `Meeting ${m.number}${m.on ? ` (${formatDate(m.on)})` : ''}`

export function registerProjectRoutes(app: FastifyInstance, services: Services): void {
  const { db, catalogue } = services

  const userOf = (req: FastifyRequest): User => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    return p
  }

  /** The enrolment, if this person may see its project from this area (else not found: no hint it exists). */
  async function enrolmentFor(user: User, area: Area, enrolmentId: string): Promise<EnrolmentSummary> {
    if (!isId(enrolmentId)) throw notFound('Project')
    const e = await loadEnrolment(db, enrolmentId)
    const allowed =
      e &&
      (area === 'participant'
        ? e.participantUserId === user.userId
        : area === 'delivery-partner'
          ? e.deliveryPartnerId !== null && organisationsWithRole(user, 'delivery-partner-lead').includes(e.deliveryPartnerId)
          : organisationsWithRole(user, 'lead-provider-admin').includes(e.leadProviderId))
    if (!e || !allowed) throw notFound('Project')
    return e
  }

  /** The participant's own enrolment for a change to their project: refused while deferred or withdrawn (the project is then read-only). */
  async function writableEnrolment(user: User, enrolmentId: string): Promise<EnrolmentSummary> {
    const e = await enrolmentFor(user, 'participant', enrolmentId)
    if (e.status === 'deferred' || e.status === 'withdrawn') {
      throw new AppError('validation-failed', `Your place on ${e.courseName} is ${e.status}: your project is read-only until you return`)
    }
    return e
  }

  // ---- The project page ----

  async function projectPage(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, area: Area) {
    const user = userOf(req)
    const e = await enrolmentFor(user, area, req.params.id)
    const [project, meetings] = await Promise.all([loadProject(db, e.id), meetingChoices(db, catalogue, e)])
    const base = projectPath(area, e.id)
    const editable = area === 'participant' && e.status !== 'deferred' && e.status !== 'withdrawn'
    const stages = projectStages.map((stage) => ({
      stage,
      ...stageGuidance[stage],
      entries: project.entries
        .filter((entry) => entry.stage === stage)
        .map((entry) => {
          const meeting = entry.meetingNumber ? meetings.find((m) => m.number === entry.meetingNumber) : undefined
          return {
            ...entry,
            on: londonDateOf(entry.createdAt),
            edited: entry.updatedAt.getTime() - entry.createdAt.getTime() > 1000,
            meeting: entry.meetingNumber ? (meeting ? meetingLabel(meeting) : `Meeting ${entry.meetingNumber}`) : null,
            editable: editable && entry.createdBy === user.userId,
          }
        }),
    }))
    const [latest, ...earlier] = project.reports
    const saved = (req.query as Record<string, string | undefined>).saved
    return reply.render(view('project'), {
      title: editable ? 'Your implementation project' : `${e.fullName}: implementation project`,
      e,
      area,
      base,
      back: listPath(area),
      editable,
      projectTitle: project.title,
      stages,
      generalGuidance,
      latest: latest && { ...latest, submittedOn: londonDateOf(latest.submittedAt) },
      earlier: earlier.map((r) => ({ ...r, submittedOn: londonDateOf(r.submittedAt) })),
      saved,
      formatDate,
    })
  }

  for (const area of ['delivery-partner', 'lead-provider'] as const) {
    app.get(`/${area}/projects`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req)
      const scope =
        area === 'delivery-partner'
          ? { deliveryPartnerIds: organisationsWithRole(user, 'delivery-partner-lead') }
          : { leadProviderIds: organisationsWithRole(user, 'lead-provider-admin') }
      if (!(scope.deliveryPartnerIds ?? scope.leadProviderIds ?? []).length) throw forbidden()
      return reply.render(view('index'), {
        title: 'Implementation projects',
        area,
        projects: (await projectsOf(db, scope)).map((p) => ({
          ...p,
          reportedAt: p.reportedAt && formatDate(p.reportedAt),
          href: projectPath(area, p.id),
        })),
      })
    })
    app.get<{ Params: { id: string } }>(`/${area}/projects/:id`, { config: { access: 'signed-in' } }, (req, reply) =>
      projectPage(req, reply, area),
    )
    app.get<{ Params: { id: string; reportId: string } }>(
      `/${area}/projects/:id/reports/:reportId/file`,
      { config: { access: 'signed-in' } },
      (req, reply) => download(req, reply, area),
    )
  }

  app.get('/participant/project', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const rows = await db
      .selectFrom('enrolments as e')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .leftJoin('implementation_projects as ip', 'ip.enrolment_id', 'e.id')
      .select(['e.id', 'e.course_identifier', 'e.cohort', 'ip.title'])
      .where('p.user_id', '=', user.userId)
      .orderBy('e.cohort', 'desc')
      .orderBy('e.course_identifier')
      .execute()
    const enrolments = await Promise.all(
      rows.map(async (r) => {
        const e = (await loadEnrolment(db, r.id))!
        return { id: r.id, courseName: e.courseName, cohort: r.cohort, title: r.title ?? '', href: projectPath('participant', r.id) }
      }),
    )
    return reply.render(view('index'), { title: 'Your implementation projects', area: 'participant', enrolments })
  })

  app.get<{ Params: { id: string } }>('/participant/enrolments/:id/project', { config: { access: 'signed-in' } }, (req, reply) =>
    projectPage(req, reply, 'participant'),
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    '/participant/enrolments/:id/project/title',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const e = await writableEnrolment(user, req.params.id)
      const title = text(req.body?.title).slice(0, MAX_TITLE_CHARS)
      await saveTitle(db, user, e.id, title)
      return reply.redirect(`${projectPath('participant', e.id)}?saved=title`, 303)
    },
  )

  // ---- Entries ----

  async function entryForm(
    reply: FastifyReply,
    e: EnrolmentSummary,
    options: { entryId?: string; values: { stage?: string; body?: string; meeting?: string }; errors?: FieldError[] },
  ) {
    const meetings = await meetingChoices(db, catalogue, e)
    const base = projectPath('participant', e.id)
    const errors = options.errors ?? []
    const stage = isStage(options.values.stage) ? options.values.stage : undefined
    return reply.render(
      view('entry'),
      {
        title: options.entryId ? 'Edit entry' : stage ? `Add an entry: ${stageGuidance[stage].label}` : 'Add an entry',
        e,
        back: base,
        action: options.entryId ? `${base}/entries/${options.entryId}` : `${base}/entries`,
        values: options.values,
        guidance: stage ? stageGuidance[stage] : null,
        stageItems: projectStages.map((s) => ({
          value: s,
          text: stageGuidance[s].label,
          hint: { text: stageGuidance[s].summary },
          checked: s === stage,
        })),
        meetingItems: meetings.length
          ? [
              { value: '', text: 'Not linked to a meeting', selected: !options.values.meeting },
              ...meetings.map((m) => ({
                value: String(m.number),
                text: meetingLabel(m),
                selected: options.values.meeting === String(m.number),
              })),
            ]
          : null,
        maxChars: MAX_ENTRY_CHARS,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  async function readEntry(e: EnrolmentSummary, body: Body) {
    const values = { stage: text(body.stage), body: text(body.body), meeting: text(body.meeting) }
    const problems: FieldError[] = []
    if (!isStage(values.stage)) problems.push({ field: 'stage', message: 'Select the stage this entry is about' })
    if (values.body === '') problems.push({ field: 'body', message: 'Enter your entry' })
    else if (values.body.length > MAX_ENTRY_CHARS)
      problems.push({ field: 'body', message: `Your entry must be ${MAX_ENTRY_CHARS.toLocaleString('en-GB')} characters or fewer` })
    let meetingNumber: number | null = null
    if (values.meeting !== '') {
      const meetings = await meetingChoices(db, catalogue, e)
      const found = meetings.find((m) => String(m.number) === values.meeting)
      if (!found) problems.push({ field: 'meeting', message: 'Select one of your meetings, or not linked to a meeting' })
      else meetingNumber = found.number
    }
    return { values, problems, input: { stage: values.stage as ProjectStage, body: values.body, meetingNumber } }
  }

  app.get<{ Params: { id: string }; Querystring: { stage?: string } }>(
    '/participant/enrolments/:id/project/entries/new',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const e = await writableEnrolment(userOf(req), req.params.id)
      return entryForm(reply, e, { values: { stage: req.query.stage } })
    },
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    '/participant/enrolments/:id/project/entries',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const e = await writableEnrolment(user, req.params.id)
      const { values, problems, input } = await readEntry(e, req.body ?? {})
      if (problems.length) return entryForm(reply, e, { values, errors: problems })
      await addEntry(db, user, e.id, input)
      return reply.redirect(`${projectPath('participant', e.id)}?saved=entry#${input.stage}`, 303)
    },
  )

  async function ownEntry(user: User, e: EnrolmentSummary, entryId: string) {
    if (!isId(entryId)) throw notFound('Entry')
    const entry = await db
      .selectFrom('project_entries')
      .select(['id', 'stage', 'body', 'meeting_number', 'created_by'])
      .where('id', '=', entryId)
      .where('enrolment_id', '=', e.id)
      .executeTakeFirst()
    if (!entry || entry.created_by !== user.userId) throw notFound('Entry')
    return entry
  }

  app.get<{ Params: { id: string; entryId: string } }>(
    '/participant/enrolments/:id/project/entries/:entryId',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const e = await writableEnrolment(user, req.params.id)
      const entry = await ownEntry(user, e, req.params.entryId)
      return entryForm(reply, e, {
        entryId: entry.id,
        values: { stage: entry.stage, body: entry.body, meeting: entry.meeting_number ? String(entry.meeting_number) : '' },
      })
    },
  )

  app.post<{ Params: { id: string; entryId: string }; Body: Body }>(
    '/participant/enrolments/:id/project/entries/:entryId',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const e = await writableEnrolment(user, req.params.id)
      const entry = await ownEntry(user, e, req.params.entryId)
      const { values, problems, input } = await readEntry(e, req.body ?? {})
      if (problems.length) return entryForm(reply, e, { entryId: entry.id, values, errors: problems })
      await updateEntry(db, user, e.id, entry.id, input)
      return reply.redirect(`${projectPath('participant', e.id)}?saved=entry#${input.stage}`, 303)
    },
  )

  // ---- The final report ----

  const reportForm = (
    reply: FastifyReply,
    e: EnrolmentSummary,
    values: { body?: string; presented?: { day?: string; month?: string; year?: string } } = {},
    errors: FieldError[] = [],
  ) =>
    reply.render(
      view('report'),
      {
        title: 'Submit your final report',
        e,
        back: projectPath('participant', e.id),
        action: `${projectPath('participant', e.id)}/report`,
        values: { body: values.body ?? '', presented: values.presented ?? {} },
        maxSize: MAX_REPORT_SIZE_TEXT,
        maxChars: MAX_REPORT_TEXT_CHARS,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )

  app.get<{ Params: { id: string } }>(
    '/participant/enrolments/:id/project/report',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const e = await writableEnrolment(userOf(req), req.params.id)
      return reportForm(reply, e)
    },
  )

  // Multipart only here: fields become plain values so the CSRF check reads `_csrf` as on any form.
  // A file over the limit is cut off rather than refused by the plugin, so the page can say so and
  // keep what was typed.
  app.register(async (scope) => {
    await scope.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      throwFileSizeLimit: false,
      limits: { fileSize: MAX_REPORT_BYTES, files: 1, fields: 10 },
      async onFile(part) {
        const content = await part.toBuffer()
        ;(part as unknown as { value: UploadedFile }).value = { filename: part.filename, content, truncated: part.file.truncated }
      },
    })
    scope.post<{ Params: { id: string }; Body: Body }>(
      '/participant/enrolments/:id/project/report',
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const e = await writableEnrolment(user, req.params.id)
        const body = req.body ?? {}
        const reportText = text(body.body)
        const presented = { day: text(body['presented-day']), month: text(body['presented-month']), year: text(body['presented-year']) }
        const upload = body.file as UploadedFile | undefined
        const file = upload && Buffer.isBuffer(upload.content) && (upload.content.length > 0 || upload.truncated) ? upload : undefined
        const problems: FieldError[] = []
        if (reportText.length > MAX_REPORT_TEXT_CHARS)
          problems.push({
            field: 'body',
            message: `Your report must be ${MAX_REPORT_TEXT_CHARS.toLocaleString('en-GB')} characters or fewer`,
          })
        let fileType = null
        if (file) {
          if (file.truncated) problems.push({ field: 'file', message: `The selected file must be smaller than ${MAX_REPORT_SIZE_TEXT}` })
          else {
            fileType = detectReportType(file.filename, file.content)
            if (!fileType) problems.push({ field: 'file', message: 'The selected file must be a PDF, DOCX, PPTX or TXT' })
          }
        } else if (reportText === '') problems.push({ field: 'body', message: 'Enter your report or upload it as a file' })
        let presentedOn: string | null = null
        if (presented.day || presented.month || presented.year) {
          presentedOn = dateFromParts(presented.day, presented.month, presented.year)
          if (!presentedOn)
            problems.push({ field: 'presented-day', message: 'Enter the date you presented it as a real date, for example 27 3 2026' })
          else if (presentedOn > londonDateOf(new Date()))
            problems.push({ field: 'presented-day', message: 'The date you presented it must be today or in the past' })
        }
        if (problems.length) return reportForm(reply, e, { body: reportText, presented }, problems)
        await submitReport(db, user, e.id, {
          body: reportText === '' ? null : reportText,
          // The name is only shown to people and offered back on download, never used as a path.
          file:
            file && fileType
              ? { name: (file.filename || `report.${fileType.extension}`).slice(0, 200), type: fileType, content: file.content }
              : null,
          presentedOn,
        })
        return reply.redirect(`${projectPath('participant', e.id)}?saved=report#report`, 303)
      },
    )
  })

  async function download(req: FastifyRequest<{ Params: { id: string; reportId: string } }>, reply: FastifyReply, area: Area) {
    const e = await enrolmentFor(userOf(req), area, req.params.id)
    const file = await reportFile(db, e.id, req.params.reportId)
    if (!file?.file_data) throw notFound('File')
    return reply
      .header('content-type', file.file_type ?? 'application/octet-stream')
      .header('content-disposition', contentDisposition(file.file_name ?? 'report'))
      .header('cache-control', 'private, no-store')
      .send(file.file_data)
  }

  app.get<{ Params: { id: string; reportId: string } }>(
    '/participant/enrolments/:id/project/reports/:reportId/file',
    { config: { access: 'signed-in' } },
    (req, reply) => download(req, reply, 'participant'),
  )
}
