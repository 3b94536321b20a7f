import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { AppError, notFound } from '../errors.ts'
import { administeredLeadProviders } from '../organisations/administered.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { stringify } from 'yaml'
import { formErrors } from '../web/forms.ts'
import { courses, declarationTypesOfGroup, findCourse } from './courses.ts'
import { CatalogueError, designFromYaml } from './load.ts'

// Lead-provider admins browse their programme catalogue: courses, designs (blocks, activities,
// credits, totals), versions, cohorts with their output dates; and move a cohort to another version.

type Admin = { principal: Principal; leadProviders: { id: string; code: string; name: string }[] }

export function registerCatalogueRoutes(app: FastifyInstance, { catalogue, designs, blockWindows }: Services): void {
  const admin = (req: FastifyRequest, action: 'view' | 'manage-catalogue' = 'view'): Admin => administeredLeadProviders(req, action)
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
        policy: catalogue.policy(lp.code) ?? null,
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

  app.get('/lead-provider/catalogue/cohorts', { config: { access: 'signed-in' } }, async (req, reply) => {
    const a = admin(req)
    const providers = a.leadProviders.map((lp) => ({
      ...lp,
      cohorts: catalogue.schedulesFor(lp.code).map((s) => ({
        ...s,
        courseGroups: s.courseGroups.map((g) => ({
          ...g,
          courseNames: g.courses.map((c) => findCourse(c)?.shortName ?? c).join(', '),
          // The outputs the platform declares for the group (DfE's EHCO schedules list one more).
          outputs: g.outputs.filter((o) => declarationTypesOfGroup[g.courseGroup].includes(o.declarationType)),
        })),
      })),
    }))
    return reply.render('catalogue/views/cohorts.njk', { title: 'Cohorts and schedules', providers })
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
      const cohorts = await Promise.all(
        catalogue.cohortsFor(lp.code, course.identifier).map(async (cohort) => ({
          cohort,
          version: versions.find((v) => v.cohorts.includes(cohort))?.version ?? null,
          schedule: catalogue.cohortOutputs(lp.code, cohort, course.identifier),
          windows: await blockWindows.forCohort(lp.code, course.identifier, cohort),
        })),
      )
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

  /** The admin, their lead provider and the course of a page that changes a design. */
  const designToManage = (req: FastifyRequest, params: { lp: string; course: string }) => {
    const a = admin(req, 'manage-catalogue')
    const lp = ownLeadProvider(a, params.lp)
    const course = findCourse(params.course)
    if (!course) throw notFound('Course')
    return { a, lp, course }
  }

  /** A starting point for a course the sources give no design for, in the provider's own style. */
  const skeleton = (lpCode: string, courseIdentifier: string, shortName: string) => {
    const style = catalogue.designs().find((d) => d.leadProvider === lpCode)?.style ?? 'credits'
    const head = `lead_provider: ${lpCode}\ncourse_identifier: ${courseIdentifier}\nstyle: ${style}\nsource: authored by the lead provider's programme team\n`
    switch (style) {
      case 'credits':
        return `${head}stated_total: 5\nblocks:\n  - block: 1\n    provisional: false\n    stated_total: 5\n    source: authored by the lead provider's programme team\n    activities:\n      - code: ${shortName}-B1-DIAGNOSTIC\n        component: Self-study\n        title: Diagnostic Assessment for Block 1\n        duration_minutes: 40\n        credits: 2\n      - code: ${shortName}-B1-F2F\n        component: Training event\n        title: ${shortName} F2F Training Session\n        duration_minutes: 300\n        credits: 3\n`
      case 'weighted':
        return `${head}components:\n  - component: INDUCTION\n    title: Induction conference\n    required: 1\n    weight: 50\n    tracked_by: register\n    source: authored\n  - component: SDL\n    title: Self-directed learning\n    required: 3\n    weight: 50\n    tracked_by: learning-platform\n    source: authored\n`
      case 'items':
        return `${head}programme_activities:\n  - code: ${shortName}-INDUCTION\n    component: Induction\n    title: Induction\nblocks:\n  - block: 1\n    title: Course 1\n    source: authored\n    activities:\n      - code: ${shortName}-C1-M1\n        component: Study module\n        title: Course 1, module 1 (Study)\n`
    }
  }

  const editPage = (
    lp: { code: string; name: string },
    course: { identifier: string; name: string },
    text: string,
    extra: Record<string, unknown> = {},
  ) => ({
    title: `Edit design: ${course.name}`,
    lp,
    course,
    text,
    ...extra,
  })

  app.get<{ Params: { lp: string; course: string } }>(
    '/lead-provider/catalogue/:lp/:course/edit',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { lp, course } = designToManage(req, req.params)
      const latest = await designs.design(lp.code, course.identifier)
      const text = latest ? stringify(latest.content, { lineWidth: 0 }) : skeleton(lp.code, course.identifier, course.shortName)
      return reply.render('catalogue/views/edit.njk', editPage(lp, course, text, { isNew: !latest }))
    },
  )

  app.post<{ Params: { lp: string; course: string } }>(
    '/lead-provider/catalogue/:lp/:course/edit',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { a, lp, course } = designToManage(req, req.params)
      const body = (req.body ?? {}) as { design?: string; note?: string }
      const text = String(body.design ?? '')
      const note =
        String(body.note ?? '')
          .trim()
          .slice(0, 500) || 'Edited by the programme team'
      try {
        const design = designFromYaml(text, { leadProvider: lp.code, courseIdentifier: course.identifier }, 0)
        const version = await designs.createVersion(a.principal, design, note)
        return reply.redirect(
          `/lead-provider/catalogue/${lp.code}/${course.identifier}?moved=${encodeURIComponent(`Version ${version} created`)}`,
          303,
        )
      } catch (error) {
        if (!(error instanceof CatalogueError)) throw error
        const form = formErrors(error.problems.map((p) => ({ field: 'design', message: `Line ${p.line}: ${p.message}` })))
        // Every problem is listed, each linked to the text box.
        form.errorList = error.problems.map((p) => ({ text: `Line ${p.line}: ${p.message}`, href: '#design' }))
        return reply.render('catalogue/views/edit.njk', editPage(lp, course, text, { note, ...form }), 400)
      }
    },
  )

  app.post<{ Params: { lp: string; course: string; block: string } }>(
    '/lead-provider/catalogue/:lp/:course/blocks/:block/publish',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const a = admin(req, 'manage-catalogue')
      const lp = ownLeadProvider(a, req.params.lp)
      const block = z.coerce.number().int().positive().safeParse(req.params.block)
      if (!block.success) throw notFound('Block')
      const version = await designs.publishBlock(a.principal, lp.code, req.params.course, block.data)
      return reply.redirect(
        `/lead-provider/catalogue/${lp.code}/${req.params.course}?moved=${encodeURIComponent(`Block ${block.data} published in version ${version}. Move running cohorts to it below.`)}`,
        303,
      )
    },
  )

  type WindowParams = { Params: { lp: string; course: string; cohort: string } }
  const windowsPage = async (a: Admin, params: WindowParams['Params']) => {
    const lp = ownLeadProvider(a, params.lp)
    const course = findCourse(params.course)
    if (!course) throw notFound('Course')
    const windows = await blockWindows.forCohort(lp.code, course.identifier, params.cohort)
    if (windows.length === 0) throw notFound('Cohort schedule')
    return { lp, course, cohort: params.cohort, windows, title: `Block dates: ${course.shortName} ${params.cohort}` }
  }

  app.get<WindowParams>(
    '/lead-provider/catalogue/:lp/:course/cohorts/:cohort/blocks',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const page = await windowsPage(admin(req, 'manage-catalogue'), req.params)
      return reply.render('catalogue/views/block-windows.njk', { ...page, values: {} })
    },
  )

  app.post<WindowParams>(
    '/lead-provider/catalogue/:lp/:course/cohorts/:cohort/blocks',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const a = admin(req, 'manage-catalogue')
      const page = await windowsPage(a, req.params)
      const body = (req.body ?? {}) as Record<string, string>
      const isoDate = /^\d{4}-\d{2}-\d{2}$/
      const fieldErrors = page.windows.flatMap((w) =>
        (['goesLiveOn', 'completesBy'] as const)
          .filter((f) => !isoDate.test(String(body[`${f}-${w.block}`] ?? '')) || Number.isNaN(Date.parse(String(body[`${f}-${w.block}`]))))
          .map((f) => ({
            field: `${f}-${w.block}`,
            message: `Enter a real date for block ${w.block} (${f === 'goesLiveOn' ? 'goes live' : 'due by'})`,
          })),
      )
      const again = (errors: ReturnType<typeof formErrors>) =>
        reply.render('catalogue/views/block-windows.njk', { ...page, values: body, ...errors }, 400)
      if (fieldErrors.length) return again(formErrors(fieldErrors))
      try {
        await blockWindows.set(
          a.principal,
          page.lp.code,
          page.course.identifier,
          page.cohort,
          page.windows.map((w) => ({
            block: w.block,
            goesLiveOn: body[`goesLiveOn-${w.block}`]!,
            completesBy: body[`completesBy-${w.block}`]!,
          })),
        )
      } catch (error) {
        if (error instanceof AppError && error.fieldErrors.length) return again(formErrors(error.fieldErrors))
        throw error
      }
      return reply.redirect(
        `/lead-provider/catalogue/${page.lp.code}/${page.course.identifier}?moved=${encodeURIComponent(`Block dates for ${page.cohort} saved`)}`,
        303,
      )
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
