import { calendarDate } from '../imports/fields.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { recordAudit } from '../audit/audit.ts'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import { inTransaction } from '../db/transaction.ts'
import { activateIfOnboarded } from '../onboarding/onboarding.ts'
import { forbidden, notFound, type FieldError } from '../errors.ts'
import { describePrincipal, organisationsWithRole } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'

// The prerequisites of every output: the school contract and the sponsorship agreement, recorded per
// enrolment by a lead-provider admin with the date each was signed (and who recorded it). Blank
// means not signed; clearing a date is allowed (a mistake), and every change is audited.

type Body = Record<string, string | undefined>
const isRealDate = (v: string) => calendarDate.safeParse(v).success

export function registerAgreementRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services
  const path = '/lead-provider/enrolments/:id/agreements'

  async function load(req: FastifyRequest<{ Params: { id: string } }>) {
    const p = req.principal
    const lpId = p ? organisationsWithRole(p, 'lead-provider-admin')[0] : undefined
    if (!p || !lpId) throw forbidden()
    if (!/^[0-9a-f-]{36}$/i.test(req.params.id)) throw notFound('Enrolment')
    const e = await db
      .selectFrom('enrolments as e')
      .innerJoin('participants as p', 'p.id', 'e.participant_id')
      .leftJoin('users as sc', 'sc.id', 'e.school_contract_recorded_by')
      .leftJoin('users as sa', 'sa.id', 'e.sponsorship_agreement_recorded_by')
      .select([
        'e.id',
        'e.lead_provider_id',
        'e.course_identifier',
        'e.cohort',
        'e.school_contract_signed_on',
        'e.sponsorship_agreement_signed_on',
        'p.full_name',
        'sc.full_name as contract_by',
        'sa.full_name as sponsorship_by',
      ])
      .where('e.id', '=', req.params.id)
      .executeTakeFirst()
    if (!e || e.lead_provider_id !== lpId) throw notFound('Enrolment')
    return { principal: p, enrolment: e }
  }

  async function page(req: FastifyRequest<{ Params: { id: string } }>, reply: FastifyReply, values?: Body, errors: FieldError[] = []) {
    const { enrolment: e } = await load(req)
    return reply.render(
      'declarations/views/agreements.njk',
      {
        title: `Agreements for ${e.full_name}`,
        e: { ...e, course: findCourse(e.course_identifier)?.name ?? e.course_identifier },
        values: values ?? {
          school_contract_signed_on: e.school_contract_signed_on ?? '',
          sponsorship_agreement_signed_on: e.sponsorship_agreement_signed_on ?? '',
        },
        back: (req.query as { back?: string }).back?.startsWith('/lead-provider/')
          ? (req.query as { back: string }).back
          : '/lead-provider/declarations',
        done: (req.query as { done?: string }).done,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string } }>(path, { config: { access: 'signed-in' } }, (req, reply) => page(req, reply))

  app.post<{ Params: { id: string }; Body: Body }>(path, { config: { access: 'signed-in' } }, async (req, reply) => {
    const { principal, enrolment } = await load(req)
    const body = req.body ?? {}
    const today = londonDateOf(new Date())
    const errors: FieldError[] = []
    const fields = [
      ['school_contract_signed_on', 'The date the school contract was signed'],
      ['sponsorship_agreement_signed_on', 'The date the sponsorship agreement was signed'],
    ] as const
    const values: Record<string, string | null> = {}
    for (const [field, label] of fields) {
      // A repeated field (an array) or a JSON value is not a date: String() makes it fail the check below.
      const v = String(body[field] ?? '').trim()
      if (v && !isRealDate(v)) errors.push({ field, message: `${label} must be a real date, like 2022-09-01` })
      else if (v > today) errors.push({ field, message: `${label} must be today or in the past` })
      values[field] = v || null
    }
    if (errors.length) return page(req, reply, body, errors)
    const by = describePrincipal(principal).actorUserId
    const activated = await inTransaction(db, async (trx) => {
      const before = {
        school_contract_signed_on: enrolment.school_contract_signed_on,
        sponsorship_agreement_signed_on: enrolment.sponsorship_agreement_signed_on,
      }
      if (JSON.stringify(before) === JSON.stringify(values)) return false
      await trx
        .updateTable('enrolments')
        .set({
          school_contract_signed_on: values.school_contract_signed_on,
          sponsorship_agreement_signed_on: values.sponsorship_agreement_signed_on,
          school_contract_recorded_by: values.school_contract_signed_on ? by : null,
          sponsorship_agreement_recorded_by: values.sponsorship_agreement_signed_on ? by : null,
        })
        .where('id', '=', enrolment.id)
        .execute()
      await recordAudit(trx, {
        by: principal,
        action: 'enrolment.agreements-recorded',
        entityType: 'enrolment',
        entityId: enrolment.id,
        before,
        after: values,
      })
      // Agreements signed on paper count as much as signed through the links: accepted → active.
      return activateIfOnboarded(trx, enrolment.id)
    })
    return reply.redirect(`${req.url.split('?')[0]}?done=${activated ? 'activated' : 'saved'}`, 303)
  })
}
