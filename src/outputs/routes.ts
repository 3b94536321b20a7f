import type { FastifyInstance } from 'fastify'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { forbidden, notFound } from '../errors.ts'
import { calendarDate } from '../imports/fields.ts'
import { can } from '../policy/policy.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { criterionLabels } from './evaluate.ts'
import { outputEvaluations } from './report.ts'

// One enrolment's outputs as of a date, for lead-provider admins and the participant's
// delivery-partner lead: each output's status, the criterion met and when, what is missing, and the
// records behind the evidence (register entries link to their event's register).

const statusTags: Record<string, { text: string; classes: string }> = {
  eligible: { text: 'Eligible', classes: 'govuk-tag--green' },
  declared: { text: 'Declared', classes: 'govuk-tag--blue' },
  'not-eligible': { text: 'Not eligible', classes: 'govuk-tag--grey' },
  blocked: { text: 'Blocked', classes: 'govuk-tag--red' },
}

export function registerOutputRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services
  for (const area of ['lead-provider', 'delivery-partner'] as const) {
    app.get<{ Params: { id: string }; Querystring: { as_of?: string } }>(
      `/${area}/outputs/:id`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        if (!/^[0-9a-f-]{36}$/i.test(req.params.id)) throw notFound('Enrolment')
        const e = await db
          .selectFrom('enrolments as e')
          .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
          .select(['e.id', 'e.participant_id', 'e.lead_provider_id', 'e.delivery_partner_id', 'e.course_identifier', 'e.cohort', 'lp.code'])
          .where('e.id', '=', req.params.id)
          .executeTakeFirst()
        if (!e) throw notFound('Enrolment')
        const ref = {
          participantUserId: null,
          leadProviderId: e.lead_provider_id,
          deliveryPartnerId: e.delivery_partner_id,
          schoolId: null,
          lineManagerUserId: null,
        }
        if (!can(req.principal, 'view-outputs', { type: 'enrolment', enrolment: ref })) throw forbidden()

        const today = londonDateOf(new Date())
        const asked = req.query.as_of?.trim()
        const valid = !asked || calendarDate.safeParse(asked).success
        const asOf = asked && valid ? asked : today
        const [evaluated] = (
          await outputEvaluations(services, {
            leadProvider: e.code,
            cohort: e.cohort,
            course: e.course_identifier,
            asOf,
            participantIds: [e.participant_id],
          })
        ).filter((x) => x.enrolmentId === e.id)
        if (!evaluated) throw notFound('Enrolment')
        // Register entries link to their event's register.
        const entryIds = evaluated.records['register-attendance'].map((r) => r.id)
        const events = new Map(
          (entryIds.length
            ? await db
                .selectFrom('register_entries as r')
                .innerJoin('events as ev', 'ev.id', 'r.event_id')
                .select(['r.id', 'ev.id as event_id', 'ev.title', 'ev.activity_code'])
                .where('r.id', 'in', entryIds)
                .execute()
            : []
          ).map((r) => [r.id, r]),
        )
        const outputs = evaluated.outputs.map((o) => {
          const criterion = o.evidence
          const records =
            criterion === null
              ? []
              : criterion === 'credits-90-and-assessment'
                ? evaluated.records.assessment
                : evaluated.records[criterion].filter((r) => r.on === o.evidence_on)
          return {
            ...o,
            tag: statusTags[o.status],
            criterionLabel: criterion ? criterionLabels[criterion] : null,
            records: records.map((r) => {
              const ev = events.get(r.id)
              return {
                on: r.on,
                what:
                  r.kind === 'register-entry'
                    ? `Register: ${ev?.title ?? ev?.activity_code ?? 'event'}`
                    : r.kind === 'assessment-attempt'
                      ? 'Summative assessment result'
                      : `Activity ${r.code}`,
                href: r.kind === 'register-entry' && ev ? `/events/${ev.event_id}/register` : null,
              }
            }),
          }
        })
        return reply.render(
          'outputs/views/enrolment-outputs.njk',
          {
            title: `Outputs for ${evaluated.fullName}`,
            name: evaluated.fullName,
            course: findCourse(e.course_identifier)?.name ?? e.course_identifier,
            cohort: e.cohort,
            deliveryPartner: evaluated.deliveryPartnerName,
            asOf,
            engagement: evaluated.engagement,
            outputs,
            agreementsHref: area === 'lead-provider' ? `/lead-provider/enrolments/${e.id}/agreements` : null,
            ...formErrors(valid ? [] : [{ field: 'as_of', message: 'Date must be a real date, like 2023-01-31' }]),
          },
          valid ? 200 : 400,
        )
      },
    )
  }
}
