import type { FastifyInstance, FastifyRequest } from 'fastify'
import { courses } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { AppError, forbidden } from '../errors.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { dateFromParts } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { newsForParticipant, newsOf, newsProblems, publishNews, withdrawNews, type NewsInput } from './news.ts'

// Programme news: lead-provider admins and delivery-partner leads write it (/lead-provider/news,
// /delivery-partner/news); participants read it on Home and at /participant/news.

type User = Principal & { kind: 'user' }
type Body = Record<string, string | undefined>
const text = (v: unknown) => (typeof v === 'string' ? v : '')
const areas = { 'lead-provider': 'lead-provider-admin', 'delivery-partner': 'delivery-partner-lead' } as const

export function registerNewsRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  const userOf = (req: FastifyRequest): User => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    return p
  }

  app.get('/participant/news', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    if (!user.roles.some((r) => r.role === 'participant')) throw forbidden()
    const news = await newsForParticipant(db, user.userId, londonDateOf(new Date()))
    return reply.render('news/views/participant.njk', { title: 'Programme news', news })
  })

  for (const [area, role] of Object.entries(areas) as [keyof typeof areas, (typeof areas)[keyof typeof areas]][]) {
    const base = `/${area}/news`
    const organisationsOf = (user: User) => {
      const ids = organisationsWithRole(user, role)
      if (!ids.length) throw forbidden()
      return user.roles.filter((r) => r.role === role).map((r) => ({ id: r.organisationId, name: r.organisationName }))
    }
    const courseItems = (selected: string) => [
      { value: '', text: 'All courses' },
      ...courses.map((c) => ({ value: c.identifier, text: c.name, selected: c.identifier === selected })),
    ]
    const form = (user: User, values: Body, errors?: ReturnType<typeof formErrors>) => {
      const orgs = organisationsOf(user)
      return {
        title: 'Write programme news',
        base,
        organisations: orgs.length > 1 ? orgs.map((o) => ({ value: o.id, text: o.name, selected: o.id === values.organisation })) : null,
        courseItems: courseItems(values.course ?? ''),
        values,
        ...(errors ?? {}),
      }
    }

    app.get<{ Querystring: { done?: string } }>(base, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req)
      const orgs = organisationsOf(user)
      return reply.render('news/views/index.njk', {
        title: 'Programme news',
        base,
        news: await newsOf(
          db,
          orgs.map((o) => o.id),
        ),
        done: req.query.done,
        today: londonDateOf(new Date()),
      })
    })

    app.get(`${base}/new`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const today = londonDateOf(new Date())
      const [y, m, d] = today.split('-')
      return reply.render(
        'news/views/form.njk',
        form(userOf(req), { 'published-day': String(Number(d)), 'published-month': String(Number(m)), 'published-year': y }),
      )
    })

    app.post<{ Body: Body }>(base, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req)
      const orgs = organisationsOf(user)
      const body = req.body ?? {}
      const organisationId = orgs.length > 1 ? text(body.organisation) : orgs[0]!.id
      const input: NewsInput = {
        title: text(body.title),
        body: text(body.body),
        course: text(body.course),
        publishedOn: dateFromParts(text(body['published-day']), text(body['published-month']), text(body['published-year'])),
      }
      const problems = newsProblems(
        input,
        courses.map((c) => c.identifier),
      )
      if (!orgs.some((o) => o.id === organisationId)) problems.unshift({ field: 'organisation', message: 'Choose who the news is from' })
      if (problems.length) return reply.render('news/views/form.njk', form(user, body, formErrors(problems)), 400)
      await publishNews(db, user, organisationId, input)
      return reply.redirect(`${base}?done=published`, 303)
    })

    app.post<{ Params: { id: string } }>(`${base}/:id/withdraw`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req)
      const ids = organisationsOf(user).map((o) => o.id)
      if (!/^[0-9a-f-]{36}$/i.test(req.params.id)) throw new AppError('not-found', 'News not found')
      await withdrawNews(db, user, ids, req.params.id)
      return reply.redirect(`${base}?done=withdrawn`, 303)
    })
  }
}
