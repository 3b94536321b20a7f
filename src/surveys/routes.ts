import { stringify } from 'csv-stringify/sync'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { londonDateOf } from '../dates/london.ts'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import { organisationsWithRole, type Principal } from '../policy/principal.ts'
import { dateFromParts } from '../registers/register-rules.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { parseQuestions, readAnswers, spreadsheetSafe, summarise } from './rules.ts'
import { surveyKinds, type SurveyKind } from './schema.ts'
import {
  answeredBy,
  courseName,
  createSurvey,
  dueSurveyItems,
  kindLabels,
  listSurveys,
  loadSurvey,
  questionsOf,
  responsesOf,
  submitResponse,
  surveyActivityOk,
} from './surveys.ts'

// Survey pages. Lead-provider admins author and read results at /lead-provider/surveys; delivery
// partner leads read their own participants' results at /delivery-partner/surveys; participants answer
// what is due to them at /participant/surveys. Every form validates here and re-renders with the
// GOV.UK error summary.

type User = Principal & { kind: 'user' }
type Body = Record<string, unknown>
type ResultsArea = 'lead-provider' | 'delivery-partner'

const view = (name: string) => `surveys/views/${name}.njk`
const text = (v: unknown) => (typeof v === 'string' ? v : '').trim()
const MAX_TITLE_CHARS = 150

type SurveyForm = {
  leadProvider: string
  title: string
  kind: string
  course: string
  cohort: string
  block: string
  activity: string
  questions: string
  opens: { day: string; month: string; year: string }
  closes: { day: string; month: string; year: string }
}

export function registerSurveyRoutes(app: FastifyInstance, services: Services): void {
  const { db, catalogue } = services

  const userOf = (req: FastifyRequest): User => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    return p
  }

  const leadProvidersOf = async (user: User) => {
    const ids = organisationsWithRole(user, 'lead-provider-admin')
    if (!ids.length) throw forbidden()
    return db.selectFrom('organisations').select(['id', 'code', 'name']).where('id', 'in', ids).orderBy('name').execute()
  }

  // ---- Authoring (lead-provider admins) ----

  app.get<{ Querystring: { created?: string } }>('/lead-provider/surveys', { config: { access: 'signed-in' } }, async (req, reply) => {
    const providers = await leadProvidersOf(userOf(req))
    const surveys = await listSurveys(
      db,
      providers.map((p) => p.id),
    )
    return reply.render(view('index'), {
      title: 'Surveys',
      area: 'lead-provider',
      created: req.query.created,
      surveys: surveys.map((s) => ({
        ...s,
        kindLabel: kindLabels[s.kind],
        courseName: courseName(s.courseIdentifier),
        href: `/lead-provider/surveys/${s.id}`,
      })),
    })
  })

  async function surveyForm(reply: FastifyReply, user: User, values: Partial<SurveyForm>, errors: FieldError[] = []) {
    const providers = await leadProvidersOf(user)
    const provider = providers.find((p) => p.id === values.leadProvider) ?? providers[0]!
    const courses = providers.flatMap((p) => catalogue.coursesOf(p.code).map((c) => ({ provider: p, course: c })))
    const cohorts = [...new Set(providers.flatMap((p) => catalogue.schedulesFor(p.code).map((s) => s.cohort)))].sort().reverse()
    return reply.render(
      view('new'),
      {
        title: 'Create a survey',
        back: '/lead-provider/surveys',
        providerItems: providers.length > 1 ? providers.map((p) => ({ value: p.id, text: p.name, selected: p.id === provider.id })) : null,
        kindItems: surveyKinds.map((k) => ({ value: k, text: kindLabels[k], checked: values.kind === k })),
        courseItems: [
          { value: '', text: 'Choose a course', selected: !values.course },
          ...[...new Set(courses.map((c) => c.course))].map((c) => ({ value: c, text: courseName(c), selected: values.course === c })),
        ],
        cohortItems: [
          { value: '', text: 'Every cohort', selected: !values.cohort },
          ...cohorts.map((c) => ({ value: c, text: c, selected: values.cohort === c })),
        ],
        values: { opens: {}, closes: {}, ...values },
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get('/lead-provider/surveys/new', { config: { access: 'signed-in' } }, async (req, reply) => surveyForm(reply, userOf(req), {}))

  app.post<{ Body: Body }>('/lead-provider/surveys', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const providers = await leadProvidersOf(user)
    const b = req.body ?? {}
    const values: SurveyForm = {
      leadProvider: text(b.leadProvider) || providers[0]!.id,
      title: text(b.title),
      kind: text(b.kind),
      course: text(b.course),
      cohort: text(b.cohort),
      block: text(b.block),
      activity: text(b.activity).toUpperCase(),
      questions: typeof b.questions === 'string' ? b.questions : '',
      opens: { day: text(b['opens-day']), month: text(b['opens-month']), year: text(b['opens-year']) },
      closes: { day: text(b['closes-day']), month: text(b['closes-month']), year: text(b['closes-year']) },
    }
    const problems: FieldError[] = []
    const provider = providers.find((p) => p.id === values.leadProvider)
    if (!provider) problems.push({ field: 'leadProvider', message: 'Select one of your lead providers' })
    if (!values.title) problems.push({ field: 'title', message: 'Enter a title' })
    else if (values.title.length > MAX_TITLE_CHARS)
      problems.push({ field: 'title', message: `The title must be ${MAX_TITLE_CHARS} characters or fewer` })
    const kind = surveyKinds.includes(values.kind as SurveyKind) ? (values.kind as SurveyKind) : null
    if (!kind) problems.push({ field: 'kind', message: 'Select the kind of survey' })
    const courseOk = provider && catalogue.coursesOf(provider.code).includes(values.course)
    if (!courseOk) problems.push({ field: 'course', message: 'Select a course your lead provider runs' })
    if (values.cohort && provider && !catalogue.schedulesFor(provider.code).some((s) => s.cohort === values.cohort))
      problems.push({ field: 'cohort', message: 'Select one of your cohorts, or every cohort' })
    let block: number | null = null
    if (kind === 'end-of-block') {
      const design = provider && courseOk ? catalogue.design(provider.code, values.course) : undefined
      const blocks = (design?.blocks ?? []).map((bl) => bl.block).filter((n): n is number => typeof n === 'number')
      if (!/^\d{1,2}$/.test(values.block)) problems.push({ field: 'block', message: 'Enter the block number, for example 2' })
      else if (courseOk && !blocks.includes(Number(values.block)))
        problems.push({ field: 'block', message: `Enter a block of this course’s design (${blocks.join(', ') || 'none'})` })
      else block = Number(values.block)
    } else if (values.block) problems.push({ field: 'block', message: 'Only an end-of-block survey has a block: leave it empty' })
    if (values.activity && provider && courseOk && !surveyActivityOk(catalogue, provider.code, values.course, values.activity))
      problems.push({
        field: 'activity',
        message: 'Enter a self-study activity code of this course’s design, for example NPQH-B1-SURVEY, or leave it empty',
      })
    const { questions, problems: questionProblems } = parseQuestions(values.questions)
    if (questionProblems.length) problems.push({ field: 'questions', message: questionProblems.join('. ') })
    const opensOn = dateFromParts(values.opens.day, values.opens.month, values.opens.year)
    const closesOn = dateFromParts(values.closes.day, values.closes.month, values.closes.year)
    if (!opensOn) problems.push({ field: 'opens-day', message: 'Enter the date the survey opens as a real date, for example 1 9 2026' })
    if (!closesOn) problems.push({ field: 'closes-day', message: 'Enter the date the survey closes as a real date, for example 30 9 2026' })
    else if (opensOn && closesOn < opensOn)
      problems.push({ field: 'closes-day', message: 'The survey must close on or after the day it opens' })
    if (problems.length || !provider || !kind || !opensOn || !closesOn) return surveyForm(reply, user, values, problems)
    const id = await createSurvey(db, user, {
      leadProviderId: provider.id,
      kind,
      title: values.title,
      courseIdentifier: values.course,
      cohort: values.cohort || null,
      block,
      activityCode: values.activity || null,
      questions,
      opensOn,
      closesOn,
    })
    return reply.redirect(`/lead-provider/surveys/${id}?created=1`, 303)
  })

  // ---- Results (lead-provider admins: all; delivery-partner leads: their own participants) ----

  /** The survey, if this person may read its results from this area, and whose responses they see. */
  async function readable(user: User, area: ResultsArea, surveyId: string) {
    const survey = await loadSurvey(db, surveyId)
    if (area === 'lead-provider') {
      if (!organisationsWithRole(user, 'lead-provider-admin').includes(survey.lead_provider_id)) throw notFound('Survey')
      return { survey, partners: undefined }
    }
    const partners = partnersOf(user).filter((r) => r.leadProviderIds.includes(survey.lead_provider_id))
    if (!partners.length) throw notFound('Survey')
    return { survey, partners: partners.map((p) => p.organisationId) }
  }

  const partnersOf = (user: User) => user.roles.filter((r) => r.role === 'delivery-partner-lead')

  app.get('/delivery-partner/surveys', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const partners = partnersOf(user)
    if (!partners.length) throw forbidden()
    const surveys = await listSurveys(
      db,
      [...new Set(partners.flatMap((p) => p.leadProviderIds))],
      partners.map((p) => p.organisationId),
    )
    return reply.render(view('index'), {
      title: 'Surveys',
      area: 'delivery-partner',
      surveys: surveys.map((s) => ({
        ...s,
        kindLabel: kindLabels[s.kind],
        courseName: courseName(s.courseIdentifier),
        href: `/delivery-partner/surveys/${s.id}`,
      })),
    })
  })

  for (const area of ['lead-provider', 'delivery-partner'] as const) {
    app.get<{ Params: { id: string }; Querystring: { created?: string } }>(
      `/${area}/surveys/:id`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const { survey, partners } = await readable(userOf(req), area, req.params.id)
        const questions = questionsOf(survey.questions)
        const responses = await responsesOf(db, survey.id, partners)
        return reply.render(view('results'), {
          title: survey.title,
          area,
          back: `/${area}/surveys`,
          created: req.query.created,
          survey: {
            ...survey,
            kindLabel: kindLabels[survey.kind],
            courseName: courseName(survey.course_identifier),
          },
          questions,
          responses: responses.length,
          summary: summarise(
            questions,
            responses.map((r) => r.answers),
          ),
          csvHref: `/${area}/surveys/${survey.id}/responses.csv`,
        })
      },
    )

    app.get<{ Params: { id: string } }>(`/${area}/surveys/:id/responses.csv`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const { survey, partners } = await readable(userOf(req), area, req.params.id)
      const questions = questionsOf(survey.questions)
      const responses = await responsesOf(db, survey.id, partners)
      // A delivery partner's download names nobody (see surveys.ts on anonymity).
      const named = area === 'lead-provider'
      const csv = stringify(
        responses.map((r) => [
          londonDateOf(r.submittedAt),
          ...(named ? [r.participant, r.trn, r.deliveryPartner ?? ''] : []),
          r.event ?? '',
          ...questions.map((q) => spreadsheetSafe(r.answers[q.id] ?? '')),
        ]),
        {
          header: true,
          columns: ['submitted_on', ...(named ? ['participant', 'trn', 'delivery_partner'] : []), 'event', ...questions.map((q) => q.text)],
        },
      )
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="survey-${survey.id}.csv"`)
        .header('cache-control', 'private, no-store')
        .send(csv)
    })
  }

  // ---- Answering (participants) ----

  const today = () => londonDateOf(new Date())

  app.get<{ Querystring: { answered?: string } }>('/participant/surveys', { config: { access: 'signed-in' } }, async (req, reply) => {
    const user = userOf(req)
    const [due, answered] = await Promise.all([dueSurveyItems(services, user.userId, today()), answeredBy(db, user.userId)])
    return reply.render(view('participant-index'), {
      title: 'Surveys',
      answeredNow: req.query.answered,
      due: due.map((d) => ({ ...d, kindLabel: kindLabels[d.kind], courseName: courseName(d.courseIdentifier) })),
      answered: answered.map((a) => ({ ...a, courseName: courseName(a.course_identifier) })),
    })
  })

  async function dueItemFor(user: User, surveyId: string, eventId: string | undefined) {
    if (!/^[0-9a-f-]{36}$/i.test(surveyId) || (eventId !== undefined && !/^[0-9a-f-]{36}$/i.test(eventId))) throw notFound('Survey')
    const items = await dueSurveyItems(services, user.userId, today())
    const item = items.find((i) => i.surveyId === surveyId && (i.eventId ?? '') === (eventId ?? ''))
    if (!item) {
      // Not due: answered already (say so), or not theirs / not open (not found).
      const mine = await db
        .selectFrom('survey_responses as r')
        .innerJoin('enrolments as e', 'e.id', 'r.enrolment_id')
        .innerJoin('participants as p', 'p.id', 'e.participant_id')
        .select('r.id')
        .where('r.survey_id', '=', surveyId)
        .where('p.user_id', '=', user.userId)
        .$if(Boolean(eventId), (q) => q.where('r.event_id', '=', eventId!))
        .executeTakeFirst()
      if (mine) throw new AppError('conflict', 'You have already answered this survey')
      throw notFound('Survey')
    }
    return item
  }

  async function answerForm(
    reply: FastifyReply,
    user: User,
    surveyId: string,
    eventId: string | undefined,
    values: Body = {},
    errors: FieldError[] = [],
  ) {
    const item = await dueItemFor(user, surveyId, eventId)
    const survey = await loadSurvey(db, item.surveyId)
    return reply.render(
      view('answer'),
      {
        title: item.title,
        back: '/participant/surveys',
        action: `/participant/surveys/${item.surveyId}${item.eventId ? `?event=${item.eventId}` : ''}`,
        survey: { ...survey, kindLabel: kindLabels[survey.kind], courseName: courseName(survey.course_identifier) },
        questions: questionsOf(survey.questions),
        values,
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  app.get<{ Params: { id: string }; Querystring: { event?: string } }>(
    '/participant/surveys/:id',
    { config: { access: 'signed-in' } },
    async (req, reply) => answerForm(reply, userOf(req), req.params.id, req.query.event),
  )

  app.post<{ Params: { id: string }; Querystring: { event?: string }; Body: Body }>(
    '/participant/surveys/:id',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const item = await dueItemFor(user, req.params.id, req.query.event)
      const survey = await loadSurvey(db, item.surveyId)
      const body = req.body ?? {}
      const { answers, problems } = readAnswers(questionsOf(survey.questions), body)
      if (problems.length) return answerForm(reply, user, req.params.id, req.query.event, body, problems)
      await submitResponse(services, user, item, answers)
      return reply.redirect('/participant/surveys?answered=1', 303)
    },
  )
}
