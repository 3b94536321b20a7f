import type { Generated } from 'kysely'

// Table types for programme news (migration 0021); part of the database Schema in src/db/schema.ts.

export interface ProgrammeNewsTable {
  id: Generated<string>
  /** The lead provider or delivery partner that wrote it: its participants read it. */
  organisation_id: string
  /** Only participants on this course; null for all. */
  course_identifier: string | null
  title: string
  body: string
  published_on: string
  created_by: string
  created_at: Generated<Date>
  withdrawn_at: Date | null
  withdrawn_by: string | null
}

export interface NewsSchema {
  programme_news: ProgrammeNewsTable
}
