import { loadUserPrincipal } from '../accounts/principals.ts'
import { recordAudit } from '../audit/audit.ts'
import {
  acceptApplication,
  giveEndorsement,
  rejectApplication,
  sendApplicationForm,
  submitApplicationForm,
  type Application,
  type FormAnswers,
} from '../applications/applications.ts'
import { addDays } from '../applications/deadlines.ts'
import { londonDateOf } from '../dates/london.ts'
import type { Establishment } from '../db/schema.ts'
import { addMonths, decideDeferral, recordConversation, requestDeferral, requestWithdrawal } from '../lifecycle/requests.ts'
import { recordFunding, sendAgreements } from '../onboarding/onboarding.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'
import type { DemoEnrolment } from './demo-evidence.ts'

// The lifecycle pages for the demo lead provider (EDT, administered by lead-provider-admin@demo.test)
// and its delivery partner North Star (delivery-partner-lead@demo.test), so a new user finds them in use:
//   applications  at each stage an admin meets: new, form sent, form returned (endorsement asked),
//                 endorsed and ready, failing an eligibility check, rejected, and two accepted;
//   onboarding    the accepted places: agreements sent to Oakfield's contact and not signed; a
//                 school-funded place invoiced and not paid;
//   requests      on North Star's own EDT participants: a deferral waiting for the partner's
//                 conversation, one waiting for EDT's decision, an approved one (deferred now), a
//                 withdrawal waiting for confirmation.
// Everything goes through the same functions as the pages (audit entries, emails, DfE's queue), each
// step in its own transaction as those functions need. It runs after the rest of the demo has been
// committed; every step first looks at what is there, so a second run (or a run after one that stopped
// half way) does only what is missing. Dates are relative to today so the pages look current.

type Stage = 'received' | 'sent' | 'returned' | 'endorsed' | 'accepted' | 'rejected'
const stageOrder: Stage[] = ['received', 'sent', 'returned', 'endorsed']

type DemoApplication = {
  trn: string
  fullName: string
  course: string
  schoolUrn: string | null
  employerName: string
  establishment: Establishment
  pupilPremiumUplift?: boolean
  ineligibleReason?: string
  fundingChoice?: string
  endorser?: { name: string; email: string }
  eyQualificationLevel?: number
  stage: Stage
  rejection?: string
}

/** DfE's cohort year of every demo application: EDT's latest cohort (2025-spring) is in it. */
const cohortYear = '2025'
const acceptInto = '2025-spring'

const applications: DemoApplication[] = [
  {
    trn: '3610001',
    fullName: 'Hannah Whitfield',
    course: 'npq-senior-leadership',
    schoolUrn: '100002',
    employerName: 'Riverside Academy',
    establishment: 'state-school',
    stage: 'received',
  },
  {
    trn: '3610002',
    fullName: 'Samuel Okoro',
    course: 'npq-leading-teaching',
    schoolUrn: '100003',
    employerName: 'Hillcrest High School',
    establishment: 'state-school',
    pupilPremiumUplift: true,
    stage: 'sent',
  },
  {
    trn: '3610003',
    fullName: 'Eleanor Marsh',
    course: 'npq-headship',
    schoolUrn: '100001',
    employerName: 'Oakfield Primary School',
    establishment: 'state-school',
    endorser: { name: 'Rachel Shaw', email: 'rachel.shaw@oakfield-primary.example.com' },
    stage: 'returned',
  },
  {
    trn: '3610004',
    fullName: 'Marcus Reid',
    course: 'npq-leading-behaviour-culture',
    schoolUrn: '100003',
    employerName: 'Hillcrest High School',
    establishment: 'state-school',
    pupilPremiumUplift: true,
    endorser: { name: 'David Achebe', email: 'david.achebe@hillcrest-high.example.com' },
    stage: 'endorsed',
  },
  {
    // Fails the NPQEYL check: qualified to Level 2 only.
    trn: '3610005',
    fullName: 'Charlotte Hughes',
    course: 'npq-early-years-leadership',
    schoolUrn: '100004',
    employerName: 'Meadowbank Nursery School',
    establishment: 'state-school',
    endorser: { name: 'Joanne Price', email: 'joanne.price@meadowbank-nursery.example.com' },
    eyQualificationLevel: 2,
    stage: 'endorsed',
  },
  {
    // An independent school asking for DfE funding: rejected.
    trn: '3610006',
    fullName: 'Rupert Ashworth',
    course: 'npq-senior-leadership',
    schoolUrn: null,
    employerName: 'St Aldhelm’s College (independent)',
    establishment: 'independent',
    ineligibleReason: 'establishment-ineligible',
    stage: 'rejected',
    rejection:
      'Works at an independent school, so the place cannot be DfE funded, and the application asks for DfE funding. ' +
      'We have invited the applicant to apply again with their school paying.',
  },
  {
    // Accepted; onboarding: the agreements are with Oakfield's contact, not signed.
    trn: '3610007',
    fullName: 'Tom Fletcher',
    course: 'npq-senior-leadership',
    schoolUrn: '100001',
    employerName: 'Oakfield Primary School',
    establishment: 'state-school',
    endorser: { name: 'Rachel Shaw', email: 'rachel.shaw@oakfield-primary.example.com' },
    stage: 'accepted',
  },
  {
    // Accepted; onboarding: funded before, so the school pays: invoiced, not paid yet.
    trn: '3610008',
    fullName: 'Lucy Brennan',
    course: 'npq-leading-literacy',
    schoolUrn: '100002',
    employerName: 'Riverside Academy',
    establishment: 'state-school',
    ineligibleReason: 'previously-funded',
    fundingChoice: 'school',
    endorser: { name: 'Imran Siddiqui', email: 'imran.siddiqui@riverside-academy.example.com' },
    stage: 'accepted',
  },
]

const emailOf = (fullName: string) => `${fullName.toLowerCase().replace(/[^a-z]+/g, '.')}@schools.demo.test`

async function userPrincipal(services: Services, email: string): Promise<Principal & { kind: 'user' }> {
  const user = await services.db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirstOrThrow()
  const principal = await loadUserPrincipal(services.db, user.id)
  if (principal?.kind !== 'user') throw new Error(`The demo account ${email} is not active`)
  return principal
}

/** The link in the latest email to `to` whose path starts with `path` (as the person would click it). */
async function tokenFromEmail(services: Services, to: string, path: string): Promise<string> {
  const emails = await services.db
    .selectFrom('email_outbox')
    .select('body')
    .where('to_address', '=', to)
    .where('body', 'like', `%/${path}/%`)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .execute()
  for (const { body } of emails) {
    const match = new RegExp(`/${path}/([A-Za-z0-9_-]+)`).exec(body)
    if (match) return match[1]!
  }
  throw new Error(`No ${path} link was emailed to ${to}`)
}

export async function addDemoLifecycle(
  services: Services,
  demoEnrolments: DemoEnrolment[],
  progress: (line: string) => void = () => {},
): Promise<number> {
  const { db } = services
  const admin = await userPrincipal(services, 'lead-provider-admin@demo.test')
  const partnerLead = await userPrincipal(services, 'delivery-partner-lead@demo.test')
  const org = async (kind: 'lead-provider' | 'delivery-partner', code: string) =>
    (await db.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow()).id
  const lead = { id: await org('lead-provider', 'edt'), code: 'edt' }
  const northStar = await org('delivery-partner', 'north-star-tsh')
  const today = londonDateOf(new Date())
  let created = 0

  progress('demo: applications')
  const accepted = new Map<string, string>()
  for (const spec of applications) {
    const email = emailOf(spec.fullName)
    const find = () =>
      db
        .selectFrom('applications')
        .selectAll()
        .where('lead_provider_id', '=', lead.id)
        .where('trn', '=', spec.trn)
        .where('course_identifier', '=', spec.course)
        .executeTakeFirst()
    let a: Application | undefined = await find()
    if (!a) {
      // As if uploaded by the admin (the applications import): DfE's fields, no DfE id, so nothing goes to DfE.
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('applications')
          .values({
            lead_provider_id: lead.id,
            source: 'csv',
            trn: spec.trn,
            full_name: spec.fullName,
            email,
            course_identifier: spec.course,
            cohort: cohortYear,
            school_urn: spec.schoolUrn,
            employer_name: spec.employerName,
            funding_choice: spec.fundingChoice ?? null,
            eligible_for_funding: spec.establishment === 'state-school' && !spec.ineligibleReason,
            ineligible_for_funding_reason: spec.ineligibleReason ?? null,
            establishment: spec.establishment,
            in_england: true,
            pupil_premium_uplift: spec.pupilPremiumUplift ?? false,
          })
          .returning('id')
          .executeTakeFirstOrThrow()
        await recordAudit(trx, {
          by: admin,
          action: 'application.received',
          entityType: 'application',
          entityId: row.id,
          after: { source: 'csv' },
        })
      })
      created++
      a = (await find())!
    }
    const wants = (stage: Stage) =>
      spec.stage === 'accepted'
        ? stage !== 'rejected'
        : stageOrder.includes(spec.stage) && stageOrder.indexOf(spec.stage) >= stageOrder.indexOf(stage)

    if (a.status === 'applied' && !a.form_returned_at && wants('sent') && (!a.form_sent_on || wants('returned'))) {
      // Sent by the admin; a form still to be returned here is sent again for a fresh link (a run that stopped half way).
      await db.transaction().execute((trx) => sendApplicationForm(trx, services, admin, a!.id, lead.id))
      created++
      a = (await find())!
    }
    if (a.status === 'applied' && !a.form_returned_at && wants('returned')) {
      const answers: FormAnswers = {
        endorser_name: spec.endorser!.name,
        endorser_email: spec.endorser!.email,
        ey_qualification_level: spec.course === 'npq-early-years-leadership' ? (spec.eyQualificationLevel ?? 4) : null,
        headship_started_on: null,
        npqh_status: null,
      }
      await submitApplicationForm(db, services, await tokenFromEmail(services, email, 'application-form'), answers)
      created++
      a = (await find())!
    }
    if (a.status === 'applied' && a.form_returned_at && !a.endorsed_at && wants('endorsed')) {
      await giveEndorsement(db, await tokenFromEmail(services, a.endorser_email!, 'endorse'), spec.endorser!.name)
      created++
      a = (await find())!
    }
    if (a.status === 'applied' && spec.stage === 'rejected') {
      await db.transaction().execute((trx) => rejectApplication(trx, services, admin, a!.id, lead.id, spec.rejection!))
      created++
    }
    if (a.status === 'applied' && spec.stage === 'accepted') {
      const { enrolmentId } = await db
        .transaction()
        .execute((trx) => acceptApplication(trx, services, admin, a!.id, lead, { deliveryPartnerId: northStar, cohort: acceptInto }))
      created++
      accepted.set(spec.trn, enrolmentId)
    } else if (a.status === 'accepted' && a.enrolment_id) {
      accepted.set(spec.trn, a.enrolment_id)
    }
  }

  progress('demo: onboarding')
  // Tom Fletcher: the agreements are sent to Oakfield's school contact (Sarah Collins) and wait for her.
  const awaitingSignatures = accepted.get('3610007')
  if (awaitingSignatures) {
    const sent = await db.selectFrom('agreement_requests').select('id').where('enrolment_id', '=', awaitingSignatures).executeTakeFirst()
    const e = await db.selectFrom('enrolments').select('status').where('id', '=', awaitingSignatures).executeTakeFirstOrThrow()
    if (!sent && e.status === 'accepted') {
      await sendAgreements(services, admin, awaitingSignatures)
      created++
    }
  }
  // Lucy Brennan: her school pays; the invoice went two weeks ago and is not paid yet.
  const invoiced = accepted.get('3610008')
  if (invoiced) {
    const funding = await db.selectFrom('place_funding').select('enrolment_id').where('enrolment_id', '=', invoiced).executeTakeFirst()
    if (!funding) {
      await recordFunding(db, admin, invoiced, { funding: 'school', invoice_sent_on: addDays(today, -14), amount: '1200.00' })
      created++
    }
  }

  progress('demo: deferrals and withdrawals')
  // North Star's generated EDT participants (not the participant@demo.test account's courses, which
  // the pages' own tests use), NPQH before Leading Teaching, and within a course the last by name first:
  // so the first two by name on Leading Teaching (money, registers) are left alone. Chosen whatever their
  // state now, so a second run finds the same four and leaves each alone once it has its request.
  const pool = demoEnrolments.filter((e) => e.leadProvider === 'edt' && e.deliveryPartner === 'north-star-tsh')
  const candidates = pool.length
    ? await db
        .selectFrom('enrolments as e')
        .innerJoin('participants as p', 'p.id', 'e.participant_id')
        .select(['e.id', 'e.status', 'e.course_identifier', 'p.full_name'])
        .where('e.lead_provider_id', '=', lead.id)
        .where('e.delivery_partner_id', '=', northStar)
        .where(
          'e.participant_id',
          'in',
          pool.map((e) => e.participantId),
        )
        .where('p.user_id', 'is', null)
        .orderBy('e.course_identifier')
        .orderBy('p.full_name', 'desc')
        .orderBy('e.id')
        .limit(4)
        .execute()
    : []
  const hasRequest = async (enrolmentId: string) =>
    Boolean(
      (await db.selectFrom('deferral_requests').select('id').where('enrolment_id', '=', enrolmentId).executeTakeFirst()) ??
      (await db.selectFrom('withdrawal_requests').select('id').where('enrolment_id', '=', enrolmentId).executeTakeFirst()),
    )
  const steps: ((enrolmentId: string) => Promise<number>)[] = [
    // Approved: deferred from today, back in six months.
    async (enrolmentId) => {
      await db.transaction().execute(async (trx) => {
        const id = await requestDeferral(trx, services, partnerLead, {
          enrolmentId,
          reason: 'parental-leave',
          details: 'Starting parental leave this month; plans to return in the spring term',
          startsOn: today,
          plannedReturnOn: addMonths(today, 6),
        })
        await recordConversation(trx, partnerLead, id, 'Talked through the options; a deferral with a return in six months suits best')
        await decideDeferral(trx, services, admin, id, { approve: true, reason: 'Return date agreed with North Star' })
      })
      return 3
    },
    // The partner has talked it through: waiting for EDT's decision.
    async (enrolmentId) => {
      await db.transaction().execute(async (trx) => {
        const start = addDays(today, 14)
        const id = await requestDeferral(trx, services, partnerLead, {
          enrolmentId,
          reason: 'long-term-sickness',
          details: 'Surgery planned next month and a long recovery',
          startsOn: start,
          plannedReturnOn: addMonths(start, 9),
        })
        await recordConversation(
          trx,
          partnerLead,
          id,
          'Discussed a reduced workload instead; a deferral is the better choice. Fit note seen.',
        )
      })
      return 2
    },
    // Just asked: waiting for the partner's conversation.
    async (enrolmentId) => {
      await db.transaction().execute(async (trx) => {
        const start = addDays(today, 7)
        await requestDeferral(trx, services, partnerLead, {
          enrolmentId,
          reason: 'career-break',
          details: 'Taking a term out to care for a relative',
          startsOn: start,
          plannedReturnOn: addMonths(start, 4),
        })
      })
      return 1
    },
    // Moving to a school abroad: waiting for EDT to confirm.
    async (enrolmentId) => {
      await db.transaction().execute(async (trx) => {
        await requestWithdrawal(trx, services, partnerLead, {
          enrolmentId,
          reason: 'personal-reason-moving-school',
          details: 'Moving to a school abroad at the end of term',
          plannedOn: addDays(today, 21),
        })
      })
      return 1
    },
  ]
  for (const [i, e] of candidates.entries()) {
    if (e.status !== 'active' || (await hasRequest(e.id))) continue
    created += await steps[i]!(e.id)
  }
  return created
}
