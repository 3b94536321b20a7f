// The roles of DOMAIN.md "Who is involved". Each assignment is scoped to one organisation.
export const roles = [
  'participant',
  'line-manager',
  'facilitator',
  'delivery-partner-lead',
  'lead-provider-admin',
  'assessor',
  'moderator',
  'school-contact',
] as const
export type Role = (typeof roles)[number]

export const roleLabels: Record<Role, string> = {
  participant: 'Participant',
  'line-manager': 'Line manager or mentor',
  facilitator: 'Facilitator',
  'delivery-partner-lead': 'Delivery partner lead',
  'lead-provider-admin': 'Lead provider admin',
  assessor: 'Assessor',
  moderator: 'Moderator',
  'school-contact': 'School contact',
}

/** The kind of organisation each role belongs to. */
export const roleOrganisationKind: Record<Role, 'lead-provider' | 'delivery-partner' | 'school'> = {
  participant: 'delivery-partner',
  'line-manager': 'school',
  facilitator: 'delivery-partner',
  'delivery-partner-lead': 'delivery-partner',
  'lead-provider-admin': 'lead-provider',
  assessor: 'lead-provider',
  moderator: 'lead-provider',
  'school-contact': 'school',
}

/** URL path segment of each role's home page. */
export const roleSlug: Record<Role, string> = {
  participant: 'participant',
  'line-manager': 'line-manager',
  facilitator: 'facilitator',
  'delivery-partner-lead': 'delivery-partner',
  'lead-provider-admin': 'lead-provider',
  assessor: 'assessor',
  moderator: 'moderator',
  'school-contact': 'school',
}

export function isRole(value: string): value is Role {
  return (roles as readonly string[]).includes(value)
}
