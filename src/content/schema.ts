import type { ColumnType, Generated } from 'kysely'

// Table types for block content (migration 0019); part of the database Schema in src/db/schema.ts.

type Time = ColumnType<Date, Date | string | undefined, Date | string>
type MaybeTime = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type Maybe<T> = ColumnType<T | null, T | null | undefined, T | null>
/** jsonb: read as parsed JSON, written as a JSON string. */
type Jsonb<T> = ColumnType<T, string | undefined, string>

export const contentKinds = [
  'page',
  'video',
  'podcast',
  'file',
  'quiz',
  'diagnostic',
  'reflection',
  'task',
  'study',
  'apply',
  'micro-task',
  'webinar',
] as const
export type ContentKind = (typeof contentKinds)[number]

export type MediaVersion = { label: string; fileId: string | null; url: string | null; durationSeconds: number }
export type Question = { prompt: string; options: string[]; correct: number[]; feedback: string }
export type Interval = [number, number]

export interface ContentFilesTable {
  id: Generated<string>
  lead_provider_id: string
  name: string
  mime_type: string
  size: number
  data: Buffer
  uploaded_by: Maybe<string>
  uploaded_at: Time
}

export interface ContentItemsTable {
  id: Generated<string>
  lead_provider_id: string
  course_identifier: string
  block: string
  activity_code: Maybe<string>
  kind: ContentKind
  title: string
  body: ColumnType<string, string | undefined, string>
  evidence_summary: ColumnType<string, string | undefined, string>
  media: Jsonb<MediaVersion[]>
  file_id: Maybe<string>
  questions: Jsonb<Question[]>
  pass_mark: Maybe<number>
  prompts: Jsonb<string[]>
  tags: Jsonb<string[]>
  position: ColumnType<number, number | undefined, number>
  status: ColumnType<'draft' | 'published', 'draft' | 'published' | undefined, 'draft' | 'published'>
  goes_live_on: Maybe<string>
  created_by: Maybe<string>
  created_at: Time
  updated_by: Maybe<string>
  updated_at: Time
  published_at: MaybeTime
  published_by: Maybe<string>
}

export interface ContentProgressTable {
  id: Generated<string>
  item_id: string
  enrolment_id: string
  chosen_version: Maybe<number>
  intervals: Jsonb<Record<string, Interval[]>>
  watched_seconds: ColumnType<string, number | string | undefined, number | string>
  answers: Jsonb<Record<string, string>>
  completed_at: MaybeTime
  updated_at: Time
}

export interface QuizAttemptsTable {
  id: Generated<string>
  item_id: string
  enrolment_id: string
  answers: Jsonb<number[][]>
  score: number
  max_score: number
  passed: Maybe<boolean>
  submitted_by: Maybe<string>
  submitted_at: Time
}

export interface TaskSubmissionsTable {
  id: Generated<string>
  item_id: string
  enrolment_id: string
  body: ColumnType<string, string | undefined, string>
  file_name: Maybe<string>
  file_type: Maybe<string>
  file_data: Maybe<Buffer>
  submitted_by: Maybe<string>
  submitted_at: Time
  feedback: Maybe<string>
  feedback_by: Maybe<string>
  feedback_at: MaybeTime
}

export interface LocalContextsTable {
  id: Generated<string>
  delivery_partner_id: string
  lead_provider_id: string
  course_identifier: string
  block: string
  notes: ColumnType<string, string | undefined, string>
  examples: ColumnType<string, string | undefined, string>
  updated_by: Maybe<string>
  updated_at: Time
}

export interface ContentSchema {
  content_files: ContentFilesTable
  content_items: ContentItemsTable
  content_progress: ContentProgressTable
  quiz_attempts: QuizAttemptsTable
  task_submissions: TaskSubmissionsTable
  local_contexts: LocalContextsTable
}
