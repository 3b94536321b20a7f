import { z } from 'zod'
import { recordAudit } from '../audit/audit.ts'
import { findOrganisation } from '../organisations/organisations.ts'
import type { Importer } from './import-file.ts'

// `npq import delivery-partners`: delivery_partner_id, name, lead_provider.

const row = z.object({
  delivery_partner_id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'must be letters, digits, - or _ (at most 64)'),
  name: z.string().min(1, 'must not be empty').max(200, 'must be 200 characters or fewer'),
  lead_provider: z.string().min(1, 'must not be empty'),
})

export const deliveryPartnersImporter: Importer<typeof row> = {
  kind: 'delivery-partners',
  required: ['delivery_partner_id', 'name', 'lead_provider'],
  optional: [],
  row,
  async apply(trx, rows, { by, leadProvider, problem }) {
    const counts = { created: 0, updated: 0, unchanged: 0 }
    const seen = new Map<string, string>()
    for (const { row: csv, value } of rows) {
      const earlier = seen.get(value.delivery_partner_id)
      if (earlier !== undefined && earlier !== value.name)
        problem(csv, 'name', `delivery partner ${value.delivery_partner_id} has another name on an earlier line`)
      seen.set(value.delivery_partner_id, value.name)

      if (leadProvider && value.lead_provider !== leadProvider.code) {
        problem(csv, 'lead_provider', `you can import delivery partners of ${leadProvider.code} only`)
        continue
      }
      const lp = await findOrganisation(trx, 'lead-provider', value.lead_provider)
      if (!lp) {
        problem(csv, 'lead_provider', `unknown lead provider "${value.lead_provider}"`)
        continue
      }
      let changed = false
      const existing = await findOrganisation(trx, 'delivery-partner', value.delivery_partner_id)
      let id = existing?.id
      if (!existing) {
        id = (
          await trx
            .insertInto('organisations')
            .values({ kind: 'delivery-partner', code: value.delivery_partner_id, name: value.name })
            .returning('id')
            .executeTakeFirstOrThrow()
        ).id
        await recordAudit(trx, {
          by,
          action: 'organisation.created',
          entityType: 'organisation',
          entityId: id,
          after: { kind: 'delivery-partner', code: value.delivery_partner_id, name: value.name },
        })
        counts.created++
      } else if (existing.name !== value.name) {
        await trx.updateTable('organisations').set({ name: value.name }).where('id', '=', existing.id).execute()
        await recordAudit(trx, {
          by,
          action: 'organisation.renamed',
          entityType: 'organisation',
          entityId: existing.id,
          before: { name: existing.name },
          after: { name: value.name },
        })
        changed = true
      }
      const partnered = await trx
        .insertInto('delivery_partnerships')
        .values({ lead_provider_id: lp.id, delivery_partner_id: id! })
        .onConflict((oc) => oc.doNothing())
        .returning('delivery_partner_id')
        .executeTakeFirst()
      if (partnered && existing) {
        await recordAudit(trx, {
          by,
          action: 'partnership.created',
          entityType: 'organisation',
          entityId: id!,
          after: { lead_provider: value.lead_provider },
        })
        changed = true
      }
      if (existing && changed) counts.updated++
      else if (existing) counts.unchanged++
    }
    return counts
  },
}
