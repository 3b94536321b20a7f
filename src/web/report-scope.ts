import { forbidden, type FieldError } from '../errors.ts'
import { deliveryPartnersOf, findOrganisation, organisationRef } from '../organisations/organisations.ts'
import { can, type Action } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'

// Which lead provider and delivery partners a reporting page (reports, money) may show, from its
// query: lead-provider admins choose among their providers and filter by any of the provider's
// partners; delivery-partner leads are fixed to their own partner. The pages differ only in the
// action that lets a person see an organisation's figures, so that is the one thing passed in.

export type Org = { id: string; code: string; name: string }
export type Area = { slug: 'lead-provider' | 'delivery-partner'; role: 'lead-provider-admin' | 'delivery-partner-lead' }

export const areas: Area[] = [
  { slug: 'lead-provider', role: 'lead-provider-admin' },
  { slug: 'delivery-partner', role: 'delivery-partner-lead' },
]

/** Who may see what on one area's page: the lead providers and delivery partners to choose from. */
export type Scope = {
  leadProviders: Org[]
  leadProvider: Org | null
  deliveryPartners: Org[]
  /** The delivery partner reported on: fixed for a delivery-partner lead, a filter (or all) for an admin. */
  deliveryPartner: Org | null
  errors: FieldError[]
}

type ViewAction = Extract<Action, 'view-reports' | 'view-money'>

export function createScopeResolver({ db, catalogue }: Pick<Services, 'db' | 'catalogue'>, viewAction: ViewAction) {
  const mayView = async (p: Principal, id: string) => {
    const ref = await organisationRef(db, id)
    return ref !== null && can(p, viewAction, { type: 'organisation', organisation: ref })
  }

  const organisationsById = async (ids: string[]): Promise<Org[]> =>
    ids.length === 0 ? [] : db.selectFrom('organisations').select(['id', 'code', 'name']).where('id', 'in', ids).orderBy('name').execute()

  /** A code not among the choices: 403 when it names an organisation the person may not see, else a field error. */
  const refuseOrExplain = async (p: Principal, kind: 'lead-provider' | 'delivery-partner', code: string, error: FieldError) => {
    const org = await findOrganisation(db, kind, code)
    if (org && !(await mayView(p, org.id))) throw forbidden()
    return error
  }

  async function scopeOf(area: Area, p: Principal & { kind: 'user' }, query: (name: string) => string): Promise<Scope> {
    const errors: FieldError[] = []
    const own = async () => {
      const ids = [...new Set(p.roles.filter((r) => r.role === area.role).map((r) => r.organisationId))]
      const allowed: string[] = []
      for (const id of ids) if (await mayView(p, id)) allowed.push(id)
      return organisationsById(allowed)
    }

    if (area.role === 'lead-provider-admin') {
      const leadProviders = await own()
      if (leadProviders.length === 0) throw forbidden()
      let leadProvider = leadProviders[0]!
      const lpCode = query('lead_provider')
      if (lpCode) {
        const chosen = leadProviders.find((l) => l.code === lpCode)
        if (chosen) leadProvider = chosen
        else errors.push(await refuseOrExplain(p, 'lead-provider', lpCode, { field: 'lead_provider', message: 'Select a lead provider' }))
      }
      const deliveryPartners: Org[] = []
      for (const dp of await deliveryPartnersOf(db, leadProvider.id)) if (await mayView(p, dp.id)) deliveryPartners.push(dp)
      let deliveryPartner: Org | null = null
      const dpCode = query('delivery_partner')
      if (dpCode) {
        deliveryPartner = deliveryPartners.find((d) => d.code === dpCode) ?? null
        if (!deliveryPartner) {
          errors.push(
            await refuseOrExplain(p, 'delivery-partner', dpCode, {
              field: 'delivery_partner',
              message: `Select a delivery partner that works with ${leadProvider.name}`,
            }),
          )
        }
      }
      return { leadProviders, leadProvider, deliveryPartners, deliveryPartner, errors }
    }

    const deliveryPartners = await own()
    if (deliveryPartners.length === 0) throw forbidden()
    let deliveryPartner = deliveryPartners[0]!
    const dpCode = query('delivery_partner')
    if (dpCode) {
      const chosen = deliveryPartners.find((d) => d.code === dpCode)
      if (chosen) deliveryPartner = chosen
      else
        errors.push(
          await refuseOrExplain(p, 'delivery-partner', dpCode, { field: 'delivery_partner', message: 'Select a delivery partner' }),
        )
    }
    // A partner's lead sees the figures of each lead provider it works with, one at a time.
    const leadProviders = await organisationsById((await organisationRef(db, deliveryPartner.id))?.leadProviderIds ?? [])
    let leadProvider = leadProviders[0] ?? null
    const lpCode = query('lead_provider')
    if (lpCode && leadProviders.length) {
      const chosen = leadProviders.find((l) => l.code === lpCode)
      if (chosen) leadProvider = chosen
      else errors.push({ field: 'lead_provider', message: `Select a lead provider that ${deliveryPartner.name} works with` })
    }
    return { leadProviders, leadProvider, deliveryPartners, deliveryPartner, errors }
  }

  /** The cohorts in which a provider runs a course it has a design for, most recent first, with their start dates. */
  const cohortsOf = (lp: string) => {
    const codes = [...new Set(catalogue.coursesOf(lp).flatMap((c) => catalogue.cohortsFor(lp, c)))]
    const labels = new Map(catalogue.schedulesFor(lp).map((s) => [s.cohort, s.label]))
    return codes
      .map((cohort) => ({ cohort, startsOn: catalogue.cohortStartsOn(lp, cohort), label: labels.get(cohort) ?? null }))
      .sort((a, b) => (b.startsOn ?? '').localeCompare(a.startsOn ?? '') || b.cohort.localeCompare(a.cohort))
  }

  return { scopeOf, cohortsOf, refuseOrExplain, organisationsById }
}
