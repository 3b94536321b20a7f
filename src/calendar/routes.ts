import type { FastifyInstance, FastifyRequest } from 'fastify'
import { forbidden, notFound } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { createFeedToken, feedCreatedAt, feedForToken, feedPath, revokeFeed } from './feeds.ts'

// The calendar page of a person's account (create, replace or stop their private feed link) and the
// feed itself, which calendar programs fetch without a session: the secret in the URL is the access.

function signedInUser(req: FastifyRequest): Principal & { kind: 'user' } {
  const p = req.principal
  if (!p || p.kind !== 'user') throw forbidden()
  return p
}

export function registerCalendarRoutes(app: FastifyInstance, { db, config }: Services): void {
  const page = async (userId: string, extra: Record<string, unknown> = {}) => ({
    title: 'Your calendar link',
    createdAt: await feedCreatedAt(db, userId),
    ...extra,
  })

  app.get('/account/calendar', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = signedInUser(req)
    return reply.render('calendar/views/calendar.njk', await page(user.userId))
  })

  app.post('/account/calendar', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = signedInUser(req)
    const token = await createFeedToken(db, user)
    // Shown once, on this response only: it is not stored anywhere readable.
    return reply.render('calendar/views/calendar.njk', await page(user.userId, { feedUrl: `${config.baseUrl}${feedPath(token)}` }))
  })

  app.post('/account/calendar/stop', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = signedInUser(req)
    const stopped = await revokeFeed(db, user)
    return reply.render('calendar/views/calendar.njk', await page(user.userId, { stopped }))
  })

  app.get<{ Params: { token: string } }>('/calendar/:token.ics', { config: { access: 'public' } }, async (req, reply) => {
    const ics = await feedForToken(db, req.params.token, { baseUrl: config.baseUrl, demoAllowed: !config.isProduction })
    if (ics === null) throw notFound('Calendar')
    return reply
      .type('text/calendar; charset=utf-8')
      .header('cache-control', 'private, no-store')
      .header('content-disposition', 'inline; filename="npq-events.ics"')
      .send(ics)
  })
}
