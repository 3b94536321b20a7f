import type { Catalogue } from './catalogue.ts'
import type { DesignVersions } from './versions.ts'
import type { Design } from './load.ts'

// The JSON of `npx npq catalogue list|show` (../shared/INTERFACES.md "Catalogue"), field for field.

export async function catalogueListJson(catalogue: Catalogue, versions: DesignVersions) {
  const rows = []
  for (const d of catalogue.designs()) {
    const latest = await versions.design(d.leadProvider, d.courseIdentifier)
    rows.push({
      lead_provider: d.leadProvider,
      course_identifier: d.courseIdentifier,
      design_version: latest?.version ?? d.version,
      cohorts: catalogue.cohortsFor(d.leadProvider, d.courseIdentifier),
    })
  }
  return rows
}

export function catalogueShowJson(catalogue: Catalogue, design: Design, cohort?: string) {
  const json: Record<string, unknown> = {
    lead_provider: design.leadProvider,
    course_identifier: design.courseIdentifier,
    design_version: design.version,
    credits_available: design.creditsAvailable,
    blocks: design.blocks.map((b) => ({
      block: b.block,
      provisional: b.provisional,
      credits_available: b.creditsAvailable,
      activities: b.activities.map((a) => ({
        code: a.code,
        component: a.component,
        title: a.title,
        duration_minutes: a.durationMinutes,
        credits: a.credits,
      })),
    })),
  }
  if (design.programmeActivities.length) {
    json.programme_activities = design.programmeActivities.map((a) => ({
      code: a.code,
      component: a.component,
      title: a.title,
      duration_minutes: a.durationMinutes,
      credits: a.credits,
    }))
  }
  if (cohort) {
    const outputs = catalogue.cohortOutputs(design.leadProvider, cohort, design.courseIdentifier)
    json.cohort = outputs
      ? {
          cohort,
          self_reporting: outputs.selfReporting,
          outputs: outputs.outputs.map((o) => ({
            declaration_type: o.declarationType,
            review_date: o.reviewDate,
            invoice_date: o.invoiceDate,
            payment_date: o.paymentDate,
            share_percent: o.sharePercent,
          })),
        }
      : null
  }
  return json
}
