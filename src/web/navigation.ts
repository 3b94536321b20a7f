import type { Principal } from '../policy/principal.ts'
import { roleLabels, roleSlug, type Role } from '../policy/roles.ts'

type NavItem = { href: string; text: string; active?: boolean }

/** The sections each role works in (later capabilities add theirs here). */
const sections: Record<Role, { path: string; text: string }[]> = {
  participant: [
    { path: '/events', text: 'Events' },
    { path: '/enrolments', text: 'Your courses' },
  ],
  'line-manager': [],
  facilitator: [{ path: '/events', text: 'Events' }],
  'delivery-partner-lead': [
    { path: '/events', text: 'Events' },
    { path: '/reports', text: 'Reports' },
    { path: '/money', text: 'Money' },
    { path: '/escalations', text: 'Escalations' },
    { path: '/lifecycle', text: 'Deferrals and withdrawals' },
    { path: '/users', text: 'Team' },
  ],
  'lead-provider-admin': [
    { path: '/applications', text: 'Applications' },
    { path: '/events', text: 'Events' },
    { path: '/reports', text: 'Reports' },
    { path: '/onboarding', text: 'Onboarding' },
    { path: '/declarations', text: 'Declarations' },
    { path: '/money', text: 'Money' },
    { path: '/escalations', text: 'Escalations' },
    { path: '/lifecycle', text: 'Deferrals and withdrawals' },
    { path: '/imports', text: 'Imports' },
    { path: '/dfe-sync', text: 'DfE sync' },
    { path: '/catalogue', text: 'Catalogue' },
    { path: '/users', text: 'Users' },
    { path: '/api-tokens', text: 'API tokens' },
  ],
  assessor: [],
  moderator: [],
  'school-contact': [],
}

/** Service navigation for the roles a person holds; several roles each get their own home link. */
export function navigationFor(principal: Principal | null, url: string): NavItem[] {
  if (!principal || principal.kind !== 'user') return []
  const held = [...new Set(principal.roles.map((r) => r.role))]
  const currentPath = url.split('?')[0]!
  const items: NavItem[] = []
  for (const role of held) {
    const base = `/${roleSlug[role]}`
    items.push({ href: base, text: held.length > 1 ? roleLabels[role] : 'Home', active: currentPath === base })
    for (const section of sections[role]) {
      const href = base + section.path
      items.push({ href, text: section.text, active: currentPath.startsWith(href) })
    }
  }
  return items
}

export function homePathOf(principal: Principal): string | null {
  if (principal.kind !== 'user' || principal.roles.length === 0) return null
  return `/${roleSlug[principal.roles[0]!.role]}`
}
