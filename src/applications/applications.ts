import crypto from 'node:crypto'
import { sql, type Selectable } from 'kysely'
import { z } from 'zod'
import { hashToken, randomToken } from '../accounts/tokens.ts'
import { recordAudit } from '../audit/audit.ts'
import { findCourse } from '../catalogue/courses.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import { defaultSchedule, schedulesForCourse } from '../catalogue/schedules.ts'
import type { Config } from '../config.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Db, Trx } from '../db/database.ts'
import type { ApplicationsTable, Establishment } from '../db/schema.ts'
import { queueDfeRequest } from '../dfe/requests.ts'
import type { EmailOutbox } from '../email/outbox.ts'
import { AppError, notFound } from '../errors.ts'
import { defineJob, type JobDefinition, type JobSender } from '../jobs/queue.ts'
import type { Logger } from '../logging.ts'
import type { Principal } from '../policy/principal.ts'
import { addDays, formAction, formDueOn } from './deadlines.ts'
import { checkEligibility, endorserLabels, endorserRoleFor, type EligibilityCheck } from './eligibility.ts'
import { placeInGroup } from '../groups/groups.ts'

// Applications (issue 7): stored from DfE's pull or a CSV upload; the short application form sent
// by email and returned through a one-time link; the endorsement given through another one-time link
// (the one_time_links table of the accounts, by purpose, with the application as subject); the
// admin's decision, which becomes a participant and an enrolment and is queued for DfE.

export type Application = Selectable<ApplicationsTable>
export type ApplicationDeps = { email: EmailOutbox; config: Config; catalogue: Catalogue; jobs?: JobSender }

export const formLinkPurpose = 'application-form'
export const endorsementLinkPurpose = 'application-endorsement'
const FORM_LINK_DAYS = 30
const ENDORSEMENT_LINK_DAYS = 14
export const autoRejectReason = 'Another application for this course and cohort was accepted'

const applicant: Principal = { kind: 'system', name: 'application-form' }
const endorser: Principal = { kind: 'system', name: 'endorsement-link' }
const deadlineJob: Principal = { kind: 'system', name: 'application-deadlines' }
const formSender: Principal = { kind: 'system', name: 'application-forms' }

export const statusLabels = { applied: 'Applied', accepted: 'Accepted', rejected: 'Rejected', expired: 'Expired' } as const

export function eligibilityOf(a: Application, today: string): EligibilityCheck[] {
  return checkEligibility(
    {
      courseIdentifier: a.course_identifier,
      establishment: a.establishment,
      inEngland: a.in_england,
      pupilPremiumUplift: a.pupil_premium_uplift,
      eligibleForFunding: a.eligible_for_funding,
      ineligibleForFundingReason: a.ineligible_for_funding_reason,
      headteacherStatus: a.headteacher_status,
      eyQualificationLevel: a.ey_qualification_level,
      headshipStartedOn: a.headship_started_on,
      npqhStatus: a.npqh_status,
    },
    today,
  )
}

/**
 * What stands in the way of accepting (issue 7): the form returned, the endorsement given and the
 * course's own entry rules met (NPQEYL Level 3, EHCO early headship). Failing the DfE funding check
 * does not: the place is accepted without DfE funding (funded_place false). An admin may accept
 * despite these, giving a reason (checked outside the platform, say), which is kept in the audit.
 */
export function acceptanceProblems(a: Application, today: string): string[] {
  const problems: string[] = []
  if (!a.form_returned_at) problems.push('The applicant has not returned the application form')
  else if (!a.endorsed_at)
    problems.push(
      `The ${endorserLabels[a.endorser_role ?? endorserRoleFor(a.course_identifier)].toLowerCase()} has not endorsed the application`,
    )
  for (const check of eligibilityOf(a, today))
    if ((check.rule === 'ey-level-3' || check.rule === 'ehco-early-headship') && check.outcome !== 'met')
      problems.push(`${check.label}: ${check.detail}`)
  return problems
}

/** The place DfE funds: only where DfE says the applicant is eligible and the funding check is not failed. */
export function fundedPlaceOf(a: Application, today: string): boolean {
  return a.eligible_for_funding && eligibilityOf(a, today).find((c) => c.rule === 'dfe-funding')?.outcome !== 'not-met'
}

// ── Arrival: DfE's pull ──────────────────────────────────────────────────────────────────────────

const dfeApplication = z.object({
  id: z.string().min(1),
  attributes: z.looseObject({
    participant_id: z.uuid().nullish(),
    teacher_reference_number: z.string().nullish(),
    full_name: z.string().min(1),
    email: z.string().nullish(),
    course_identifier: z.string().min(1),
    cohort: z.string().nullish(),
    school_urn: z.string().nullish(),
    private_childcare_provider_urn: z.string().nullish(),
    employer_name: z.string().nullish(),
    employment_role: z.string().nullish(),
    funding_choice: z.string().nullish(),
    eligible_for_funding: z.boolean().nullish(),
    ineligible_for_funding_reason: z.string().nullish(),
    headteacher_status: z.string().nullish(),
    targeted_delivery_funding_eligibility: z.boolean().nullish(),
    teacher_catchment: z.boolean().nullish(),
    teacher_catchment_iso_country_code: z.string().nullish(),
    status: z.string().nullish(),
    reason_for_rejection: z.string().nullish(),
  }),
})

/** Where DfE's fields say the applicant works, for the funding check. */
function establishmentOf(a: z.infer<typeof dfeApplication>['attributes']): Establishment | null {
  if (a.ineligible_for_funding_reason === 'establishment-ineligible') return 'other'
  if (a.school_urn) return 'state-school'
  if (a.private_childcare_provider_urn) return 'early-years'
  return null
}

/**
 * Stores DfE's applications for a lead provider: new ones are added (`applied`, or DfE's decision),
 * known ones get DfE's latest details; an application still waiting here that DfE has rejected
 * (DfE's own auto-rejection, say) is rejected here too. Rows DfE sends that cannot be read are skipped and counted.
 */
export async function storeDfeApplications(
  trx: Trx,
  leadProviderId: string,
  data: unknown[],
  by: Principal,
): Promise<{ created: number; updated: number; skipped: number }> {
  const counts = { created: 0, updated: 0, skipped: 0 }
  for (const item of data) {
    const parsed = dfeApplication.safeParse(item)
    const a = parsed.success ? parsed.data.attributes : null
    if (!parsed.success || !a || !/^[0-9]{7}$/.test(a.teacher_reference_number ?? '') || !findCourse(a.course_identifier)) {
      counts.skipped++
      continue
    }
    const details = {
      participant_id: a.participant_id ?? null,
      trn: a.teacher_reference_number!,
      full_name: a.full_name,
      email: (a.email ?? '').trim().toLowerCase(),
      course_identifier: a.course_identifier,
      cohort: a.cohort ?? null,
      school_urn: a.school_urn ?? null,
      employer_name: a.employer_name ?? null,
      employment_role: a.employment_role ?? null,
      funding_choice: a.funding_choice ?? null,
      eligible_for_funding: a.eligible_for_funding ?? false,
      ineligible_for_funding_reason: a.ineligible_for_funding_reason ?? null,
      headteacher_status: a.headteacher_status ?? null,
      establishment: establishmentOf(a),
      in_england:
        a.teacher_catchment === false
          ? false
          : a.teacher_catchment_iso_country_code
            ? a.teacher_catchment_iso_country_code === 'GBR'
            : null,
      pupil_premium_uplift: a.targeted_delivery_funding_eligibility ?? false,
    }
    const existing = await trx
      .selectFrom('applications')
      .select(['id', 'status', 'lead_provider_id'])
      .where('dfe_application_id', '=', parsed.data.id)
      .forUpdate()
      .executeTakeFirst()
    if (!existing) {
      const status = a.status === 'accepted' || a.status === 'rejected' ? 'rejected' : 'applied'
      // An application DfE says was accepted elsewhere (before the platform) is kept as rejected here:
      // it has no enrolment of ours. Only DfE's `pending` ones wait for a decision.
      const row = await trx
        .insertInto('applications')
        .values({
          lead_provider_id: leadProviderId,
          source: 'dfe',
          dfe_application_id: parsed.data.id,
          ...details,
          status,
          ...(status === 'rejected'
            ? { reason_for_rejection: a.reason_for_rejection ?? `DfE status: ${a.status}`, decided_at: new Date() }
            : {}),
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      await recordAudit(trx, {
        by,
        action: 'application.received',
        entityType: 'application',
        entityId: row.id,
        after: { source: 'dfe', status },
      })
      counts.created++
      continue
    }
    const rejectedAtDfe = existing.status === 'applied' && a.status === 'rejected'
    await trx
      .updateTable('applications')
      .set({
        ...details,
        updated_at: new Date(),
        ...(rejectedAtDfe
          ? { status: 'rejected', reason_for_rejection: a.reason_for_rejection ?? 'Rejected at DfE', decided_at: new Date() }
          : {}),
      })
      .where('id', '=', existing.id)
      .execute()
    if (rejectedAtDfe)
      await recordAudit(trx, {
        by,
        action: 'application.rejected',
        entityType: 'application',
        entityId: existing.id,
        after: { source: 'dfe' },
      })
    counts.updated++
  }
  return counts
}

// ── One-time links ───────────────────────────────────────────────────────────────────────────────

async function createLink(trx: Trx, purpose: string, applicationId: string, days: number): Promise<string> {
  const token = randomToken()
  await trx
    .insertInto('one_time_links')
    .values({ token_hash: hashToken(token), purpose, subject_id: applicationId, expires_at: new Date(Date.now() + days * 24 * 3600_000) })
    .execute()
  return token
}

/** The application a link is for, locked; a link used before or past its time is refused with words for the page. */
async function openLink(trx: Trx | Db, token: string, purpose: string, options: { use: boolean }): Promise<Application> {
  let q = trx.selectFrom('one_time_links').select(['id', 'subject_id', 'used_at', 'expires_at']).where('token_hash', '=', hashToken(token))
  if (options.use) q = q.forUpdate()
  const link = await q.where('purpose', '=', purpose).executeTakeFirst()
  if (!link?.subject_id) throw new AppError('not-found', 'This link is not valid: check it is the whole link from the email')
  if (link.used_at) throw new AppError('invalid-transition', 'This link has already been used: it works once')
  if (new Date(link.expires_at) <= new Date()) throw new AppError('invalid-transition', 'This link has expired')
  const application = await trx.selectFrom('applications').selectAll().where('id', '=', link.subject_id).executeTakeFirst()
  if (!application) throw notFound('Application')
  if (options.use) await trx.updateTable('one_time_links').set({ used_at: new Date() }).where('id', '=', link.id).execute()
  return application
}

export const findFormLink = (db: Db, token: string) => openLink(db, token, formLinkPurpose, { use: false })
export const findEndorsementLink = (db: Db, token: string) => openLink(db, token, endorsementLinkPurpose, { use: false })

async function lockApplication(trx: Trx, id: string, leadProviderId?: string): Promise<Application> {
  let q = trx.selectFrom('applications').selectAll().where('id', '=', id)
  if (leadProviderId) q = q.where('lead_provider_id', '=', leadProviderId)
  const a = await q.forUpdate().executeTakeFirst()
  if (!a) throw notFound('Application')
  return a
}

const courseName = (identifier: string) => findCourse(identifier)?.name ?? identifier

// ── The short application form ───────────────────────────────────────────────────────────────────

/** Emails the applicant a link to the form; they have 5 days. Sending again starts the 5 days again. */
export async function sendApplicationForm(
  trx: Trx,
  deps: ApplicationDeps,
  by: Principal,
  id: string,
  leadProviderId: string,
): Promise<void> {
  const a = await lockApplication(trx, id, leadProviderId)
  if (a.status !== 'applied') throw new AppError('invalid-transition', `This application is ${a.status}: no form can be sent`)
  if (a.form_returned_at) throw new AppError('invalid-transition', 'The applicant has already returned the form')
  const today = londonDateOf(new Date())
  const token = await createLink(trx, formLinkPurpose, a.id, FORM_LINK_DAYS)
  await trx
    .updateTable('applications')
    .set({ form_sent_on: today, form_due_on: formDueOn(today), form_reminded_at: null, updated_at: new Date() })
    .where('id', '=', a.id)
    .execute()
  await deps.email.queue(trx, {
    to: a.email,
    subject: `Your application for the ${courseName(a.course_identifier)}`,
    body:
      `Hello ${a.full_name},\n\nThank you for applying for the ${courseName(a.course_identifier)}. Please answer a few short questions ` +
      `by ${formDueOn(today)} (within 5 days):\n${deps.config.baseUrl}/application-form/${token}\n`,
  })
  await recordAudit(trx, {
    by,
    action: 'application.form-sent',
    entityType: 'application',
    entityId: a.id,
    after: { due_on: formDueOn(today) },
  })
}

export const formAnswers = z.object({
  endorser_name: z.string().trim().min(1, 'Enter the name of the person who will endorse your application').max(200),
  endorser_email: z.string().trim().toLowerCase().pipe(z.email('Enter their email address, like name@school.example')),
  ey_qualification_level: z.number().int().min(1).max(8).nullable(),
  headship_started_on: z.string().nullable(),
  npqh_status: z.enum(['none', 'in-progress', 'completed']).nullable(),
})
export type FormAnswers = z.infer<typeof formAnswers>

/** The applicant returns the form: the answers are kept and the endorser is emailed their link. */
export async function submitApplicationForm(db: Db, deps: ApplicationDeps, token: string, answers: FormAnswers): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const found = await openLink(trx, token, formLinkPurpose, { use: false })
    const a = await lockApplication(trx, found.id)
    if (a.status !== 'applied')
      throw new AppError('invalid-transition', `This application is ${a.status}: the form can no longer be returned`)
    if (a.form_due_on && londonDateOf(new Date()) > a.form_due_on)
      throw new AppError('invalid-transition', `The form was due by ${a.form_due_on}: contact your lead provider`)
    await openLink(trx, token, formLinkPurpose, { use: true })
    const role = endorserRoleFor(a.course_identifier)
    await trx
      .updateTable('applications')
      .set({
        form_returned_at: new Date(),
        endorser_name: answers.endorser_name,
        endorser_email: answers.endorser_email,
        endorser_role: role,
        ey_qualification_level: answers.ey_qualification_level,
        headship_started_on: answers.headship_started_on,
        npqh_status: answers.npqh_status,
        endorsement_requested_at: new Date(),
        updated_at: new Date(),
      })
      .where('id', '=', a.id)
      .execute()
    const endorsement = await createLink(trx, endorsementLinkPurpose, a.id, ENDORSEMENT_LINK_DAYS)
    await deps.email.queue(trx, {
      to: answers.endorser_email,
      subject: `Endorse ${a.full_name}'s application for the ${courseName(a.course_identifier)}`,
      body:
        `Hello ${answers.endorser_name},\n\n${a.full_name} has applied for the ${courseName(a.course_identifier)} and named you ` +
        `(${endorserLabels[role].toLowerCase()}) to endorse the application. Every application needs this.\n\n` +
        `Endorse it here (the link works once and expires in ${ENDORSEMENT_LINK_DAYS} days):\n${deps.config.baseUrl}/endorse/${endorsement}\n`,
    })
    await recordAudit(trx, { by: applicant, action: 'application.form-returned', entityType: 'application', entityId: a.id })
  })
}

/** The school contact endorses through their link: who and when are recorded; the link is spent. */
export async function giveEndorsement(db: Db, token: string, name: string): Promise<Application> {
  const by = name.trim()
  if (!by) throw new AppError('validation-failed', 'Enter your full name', [{ field: 'name', message: 'Enter your full name' }])
  return db.transaction().execute(async (trx) => {
    const a = await openLink(trx, token, endorsementLinkPurpose, { use: true })
    if (a.status !== 'applied')
      throw new AppError('invalid-transition', `This application is ${a.status}: it no longer needs an endorsement`)
    await trx
      .updateTable('applications')
      .set({ endorsed_at: new Date(), endorsed_by_name: by.slice(0, 200), endorsed_by_email: a.endorser_email, updated_at: new Date() })
      .where('id', '=', a.id)
      .execute()
    await recordAudit(trx, {
      by: endorser,
      action: 'application.endorsed',
      entityType: 'application',
      entityId: a.id,
      after: { endorsed_by_name: by, endorsed_by_email: a.endorser_email },
    })
    return a
  })
}

/** An admin gives the applicant more days (from the current due date, or today if later). */
export async function extendForm(
  trx: Trx,
  by: Principal & { kind: 'user' },
  id: string,
  leadProviderId: string,
  days: number,
): Promise<string> {
  if (!Number.isInteger(days) || days < 1 || days > 28)
    throw new AppError('validation-failed', 'Enter a number of days from 1 to 28', [
      { field: 'days', message: 'Enter a number of days from 1 to 28' },
    ])
  const a = await lockApplication(trx, id, leadProviderId)
  if (a.status !== 'applied' && a.status !== 'expired')
    throw new AppError('invalid-transition', `This application is ${a.status}: its form cannot be extended`)
  if (!a.form_sent_on || !a.form_due_on) throw new AppError('invalid-transition', 'The form has not been sent yet')
  if (a.form_returned_at) throw new AppError('invalid-transition', 'The form has already been returned')
  const today = londonDateOf(new Date())
  const dueOn = addDays(a.form_due_on > today ? a.form_due_on : today, days)
  // An expired application comes back to life: the applicant may still return the form.
  await trx
    .updateTable('applications')
    .set({ form_due_on: dueOn, form_extended_by: by.userId, status: 'applied', updated_at: new Date() })
    .where('id', '=', a.id)
    .execute()
  await recordAudit(trx, {
    by,
    action: 'application.form-extended',
    entityType: 'application',
    entityId: a.id,
    before: { due_on: a.form_due_on, status: a.status },
    after: { due_on: dueOn, status: 'applied' },
  })
  return dueOn
}

/** The daily job: a reminder on day 3, expiry after the due date. */
export async function runFormDeadlines(
  db: Db,
  deps: ApplicationDeps,
  today = londonDateOf(new Date()),
): Promise<{ reminded: number; expired: number }> {
  const open = await db
    .selectFrom('applications')
    .select('id')
    .where('status', '=', 'applied')
    .where('form_sent_on', 'is not', null)
    .where('form_returned_at', 'is', null)
    .execute()
  const counts = { reminded: 0, expired: 0 }
  for (const { id } of open) {
    await db.transaction().execute(async (trx) => {
      const a = await lockApplication(trx, id)
      if (a.status !== 'applied') return
      const action = formAction(
        { sentOn: a.form_sent_on, dueOn: a.form_due_on, remindedAt: a.form_reminded_at, returnedAt: a.form_returned_at },
        today,
      )
      if (action === 'remind') {
        await trx.updateTable('applications').set({ form_reminded_at: new Date() }).where('id', '=', a.id).execute()
        await deps.email.queue(trx, {
          to: a.email,
          subject: `Reminder: your application form for the ${courseName(a.course_identifier)}`,
          body: `Hello ${a.full_name},\n\nYour application form is due by ${a.form_due_on}. Use the link in our earlier email to return it.\n`,
        })
        await recordAudit(trx, { by: deadlineJob, action: 'application.form-reminded', entityType: 'application', entityId: a.id })
        counts.reminded++
      }
      if (action === 'expire') {
        await trx.updateTable('applications').set({ status: 'expired', updated_at: new Date() }).where('id', '=', a.id).execute()
        await recordAudit(trx, {
          by: deadlineJob,
          action: 'application.expired',
          entityType: 'application',
          entityId: a.id,
          after: { due_on: a.form_due_on },
        })
        counts.expired++
      }
    })
  }
  return counts
}

// ── The decision ─────────────────────────────────────────────────────────────────────────────────

export type Allocation = { deliveryPartnerId: string; cohort: string; scheduleIdentifier: string }

const refusedDecision = (a: Application, verb: string) =>
  new AppError(
    'invalid-transition',
    a.status === 'expired'
      ? `This application expired: its form was not returned by ${a.form_due_on}. Extend the form to reopen it before you ${verb} it`
      : `This application is already ${a.status}: only an application waiting for a decision can be ${verb}ed`,
  )

/**
 * Accepts: allocates a delivery partner, cohort and schedule; creates the participant (if new) and
 * the enrolment (accepted, with its first transition); rejects the person's other applications for
 * the same course and cohort (DfE does the same on its side, so those are not sent); queues DfE's accept.
 */
export async function acceptApplication(
  trx: Trx,
  deps: ApplicationDeps,
  by: Principal & { kind: 'user' },
  id: string,
  lead: { id: string; code: string },
  choice: { deliveryPartnerId?: string; cohort?: string; scheduleIdentifier?: string; overrideReason?: string },
): Promise<{ enrolmentId: string; participantId: string; autoRejected: number }> {
  const a = await lockApplication(trx, id, lead.id)
  if (a.status !== 'applied') throw refusedDecision(a, 'accept')
  const today = londonDateOf(new Date())
  const blockers = acceptanceProblems(a, today)
  const overrideReason = choice.overrideReason?.trim() ?? ''
  // Every missing answer at once, in the form's order: partner, cohort, then the reason to accept all the same.
  const problems = []
  if (!choice.deliveryPartnerId) problems.push({ field: 'deliveryPartner', message: 'Select a delivery partner' })
  if (!choice.cohort) problems.push({ field: 'cohort', message: 'Select a cohort' })
  if (blockers.length && !overrideReason)
    problems.push({ field: 'override', message: `${blockers.join('. ')}. To accept all the same, give your reason` })
  if (problems.length) throw new AppError('validation-failed', problems[0]!.message, problems)
  const partner = await trx
    .selectFrom('delivery_partnerships')
    .select('delivery_partner_id')
    .where('lead_provider_id', '=', lead.id)
    .where('delivery_partner_id', '=', choice.deliveryPartnerId!)
    .executeTakeFirst()
  if (!partner)
    throw new AppError('validation-failed', 'Select one of your delivery partners', [
      { field: 'deliveryPartner', message: 'Select one of your delivery partners' },
    ])
  if (!deps.catalogue.cohortsFor(lead.code, a.course_identifier).includes(choice.cohort!))
    throw new AppError('validation-failed', 'Select a cohort that runs this course', [
      { field: 'cohort', message: 'Select a cohort that runs this course' },
    ])
  const schedule = choice.scheduleIdentifier || defaultSchedule(a.course_identifier, choice.cohort!)
  if (!schedulesForCourse(a.course_identifier).includes(schedule))
    throw new AppError('validation-failed', 'Select a schedule for this course', [
      { field: 'schedule', message: 'Select a schedule for this course' },
    ])

  // The person: DfE's participant id, else whoever holds the TRN, else someone new.
  const byTrn = await trx.selectFrom('participants').select(['id']).where('trn', '=', a.trn).executeTakeFirst()
  if (byTrn && a.participant_id && byTrn.id !== a.participant_id)
    throw new AppError('conflict', `TRN ${a.trn} belongs to participant ${byTrn.id}, but DfE names participant ${a.participant_id}`)
  const participantId = byTrn?.id ?? a.participant_id ?? crypto.randomUUID()
  if (!byTrn) {
    const taken = await trx.selectFrom('participants').select('trn').where('id', '=', participantId).executeTakeFirst()
    if (taken) throw new AppError('conflict', `Participant ${participantId} has TRN ${taken.trn}, not ${a.trn}`)
    await trx.insertInto('participants').values({ id: participantId, full_name: a.full_name, email: a.email, trn: a.trn }).execute()
    await recordAudit(trx, {
      by,
      action: 'participant.created',
      entityType: 'participant',
      entityId: participantId,
      after: { from_application: a.id },
    })
  }
  const enrolled = await trx
    .selectFrom('enrolments')
    .select('id')
    .where('participant_id', '=', participantId)
    .where('course_identifier', '=', a.course_identifier)
    .executeTakeFirst()
  if (enrolled) throw new AppError('conflict', `${a.full_name} is already enrolled on this course`)

  const school = a.school_urn
    ? await trx.selectFrom('organisations').select('id').where('kind', '=', 'school').where('code', '=', a.school_urn).executeTakeFirst()
    : undefined
  const enrolment = await trx
    .insertInto('enrolments')
    .values({
      participant_id: participantId,
      lead_provider_id: lead.id,
      delivery_partner_id: partner.delivery_partner_id,
      school_id: school?.id ?? null,
      course_identifier: a.course_identifier,
      cohort: choice.cohort!,
      status: 'accepted',
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  // The enrolment's first transition (from nothing), in the timeline like every later one.
  await trx
    .insertInto('enrolment_transitions')
    .values({
      enrolment_id: enrolment.id,
      from_status: null,
      to_status: 'accepted',
      effective_on: today,
      reason: 'application-accepted',
      recorded_by: by.userId,
    })
    .execute()
  await recordAudit(trx, {
    by,
    action: 'enrolment.created',
    entityType: 'enrolment',
    entityId: enrolment.id,
    after: { status: 'accepted', application_id: a.id, cohort: choice.cohort, delivery_partner_id: partner.delivery_partner_id },
  })
  await trx
    .updateTable('applications')
    .set({
      status: 'accepted',
      decided_by: by.userId,
      decided_at: new Date(),
      delivery_partner_id: partner.delivery_partner_id,
      accepted_cohort: choice.cohort!,
      schedule_identifier: schedule,
      enrolment_id: enrolment.id,
      participant_id: participantId,
      funded_place: fundedPlaceOf(a, today),
      updated_at: new Date(),
    })
    .where('id', '=', a.id)
    .execute()
  await recordAudit(trx, {
    by,
    action: 'application.accepted',
    entityType: 'application',
    entityId: a.id,
    after: {
      delivery_partner_id: partner.delivery_partner_id,
      cohort: choice.cohort,
      schedule_identifier: schedule,
      enrolment_id: enrolment.id,
      funded_place: fundedPlaceOf(a, today),
      ...(blockers.length ? { accepted_despite: blockers, override_reason: overrideReason } : {}),
    },
  })

  // Same person, course and cohort (DfE's cohort year; the chosen cohort's year where DfE gave none).
  const cohortYear = a.cohort ?? choice.cohort!.slice(0, 4)
  const others = await trx
    .updateTable('applications')
    .set({
      status: 'rejected',
      reason_for_rejection: autoRejectReason,
      decided_by: by.userId,
      decided_at: new Date(),
      updated_at: new Date(),
    })
    .where('id', '<>', a.id)
    .where('lead_provider_id', '=', lead.id)
    .where('trn', '=', a.trn)
    .where('course_identifier', '=', a.course_identifier)
    .where('status', 'in', ['applied', 'expired'])
    .where((eb) => eb.or([eb('cohort', '=', cohortYear), eb('cohort', 'is', null)]))
    .returning('id')
    .execute()
  for (const other of others)
    await recordAudit(trx, {
      by,
      action: 'application.rejected',
      entityType: 'application',
      entityId: other.id,
      after: { reason: autoRejectReason, accepted_application_id: a.id },
    })
  // Placed in the delivery partner's group for the course and cohort (onboarding, seed 001).
  await placeInGroup(trx, by, enrolment.id)
  if (a.dfe_application_id)
    await queueDfeRequest(trx, { leadProviderId: lead.id, kind: 'accept-application', subjectId: a.id, queuedBy: by, jobs: deps.jobs })
  return { enrolmentId: enrolment.id, participantId, autoRejected: others.length }
}

export async function rejectApplication(
  trx: Trx,
  deps: ApplicationDeps,
  by: Principal & { kind: 'user' },
  id: string,
  leadProviderId: string,
  reason: string,
): Promise<void> {
  const a = await lockApplication(trx, id, leadProviderId)
  // An expired application may still be rejected: it closes it at DfE too.
  if (a.status !== 'applied' && a.status !== 'expired') throw refusedDecision(a, 'reject')
  const why = reason.trim()
  if (!why)
    throw new AppError('validation-failed', 'Enter the reason for rejecting', [
      { field: 'reason', message: 'Enter the reason for rejecting' },
    ])
  await trx
    .updateTable('applications')
    .set({
      status: 'rejected',
      reason_for_rejection: why.slice(0, 1000),
      decided_by: by.userId,
      decided_at: new Date(),
      updated_at: new Date(),
    })
    .where('id', '=', a.id)
    .execute()
  await recordAudit(trx, {
    by,
    action: 'application.rejected',
    entityType: 'application',
    entityId: a.id,
    before: { status: a.status },
    after: { reason: why },
  })
  if (a.dfe_application_id)
    await queueDfeRequest(trx, { leadProviderId, kind: 'reject-application', subjectId: a.id, queuedBy: by, jobs: deps.jobs })
}

/**
 * Changes whether DfE funds an accepted place (DfE's change-funded-place): true only where DfE says
 * the applicant is eligible for funding, as DfE enforces.
 */
export async function changeFundedPlace(
  trx: Trx,
  deps: ApplicationDeps,
  by: Principal & { kind: 'user' },
  id: string,
  leadProviderId: string,
  fundedPlace: boolean | null,
): Promise<void> {
  const a = await lockApplication(trx, id, leadProviderId)
  const refuse = (message: string) => new AppError('validation-failed', message, [{ field: 'funded_place', message }])
  if (a.status !== 'accepted') throw refuse('Only an accepted application has a place to fund')
  if (fundedPlace === null) throw refuse('Select whether DfE funds this place')
  if (fundedPlace === a.funded_place) throw refuse(`The place is already ${fundedPlace ? '' : 'not '}funded by DfE`)
  if (fundedPlace && !a.eligible_for_funding)
    throw refuse('DfE says this applicant is not eligible for funding: the place cannot be funded')
  await trx.updateTable('applications').set({ funded_place: fundedPlace, updated_at: new Date() }).where('id', '=', a.id).execute()
  await recordAudit(trx, {
    by,
    action: 'application.funded-place-changed',
    entityType: 'application',
    entityId: a.id,
    before: { funded_place: a.funded_place },
    after: { funded_place: fundedPlace },
  })
  if (a.dfe_application_id)
    await queueDfeRequest(trx, { leadProviderId, kind: 'change-funded-place', subjectId: a.id, queuedBy: by, jobs: deps.jobs })
}

/**
 * Sends the application form to every new application that has not had it (the lead provider sends
 * it on arrival, seed 001): run every few minutes, so applications from DfE's pull or a file get it
 * without anyone pressing a button. Returns how many were sent.
 */
export async function sendNewApplicationForms(db: Db, deps: ApplicationDeps): Promise<number> {
  const waiting = await db
    .selectFrom('applications')
    .select(['id', 'lead_provider_id'])
    .where('status', '=', 'applied')
    .where('form_sent_on', 'is', null)
    .where('form_returned_at', 'is', null)
    .orderBy('received_at')
    .execute()
  let sent = 0
  for (const w of waiting)
    await db.transaction().execute(async (trx) => {
      const a = await lockApplication(trx, w.id)
      if (a.status !== 'applied' || a.form_sent_on !== null) return
      await sendApplicationForm(trx, deps, formSender, a.id, w.lead_provider_id)
      sent++
    })
  return sent
}

export function applicationJobDefinitions(deps: ApplicationDeps & { db: Db; logger: Logger }): JobDefinition[] {
  return [
    defineJob({
      name: 'application-form-deadlines',
      schema: z.object({}),
      retryLimit: 2,
      retryDelay: 300,
      schedule: '15 7 * * *',
      handler: async () => {
        const counts = await runFormDeadlines(deps.db, deps)
        deps.logger.info(counts, 'application form deadlines')
      },
    }),
    defineJob({
      name: 'application-forms',
      schema: z.object({}),
      retryLimit: 2,
      retryDelay: 60,
      schedule: '*/10 * * * *',
      handler: async () => {
        const sent = await sendNewApplicationForms(deps.db, deps)
        if (sent) deps.logger.info({ sent }, 'application forms sent')
      },
    }),
  ]
}

/** For the list's filters: counts by status for one lead provider. */
export async function statusCounts(db: Db, leadProviderId: string): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('applications')
    .select(['status', sql<number>`count(*)::int`.as('n')])
    .where('lead_provider_id', '=', leadProviderId)
    .groupBy('status')
    .execute()
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]))
}
