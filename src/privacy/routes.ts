import type { FastifyInstance, FastifyRequest } from 'fastify'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { statusLabels } from '../participants/lifecycle.ts'
import { forbidden } from '../errors.ts'
import { can } from '../policy/policy.ts'
import { hasRole, type Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { loadRetentionFacts } from './anonymise.ts'
import { exportPersonalData, findSubject, type SubjectQuery } from './personal-data.ts'
import { erasureBlockers, erasureDueOn } from './retention.ts'

// Data protection for lead-provider admins (Settings → Data protection): find a participant or applicant
// of theirs by email or TRN, see whether and when their data is due for erasure, and download a subject
// access export (audited). Admins of other lead providers are told nobody matched.

const page = 'privacy/views/privacy.njk'
const badQuery = () => formErrors([{ field: 'q', message: 'Enter an email address, a 7-digit TRN or a participant id' }])

/** An email address, a 7-digit TRN, or a participant id. */
export function parsePersonQuery(q: string): SubjectQuery | null {
  const value = q.trim()
  if (/^[0-9]{7}$/.test(value)) return { trn: value }
  if (/^[^@\s]+@[^@\s]+$/.test(value)) return { email: value }
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(value)) return { participantId: value }
  return null
}

export function registerPrivacyRoutes(app: FastifyInstance, { db, catalogue }: Services): void {
  const admin = (req: FastifyRequest): Principal => {
    const p = req.principal
    if (!p || !hasRole(p, 'lead-provider-admin')) throw forbidden()
    return p
  }

  app.get<{ Querystring: { q?: string } }>('/lead-provider/privacy', { config: { access: 'signed-in' } }, async (req, reply) => {
    const principal = admin(req)
    const q = typeof req.query.q === 'string' ? req.query.q : ''
    const base = { title: 'Data protection', q }
    if (!q.trim()) return reply.render(page, base)
    const query = parsePersonQuery(q)
    if (!query) return reply.render(page, { ...base, ...badQuery() }, 400)
    const subject = await findSubject(db, query)
    // Someone another lead provider holds is, to this admin, nobody.
    if (!subject || !can(principal, 'export-personal-data', { type: 'personal-data', leadProviderIds: subject.leadProviderIds })) {
      return reply.render(page, { ...base, notFound: true })
    }
    const facts = await loadRetentionFacts(db, catalogue, subject.participantIds)
    const people = await Promise.all(
      subject.participantIds.map(async (id) => {
        const f = facts.get(id)!
        return { id, anonymised: f.anonymised, dueOn: erasureDueOn(f), blockers: erasureBlockers(f) }
      }),
    )
    const enrolments = subject.enrolmentIds.length
      ? await db
          .selectFrom('enrolments as e')
          .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
          .select(['e.course_identifier', 'e.cohort', 'e.status', 'lp.name as lead_provider'])
          .where('e.id', 'in', subject.enrolmentIds)
          .orderBy('e.cohort')
          .execute()
      : []
    // Course names and statuses as people read them, not the identifiers the interfaces use.
    const places = enrolments.map((e) => ({
      ...e,
      course: findCourse(e.course_identifier)?.name ?? e.course_identifier,
      statusLabel: statusLabels[e.status],
    }))
    return reply.render(page, { ...base, subject, people, enrolments: places, today: londonDateOf(new Date()) })
  })

  app.post<{ Body: { q?: string } }>('/lead-provider/privacy/export', { config: { access: 'signed-in' } }, async (req, reply) => {
    const principal = admin(req)
    const query = parsePersonQuery(typeof req.body?.q === 'string' ? req.body.q : '')
    if (!query) return reply.render(page, { title: 'Data protection', q: '', ...badQuery() }, 400)
    const subject = await findSubject(db, query)
    if (!subject || !can(principal, 'export-personal-data', { type: 'personal-data', leadProviderIds: subject.leadProviderIds })) {
      return reply.render(page, { title: 'Data protection', q: req.body.q, notFound: true }, 404)
    }
    const document = await exportPersonalData(db, principal, query)
    const who = subject.participantIds[0] ?? subject.userIds[0] ?? subject.applicationIds[0]
    return reply
      .header('content-type', 'application/json; charset=utf-8')
      .header('content-disposition', `attachment; filename="subject-access-${who}-${londonDateOf(new Date())}.json"`)
      .header('cache-control', 'no-store')
      .send(JSON.stringify(document, null, 2))
  })
}
