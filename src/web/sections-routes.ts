import type { FastifyInstance } from 'fastify'
import { forbidden } from '../errors.ts'
import { can } from '../policy/policy.ts'
import { sectionGroups } from './navigation.ts'

// The landing page of each group in the service navigation (navigation.ts): the group's pages, each
// with what it is for. Only people holding the group's role may see it, as for that role's home page.

export function registerSectionRoutes(app: FastifyInstance): void {
  for (const { role, base, group } of sectionGroups()) {
    app.get(base + group.path, { config: { access: 'signed-in' } }, async (req, reply) => {
      const principal = req.principal
      if (!principal || principal.kind !== 'user' || !can(principal, 'view', { type: 'role-home', role })) throw forbidden()
      return reply.render('web/views/section.njk', {
        title: group.text,
        description: group.description,
        pages: group.pages.map((page) => ({ href: base + page.path, text: page.text, description: page.description })),
      })
    })
  }
}
