import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { forbidden, notFound } from '../errors.ts'
import { can } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { courses, declarationTypesOfGroup, findCourse } from './courses.ts'

// Lead-provider admins browse their programme catalogue: courses, designs (blocks, activities,
// credits, totals), versions, cohorts with their output dates; and move a cohort to another version.

type Admin = { principal: Principal; leadProviders: { id: string; code: string; name: string }[] }

export function registerCatalogueRoutes(app: FastifyInstance, { catalogue, designs }: Services): void {
  const admin = (req: FastifyRequest, action: 'view' | 'manage-catalogue' = 'view'): Admin => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    const leadProviders = p.roles
      .filter((r) => r.role === 'lead-provider-admin')
      .filter((r) =>
        can(p, action, {
          type: 'organisation',
          organisation: { id: r.organisationId, kind: 'lead-provider', leadProviderIds: [r.organisationId] },
        }),
      )
      .map((r) => ({ id: r.organisationId, code: r.organisationCode, name: r.organisationName }))
    if (leadProviders.length === 0) throw forbidden()
    return { principal: p, leadProviders }
  }
  const ownLeadProvider = (a: Admin, code: string) => {
    const lp = a.leadProviders.find((l) => l.code === code)
    if (!lp) throw notFound('Design')
    return lp
  }

  app.get('/lead-provider/catalogue', { config: { access: 'signed-in' } }, async (req, reply) => {
    const a = admin(req)
    const providers = await Promise.all(
      a.leadProviders.map(async (lp) => ({
        ...lp,
        courses: await Promise.all(
          courses.map(async (c) => {
            const design = await designs.design(lp.code, c.identifier)
            return {
              ...c,
              declarationTypes: declarationTypesOfGroup[c.group].join(', '),
              design: design ? { version: design.version, style: design.style, creditsAvailable: design.creditsAvailable } : null,
              cohorts: design ? catalogue.cohortsFor(lp.code, c.identifier) : [],
            }
          }),
        ),
      })),
    )
    return reply.render('catalogue/views/catalogue.njk', { title: 'Catalogue', providers })
  })

  app.get<{ Params: { lp: string; course: string }; Querystring: { version?: string } }>(
    '/lead-provider/catalogue/:lp/:course',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const a = admin(req)
      const lp = ownLeadProvider(a, req.params.lp)
      const course = findCourse(req.params.course)
      if (!course) throw notFound('Course')
      const version = z.coerce.number().int().positive().optional().safeParse(req.query.version)
      const design = await designs.design(lp.code, course.identifier, version.success ? version.data : undefined)
      if (!design) throw notFound('Design')
      const versions = await designs.versions(lp.code, course.identifier)
      const cohorts = catalogue.cohortsFor(lp.code, course.identifier).map((cohort) => ({
        cohort,
        version: versions.find((v) => v.cohorts.includes(cohort))?.version ?? null,
        schedule: catalogue.cohortOutputs(lp.code, cohort, course.identifier),
      }))
      return reply.render('catalogue/views/design.njk', {
        title: `${course.name}: ${lp.name}`,
        lp,
        course,
        design,
        versions,
        cohorts,
        moved: (req.query as { moved?: string }).moved,
      })
    },
  )

  const moveForm = z.object({ version: z.coerce.number().int().positive('Choose a version') })
  app.post<{ Params: { lp: string; course: string; cohort: string } }>(
    '/lead-provider/catalogue/:lp/:course/cohorts/:cohort',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const a = admin(req, 'manage-catalogue')
      const lp = ownLeadProvider(a, req.params.lp)
      const parsed = moveForm.safeParse(req.body)
      if (!parsed.success) throw notFound('Design version')
      await designs.bindCohort(a.principal, lp.code, req.params.course, req.params.cohort, parsed.data.version)
      return reply.redirect(
        `/lead-provider/catalogue/${lp.code}/${req.params.course}?moved=${encodeURIComponent(`${req.params.cohort} now runs version ${parsed.data.version}`)}`,
        303,
      )
    },
  )
}
