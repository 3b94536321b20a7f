import type { ColumnType, Generated, JSONColumnType } from 'kysely'

// Table types for surveys (migration 0022); part of the database Schema in src/db/schema.ts.

type Time = ColumnType<Date, Date | string | undefined, Date | string>
type Maybe<T> = ColumnType<T | null, T | null | undefined, T | null>
type DateColumn = ColumnType<string, string, string>

export const surveyKinds = ['event', 'end-of-block', 'end-of-programme'] as const
export type SurveyKind = (typeof surveyKinds)[number]

export const questionKinds = ['rating', 'choice', 'text'] as const
export type QuestionKind = (typeof questionKinds)[number]

/** A rating is 1–5; a choice one of its options; free text optional. */
export type SurveyQuestion = { id: string; kind: QuestionKind; text: string; options?: string[] }
/** Answers by question id: a rating as a number, a choice or free text as a string. */
export type SurveyAnswers = Record<string, number | string>

export interface SurveysTable {
  id: Generated<string>
  lead_provider_id: string
  kind: SurveyKind
  title: string
  course_identifier: string
  /** Null: every cohort of the course. */
  cohort: Maybe<string>
  /** The block (end-of-block surveys only). */
  block: Maybe<number>
  /** A design activity the response records (EDT's surveys carry credits). */
  activity_code: Maybe<string>
  questions: JSONColumnType<SurveyQuestion[]>
  opens_on: DateColumn
  closes_on: DateColumn
  created_by: Maybe<string>
  created_at: Time
}

export interface SurveyResponsesTable {
  id: Generated<string>
  survey_id: string
  enrolment_id: string
  /** The attended event an event survey's response is about. */
  event_id: Maybe<string>
  answers: JSONColumnType<SurveyAnswers>
  submitted_by: Maybe<string>
  submitted_at: Time
}

export interface SurveysSchema {
  surveys: SurveysTable
  survey_responses: SurveyResponsesTable
}
