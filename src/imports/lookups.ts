import type { Trx } from '../db/database.ts'
import { findOrganisation } from '../organisations/organisations.ts'
import type { CsvRow } from './csv.ts'
import type { ImportContext } from './import-file.ts'

/**
 * A row's lead provider and delivery partner (columns `lead_provider`, `delivery_partner`): both must
 * exist and work together, and the lead provider must be the one the importer acts for, if any.
 * Problems are reported on the row; null when the row cannot go on.
 */
export async function leadProviderAndPartner(
  trx: Trx,
  csv: CsvRow,
  codes: { lead_provider: string; delivery_partner: string },
  { leadProvider, problem }: Pick<ImportContext, 'leadProvider' | 'problem'>,
  noun: string,
): Promise<{ lp: { id: string }; dp: { id: string } | null } | null> {
  if (leadProvider && codes.lead_provider !== leadProvider.code) {
    problem(csv, 'lead_provider', `you can import ${noun} of ${leadProvider.code} only`)
    return null
  }
  const lp = await findOrganisation(trx, 'lead-provider', codes.lead_provider)
  if (!lp) {
    problem(csv, 'lead_provider', `unknown lead provider "${codes.lead_provider}"`)
    return null
  }
  const dp = await trx
    .selectFrom('organisations as o')
    .leftJoin('delivery_partnerships as p', (join) => join.onRef('p.delivery_partner_id', '=', 'o.id').on('p.lead_provider_id', '=', lp.id))
    .select(['o.id', 'p.lead_provider_id'])
    .where('o.kind', '=', 'delivery-partner')
    .where('o.code', '=', codes.delivery_partner)
    .executeTakeFirst()
  if (!dp) problem(csv, 'delivery_partner', `unknown delivery partner "${codes.delivery_partner}" (import delivery-partners first)`)
  else if (!dp.lead_provider_id) problem(csv, 'delivery_partner', `${codes.delivery_partner} does not work with ${codes.lead_provider}`)
  return { lp, dp: dp?.lead_provider_id ? { id: dp.id } : null }
}
