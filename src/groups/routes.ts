import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { courseCohortsOf, createGroup, facilitatorsOf, listGroups, loadGroup, moveToGroup, type GroupRow } from './groups.ts'

// Participant groups: a delivery partner's lead lists their groups by course and cohort, adds a group
// and moves participants between groups (/delivery-partner/groups); a lead provider's admin sees their
// delivery partners' groups, read-only (/lead-provider/groups).

type User = Principal & { kind: 'user' }
type Body = Record<string, string | undefined>
const base = '/delivery-partner/groups'
const text = (v: unknown) => (typeof v === 'string' ? v : '').trim()
const view = (name: string) => `groups/views/${name}.njk`

/** Groups of one course and cohort (and partner), in the order given. */
function sectionsOf(groups: GroupRow[]) {
  const sections: { key: string; partnerName: string; heading: string; groups: GroupRow[] }[] = []
  for (const g of groups) {
    const key = `${g.deliveryPartnerId}|${g.courseIdentifier}|${g.cohort}`
    const last = sections.at(-1)
    if (last?.key === key) last.groups.push(g)
    else sections.push({ key, partnerName: g.deliveryPartnerName, heading: `${g.courseName}, ${g.cohort}`, groups: [g] })
  }
  return sections
}

export function registerGroupRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  const leadOf = (req: FastifyRequest): { user: User; partnerIds: string[] } => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    const partnerIds = organisationsWithRole(p, 'delivery-partner-lead')
    if (!partnerIds.length) throw forbidden()
    return { user: p, partnerIds }
  }

  /** The choices of the "Add a group" form, across the lead's partners. */
  async function formChoices(partnerIds: string[]) {
    const partners = await db.selectFrom('organisations').select(['id', 'name']).where('id', 'in', partnerIds).orderBy('name').execute()
    const several = partners.length > 1
    const perPartner = await Promise.all(
      partners.map(async (p) => ({ p, pairs: await courseCohortsOf(db, p.id), facilitators: await facilitatorsOf(db, p.id) })),
    )
    return {
      pairs: perPartner.flatMap(({ p, pairs }) =>
        pairs.map((c) => ({
          value: `${p.id}|${c.courseIdentifier}|${c.cohort}`,
          text: `${c.courseName}, ${c.cohort}${several ? ` (${p.name})` : ''}`,
        })),
      ),
      facilitators: perPartner.flatMap(({ p, facilitators }) =>
        facilitators.map((f) => ({ value: f.id, text: `${f.full_name}${several ? ` (${p.name})` : ''}` })),
      ),
    }
  }

  async function listPage(req: FastifyRequest, reply: FastifyReply, values: Body = {}, errors: FieldError[] = []) {
    const { partnerIds } = leadOf(req)
    const [groups, choices] = await Promise.all([listGroups(db, partnerIds), formChoices(partnerIds)])
    const added = text((req.query as { added?: string }).added)
    const addedGroup = groups.find((g) => g.id === added)
    return reply.render(
      view('list'),
      {
        title: 'Participant groups',
        sections: sectionsOf(groups),
        severalPartners: partnerIds.length > 1,
        done: addedGroup ? `${addedGroup.name} is added to ${addedGroup.courseName}, ${addedGroup.cohort}.` : null,
        pairItems: [
          { value: '', text: 'Choose a course and cohort' },
          ...choices.pairs.map((c) => ({ ...c, selected: c.value === values.course_cohort })),
        ],
        facilitatorItems: [
          { value: '', text: 'No facilitator yet' },
          ...choices.facilitators.map((f) => ({ ...f, selected: f.value === values.facilitator })),
        ],
        values,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get(base, { config: { access: 'signed-in' } }, (req, reply) => listPage(req, reply))

  app.post<{ Body: Body }>(base, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { user, partnerIds } = leadOf(req)
    const body = req.body ?? {}
    const [partnerId = '', courseIdentifier = '', cohort = ''] = text(body.course_cohort).split('|')
    const offered = (await formChoices(partnerIds)).pairs.some((p) => p.value === text(body.course_cohort))
    const problems: FieldError[] = []
    if (!offered || !partnerIds.includes(partnerId))
      problems.push({ field: 'course_cohort', message: 'Choose the course and cohort of the group' })
    if (!text(body.name)) problems.push({ field: 'name', message: 'Enter a name for the group' })
    if (problems.length) return listPage(req, reply, body, problems)
    try {
      const created = await db.transaction().execute((trx) =>
        createGroup(trx, user, {
          deliveryPartnerId: partnerId,
          courseIdentifier,
          cohort,
          name: text(body.name),
          facilitatorUserId: text(body.facilitator) || null,
        }),
      )
      return reply.redirect(`${base}?added=${created.id}`, 303)
    } catch (error) {
      if (error instanceof AppError && error.code === 'validation-failed') {
        return listPage(req, reply, body, error.fieldErrors.length ? error.fieldErrors : [{ field: 'name', message: error.message }])
      }
      throw error
    }
  })

  /** The group, if it is one of this lead's partners' groups (else not found: no hint it exists). */
  async function groupFor(req: FastifyRequest<{ Params: { id: string } }>) {
    const { user, partnerIds } = leadOf(req)
    const group = await loadGroup(db, req.params.id)
    if (!group || !partnerIds.includes(group.deliveryPartnerId)) throw notFound('Group')
    return { user, group }
  }

  async function groupPage(
    req: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    values: Body = {},
    errors: FieldError[] = [],
  ) {
    const { group } = await groupFor(req)
    const moved = text((req.query as { moved?: string }).moved)
    const movedMember = moved
      ? await db
          .selectFrom('group_memberships as m')
          .innerJoin('participant_groups as g', 'g.id', 'm.group_id')
          .innerJoin('enrolments as e', 'e.id', 'm.enrolment_id')
          .innerJoin('participants as p', 'p.id', 'e.participant_id')
          .select(['p.full_name', 'g.name', 'g.delivery_partner_id'])
          .where('m.enrolment_id', '=', /^[0-9a-f-]{36}$/i.test(moved) ? moved : '00000000-0000-0000-0000-000000000000')
          .executeTakeFirst()
      : undefined
    const movable = group.members.filter((m) => ['accepted', 'active', 'deferred'].includes(m.status))
    return reply.render(
      view('group'),
      {
        title: `${group.name}, ${group.courseName} ${group.cohort}`,
        group,
        done:
          movedMember && movedMember.delivery_partner_id === group.deliveryPartnerId
            ? `${movedMember.full_name} is moved to ${movedMember.name}.`
            : null,
        memberItems: [
          { value: '', text: 'Choose a participant' },
          ...movable.map((m) => ({ value: m.enrolmentId, text: m.fullName, selected: m.enrolmentId === values.enrolment })),
        ],
        groupItems: [
          { value: '', text: 'Choose a group' },
          ...group.otherGroups.map((g) => ({
            value: g.id,
            text: `${g.name} (${g.members} member${g.members === 1 ? '' : 's'})`,
            selected: g.id === values.group,
          })),
        ],
        canMove: movable.length > 0 && group.otherGroups.length > 0,
        values,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string } }>(`${base}/:id`, { config: { access: 'signed-in' } }, (req, reply) => groupPage(req, reply))

  app.post<{ Params: { id: string }; Body: Body }>(`${base}/:id/move`, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { user, group } = await groupFor(req)
    const body = req.body ?? {}
    const enrolmentId = text(body.enrolment)
    const groupId = text(body.group)
    const problems: FieldError[] = []
    if (!group.members.some((m) => m.enrolmentId === enrolmentId)) {
      problems.push({ field: 'enrolment', message: `Choose a participant in ${group.name} to move` })
    }
    if (!group.otherGroups.some((g) => g.id === groupId)) problems.push({ field: 'group', message: 'Choose the group to move them to' })
    if (problems.length) return groupPage(req, reply, body, problems)
    try {
      await db.transaction().execute((trx) => moveToGroup(trx, user, enrolmentId, groupId))
      return reply.redirect(`${base}/${group.id}?moved=${enrolmentId}`, 303)
    } catch (error) {
      if (error instanceof AppError && error.code === 'validation-failed') {
        return groupPage(req, reply, body, error.fieldErrors.length ? error.fieldErrors : [{ field: 'group', message: error.message }])
      }
      throw error
    }
  })

  // ---- Lead provider: their delivery partners' groups, read-only ----

  app.get('/lead-provider/groups', { config: { access: 'signed-in' } }, async (req, reply) => {
    const p = req.principal
    const leadProviderIds = p ? organisationsWithRole(p, 'lead-provider-admin') : []
    if (!leadProviderIds.length) throw forbidden()
    const partners = await db
      .selectFrom('delivery_partnerships')
      .select('delivery_partner_id')
      .distinct()
      .where('lead_provider_id', 'in', leadProviderIds)
      .execute()
    const groups = await listGroups(
      db,
      partners.map((r) => r.delivery_partner_id),
    )
    const byPartner: { name: string; sections: ReturnType<typeof sectionsOf> }[] = []
    for (const section of sectionsOf(groups)) {
      const last = byPartner.at(-1)
      if (last?.name === section.partnerName) last.sections.push(section)
      else byPartner.push({ name: section.partnerName, sections: [section] })
    }
    return reply.render(view('lead-provider'), { title: 'Delivery partners’ groups', byPartner })
  })
}
