import { recordAudit } from '../audit/audit.ts'
import type { BlockWindows } from '../catalogue/block-windows.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import { findActivity } from '../catalogue/activities.ts'
import { findCourse } from '../catalogue/courses.ts'
import type { DesignVersions } from '../catalogue/versions.ts'
import type { Db } from '../db/database.ts'
import { AppError, notFound } from '../errors.ts'
import { recordParticipation } from '../forums/evidence.ts'
import type { Principal } from '../policy/principal.ts'
import { currentRegisterEntries } from '../registers/register-entries.ts'
import { dueItems, type AttendedEvent } from './rules.ts'
import type { SurveyAnswers, SurveyKind, SurveyQuestion } from './schema.ts'

// Surveys (issue 9): a lead provider's admins author event, end-of-block and end-of-programme surveys
// for a course; participants answer what is due to them (rules.ts), once each; the lead provider and
// its delivery partners read summaries and download the responses. Anonymity: summaries and the
// delivery partner's download never name anyone (a partner sees only its own participants' answers);
// the lead provider's download names the participant and their partner, because the lead provider
// is accountable for follow-up and already holds these records. Participants are told this on the form.

export const kindLabels: Record<SurveyKind, string> = {
  event: 'Event survey',
  'end-of-block': 'End-of-block survey',
  'end-of-programme': 'End-of-programme survey',
}

export const courseName = (identifier: string) => findCourse(identifier)?.name ?? identifier

export type NewSurvey = {
  leadProviderId: string
  kind: SurveyKind
  title: string
  courseIdentifier: string
  cohort: string | null
  block: number | null
  activityCode: string | null
  questions: SurveyQuestion[]
  opensOn: string
  closesOn: string
}

export async function createSurvey(db: Db, by: Principal & { kind: 'user' }, input: NewSurvey): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('surveys')
      .values({
        lead_provider_id: input.leadProviderId,
        kind: input.kind,
        title: input.title,
        course_identifier: input.courseIdentifier,
        cohort: input.cohort,
        block: input.block,
        activity_code: input.activityCode,
        questions: JSON.stringify(input.questions),
        opens_on: input.opensOn,
        closes_on: input.closesOn,
        created_by: by.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await recordAudit(trx, { by, action: 'survey.created', entityType: 'survey', entityId: row.id, after: input })
    return row.id
  })
}

/** Design activities a survey can record: self-study ones of the lead provider's course design (EDT's surveys are). */
export function surveyActivityOk(catalogue: Catalogue, leadProviderCode: string, courseIdentifier: string, code: string): boolean {
  const design = catalogue.design(leadProviderCode, courseIdentifier)
  const found = design && findActivity(design, code)
  return Boolean(found && found.activity.evidence === 'activity')
}

export type SurveyListRow = {
  id: string
  title: string
  kind: SurveyKind
  courseIdentifier: string
  cohort: string | null
  block: number | null
  opensOn: string
  closesOn: string
  leadProvider: string
  responses: number
}

/** Surveys of these lead providers, newest first, with their response count (only these partners' participants, if given). */
export async function listSurveys(db: Db, leadProviderIds: string[], deliveryPartnerIds?: string[]): Promise<SurveyListRow[]> {
  if (!leadProviderIds.length) return []
  const rows = await db
    .selectFrom('surveys as s')
    .innerJoin('organisations as lp', 'lp.id', 's.lead_provider_id')
    .select((eb) => [
      's.id',
      's.title',
      's.kind',
      's.course_identifier',
      's.cohort',
      's.block',
      's.opens_on',
      's.closes_on',
      'lp.name as lead_provider',
      eb
        .selectFrom('survey_responses as r')
        .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
        .select((e2) => e2.fn.countAll<string>().as('n'))
        .whereRef('r.survey_id', '=', 's.id')
        .$if(deliveryPartnerIds !== undefined, (q) =>
          q.where('e.delivery_partner_id', 'in', deliveryPartnerIds!.length ? deliveryPartnerIds! : ['']),
        )
        .as('responses'),
    ])
    .where('s.lead_provider_id', 'in', leadProviderIds)
    .orderBy('s.opens_on', 'desc')
    .orderBy('s.created_at', 'desc')
    .execute()
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    kind: r.kind,
    courseIdentifier: r.course_identifier,
    cohort: r.cohort,
    block: r.block,
    opensOn: r.opens_on,
    closesOn: r.closes_on,
    leadProvider: r.lead_provider,
    responses: Number(r.responses ?? 0),
  }))
}

export async function loadSurvey(db: Db, surveyId: string) {
  if (!/^[0-9a-f-]{36}$/i.test(surveyId)) throw notFound('Survey')
  const s = await db
    .selectFrom('surveys as s')
    .innerJoin('organisations as lp', 'lp.id', 's.lead_provider_id')
    .selectAll('s')
    .select(['lp.name as lead_provider_name', 'lp.code as lead_provider_code'])
    .where('s.id', '=', surveyId)
    .executeTakeFirst()
  if (!s) throw notFound('Survey')
  return s
}

export type ResponseRow = {
  id: string
  answers: SurveyAnswers
  submittedAt: Date
  participant: string
  trn: string
  deliveryPartner: string | null
  event: string | null
}

/** A survey's responses, oldest first; only these delivery partners' participants, if given. */
export async function responsesOf(db: Db, surveyId: string, deliveryPartnerIds?: string[]): Promise<ResponseRow[]> {
  const rows = await db
    .selectFrom('survey_responses as r')
    .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .leftJoin('organisations as dp', 'dp.id', 'e.delivery_partner_id')
    .leftJoin('events as ev', 'ev.id', 'r.event_id')
    .select([
      'r.id',
      'r.answers',
      'r.submitted_at',
      'p.full_name',
      'p.trn',
      'dp.name as dp_name',
      'ev.title as event_title',
      'ev.starts_on',
    ])
    .where('r.survey_id', '=', surveyId)
    .$if(deliveryPartnerIds !== undefined, (q) =>
      q.where('e.delivery_partner_id', 'in', deliveryPartnerIds!.length ? deliveryPartnerIds! : ['']),
    )
    .orderBy('r.submitted_at')
    .orderBy('r.id')
    .execute()
  return rows.map((r) => ({
    id: r.id,
    answers: (typeof r.answers === 'string' ? JSON.parse(r.answers) : r.answers) as SurveyAnswers,
    submittedAt: r.submitted_at,
    participant: r.full_name,
    trn: r.trn,
    deliveryPartner: r.dp_name,
    event: r.event_title ? `${r.event_title} (${r.starts_on})` : null,
  }))
}

export const questionsOf = (q: unknown): SurveyQuestion[] => (typeof q === 'string' ? JSON.parse(q) : q) as SurveyQuestion[]

type DueServices = { db: Db; blockWindows: BlockWindows }

export type DueSurveyItem = {
  surveyId: string
  enrolmentId: string
  participantId: string
  title: string
  kind: SurveyKind
  courseIdentifier: string
  closesOn: string
  activityCode: string | null
  eventId: string | null
  eventTitle: string | null
  href: string
}

/** Everything due to this person today, across their enrolments (rules.ts `dueItems`). */
export async function dueSurveyItems(services: DueServices, userId: string, today: string): Promise<DueSurveyItem[]> {
  const { db } = services
  const enrolments = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select(['e.id', 'e.participant_id', 'e.lead_provider_id', 'e.course_identifier', 'e.cohort', 'e.status', 'lp.code as lp_code'])
    .where('p.user_id', '=', userId)
    .execute()
  if (!enrolments.length) return []
  const surveys = await db
    .selectFrom('surveys')
    .selectAll()
    .where('lead_provider_id', 'in', [...new Set(enrolments.map((e) => e.lead_provider_id))])
    .where('opens_on', '<=', today)
    .where('closes_on', '>=', today)
    .orderBy('closes_on')
    .execute()
  if (!surveys.length) return []
  const answered = await db
    .selectFrom('survey_responses')
    .select(['survey_id', 'enrolment_id', 'event_id'])
    .where(
      'enrolment_id',
      'in',
      enrolments.map((e) => e.id),
    )
    .where(
      'survey_id',
      'in',
      surveys.map((s) => s.id),
    )
    .execute()
  const attended = await currentRegisterEntries(db)
    .innerJoin('events as ev', 'ev.id', 'r.event_id')
    .select(['ev.id', 'ev.title', 'ev.kind', 'ev.starts_on', 'ev.lead_provider_id', 'ev.course_identifier', 'r.participant_id'])
    .where('r.participant_id', 'in', [...new Set(enrolments.map((e) => e.participant_id))])
    .where('r.status', '=', 'attended')
    .where('ev.starts_on', '<=', today)
    .execute()

  const items: DueSurveyItem[] = []
  for (const e of enrolments) {
    const windows = surveys.some((s) => s.kind === 'end-of-block' && s.course_identifier === e.course_identifier)
      ? await services.blockWindows.forCohort(e.lp_code, e.course_identifier, e.cohort)
      : []
    const events: AttendedEvent[] = attended
      .filter(
        (a) =>
          a.participant_id === e.participant_id && a.lead_provider_id === e.lead_provider_id && a.course_identifier === e.course_identifier,
      )
      .map((a) => ({ id: a.id, title: a.title ?? `${a.kind} event`, startsOn: a.starts_on }))
    for (const s of surveys) {
      const due = dueItems({
        survey: {
          id: s.id,
          kind: s.kind,
          leadProviderId: s.lead_provider_id,
          courseIdentifier: s.course_identifier,
          cohort: s.cohort,
          opensOn: s.opens_on,
          closesOn: s.closes_on,
        },
        enrolment: { leadProviderId: e.lead_provider_id, courseIdentifier: e.course_identifier, cohort: e.cohort, status: e.status },
        today,
        blockGoesLiveOn: windows.find((w) => w.block === s.block)?.goesLiveOn ?? null,
        attendedEvents: events,
        answeredEventIds: answered.filter((a) => a.survey_id === s.id && a.enrolment_id === e.id).map((a) => a.event_id),
      })
      for (const d of due)
        items.push({
          surveyId: s.id,
          enrolmentId: e.id,
          participantId: e.participant_id,
          title: d.eventTitle ? `${s.title}: ${d.eventTitle}` : s.title,
          kind: s.kind,
          courseIdentifier: s.course_identifier,
          closesOn: s.closes_on,
          activityCode: s.activity_code,
          eventId: d.eventId,
          eventTitle: d.eventTitle,
          href: `/participant/surveys/${s.id}${d.eventId ? `?event=${d.eventId}` : ''}`,
        })
    }
  }
  return items
}

/** The surveys due to this person today, for their Home page: title and where to answer. */
export async function surveysDue(services: DueServices, userId: string, today: string): Promise<{ title: string; href: string }[]> {
  return (await dueSurveyItems(services, userId, today)).map((i) => ({ title: i.title, href: i.href }))
}

/** What this person has answered, newest first. */
export async function answeredBy(db: Db, userId: string) {
  return db
    .selectFrom('survey_responses as r')
    .innerJoin('surveys as s', 's.id', 'r.survey_id')
    .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .leftJoin('events as ev', 'ev.id', 'r.event_id')
    .select(['s.title', 's.course_identifier', 'r.submitted_at', 'ev.title as event_title'])
    .where('p.user_id', '=', userId)
    .orderBy('r.submitted_at', 'desc')
    .execute()
}

/** Records a response, once; where the survey names a design activity, the response records it too. */
export async function submitResponse(
  services: { db: Db; designs: DesignVersions; catalogue: Catalogue },
  by: Principal & { kind: 'user' },
  item: DueSurveyItem,
  answers: SurveyAnswers,
): Promise<string> {
  try {
    return await services.db.transaction().execute(async (trx) => {
      const row = await trx
        .insertInto('survey_responses')
        .values({
          survey_id: item.surveyId,
          enrolment_id: item.enrolmentId,
          event_id: item.eventId,
          answers: JSON.stringify(answers),
          submitted_by: by.userId,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      await recordAudit(trx, {
        by,
        action: 'survey-response.submitted',
        entityType: 'survey-response',
        entityId: row.id,
        after: { survey_id: item.surveyId, event_id: item.eventId },
      })
      if (item.activityCode) await recordParticipation(trx, services, by, item.participantId, item.activityCode)
      return row.id
    })
  } catch (error) {
    // The unique index: answered already (a second tab, a double submit).
    if ((error as { code?: string }).code === '23505') throw new AppError('conflict', 'You have already answered this survey')
    throw error
  }
}
