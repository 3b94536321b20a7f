import type { FastifyInstance, FastifyRequest } from 'fastify'
import { upcomingEvents } from '../calendar/my-events.ts'
import { londonDateOf } from '../dates/london.ts'
import { newsForParticipant } from '../news/news.ts'
import { surveysDue } from '../surveys/surveys.ts'
import { dslOrganisations } from '../people/people.ts'
import { continueLearning } from '../content/content.ts'
import { progressOf, type CourseProgress } from '../progress/progress.ts'
import { assessmentFacts, dueItems, meetingTasks, participantCalendar } from './participant-home.ts'
import { forbidden } from '../errors.ts'
import { welcomeChecklists } from '../onboarding/onboarding.ts'
import { lifecycleNotices } from '../lifecycle/notices.ts'
import { countEnrolments, listEnrolments, type EnrolmentCount } from '../participants/enrolments.ts'
import { loadMeetingEnrolments, meetingOverviews } from '../meetings/meetings.ts'
import { meetingRows } from '../meetings/routes.ts'
import { meetingsPath } from '../meetings/schedule.ts'
import { can } from '../policy/policy.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { roleLabels, roleSlug, type Role } from '../policy/roles.ts'
import type { Services } from '../services.ts'
import { scriptsForAssessor, scriptsForModerator } from '../assessment/marking.ts'

// Each role's home page: what that person works on, scoped to their own organisations.

function requireRole(req: FastifyRequest, role: Role): Principal & { kind: 'user' } {
  const principal = req.principal
  if (!principal || principal.kind !== 'user' || !can(principal, 'view', { type: 'role-home', role })) throw forbidden()
  return principal
}

/** The first live block with something left, on the first active course that has one: where to pick up. */
function continueFrom(progress: CourseProgress[]) {
  for (const c of progress.filter((x) => x.status === 'active')) {
    const block = c.blocks.find((b) => b.live && b.left.length > 0)
    if (block) {
      const next = block.left[0]!
      return {
        courseName: c.courseName,
        blockTitle: block.title,
        title: next.title,
        href: block.href,
      }
    }
  }
  return null
}

function organisationsOf(principal: Principal & { kind: 'user' }, role: Role) {
  return principal.roles.filter((r) => r.role === role)
}

/** A staff Home's participants: per course and cohort (newest first), with each lead provider. */
function programmeRows(counts: EnrolmentCount[]) {
  return counts
    .map((c) => ({ course: c.courseName, cohort: c.cohort, leadProvider: c.leadProvider, total: c.total, active: c.active }))
    .sort((a, b) => (a.cohort < b.cohort ? 1 : a.cohort > b.cohort ? -1 : a.course.localeCompare(b.course)))
}

export function registerHomeRoutes(app: FastifyInstance, services: Services): void {
  const { db, catalogue } = services
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

  page('participant', async (p) => {
    const today = londonDateOf(new Date())
    const progress = await progressOf(services, p.userId, today)
    const [calendar, meetings, assessments, news, surveys, learning] = await Promise.all([
      participantCalendar(services, p),
      meetingTasks(services, p),
      assessmentFacts(db, p.userId, today),
      newsForParticipant(db, p.userId, today, 3),
      surveysDue(services, p.userId, today),
      continueLearning(db, services, p.userId, today),
    ])
    return {
      enrolments: await listEnrolments(db, { participantUserId: p.userId }),
      checklists: await welcomeChecklists(db, p.userId),
      notices: await lifecycleNotices(db, p.userId),
      calendar,
      due: dueItems({ progress, assessments, meetings, surveys }, today),
      // The lead provider's content first (an item started, then the next one); else the next activity left.
      continueAt: learning
        ? { courseName: learning.course, blockTitle: null, title: learning.title, href: learning.href }
        : continueFrom(progress),
      news,
    }
  })
  page('line-manager', async (p) => {
    // Only their own participants (enrolments naming them), each with their meetings.
    const overviews = await meetingOverviews(db, await loadMeetingEnrolments(db, catalogue, { lineManagerUserId: p.userId }))
    const participants = overviews.map((o) => ({ ...o, rows: meetingRows(o, 'line-manager'), href: meetingsPath(o.e.id) }))
    return {
      participants,
      toSign: participants.flatMap((o) => o.rows.filter((r) => r.needsYou).map((r) => ({ ...r, name: o.e.fullName }))),
    }
  })
  const isSafeguardingLead = async (p: Principal & { kind: 'user' }) => (await dslOrganisations(db, p.userId)).length > 0
  page('facilitator', async (p) => ({
    programmes: programmeRows(await countEnrolments(db, { deliveryPartnerIds: organisationsWithRole(p, 'facilitator') })),
    events: await upcomingEvents(db, p, 'facilitator'),
    safeguarding: await isSafeguardingLead(p),
  }))
  page('delivery-partner-lead', async (p) => ({
    programmes: programmeRows(await countEnrolments(db, { deliveryPartnerIds: organisationsWithRole(p, 'delivery-partner-lead') })),
    events: await upcomingEvents(db, p, 'delivery-partner-lead'),
    safeguarding: await isSafeguardingLead(p),
  }))
  page('lead-provider-admin', async (p) => {
    const leadProviderIds = organisationsWithRole(p, 'lead-provider-admin')
    const counts = await countEnrolments(db, { leadProviderIds })
    const byPartner = new Map<string, number>()
    for (const c of counts)
      byPartner.set(c.deliveryPartner ?? 'Not allocated', (byPartner.get(c.deliveryPartner ?? 'Not allocated') ?? 0) + c.total)
    return {
      enrolmentCount: counts.reduce((n, c) => n + c.total, 0),
      byPartner: [...byPartner.entries()].sort(([a], [b]) => a.localeCompare(b)),
      events: await upcomingEvents(db, p, 'lead-provider-admin'),
      safeguarding: await isSafeguardingLead(p),
    }
  })
  // Scripts waiting: marking not done, or moderation not done, and results not yet released.
  page('assessor', async (p) => ({
    waiting: (await scriptsForAssessor(db, p)).filter((s) => !s.released && s.markedAt === null).length,
  }))
  page('moderator', async (p) => ({
    waiting: (await scriptsForModerator(db, p)).filter((s) => !s.released && s.moderatedAt === null).length,
  }))
  page('school-contact', async (p) => ({
    enrolments: await listEnrolments(db, { schoolIds: organisationsWithRole(p, 'school-contact') }),
  }))
}
