import { sql } from 'kysely'
import type { Design } from '../catalogue/load.ts'
import { londonDateOf } from '../dates/london.ts'
import { notSuperseded } from '../db/append-only.ts'
import type { Db, Trx } from '../db/database.ts'
import { liveDeclarationStates } from '../db/schema.ts'
import { ASSESSMENT_GATE, engagementAsOf, type Engagement, type Evidence } from '../engagement/engine.ts'
import { enrolmentsInScope, loadEvidence, type EnrolmentScope } from '../engagement/evidence.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import type { OutputFacts } from './evaluate.ts'
import { withdrawalInForce, deferralEnd } from '../participants/in-force.ts'

// Loads, for every enrolment in a report's scope, the facts output evaluation needs as of a date
// (evaluate.ts is pure), with the ids of the records behind each dated fact so pages can link to them.
// A handful of queries whatever the number of participants.

/** A record behind a dated fact: a register entry, a learning record or an assessment attempt. */
export type EvidenceRecord = {
  kind: 'register-entry' | 'learning-record' | 'assessment-attempt' | 'credit'
  id: string
  on: string
  code?: string
}

export type EnrolmentOutputFacts = {
  enrolmentId: string
  participantId: string
  fullName: string
  courseIdentifier: string
  deliveryPartner: string | null
  deliveryPartnerName: string | null
  deliveryPartnerId: string | null
  design: Design
  engagement: Engagement
  facts: OutputFacts
  /** The records behind each criterion's dates, to show and snapshot the evidence. */
  records: Record<'register-attendance' | 'self-study-credit' | 'credits-increase' | 'video-90' | 'assessment', EvidenceRecord[]>
  /** The assessment result the `completed` output uses (has_passed), when there is one. */
  assessmentPassed: boolean | null
}

const isSelfStudy = (design: Design, code: string, component: string, evidence: string) =>
  // EDT names its self-study component (DIAGNOSTIC, VIDEO, S…, MIT); in designs without credits every
  // item evidenced by activity rows (modules, SDL, forums, tasks) is the participant's own study.
  evidence === 'activity' && (design.style !== 'credits' || component === 'Self-study')

type ActivityInfo = { component: string; evidence: string; block: number | string | null }
/** Each activity of a design with its block, built once per design (designs are immutable once loaded). */
const activityInfo = new WeakMap<Design, Map<string, ActivityInfo>>()
function activitiesOf(design: Design): Map<string, ActivityInfo> {
  let map = activityInfo.get(design)
  if (!map) {
    map = new Map()
    for (const block of design.blocks)
      for (const a of block.activities) map.set(a.code, { component: a.component, evidence: a.evidence, block: block.block })
    for (const a of design.programmeActivities) map.set(a.code, { component: a.component, evidence: a.evidence, block: null })
    activityInfo.set(design, map)
  }
  return map
}

/** The first date on which earned credits reached 90% of those available, by the engine's own rules. */
function credits90On(design: Design, evidence: Evidence[], engagement: Engagement, selfReporting: boolean): string | null {
  if (engagement.ratio < ASSESSMENT_GATE) return null
  const dates = [...new Set(engagement.earned.map((e) => e.on))].sort()
  // The plain running sum never undercounts, so no date before it first reaches 90% can qualify.
  let sum = 0
  let start = 0
  const byDate = new Map<string, number>()
  for (const e of engagement.earned) byDate.set(e.on, (byDate.get(e.on) ?? 0) + e.credits)
  for (; start < dates.length; start++) {
    sum += byDate.get(dates[start]!)!
    if (sum >= ASSESSMENT_GATE * engagement.creditsAvailable - 1e-9) break
  }
  for (let i = start; i < dates.length; i++) {
    if (engagementAsOf(design, evidence, dates[i]!, { selfReporting }).eligibleForAssessment) return dates[i]!
  }
  return null
}

export async function loadOutputFacts(
  db: Db | Trx,
  catalogue: Catalogue,
  leadProvider: string,
  scope: EnrolmentScope,
  designs: Map<string, Design>,
  asOf: string,
): Promise<EnrolmentOutputFacts[]> {
  const enrolments = () => enrolmentsInScope(db, scope)
  const inScope = () => enrolments().select('e.participant_id')

  const [evidence, rows, attendances, videos, deferrals, withdrawals, attempts, declarations] = await Promise.all([
    loadEvidence(db, scope, asOf, { meetingLogs: [...designs.values()].some((d) => d.style === 'weighted') }),
    enrolments()
      .select([
        'e.id',
        'e.participant_id',
        'e.course_identifier',
        'e.delivery_partner_id',
        'e.school_contract_signed_on',
        'e.sponsorship_agreement_signed_on',
      ])
      .execute(),
    // Every attendance, not only the first per activity: a retention period needs any attendance in it.
    db
      .selectFrom('register_entries as r')
      .innerJoin('events as ev', 'ev.id', 'r.event_id')
      .select(['r.id', 'r.participant_id', 'ev.course_identifier', sql<string>`coalesce(r.completed_on, ev.starts_on)::text`.as('on')])
      .where('r.participant_id', 'in', inScope())
      .where('ev.lead_provider_id', '=', scope.leadProviderId)
      .where('r.status', 'in', ['attended', 'contingency-completed'])
      .where(notSuperseded('register_entries', 'r'))
      .where(sql<boolean>`coalesce(r.completed_on, ev.starts_on) <= ${asOf}`)
      .execute(),
    // Videos watched to 90% (a row without a progress figure is a completion, so 100%).
    db
      .selectFrom('learning_records as l')
      .select(['l.id', 'l.participant_id', 'l.course_identifier', 'l.activity_code', sql<string>`l.evidence_on::text`.as('on')])
      .where('l.participant_id', 'in', inScope())
      .where('l.activity_code', 'like', '%-VIDEO')
      .where((eb) => eb.or([eb('l.progress_percent', 'is', null), eb('l.progress_percent', '>=', sql<string>`90`)]))
      .where('l.retracted', '=', false)
      .where(notSuperseded('learning_records', 'l'))
      .where('l.evidence_on', '<=', asOf)
      .execute(),
    db
      .selectFrom('deferrals')
      .select([
        'participant_id',
        'enrolment_id',
        sql<string>`deferred_on::text`.as('from'),
        sql<string | null>`${deferralEnd}::text`.as('until'),
      ])
      .where('participant_id', 'in', inScope())
      .execute(),
    db
      .selectFrom('withdrawals')
      .select(['participant_id', 'enrolment_id', sql<string>`withdrawn_on::text`.as('on')])
      .where('participant_id', 'in', inScope())
      .where(withdrawalInForce)
      .execute(),
    db
      .selectFrom('assessment_attempts')
      .select(['id', 'participant_id', 'attempt', 'result', 'marked_at', 'moderated_at', 'externally_moderated_at'])
      .where('participant_id', 'in', inScope())
      .where('result', 'is not', null)
      .where('marked_at', 'is not', null)
      .where('moderated_at', 'is not', null)
      .where('externally_moderated_at', 'is not', null)
      .orderBy('externally_moderated_at')
      .execute(),
    db
      .selectFrom('declarations')
      .select(['participant_id', 'course_identifier', 'declaration_type'])
      .where('lead_provider_id', '=', scope.leadProviderId)
      .where('cohort', '=', scope.cohort)
      .where('state', 'in', liveDeclarationStates)
      .where('declaration_date', '<=', asOf)
      .execute(),
  ])

  const key = (participantId: string, course: string) => `${participantId}/${course}`
  const group = <T>(items: T[], keyOf: (item: T) => string) => {
    const map = new Map<string, T[]>()
    for (const item of items) {
      const k = keyOf(item)
      const list = map.get(k)
      if (list) list.push(item)
      else map.set(k, [item])
    }
    return map
  }
  const enrolmentRows = new Map(rows.map((r) => [key(r.participant_id, r.course_identifier), r]))
  const attendancesOf = group(attendances, (a) => key(a.participant_id, a.course_identifier))
  const videosOf = group(videos, (v) => key(v.participant_id, v.course_identifier))
  const deferralsOf = group(deferrals, (d) => d.participant_id)
  const withdrawalsOf = group(withdrawals, (w) => w.participant_id)
  // A row without an enrolment (the CSV imports) applies to every enrolment of the participant.
  const appliesTo = (enrolmentId: string) => (r: { enrolment_id: string | null }) =>
    r.enrolment_id === null || r.enrolment_id === enrolmentId
  const attemptsOf = group(
    attempts.filter((a) => londonDateOf(new Date(a.externally_moderated_at!)) <= asOf),
    (a) => a.participant_id,
  )
  const declaredOf = group(declarations, (d) => key(d.participant_id, d.course_identifier))

  const result: EnrolmentOutputFacts[] = []
  for (const e of evidence) {
    const design = designs.get(e.courseIdentifier)
    const row = enrolmentRows.get(key(e.participantId, e.courseIdentifier))
    const schedule = catalogue.cohortOutputs(leadProvider, scope.cohort, e.courseIdentifier)
    if (!design || !row || !schedule) continue
    const selfReporting = schedule.selfReporting
    const engagement = engagementAsOf(design, e.evidence, asOf, { selfReporting })
    const activities = activitiesOf(design)

    const k = key(e.participantId, e.courseIdentifier)
    const registerRecords = (attendancesOf.get(k) ?? []).map((a) => ({ kind: 'register-entry' as const, id: a.id, on: a.on }))
    const credits = engagement.earned.map((x) => ({ kind: 'credit' as const, id: x.code, code: x.code, on: x.on }))
    const selfStudy = credits.filter((c) => {
      const a = activities.get(c.code)
      return a !== undefined && isSelfStudy(design, c.code, a.component, a.evidence)
    })
    const videoRecords = (videosOf.get(k) ?? [])
      .filter((v) => activities.has(v.activity_code))
      .map((v) => ({ kind: 'learning-record' as const, id: v.id, on: v.on, code: v.activity_code }))
    // The latest result by then: a second attempt's result replaces the first's.
    const attempt = attemptsOf.get(e.participantId)?.at(-1)
    const assessmentRecords = attempt
      ? [{ kind: 'assessment-attempt' as const, id: attempt.id, on: londonDateOf(new Date(attempt.externally_moderated_at!)) }]
      : []

    result.push({
      enrolmentId: row.id,
      participantId: e.participantId,
      fullName: e.fullName,
      courseIdentifier: e.courseIdentifier,
      deliveryPartner: e.deliveryPartner,
      deliveryPartnerName: e.deliveryPartnerName,
      deliveryPartnerId: row.delivery_partner_id,
      design,
      engagement,
      facts: {
        outputs: schedule.outputs.map((o) => ({ declarationType: o.declarationType, reviewDate: o.reviewDate })),
        schoolContractSignedOn: row.school_contract_signed_on,
        sponsorshipAgreementSignedOn: row.sponsorship_agreement_signed_on,
        deferrals: (deferralsOf.get(e.participantId) ?? []).filter(appliesTo(row.id)).map((d) => ({ from: d.from, resumedOn: d.until })),
        withdrawnOn:
          (withdrawalsOf.get(e.participantId) ?? [])
            .filter(appliesTo(row.id))
            .map((w) => w.on)
            .sort()[0] ?? null,
        declared: (declaredOf.get(k) ?? []).map((d) => d.declaration_type),
        registerAttendances: registerRecords.map((r) => r.on),
        selfStudyCredits: selfStudy.map((c) => c.on),
        creditsEarned: credits.map((c) => c.on),
        videos90: videoRecords.map((v) => ({ block: activities.get(v.code)!.block ?? 'programme', on: v.on })),
        credits90On: credits90On(design, e.evidence, engagement, selfReporting),
        assessment: attempt ? { passed: attempt.result === 'passed', externallyModeratedOn: assessmentRecords[0]!.on } : null,
      },
      records: {
        'register-attendance': registerRecords,
        'self-study-credit': selfStudy,
        'credits-increase': credits,
        'video-90': videoRecords,
        assessment: assessmentRecords,
      },
      assessmentPassed: attempt ? attempt.result === 'passed' : null,
    })
  }
  return result
}
