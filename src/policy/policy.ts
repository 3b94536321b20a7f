import type { OrganisationKind } from '../db/schema.ts'
import { hasRole, type Principal } from './principal.ts'
import type { Role } from './roles.ts'

// One policy layer: every page and API call asks `can(principal, action, resource)`.
// Rules are written once per resource type; anything not allowed here is denied.

export type OrganisationRef = {
  id: string
  kind: OrganisationKind
  /** For a delivery partner, the lead providers it works with; for a lead provider, itself. */
  leadProviderIds: string[]
}

export type EnrolmentRef = {
  participantUserId: string | null
  leadProviderId: string
  deliveryPartnerId: string | null
  schoolId: string | null
  lineManagerUserId: string | null
}

export type EventRef = {
  leadProviderId: string
  /** Null for a lead provider's central event. */
  deliveryPartnerId: string | null
  /** Users named as the event's facilitators. */
  facilitatorUserIds: string[]
}

export type Resource =
  | { type: 'role-home'; role: Role }
  | { type: 'organisation'; organisation: OrganisationRef }
  | { type: 'invitation'; role: Role; organisation: OrganisationRef }
  | { type: 'enrolment'; enrolment: EnrolmentRef }
  | { type: 'event'; event: EventRef }
  | { type: 'development-tools'; enabled: boolean }
  | { type: 'assessment-window'; leadProviderId: string }
  | { type: 'assessment-script'; script: { leadProviderId: string; assessorUserId: string | null; inSample: boolean } }
  /** One person's data (src/privacy): the lead providers they are enrolled with or applied to. */
  | { type: 'personal-data'; leadProviderIds: string[] }

export type Action =
  | 'view' // a role's home page, an organisation, an enrolment
  | 'list-participants'
  | 'list-users'
  | 'manage-api-tokens'
  | 'manage-catalogue'
  | 'view-audit-log'
  | 'view-reports' // Engagement and Declaration reports of the organisation's participants
  | 'import' // CSV imports through the upload page
  | 'schedule-events' // an organisation's events (a delivery partner's, or a lead provider's central ones)
  | 'manage' // an event: edit, cancel, book participants on their behalf
  | 'take-register' // an event's register
  | 'change-locked-register' // a register over 14 days old, with a reason
  | 'declare' // outputs to DfE: declare, void, send (lead-provider admins)
  | 'view-outputs' // an enrolment's outputs and the evidence behind them
  | 'view-money' // what a delivery partner can invoice, expects and has been paid
  | 'set-contract-prices' // price per teacher per course and cohort (lead-provider admins)
  | 'manage-applications' // applications: forms, decisions (lead-provider admins)
  | 'create' // an invitation
  | 'run-marking' // an assessment window: allocate scripts, record external moderation, release results (lead-provider admins)
  | 'mark' // an assessment script allocated to this assessor
  | 'moderate' // an assessment script in the internal moderation sample
  | 'export-personal-data' // a subject access export of one person's data (lead-provider admins)
  | 'erase-personal-data' // anonymise one person's data after the retention period or a verified request
  | 'use'

type Rule<R extends Resource> = (principal: Principal, action: Action, resource: R) => boolean
type Rules = { [T in Resource['type']]: Rule<Extract<Resource, { type: T }>> }

const isLeadProviderAdminOf = (p: Principal, leadProviderIds: string[]) =>
  leadProviderIds.some((id) => hasRole(p, 'lead-provider-admin', id))

const rules: Rules = {
  'role-home': (p, action, { role }) => action === 'view' && hasRole(p, role),

  organisation: (p, action, { organisation: org }) => {
    if (p.kind === 'api-client') {
      return ['view', 'list-participants'].includes(action) && org.kind === 'lead-provider' && org.id === p.leadProviderId
    }
    switch (org.kind) {
      case 'lead-provider':
        return [
          'view',
          'list-participants',
          'list-users',
          'manage-api-tokens',
          'manage-catalogue',
          'view-audit-log',
          'view-reports',
          'import',
          'schedule-events',
          'declare',
          'view-money',
          'set-contract-prices',
          'manage-applications',
        ].includes(action)
          ? hasRole(p, 'lead-provider-admin', org.id)
          : false
      case 'delivery-partner':
        if (['view', 'list-participants', 'list-users', 'view-reports', 'schedule-events', 'view-money'].includes(action)) {
          return hasRole(p, 'delivery-partner-lead', org.id) || isLeadProviderAdminOf(p, org.leadProviderIds)
        }
        return false
      case 'school':
        return ['view', 'list-participants'].includes(action) && hasRole(p, 'school-contact', org.id)
    }
  },

  invitation: (p, action, { role, organisation: org }) => {
    if (action !== 'create' || p.kind === 'api-client') return false
    if (p.kind === 'system') return true // the CLI, run by whoever runs the servers
    switch (org.kind) {
      case 'lead-provider':
        return ['lead-provider-admin', 'assessor', 'moderator'].includes(role) && hasRole(p, 'lead-provider-admin', org.id)
      case 'delivery-partner':
        if (!['delivery-partner-lead', 'facilitator', 'participant'].includes(role)) return false
        if (isLeadProviderAdminOf(p, org.leadProviderIds)) return true
        return role !== 'participant' && hasRole(p, 'delivery-partner-lead', org.id)
      case 'school':
        // School contacts and line managers are set up by the lead provider during onboarding.
        return ['school-contact', 'line-manager'].includes(role) && p.roles.some((r) => r.role === 'lead-provider-admin')
    }
  },

  enrolment: (p, action, { enrolment: e }) => {
    if (action === 'view-outputs') {
      // What the lead provider is paid on: its admins and the participant's delivery-partner leads.
      if (p.kind !== 'user') return p.kind === 'system'
      return (
        hasRole(p, 'lead-provider-admin', e.leadProviderId) ||
        (e.deliveryPartnerId !== null && hasRole(p, 'delivery-partner-lead', e.deliveryPartnerId))
      )
    }
    if (action !== 'view') return false
    if (p.kind === 'api-client') return p.leadProviderId === e.leadProviderId
    if (p.kind === 'system') return true
    return (
      (e.participantUserId !== null && e.participantUserId === p.userId) ||
      (e.lineManagerUserId !== null && e.lineManagerUserId === p.userId && hasRole(p, 'line-manager')) ||
      (e.deliveryPartnerId !== null &&
        (hasRole(p, 'delivery-partner-lead', e.deliveryPartnerId) || hasRole(p, 'facilitator', e.deliveryPartnerId))) ||
      (e.schoolId !== null && hasRole(p, 'school-contact', e.schoolId)) ||
      hasRole(p, 'lead-provider-admin', e.leadProviderId)
    )
  },

  // Events: the delivery partner's leads and the lead provider's admins run them; facilitators see
  // their partner's events and take the registers of those they facilitate.
  event: (p, action, { event: e }) => {
    if (p.kind === 'system') return true
    if (p.kind === 'api-client') return p.leadProviderId === e.leadProviderId && ['view', 'manage', 'take-register'].includes(action)
    const ownPartner = (role: 'delivery-partner-lead' | 'facilitator') =>
      e.deliveryPartnerId !== null && hasRole(p, role, e.deliveryPartnerId)
    const runs = ownPartner('delivery-partner-lead') || hasRole(p, 'lead-provider-admin', e.leadProviderId)
    switch (action) {
      case 'view':
        return runs || ownPartner('facilitator') || e.facilitatorUserIds.includes(p.userId)
      case 'manage':
      case 'change-locked-register':
        return runs
      case 'take-register':
        return runs || e.facilitatorUserIds.includes(p.userId)
      default:
        return false
    }
  },

  'development-tools': (_p, action, { enabled }) => action === 'use' && enabled,

  // The summative assessment's marking: admins run it; assessors see only scripts allocated to them, and
  // moderators only sampled ones — of lead providers where they still hold that role.
  'assessment-window': (p, action, { leadProviderId }) => action === 'run-marking' && hasRole(p, 'lead-provider-admin', leadProviderId),
  'assessment-script': (p, action, { script }) => {
    if (p.kind !== 'user') return false
    if (action === 'mark') return script.assessorUserId === p.userId && hasRole(p, 'assessor', script.leadProviderId)
    if (action === 'moderate') return script.inSample && hasRole(p, 'moderator', script.leadProviderId)
    return false
  },

  // Data protection: a subject access export is the data controller's, so only admins of a lead provider
  // the person is enrolled with or applied to; erasure is run by the daily job or the CLI (system) only.
  'personal-data': (p, action, { leadProviderIds }) => {
    if (p.kind === 'system') return action === 'export-personal-data' || action === 'erase-personal-data'
    if (p.kind !== 'user' || action !== 'export-personal-data') return false
    return isLeadProviderAdminOf(p, leadProviderIds)
  },
}

export function can(principal: Principal | null, action: Action, resource: Resource): boolean {
  if (!principal)
    return resource.type === 'development-tools' && rules['development-tools']({ kind: 'system', name: 'anonymous' }, action, resource)
  const rule = rules[resource.type] as Rule<Resource>
  return rule(principal, action, resource)
}
