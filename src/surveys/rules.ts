import type { FieldError } from '../errors.ts'
import type { SurveyAnswers, SurveyKind, SurveyQuestion } from './schema.ts'

// The pure rules of surveys (issue 9): how a lead provider writes questions, which surveys are due to a
// participant on a day, what a valid answer is, and the summary of responses. No database here.

export const MAX_QUESTIONS = 20
export const MAX_QUESTION_CHARS = 300
export const MAX_OPTIONS = 10
export const MAX_TEXT_ANSWER_CHARS = 2_000

const prefixes = { rating: 'rating', choice: 'choice', text: 'text' } as const

/**
 * Questions are written one a line, each starting with its kind:
 *   rating: How useful was the session?            (answered 1 to 5)
 *   choice: Which venue did you attend? | Leeds | York   (options after "|")
 *   text: What could we do better?                 (free text, optional to answer)
 */
export function parseQuestions(source: string): { questions: SurveyQuestion[]; problems: string[] } {
  const problems: string[] = []
  const questions: SurveyQuestion[] = []
  const lines = source.split(/\r?\n/)
  lines.forEach((raw, i) => {
    const line = raw.trim()
    if (!line) return
    const where = `Line ${i + 1}`
    const match = /^(rating|choice|text)\s*:\s*(.*)$/i.exec(line)
    if (!match) {
      problems.push(`${where}: start the question with “rating:”, “choice:” or “text:”`)
      return
    }
    const kind = prefixes[match[1]!.toLowerCase() as keyof typeof prefixes]
    const [question = '', ...rest] = match[2]!.split('|').map((s) => s.trim())
    if (!question) {
      problems.push(`${where}: enter the question after “${kind}:”`)
      return
    }
    if (question.length > MAX_QUESTION_CHARS) problems.push(`${where}: the question must be ${MAX_QUESTION_CHARS} characters or fewer`)
    const id = `q${questions.length + 1}`
    if (kind === 'choice') {
      const options = rest.filter((o) => o !== '')
      if (options.length < 2) problems.push(`${where}: give a choice question at least 2 options, separated by “|”`)
      else if (options.length > MAX_OPTIONS) problems.push(`${where}: give a choice question at most ${MAX_OPTIONS} options`)
      else if (new Set(options.map((o) => o.toLowerCase())).size !== options.length)
        problems.push(`${where}: the options must be different`)
      else if (options.some((o) => o.length > 100)) problems.push(`${where}: each option must be 100 characters or fewer`)
      questions.push({ id, kind, text: question, options })
    } else {
      if (rest.some((o) => o !== '')) problems.push(`${where}: only choice questions have options after “|”`)
      questions.push({ id, kind, text: question })
    }
  })
  if (!questions.length && !problems.length) problems.push('Enter at least one question')
  if (questions.length > MAX_QUESTIONS) problems.push(`A survey can have at most ${MAX_QUESTIONS} questions`)
  return { questions, problems }
}

/** The questions written back in the form they were entered. */
export function questionsToText(questions: readonly SurveyQuestion[]): string {
  return questions.map((q) => `${q.kind}: ${q.text}${q.options?.length ? ` | ${q.options.join(' | ')}` : ''}`).join('\n')
}

export type DueSurvey = {
  id: string
  kind: SurveyKind
  leadProviderId: string
  courseIdentifier: string
  cohort: string | null
  opensOn: string
  closesOn: string
}
export type DueEnrolment = { leadProviderId: string; courseIdentifier: string; cohort: string; status: string }
export type AttendedEvent = { id: string; title: string; startsOn: string }
/** One survey to answer: for an event survey, about one attended event. */
export type DueItem = { eventId: string | null; eventTitle: string | null }

/**
 * What of this survey is due to this enrolment today. Nothing unless the survey is for the enrolment's
 * lead provider, course and cohort (or every cohort), is open today (opens_on ≤ today ≤ closes_on), and
 * the enrolment is not deferred or withdrawn. Then:
 * - an event survey: once per event the participant attended (a current register entry 'attended') that
 *   took place from the day the survey opened until today;
 * - an end-of-block survey: once, from the day the block goes live for the cohort;
 * - an end-of-programme survey: once, while it is open (the lead provider opens it near the end).
 * Whatever has been answered is no longer due.
 */
export function dueItems(input: {
  survey: DueSurvey
  enrolment: DueEnrolment
  today: string
  blockGoesLiveOn: string | null
  attendedEvents: readonly AttendedEvent[]
  answeredEventIds: readonly (string | null)[]
}): DueItem[] {
  const { survey, enrolment, today } = input
  if (survey.leadProviderId !== enrolment.leadProviderId || survey.courseIdentifier !== enrolment.courseIdentifier) return []
  if (survey.cohort !== null && survey.cohort !== enrolment.cohort) return []
  if (enrolment.status === 'deferred' || enrolment.status === 'withdrawn') return []
  if (today < survey.opensOn || today > survey.closesOn) return []
  const answered = new Set(input.answeredEventIds)
  if (survey.kind === 'event') {
    return input.attendedEvents
      .filter((e) => e.startsOn >= survey.opensOn && e.startsOn <= today && !answered.has(e.id))
      .sort((a, b) => a.startsOn.localeCompare(b.startsOn))
      .map((e) => ({ eventId: e.id, eventTitle: e.title }))
  }
  if (answered.has(null)) return []
  if (survey.kind === 'end-of-block' && (input.blockGoesLiveOn === null || input.blockGoesLiveOn > today)) return []
  return [{ eventId: null, eventTitle: null }]
}

/** A response's answers from a form: ratings and choices required, free text optional. */
export function readAnswers(
  questions: readonly SurveyQuestion[],
  body: Record<string, unknown>,
): { answers: SurveyAnswers; problems: FieldError[] } {
  const answers: SurveyAnswers = {}
  const problems: FieldError[] = []
  for (const q of questions) {
    const raw = typeof body[q.id] === 'string' ? (body[q.id] as string).trim() : ''
    if (q.kind === 'rating') {
      if (!/^[1-5]$/.test(raw)) problems.push({ field: q.id, message: `Select a rating from 1 to 5 for “${q.text}”` })
      else answers[q.id] = Number(raw)
    } else if (q.kind === 'choice') {
      if (!q.options?.includes(raw)) problems.push({ field: q.id, message: `Select an answer for “${q.text}”` })
      else answers[q.id] = raw
    } else if (raw.length > MAX_TEXT_ANSWER_CHARS) {
      problems.push({
        field: q.id,
        message: `Your answer to “${q.text}” must be ${MAX_TEXT_ANSWER_CHARS.toLocaleString('en-GB')} characters or fewer`,
      })
    } else if (raw) answers[q.id] = raw
  }
  return { answers, problems }
}

export type QuestionSummary = {
  question: SurveyQuestion
  /** How many responses answered it. */
  answered: number
  /** Ratings: the mean to one decimal place (null with no answers) and the count of each value 1–5. */
  average: number | null
  ratings: { value: number; count: number }[]
  /** Choices: the count and whole-number percentage of each option, in the question's order. */
  choices: { option: string; count: number; percent: number }[]
  /** Free text: the answers given, in the order received, without names. */
  texts: string[]
}

export function summarise(questions: readonly SurveyQuestion[], responses: readonly SurveyAnswers[]): QuestionSummary[] {
  return questions.map((question) => {
    const values = responses.map((r) => r[question.id]).filter((v) => v !== undefined && v !== '')
    const summary: QuestionSummary = { question, answered: values.length, average: null, ratings: [], choices: [], texts: [] }
    if (question.kind === 'rating') {
      const numbers = values.map(Number).filter((n) => Number.isInteger(n) && n >= 1 && n <= 5)
      summary.answered = numbers.length
      summary.average = numbers.length ? Math.round((numbers.reduce((a, b) => a + b, 0) / numbers.length) * 10) / 10 : null
      summary.ratings = [1, 2, 3, 4, 5].map((value) => ({ value, count: numbers.filter((n) => n === value).length }))
    } else if (question.kind === 'choice') {
      summary.choices = (question.options ?? []).map((option) => {
        const count = values.filter((v) => v === option).length
        return { option, count, percent: values.length ? Math.round((count / values.length) * 100) : 0 }
      })
    } else {
      summary.texts = values.map(String)
    }
    return summary
  })
}

/** Free text typed by participants must not run as a formula when a download is opened in a spreadsheet (OWASP CSV injection). */
export const spreadsheetSafe = (value: string | number): string | number =>
  typeof value === 'string' && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value
