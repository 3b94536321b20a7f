import type { FastifyInstance } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { forbidden } from '../errors.ts'
import { can } from '../policy/policy.ts'
import type { Services } from '../services.ts'
import { progressOf } from './progress.ts'

// The participant's Progress zone: /participant/progress.

export function registerProgressRoutes(app: FastifyInstance, services: Services): void {
  app.get('/participant/progress', { config: { access: 'signed-in' } }, async (req, reply) => {
    const p = req.principal
    if (!p || p.kind !== 'user' || !can(p, 'view', { type: 'role-home', role: 'participant' })) throw forbidden()
    const courses = await progressOf(services, p.userId, londonDateOf(new Date()))
    return reply.render('progress/views/progress.njk', { title: 'Your progress', courses })
  })
}
