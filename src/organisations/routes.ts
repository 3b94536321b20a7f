import type { FastifyInstance, FastifyRequest } from 'fastify'
import { z } from 'zod'
import { AppError, forbidden } from '../errors.ts'
import { can } from '../policy/policy.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { roleLabels, roleOrganisationKind, roles, type Role } from '../policy/roles.ts'
import type { Services } from '../services.ts'
import { formErrors, parseForm, zodFieldErrors } from '../web/forms.ts'
import { organisationRef } from './organisations.ts'
import { listTeam, organisationsOfLeadProvider, providerAndPartners, schoolOfLeadProvider } from './team.ts'

// Team pages: lead-provider admins manage everyone working on their programme; delivery-partner
// leads manage their own facilitators and leads. Inviting goes through Accounts.invite and the policy.

const inviteForm = z.object({
  fullName: z.string().trim().min(1, 'Enter the person’s full name').max(200, 'Full name must be 200 characters or fewer'),
  email: z
    .string()
    .trim()
    .min(1, 'Enter an email address')
    .pipe(z.email('Enter an email address in the correct format, like name@example.com')),
  role: z.enum(roles, 'Select a role'),
  organisationId: z.uuid('Select an organisation'),
})

type Area = { slug: string; role: Role; invitableRoles: Role[] }
const areas: Area[] = [
  {
    slug: 'lead-provider',
    role: 'lead-provider-admin',
    invitableRoles: [
      'lead-provider-admin',
      'assessor',
      'moderator',
      'delivery-partner-lead',
      'facilitator',
      'school-contact',
      'line-manager',
    ],
  },
  { slug: 'delivery-partner', role: 'delivery-partner-lead', invitableRoles: ['delivery-partner-lead', 'facilitator'] },
]

export function registerOrganisationRoutes(app: FastifyInstance, { db, accounts }: Services): void {
  for (const area of areas) {
    const user = (req: FastifyRequest): Principal & { kind: 'user' } => {
      const p = req.principal
      if (!p || p.kind !== 'user' || !can(p, 'view', { type: 'role-home', role: area.role })) throw forbidden()
      return p
    }
    const own = (p: Principal) => organisationsWithRole(p, area.role)
    const organisationChoices = async (p: Principal) =>
      area.role === 'lead-provider-admin'
        ? organisationsOfLeadProvider(db, own(p))
        : db.selectFrom('organisations').select(['id', 'kind', 'name']).where('id', 'in', own(p)).execute()

    // Whose people a person may see is decided by the area's role and their own organisations.
    const teamOrganisations = async (p: Principal) => (await organisationChoices(p)).map((o) => o.id)
    // Inviting: a lead provider's admin chooses the provider or one of its delivery partners from a list,
    // and a school (thousands of them) by its URN; a delivery partner's lead chooses their own partner.
    const schoolRoles = area.invitableRoles.filter((r) => roleOrganisationKind[r] === 'school')
    const listedChoices = async (p: Principal) =>
      area.role === 'lead-provider-admin'
        ? providerAndPartners(db, own(p))
        : db.selectFrom('organisations').select(['id', 'kind', 'name']).where('id', 'in', own(p)).execute()
    const mayInviteTo = async (p: Principal, organisationId: string) =>
      (await listedChoices(p)).some((o) => o.id === organisationId) ||
      (schoolRoles.length > 0 && (await schoolOfLeadProvider(db, own(p), { id: organisationId })) !== undefined)

    app.get(`/${area.slug}/users`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const p = user(req)
      return reply.render('organisations/views/team.njk', {
        title: area.role === 'lead-provider-admin' ? 'Users' : 'Team',
        team: await listTeam(db, await teamOrganisations(p)),
        inviteUrl: `/${area.slug}/users/invite`,
        invited: (req.query as { invited?: string }).invited,
      })
    })

    const renderInvite = async (p: Principal, values: Record<string, unknown>, form?: ReturnType<typeof formErrors>) => ({
      title: 'Invite someone',
      values,
      roleItems: [
        { value: '', text: 'Choose a role' },
        ...area.invitableRoles.map((r) => ({ value: r, text: roleLabels[r], selected: values.role === r })),
      ],
      organisationItems: [
        { value: '', text: 'Choose an organisation' },
        ...(await listedChoices(p)).map((o) => ({
          value: o.id,
          text: `${o.name} (${o.kind.replace('-', ' ')})`,
          selected: values.organisationId === o.id,
        })),
        ...(schoolRoles.length
          ? [{ value: 'school', text: 'A school (enter its URN)', selected: values.organisationId === 'school' }]
          : []),
      ],
      schoolRoles: schoolRoles.map((r) => roleLabels[r].toLowerCase()),
      backUrl: `/${area.slug}/users`,
      ...form,
    })

    app.get(`/${area.slug}/users/invite`, { config: { access: 'signed-in' } }, async (req, reply) =>
      reply.render('organisations/views/invite.njk', await renderInvite(user(req), {})),
    )

    app.post(`/${area.slug}/users/invite`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const p = user(req)
      const values = (req.body ?? {}) as Record<string, unknown>
      // A school is named by its URN: one of the schools of the provider's participants.
      let school: { id: string } | undefined
      if (schoolRoles.length && values.organisationId === 'school') {
        const urn = typeof values.schoolUrn === 'string' ? values.schoolUrn.trim() : ''
        school = /^\d{6,8}$/.test(urn) ? await schoolOfLeadProvider(db, own(p), { urn }) : undefined
        if (!school) {
          const message = urn
            ? `There is no school with URN ${urn} among your participants’ schools`
            : 'Enter the school’s URN, for example 100001'
          const others = inviteForm.omit({ organisationId: true }).safeParse(values)
          const form = formErrors([...(others.success ? [] : zodFieldErrors(others.error)), { field: 'schoolUrn', message }])
          return reply.render('organisations/views/invite.njk', await renderInvite(p, values, form), 400)
        }
      }
      const parsed = parseForm(inviteForm, school ? { ...values, organisationId: school.id } : values)
      if (!parsed.ok) return reply.render('organisations/views/invite.njk', await renderInvite(p, values, parsed.form), 400)
      const { role, organisationId } = parsed.data
      const allowed = area.invitableRoles.includes(role) && (await mayInviteTo(p, organisationId))
      if (!allowed) throw forbidden()
      const org = await organisationRef(db, organisationId)
      if (org && org.kind !== roleOrganisationKind[role]) {
        const message = `A ${roleLabels[role].toLowerCase()} must belong to a ${roleOrganisationKind[role].replace('-', ' ')}`
        return reply.render(
          'organisations/views/invite.njk',
          await renderInvite(p, values, formErrors([{ field: 'organisationId', message }])),
          400,
        )
      }
      try {
        await accounts.invite(p, parsed.data)
      } catch (error) {
        if (error instanceof AppError && error.fieldErrors.length) {
          return reply.render('organisations/views/invite.njk', await renderInvite(p, values, formErrors(error.fieldErrors)), 400)
        }
        throw error
      }
      return reply.redirect(`/${area.slug}/users?invited=${encodeURIComponent(parsed.data.email)}`, 303)
    })
  }
}
