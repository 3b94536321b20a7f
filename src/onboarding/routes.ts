import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import {
  agreementLabels,
  findAgreementLink,
  fundingText,
  inviteLineManager,
  inviteParticipant,
  listOnboarding,
  loadOnboarding,
  recordFunding,
  sendAgreements,
  signAgreement,
  stepsOf,
} from './onboarding.ts'

// Onboarding pages: the lead-provider admin's list and per-enrolment page (/lead-provider/onboarding),
// and the public signing page a school contact reaches from the emailed one-time link (/agreements/:token).

type Body = Record<string, string | undefined>
type Params = { id: string }
const base = '/lead-provider/onboarding'
const doneMessages: Record<string, string> = {
  sent: 'The agreements are sent to the school contact.',
  participant: 'The participant is invited to set a password.',
  'line-manager': 'The line manager is invited and set on the enrolment.',
  funding: 'The funding, invoice and payment are recorded.',
  activated: 'Onboarding is complete: the enrolment is now active.',
}

export function registerOnboardingRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  const adminOf = (req: FastifyRequest): Principal & { kind: 'user'; leadProviderId: string } => {
    const p = req.principal
    const leadProviderId = p ? organisationsWithRole(p, 'lead-provider-admin')[0] : undefined
    if (!p || p.kind !== 'user' || !leadProviderId) throw forbidden()
    return { ...p, leadProviderId }
  }

  async function load(req: FastifyRequest<{ Params: Params }>) {
    const admin = adminOf(req)
    if (!/^[0-9a-f-]{36}$/i.test(req.params.id)) throw notFound('Enrolment')
    const o = await loadOnboarding(db, req.params.id)
    if (!o || o.lead_provider_id !== admin.leadProviderId) throw notFound('Enrolment')
    return { admin, o }
  }

  app.get(base, { config: { access: 'signed-in' } }, async (req, reply) => {
    const admin = adminOf(req)
    return reply.render('onboarding/views/list.njk', { title: 'Onboarding', rows: await listOnboarding(db, admin.leadProviderId) })
  })

  async function page(req: FastifyRequest<{ Params: Params }>, reply: FastifyReply, values: Body = {}, errors: FieldError[] = []) {
    const { o } = await load(req)
    const open = (kind: string) => o.requests.some((r) => r.kind === kind)
    return reply.render(
      'onboarding/views/enrolment.njk',
      {
        title: `Onboarding ${o.full_name}`,
        o,
        steps: stepsOf({
          ...o,
          sent: { 'school-contract': open('school-contract'), 'sponsorship-agreement': open('sponsorship-agreement') },
        }),
        requests: o.requests.map((r) => ({
          ...r,
          label: agreementLabels[r.kind],
          state: r.signed_at
            ? `Signed by ${r.signed_by_name}`
            : r.superseded_at
              ? 'Replaced by a resend'
              : new Date(r.expires_at) <= new Date()
                ? 'Expired'
                : 'Waiting',
        })),
        bothSigned: Boolean(o.school_contract_signed_on && o.sponsorship_agreement_signed_on),
        amount: fundingText(o.amount_pence),
        values: {
          funding: o.funding ?? '',
          invoice_sent_on: o.invoice_sent_on ?? '',
          amount: o.amount_pence === null ? '' : (o.amount_pence / 100).toFixed(2),
          paid_on: o.paid_on ?? '',
          ...values,
        },
        done: doneMessages[(req.query as { done?: string }).done ?? ''],
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: Params }>(`${base}/:id`, { config: { access: 'signed-in' } }, (req, reply) => page(req, reply))

  /** One action on the enrolment: on a form error the page comes back with the messages and nothing changed. */
  const action = (path: string, run: (admin: Principal & { kind: 'user' }, id: string, body: Body) => Promise<string>) =>
    app.post<{ Params: Params; Body: Body }>(`${base}/:id/${path}`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const { admin } = await load(req)
      const body = req.body ?? {}
      try {
        const done = await run(admin, req.params.id, body)
        return reply.redirect(`${base}/${req.params.id}?done=${done}`, 303)
      } catch (error) {
        if (error instanceof AppError && ['validation-failed', 'conflict', 'unprocessable'].includes(error.code)) {
          return page(req, reply, body, error.fieldErrors.length ? error.fieldErrors : [{ field: `${path}-form`, message: error.message }])
        }
        throw error
      }
    })

  action('send', async (admin, id, body) => {
    await sendAgreements(services, admin, id, { fullName: body.contact_name ?? '', email: body.contact_email ?? '' })
    return 'sent'
  })
  action('participant', async (admin, id) => ((await inviteParticipant(services, admin, id)).activated ? 'activated' : 'participant'))
  action('line-manager', async (admin, id, body) => {
    await inviteLineManager(services, admin, id, { fullName: body.line_manager_name ?? '', email: body.line_manager_email ?? '' })
    return 'line-manager'
  })
  action('funding', async (admin, id, body) => {
    await recordFunding(db, admin, id, body)
    return 'funding'
  })

  // The signing page: public, as the link in the email is the school contact's proof of who they are.
  const signing = async (reply: FastifyReply, token: string, values: Body = {}, errors: FieldError[] = []) => {
    const found = await findAgreementLink(db, token)
    if (!found.request || found.problem) {
      return reply.render(
        'onboarding/views/link-problem.njk',
        { title: 'You cannot use this link', problem: found.problem },
        found.request ? 409 : 404,
      )
    }
    return reply.render(
      'onboarding/views/sign.njk',
      { title: `Sign the ${found.request.label.toLowerCase()}`, r: found.request, values, ...formErrors(errors) },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: { token: string } }>('/agreements/:token', { config: { access: 'public' } }, (req, reply) =>
    signing(reply, req.params.token),
  )

  app.post<{ Params: { token: string }; Body: Body }>('/agreements/:token', { config: { access: 'public' } }, async (req, reply) => {
    try {
      const { kind } = await signAgreement(db, req.params.token, req.body?.signed_by_name ?? '')
      return reply.render('onboarding/views/signed.njk', { title: `${agreementLabels[kind]} signed`, label: agreementLabels[kind] })
    } catch (error) {
      if (error instanceof AppError && error.code === 'validation-failed')
        return signing(reply, req.params.token, req.body ?? {}, error.fieldErrors)
      if (error instanceof AppError && ['conflict', 'not-found'].includes(error.code)) {
        return reply.render(
          'onboarding/views/link-problem.njk',
          { title: 'You cannot use this link', problem: error.message },
          error.code === 'conflict' ? 409 : 404,
        )
      }
      throw error
    }
  })
}
