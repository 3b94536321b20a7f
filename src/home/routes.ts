import type { FastifyInstance, FastifyRequest } from 'fastify'
import { upcomingEvents } from '../calendar/my-events.ts'
import { forbidden } from '../errors.ts'
import { welcomeChecklists } from '../onboarding/onboarding.ts'
import { lifecycleNotices } from '../lifecycle/notices.ts'
import { listEnrolments } from '../participants/enrolments.ts'
import { can } from '../policy/policy.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { roleLabels, roleSlug, type Role } from '../policy/roles.ts'
import type { Services } from '../services.ts'

// Each role's home page: what that person works on, scoped to their own organisations.

function requireRole(req: FastifyRequest, role: Role): Principal & { kind: 'user' } {
  const principal = req.principal
  if (!principal || principal.kind !== 'user' || !can(principal, 'view', { type: 'role-home', role })) throw forbidden()
  return principal
}

function organisationsOf(principal: Principal & { kind: 'user' }, role: Role) {
  return principal.roles.filter((r) => r.role === role)
}

export function registerHomeRoutes(app: FastifyInstance, { db }: Services): void {
  const page = (role: Role, load: (principal: Principal & { kind: 'user' }) => Promise<Record<string, unknown>>) =>
    app.get(`/${roleSlug[role]}`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const principal = requireRole(req, role)
      const context = await load(principal)
      return reply.render(`home/views/${roleSlug[role]}.njk`, {
        title: roleLabels[role],
        organisations: organisationsOf(principal, role),
        ...context,
      })
    })

  page('participant', async (p) => ({
    enrolments: await listEnrolments(db, { participantUserId: p.userId }),
    events: await upcomingEvents(db, p, 'participant'),
    checklists: await welcomeChecklists(db, p.userId),
    notices: await lifecycleNotices(db, p.userId),
  }))
  page('line-manager', async (p) => ({ enrolments: await listEnrolments(db, { lineManagerUserId: p.userId }) }))
  page('facilitator', async (p) => ({
    enrolments: await listEnrolments(db, { deliveryPartnerIds: organisationsWithRole(p, 'facilitator') }),
    events: await upcomingEvents(db, p, 'facilitator'),
  }))
  page('delivery-partner-lead', async (p) => ({
    enrolments: await listEnrolments(db, { deliveryPartnerIds: organisationsWithRole(p, 'delivery-partner-lead') }),
    events: await upcomingEvents(db, p, 'delivery-partner-lead'),
  }))
  page('lead-provider-admin', async (p) => {
    const leadProviderIds = organisationsWithRole(p, 'lead-provider-admin')
    const enrolments = await listEnrolments(db, { leadProviderIds })
    const byPartner = new Map<string, number>()
    for (const e of enrolments)
      byPartner.set(e.deliveryPartner ?? 'Not allocated', (byPartner.get(e.deliveryPartner ?? 'Not allocated') ?? 0) + 1)
    return {
      enrolmentCount: enrolments.length,
      byPartner: [...byPartner.entries()].sort(([a], [b]) => a.localeCompare(b)),
      events: await upcomingEvents(db, p, 'lead-provider-admin'),
    }
  })
  page('assessor', async () => ({}))
  page('moderator', async () => ({}))
  page('school-contact', async (p) => ({
    enrolments: await listEnrolments(db, { schoolIds: organisationsWithRole(p, 'school-contact') }),
  }))
}
