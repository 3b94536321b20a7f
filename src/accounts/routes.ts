import type { FastifyInstance, FastifyReply } from 'fastify'
import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { AppError } from '../errors.ts'
import type { Services } from '../services.ts'
import { SESSION_COOKIE } from '../web/app.ts'
import { formErrors, parseForm } from '../web/forms.ts'
import { homePathOf } from '../web/navigation.ts'
import { LOCKOUT_MINUTES } from './accounts.ts'
import { endSession } from './sessions.ts'

const signInForm = z.object({
  email: z
    .string()
    .trim()
    .min(1, 'Enter your email address')
    .pipe(z.email('Enter an email address in the correct format, like name@example.com')),
  password: z.string().min(1, 'Enter your password'),
  returnTo: z.string().optional(),
})

const setPasswordForm = z
  .object({
    password: z.string().min(1, 'Enter a new password'),
    confirmPassword: z.string().min(1, 'Confirm your new password'),
  })
  .refine((f) => f.password === f.confirmPassword, { path: ['confirmPassword'], message: 'The passwords do not match' })

const resetForm = z.object({
  email: z
    .string()
    .trim()
    .min(1, 'Enter your email address')
    .pipe(z.email('Enter an email address in the correct format, like name@example.com')),
})

const lockoutPeriod =
  LOCKOUT_MINUTES % 60 === 0 ? `${LOCKOUT_MINUTES / 60} hour${LOCKOUT_MINUTES === 60 ? '' : 's'}` : `${LOCKOUT_MINUTES} minutes`
export const lockedMessage = `There have been too many attempts to sign in with this email address. Wait ${lockoutPeriod}, or reset your password to sign in now.`

/** Only local paths: a returnTo parameter must never send someone to another site. */
function safeReturnTo(value: string | undefined): string | null {
  return value && value.startsWith('/') && !value.startsWith('//') && !value.startsWith('/\\') ? value : null
}

export function registerAccountRoutes(app: FastifyInstance, services: Services): void {
  const { accounts, config } = services
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: config.isProduction, path: '/' }
  const startSession = (reply: FastifyReply, token: string) => reply.setCookie(SESSION_COOKIE, token, cookieOptions)

  app.get('/', { config: { access: 'public' } }, (req, reply) => {
    if (req.principal) {
      const home = homePathOf(req.principal)
      if (home) return reply.redirect(home, 303)
      return reply.render('accounts/views/no-roles.njk', { title: 'Your account has no roles yet' })
    }
    return reply.render('accounts/views/start.njk', { title: 'Run your National Professional Qualifications' })
  })

  app.get<{ Querystring: { returnTo?: string } }>('/sign-in', { config: { access: 'public' } }, (req, reply) =>
    reply.render('accounts/views/sign-in.njk', { title: 'Sign in', values: {}, returnTo: safeReturnTo(req.query.returnTo) }),
  )

  app.post('/sign-in', { config: { access: 'public' } }, async (req, reply) => {
    const parsed = parseForm(signInForm, req.body)
    const body = (req.body ?? {}) as Record<string, string>
    const again = (form: ReturnType<typeof formErrors>) =>
      reply.render(
        'accounts/views/sign-in.njk',
        { title: 'Sign in', values: { email: body.email }, returnTo: safeReturnTo(body.returnTo), ...form },
        400,
      )
    if (!parsed.ok) return again(parsed.form)

    const result = await accounts.signIn(parsed.data.email, parsed.data.password, req.ip)
    switch (result.outcome) {
      case 'throttled':
        return again(
          formErrors([{ field: 'email', message: 'There have been too many attempts to sign in. Wait 15 minutes, then try again.' }]),
        )
      case 'locked':
        // The same words whether or not the account exists: unknown addresses lock too.
        return again(formErrors([{ field: 'email', message: lockedMessage }]))
      case 'invalid':
        // The same words whether or not the account exists.
        return again(formErrors([{ field: 'email', message: 'Enter a correct email address and password' }]))
      case 'signed-in': {
        if (req.sessionToken) await endSession(services.db, req.sessionToken)
        startSession(reply, result.sessionToken)
        return reply.redirect(safeReturnTo(parsed.data.returnTo) ?? '/', 303)
      }
    }
  })

  app.post('/sign-out', { config: { access: 'public' } }, async (req, reply) => {
    if (req.sessionToken && req.principal) {
      const { principal, sessionToken } = req
      await services.db.transaction().execute(async (trx) => {
        await endSession(trx, sessionToken)
        if (principal.kind === 'user') {
          await recordAudit(trx, { by: principal, action: 'session.ended', entityType: 'user', entityId: principal.userId })
        }
      })
    }
    reply.clearCookie(SESSION_COOKIE, cookieOptions)
    return reply.redirect('/signed-out', 303)
  })

  app.get('/signed-out', { config: { access: 'public' } }, (_req, reply) =>
    reply.render('accounts/views/signed-out.njk', { title: 'You have signed out' }),
  )

  app.get<{ Params: { token: string } }>('/set-password/:token', { config: { access: 'public' } }, async (req, reply) => {
    const link = await accounts.findPasswordLink(req.params.token)
    if (!link) return reply.render('accounts/views/link-expired.njk', { title: 'This link has expired' }, 404)
    return reply.render('accounts/views/set-password.njk', { title: 'Set your password', email: link.email })
  })

  app.post<{ Params: { token: string } }>('/set-password/:token', { config: { access: 'public' } }, async (req, reply) => {
    const link = await accounts.findPasswordLink(req.params.token)
    if (!link) return reply.render('accounts/views/link-expired.njk', { title: 'This link has expired' }, 404)
    const again = (form: ReturnType<typeof formErrors>) =>
      reply.render('accounts/views/set-password.njk', { title: 'Set your password', email: link.email, ...form }, 400)
    const parsed = parseForm(setPasswordForm, req.body)
    if (!parsed.ok) return again(parsed.form)
    try {
      const { sessionToken } = await accounts.setPasswordWithLink(req.params.token, parsed.data.password, req.ip)
      if (req.sessionToken) await endSession(services.db, req.sessionToken)
      startSession(reply, sessionToken)
      return reply.redirect('/', 303)
    } catch (error) {
      if (error instanceof AppError && error.code === 'validation-failed') return again(formErrors(error.fieldErrors))
      throw error
    }
  })

  // ---- Sign in with an emailed one-time link (no password needed, e.g. for line managers) ----

  app.get<{ Querystring: { returnTo?: string } }>('/sign-in/email-link', { config: { access: 'public' } }, (req, reply) =>
    reply.render('accounts/views/email-link.njk', {
      title: 'Email me a link to sign in',
      values: {},
      returnTo: safeReturnTo(req.query.returnTo),
    }),
  )

  app.post('/sign-in/email-link', { config: { access: 'public' } }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>
    const returnTo = safeReturnTo(body.returnTo)
    const parsed = parseForm(resetForm, req.body)
    if (!parsed.ok) {
      return reply.render(
        'accounts/views/email-link.njk',
        { title: 'Email me a link to sign in', values: { email: body.email }, returnTo, ...parsed.form },
        400,
      )
    }
    await accounts.requestSignInLink(parsed.data.email, returnTo)
    return reply.render('accounts/views/email-link-sent.njk', { title: 'Check your email' })
  })

  // Opening the link shows a button: mail scanners that fetch links do not use it up.
  app.get<{ Params: { token: string }; Querystring: { returnTo?: string } }>(
    '/sign-in/link/:token',
    { config: { access: 'public' } },
    async (req, reply) => {
      if (!(await accounts.signInLinkUsable(req.params.token)))
        return reply.render('accounts/views/sign-in-link-expired.njk', { title: 'This link has expired' }, 404)
      return reply.render('accounts/views/sign-in-link.njk', { title: 'Sign in', returnTo: safeReturnTo(req.query.returnTo) })
    },
  )

  app.post<{ Params: { token: string } }>('/sign-in/link/:token', { config: { access: 'public' } }, async (req, reply) => {
    const body = (req.body ?? {}) as Record<string, string>
    const result = await accounts.signInWithLink(req.params.token)
    if (!result) return reply.render('accounts/views/sign-in-link-expired.njk', { title: 'This link has expired' }, 404)
    if (req.sessionToken) await endSession(services.db, req.sessionToken)
    startSession(reply, result.sessionToken)
    return reply.redirect(safeReturnTo(body.returnTo) ?? '/', 303)
  })

  app.get('/reset-password', { config: { access: 'public' } }, (_req, reply) =>
    reply.render('accounts/views/reset-password.njk', { title: 'Reset your password', values: {} }),
  )

  app.post('/reset-password', { config: { access: 'public' } }, async (req, reply) => {
    const parsed = parseForm(resetForm, req.body)
    if (!parsed.ok) {
      return reply.render('accounts/views/reset-password.njk', { title: 'Reset your password', values: req.body, ...parsed.form }, 400)
    }
    await accounts.requestPasswordReset(parsed.data.email)
    return reply.render('accounts/views/reset-password-sent.njk', { title: 'Check your email' })
  })
}
