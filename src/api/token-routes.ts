import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { forbidden } from '../errors.ts'
import { can } from '../policy/policy.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { parseForm } from '../web/forms.ts'
import { createApiToken, listApiTokens, revokeApiToken } from './api-tokens.ts'

const tokenForm = z.object({
  name: z.string().trim().min(1, 'Enter a name for the token').max(100, 'Name must be 100 characters or fewer'),
})

export function registerApiTokenRoutes(app: FastifyInstance, { db }: Services): void {
  /** The lead providers whose tokens this person manages (policy: lead-provider admins). */
  const managed = (req: FastifyRequest): { principal: Principal; leadProviderIds: string[] } => {
    const p = req.principal
    if (!p) throw forbidden()
    const leadProviderIds = organisationsWithRole(p, 'lead-provider-admin').filter((id) =>
      can(p, 'manage-api-tokens', { type: 'organisation', organisation: { id, kind: 'lead-provider', leadProviderIds: [id] } }),
    )
    if (leadProviderIds.length === 0) throw forbidden()
    return { principal: p, leadProviderIds }
  }

  const page = async (leadProviderIds: string[], extra: Record<string, unknown> = {}) => ({
    title: 'API tokens',
    tokens: await listApiTokens(db, leadProviderIds),
    values: {},
    ...extra,
  })

  app.get('/lead-provider/api-tokens', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { leadProviderIds } = managed(req)
    return reply.render('api/views/api-tokens.njk', await page(leadProviderIds))
  })

  app.post('/lead-provider/api-tokens', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { principal, leadProviderIds } = managed(req)
    const parsed = parseForm(tokenForm, req.body)
    if (!parsed.ok) return reply.render('api/views/api-tokens.njk', await page(leadProviderIds, { values: req.body, ...parsed.form }), 400)
    const created = await createApiToken(db, principal, leadProviderIds[0]!, parsed.data.name)
    return reply.render(
      'api/views/api-tokens.njk',
      await page(leadProviderIds, { created: { name: parsed.data.name, token: created.token } }),
    )
  })

  app.post<{ Params: { id: string } }>('/lead-provider/api-tokens/:id/revoke', { config: { access: 'signed-in' } }, async (req, reply) => {
    const { principal, leadProviderIds } = managed(req)
    if (!z.uuid().safeParse(req.params.id).success) throw forbidden()
    await revokeApiToken(db, principal, leadProviderIds, req.params.id)
    return reply.redirect('/lead-provider/api-tokens', 303)
  })
}
