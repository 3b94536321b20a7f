import crypto from 'node:crypto'
import path from 'node:path'
import fastifyCookie from '@fastify/cookie'
import fastifyCsrf from '@fastify/csrf-protection'
import fastifyFormbody from '@fastify/formbody'
import fastifyHelmet from '@fastify/helmet'
import fastifyStatic from '@fastify/static'
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import { loadUserPrincipal } from '../accounts/principals.ts'
import { resolveSession } from '../accounts/sessions.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { registerErrorHandling } from './errors.ts'
import { navigationFor, subNavigationFor } from './navigation.ts'
import { createViews } from './views.ts'

// Middleware in one readable order (as HMPPS does): request ids and logging → security headers with
// a CSP nonce → cookies and session → body parsing → static assets → CSRF → routes → 404 → errors.

export type RouteAccess = 'public' | 'signed-in' | 'api'

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null
    sessionToken: string | null
  }
  interface FastifyReply {
    render(template: string, context?: Record<string, unknown>, status?: number): FastifyReply
  }
  interface FastifyContextConfig {
    /** Every route says who may reach it; the policy layer then decides per resource. */
    access?: RouteAccess
  }
}

export const SESSION_COOKIE = 'npq_session'
export const CSRF_COOKIE = 'npq_csrf'
const root = path.resolve(import.meta.dirname, '../..')

export type RouteRecord = { method: string; url: string; access: RouteAccess | undefined }
const routeTables = new WeakMap<FastifyInstance, RouteRecord[]>()

/** Every route the app has, with its access rule: the security tests walk it, so a new route cannot escape them. */
export function routeTable(app: FastifyInstance): readonly RouteRecord[] {
  return routeTables.get(app) ?? []
}

/** Static files: GOV.UK Frontend and MoJ Frontend from their packages, and our own. */
const staticFolders = [
  ['/assets/', 'node_modules/govuk-frontend/dist/govuk/assets'],
  ['/govuk/', 'node_modules/govuk-frontend/dist/govuk'],
  ['/moj/', 'node_modules/@ministryofjustice/frontend/moj'],
  ['/public/', 'public'],
] as const
const isStaticPath = (url: string) => staticFolders.some(([prefix]) => url.startsWith(prefix))

export async function createApp(services: Services): Promise<FastifyInstance> {
  const { config, logger } = services
  const views = createViews(root)
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    genReqId: () => crypto.randomUUID(),
    trustProxy: config.isProduction,
    bodyLimit: 10 * 1024 * 1024,
    // An address the router cannot take (a broken %-escape, a path segment over 100 characters) is
    // answered before any route or hook runs: a clear 400 in the API's or the pages' own form, rather
    // than Fastify's default JSON, which repeats the address.
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const message = error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'The address is too long' : 'The address is not valid'
      reply.code(400).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff')
      if (req.url.startsWith('/api/')) return reply.send({ error: { code: 'bad-request', message } })
      const html = views.render('web/views/bad-request.njk', { message, status: 400, principal: null, navigation: [], currentUrl: '/' })
      return reply.type('text/html; charset=utf-8').send(html)
    },
  })

  // A route without an access rule is a mistake that must not reach users: refuse to start.
  const routes: RouteRecord[] = []
  routeTables.set(app, routes)
  app.addHook('onRoute', (route) => {
    if (!route.config?.access && !isStaticPath(route.url)) {
      throw new Error(`Route ${route.method} ${route.url} has no access rule (config.access)`)
    }
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, access: route.config?.access })
  })

  await app.register(fastifyHelmet, {
    enableCSPNonces: true,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        upgradeInsecureRequests: config.isProduction ? [] : null,
      },
    },
    strictTransportSecurity: config.isProduction,
    // The same as the CSP's frame-ancestors 'none', for browsers that only read the older header.
    xFrameOptions: { action: 'deny' },
  })
  await app.register(fastifyCookie, { secret: config.sessionSecret ?? 'development-only-secret-not-for-production-use' })
  await app.register(fastifyFormbody)
  // JSON bodies (the API, and the endpoints the pages' scripts call) parse as Fastify's own parser does,
  // but a lone surrogate (`"\ud800"`, which no UTF-8 form post can carry) becomes U+FFFD as in a form:
  // PostgreSQL refuses it in json, so it would otherwise fail the request at the first audit entry.
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) =>
    parseJson(req, String(body), (error: Error | null, value?: unknown) =>
      error ? done(error) : done(null, /\\u[dD][89a-fA-F]/.test(String(body)) ? wellFormed(value) : value),
    ),
  )
  await app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/cookie',
    cookieKey: CSRF_COOKIE,
    cookieOpts: { signed: true, httpOnly: true, sameSite: 'lax', path: '/', secure: config.isProduction },
    getToken: (req) => (req.body as Record<string, string> | undefined)?._csrf,
  })

  for (const [prefix, dir] of staticFolders) {
    await app.register(fastifyStatic, {
      root: path.join(root, dir),
      prefix,
      decorateReply: false,
      maxAge: config.isProduction ? '1d' : 0,
      index: false,
    })
  }

  app.decorateRequest('principal', null)
  app.decorateRequest('sessionToken', null)
  app.addHook('onRequest', async (req) => {
    if (isStaticPath(req.url)) return
    const token = req.cookies[SESSION_COOKIE]
    if (!token) return
    const userId = await resolveSession(services.db, token)
    if (!userId) return
    req.sessionToken = token
    req.principal = await loadUserPrincipal(services.db, userId)
  })

  // Pages need a signed-in person; the API authenticates its own bearer tokens (api/auth.ts).
  app.addHook('preHandler', async (req, reply) => {
    const access = req.routeOptions.config?.access
    if (access === 'signed-in' && !req.principal) {
      const returnTo = req.method === 'GET' ? `?returnTo=${encodeURIComponent(req.url)}` : ''
      return reply.redirect(`/sign-in${returnTo}`, 303)
    }
  })

  // CSRF token on every state-changing form (the JSON API uses bearer tokens instead of cookies).
  app.addHook('preHandler', (req, reply, done) => {
    const access = req.routeOptions.config?.access
    if (['GET', 'HEAD', 'OPTIONS'].includes(req.method) || access === 'api' || access === undefined) return done()
    app.csrfProtection(req, reply, done)
  })

  // Pages, downloads and API answers carry personal data, which must not sit in shared or browser
  // caches: no-store unless a route says otherwise (static files set their own caching).
  app.addHook('onSend', async (req, reply, payload) => {
    if (!reply.hasHeader('cache-control') && !isStaticPath(req.url)) reply.header('cache-control', 'no-store')
    return payload
  })

  app.decorateReply('render', function (this: FastifyReply, template: string, context: Record<string, unknown> = {}, status = 200) {
    const req = this.request as FastifyRequest
    const html = views.render(template, {
      ...context,
      cspNonce: this.cspNonce?.script,
      csrfToken: this.generateCsrf(),
      principal: req.principal,
      navigation: navigationFor(req.principal, req.url),
      subNavigation: subNavigationFor(req.principal, req.url),
      currentUrl: req.url,
      isDevelopment: !config.isProduction,
    })
    return this.status(status).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(html)
  })

  registerErrorHandling(app)
  return app
}

/** Replaces lone surrogates in every string of a parsed JSON value (iteratively: a payload may nest deeply). */
function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return value.toWellFormed()
  const stack: unknown[] = [value]
  while (stack.length) {
    const node = stack.pop()
    if (!node || typeof node !== 'object') continue
    const record = node as Record<string, unknown>
    for (const key of Object.keys(record)) {
      const v = record[key]
      if (typeof v === 'string') record[key] = v.toWellFormed()
      else if (v && typeof v === 'object') stack.push(v)
    }
  }
  return value
}
