import { sql } from 'kysely'
import { z } from 'zod'
import { hashToken, randomToken } from '../accounts/tokens.ts'
import { recordAudit } from '../audit/audit.ts'
import { findCourse } from '../catalogue/courses.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Db, Trx } from '../db/database.ts'
import { agreementKinds, placeFundings, type AgreementKind, type EnrolmentStatus } from '../db/schema.ts'
import { inTransaction } from '../db/transaction.ts'
import { AppError, type FieldError } from '../errors.ts'
import { calendarDate } from '../imports/fields.ts'
import { formatPence, parsePounds } from '../money/pence.ts'
import { transitionEnrolment } from '../participants/lifecycle.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'

// Onboarding an accepted enrolment (issue 7): the lead provider sends the school contract and the
// sponsorship agreement to the school's contact, who signs each through a one-time link; the place's
// invoice and payment when the school or the participant pays; the participant and their line manager
// are invited. Once both agreements are signed and the participant has an account, the enrolment
// becomes active.

const LINK_DAYS = 14
const onboardingSystem: Principal = { kind: 'system', name: 'onboarding' }

export const agreementLabels: Record<AgreementKind, string> = {
  'school-contract': 'School contract',
  'sponsorship-agreement': 'Sponsorship agreement',
}

/** What the school agrees to, shown on the signing page. */
export const agreementTerms: Record<AgreementKind, string[]> = {
  'school-contract': [
    'The school releases the participant for the face-to-face sessions, induction and conference of the course.',
    'The school gives the participant time in school for their study and any school-based activities.',
    'The school tells the lead provider if the participant leaves the school, defers or withdraws.',
  ],
  'sponsorship-agreement': [
    'The school sponsors the participant on this National Professional Qualification.',
    'A line manager or mentor at the school supports the participant through the course.',
    'Where the place is funded by the school, the school pays the lead provider’s invoice within 30 days.',
  ],
}

const signedOnColumn = {
  'school-contract': 'school_contract_signed_on',
  'sponsorship-agreement': 'sponsorship_agreement_signed_on',
} as const
const recordedByColumn = {
  'school-contract': 'school_contract_recorded_by',
  'sponsorship-agreement': 'sponsorship_agreement_recorded_by',
} as const

const email = z.email()
export function personProblems(fullName: string, address: string, prefix: string, who: string): FieldError[] {
  const errors: FieldError[] = []
  if (!fullName.trim()) errors.push({ field: `${prefix}_name`, message: `Enter the ${who}’s full name` })
  if (!address.trim()) errors.push({ field: `${prefix}_email`, message: `Enter the ${who}’s email address` })
  else if (!email.safeParse(address.trim()).success) {
    errors.push({ field: `${prefix}_email`, message: 'Enter an email address in the correct format, like name@example.com' })
  }
  return errors
}

/** An enrolment with everything its onboarding page shows. */
export async function loadOnboarding(db: Db | Trx, enrolmentId: string) {
  const e = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .leftJoin('organisations as s', 's.id', 'e.school_id')
    .leftJoin('users as lm', 'lm.id', 'e.line_manager_user_id')
    .leftJoin('users as pu', 'pu.id', 'p.user_id')
    .leftJoin('users as scb', 'scb.id', 'e.school_contract_recorded_by')
    .leftJoin('users as sab', 'sab.id', 'e.sponsorship_agreement_recorded_by')
    .leftJoin('place_funding as f', 'f.enrolment_id', 'e.id')
    .select([
      'e.id',
      'e.status',
      'e.lead_provider_id',
      'e.delivery_partner_id',
      'e.school_id',
      'e.course_identifier',
      'e.cohort',
      'e.school_contract_signed_on',
      'e.sponsorship_agreement_signed_on',
      'scb.full_name as school_contract_by',
      'sab.full_name as sponsorship_agreement_by',
      'e.line_manager_user_id',
      'lm.full_name as line_manager_name',
      'p.id as participant_id',
      'p.full_name',
      'p.email',
      'p.user_id',
      'pu.status as user_status',
      's.name as school_name',
      'f.funding',
      'f.invoice_sent_on',
      'f.amount_pence',
      'f.paid_on',
    ])
    .where('e.id', '=', enrolmentId)
    .executeTakeFirst()
  if (!e) return null
  const requests = await db
    .selectFrom('agreement_requests as r')
    .innerJoin('users as to', 'to.id', 'r.sent_to')
    .leftJoin('users as by', 'by.id', 'r.sent_by')
    .select([
      'r.id',
      'r.kind',
      'r.sent_at',
      'r.expires_at',
      'r.superseded_at',
      'r.signed_at',
      'r.signed_by_name',
      'to.full_name as sent_to_name',
      'to.email as sent_to_email',
      'by.full_name as sent_by_name',
    ])
    .where('r.enrolment_id', '=', enrolmentId)
    .orderBy('r.sent_at', 'desc')
    .execute()
  const contacts = e.school_id ? await schoolContacts(db, e.school_id) : []
  return { ...e, course: findCourse(e.course_identifier)?.name ?? e.course_identifier, requests, contacts }
}
export type Onboarding = NonNullable<Awaited<ReturnType<typeof loadOnboarding>>>

const schoolContacts = (db: Db | Trx, schoolId: string) =>
  db
    .selectFrom('role_assignments as r')
    .innerJoin('users as u', 'u.id', 'r.user_id')
    .select(['u.id', 'u.full_name', 'u.email'])
    .where('r.role', '=', 'school-contact')
    .where('r.organisation_id', '=', schoolId)
    .where('u.status', '<>', 'disabled')
    .orderBy('u.full_name')
    .execute()

/** Each step's state, in words for the pages. */
export function stepsOf(
  o: Pick<Onboarding, 'status' | 'funding' | 'invoice_sent_on' | 'paid_on' | 'user_id' | 'line_manager_user_id'> & {
    school_contract_signed_on: string | null
    sponsorship_agreement_signed_on: string | null
    sent: Partial<Record<AgreementKind, boolean>>
  },
) {
  const agreement = (kind: AgreementKind) => {
    const signed = o[signedOnColumn[kind]]
    return signed ? `Signed ${signed}` : o.sent[kind] ? 'Sent, not signed' : 'Not sent'
  }
  return {
    schoolContract: agreement('school-contract'),
    sponsorshipAgreement: agreement('sponsorship-agreement'),
    funding: !o.funding
      ? 'Not recorded'
      : o.funding === 'dfe'
        ? 'DfE funded'
        : o.paid_on
          ? `Paid ${o.paid_on}`
          : o.invoice_sent_on
            ? `Invoiced ${o.invoice_sent_on}, not paid`
            : 'Invoice not sent',
    participant: o.user_id ? 'Invited' : 'Not invited',
    lineManager: o.line_manager_user_id ? 'Confirmed' : 'Not invited',
    next: nextStepOf(o),
  }
}

/**
 * What the admin does next for a place, with the part of its page that does it: the steps that make
 * the place active first (agreements, the participant's account), then the line manager and funding.
 */
export function nextStepOf(
  o: Pick<Onboarding, 'funding' | 'invoice_sent_on' | 'paid_on' | 'user_id' | 'line_manager_user_id'> & {
    school_contract_signed_on: string | null
    sponsorship_agreement_signed_on: string | null
    sent: Partial<Record<AgreementKind, boolean>>
  },
): { text: string; anchor: string } | null {
  const unsigned = (['school-contract', 'sponsorship-agreement'] as const).filter((k) => !o[signedOnColumn[k]])
  if (unsigned.some((k) => !o.sent[k])) return { text: 'Send the agreements', anchor: 'send-form' }
  if (!o.user_id) return { text: 'Invite the participant', anchor: 'participant-form' }
  if (unsigned.length) return { text: 'Chase the school to sign, or record paper signatures', anchor: 'send-form' }
  if (!o.line_manager_user_id) return { text: 'Invite the line manager', anchor: 'line-manager-form' }
  if (!o.funding) return { text: 'Record the funding', anchor: 'funding-form' }
  if (o.funding !== 'dfe' && !o.invoice_sent_on) return { text: 'Record the invoice', anchor: 'funding-form' }
  if (o.funding !== 'dfe' && !o.paid_on) return { text: 'Record the payment', anchor: 'funding-form' }
  return null
}

/** Enrolments of a lead provider not yet fully onboarded (still accepted), with each step's state. */
export async function listOnboarding(db: Db, leadProviderId: string) {
  const rows = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .leftJoin('organisations as s', 's.id', 'e.school_id')
    .leftJoin('place_funding as f', 'f.enrolment_id', 'e.id')
    .select([
      'e.id',
      'e.status',
      'e.course_identifier',
      'e.cohort',
      'e.school_contract_signed_on',
      'e.sponsorship_agreement_signed_on',
      'e.line_manager_user_id',
      'p.full_name',
      'p.user_id',
      's.name as school_name',
      'f.funding',
      'f.invoice_sent_on',
      'f.paid_on',
      sql<string[]>`array(select distinct r.kind from agreement_requests r where r.enrolment_id = e.id)`.as('sent_kinds'),
    ])
    .where('e.lead_provider_id', '=', leadProviderId)
    .where('e.status', '=', 'accepted')
    .orderBy('p.full_name')
    .execute()
  return rows.map((r) => ({
    ...r,
    course: findCourse(r.course_identifier)?.name ?? r.course_identifier,
    steps: stepsOf({ ...r, sent: Object.fromEntries((r.sent_kinds ?? []).map((k) => [k, true])) }),
  }))
}

/**
 * Sends each unsigned agreement to the school's contacts (a resend replaces the earlier links). With no
 * contact at the school, `contact` names one to invite.
 */
export async function sendAgreements(
  services: Services,
  by: Principal & { kind: 'user' },
  enrolmentId: string,
  contact?: { fullName: string; email: string },
): Promise<{ sentTo: string[]; kinds: AgreementKind[] }> {
  const o = await loadOnboarding(services.db, enrolmentId)
  if (!o) throw new AppError('not-found', 'Enrolment not found')
  if (!o.school_id) throw new AppError('unprocessable', 'The enrolment has no school to send the agreements to')
  const kinds = agreementKinds.filter((k) => !o[signedOnColumn[k]])
  if (!kinds.length) throw new AppError('conflict', 'Both agreements are already signed')
  let contacts = o.contacts
  if (!contacts.length) {
    const problems = personProblems(contact?.fullName ?? '', contact?.email ?? '', 'contact', 'school contact')
    if (problems.length) throw new AppError('validation-failed', problems[0]!.message, problems)
    // Invited in its own transaction (accounts.invite): the contact exists even if sending fails below.
    await services.accounts.invite(by, {
      email: contact!.email,
      fullName: contact!.fullName,
      role: 'school-contact',
      organisationId: o.school_id,
    })
    contacts = await schoolContacts(services.db, o.school_id)
  }
  const expires = new Date(Date.now() + LINK_DAYS * 24 * 3600_000)
  await services.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('agreement_requests')
      .set({ superseded_at: new Date() })
      .where('enrolment_id', '=', enrolmentId)
      .where('kind', 'in', kinds)
      .where('signed_at', 'is', null)
      .where('superseded_at', 'is', null)
      .execute()
    for (const c of contacts) {
      const links: string[] = []
      for (const kind of kinds) {
        const token = randomToken()
        await trx
          .insertInto('agreement_requests')
          .values({ enrolment_id: enrolmentId, kind, sent_to: c.id, sent_by: by.userId, token_hash: hashToken(token), expires_at: expires })
          .execute()
        links.push(`${agreementLabels[kind]}:\n${services.config.baseUrl}/agreements/${token}`)
      }
      await services.email.queue(trx, {
        to: c.email,
        subject: `Agreements to sign for ${o.full_name}’s NPQ`,
        body:
          `Hello ${c.full_name},\n\n${o.full_name} has a place on ${o.course} (${o.cohort}). Before they start, ${o.school_name ?? 'the school'} ` +
          `needs to sign the following. Each link works once and expires in ${LINK_DAYS} days.\n\n${links.join('\n\n')}\n`,
      })
    }
    await recordAudit(trx, {
      by,
      action: 'enrolment.agreements-sent',
      entityType: 'enrolment',
      entityId: enrolmentId,
      after: { kinds, sent_to: contacts.map((c) => c.id) },
    })
  })
  return { sentTo: contacts.map((c) => c.email), kinds }
}

/** Why a signing link cannot be used, or null when it can. */
function linkProblem(r: { signed_at: Date | null; superseded_at: Date | null; expires_at: Date; already_signed_on: string | null }) {
  if (r.signed_at) return 'This agreement has already been signed through this link'
  if (r.already_signed_on) return `This agreement was already signed on ${r.already_signed_on}`
  if (r.superseded_at) return 'This link has been replaced by a newer one: use the link in the latest email'
  if (new Date(r.expires_at) <= new Date()) return 'This link has expired: ask the lead provider to send the agreement again'
  return null
}

const requestByToken = (db: Db | Trx, token: string) =>
  db
    .selectFrom('agreement_requests as r')
    .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .innerJoin('users as u', 'u.id', 'r.sent_to')
    .leftJoin('organisations as s', 's.id', 'e.school_id')
    .select([
      'r.id',
      'r.kind',
      'r.enrolment_id',
      'r.sent_to',
      'r.signed_at',
      'r.superseded_at',
      'r.expires_at',
      'u.email as sent_to_email',
      'u.full_name as sent_to_name',
      'p.full_name as participant_name',
      'e.course_identifier',
      'e.cohort',
      'e.school_contract_signed_on',
      'e.sponsorship_agreement_signed_on',
      'lp.name as lead_provider_name',
      's.name as school_name',
    ])
    .where('r.token_hash', '=', hashToken(token))

/** What a signing link shows, or why it cannot be used. */
export async function findAgreementLink(db: Db, token: string) {
  const r = await requestByToken(db, token).executeTakeFirst()
  if (!r) return { problem: 'This link is not valid: check you copied all of it from the email' } as const
  const problem = linkProblem({ ...r, already_signed_on: r[signedOnColumn[r.kind]] })
  return {
    problem,
    request: {
      ...r,
      label: agreementLabels[r.kind],
      terms: agreementTerms[r.kind],
      course: findCourse(r.course_identifier)?.name ?? r.course_identifier,
    },
  } as const
}

/**
 * Signs an agreement through its link, with the name typed as signature: the enrolment records the
 * date and the school contact the link was sent to. A used, replaced or expired link changes nothing.
 */
export async function signAgreement(db: Db, token: string, typedName: string): Promise<{ kind: AgreementKind; activated: boolean }> {
  const name = typedName.trim()
  if (!name)
    throw new AppError('validation-failed', 'Enter your full name to sign', [
      { field: 'signed_by_name', message: 'Enter your full name to sign' },
    ])
  if (name.length > 200) {
    throw new AppError('validation-failed', 'Your name must be 200 characters or fewer', [
      { field: 'signed_by_name', message: 'Your name must be 200 characters or fewer' },
    ])
  }
  return db.transaction().execute(async (trx) => {
    const r = await requestByToken(trx, token).forUpdate('r').executeTakeFirst()
    if (!r) throw new AppError('not-found', 'This link is not valid: check you copied all of it from the email')
    // Lock the enrolment so two links for the same agreement cannot both sign it.
    const e = await trx
      .selectFrom('enrolments')
      .select(['school_contract_signed_on', 'sponsorship_agreement_signed_on'])
      .where('id', '=', r.enrolment_id)
      .forUpdate()
      .executeTakeFirstOrThrow()
    const problem = linkProblem({ ...r, already_signed_on: e[signedOnColumn[r.kind]] })
    if (problem) throw new AppError('conflict', problem)
    const today = londonDateOf(new Date())
    await trx
      .updateTable('agreement_requests')
      .set({ signed_at: new Date(), signed_by_name: name, signed_by_user: r.sent_to })
      .where('id', '=', r.id)
      .execute()
    await trx
      .updateTable('enrolments')
      .set({ [signedOnColumn[r.kind]]: today, [recordedByColumn[r.kind]]: r.sent_to })
      .where('id', '=', r.enrolment_id)
      .execute()
    const signer: Principal = { kind: 'user', userId: r.sent_to, email: r.sent_to_email, fullName: r.sent_to_name, roles: [] }
    await recordAudit(trx, {
      by: signer,
      action: 'enrolment.agreement-signed',
      entityType: 'enrolment',
      entityId: r.enrolment_id,
      before: { [signedOnColumn[r.kind]]: null },
      after: { [signedOnColumn[r.kind]]: today, signed_by_name: name, request_id: r.id },
    })
    return { kind: r.kind, activated: await activateIfOnboarded(trx, r.enrolment_id) }
  })
}

/** accepted → active once both agreements are signed and the participant has an account. */
export async function activateIfOnboarded(trx: Trx, enrolmentId: string): Promise<boolean> {
  const e = await trx
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.status', 'e.school_contract_signed_on', 'e.sponsorship_agreement_signed_on', 'p.user_id'])
    .where('e.id', '=', enrolmentId)
    .executeTakeFirst()
  if (!e || e.status !== 'accepted' || !e.school_contract_signed_on || !e.sponsorship_agreement_signed_on || !e.user_id) return false
  await transitionEnrolment(trx, onboardingSystem, {
    enrolmentId,
    to: 'active',
    effectiveOn: londonDateOf(new Date()),
    reason: 'onboarding-complete',
    details: 'Both agreements signed and the participant has an account',
  })
  return true
}

const isConflict = (error: unknown) => error instanceof AppError && error.code === 'conflict'

/** Invites the participant to set a password (participant of the delivery partner) and links the account. */
export async function inviteParticipant(
  services: Services,
  by: Principal & { kind: 'user' },
  enrolmentId: string,
): Promise<{ activated: boolean }> {
  const o = await loadOnboarding(services.db, enrolmentId)
  if (!o) throw new AppError('not-found', 'Enrolment not found')
  if (o.user_id) throw new AppError('conflict', `${o.full_name} already has an account`)
  if (!o.delivery_partner_id) throw new AppError('unprocessable', 'Allocate the participant to a delivery partner before inviting them')
  try {
    await services.accounts.invite(by, {
      email: o.email,
      fullName: o.full_name,
      role: 'participant',
      organisationId: o.delivery_partner_id,
    })
  } catch (error) {
    // Already a participant of this partner (another course): link the account they have.
    if (!isConflict(error)) throw error
  }
  return inTransaction(services.db, async (trx) => {
    const user = await trx.selectFrom('users').select('id').where('email', '=', o.email.trim().toLowerCase()).executeTakeFirstOrThrow()
    await trx
      .updateTable('participants')
      .set({ user_id: user.id })
      .where('id', '=', o.participant_id)
      .where('user_id', 'is', null)
      .execute()
    await recordAudit(trx, {
      by,
      action: 'participant.account-linked',
      entityType: 'participant',
      entityId: o.participant_id,
      after: { user_id: user.id },
    })
    return { activated: await activateIfOnboarded(trx, enrolmentId) }
  })
}

/** Invites the line manager or mentor (line manager at the participant's school) and sets them on the enrolment. */
export async function inviteLineManager(
  services: Services,
  by: Principal & { kind: 'user' },
  enrolmentId: string,
  person: { fullName: string; email: string },
): Promise<void> {
  const problems = personProblems(person.fullName, person.email, 'line_manager', 'line manager')
  if (problems.length) throw new AppError('validation-failed', problems[0]!.message, problems)
  const o = await loadOnboarding(services.db, enrolmentId)
  if (!o) throw new AppError('not-found', 'Enrolment not found')
  if (!o.school_id) throw new AppError('unprocessable', 'The enrolment has no school for the line manager')
  try {
    await services.accounts.invite(by, {
      email: person.email,
      fullName: person.fullName,
      role: 'line-manager',
      organisationId: o.school_id,
    })
  } catch (error) {
    // Already a line manager at this school (of another participant): they are simply set on this enrolment.
    if (!isConflict(error)) throw error
  }
  await inTransaction(services.db, async (trx) => {
    const user = await trx.selectFrom('users').select('id').where('email', '=', person.email.trim().toLowerCase()).executeTakeFirstOrThrow()
    await trx.updateTable('enrolments').set({ line_manager_user_id: user.id }).where('id', '=', enrolmentId).execute()
    await recordAudit(trx, {
      by,
      action: 'enrolment.line-manager-set',
      entityType: 'enrolment',
      entityId: enrolmentId,
      before: { line_manager_user_id: o.line_manager_user_id },
      after: { line_manager_user_id: user.id },
    })
  })
}

export type FundingForm = { funding?: string; invoice_sent_on?: string; amount?: string; paid_on?: string }

/** Records how a place is funded and, for a school- or self-funded place, its invoice and payment. */
export async function recordFunding(db: Db, by: Principal & { kind: 'user' }, enrolmentId: string, form: FundingForm): Promise<void> {
  const errors: FieldError[] = []
  const funding = placeFundings.find((f) => f === form.funding)
  if (!funding) errors.push({ field: 'funding', message: 'Select who pays for the place' })
  const today = londonDateOf(new Date())
  const date = (field: 'invoice_sent_on' | 'paid_on', label: string) => {
    const v = (form[field] ?? '').trim()
    if (!v) return null
    if (!calendarDate.safeParse(v).success) errors.push({ field, message: `${label} must be a real date, like 2022-09-01` })
    else if (v > today) errors.push({ field, message: `${label} must be today or in the past` })
    else return v
    return null
  }
  const invoiceSentOn = date('invoice_sent_on', 'The date the invoice was sent')
  const paidOn = date('paid_on', 'The date it was paid')
  let amountPence: number | null = null
  if ((form.amount ?? '').trim()) {
    const parsed = parsePounds(form.amount!, 'The invoice amount')
    if ('error' in parsed) errors.push({ field: 'amount', message: parsed.error })
    else amountPence = parsed.pence
  }
  if (funding === 'dfe') {
    if (invoiceSentOn || amountPence || paidOn || (form.amount ?? '').trim()) {
      errors.push({ field: 'funding', message: 'A DfE-funded place has no invoice: clear the invoice details or choose who pays' })
    }
  } else if (funding) {
    if (invoiceSentOn && !amountPence && !errors.some((e) => e.field === 'amount')) {
      errors.push({ field: 'amount', message: 'Enter the invoice amount' })
    }
    if (amountPence && !invoiceSentOn && !errors.some((e) => e.field === 'invoice_sent_on')) {
      errors.push({ field: 'invoice_sent_on', message: 'Enter the date the invoice was sent' })
    }
    if (paidOn && !invoiceSentOn && !errors.some((e) => e.field === 'invoice_sent_on')) {
      errors.push({ field: 'paid_on', message: 'Record the invoice before its payment' })
    } else if (paidOn && invoiceSentOn && paidOn < invoiceSentOn) {
      errors.push({ field: 'paid_on', message: 'The date it was paid must be the same as or after the date the invoice was sent' })
    }
  }
  if (errors.length) throw new AppError('validation-failed', errors[0]!.message, errors)
  await db.transaction().execute(async (trx) => {
    const before = await trx.selectFrom('place_funding').selectAll().where('enrolment_id', '=', enrolmentId).forUpdate().executeTakeFirst()
    const values = { funding: funding!, invoice_sent_on: invoiceSentOn, amount_pence: amountPence, paid_on: paidOn }
    await trx
      .insertInto('place_funding')
      .values({ enrolment_id: enrolmentId, ...values, recorded_by: by.userId })
      .onConflict((oc) => oc.column('enrolment_id').doUpdateSet({ ...values, recorded_by: by.userId, recorded_at: new Date() }))
      .execute()
    await recordAudit(trx, {
      by,
      action: 'enrolment.funding-recorded',
      entityType: 'enrolment',
      entityId: enrolmentId,
      before: before
        ? { funding: before.funding, invoice_sent_on: before.invoice_sent_on, amount_pence: before.amount_pence, paid_on: before.paid_on }
        : null,
      after: values,
    })
  })
}

export const fundingText = (amountPence: number | null) => (amountPence === null ? '' : formatPence(amountPence))

/** The participant's welcome checklist for each enrolment still being set up (one not yet complete). */
export async function welcomeChecklists(db: Db, participantUserId: string) {
  const live: EnrolmentStatus[] = ['accepted', 'active']
  const rows = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select((eb) => [
      'e.id',
      'e.course_identifier',
      'e.cohort',
      'e.school_contract_signed_on',
      'e.sponsorship_agreement_signed_on',
      'e.line_manager_user_id',
      eb
        .exists(
          eb
            .selectFrom('bookings as b')
            .innerJoin('events as ev', 'ev.id', 'b.event_id')
            .select('b.id')
            .whereRef('b.participant_id', '=', 'p.id')
            .whereRef('ev.course_identifier', '=', 'e.course_identifier')
            .where('b.status', '=', 'booked')
            .where((w) => w.or([w('ev.kind', '=', 'induction'), w('ev.activity_code', 'ilike', '%INDUCTION%')])),
        )
        .as('induction_booked'),
      eb
        .exists(
          eb
            .selectFrom('learning_records as l')
            .select('l.id')
            .whereRef('l.participant_id', '=', 'p.id')
            .whereRef('l.course_identifier', '=', 'e.course_identifier')
            .where('l.retracted', '=', false),
        )
        .as('block_started'),
    ])
    .where('p.user_id', '=', participantUserId)
    .where('e.status', 'in', live)
    .orderBy('e.created_at')
    .execute()
  return rows
    .map((r) => {
      const course = findCourse(r.course_identifier)?.name ?? r.course_identifier
      const items = [
        { text: 'School contract signed', done: Boolean(r.school_contract_signed_on), hint: 'Your school signs this' },
        { text: 'Sponsorship agreement signed', done: Boolean(r.sponsorship_agreement_signed_on), hint: 'Your school signs this' },
        { text: 'Induction booked', done: Boolean(r.induction_booked), href: '/participant/events' },
        { text: 'Line manager or mentor confirmed', done: Boolean(r.line_manager_user_id), hint: 'Your lead provider invites them' },
        { text: 'First block started', done: Boolean(r.block_started), href: `/participant/courses/${r.course_identifier}` },
      ]
      return { id: r.id, course, cohort: r.cohort, items, complete: items.every((i) => i.done) }
    })
    .filter((c) => !c.complete)
}
