import type { FastifyRequest } from 'fastify'
import { forbidden } from '../errors.ts'
import { can, type Action } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'

export type AdministeredLeadProvider = { id: string; code: string; name: string }

/**
 * The lead providers the signed-in person may do `action` for as an admin (most people administer
 * one). Anyone else is refused, so a page can start with this and use what it returns.
 */
export function administeredLeadProviders(
  req: FastifyRequest,
  action: Action,
): { principal: Principal & { kind: 'user' }; leadProviders: AdministeredLeadProvider[] } {
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
