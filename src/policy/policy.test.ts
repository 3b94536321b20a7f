import assert from 'node:assert/strict'
import { test } from 'node:test'
import { can, type EnrolmentRef, type OrganisationRef, type Resource } from './policy.ts'
import type { Principal, RoleAssignment } from './principal.ts'
import type { Role } from './roles.ts'

const lp: OrganisationRef = { id: 'lp-1', kind: 'lead-provider', leadProviderIds: ['lp-1'] }
const otherLp: OrganisationRef = { id: 'lp-2', kind: 'lead-provider', leadProviderIds: ['lp-2'] }
const dp: OrganisationRef = { id: 'dp-1', kind: 'delivery-partner', leadProviderIds: ['lp-1'] }
const otherDp: OrganisationRef = { id: 'dp-2', kind: 'delivery-partner', leadProviderIds: ['lp-2'] }
const school: OrganisationRef = { id: 'school-1', kind: 'school', leadProviderIds: [] }

function person(userId: string, ...roles: [Role, string][]): Principal {
  const assignments: RoleAssignment[] = roles.map(([role, organisationId]) => ({
    role,
    organisationId,
    organisationCode: organisationId,
    organisationName: organisationId,
    leadProviderIds: organisationId.startsWith('dp-1') ? ['lp-1'] : [],
  }))
  return { kind: 'user', userId, email: `${userId}@example.test`, fullName: userId, roles: assignments }
}

const enrolment: EnrolmentRef = {
  participantUserId: 'p-1',
  leadProviderId: 'lp-1',
  deliveryPartnerId: 'dp-1',
  schoolId: 'school-1',
  lineManagerUserId: 'lm-1',
}

test('a role home is open only to people holding that role', () => {
  const admin = person('a', ['lead-provider-admin', 'lp-1'])
  assert.equal(can(admin, 'view', { type: 'role-home', role: 'lead-provider-admin' }), true)
  assert.equal(can(admin, 'view', { type: 'role-home', role: 'participant' }), false)
  assert.equal(can(null, 'view', { type: 'role-home', role: 'participant' }), false)
})

test('one person may hold several roles', () => {
  const both = person('b', ['participant', 'dp-1'], ['line-manager', 'school-1'])
  assert.equal(can(both, 'view', { type: 'role-home', role: 'participant' }), true)
  assert.equal(can(both, 'view', { type: 'role-home', role: 'line-manager' }), true)
  assert.equal(can(both, 'view', { type: 'role-home', role: 'facilitator' }), false)
})

test('an enrolment is visible to its participant, line manager, delivery partner, school and lead provider only', () => {
  const allowed = [
    person('p-1', ['participant', 'dp-1']),
    person('lm-1', ['line-manager', 'school-1']),
    person('x', ['delivery-partner-lead', 'dp-1']),
    person('y', ['facilitator', 'dp-1']),
    person('z', ['school-contact', 'school-1']),
    person('w', ['lead-provider-admin', 'lp-1']),
  ]
  const denied = [
    person('p-2', ['participant', 'dp-1']),
    person('lm-2', ['line-manager', 'school-1']),
    person('x2', ['delivery-partner-lead', 'dp-2']),
    person('z2', ['school-contact', 'school-2']),
    person('w2', ['lead-provider-admin', 'lp-2']),
    person('a', ['assessor', 'lp-1']),
  ]
  for (const p of allowed) assert.equal(can(p, 'view', { type: 'enrolment', enrolment }), true, JSON.stringify(p))
  for (const p of denied) assert.equal(can(p, 'view', { type: 'enrolment', enrolment }), false, JSON.stringify(p))
  // Someone named line manager who does not hold the role is not let in by the name alone.
  assert.equal(can(person('lm-1', ['participant', 'dp-1']), 'view', { type: 'enrolment', enrolment }), false)
})

test('an API client sees only its own lead provider’s data', () => {
  const client: Principal = { kind: 'api-client', tokenId: 't', tokenName: 'Finance', leadProviderId: 'lp-1' }
  assert.equal(can(client, 'list-participants', { type: 'organisation', organisation: lp }), true)
  assert.equal(can(client, 'list-participants', { type: 'organisation', organisation: otherLp }), false)
  assert.equal(can(client, 'view', { type: 'organisation', organisation: lp }), true)
  assert.equal(can(client, 'view', { type: 'organisation', organisation: otherLp }), false)
  assert.equal(can(client, 'manage-api-tokens', { type: 'organisation', organisation: lp }), false)
  assert.equal(can(client, 'view', { type: 'enrolment', enrolment }), true)
  assert.equal(can(client, 'view', { type: 'enrolment', enrolment: { ...enrolment, leadProviderId: 'lp-2' } }), false)
  assert.equal(can(client, 'create', { type: 'invitation', role: 'facilitator', organisation: dp }), false)
})

test('who may invite whom', () => {
  const admin = person('a', ['lead-provider-admin', 'lp-1'])
  const dpLead = person('d', ['delivery-partner-lead', 'dp-1'])
  assert.equal(can(admin, 'create', { type: 'invitation', role: 'assessor', organisation: lp }), true)
  assert.equal(can(admin, 'create', { type: 'invitation', role: 'facilitator', organisation: dp }), true)
  assert.equal(can(admin, 'create', { type: 'invitation', role: 'facilitator', organisation: otherDp }), false)
  assert.equal(can(admin, 'create', { type: 'invitation', role: 'assessor', organisation: otherLp }), false)
  assert.equal(can(admin, 'create', { type: 'invitation', role: 'school-contact', organisation: school }), true)
  assert.equal(can(dpLead, 'create', { type: 'invitation', role: 'facilitator', organisation: dp }), true)
  assert.equal(can(dpLead, 'create', { type: 'invitation', role: 'lead-provider-admin', organisation: lp }), false)
  assert.equal(can(dpLead, 'create', { type: 'invitation', role: 'facilitator', organisation: otherDp }), false)
  assert.equal(can(dpLead, 'create', { type: 'invitation', role: 'participant', organisation: dp }), false)
})

test('lead-provider pages and tokens belong to that lead provider’s admins', () => {
  const admin = person('a', ['lead-provider-admin', 'lp-1'])
  assert.equal(can(admin, 'manage-api-tokens', { type: 'organisation', organisation: lp }), true)
  assert.equal(can(admin, 'manage-api-tokens', { type: 'organisation', organisation: otherLp }), false)
  assert.equal(can(person('d', ['delivery-partner-lead', 'dp-1']), 'manage-api-tokens', { type: 'organisation', organisation: lp }), false)
  assert.equal(can(admin, 'list-participants', { type: 'organisation', organisation: dp }), true)
  assert.equal(can(admin, 'list-participants', { type: 'organisation', organisation: otherDp }), false)
})

test('development tools exist only when enabled', () => {
  assert.equal(can(null, 'use', { type: 'development-tools', enabled: true }), true)
  assert.equal(can(null, 'use', { type: 'development-tools', enabled: false }), false)
})

test('reports: a delivery partner lead sees their own partner’s; lead-provider admins their partners’ and their own; imports are the admins’', () => {
  const dpLead = person('d', ['delivery-partner-lead', 'dp-1'])
  const otherDpLead = person('d2', ['delivery-partner-lead', 'dp-2'])
  const admin = person('a', ['lead-provider-admin', 'lp-1'])
  const otherAdmin = person('a2', ['lead-provider-admin', 'lp-2'])
  const facilitator = person('f', ['facilitator', 'dp-1'])
  assert.equal(can(dpLead, 'view-reports', { type: 'organisation', organisation: dp }), true)
  assert.equal(can(otherDpLead, 'view-reports', { type: 'organisation', organisation: dp }), false)
  assert.equal(can(facilitator, 'view-reports', { type: 'organisation', organisation: dp }), false)
  assert.equal(can(dpLead, 'view-reports', { type: 'organisation', organisation: lp }), false)
  assert.equal(can(admin, 'view-reports', { type: 'organisation', organisation: dp }), true)
  assert.equal(can(admin, 'view-reports', { type: 'organisation', organisation: lp }), true)
  assert.equal(can(otherAdmin, 'view-reports', { type: 'organisation', organisation: lp }), false)
  assert.equal(can(admin, 'import', { type: 'organisation', organisation: lp }), true)
  assert.equal(can(otherAdmin, 'import', { type: 'organisation', organisation: lp }), false)
  assert.equal(can(dpLead, 'import', { type: 'organisation', organisation: dp }), false)
})

test('marking: admins of the lead provider run it; assessors mark only their own scripts, moderators only sampled ones', () => {
  const window = { type: 'assessment-window', leadProviderId: 'lp-1' } as const
  assert.equal(can(person('a', ['lead-provider-admin', 'lp-1']), 'run-marking', window), true)
  assert.equal(can(person('a2', ['lead-provider-admin', 'lp-2']), 'run-marking', window), false)
  assert.equal(can(person('as', ['assessor', 'lp-1']), 'run-marking', window), false)

  const script = (assessorUserId: string | null, inSample: boolean) =>
    ({ type: 'assessment-script', script: { leadProviderId: 'lp-1', assessorUserId, inSample } }) as const
  const assessor = person('as', ['assessor', 'lp-1'])
  assert.equal(can(assessor, 'mark', script('as', false)), true)
  assert.equal(can(assessor, 'mark', script('someone-else', false)), false)
  assert.equal(can(person('as', ['assessor', 'lp-2']), 'mark', script('as', false)), false, 'no longer an assessor of that lead provider')
  assert.equal(can(assessor, 'moderate', script('as', true)), false)
  const moderator = person('m', ['moderator', 'lp-1'])
  assert.equal(can(moderator, 'moderate', script('as', true)), true)
  assert.equal(can(moderator, 'moderate', script('as', false)), false)
  assert.equal(can(person('m2', ['moderator', 'lp-2']), 'moderate', script('as', true)), false)
})

test('personal data: only admins of a lead provider the person is enrolled with or applied to export it; only the system erases it', () => {
  const data: Resource = { type: 'personal-data', leadProviderIds: ['lp-1', 'lp-3'] }
  assert.equal(can(person('a', ['lead-provider-admin', 'lp-1']), 'export-personal-data', data), true)
  assert.equal(can(person('a3', ['lead-provider-admin', 'lp-3']), 'export-personal-data', data), true)
  assert.equal(can(person('a2', ['lead-provider-admin', 'lp-2']), 'export-personal-data', data), false, 'another provider’s admin')
  assert.equal(can(person('a', ['lead-provider-admin', 'lp-1']), 'erase-personal-data', data), false, 'erasure is the job’s or the CLI’s')
  for (const role of ['delivery-partner-lead', 'facilitator', 'participant', 'assessor', 'moderator', 'line-manager'] as const) {
    assert.equal(
      can(person('x', [role, role === 'delivery-partner-lead' || role === 'facilitator' ? 'dp-1' : 'lp-1']), 'export-personal-data', data),
      false,
      role,
    )
  }
  assert.equal(can({ kind: 'api-client', tokenId: 't', tokenName: 'Finance', leadProviderId: 'lp-1' }, 'export-personal-data', data), false)
  assert.equal(can({ kind: 'system', name: 'cli' }, 'export-personal-data', data), true)
  assert.equal(can({ kind: 'system', name: 'privacy-retention' }, 'erase-personal-data', data), true)
  assert.equal(can(null, 'export-personal-data', data), false)
  assert.equal(
    can(person('a', ['lead-provider-admin', 'lp-1']), 'export-personal-data', { type: 'personal-data', leadProviderIds: [] }),
    false,
  )
})
