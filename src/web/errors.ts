import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, statusOfCode } from '../errors.ts'

// Every failure ends in a GOV.UK page (or a JSON error with a code under /api): 404 and 403 say no
// more than they must, and a 500 shows a reference that is in the log, never a stack trace.

const isApi = (req: FastifyRequest) => req.url.startsWith('/api/')

export function registerErrorHandling(app: FastifyInstance): void {
  app.setNotFoundHandler((req, reply) => {
    if (isApi(req)) return reply.status(404).send({ error: { code: 'not-found', message: 'Not found' } })
    return reply.render('web/views/not-found.njk', {}, 404)
  })

  app.setErrorHandler((error: FastifyError | AppError, req, reply) => {
    if (error instanceof AppError) return sendKnown(req, reply, statusOfCode[error.code], error.code, error.message, error)
    if (error.code === 'FST_CSRF_INVALID_TOKEN' || error.code === 'FST_CSRF_MISSING_SECRET') {
      return sendKnown(req, reply, 403, 'csrf-failed', 'This form has expired. Go back, refresh the page and try again.')
    }
    const status = (error as FastifyError).statusCode
    if (status && status >= 400 && status < 500) {
      return sendKnown(req, reply, status, 'bad-request', status === 413 ? 'The request is too large' : error.message)
    }
    const reference = String(req.id)
    if (databaseUnavailable(error)) {
      // The database went away mid-request (a restart, a failover, connections cut): nothing half-done
      // is kept (the transaction is gone with it), and trying again shortly is the right advice.
      req.log.warn({ err: error, reference }, 'database unavailable')
      reply.header('retry-after', '30')
      if (isApi(req)) {
        return reply
          .status(503)
          .send({ error: { code: 'service-unavailable', message: 'The service is unavailable: try again shortly', reference } })
      }
      return reply.render('web/views/unavailable.njk', { reference }, 503)
    }
    req.log.error({ err: error, reference }, 'unhandled error')
    if (isApi(req)) {
      return reply.status(500).send({ error: { code: 'internal-error', message: 'Something went wrong', reference } })
    }
    return reply.render('web/views/problem.njk', { reference }, 500)
  })
}

// PostgreSQL's "admin shutdown", "crash shutdown", "cannot connect now", "too many connections" and
// connection exceptions (class 08), and the driver's own words for a connection lost or refused.
const unavailableCodes = new Set(['57P01', '57P02', '57P03', '53300', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE'])
const unavailableMessage = /Connection terminated|not queryable|timeout exceeded when trying to connect|connection is closed/i

export function databaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null
  if (!e) return false
  if (typeof e.code === 'string' && (unavailableCodes.has(e.code) || /^08[0-9A-Z]{3}$/.test(e.code))) return true
  return typeof e.message === 'string' && unavailableMessage.test(e.message)
}

function sendKnown(req: FastifyRequest, reply: FastifyReply, status: number, code: string, message: string, error?: AppError) {
  if (isApi(req)) {
    const fields = error?.fieldErrors.length ? { fields: error.fieldErrors } : {}
    return reply.status(status).send({ error: { code, message, ...fields } })
  }
  if (status === 404) return reply.render('web/views/not-found.njk', {}, 404)
  if (status === 403 && code === 'forbidden') return reply.render('web/views/forbidden.njk', {}, 403)
  return reply.render('web/views/bad-request.njk', { message, status }, status)
}
