import type { Role } from './roles.ts'

export type RoleAssignment = {
  role: Role
  organisationId: string
  organisationCode: string
  organisationName: string
  /** For delivery-partner roles: the lead providers the partner works with. */
  leadProviderIds: string[]
}

/** Who is acting: a signed-in person, a lead provider's API client, or the platform itself. */
export type Principal =
  | { kind: 'user'; userId: string; email: string; fullName: string; roles: RoleAssignment[] }
  | { kind: 'api-client'; tokenId: string; tokenName: string; leadProviderId: string }
  | { kind: 'system'; name: string }

export function hasRole(principal: Principal, role: Role, organisationId?: string): boolean {
  return (
    principal.kind === 'user' &&
    principal.roles.some((r) => r.role === role && (organisationId === undefined || r.organisationId === organisationId))
  )
}

export function organisationsWithRole(principal: Principal, role: Role): string[] {
  return principal.kind === 'user' ? principal.roles.filter((r) => r.role === role).map((r) => r.organisationId) : []
}

/** How a principal is named in the audit log. */
export function describePrincipal(principal: Principal): { actorUserId: string | null; actor: string } {
  switch (principal.kind) {
    case 'user':
      return { actorUserId: principal.userId, actor: 'user' }
    case 'api-client':
      return { actorUserId: null, actor: `api-token:${principal.tokenId}` }
    case 'system':
      return { actorUserId: null, actor: principal.name }
  }
}
