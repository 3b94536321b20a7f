import fastifyMultipart from '@fastify/multipart'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { findCourse, type Course } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { AppError, forbidden, notFound, statusOfCode, type FieldError } from '../errors.ts'
import { ownEnrolment, type OwnEnrolment } from '../learning/routes.ts'
import { organisationsWithRole } from '../policy/principal.ts'
import { contentDisposition } from '../projects/projects.ts'
import { dateFromParts } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { renderMarkdown } from '../web/markdown.ts'
import {
  blockKey,
  chooseVersion,
  completeItem,
  designBlocks,
  goesLiveOn,
  isVisible,
  itemPath,
  itemStatus,
  latestAttempt,
  learnBlocks,
  learnPath,
  loadItem,
  loadItems,
  loadProgress,
  localContextFor,
  recordWatched,
  saveAnswers,
  submissionsOf,
  submitQuiz,
  submitTask,
  taskQueue,
  type Item,
  type User,
} from './content.ts'
import {
  applySteps,
  checkMediaLink,
  detectDocumentType,
  detectMediaType,
  formatDuration,
  formatQuestions,
  isMediaKind,
  isPromptKind,
  isQuizKind,
  kindNames,
  MAX_ANSWER_CHARS,
  MAX_FILE_BYTES,
  MAX_FILE_SIZE_TEXT,
  MAX_MEDIA_BYTES,
  MAX_MEDIA_SIZE_TEXT,
  MAX_TEXT_CHARS,
  parseDuration,
  parseLines,
  parseQuestions,
  scoreQuiz,
  watchedPercent,
} from './rules.ts'
import { contentKinds, type ContentKind, type MediaVersion } from './schema.ts'

// Block content. Lead-provider admins author it at /lead-provider/content (course → block → items);
// delivery partner leads add local context beside it at /delivery-partner/content; participants meet
// it in the Learn zone at /participant/learn; facilitators (and their partner's leads) give feedback on
// formative assessment tasks at /facilitator/tasks. Files and media are served at /content/files/:id
// to people who may see an item that uses them.

type Body = Record<string, unknown>
type UploadedFile = { filename: string; content: Buffer; truncated: boolean }

const text = (v: unknown) => (typeof v === 'string' ? v : '').trim()
const view = (name: string) => `content/views/${name}.njk`
const isId = (id: string) => /^[0-9a-f-]{36}$/i.test(id)
const MAX_VERSIONS = 3

const userOf = (req: FastifyRequest): User => {
  const p = req.principal
  if (!p || p.kind !== 'user') throw forbidden()
  return p
}

const uploadOf = (v: unknown): UploadedFile | undefined => {
  const u = v as UploadedFile | undefined
  return u && Buffer.isBuffer(u.content) && (u.content.length > 0 || u.truncated) ? u : undefined
}

function sendJsonError(reply: FastifyReply, error: AppError) {
  const fields = error.fieldErrors.length ? { fields: error.fieldErrors } : {}
  return reply.status(statusOfCode[error.code]).send({ error: { code: error.code, message: error.message, ...fields } })
}

/** Multipart fields become plain values (so the CSRF check reads `_csrf`); a file over the limit is cut off and flagged. */
async function multipart(scope: FastifyInstance, fileSize: number, files: number) {
  await scope.register(fastifyMultipart, {
    attachFieldsToBody: 'keyValues',
    throwFileSizeLimit: false,
    limits: { fileSize, files, fields: 40 },
    async onFile(part) {
      const content = await part.toBuffer()
      ;(part as unknown as { value: UploadedFile }).value = { filename: part.filename, content, truncated: part.file.truncated }
    },
  })
}

export function registerContentRoutes(app: FastifyInstance, services: Services): void {
  const { db, designs, catalogue, blockWindows } = services
  const today = () => londonDateOf(new Date())

  // ================= Lead-provider authoring =================

  async function leadProviderOf(user: User, code: string) {
    const org = await db.selectFrom('organisations').select(['id', 'code', 'name']).where('code', '=', code).executeTakeFirst()
    if (!org || !organisationsWithRole(user, 'lead-provider-admin').includes(org.id)) throw notFound('Lead provider')
    return org
  }
  const authoringPath = (lp: string, course: string) => `/lead-provider/content/${lp}/${course}`

  app.get('/lead-provider/content', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const ids = organisationsWithRole(user, 'lead-provider-admin')
    if (!ids.length) throw forbidden()
    const orgs = await db.selectFrom('organisations').select(['id', 'code', 'name']).where('id', 'in', ids).orderBy('name').execute()
    const counts = await db
      .selectFrom('content_items')
      .select(['lead_provider_id', 'course_identifier', 'status', (eb) => eb.fn.countAll<string>().as('n')])
      .where('lead_provider_id', 'in', ids)
      .groupBy(['lead_provider_id', 'course_identifier', 'status'])
      .execute()
    const count = (lp: string, course: string, status: string) =>
      Number(counts.find((c) => c.lead_provider_id === lp && c.course_identifier === course && c.status === status)?.n ?? 0)
    const leadProviders = orgs.map((o) => ({
      ...o,
      courses: catalogue.coursesOf(o.code).map((c) => ({
        name: findCourse(c)?.name ?? c,
        href: authoringPath(o.code, c),
        published: count(o.id, c, 'published'),
        drafts: count(o.id, c, 'draft'),
      })),
    }))
    return reply.render(view('lp-index'), { title: 'Block content', leadProviders })
  })

  async function authoringCourse(user: User, lpCode: string, courseId: string) {
    const lp = await leadProviderOf(user, lpCode)
    const course = findCourse(courseId)
    if (!course || !catalogue.coursesOf(lp.code).includes(course.identifier)) throw notFound('Course')
    const design = await designs.design(lp.code, course.identifier)
    return { lp, course, design, blocks: designBlocks(design) }
  }

  app.get<{ Params: { lp: string; course: string }; Querystring: { tag?: string } }>(
    '/lead-provider/content/:lp/:course',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { lp, course, blocks } = await authoringCourse(userOf(req), req.params.lp, req.params.course)
      const items = await loadItems(db, lp.id, course.identifier)
      const tag = text(req.query.tag)
      const allTags = [...new Set(items.flatMap((i) => i.tags))].sort()
      const base = authoringPath(lp.code, course.identifier)
      return reply.render(view('lp-course'), {
        title: `${course.name}: block content`,
        lp,
        course,
        base,
        tag,
        tagItems: [{ value: '', text: 'All statements' }, ...allTags.map((t) => ({ value: t, text: t, selected: t === tag }))],
        blocks: blocks.map((b) => {
          const key = blockKey(b.block)
          const inBlock = items.filter((i) => i.block === key)
          return {
            key,
            title: b.title ? `Block ${key}: ${b.title}` : `Block ${key}`,
            addHref: `${base}/blocks/${encodeURIComponent(key)}/new`,
            items: inBlock
              .filter((i) => !tag || i.tags.includes(tag))
              .map((i) => ({
                ...i,
                kindName: kindNames[i.kind],
                activity: b.activities.find((a) => a.code === i.activity_code)?.title ?? null,
                first: i.id === inBlock[0]?.id,
                last: i.id === inBlock.at(-1)?.id,
              })),
          }
        }),
        saved: (req.query as Record<string, string>).saved,
      })
    },
  )

  type ItemValues = Record<string, string>

  async function itemForm(
    reply: FastifyReply,
    ctx: { lp: { code: string; name: string }; course: Course; blockKey: string; kind: ContentKind; item?: Item },
    values: ItemValues,
    errors: FieldError[] = [],
  ) {
    const design = await designs.design(ctx.lp.code, ctx.course.identifier)
    const block = designBlocks(design).find((b) => blockKey(b.block) === ctx.blockKey)
    const base = authoringPath(ctx.lp.code, ctx.course.identifier)
    return reply.render(
      view('lp-item-form'),
      {
        title: ctx.item ? `Edit ${kindNames[ctx.kind].toLowerCase()}` : `Add a ${kindNames[ctx.kind].toLowerCase()}`,
        course: ctx.course,
        lp: ctx.lp,
        blockKey: ctx.blockKey,
        kind: ctx.kind,
        kindName: kindNames[ctx.kind],
        back: base,
        action: ctx.item ? `/lead-provider/content/items/${ctx.item.id}` : `${base}/blocks/${encodeURIComponent(ctx.blockKey)}/items`,
        item: ctx.item,
        values,
        isMedia: isMediaKind(ctx.kind),
        isQuiz: isQuizKind(ctx.kind),
        isPrompt: isPromptKind(ctx.kind),
        versionNumbers: ctx.kind === 'webinar' ? [1, 2, 3] : [1],
        existingMedia: ctx.item?.media ?? [],
        activityItems: [
          { value: '', text: 'No activity (does not count towards engagement)', selected: !values.activity },
          ...(block?.activities ?? [])
            .filter((a) => a.evidence === 'activity')
            .map((a) => ({ value: a.code, text: `${a.title} (${a.code})`, selected: values.activity === a.code })),
        ],
        maxFile: MAX_FILE_SIZE_TEXT,
        maxMedia: MAX_MEDIA_SIZE_TEXT,
        applySteps,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  const valuesOf = (item: Item): ItemValues => {
    const [year, month, day] = (item.goes_live_on ?? '').split('-')
    const values: ItemValues = {
      title: item.title,
      activity: item.activity_code ?? '',
      body: item.body,
      evidenceSummary: item.evidence_summary,
      tags: item.tags.join('\n'),
      questions: formatQuestions(item.questions),
      passMark: item.pass_mark === null ? '' : String(item.pass_mark),
      prompts: item.prompts.join('\n'),
      'live-day': day ? String(Number(day)) : '',
      'live-month': month ? String(Number(month)) : '',
      'live-year': year ?? '',
    }
    item.media.forEach((m, i) => {
      values[`version-${i + 1}-label`] = m.label
      values[`version-${i + 1}-duration`] = formatDuration(m.durationSeconds)
      values[`version-${i + 1}-link`] = m.url ?? ''
    })
    return values
  }

  type Parsed = {
    values: ItemValues
    problems: FieldError[]
    record: {
      title: string
      activity_code: string | null
      body: string
      evidence_summary: string
      tags: string[]
      questions: ReturnType<typeof parseQuestions>['questions']
      pass_mark: number | null
      prompts: string[]
      goes_live_on: string | null
      media: (MediaVersion & { upload?: { name: string; type: string; content: Buffer } })[]
      file?: { name: string; type: string; content: Buffer }
    }
  }

  async function readItem(lpCode: string, course: Course, key: string, kind: ContentKind, body: Body, existing?: Item): Promise<Parsed> {
    const values: ItemValues = {}
    for (const [k, v] of Object.entries(body)) if (typeof v === 'string') values[k] = v.trim()
    const problems: FieldError[] = []
    const title = values.title ?? ''
    if (!title) problems.push({ field: 'title', message: 'Enter a title' })
    else if (title.length > 200) problems.push({ field: 'title', message: 'The title must be 200 characters or fewer' })
    const design = await designs.design(lpCode, course.identifier)
    const block = designBlocks(design).find((b) => blockKey(b.block) === key)
    const activity = values.activity || null
    if (activity && !block?.activities.some((a) => a.code === activity && a.evidence === 'activity'))
      problems.push({ field: 'activity', message: 'Select a self-study activity of this block, or no activity' })
    for (const field of ['body', 'evidenceSummary'] as const)
      if ((values[field] ?? '').length > MAX_TEXT_CHARS)
        problems.push({ field, message: `This must be ${MAX_TEXT_CHARS.toLocaleString('en-GB')} characters or fewer` })
    if ((kind === 'page' || kind === 'study' || kind === 'task') && !values.body)
      problems.push({ field: 'body', message: kind === 'task' ? 'Enter the task' : 'Enter the content' })
    let goesLive: string | null = null
    const [d, m, y] = [values['live-day'] ?? '', values['live-month'] ?? '', values['live-year'] ?? '']
    if (d || m || y) {
      goesLive = dateFromParts(d, m, y)
      if (!goesLive) problems.push({ field: 'live-day', message: 'Enter the go-live date as a real date, for example 27 3 2026' })
    }
    const tags = parseLines(values.tags ?? '')
    if (tags.some((t) => t.length > 300)) problems.push({ field: 'tags', message: 'Each statement must be 300 characters or fewer' })
    let questions: Parsed['record']['questions'] = []
    let passMark: number | null = null
    if (isQuizKind(kind)) {
      const parsed = parseQuestions(values.questions ?? '')
      questions = parsed.questions
      if (!parsed.questions.length && !parsed.problems.length) problems.push({ field: 'questions', message: 'Enter at least one question' })
      else if (parsed.problems.length) problems.push({ field: 'questions', message: parsed.problems.slice(0, 3).join('. ') })
      if (kind === 'quiz' && values.passMark) {
        passMark = /^\d{1,3}$/.test(values.passMark) ? Number(values.passMark) : NaN
        if (!(passMark >= 0 && passMark <= 100))
          problems.push({ field: 'passMark', message: 'Enter the pass mark as a percentage from 0 to 100' })
      }
    }
    const prompts = isPromptKind(kind) ? parseLines(values.prompts ?? '') : []
    if ((kind === 'reflection' || kind === 'micro-task') && !prompts.length)
      problems.push({ field: 'prompts', message: 'Enter at least one prompt' })

    const media: Parsed['record']['media'] = []
    if (isMediaKind(kind)) {
      const count = kind === 'webinar' ? MAX_VERSIONS : 1
      const mediaKind = kind === 'podcast' ? 'audio' : 'video'
      for (let n = 1; n <= count; n++) {
        const prefix = `version-${n}`
        const label = values[`${prefix}-label`] ?? ''
        const link = values[`${prefix}-link`] ?? ''
        const durationText = values[`${prefix}-duration`] ?? ''
        const upload = uploadOf(body[`${prefix}-file`])
        const previous = existing?.media[n - 1]
        const keepFile = !upload && !link && previous?.fileId ? previous.fileId : null
        if (!label && !link && !upload && !durationText && !keepFile) continue
        if (kind === 'webinar' && !label)
          problems.push({ field: `${prefix}-label`, message: `Enter a name for version ${n}, for example Primary` })
        const durationSeconds = parseDuration(durationText)
        if (!durationSeconds) problems.push({ field: `${prefix}-duration`, message: 'Enter the running time, for example 12:30' })
        let url: string | null = null
        let fileUpload: Parsed['record']['media'][number]['upload']
        if (upload) {
          if (upload.truncated)
            problems.push({ field: `${prefix}-file`, message: `The selected file must be smaller than ${MAX_MEDIA_SIZE_TEXT}` })
          else {
            const type = detectMediaType(upload.content, mediaKind)
            if (!type)
              problems.push({
                field: `${prefix}-file`,
                message:
                  mediaKind === 'audio' ? 'The selected file must be an MP3, M4A, OGG or WAV' : 'The selected file must be an MP4 or WebM',
              })
            else
              fileUpload = {
                name: (upload.filename || `media.${type.extension}`).slice(0, 200),
                type: type.mimeType,
                content: upload.content,
              }
          }
        } else if (link) {
          url = checkMediaLink(link)
          if (!url)
            problems.push({ field: `${prefix}-link`, message: 'Enter a link starting https:// to YouTube, Vimeo or Microsoft Stream' })
          else if (activity)
            problems.push({
              field: `${prefix}-file`,
              message: 'Upload the media to count it towards an activity: watched time cannot be tracked on a link',
            })
        } else if (!keepFile) problems.push({ field: `${prefix}-file`, message: 'Select a media file or enter a link' })
        media.push({ label, fileId: keepFile, url, durationSeconds: durationSeconds ?? 0, upload: fileUpload })
      }
      if (!media.length && !problems.some((p) => p.field.startsWith('version-')))
        problems.push({ field: 'version-1-file', message: 'Select a media file or enter a link' })
    }
    let file: Parsed['record']['file']
    if (kind === 'file') {
      const upload = uploadOf(body.file)
      if (upload) {
        if (upload.truncated) problems.push({ field: 'file', message: `The selected file must be smaller than ${MAX_FILE_SIZE_TEXT}` })
        else {
          const type = detectDocumentType(upload.content)
          if (!type)
            problems.push({ field: 'file', message: 'The selected file must be a PDF, Word, PowerPoint, Excel, image or text file' })
          else
            file = { name: (upload.filename || `download.${type.extension}`).slice(0, 200), type: type.mimeType, content: upload.content }
        }
      } else if (!existing?.file_id) problems.push({ field: 'file', message: 'Select a file' })
    }
    return {
      values,
      problems,
      record: {
        title,
        activity_code: activity,
        body: values.body ?? '',
        evidence_summary: values.evidenceSummary ?? '',
        tags,
        questions,
        pass_mark: passMark,
        prompts,
        goes_live_on: goesLive,
        media,
        file,
      },
    }
  }

  async function storeFile(user: User, leadProviderId: string, f: { name: string; type: string; content: Buffer }) {
    const row = await db
      .insertInto('content_files')
      .values({
        lead_provider_id: leadProviderId,
        name: f.name,
        mime_type: f.type,
        size: f.content.length,
        data: f.content,
        uploaded_by: user.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    return row.id
  }

  async function saveItem(user: User, lp: { id: string }, course: Course, key: string, kind: ContentKind, parsed: Parsed, existing?: Item) {
    const { record } = parsed
    const media: MediaVersion[] = []
    for (const m of record.media) {
      const fileId = m.upload ? await storeFile(user, lp.id, m.upload) : m.fileId
      media.push({ label: m.label, fileId, url: m.url, durationSeconds: m.durationSeconds })
    }
    const fileId = record.file ? await storeFile(user, lp.id, record.file) : (existing?.file_id ?? null)
    const values = {
      title: record.title,
      activity_code: record.activity_code,
      body: record.body,
      evidence_summary: record.evidence_summary,
      tags: JSON.stringify(record.tags),
      questions: JSON.stringify(record.questions),
      pass_mark: record.pass_mark,
      prompts: JSON.stringify(record.prompts),
      goes_live_on: record.goes_live_on,
      media: JSON.stringify(media),
      file_id: fileId,
      updated_by: user.userId,
      updated_at: new Date(),
    }
    if (existing) {
      await db.updateTable('content_items').set(values).where('id', '=', existing.id).execute()
      await recordAudit(db, {
        by: user,
        action: 'content-item.updated',
        entityType: 'content-item',
        entityId: existing.id,
        after: { title: record.title },
      })
      return existing.id
    }
    const last = await db
      .selectFrom('content_items')
      .select((eb) => eb.fn.max('position').as('p'))
      .where('lead_provider_id', '=', lp.id)
      .where('course_identifier', '=', course.identifier)
      .where('block', '=', key)
      .executeTakeFirst()
    const row = await db
      .insertInto('content_items')
      .values({
        ...values,
        lead_provider_id: lp.id,
        course_identifier: course.identifier,
        block: key,
        kind,
        position: Number(last?.p ?? 0) + 1,
        created_by: user.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await recordAudit(db, {
      by: user,
      action: 'content-item.created',
      entityType: 'content-item',
      entityId: row.id,
      after: { kind, title: record.title, course: course.identifier, block: key },
    })
    return row.id
  }

  app.get<{ Params: { lp: string; course: string; block: string }; Querystring: { kind?: string; step?: string } }>(
    '/lead-provider/content/:lp/:course/blocks/:block/new',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { lp, course, blocks } = await authoringCourse(userOf(req), req.params.lp, req.params.course)
      const key = req.params.block
      if (!blocks.some((b) => blockKey(b.block) === key)) throw notFound('Block')
      const kind = req.query.kind
      // The kind form is a GET with a hidden `step`, so "nothing chosen" can be told apart from a first visit.
      const chose = req.query.step !== undefined || kind !== undefined
      if (kind && (contentKinds as readonly string[]).includes(kind))
        return itemForm(reply, { lp, course, blockKey: key, kind: kind as ContentKind }, {})
      return reply.render(
        view('lp-kind'),
        {
          title: 'What do you want to add?',
          back: authoringPath(lp.code, course.identifier),
          course,
          blockKey: key,
          action: `${authoringPath(lp.code, course.identifier)}/blocks/${encodeURIComponent(key)}/new`,
          kindItems: contentKinds.map((k) => ({ value: k, text: kindNames[k] })),
          ...(chose ? formErrors([{ field: 'kind', message: 'Select what you want to add' }]) : {}),
        },
        chose ? 400 : 200,
      )
    },
  )

  app.get<{ Params: { id: string } }>('/lead-provider/content/items/:id', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { item, lp, course } = await authoringItem(userOf(req), req.params.id)
    return itemForm(reply, { lp, course, blockKey: item.block, kind: item.kind, item }, valuesOf(item))
  })

  async function authoringItem(user: User, id: string) {
    const item = await loadItem(db, id)
    if (!item || !organisationsWithRole(user, 'lead-provider-admin').includes(item.lead_provider_id)) throw notFound('Item')
    const lp = await db
      .selectFrom('organisations')
      .select(['id', 'code', 'name'])
      .where('id', '=', item.lead_provider_id)
      .executeTakeFirstOrThrow()
    const course = findCourse(item.course_identifier)
    if (!course) throw notFound('Course')
    return { item, lp, course }
  }

  app.register(async (scope) => {
    await multipart(scope, MAX_MEDIA_BYTES, MAX_VERSIONS + 1)
    scope.post<{ Params: { lp: string; course: string; block: string }; Body: Body }>(
      '/lead-provider/content/:lp/:course/blocks/:block/items',
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const { lp, course, blocks } = await authoringCourse(user, req.params.lp, req.params.course)
        const key = req.params.block
        if (!blocks.some((b) => blockKey(b.block) === key)) throw notFound('Block')
        const kind = text(req.body?.kind) as ContentKind
        if (!contentKinds.includes(kind)) throw new AppError('validation-failed', 'Choose what to add')
        const parsed = await readItem(lp.code, course, key, kind, req.body ?? {})
        if (parsed.problems.length) return itemForm(reply, { lp, course, blockKey: key, kind }, parsed.values, parsed.problems)
        await saveItem(user, lp, course, key, kind, parsed)
        return reply.redirect(`${authoringPath(lp.code, course.identifier)}?saved=1#block-${encodeURIComponent(key)}`, 303)
      },
    )
    scope.post<{ Params: { id: string }; Body: Body }>(
      '/lead-provider/content/items/:id',
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const { item, lp, course } = await authoringItem(user, req.params.id)
        const parsed = await readItem(lp.code, course, item.block, item.kind, req.body ?? {}, item)
        if (parsed.problems.length)
          return itemForm(reply, { lp, course, blockKey: item.block, kind: item.kind, item }, parsed.values, parsed.problems)
        await saveItem(user, lp, course, item.block, item.kind, parsed, item)
        return reply.redirect(`${authoringPath(lp.code, course.identifier)}?saved=1#block-${encodeURIComponent(item.block)}`, 303)
      },
    )
  })

  app.post<{ Params: { id: string; action: string }; Body: Body }>(
    '/lead-provider/content/items/:id/:action',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const { item, lp, course } = await authoringItem(user, req.params.id)
      const action = req.params.action
      if (action === 'publish' || action === 'unpublish') {
        const status = action === 'publish' ? 'published' : 'draft'
        await db
          .updateTable('content_items')
          .set({
            status,
            published_at: status === 'published' ? new Date() : item.published_at,
            published_by: status === 'published' ? user.userId : item.published_by,
            updated_at: new Date(),
          })
          .where('id', '=', item.id)
          .execute()
        await recordAudit(db, {
          by: user,
          action: `content-item.${action}ed`,
          entityType: 'content-item',
          entityId: item.id,
          before: { status: item.status },
          after: { status },
        })
      } else if (action === 'up' || action === 'down') {
        const siblings = (await loadItems(db, item.lead_provider_id, item.course_identifier)).filter((i) => i.block === item.block)
        const at = siblings.findIndex((i) => i.id === item.id)
        const other = siblings[action === 'up' ? at - 1 : at + 1]
        if (other) {
          // Renumber the block in its new order, so equal positions cannot tie.
          siblings[at] = other
          siblings[action === 'up' ? at - 1 : at + 1] = item
          for (const [n, s] of siblings.entries())
            await db
              .updateTable('content_items')
              .set({ position: n + 1 })
              .where('id', '=', s.id)
              .execute()
          await recordAudit(db, {
            by: user,
            action: 'content-item.moved',
            entityType: 'content-item',
            entityId: item.id,
            after: { direction: action },
          })
        }
      } else throw notFound('Page')
      return reply.redirect(`${authoringPath(lp.code, course.identifier)}#item-${item.id}`, 303)
    },
  )

  app.get<{ Params: { id: string } }>(
    '/lead-provider/content/items/:id/preview',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { item, lp, course } = await authoringItem(userOf(req), req.params.id)
      return reply.render(view('item'), {
        ...(await itemView(item, course, null, undefined)),
        preview: true,
        back: authoringPath(lp.code, course.identifier),
      })
    },
  )

  // ================= Files and media =================

  /** Whether this person may see an item that uses the file: its lead provider's admins, enrolled participants once live, their partner's staff. */
  async function maySeeFile(user: User, fileId: string): Promise<boolean> {
    const items = await db
      .selectFrom('content_items')
      .selectAll()
      .where((eb) => eb.or([eb('file_id', '=', fileId), eb(eb.cast('media', 'text'), 'like', `%${fileId}%`)]))
      .execute()
    for (const item of items) {
      if (organisationsWithRole(user, 'lead-provider-admin').includes(item.lead_provider_id)) return true
      if (item.status !== 'published') continue
      const staffOrgs = [...organisationsWithRole(user, 'delivery-partner-lead'), ...organisationsWithRole(user, 'facilitator')]
      if (staffOrgs.length) {
        const e = await db
          .selectFrom('enrolments')
          .select('id')
          .where('lead_provider_id', '=', item.lead_provider_id)
          .where('course_identifier', '=', item.course_identifier)
          .where('delivery_partner_id', 'in', staffOrgs)
          .executeTakeFirst()
        if (e) return true
      }
      const course = findCourse(item.course_identifier)
      const mine = course && (await ownEnrolment(services, user, course.identifier).catch(() => null))
      if (mine && mine.enrolment.lead_provider_id === item.lead_provider_id) {
        const windows = await blockWindows.forCohort(mine.enrolment.code, course.identifier, mine.enrolment.cohort)
        if (
          isVisible(
            item,
            windows.find((w) => String(w.block) === item.block),
            today(),
          )
        )
          return true
      }
    }
    return false
  }

  app.get<{ Params: { id: string } }>('/content/files/:id', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    if (!isId(req.params.id) || !(await maySeeFile(user, req.params.id))) throw notFound('File')
    const file = await db.selectFrom('content_files').selectAll().where('id', '=', req.params.id).executeTakeFirstOrThrow()
    const data = file.data
    reply.header('content-type', file.mime_type).header('cache-control', 'private, no-store').header('accept-ranges', 'bytes')
    // Media players ask for ranges to seek.
    const range = /^bytes=(\d*)-(\d*)$/.exec(String(req.headers.range ?? ''))
    if (range && (range[1] || range[2])) {
      const start = range[1] ? Number(range[1]) : Math.max(0, data.length - Number(range[2]))
      const end = range[1] && range[2] ? Math.min(Number(range[2]), data.length - 1) : data.length - 1
      if (start >= data.length || start > end) return reply.status(416).header('content-range', `bytes */${data.length}`).send()
      return reply
        .status(206)
        .header('content-range', `bytes ${start}-${end}/${data.length}`)
        .send(data.subarray(start, end + 1))
    }
    if (!file.mime_type.startsWith('video/') && !file.mime_type.startsWith('audio/'))
      reply.header('content-disposition', contentDisposition(file.name))
    return reply.send(data)
  })

  // ================= Participant: the Learn zone =================

  async function itemView(item: Item, course: Course, enrolment: OwnEnrolment | null, windowGoLive: string | undefined) {
    const progress = enrolment ? await loadProgress(db, item.id, enrolment.id) : undefined
    const attempt = enrolment && isQuizKind(item.kind) ? await latestAttempt(db, item.id, enrolment.id) : undefined
    const result = attempt ? scoreQuiz(item.questions, attempt.answers, item.kind === 'diagnostic' ? null : item.pass_mark) : undefined
    const submissions = enrolment && item.kind === 'task' ? await submissionsOf(db, item.id, enrolment.id) : []
    const version = progress?.chosen_version ?? (item.kind === 'webinar' ? null : 0)
    const media = version !== null ? item.media[version] : undefined
    const design = enrolment ? await designs.designForCohort(enrolment.code, course.identifier, enrolment.cohort) : undefined
    const activity = designBlocks(design)
      .flatMap((b) => b.activities)
      .find((a) => a.code === item.activity_code)
    return {
      title: item.title,
      item,
      course,
      kindName: kindNames[item.kind],
      bodyHtml: item.body ? renderMarkdown(item.body) : '',
      evidenceHtml: item.evidence_summary ? renderMarkdown(item.evidence_summary) : '',
      state: itemStatus(item, progress, submissions.length > 0),
      progress,
      percentWatched: media && progress ? Math.floor(watchedPercent(progress.intervals[String(version)] ?? [], media.durationSeconds)) : 0,
      version,
      media: media && {
        ...media,
        src: media.fileId ? `/content/files/${media.fileId}` : null,
        duration: formatDuration(media.durationSeconds),
      },
      versionItems: item.media.map((m, i) => ({ value: String(i), text: m.label || `Version ${i + 1}`, checked: version === i })),
      fileHref: item.file_id ? `/content/files/${item.file_id}` : null,
      result,
      attemptOn: attempt?.submitted_at,
      submissions: submissions.map((s) => ({
        ...s,
        bodyHtml: renderMarkdown(s.body),
        feedbackHtml: s.feedback ? renderMarkdown(s.feedback) : '',
      })),
      prompts:
        item.kind === 'apply'
          ? applySteps.map((s) => ({ key: s.key, label: s.label, hint: s.hint }))
          : item.prompts.map((p, i) => ({ key: `prompt-${i + 1}`, label: p, hint: '' })),
      answers: progress?.answers ?? {},
      activityTitle: activity?.title ?? null,
      goesLiveOn: windowGoLive,
      base: itemPath(course.identifier, item.id),
      maxFile: MAX_FILE_SIZE_TEXT,
      isMedia: isMediaKind(item.kind),
      isQuiz: isQuizKind(item.kind),
      isPrompt: (isPromptKind(item.kind) && item.prompts.length > 0) || item.kind === 'apply',
    }
  }

  app.get('/participant/learn', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const rows = await db
      .selectFrom('enrolments as e')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
      .select(['e.course_identifier', 'e.cohort', 'e.status', 'lp.name'])
      .where('p.user_id', '=', user.userId)
      .orderBy('e.created_at')
      .execute()
    const courses = []
    for (const r of rows) {
      const course = findCourse(r.course_identifier)
      if (!course) continue
      const { enrolment } = await ownEnrolment(services, user, course.identifier)
      const { blocks } = await learnBlocks(services, enrolment, course, today())
      const live = blocks.filter((b) => b.live)
      courses.push({ course, leadProvider: r.name, cohort: r.cohort, status: r.status, href: learnPath(course.identifier), live })
    }
    return reply.render(view('learn-index'), { title: 'Learn', courses })
  })

  async function learnContext(req: FastifyRequest<{ Params: { course: string } }>) {
    const user = userOf(req)
    const { course, enrolment } = await ownEnrolment(services, user, req.params.course)
    return { user, course, enrolment }
  }

  app.get<{ Params: { course: string } }>('/participant/learn/:course', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { course, enrolment } = await learnContext(req)
    const { design, blocks } = await learnBlocks(services, enrolment, course, today())
    return reply.render(view('learn-course'), {
      title: course.name,
      course,
      enrolment,
      design,
      blocks,
      coursePage: `/participant/courses/${course.identifier}`,
    })
  })

  app.get<{ Params: { course: string; block: string } }>(
    '/participant/learn/:course/blocks/:block',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { course, enrolment } = await learnContext(req)
      const { blocks } = await learnBlocks(services, enrolment, course, today())
      const block = blocks.find((b) => b.key === req.params.block)
      if (!block || !block.live) throw notFound('Block')
      const local = await localContextFor(db, enrolment.delivery_partner_id, enrolment.lead_provider_id, course.identifier, block.key)
      const closed = enrolment.status === 'deferred' || enrolment.status === 'withdrawn'
      return reply.render(view('learn-block'), {
        title: block.title,
        course,
        block,
        back: learnPath(course.identifier),
        local: local && { ...local, notesHtml: renderMarkdown(local.notes), examplesHtml: renderMarkdown(local.examples) },
        activities: block.activities.map((a) => ({
          ...a,
          items: block.items.filter((i) => i.activity_code === a.code),
          canComplete: !closed && a.status !== null && !a.status.completed && !block.items.some((i) => i.activity_code === a.code),
        })),
      })
    },
  )

  async function participantItem(req: FastifyRequest<{ Params: { course: string; id: string } }>) {
    const { user, course, enrolment } = await learnContext(req)
    const item = await loadItem(db, req.params.id)
    if (!item || item.lead_provider_id !== enrolment.lead_provider_id || item.course_identifier !== course.identifier)
      throw notFound('Item')
    const windows = await blockWindows.forCohort(enrolment.code, course.identifier, enrolment.cohort)
    const window = windows.find((w) => String(w.block) === item.block)
    if (!isVisible(item, window, today())) throw notFound('Item')
    const closed = enrolment.status === 'deferred' || enrolment.status === 'withdrawn'
    return { user, course, enrolment, item, window, closed }
  }

  const assertOpen = (closed: boolean, enrolment: OwnEnrolment) => {
    if (closed) throw new AppError('invalid-transition', `You are ${enrolment.status} from this course: your learning is read-only`)
  }

  async function renderItem(
    reply: FastifyReply,
    ctx: Awaited<ReturnType<typeof participantItem>>,
    extra: Record<string, unknown> = {},
    errors: FieldError[] = [],
  ) {
    const data = await itemView(ctx.item, ctx.course, ctx.enrolment, goesLiveOn(ctx.item, ctx.window) ?? undefined)
    const local = await localContextFor(
      db,
      ctx.enrolment.delivery_partner_id,
      ctx.enrolment.lead_provider_id,
      ctx.course.identifier,
      ctx.item.block,
    )
    return reply.render(
      view('item'),
      {
        ...data,
        back: `${learnPath(ctx.course.identifier)}/blocks/${encodeURIComponent(ctx.item.block)}`,
        closed: ctx.closed,
        local: local && { ...local, notesHtml: renderMarkdown(local.notes), examplesHtml: renderMarkdown(local.examples) },
        saved: extra.saved,
        ...extra,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  type ItemParams = { course: string; id: string }

  app.get<{ Params: ItemParams; Querystring: { saved?: string } }>(
    '/participant/learn/:course/items/:id',
    { config: { access: 'signed-in' } },
    async (req, reply) => renderItem(reply, await participantItem(req), { saved: req.query.saved }),
  )

  app.post<{ Params: ItemParams }>(
    '/participant/learn/:course/items/:id/complete',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const ctx = await participantItem(req)
      assertOpen(ctx.closed, ctx.enrolment)
      // Watched time, quizzes, answers and tasks complete themselves; only reading is marked by hand.
      if (!['page', 'file', 'study'].includes(ctx.item.kind))
        throw new AppError('validation-failed', 'This is completed by doing it, not by a button')
      await completeItem(services, ctx.user, ctx.enrolment, ctx.course, ctx.item)
      return reply.redirect(`${itemPath(ctx.course.identifier, ctx.item.id)}?saved=complete`, 303)
    },
  )

  app.post<{ Params: ItemParams; Body: Body }>(
    '/participant/learn/:course/items/:id/answers',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const ctx = await participantItem(req)
      assertOpen(ctx.closed, ctx.enrolment)
      if (!isPromptKind(ctx.item.kind) && ctx.item.kind !== 'apply') throw notFound('Page')
      const keys = ctx.item.kind === 'apply' ? [...applySteps.map((s) => s.key), 'mode'] : ctx.item.prompts.map((_, i) => `prompt-${i + 1}`)
      const answers: Record<string, string> = {}
      const problems: FieldError[] = []
      for (const key of keys) {
        answers[key] = text(req.body?.[key])
        if (answers[key]!.length > MAX_ANSWER_CHARS)
          problems.push({ field: key, message: `Your answer must be ${MAX_ANSWER_CHARS.toLocaleString('en-GB')} characters or fewer` })
      }
      if (ctx.item.kind === 'apply' && answers.mode && !['buddy', 'alone'].includes(answers.mode))
        problems.push({ field: 'mode', message: 'Select whether you applied it with a buddy or alone' })
      const finishing = text(req.body?.finish) === 'yes'
      if (finishing && !problems.length)
        for (const key of keys.filter((k) => k !== 'mode' || ctx.item.kind === 'apply'))
          if (!answers[key])
            problems.push({
              field: key,
              message: key === 'mode' ? 'Select whether you applied it with a buddy or alone' : 'Answer this before you finish',
            })
      if (problems.length) return renderItem(reply, ctx, { answers }, problems)
      await saveAnswers(db, ctx.item, ctx.enrolment.id, answers)
      if (finishing) await completeItem(services, ctx.user, ctx.enrolment, ctx.course, ctx.item)
      return reply.redirect(`${itemPath(ctx.course.identifier, ctx.item.id)}?saved=${finishing ? 'complete' : 'answers'}`, 303)
    },
  )

  app.post<{ Params: ItemParams; Body: Body }>(
    '/participant/learn/:course/items/:id/quiz',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const ctx = await participantItem(req)
      assertOpen(ctx.closed, ctx.enrolment)
      if (!isQuizKind(ctx.item.kind)) throw notFound('Page')
      const answers: number[][] = []
      const problems: FieldError[] = []
      ctx.item.questions.forEach((q, i) => {
        const raw = req.body?.[`question-${i + 1}`]
        const list = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map((v) => Number(v))
        if (!list.length || list.some((n) => !Number.isInteger(n) || n < 0 || n >= q.options.length))
          problems.push({ field: `question-${i + 1}`, message: `Answer question ${i + 1}` })
        answers.push(list)
      })
      if (problems.length) return renderItem(reply, ctx, { quizAnswers: answers }, problems)
      await submitQuiz(services, ctx.user, ctx.enrolment, ctx.course, ctx.item, answers)
      return reply.redirect(`${itemPath(ctx.course.identifier, ctx.item.id)}?saved=quiz#result`, 303)
    },
  )

  app.post<{ Params: ItemParams; Body: Body }>(
    '/participant/learn/:course/items/:id/version',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const ctx = await participantItem(req)
      if (ctx.item.kind !== 'webinar') throw notFound('Page')
      const version = Number(text(req.body?.version))
      if (text(req.body?.version) === '' || !ctx.item.media[version])
        return renderItem(reply, ctx, {}, [{ field: 'version', message: 'Select the version you want to watch' }])
      await chooseVersion(db, ctx.item, ctx.enrolment.id, version)
      return reply.redirect(itemPath(ctx.course.identifier, ctx.item.id), 303)
    },
  )

  // Watched time from public/content-media.js: `{ version, intervals: [[start, end], …], _csrf }` in seconds.
  const watchedBody = z.object({
    version: z.number().int().min(0).max(MAX_VERSIONS),
    intervals: z
      .array(z.tuple([z.number().min(0), z.number().min(0)]))
      .min(1)
      .max(200),
  })
  app.post<{ Params: ItemParams }>(
    '/participant/learn/:course/items/:id/progress',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      try {
        const ctx = await participantItem(req)
        assertOpen(ctx.closed, ctx.enrolment)
        if (!isMediaKind(ctx.item.kind)) throw notFound('Item')
        const parsed = watchedBody.safeParse(req.body ?? {})
        if (!parsed.success)
          throw new AppError(
            'validation-failed',
            'The watched time is not valid',
            parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'intervals'), message: i.message })),
          )
        const media = ctx.item.media[parsed.data.version]
        if (!media?.fileId)
          throw new AppError('validation-failed', 'Watched time is only kept for uploaded media', [
            { field: 'version', message: 'No such version' },
          ])
        const result = await recordWatched(
          services,
          ctx.user,
          ctx.enrolment,
          ctx.course,
          ctx.item,
          parsed.data.version,
          parsed.data.intervals,
        )
        return reply.send({ data: { percent: Math.floor(result.percent), completed: result.completed } })
      } catch (error) {
        if (error instanceof AppError) return sendJsonError(reply, error)
        throw error
      }
    },
  )

  app.register(async (scope) => {
    await multipart(scope, MAX_FILE_BYTES, 1)
    scope.post<{ Params: ItemParams; Body: Body }>(
      '/participant/learn/:course/items/:id/task',
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const ctx = await participantItem(req)
        assertOpen(ctx.closed, ctx.enrolment)
        if (ctx.item.kind !== 'task') throw notFound('Page')
        const body = text(req.body?.response)
        const upload = uploadOf(req.body?.file)
        const problems: FieldError[] = []
        if (body.length > MAX_TEXT_CHARS)
          problems.push({
            field: 'response',
            message: `Your response must be ${MAX_TEXT_CHARS.toLocaleString('en-GB')} characters or fewer`,
          })
        let file: { name: string; type: string; content: Buffer } | null = null
        if (upload) {
          const type = upload.truncated ? null : detectDocumentType(upload.content)
          if (upload.truncated) problems.push({ field: 'file', message: `The selected file must be smaller than ${MAX_FILE_SIZE_TEXT}` })
          else if (!type)
            problems.push({ field: 'file', message: 'The selected file must be a PDF, Word, PowerPoint, Excel, image or text file' })
          else file = { name: (upload.filename || `task.${type.extension}`).slice(0, 200), type: type.mimeType, content: upload.content }
        } else if (!body) problems.push({ field: 'response', message: 'Enter your response or upload it as a file' })
        if (problems.length) return renderItem(reply, ctx, { response: body }, problems)
        await submitTask(services, ctx.user, ctx.enrolment, ctx.course, ctx.item, body, file)
        return reply.redirect(`${itemPath(ctx.course.identifier, ctx.item.id)}?saved=task`, 303)
      },
    )
  })

  // ================= Formative assessment tasks: feedback =================

  const taskScope = (user: User) => ({
    facilitatorUserId: user.userId,
    deliveryPartnerIds: organisationsWithRole(user, 'delivery-partner-lead'),
  })
  const mayGiveFeedback = (user: User) =>
    organisationsWithRole(user, 'facilitator').length > 0 || organisationsWithRole(user, 'delivery-partner-lead').length > 0

  app.get('/facilitator/tasks', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    if (!mayGiveFeedback(user)) throw forbidden()
    const rows = await taskQueue(db, taskScope(user))
      .select(['s.id', 's.submitted_at', 's.feedback_at', 'i.title', 'i.course_identifier', 'i.block', 'p.full_name'])
      .orderBy('s.submitted_at')
      .execute()
    const map = (r: (typeof rows)[number]) => ({
      ...r,
      courseName: findCourse(r.course_identifier)?.name ?? r.course_identifier,
      href: `/facilitator/tasks/${r.id}`,
    })
    return reply.render(view('tasks'), {
      title: 'Formative assessment tasks',
      saved: (req.query as { saved?: string }).saved === '1',
      awaiting: rows.filter((r) => !r.feedback_at).map(map),
      given: rows
        .filter((r) => r.feedback_at)
        .reverse()
        .map(map),
    })
  })

  async function taskFor(user: User, id: string) {
    if (!mayGiveFeedback(user) || !isId(id)) throw notFound('Submission')
    const row = await taskQueue(db, taskScope(user))
      .select([
        's.id',
        's.item_id',
        's.body',
        's.file_name',
        's.file_type',
        's.submitted_at',
        's.feedback',
        's.feedback_at',
        'i.title',
        'i.body as task',
        'i.course_identifier',
        'i.block',
        'p.full_name',
      ])
      .where('s.id', '=', id)
      .executeTakeFirst()
    if (!row) throw notFound('Submission')
    return row
  }

  const taskPage = (reply: FastifyReply, row: Awaited<ReturnType<typeof taskFor>>, feedback: string, errors: FieldError[] = []) =>
    reply.render(
      view('task'),
      {
        title: `${row.full_name}: ${row.title}`,
        row,
        courseName: findCourse(row.course_identifier)?.name ?? row.course_identifier,
        taskHtml: renderMarkdown(row.task),
        feedbackHtml: row.feedback ? renderMarkdown(row.feedback) : '',
        feedback,
        back: '/facilitator/tasks',
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )

  app.get<{ Params: { id: string } }>('/facilitator/tasks/:id', { config: { access: 'signed-in' } }, async (req, reply) => {
    const row = await taskFor(userOf(req), req.params.id)
    return taskPage(reply, row, row.feedback ?? '')
  })

  app.post<{ Params: { id: string }; Body: Body }>('/facilitator/tasks/:id', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const row = await taskFor(user, req.params.id)
    const feedback = text(req.body?.feedback)
    if (!feedback) return taskPage(reply, row, feedback, [{ field: 'feedback', message: 'Enter your feedback' }])
    if (feedback.length > MAX_TEXT_CHARS)
      return taskPage(reply, row, feedback, [
        { field: 'feedback', message: `Your feedback must be ${MAX_TEXT_CHARS.toLocaleString('en-GB')} characters or fewer` },
      ])
    // The participant hears by email (the outbox sends it once the transaction commits).
    const to = await db
      .selectFrom('task_submissions as s')
      .innerJoin('enrolments as e', 'e.id', 's.enrolment_id')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .innerJoin('users as u', 'u.id', 'p.user_id')
      .select(['u.email', 'u.full_name'])
      .where('s.id', '=', row.id)
      .executeTakeFirst()
    await db.transaction().execute(async (trx) => {
      await trx
        .updateTable('task_submissions')
        .set({ feedback, feedback_by: user.userId, feedback_at: new Date() })
        .where('id', '=', row.id)
        .execute()
      await recordAudit(trx, {
        by: user,
        action: 'task-submission.feedback-given',
        entityType: 'task-submission',
        entityId: row.id,
        before: { feedback: row.feedback },
        after: { feedback },
      })
      if (to)
        await services.email.queue(trx, {
          to: to.email,
          subject: `Feedback on your task: ${row.title}`,
          body:
            [
              `Hello ${to.full_name},`,
              `Your facilitator has ${row.feedback ? 'updated their' : 'given'} feedback on "${row.title}".`,
              `Read it: ${services.config.baseUrl}${itemPath(row.course_identifier, row.item_id)}`,
            ].join('\n\n') + '\n',
        })
    })
    return reply.redirect('/facilitator/tasks?saved=1', 303)
  })

  async function sendSubmissionFile(reply: FastifyReply, id: string) {
    const file = await db
      .selectFrom('task_submissions')
      .select(['file_name', 'file_type', 'file_data'])
      .where('id', '=', id)
      .executeTakeFirst()
    if (!file?.file_data) throw notFound('File')
    return reply
      .header('content-type', file.file_type ?? 'application/octet-stream')
      .header('content-disposition', contentDisposition(file.file_name ?? 'task'))
      .header('cache-control', 'private, no-store')
      .send(file.file_data)
  }

  app.get<{ Params: { id: string } }>('/facilitator/tasks/:id/file', { config: { access: 'signed-in' } }, async (req, reply) => {
    const row = await taskFor(userOf(req), req.params.id)
    return sendSubmissionFile(reply, row.id)
  })

  app.get<{ Params: ItemParams & { sid: string } }>(
    '/participant/learn/:course/items/:id/submissions/:sid/file',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const ctx = await participantItem(req)
      if (!isId(req.params.sid)) throw notFound('File')
      const own = await db
        .selectFrom('task_submissions')
        .select('id')
        .where('id', '=', req.params.sid)
        .where('enrolment_id', '=', ctx.enrolment.id)
        .where('item_id', '=', ctx.item.id)
        .executeTakeFirst()
      if (!own) throw notFound('File')
      return sendSubmissionFile(reply, own.id)
    },
  )

  // ================= Delivery partners: local context =================

  async function partnerCourses(user: User) {
    const dps = organisationsWithRole(user, 'delivery-partner-lead')
    if (!dps.length) throw forbidden()
    return db
      .selectFrom('enrolments as e')
      .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
      .innerJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
      .select(['lp.id as lpId', 'lp.code as lpCode', 'lp.name as lpName', 'dp.id as dpId', 'dp.name as dpName', 'e.course_identifier'])
      .where('e.delivery_partner_id', 'in', dps)
      .distinct()
      .orderBy('lp.name')
      .orderBy('e.course_identifier')
      .execute()
  }

  const contextPath = (dp: string, lp: string, course: string) => `/delivery-partner/content/${dp}/${lp}/${course}`

  app.get('/delivery-partner/content', { config: { access: 'signed-in' } }, async (req, reply) => {
    const rows = await partnerCourses(userOf(req))
    return reply.render(view('dp-index'), {
      title: 'Local context for block content',
      rows: rows.map((r) => ({
        ...r,
        courseName: findCourse(r.course_identifier)?.name ?? r.course_identifier,
        href: contextPath(r.dpId, r.lpCode, r.course_identifier),
      })),
    })
  })

  async function partnerCourse(user: User, dpId: string, lpCode: string, courseId: string) {
    const row = (await partnerCourses(user)).find((r) => r.dpId === dpId && r.lpCode === lpCode && r.course_identifier === courseId)
    const course = findCourse(courseId)
    if (!row || !course) throw notFound('Course')
    const design = await designs.design(lpCode, course.identifier)
    return { row, course, blocks: designBlocks(design) }
  }

  app.get<{ Params: { dp: string; lp: string; course: string } }>(
    '/delivery-partner/content/:dp/:lp/:course',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { row, course, blocks } = await partnerCourse(userOf(req), req.params.dp, req.params.lp, req.params.course)
      const items = (await loadItems(db, row.lpId, course.identifier)).filter((i) => i.status === 'published')
      const contexts = await db
        .selectFrom('local_contexts')
        .selectAll()
        .where('delivery_partner_id', '=', row.dpId)
        .where('lead_provider_id', '=', row.lpId)
        .where('course_identifier', '=', course.identifier)
        .execute()
      const base = contextPath(row.dpId, row.lpCode, course.identifier)
      return reply.render(view('dp-course'), {
        title: `${course.name}: local context`,
        row,
        course,
        saved: (req.query as Record<string, string>).saved,
        blocks: blocks.map((b) => {
          const key = blockKey(b.block)
          const c = contexts.find((x) => x.block === key)
          return {
            key,
            title: b.title ? `Block ${key}: ${b.title}` : `Block ${key}`,
            items: items.filter((i) => i.block === key).map((i) => ({ ...i, kindName: kindNames[i.kind] })),
            hasContext: !!(c && (c.notes || c.examples)),
            editHref: `${base}/blocks/${encodeURIComponent(key)}`,
          }
        }),
      })
    },
  )

  async function contextForm(
    reply: FastifyReply,
    ctx: Awaited<ReturnType<typeof partnerCourse>>,
    key: string,
    values: { notes: string; examples: string },
    errors: FieldError[] = [],
  ) {
    const block = ctx.blocks.find((b) => blockKey(b.block) === key)!
    return reply.render(
      view('dp-context'),
      {
        title: `Local context: Block ${key}${block.title ? `: ${block.title}` : ''}`,
        course: ctx.course,
        row: ctx.row,
        values,
        back: contextPath(ctx.row.dpId, ctx.row.lpCode, ctx.course.identifier),
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  type ContextParams = { dp: string; lp: string; course: string; block: string }
  app.get<{ Params: ContextParams }>(
    '/delivery-partner/content/:dp/:lp/:course/blocks/:block',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const ctx = await partnerCourse(userOf(req), req.params.dp, req.params.lp, req.params.course)
      if (!ctx.blocks.some((b) => blockKey(b.block) === req.params.block)) throw notFound('Block')
      const c = await db
        .selectFrom('local_contexts')
        .selectAll()
        .where('delivery_partner_id', '=', ctx.row.dpId)
        .where('lead_provider_id', '=', ctx.row.lpId)
        .where('course_identifier', '=', ctx.course.identifier)
        .where('block', '=', req.params.block)
        .executeTakeFirst()
      return contextForm(reply, ctx, req.params.block, { notes: c?.notes ?? '', examples: c?.examples ?? '' })
    },
  )

  app.post<{ Params: ContextParams; Body: Body }>(
    '/delivery-partner/content/:dp/:lp/:course/blocks/:block',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const ctx = await partnerCourse(user, req.params.dp, req.params.lp, req.params.course)
      const key = req.params.block
      if (!ctx.blocks.some((b) => blockKey(b.block) === key)) throw notFound('Block')
      const values = { notes: text(req.body?.notes), examples: text(req.body?.examples) }
      const problems: FieldError[] = []
      for (const field of ['notes', 'examples'] as const)
        if (values[field].length > MAX_TEXT_CHARS)
          problems.push({ field, message: `This must be ${MAX_TEXT_CHARS.toLocaleString('en-GB')} characters or fewer` })
      if (problems.length) return contextForm(reply, ctx, key, values, problems)
      const row = await db
        .insertInto('local_contexts')
        .values({
          delivery_partner_id: ctx.row.dpId,
          lead_provider_id: ctx.row.lpId,
          course_identifier: ctx.course.identifier,
          block: key,
          ...values,
          updated_by: user.userId,
        })
        .onConflict((oc) =>
          oc
            .columns(['delivery_partner_id', 'lead_provider_id', 'course_identifier', 'block'])
            .doUpdateSet({ ...values, updated_by: user.userId, updated_at: new Date() }),
        )
        .returning('id')
        .executeTakeFirstOrThrow()
      await recordAudit(db, {
        by: user,
        action: 'local-context.saved',
        entityType: 'local-context',
        entityId: row.id,
        after: { block: key, course: ctx.course.identifier },
      })
      return reply.redirect(`${contextPath(ctx.row.dpId, ctx.row.lpCode, ctx.course.identifier)}?saved=1`, 303)
    },
  )
}
