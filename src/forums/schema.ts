import type { ColumnType, Generated } from 'kysely'

// Table types for discussion forums (migration 0022); part of the database Schema in src/db/schema.ts.

type Time = ColumnType<Date, Date | string | undefined, Date | string>
type MaybeTime = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>
type Maybe<T> = ColumnType<T | null, T | null | undefined, T | null>

export type ForumKind = 'group' | 'course'

export interface ForumsTable {
  id: Generated<string>
  kind: ForumKind
  /** The participant group (kind 'group'). */
  group_id: Maybe<string>
  /** The lead provider (kind 'course'). */
  lead_provider_id: Maybe<string>
  course_identifier: string
  /** A design activity a participant's first post here records (where the design counts forums). */
  activity_code: Maybe<string>
  created_at: Time
}

export interface ForumThreadsTable {
  id: Generated<string>
  forum_id: string
  title: string
  created_by: string
  created_at: Time
  last_activity_at: Time
  locked_at: MaybeTime
  locked_by: Maybe<string>
}

export interface ForumPostsTable {
  id: Generated<string>
  thread_id: string
  author_user_id: string
  body: string
  created_at: Time
  hidden_at: MaybeTime
  hidden_by: Maybe<string>
  hidden_reason: Maybe<string>
}

export interface ForumsSchema {
  forums: ForumsTable
  forum_threads: ForumThreadsTable
  forum_posts: ForumPostsTable
}
