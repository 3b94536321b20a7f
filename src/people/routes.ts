import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { formatDate } from '../escalations/cases.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { dateFromParts } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { renderMarkdown } from '../web/markdown.ts'
import { describeChange, domainsOf, movement, ratingLabels, readRatings } from './domains.ts'
import {
  addAudit,
  addObservation,
  auditsOf,
  changeMember,
  concernsFor,
  contactsForParticipant,
  createGroup,
  dslOrganisations,
  facilitatorRecord,
  facilitatorsOf,
  groupsOfParticipant,
  groupsOfPartner,
  journalEntry,
  journalOf,
  loadConcern,
  loadGroup,
  localGroupsOf,
  ownEnrolments,
  participantsOfPartner,
  programmesOfPartner,
  partnerContacts,
  programmeContacts,
  progressConcern,
  raiseConcern,
  saveJournalEntry,
  saveProgrammeContacts,
  setPartnerContact,
  setSafeguardingLeads,
  safeguardingLeadsOf,
  staffOf,
  type Contact,
  type OwnEnrolment,
} from './people.ts'
import { groupKindHints, groupKindLabels, isEmail, isGroupKind, isPhone } from './rules.ts'
import { observationRatings, peopleGroupKinds, type ObservationRating } from './schema.ts'

// Issue 9, people: the participant's learning audit (/participant/learning-audit) and private journal
// (/participant/journal); their groups and contacts (/participant/people, /participant/contacts) and a
// confidential safeguarding concern (/participant/safeguarding/new), read only by the designated
// safeguarding leads (/safeguarding/concerns). Delivery partners' leads manage buddies, clinic groups,
// communities and peer learning groups (/delivery-partner/people), their contacts and DSLs, and their
// facilitators' records (/delivery-partner/facilitators); lead-provider admins set the programme and
// technical help contacts and their DSLs (/lead-provider/contacts).

type User = Principal & { kind: 'user' }
type Body = Record<string, unknown>

const text = (v: unknown) => (typeof v === 'string' ? v : '').trim()
const list = (v: unknown): string[] =>
  (Array.isArray(v) ? v : v === undefined || v === null || v === '' ? [] : [v]).map((x) => text(x)).filter(Boolean)
const view = (name: string) => `people/views/${name}.njk`
const isId = (id: string) => /^[0-9a-f-]{36}$/i.test(id)
const courseName = (id: string) => findCourse(id)?.name ?? id
const todayParts = (today: string) => {
  const [year, month, day] = today.split('-')
  return { day: String(Number(day)), month: String(Number(month)), year: year! }
}
const partsOf = (iso: string) => todayParts(iso)

const MAX_TITLE = 200
const MAX_JOURNAL = 20000
const MAX_TEXT = 5000

export const ratingTexts: Record<ObservationRating, string> = {
  excellent: 'Excellent',
  good: 'Good',
  'requires-improvement': 'Requires improvement',
  inadequate: 'Inadequate',
}

/** The validation errors an AppError carries, or rethrows anything else. */
function fieldErrorsOf(error: unknown): FieldError[] {
  if (error instanceof AppError && error.code === 'validation-failed' && error.fieldErrors.length) return error.fieldErrors
  throw error
}

export function registerPeopleRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  const userOf = (req: FastifyRequest): User => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    return p
  }

  /** The participant's own enrolment, or not found. */
  async function ownEnrolment(user: User, enrolmentId: string): Promise<OwnEnrolment> {
    const e = isId(enrolmentId) ? (await ownEnrolments(db, user.userId)).find((x) => x.id === enrolmentId) : undefined
    if (!e) throw notFound('Course')
    return e
  }

  /** The delivery partner a lead works for (the one asked for, if they lead several). */
  const partnerOf = (req: FastifyRequest): { id: string; name: string; all: string[]; others: { id: string; name: string }[] } => {
    const user = userOf(req)
    const all = organisationsWithRole(user, 'delivery-partner-lead')
    if (!all.length) throw forbidden()
    // Which one: ?partner= on links, a hidden `partner` field on forms.
    const asked = text((req.query as Record<string, unknown>)?.partner) || text((req.body as Record<string, unknown> | undefined)?.partner)
    const id = all.includes(asked) ? asked : all[0]!
    const nameOf = (orgId: string) => user.roles.find((r) => r.organisationId === orgId)?.organisationName ?? ''
    return { id, name: nameOf(id), all, others: all.filter((o) => o !== id).map((o) => ({ id: o, name: nameOf(o) })) }
  }
  const leadProviderOf = (req: FastifyRequest): { id: string; name: string } => {
    const user = userOf(req)
    const all = organisationsWithRole(user, 'lead-provider-admin')
    if (!all.length) throw forbidden()
    const asked =
      text((req.query as Record<string, unknown>)?.provider) || text((req.body as Record<string, unknown> | undefined)?.provider)
    const id = all.includes(asked) ? asked : all[0]!
    return { id, name: user.roles.find((r) => r.organisationId === id)?.organisationName ?? '' }
  }

  // ==== Learning audit ====

  app.get('/participant/learning-audit', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const enrolments = await ownEnrolments(db, user.userId)
    const courses = await Promise.all(
      enrolments.map(async (e) => {
        const domains = domainsOf(e.courseIdentifier)
        const audits = await auditsOf(db, e.id)
        const moves = movement(domains, audits)
        return {
          ...e,
          domains,
          audits: audits.map((a, i) => ({ ...a, label: i === 0 ? 'Start' : `Audit ${i + 1}`, on: formatDate(a.takenOn) })),
          rows: moves.map((m) => ({ ...m, changeText: describeChange(m.change) })),
          chart: audits.length ? chartOf(moves) : null,
          href: `/participant/learning-audit/${e.id}/new`,
        }
      }),
    )
    const saved = (req.query as Record<string, string | undefined>).saved
    return reply.render(view('audit-index'), { title: 'Learning audit', courses, saved })
  })

  const auditForm = (reply: FastifyReply, e: OwnEnrolment, values: Record<string, string>, errors: FieldError[] = [], first = true) =>
    reply.render(
      view('audit-form'),
      {
        title: first ? `Your learning audit: ${e.courseName}` : `Take your learning audit again: ${e.courseName}`,
        e,
        back: '/participant/learning-audit',
        action: `/participant/learning-audit/${e.id}`,
        domains: domainsOf(e.courseIdentifier).map((d) => ({
          ...d,
          items: [1, 2, 3, 4, 5].map((n) => ({
            value: String(n),
            text: ratingLabels[n],
            checked: values[`rating-${d.key}`] === String(n),
          })),
        })),
        values,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )

  app.get<{ Params: { id: string } }>('/participant/learning-audit/:id/new', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const e = await ownEnrolment(user, req.params.id)
    if (!domainsOf(e.courseIdentifier).length) throw notFound('Learning audit')
    const previous = await auditsOf(db, e.id)
    return auditForm(reply, e, {}, [], previous.length === 0)
  })

  app.post<{ Params: { id: string }; Body: Body }>(
    '/participant/learning-audit/:id',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const e = await ownEnrolment(user, req.params.id)
      const domains = domainsOf(e.courseIdentifier)
      if (!domains.length) throw notFound('Learning audit')
      const body = req.body ?? {}
      const values = Object.fromEntries(Object.entries(body).map(([k, v]) => [k, text(v)]))
      const result = readRatings(domains, body)
      const note = text(body.note)
      const errors: FieldError[] = result.ok
        ? []
        : result.missing.map((d) => ({ field: `rating-${d.key}`, message: `Select how confident you are in ${d.name.toLowerCase()}` }))
      if (note.length > MAX_TEXT)
        errors.push({ field: 'note', message: `Your note must be ${MAX_TEXT.toLocaleString('en-GB')} characters or fewer` })
      const first = (await auditsOf(db, e.id)).length === 0
      if (errors.length || !result.ok) return auditForm(reply, e, values, errors, first)
      await addAudit(db, user, e.id, { takenOn: londonDateOf(new Date()), ratings: result.ratings, note })
      return reply.redirect(`/participant/learning-audit?saved=${e.id}#course-${e.id}`, 303)
    },
  )

  // ==== Personal learning journal ====

  app.get('/participant/journal', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const [entries, enrolments] = await Promise.all([journalOf(db, user.userId), ownEnrolments(db, user.userId)])
    const saved = (req.query as Record<string, string | undefined>).saved
    return reply.render(view('journal-index'), {
      title: 'Your learning journal',
      saved,
      entries: entries.map((en) => ({
        ...en,
        on: formatDate(en.entryOn),
        course: enrolments.find((e) => e.id === en.enrolmentId)?.courseName ?? null,
        html: renderMarkdown(en.body),
      })),
    })
  })

  /** What an entry can be about: one of the participant's courses, or one block of its design. */
  async function journalTopics(user: User) {
    const enrolments = await ownEnrolments(db, user.userId)
    const topics: { value: string; text: string; enrolmentId: string; block: string | null }[] = []
    for (const e of enrolments) {
      topics.push({ value: e.id, text: `${e.courseName}, ${e.cohort}`, enrolmentId: e.id, block: null })
      const design = await services.designs.designForCohort(e.leadProviderCode, e.courseIdentifier, e.cohort)
      for (const b of design?.blocks ?? []) {
        const block = `Block ${b.block}${b.title ? `: ${b.title}` : ''}`
        topics.push({ value: `${e.id}|${b.block}`, text: `${e.courseName}, ${e.cohort} – ${block}`, enrolmentId: e.id, block })
      }
    }
    return topics
  }

  async function journalForm(
    reply: FastifyReply,
    user: User,
    values: Record<string, string> & { entryOn?: { day?: string; month?: string; year?: string } },
    errors: FieldError[] = [],
    entryId?: string,
  ) {
    const topics = await journalTopics(user)
    return reply.render(
      view('journal-form'),
      {
        title: entryId ? 'Edit journal entry' : 'New journal entry',
        back: '/participant/journal',
        action: entryId ? `/participant/journal/${entryId}` : '/participant/journal',
        values,
        topicItems: [
          { value: '', text: 'Not about one course' },
          ...topics.map((t) => ({ value: t.value, text: t.text, selected: values.topic === t.value })),
        ],
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  /** The topic value of a saved entry (its course, or its course and block). */
  async function topicOf(user: User, entry: { enrolmentId: string | null; block: string | null }) {
    if (!entry.enrolmentId) return ''
    const topics = await journalTopics(user)
    return topics.find((t) => t.enrolmentId === entry.enrolmentId && t.block === entry.block)?.value ?? entry.enrolmentId
  }

  async function readJournal(user: User, body: Body) {
    const values = {
      title: text(body.title),
      body: text(body.body),
      topic: text(body.topic),
      entryOn: { day: text(body['entryOn-day']), month: text(body['entryOn-month']), year: text(body['entryOn-year']) },
    }
    const errors: FieldError[] = []
    const entryOn = dateFromParts(values.entryOn.day, values.entryOn.month, values.entryOn.year)
    if (!entryOn) errors.push({ field: 'entryOn-day', message: 'Enter the date of the entry as a real date, for example 5 11 2026' })
    else if (entryOn > londonDateOf(new Date()))
      errors.push({ field: 'entryOn-day', message: 'The date of the entry must be today or in the past' })
    if (!values.title) errors.push({ field: 'title', message: 'Enter a title' })
    else if (values.title.length > MAX_TITLE) errors.push({ field: 'title', message: `The title must be ${MAX_TITLE} characters or fewer` })
    if (!values.body) errors.push({ field: 'body', message: 'Enter your reflection' })
    else if (values.body.length > MAX_JOURNAL)
      errors.push({ field: 'body', message: `Your reflection must be ${MAX_JOURNAL.toLocaleString('en-GB')} characters or fewer` })
    const topic = values.topic ? (await journalTopics(user)).find((t) => t.value === values.topic) : undefined
    if (values.topic && !topic) errors.push({ field: 'topic', message: 'Select one of your courses or blocks, or not about one course' })
    return {
      values,
      errors,
      input: {
        entryOn: entryOn ?? '',
        title: values.title,
        body: values.body,
        enrolmentId: topic?.enrolmentId ?? null,
        block: topic?.block ?? null,
      },
    }
  }

  app.get('/participant/journal/new', { config: { access: 'signed-in' } }, async (req, reply) =>
    journalForm(reply, userOf(req), { entryOn: todayParts(londonDateOf(new Date())) } as never),
  )

  app.post<{ Body: Body }>('/participant/journal', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const { values, errors, input } = await readJournal(user, req.body ?? {})
    if (errors.length) return journalForm(reply, user, values as never, errors)
    const id = await saveJournalEntry(db, user, input)
    return reply.redirect(`/participant/journal?saved=${id}`, 303)
  })

  /** Only the participant who wrote it: anyone else is told it does not exist. */
  async function ownJournalEntry(user: User, id: string) {
    const entry = isId(id) ? await journalEntry(db, user.userId, id) : undefined
    if (!entry) throw notFound('Journal entry')
    return entry
  }

  app.get<{ Params: { id: string } }>('/participant/journal/:id', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const entry = await ownJournalEntry(user, req.params.id)
    return journalForm(
      reply,
      user,
      {
        title: entry.title,
        body: entry.body,
        topic: await topicOf(user, entry),
        entryOn: partsOf(entry.entryOn),
      } as never,
      [],
      entry.id,
    )
  })

  app.post<{ Params: { id: string }; Body: Body }>('/participant/journal/:id', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const entry = await ownJournalEntry(user, req.params.id)
    const { values, errors, input } = await readJournal(user, req.body ?? {})
    if (errors.length) return journalForm(reply, user, values as never, errors, entry.id)
    await saveJournalEntry(db, user, input, entry.id)
    return reply.redirect(`/participant/journal?saved=${entry.id}`, 303)
  })

  // ==== The participant's people and contacts ====

  // One page for the participant's people: their groups, their contacts and how to raise a concern.
  app.get('/participant/people', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const [groups, localGroups, contacts] = await Promise.all([
      groupsOfParticipant(db, user.userId),
      localGroupsOf(db, user.userId),
      contactsForParticipant(db, user.userId),
    ])
    const leads = [...new Set(contacts.flatMap((c) => c.safeguardingLeads.map((d) => `${d.fullName} (${d.organisationName})`)))]
    return reply.render(view('participant-people'), {
      title: 'People and contacts',
      localGroups,
      groups: groups.map((g) => ({
        ...g,
        kindText: groupKindLabels[g.kind],
        hint: groupKindHints[g.kind],
        others: g.members.filter((m) => m.email !== user.email),
      })),
      contacts,
      leads,
    })
  })

  app.get('/participant/contacts', { config: { access: 'signed-in' } }, async (_req, reply) =>
    reply.redirect('/participant/people#contacts', 303),
  )

  // ==== Safeguarding concerns ====

  const programmeKey = (e: { leadProviderId: string; deliveryPartnerId: string | null }) =>
    `${e.leadProviderId}:${e.deliveryPartnerId ?? ''}`
  const programmesOf = (enrolments: OwnEnrolment[]) => {
    const out = new Map<string, { value: string; text: string }>()
    for (const e of enrolments)
      out.set(programmeKey(e), {
        value: programmeKey(e),
        text: `${e.leadProviderName}${e.deliveryPartnerName ? ` with ${e.deliveryPartnerName}` : ''}`,
      })
    return [...out.values()]
  }

  async function concernForm(reply: FastifyReply, user: User, values: Record<string, string>, errors: FieldError[] = []) {
    const programmes = programmesOf(await ownEnrolments(db, user.userId))
    return reply.render(
      view('concern-form'),
      {
        title: 'Raise a safeguarding concern',
        back: '/participant/people#safeguarding',
        values,
        programmeItems: programmes.length > 1 ? programmes.map((p) => ({ ...p, checked: values.programme === p.value })) : null,
        onlyProgramme: programmes.length === 1 ? programmes[0] : null,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get('/participant/safeguarding/new', { config: { access: 'signed-in' } }, async (req, reply) => concernForm(reply, userOf(req), {}))

  app.post<{ Body: Body }>('/participant/safeguarding', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const body = req.body ?? {}
    const values = {
      programme: text(body.programme),
      concern: text(body.concern),
      immediateRisk: text(body.immediateRisk),
      contactBy: text(body.contactBy),
      phone: text(body.phone),
    }
    const programmes = programmesOf(await ownEnrolments(db, user.userId))
    if (programmes.length === 1) values.programme = programmes[0]!.value
    const errors: FieldError[] = []
    if (!programmes.some((p) => p.value === values.programme))
      errors.push({ field: 'programme', message: 'Select the programme your concern is about' })
    if (!values.concern) errors.push({ field: 'concern', message: 'Enter your concern' })
    else if (values.concern.length > MAX_JOURNAL)
      errors.push({ field: 'concern', message: `Your concern must be ${MAX_JOURNAL.toLocaleString('en-GB')} characters or fewer` })
    if (!['yes', 'no'].includes(values.immediateRisk))
      errors.push({ field: 'immediateRisk', message: 'Select yes if you think anyone is at immediate risk of harm' })
    if (!['email', 'phone'].includes(values.contactBy))
      errors.push({ field: 'contactBy', message: 'Select how the safeguarding lead should contact you' })
    else if (values.contactBy === 'phone' && !isPhone(values.phone))
      errors.push({ field: 'phone', message: 'Enter a phone number, like 01632 960 001 or 07700 900 982' })
    if (errors.length) return concernForm(reply, user, values, errors)
    const [leadProviderId, deliveryPartnerId] = values.programme.split(':') as [string, string]
    try {
      await raiseConcern(services, user, {
        leadProviderId,
        deliveryPartnerId: deliveryPartnerId || null,
        concern: values.concern,
        immediateRisk: values.immediateRisk === 'yes',
        contactBy: values.contactBy as 'email' | 'phone',
        phone: values.contactBy === 'phone' ? values.phone : '',
      })
    } catch (error) {
      return concernForm(reply, user, values, fieldErrorsOf(error))
    }
    return reply.redirect(`/participant/safeguarding/sent${values.immediateRisk === 'yes' ? '?urgent=1' : ''}`, 303)
  })

  app.get('/participant/safeguarding/sent', { config: { access: 'signed-in' } }, async (req, reply) => {
    userOf(req)
    return reply.render(view('concern-sent'), {
      title: 'Safeguarding concern sent',
      urgent: (req.query as Record<string, string | undefined>).urgent === '1',
    })
  })

  // The DSL's pages: only concerns raised with an organisation that named them.
  const concernList = async (req: FastifyRequest, reply: FastifyReply) => {
    const user = userOf(req)
    if (!(await dslOrganisations(db, user.userId)).length) throw forbidden()
    const concerns = await concernsFor(db, user.userId)
    return reply.render(view('concerns'), {
      title: 'Safeguarding concerns',
      concerns: concerns.map((c) => ({ ...c, on: formatDate(londonDateOf(new Date(c.raisedAt))) })),
    })
  }
  app.get('/safeguarding/concerns', { config: { access: 'signed-in' } }, concernList)
  // The same list inside each staff area, for its menu (a DSL may be a lead, an admin or a facilitator).
  for (const area of ['delivery-partner', 'lead-provider', 'facilitator'])
    app.get(`/${area}/safeguarding`, { config: { access: 'signed-in' } }, concernList)

  const concernPage = async (
    req: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    errors: FieldError[] = [],
    values: Record<string, string> = {},
  ) => {
    const user = userOf(req)
    const concern = isId(req.params.id) ? await loadConcern(db, user.userId, req.params.id) : undefined
    if (!concern) throw notFound('Concern')
    const when = (d: Date | string | null) => (d ? formatDate(londonDateOf(new Date(d))) : null)
    return reply.render(
      view('concern'),
      {
        title: 'Safeguarding concern',
        back: '/safeguarding/concerns',
        concern: { ...concern, on: when(concern.raisedAt), acknowledgedOn: when(concern.acknowledgedAt), closedOn: when(concern.closedAt) },
        concernHtml: renderMarkdown(concern.concern),
        values,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string } }>('/safeguarding/concerns/:id', { config: { access: 'signed-in' } }, (req, reply) =>
    concernPage(req, reply),
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    '/safeguarding/concerns/:id',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const step = text(req.body?.step)
      const outcome = text(req.body?.outcome)
      if (step === 'close' && !outcome)
        return concernPage(req, reply, [{ field: 'outcome', message: 'Enter what was done before closing the concern' }], { outcome })
      if (outcome.length > MAX_TEXT)
        return concernPage(
          req,
          reply,
          [{ field: 'outcome', message: `What was done must be ${MAX_TEXT.toLocaleString('en-GB')} characters or fewer` }],
          { outcome },
        )
      if (!isId(req.params.id) || !(await loadConcern(db, user.userId, req.params.id))) throw notFound('Concern')
      await progressConcern(db, user, req.params.id, step === 'close' ? 'close' : 'acknowledge', outcome)
      return reply.redirect(`/safeguarding/concerns/${req.params.id}`, 303)
    },
  )

  // ==== Delivery partner: people groups ====

  app.get('/delivery-partner/people', { config: { access: 'signed-in' } }, async (req, reply) => {
    const partner = partnerOf(req)
    const groups = await groupsOfPartner(db, [partner.id])
    const saved = (req.query as Record<string, string | undefined>).saved
    return reply.render(view('partner-people'), {
      title: 'Buddies and groups',
      partner,
      saved,
      kinds: peopleGroupKinds.map((kind) => ({
        kind,
        text: groupKindLabels[kind],
        hint: groupKindHints[kind],
        groups: groups.filter((g) => g.kind === kind),
      })),
    })
  })

  // Creating a group takes two steps: the course and cohort first (a GET form), then the group with
  // that programme's participants to choose from. A group across courses gets its members on its page.
  async function groupForm(
    reply: FastifyReply,
    partner: { id: string; name: string },
    values: { kind?: string; name?: string; course?: string; description?: string; members?: string[] },
    errors: FieldError[] = [],
  ) {
    const programmes = await programmesOfPartner(db, partner.id)
    const chosen = values.course
      ? programmes.find((p) => `${p.courseIdentifier}|${p.cohort}` === values.course)
      : values.course === ''
        ? null
        : undefined
    const courseItems = [
      { value: 'any', text: 'Any course' },
      ...programmes.map((p) => {
        const value = `${p.courseIdentifier}|${p.cohort}`
        return { value, text: `${p.courseName}, ${p.cohort}`, selected: values.course === value }
      }),
    ]
    // Step 1: no course chosen yet, or one this partner has nobody on.
    if (chosen === undefined)
      return reply.render(
        view('group-course'),
        {
          title: 'Create a group',
          back: `/delivery-partner/people?partner=${partner.id}`,
          partner,
          kind: values.kind ?? '',
          courseItems,
          ...formErrors(
            values.course ? [{ field: 'course', message: 'Select a course and cohort your participants are on, or any course' }] : [],
          ),
        },
        values.course ? 400 : 200,
      )
    const participants = chosen ? await participantsOfPartner(db, partner.id, chosen) : []
    const members = values.members ?? []
    return reply.render(
      view('group-form'),
      {
        title: 'Create a group',
        back: `/delivery-partner/people/groups/new?partner=${partner.id}`,
        partner,
        values,
        course: chosen ? { value: `${chosen.courseIdentifier}|${chosen.cohort}`, text: `${chosen.courseName}, ${chosen.cohort}` } : null,
        kindItems: peopleGroupKinds.map((k) => ({
          value: k,
          text: groupKindLabels[k],
          hint: { text: groupKindHints[k] },
          checked: values.kind === k,
        })),
        memberItems: participants.map((p) => ({
          value: p.enrolmentId,
          text: p.fullName,
          hint: { text: `${p.courseName}, ${p.cohort}` },
          checked: members.includes(p.enrolmentId),
        })),
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get('/delivery-partner/people/groups/new', { config: { access: 'signed-in' } }, async (req, reply) => {
    const query = (req.query as Record<string, unknown>) ?? {}
    const kind = text(query.kind)
    const course = text(query.course)
    // `course` absent: step 1; `any`: a group across courses; otherwise a course and cohort.
    return groupForm(reply, partnerOf(req), { kind, course: course === 'any' ? '' : course || undefined })
  })

  app.post<{ Body: Body }>('/delivery-partner/people/groups', { config: { access: 'signed-in' } }, async (req, reply) => {
    const partner = partnerOf(req)
    const user = userOf(req)
    const body = req.body ?? {}
    const values = {
      kind: text(body.kind),
      name: text(body.name),
      course: text(body.course) === 'any' ? '' : text(body.course),
      description: text(body.description),
      members: list(body.members),
    }
    const errors: FieldError[] = []
    if (!isGroupKind(values.kind)) errors.push({ field: 'kind', message: 'Select the kind of group' })
    if (!values.name) errors.push({ field: 'name', message: 'Enter a name for the group' })
    else if (values.name.length > 100) errors.push({ field: 'name', message: 'The name must be 100 characters or fewer' })
    if (values.description.length > 1000)
      errors.push({ field: 'description', message: 'The description must be 1,000 characters or fewer' })
    const [courseIdentifier, cohort] = values.course ? values.course.split('|') : [null, null]
    if (values.course && (!courseIdentifier || !cohort || !findCourse(courseIdentifier)))
      errors.push({ field: 'course', message: 'Select a course and cohort, or any course' })
    if (errors.length) return groupForm(reply, partner, values, errors)
    try {
      await createGroup(
        db,
        user,
        partner.id,
        {
          kind: values.kind as never,
          name: values.name,
          courseIdentifier: courseIdentifier ?? null,
          cohort: cohort ?? null,
          description: values.description,
        },
        values.members,
      )
    } catch (error) {
      return groupForm(reply, partner, values, fieldErrorsOf(error))
    }
    return reply.redirect(`/delivery-partner/people?partner=${partner.id}&saved=group`, 303)
  })

  async function groupPage(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, errors: FieldError[] = []) {
    const partner = partnerOf(req)
    const group = isId(req.params.id) ? await loadGroup(db, partner.all, req.params.id) : undefined
    if (!group) throw notFound('Group')
    const participants = await participantsOfPartner(
      db,
      group.deliveryPartnerId,
      group.courseIdentifier && group.cohort ? { courseIdentifier: group.courseIdentifier, cohort: group.cohort } : undefined,
    )
    const candidates = participants.filter(
      (p) =>
        !group.members.some((m) => m.enrolmentId === p.enrolmentId) &&
        (!group.courseIdentifier || p.courseIdentifier === group.courseIdentifier) &&
        (!group.cohort || p.cohort === group.cohort),
    )
    return reply.render(
      view('group'),
      {
        title: group.name,
        back: '/delivery-partner/people',
        group: { ...group, kindText: groupKindLabels[group.kind] },
        candidateItems: [
          { value: '', text: 'Select a participant' },
          ...candidates.map((p) => ({ value: p.enrolmentId, text: `${p.fullName} (${p.courseName}, ${p.cohort})` })),
        ],
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string } }>('/delivery-partner/people/groups/:id', { config: { access: 'signed-in' } }, (req, reply) =>
    groupPage(req, reply),
  )

  app.post<{ Params: { id: string }; Body: Body }>(
    '/delivery-partner/people/groups/:id/members',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const partner = partnerOf(req)
      const user = userOf(req)
      const remove = text(req.body?.remove)
      const add = text(req.body?.member)
      if (!remove && !add) return groupPage(req, reply, [{ field: 'member', message: 'Select a participant to add' }])
      if (!isId(req.params.id)) throw notFound('Group')
      try {
        await changeMember(db, user, partner.all, req.params.id, remove || add, remove ? 'remove' : 'add')
      } catch (error) {
        return groupPage(req, reply, fieldErrorsOf(error))
      }
      return reply.redirect(`/delivery-partner/people/groups/${req.params.id}`, 303)
    },
  )

  // ==== Delivery partner: contacts and DSLs ====

  async function partnerContactsPage(req: FastifyRequest, reply: FastifyReply, errors: FieldError[] = []) {
    const partner = partnerOf(req)
    const [staff, contacts, dsls, participants] = await Promise.all([
      staffOf(db, partner.id),
      partnerContacts(db, partner.id),
      safeguardingLeadsOf(db, [partner.id]),
      participantsOfPartner(db, partner.id),
    ])
    const courses = ['', ...new Set(participants.map((p) => p.courseIdentifier))]
    return reply.render(
      view('partner-contacts'),
      {
        title: 'Contacts and safeguarding leads',
        back: '/delivery-partner/people',
        partner,
        courses: courses.map((course) => {
          const current = contacts.find((c) => c.courseIdentifier === course)
          return {
            course,
            id: `contact-${course || 'all'}`,
            label: course ? courseName(course) : 'Every course (unless a course has its own contact)',
            current,
            items: [
              { value: '', text: 'No named contact' },
              ...staff.map((s) => ({ value: s.userId, text: `${s.fullName} (${s.email})`, selected: current?.userId === s.userId })),
            ],
          }
        }),
        dslItems: staff.map((s) => ({
          value: s.userId,
          text: s.fullName,
          hint: { text: s.email },
          checked: dsls.some((d) => d.userId === s.userId),
        })),
        saved: (req.query as Record<string, string | undefined>).saved,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get('/delivery-partner/people/contacts', { config: { access: 'signed-in' } }, (req, reply) => partnerContactsPage(req, reply))

  app.post<{ Body: Body }>('/delivery-partner/people/contacts', { config: { access: 'signed-in' } }, async (req, reply) => {
    const partner = partnerOf(req)
    const user = userOf(req)
    const body = req.body ?? {}
    try {
      if (text(body.form) === 'dsl') {
        await setSafeguardingLeads(db, user, partner.id, list(body.dsl))
      } else {
        const course = text(body.course)
        if (course && !findCourse(course)) throw notFound('Course')
        await setPartnerContact(db, user, partner.id, course, text(body.contact) || null)
      }
    } catch (error) {
      // Each course has its own contact select: point the error at the one that was sent.
      const select = `contact-${text(body.course) || 'all'}`
      return partnerContactsPage(
        req,
        reply,
        fieldErrorsOf(error).map((e) => (e.field === 'contact' ? { ...e, field: select } : e)),
      )
    }
    return reply.redirect(`/delivery-partner/people/contacts?partner=${partner.id}&saved=1`, 303)
  })

  // ==== Delivery partner: facilitators' records ====

  app.get('/delivery-partner/facilitators', { config: { access: 'signed-in' } }, async (req, reply) => {
    const partner = partnerOf(req)
    const facilitators = await facilitatorsOf(db, partner.id)
    return reply.render(view('facilitators'), {
      title: 'Facilitators',
      partner,
      facilitators: facilitators.map((f) => ({ ...f, latest: f.latestObservation ? formatDate(f.latestObservation) : 'None yet' })),
    })
  })

  async function recordOf(req: FastifyRequest<{ Params: { userId: string } }>) {
    const partner = partnerOf(req)
    const record = isId(req.params.userId) ? await facilitatorRecord(db, partner.id, req.params.userId) : undefined
    if (!record) throw notFound('Facilitator')
    return { partner, record }
  }

  app.get<{ Params: { userId: string } }>(
    '/delivery-partner/facilitators/:userId',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { partner, record } = await recordOf(req)
      const when = (d: Date | string) => `${formatDate(londonDateOf(new Date(d)))}`
      return reply.render(view('facilitator'), {
        title: record.fullName,
        back: '/delivery-partner/facilitators',
        partner,
        record: {
          ...record,
          events: record.events.map((e) => ({ ...e, on: when(e.startsAt) })),
          observations: record.observations.map((o) => ({
            ...o,
            on: formatDate(o.observedOn),
            ratingText: ratingTexts[o.rating],
            what: o.eventTitle ?? o.session,
          })),
        },
        saved: (req.query as Record<string, string | undefined>).saved,
      })
    },
  )

  async function observationForm(
    reply: FastifyReply,
    partner: { id: string; name: string },
    record: NonNullable<Awaited<ReturnType<typeof facilitatorRecord>>>,
    values: Record<string, string> & { observedOn?: object },
    errors: FieldError[] = [],
  ) {
    return reply.render(
      view('observation-form'),
      {
        title: `Add a quality assurance observation: ${record.fullName}`,
        back: `/delivery-partner/facilitators/${record.userId}`,
        action: `/delivery-partner/facilitators/${record.userId}/observations`,
        partner,
        values,
        eventItems: [
          { value: '', text: 'Not one of their events on the platform' },
          ...record.events.map((e) => ({
            value: e.id,
            text: `${e.title ?? e.kind} (${formatDate(londonDateOf(new Date(e.startsAt)))})`,
            selected: values.event === e.id,
          })),
        ],
        ratingItems: observationRatings.map((r) => ({ value: r, text: ratingTexts[r], checked: values.rating === r })),
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: { userId: string } }>(
    '/delivery-partner/facilitators/:userId/observations/new',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { partner, record } = await recordOf(req)
      return observationForm(reply, partner, record, {
        observer: userOf(req).fullName,
        observedOn: todayParts(londonDateOf(new Date())),
      } as never)
    },
  )

  app.post<{ Params: { userId: string }; Body: Body }>(
    '/delivery-partner/facilitators/:userId/observations',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const { partner, record } = await recordOf(req)
      const body = req.body ?? {}
      const values = {
        event: text(body.event),
        session: text(body.session),
        observer: text(body.observer),
        strengths: text(body.strengths),
        areasToDevelop: text(body.areasToDevelop),
        rating: text(body.rating),
        observedOn: { day: text(body['observedOn-day']), month: text(body['observedOn-month']), year: text(body['observedOn-year']) },
      }
      const errors: FieldError[] = []
      const observedOn = dateFromParts(values.observedOn.day, values.observedOn.month, values.observedOn.year)
      if (!observedOn)
        errors.push({ field: 'observedOn-day', message: 'Enter the date of the observation as a real date, for example 5 11 2026' })
      else if (observedOn > londonDateOf(new Date()))
        errors.push({ field: 'observedOn-day', message: 'The date of the observation must be today or in the past' })
      if (values.event && !record.events.some((e) => e.id === values.event))
        errors.push({ field: 'event', message: 'Select one of the events this facilitator runs' })
      if (!values.event && !values.session) errors.push({ field: 'session', message: 'Select the event observed, or describe the session' })
      if (values.session.length > 200) errors.push({ field: 'session', message: 'The session must be 200 characters or fewer' })
      if (!values.observer) errors.push({ field: 'observer', message: 'Enter who observed the session' })
      else if (values.observer.length > 200) errors.push({ field: 'observer', message: 'The observer must be 200 characters or fewer' })
      if (!values.strengths) errors.push({ field: 'strengths', message: 'Enter the strengths observed' })
      else if (values.strengths.length > MAX_TEXT)
        errors.push({ field: 'strengths', message: `Strengths must be ${MAX_TEXT.toLocaleString('en-GB')} characters or fewer` })
      if (!values.areasToDevelop) errors.push({ field: 'areasToDevelop', message: 'Enter the areas to develop' })
      else if (values.areasToDevelop.length > MAX_TEXT)
        errors.push({
          field: 'areasToDevelop',
          message: `Areas to develop must be ${MAX_TEXT.toLocaleString('en-GB')} characters or fewer`,
        })
      if (!(observationRatings as readonly string[]).includes(values.rating)) errors.push({ field: 'rating', message: 'Select a rating' })
      if (errors.length) return observationForm(reply, partner, record, values as never, errors)
      try {
        await addObservation(db, userOf(req), partner.id, record.userId, {
          observedOn: observedOn!,
          eventId: values.event || null,
          session: values.session,
          observer: values.observer,
          strengths: values.strengths,
          areasToDevelop: values.areasToDevelop,
          rating: values.rating as ObservationRating,
        })
      } catch (error) {
        return observationForm(reply, partner, record, values as never, fieldErrorsOf(error))
      }
      return reply.redirect(`/delivery-partner/facilitators/${record.userId}?partner=${partner.id}&saved=observation`, 303)
    },
  )

  // ==== Lead provider: programme and technical help contacts, DSLs ====

  async function leadProviderContactsPage(
    req: FastifyRequest,
    reply: FastifyReply,
    values?: Record<string, string>,
    errors: FieldError[] = [],
  ) {
    const provider = leadProviderOf(req)
    const [current, staff, dsls] = await Promise.all([
      programmeContacts(db, provider.id),
      staffOf(db, provider.id),
      safeguardingLeadsOf(db, [provider.id]),
    ])
    const v = values ?? {
      programmeName: current.programme?.name ?? '',
      programmeEmail: current.programme?.email ?? '',
      programmePhone: current.programme?.phone ?? '',
      technicalName: current.technicalHelp?.name ?? '',
      technicalEmail: current.technicalHelp?.email ?? '',
      technicalPhone: current.technicalHelp?.phone ?? '',
    }
    return reply.render(
      view('provider-contacts'),
      {
        title: 'Programme contacts',
        provider,
        values: v,
        dslItems: staff.map((s) => ({
          value: s.userId,
          text: s.fullName,
          hint: { text: s.email },
          checked: dsls.some((d) => d.userId === s.userId),
        })),
        saved: (req.query as Record<string, string | undefined>).saved,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get('/lead-provider/contacts', { config: { access: 'signed-in' } }, (req, reply) => leadProviderContactsPage(req, reply))

  app.post<{ Body: Body }>('/lead-provider/contacts', { config: { access: 'signed-in' } }, async (req, reply) => {
    const provider = leadProviderOf(req)
    const user = userOf(req)
    const body = req.body ?? {}
    if (text(body.form) === 'dsl') {
      try {
        await setSafeguardingLeads(db, user, provider.id, list(body.dsl))
      } catch (error) {
        return leadProviderContactsPage(req, reply, undefined, fieldErrorsOf(error))
      }
      return reply.redirect(`/lead-provider/contacts?provider=${provider.id}&saved=dsl`, 303)
    }
    const values = Object.fromEntries(
      ['programmeName', 'programmeEmail', 'programmePhone', 'technicalName', 'technicalEmail', 'technicalPhone'].map((k) => [
        k,
        text(body[k]),
      ]),
    ) as Record<string, string>
    const errors: FieldError[] = []
    for (const [prefix, what] of [
      ['programme', 'programme contact'],
      ['technical', 'technical help contact'],
    ] as const) {
      const name = values[`${prefix}Name`]!
      const email = values[`${prefix}Email`]!
      const phone = values[`${prefix}Phone`]!
      if (!name) errors.push({ field: `${prefix}Name`, message: `Enter the name of the ${what}` })
      else if (name.length > 200)
        errors.push({ field: `${prefix}Name`, message: `The name of the ${what} must be 200 characters or fewer` })
      if (!isEmail(email))
        errors.push({ field: `${prefix}Email`, message: `Enter the email address of the ${what}, like name@example.com` })
      if (phone && !isPhone(phone))
        errors.push({ field: `${prefix}Phone`, message: `Enter the phone number of the ${what}, like 01632 960 001, or leave it empty` })
    }
    if (errors.length) return leadProviderContactsPage(req, reply, values, errors)
    const contact = (prefix: string): Contact => ({
      name: values[`${prefix}Name`]!,
      email: values[`${prefix}Email`]!.toLowerCase(),
      phone: values[`${prefix}Phone`]!,
    })
    await saveProgrammeContacts(db, user, provider.id, { programme: contact('programme'), technicalHelp: contact('technical') })
    return reply.redirect(`/lead-provider/contacts?provider=${provider.id}&saved=contacts`, 303)
  })
}

/** A simple bar chart of the first and latest ratings per domain (the table beside it says the same). */
export function chartOf(moves: ReturnType<typeof movement>) {
  const rowHeight = 34
  const labelWidth = 0
  const unit = 60
  return {
    width: Math.max(600, labelWidth + unit * 5 + 40),
    height: moves.length * rowHeight + 10,
    unit,
    rows: moves.map((m, i) => ({
      y: i * rowHeight + 4,
      name: m.domain.name,
      first: m.first ?? 0,
      latest: m.latest ?? 0,
      firstWidth: (m.first ?? 0) * unit,
      latestWidth: (m.latest ?? 0) * unit,
    })),
  }
}
