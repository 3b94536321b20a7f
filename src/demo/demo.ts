import crypto from 'node:crypto'
import { recordAudit } from '../audit/audit.ts'
import { hashPassword } from '../accounts/passwords.ts'
import type { OrganisationKind } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import type { Role } from '../policy/roles.ts'
import type { Services } from '../services.ts'
import { addDemoAssessment } from './demo-assessment.ts'
import { addDemoContent } from './demo-content.ts'
import { addDemoForums } from './demo-forums.ts'
import { addDemoNews } from './demo-news.ts'
import { addDemoSurveys } from './demo-surveys.ts'
import { addDemoPeople } from './demo-people.ts'
import { addDemoEvents } from './demo-events.ts'
import { addDemoEvidence, type DemoEnrolment } from './demo-evidence.ts'
import { addDemoLifecycle } from './demo-lifecycle.ts'
import { addDemoMeetings } from './demo-meetings.ts'
import { addDemoOutputs } from './demo-outputs.ts'
import { placeUngrouped } from '../groups/groups.ts'

// Demo data for development: three lead providers, three delivery partners, schools, participants
// across courses and cohorts, and one account for every role. Idempotent: running it again adds what
// is missing and changes nothing else (except demo passwords, when NPQ_DEMO_PASSWORD is set).

const system: Principal = { kind: 'system', name: 'demo' }

const leadProviders = [
  { code: 'edt', name: 'Education Development Trust' },
  { code: 'ucl', name: 'UCL Centre for Educational Leadership' },
  { code: 'ambition', name: 'Ambition Institute' },
]

const deliveryPartners = [
  { code: 'north-star-tsh', name: 'North Star Teaching School Hub', leadProviders: ['edt', 'ucl'] },
  { code: 'east-coast-tsh', name: 'East Coast Teaching School Hub', leadProviders: ['edt'] },
  { code: 'southern-lights-mat', name: 'Southern Lights Multi-Academy Trust', leadProviders: ['ucl', 'ambition'] },
]

const schools = [
  { code: '100001', name: 'Oakfield Primary School' },
  { code: '100002', name: 'Riverside Academy' },
  { code: '100003', name: 'Hillcrest High School' },
  { code: '100004', name: 'Meadowbank Nursery School' },
]

/** One account per role; the participant holds two enrolments (NPQH and EHCO) at once. */
const demoAccounts: { email: string; fullName: string; role: Role; kind: OrganisationKind; organisation: string }[] = [
  {
    email: 'participant@demo.test',
    fullName: 'Priya Patel',
    role: 'participant',
    kind: 'delivery-partner',
    organisation: 'north-star-tsh',
  },
  {
    email: 'ucl-participant@demo.test',
    fullName: 'Sam Whitfield',
    role: 'participant',
    kind: 'delivery-partner',
    organisation: 'north-star-tsh',
  },
  { email: 'line-manager@demo.test', fullName: 'Liam Murphy', role: 'line-manager', kind: 'school', organisation: '100001' },
  {
    email: 'facilitator@demo.test',
    fullName: 'Fatima Hussain',
    role: 'facilitator',
    kind: 'delivery-partner',
    organisation: 'north-star-tsh',
  },
  {
    email: 'delivery-partner-lead@demo.test',
    fullName: 'Dan Okafor',
    role: 'delivery-partner-lead',
    kind: 'delivery-partner',
    organisation: 'north-star-tsh',
  },
  {
    email: 'lead-provider-admin@demo.test',
    fullName: 'Laura Bennett',
    role: 'lead-provider-admin',
    kind: 'lead-provider',
    organisation: 'edt',
  },
  { email: 'assessor@demo.test', fullName: 'Aisha Rahman', role: 'assessor', kind: 'lead-provider', organisation: 'edt' },
  { email: 'moderator@demo.test', fullName: 'Mark Evans', role: 'moderator', kind: 'lead-provider', organisation: 'edt' },
  { email: 'school-contact@demo.test', fullName: 'Sarah Collins', role: 'school-contact', kind: 'school', organisation: '100001' },
]

const firstNames = [
  'Amelia',
  'Oliver',
  'Isla',
  'George',
  'Ava',
  'Noah',
  'Mia',
  'Arthur',
  'Grace',
  'Leo',
  'Freya',
  'Oscar',
  'Zara',
  'Harry',
  'Ella',
  'Jack',
  'Sofia',
  'Theo',
  'Ruby',
  'Finley',
  'Hannah',
  'Yusuf',
  'Chloe',
  'Kwame',
]
const lastNames = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Johnson',
  'Davies',
  'Robinson',
  'Wright',
  'Thompson',
  'Evans',
  'Walker',
  'White',
  'Roberts',
  'Green',
  'Hall',
  'Wood',
  'Jackson',
  'Clarke',
  'Ahmed',
  'Kaur',
  'Nowak',
  'Mensah',
]

/** Where the generated participants go: lead provider, delivery partner, course, cohort. */
const placements = [
  ['edt', 'north-star-tsh', 'npq-headship', '2022-autumn'],
  ['edt', 'north-star-tsh', 'npq-leading-teaching', '2022-autumn'],
  ['edt', 'east-coast-tsh', 'npq-senior-leadership', '2022-spring'],
  ['edt', 'east-coast-tsh', 'npq-leading-teaching-development', '2021-autumn'],
  ['ucl', 'north-star-tsh', 'npq-leading-behaviour-culture', '2023-autumn'],
  ['ucl', 'southern-lights-mat', 'npq-headship', '2023-autumn'],
  ['ambition', 'southern-lights-mat', 'npq-leading-literacy', '2024-autumn'],
  ['ambition', 'southern-lights-mat', 'npq-early-years-leadership', '2024-autumn'],
] as const

/** Stable ids, so running the demo twice finds the same records. */
function stableUuid(seed: string): string {
  const hex = crypto.createHash('sha256').update(`npq-demo:${seed}`).digest('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}

export type DemoResult = { created: number; generatedPassword: string | null }

export async function loadDemoData(services: Services, options: { progress?: (line: string) => void } = {}): Promise<DemoResult> {
  const { db, config } = services
  if (config.isProduction) throw new AppError('forbidden', 'Demo data is for development only (NODE_ENV=production)')
  const progress = options.progress ?? (() => {})

  const existingDemo = await db.selectFrom('users').select('email').where('is_demo', '=', true).execute()
  const missingAccounts = demoAccounts.filter((a) => !existingDemo.some((u) => u.email === a.email))
  const generatedPassword = config.demoPassword || missingAccounts.length === 0 ? null : crypto.randomBytes(9).toString('base64url')
  const password = config.demoPassword ?? generatedPassword
  const passwordHash = password ? await hashPassword(password) : null

  let created = 0
  const demoEnrolments: DemoEnrolment[] = []
  await db.transaction().execute(async (trx) => {
    progress('demo: organisations')
    const orgIds = new Map<string, string>()
    const upsertOrg = async (kind: OrganisationKind, code: string, name: string) => {
      const row = await trx
        .insertInto('organisations')
        .values({ kind, code, name })
        .onConflict((oc) => oc.columns(['kind', 'code']).doNothing())
        .returning('id')
        .executeTakeFirst()
      if (row) {
        created++
        await recordAudit(trx, {
          by: system,
          action: 'organisation.created',
          entityType: 'organisation',
          entityId: row.id,
          after: { kind, code, name },
        })
      }
      const id =
        row?.id ??
        (await trx.selectFrom('organisations').select('id').where('kind', '=', kind).where('code', '=', code).executeTakeFirstOrThrow()).id
      orgIds.set(`${kind}:${code}`, id)
      return id
    }
    for (const lp of leadProviders) await upsertOrg('lead-provider', lp.code, lp.name)
    for (const dp of deliveryPartners) {
      const dpId = await upsertOrg('delivery-partner', dp.code, dp.name)
      for (const lp of dp.leadProviders) {
        await trx
          .insertInto('delivery_partnerships')
          .values({ lead_provider_id: orgIds.get(`lead-provider:${lp}`)!, delivery_partner_id: dpId })
          .onConflict((oc) => oc.doNothing())
          .execute()
      }
    }
    for (const s of schools) await upsertOrg('school', s.code, s.name)

    progress('demo: accounts')
    const userIds = new Map<string, string>()
    for (const account of demoAccounts) {
      const userId = await services.accounts.createUser(
        system,
        {
          email: account.email,
          fullName: account.fullName,
          role: account.role,
          organisationId: orgIds.get(`${account.kind}:${account.organisation}`)!,
          isDemo: true,
        },
        trx,
      )
      userIds.set(account.email, userId)
    }
    if (passwordHash) {
      await trx
        .updateTable('users')
        .set({ password_hash: passwordHash, status: 'active' })
        .where('is_demo', '=', true)
        .where(
          'email',
          'in',
          demoAccounts.map((a) => a.email),
        )
        .execute()
    }

    progress('demo: participants')
    const enrol = async (
      participant: { id: string; fullName: string; email: string; trn: string; userId: string | null },
      enrolment: {
        leadProvider: string
        deliveryPartner: string
        course: string
        cohort: string
        school: string
        lineManager?: string
        signed: boolean
      },
    ) => {
      const inserted = await trx
        .insertInto('participants')
        .values({
          id: participant.id,
          full_name: participant.fullName,
          email: participant.email,
          trn: participant.trn,
          user_id: participant.userId,
        })
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .executeTakeFirst()
      if (inserted) {
        created++
        await recordAudit(trx, { by: system, action: 'participant.created', entityType: 'participant', entityId: participant.id })
      }
      demoEnrolments.push({
        participantId: participant.id,
        leadProvider: enrolment.leadProvider,
        leadProviderId: orgIds.get(`lead-provider:${enrolment.leadProvider}`)!,
        deliveryPartner: enrolment.deliveryPartner,
        deliveryPartnerId: orgIds.get(`delivery-partner:${enrolment.deliveryPartner}`)!,
        course: enrolment.course,
        cohort: enrolment.cohort,
      })
      const row = await trx
        .insertInto('enrolments')
        .values({
          id: stableUuid(`${participant.id}:${enrolment.course}`),
          participant_id: participant.id,
          lead_provider_id: orgIds.get(`lead-provider:${enrolment.leadProvider}`)!,
          delivery_partner_id: orgIds.get(`delivery-partner:${enrolment.deliveryPartner}`)!,
          school_id: orgIds.get(`school:${enrolment.school}`)!,
          line_manager_user_id: enrolment.lineManager ?? null,
          course_identifier: enrolment.course,
          cohort: enrolment.cohort,
          school_contract_signed_on: enrolment.signed ? '2022-09-20' : null,
          sponsorship_agreement_signed_on: enrolment.signed ? '2022-09-21' : null,
        })
        .onConflict((oc) => oc.columns(['participant_id', 'course_identifier']).doNothing())
        .returning('id')
        .executeTakeFirst()
      if (row) {
        created++
        await recordAudit(trx, { by: system, action: 'enrolment.created', entityType: 'enrolment', entityId: row.id, after: enrolment })
      }
    }

    // The demo participant: NPQH and the Early Headship Coaching Offer at once, with a line manager.
    const demoParticipant = {
      id: stableUuid('participant@demo.test'),
      fullName: 'Priya Patel',
      email: 'participant@demo.test',
      trn: '1000001',
      userId: userIds.get('participant@demo.test')!,
    }
    const lineManager = userIds.get('line-manager@demo.test')!
    const common = {
      leadProvider: 'edt',
      deliveryPartner: 'north-star-tsh',
      cohort: '2022-autumn',
      school: '100001',
      lineManager,
      signed: true,
    }
    await enrol(demoParticipant, { ...common, course: 'npq-headship' })
    await enrol(demoParticipant, { ...common, course: 'npq-early-headship-coaching-offer' })
    let n = 0
    for (const [leadProvider, deliveryPartner, course, cohort] of placements) {
      for (let i = 0; i < 3; i++, n++) {
        const fullName = `${firstNames[n % firstNames.length]} ${lastNames[(n * 7) % lastNames.length]}`
        const email = `${fullName.toLowerCase().replace(/[^a-z]+/g, '.')}@schools.demo.test`
        await enrol(
          { id: stableUuid(`participant-${n}`), fullName, email, trn: String(2000001 + n), userId: null },
          { leadProvider, deliveryPartner, course, cohort, school: schools[n % schools.length]!.code, signed: n % 5 !== 4 },
        )
      }
    }

    // A UCL participant with the same line manager: UCL's design has signed line manager meetings. After the
    // generated places, so their evidence (patterned on their order) stays as it was.
    const uclParticipant = {
      id: stableUuid('ucl-participant@demo.test'),
      fullName: 'Sam Whitfield',
      email: 'ucl-participant@demo.test',
      trn: '1000002',
      userId: userIds.get('ucl-participant@demo.test')!,
    }
    await enrol(uclParticipant, { ...common, leadProvider: 'ucl', course: 'npq-leading-behaviour-culture', cohort: '2023-autumn' })

    progress('demo: learning evidence')
    created += await addDemoEvidence(services, trx, system, demoEnrolments)
    progress('demo: upcoming events')
    created += await addDemoEvents(services, trx, system)
    progress('demo: prices and declarations')
    created += await addDemoOutputs(services, trx, system, placements)
  })
  // Applications, onboarding, deferrals and withdrawals: through the pages' own functions, which need
  // the accounts and participants above committed (several open their own transactions).
  created += await addDemoLifecycle(services, demoEnrolments, progress)
  // Every place in its delivery partner's group (a second load finds them all placed).
  created += await placeUngrouped(services.db, { kind: 'system', name: 'demo' })
  // An assessment window open today with an entered participant's draft (a second load finds the window).
  created += await addDemoAssessment(services, progress)
  // Line manager meetings for the UCL participant (signed, awaiting a signature, scheduled).
  created += await addDemoMeetings(services, progress)
  // Issue 9: block content, people and forums, programme news.
  created += await addDemoContent(services, progress)
  created += await addDemoPeople(services, progress)
  created += await addDemoNews(services, progress)
  created += await addDemoForums(services, progress)
  created += await addDemoSurveys(services, progress)
  // The demo facilitator runs their partner's groups that have none yet.
  const facilitated = await services.db
    .updateTable('participant_groups')
    .set({
      facilitator_user_id: (eb) =>
        eb
          .selectFrom('role_assignments as r')
          .innerJoin('users as u', 'u.id', 'r.user_id')
          .select('u.id')
          .where('u.email', '=', 'facilitator@demo.test')
          .where('r.role', '=', 'facilitator')
          .whereRef('r.organisation_id', '=', 'participant_groups.delivery_partner_id')
          .limit(1),
    })
    .where('facilitator_user_id', 'is', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('role_assignments as r')
          .innerJoin('users as u', 'u.id', 'r.user_id')
          .select('r.id')
          .where('u.email', '=', 'facilitator@demo.test')
          .where('r.role', '=', 'facilitator')
          .whereRef('r.organisation_id', '=', 'participant_groups.delivery_partner_id'),
      ),
    )
    .executeTakeFirst()
  created += Number(facilitated.numUpdatedRows)
  progress(`demo: done (${created} records created)`)
  return { created, generatedPassword }
}
