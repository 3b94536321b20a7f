import { z } from 'zod'
import type { ApiRegistry } from '../api/registry.ts'
import { AppError, forbidden, notFound } from '../errors.ts'
import type { Db } from '../db/database.ts'
import { can } from '../policy/policy.ts'
import type { Catalogue } from './catalogue.ts'
import { catalogueShowJson } from './cli-output.ts'
import { cohortPattern, courseIdentifiers, courses } from './courses.ts'
import type { DesignVersions } from './versions.ts'

// The catalogue for a lead provider's own systems: its designs, in the JSON of `npq catalogue show`.

const activity = z.object({
  code: z.string(),
  component: z.string(),
  title: z.string(),
  duration_minutes: z.number().nullable(),
  credits: z.number(),
})
const designJson = z
  .object({
    lead_provider: z.string(),
    course_identifier: z.string(),
    design_version: z.number().int(),
    credits_available: z.number(),
    blocks: z.array(
      z.object({
        block: z.union([z.number(), z.string()]),
        provisional: z.boolean(),
        credits_available: z.number(),
        activities: z.array(activity),
      }),
    ),
    programme_activities: z.array(activity).optional(),
    cohort: z
      .object({
        cohort: z.string(),
        self_reporting: z.boolean(),
        outputs: z.array(
          z.object({
            declaration_type: z.string(),
            review_date: z.string().nullable(),
            invoice_date: z.string().nullable(),
            payment_date: z.string().nullable(),
            share_percent: z.number().nullable(),
          }),
        ),
      })
      .nullable()
      .optional(),
  })
  .meta({ id: 'Design' })

export function addCatalogueOperations(api: ApiRegistry, db: Db, catalogue: Catalogue, designs: DesignVersions): void {
  const leadProviderCode = async (leadProviderId: string) =>
    (await db.selectFrom('organisations').select('code').where('id', '=', leadProviderId).executeTakeFirstOrThrow()).code

  api.add({
    method: 'GET',
    path: '/catalogue/designs',
    operationId: 'listDesigns',
    summary: 'Your programme designs: newest version and the cohorts that run each',
    tag: 'Catalogue',
    response: z.object({
      data: z.array(
        z.object({
          course_identifier: z.string(),
          design_version: z.number().int(),
          credits_available: z.number(),
          cohorts: z.array(z.string()),
        }),
      ),
    }),
    handler: async ({ principal }) => {
      const own = { id: principal.leadProviderId, kind: 'lead-provider' as const, leadProviderIds: [principal.leadProviderId] }
      if (!can(principal, 'view', { type: 'organisation', organisation: own })) throw forbidden()
      const code = await leadProviderCode(principal.leadProviderId)
      const data = []
      for (const c of courses) {
        const design = await designs.design(code, c.identifier)
        if (design) {
          data.push({
            course_identifier: c.identifier,
            design_version: design.version,
            credits_available: design.creditsAvailable,
            cohorts: catalogue.cohortsFor(code, c.identifier),
          })
        }
      }
      return { data }
    },
  })

  api.add({
    method: 'GET',
    path: '/catalogue/designs/:course_identifier',
    operationId: 'showDesign',
    summary: 'One design with its blocks and activities; with a cohort, the version it runs and its output dates',
    tag: 'Catalogue',
    params: z.object({ course_identifier: z.enum(courseIdentifiers) }),
    query: z.object({ cohort: z.string().regex(cohortPattern, 'Use a cohort like 2022-autumn').optional() }),
    response: designJson,
    handler: async ({ principal, params, query }) => {
      const own = { id: principal.leadProviderId, kind: 'lead-provider' as const, leadProviderIds: [principal.leadProviderId] }
      if (!can(principal, 'view', { type: 'organisation', organisation: own })) throw forbidden()
      const code = await leadProviderCode(principal.leadProviderId)
      const design = query.cohort
        ? await designs.designForCohort(code, params.course_identifier, query.cohort)
        : await designs.design(code, params.course_identifier)
      if (!design) {
        if (query.cohort && (await designs.design(code, params.course_identifier))) {
          throw new AppError('not-found', `${params.course_identifier} does not run in cohort ${query.cohort}`)
        }
        throw notFound('Design')
      }
      return designJson.parse(catalogueShowJson(catalogue, design, query.cohort))
    },
  })
}
