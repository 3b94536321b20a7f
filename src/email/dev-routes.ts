import type { FastifyInstance } from 'fastify'
import { z } from 'zod'
import { notFound } from '../errors.ts'
import { can } from '../policy/policy.ts'
import type { Services } from '../services.ts'

// Development only: read the outbox in the browser, so invitations and links can be followed
// without a mail server. In production these routes do not exist.

export function registerDevEmailRoutes(app: FastifyInstance, { db, config }: Services): void {
  const enabled = !config.isProduction
  if (!can(null, 'use', { type: 'development-tools', enabled })) return

  app.get('/dev/emails', { config: { access: 'public' } }, async (_req, reply) => {
    const emails = await db
      .selectFrom('email_outbox')
      .select(['id', 'to_address', 'subject', 'status', 'created_at'])
      .orderBy('created_at', 'desc')
      .limit(200)
      .execute()
    return reply.render('email/views/dev-emails.njk', { title: 'Emails sent (development)', emails })
  })

  app.get<{ Params: { id: string } }>('/dev/emails/:id', { config: { access: 'public' } }, async (req, reply) => {
    if (!z.uuid().safeParse(req.params.id).success) throw notFound('Email')
    const email = await db.selectFrom('email_outbox').selectAll().where('id', '=', req.params.id).executeTakeFirst()
    if (!email) throw notFound('Email')
    // Links in the body become clickable; everything else is escaped by the template.
    const parts = email.body.split(/(https?:\/\/\S+)/g).map((text, i) => ({ text, isLink: i % 2 === 1 }))
    return reply.render('email/views/dev-email.njk', { title: email.subject, email, parts })
  })
}
