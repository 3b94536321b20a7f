import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import type { Services } from '../services.ts'

/** For load balancers and uptime checks: is the process up and can it reach its database? */
export function registerHealthRoutes(app: FastifyInstance, { db }: Services): void {
  app.get('/health', { config: { access: 'public' } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(db)
      return reply.send({ status: 'ok', database: 'ok' })
    } catch {
      return reply.status(503).send({ status: 'unavailable', database: 'unreachable' })
    }
  })
}
