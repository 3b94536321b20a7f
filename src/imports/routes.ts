import fastifyMultipart from '@fastify/multipart'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { recordAudit } from '../audit/audit.ts'
import { notFound } from '../errors.ts'
import { administeredLeadProviders, type AdministeredLeadProvider } from '../organisations/administered.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { formatProblem, type ImportProblem } from './csv.ts'
import { ImportError, importFile, type ImportResult } from './import-file.ts'
import { importers } from './importers.ts'

// The imports of the command line as an upload page for lead-provider admins: upload a file, see
// what it would change (or every problem in it), then apply it. Nothing is written until then, and
// the file is kept with who uploaded and applied it.

const MAX_FILE_BYTES = 20 * 1024 * 1024
const PREVIEW_ROWS = 20

type UploadedFile = { filename: string; content: Buffer }

const kindDescriptions = Object.values(importers).map((i) => ({
  value: i.kind,
  text: i.kind.charAt(0).toUpperCase() + i.kind.slice(1).replace('-', ' '),
  hint: { text: `Columns: ${i.required.join(', ')}${i.optional.length ? `; optional: ${i.optional.join(', ')}` : ''}` },
}))

/** The first rows of the file as a table, so the admin can see it is the file they meant. */
function previewTable(content: string): { head: string[]; rows: string[][]; more: number } {
  const lines = content
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '')
  const split = (line: string) => line.split(',').map((c) => c.replace(/^"|"$/g, ''))
  return {
    head: split(lines[0] ?? ''),
    rows: lines.slice(1, PREVIEW_ROWS + 1).map(split),
    more: Math.max(0, lines.length - 1 - PREVIEW_ROWS),
  }
}

export function registerImportRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  const recentUploads = (leadProviderIds: string[]) =>
    db
      .selectFrom('import_uploads as u')
      .innerJoin('users as by', 'by.id', 'u.uploaded_by')
      .innerJoin('organisations as lp', 'lp.id', 'u.lead_provider_id')
      .select(['u.id', 'u.kind', 'u.filename', 'u.uploaded_at', 'u.applied_at', 'by.full_name as uploaded_by', 'lp.name as lead_provider'])
      .where('u.lead_provider_id', 'in', leadProviderIds)
      .orderBy('u.uploaded_at', 'desc')
      .limit(20)
      .execute()

  const renderForm = async (
    reply: import('fastify').FastifyReply,
    leadProviders: AdministeredLeadProvider[],
    values: Record<string, string> = {},
    errors: { field: string; message: string }[] = [],
  ) =>
    reply.render(
      'imports/views/imports.njk',
      {
        title: 'Imports',
        kinds: kindDescriptions,
        leadProviders,
        values,
        uploads: await recentUploads(leadProviders.map((l) => l.id)),
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )

  app.get('/lead-provider/imports', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { leadProviders } = administeredLeadProviders(req, 'import')
    return renderForm(reply, leadProviders)
  })

  // Multipart only here: fields become plain values so the CSRF check reads `_csrf` as on any form.
  app.register(async (scope) => {
    await scope.register(fastifyMultipart, {
      attachFieldsToBody: 'keyValues',
      limits: { fileSize: MAX_FILE_BYTES, files: 1, fields: 10 },
      // Keep the file's name with its content: people recognise their uploads by it.
      async onFile(part) {
        const content = await part.toBuffer()
        ;(part as unknown as { value: UploadedFile }).value = { filename: part.filename, content }
      },
    })
    scope.post('/lead-provider/imports', { config: { access: 'signed-in' } }, async (req, reply) => {
      const { principal, leadProviders } = administeredLeadProviders(req, 'import')
      const body = (req.body ?? {}) as Record<string, unknown>
      const kind = typeof body.kind === 'string' ? body.kind : ''
      const leadProviderCode = typeof body.leadProvider === 'string' ? body.leadProvider : leadProviders[0]!.code
      const file = body.file as UploadedFile | undefined
      const errors: { field: string; message: string }[] = []
      if (!importers[kind]) errors.push({ field: 'kind', message: 'Select what the file holds' })
      const leadProvider = leadProviders.find((l) => l.code === leadProviderCode)
      if (!leadProvider) errors.push({ field: 'leadProvider', message: 'Select a lead provider you administer' })
      const content = file && Buffer.isBuffer(file.content) ? file.content.toString('utf8') : ''
      if (content.trim() === '') errors.push({ field: 'file', message: 'Select a CSV file with a header row' })
      if (errors.length) return renderForm(reply, leadProviders, { kind, leadProvider: leadProviderCode }, errors)
      // The name is only shown to people, never used as a path.
      const filename = (file?.filename || 'upload.csv').slice(0, 200)
      const upload = await db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('import_uploads')
          .values({ lead_provider_id: leadProvider!.id, kind, filename, content, uploaded_by: principal.userId })
          .returning('id')
          .executeTakeFirstOrThrow()
        await recordAudit(trx, {
          by: principal,
          action: 'import.uploaded',
          entityType: 'import-upload',
          entityId: row.id,
          after: { kind, filename },
        })
        return row
      })
      return reply.redirect(`/lead-provider/imports/${upload.id}`, 303)
    })
  })

  const findUpload = async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const { principal, leadProviders } = administeredLeadProviders(req, 'import')
    if (!/^[0-9a-f-]{36}$/.test(req.params.id)) throw notFound('Upload')
    const upload = await db.selectFrom('import_uploads').selectAll().where('id', '=', req.params.id).executeTakeFirst()
    const leadProvider = upload && leadProviders.find((l) => l.id === upload.lead_provider_id)
    if (!upload || !leadProvider) throw notFound('Upload')
    return { principal, upload, leadProvider }
  }

  const renderUpload = async (
    reply: import('fastify').FastifyReply,
    upload: { id: string; kind: string; filename: string; content: string; applied_at: unknown; result: unknown },
    outcome: { result: ImportResult } | { problems: ImportProblem[] },
  ) => {
    const problems = 'problems' in outcome ? outcome.problems : []
    return reply.render(
      'imports/views/upload.njk',
      {
        title: upload.applied_at ? `Imported ${upload.filename}` : `Check ${upload.filename} before importing`,
        upload,
        applied: Boolean(upload.applied_at),
        result: 'result' in outcome ? outcome.result : null,
        problems: problems.map((p) => ({ ...p, text: formatProblem(upload.filename, p) })),
        preview: previewTable(upload.content),
        errorList: problems.length
          ? [
              {
                text: `${problems.length} problem${problems.length === 1 ? '' : 's'} in the file: nothing can be imported until they are fixed`,
                href: '#problems',
              },
            ]
          : [],
      },
      problems.length ? 422 : 200,
    )
  }

  app.get<{ Params: { id: string } }>('/lead-provider/imports/:id', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { principal, upload, leadProvider } = await findUpload(req)
    if (upload.applied_at) return renderUpload(reply, upload, { result: upload.result as ImportResult })
    try {
      const result = await importFile(services, importers[upload.kind]!, upload.content, principal, {
        leadProvider: { id: leadProvider.id, code: leadProvider.code },
        dryRun: true,
      })
      return renderUpload(reply, upload, { result })
    } catch (error) {
      if (error instanceof ImportError) return renderUpload(reply, upload, { problems: error.problems })
      throw error
    }
  })

  app.post<{ Params: { id: string } }>('/lead-provider/imports/:id/apply', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { principal, upload, leadProvider } = await findUpload(req)
    if (upload.applied_at) return reply.redirect(`/lead-provider/imports/${upload.id}`, 303)
    try {
      // The file is applied and the upload marked applied in one transaction that holds the upload's
      // row: the same upload applied twice at once (a double click) is applied once.
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .selectFrom('import_uploads')
          .select('applied_at')
          .where('id', '=', upload.id)
          .forUpdate()
          .executeTakeFirstOrThrow()
        if (row.applied_at) return
        const result = await importFile(services, importers[upload.kind]!, upload.content, principal, {
          leadProvider: { id: leadProvider.id, code: leadProvider.code },
          trx,
        })
        await trx
          .updateTable('import_uploads')
          .set({ applied_at: new Date(), applied_by: principal.userId, result: JSON.stringify(result) })
          .where('id', '=', upload.id)
          .execute()
        await recordAudit(trx, { by: principal, action: 'import.applied', entityType: 'import-upload', entityId: upload.id, after: result })
      })
    } catch (error) {
      // Something changed since the preview (another import): show what is wrong now.
      if (error instanceof ImportError) return renderUpload(reply, upload, { problems: error.problems })
      throw error
    }
    return reply.redirect(`/lead-provider/imports/${upload.id}`, 303)
  })
}
