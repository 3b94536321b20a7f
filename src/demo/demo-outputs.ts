import type { Trx } from '../db/database.ts'
import { declareOutputs } from '../declarations/declarations.ts'
import { setContractPrice } from '../money/prices.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'

// Demo money and declarations: a price per teacher for every course and cohort the demo runs, and
// the outputs EDT's 2022-autumn participants had met at each review date declared through the same
// path as the Declarations page (so they wait in the DfE queue until DfE sync is configured).

const demoPricePence: Record<string, number> = {
  'npq-headship': 2_450_00,
  'npq-senior-leadership': 1_900_00,
  'npq-early-headship-coaching-offer': 800_00,
}
const defaultPricePence = 1_200_00

export async function addDemoOutputs(
  services: Services,
  trx: Trx,
  by: Principal,
  placements: readonly (readonly [string, string, string, string])[],
): Promise<number> {
  let created = 0
  const seen = new Set<string>()
  // The demo participant's own two courses are priced too (NPQH is among the placements).
  for (const [leadProvider, , course, cohort] of [
    ...placements,
    ['edt', '', 'npq-early-headship-coaching-offer', '2022-autumn'] as const,
  ]) {
    const key = `${leadProvider}|${course}|${cohort}`
    if (seen.has(key)) continue
    seen.add(key)
    const lp = await trx
      .selectFrom('organisations')
      .select('id')
      .where('kind', '=', 'lead-provider')
      .where('code', '=', leadProvider)
      .executeTakeFirstOrThrow()
    const existing = await trx
      .selectFrom('contract_prices')
      .select('id')
      .where('lead_provider_id', '=', lp.id)
      .where('course_identifier', '=', course)
      .where('cohort', '=', cohort)
      .executeTakeFirst()
    if (existing) continue
    const { changed } = await setContractPrice(trx, by, {
      leadProviderId: lp.id,
      courseIdentifier: course,
      cohort,
      pricePence: demoPricePence[course] ?? defaultPricePence,
    })
    if (changed) created++
  }
  // Each output as of its review date, as a lead-provider admin would have declared it then.
  for (const [type, reviewDate] of [
    ['started', '2022-11-24'],
    ['retained-1', '2023-06-22'],
  ] as const) {
    const result = await declareOutputs(
      services,
      by,
      { leadProvider: 'edt', cohort: '2022-autumn', asOf: reviewDate, declarationType: type, requestKey: 'demo' },
      undefined,
      trx,
    )
    created += result.created.length
  }
  return created
}
