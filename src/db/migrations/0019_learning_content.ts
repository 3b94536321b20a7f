import { sql, type Kysely } from 'kysely'

// Issue 9: block content authored by lead providers (pages, media, files, quizzes, diagnostics, reflective prompts, formative assessment tasks, Study and Apply modules, surveys, podcasts, micro tasks, webinar versions), delivery partners' local context, framework tags, and what participants do with it.
//
// An item belongs to a lead provider's course and one of its design's blocks (the block key as the
// design writes it), optionally to one design activity: completing the item then records that
// activity as learning evidence (learning_records), the same way "Mark as complete" does. Files and
// media are stored here and served only to people who may see the item. What participants do (media
// intervals watched, answers, quiz attempts, task submissions) is kept per enrolment; attempts and
// submissions are never deleted.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table content_files (
      id uuid primary key default uuid_v7(),
      lead_provider_id uuid not null references organisations(id),
      name text not null check (length(name) between 1 and 200),
      mime_type text not null,
      size integer not null check (size >= 0),
      data bytea not null,
      uploaded_by uuid references users(id),
      uploaded_at timestamptz not null default now()
    );

    create table content_items (
      id uuid primary key default uuid_v7(),
      lead_provider_id uuid not null references organisations(id),
      course_identifier text not null,
      block text not null,
      activity_code text,
      kind text not null check (kind in ('page', 'video', 'podcast', 'file', 'quiz', 'diagnostic', 'reflection', 'task', 'study', 'apply', 'micro-task', 'webinar')),
      title text not null check (length(title) between 1 and 200),
      -- Markdown, rendered sanitised.
      body text not null default '',
      evidence_summary text not null default '',
      -- Media: [{ label, fileId, url, durationSeconds }] (one for a video or podcast; versions for a webinar).
      media jsonb not null default '[]',
      file_id uuid references content_files(id),
      -- Quiz and diagnostic: [{ prompt, options: [text], correct: [index], feedback }].
      questions jsonb not null default '[]',
      pass_mark integer check (pass_mark between 0 and 100),
      -- Reflective prompts, micro tasks and Study modules: the prompts a participant answers.
      prompts jsonb not null default '[]',
      -- The framework's "learn that" / "learn how to" statements.
      tags jsonb not null default '[]',
      position integer not null default 0,
      status text not null default 'draft' check (status in ('draft', 'published')),
      goes_live_on date,
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      updated_by uuid references users(id),
      updated_at timestamptz not null default now(),
      published_at timestamptz,
      published_by uuid references users(id)
    );
    create index content_items_block on content_items (lead_provider_id, course_identifier, block, position);

    -- A participant's work on an item: watched intervals, chosen webinar version, saved answers, completion.
    create table content_progress (
      id uuid primary key default uuid_v7(),
      item_id uuid not null references content_items(id),
      enrolment_id uuid not null references enrolments(id),
      chosen_version integer check (chosen_version >= 0),
      -- Watched intervals in seconds per version: { "0": [[start, end], ...] }.
      intervals jsonb not null default '{}',
      watched_seconds numeric not null default 0 check (watched_seconds >= 0),
      answers jsonb not null default '{}',
      completed_at timestamptz,
      updated_at timestamptz not null default now(),
      unique (item_id, enrolment_id)
    );

    create table quiz_attempts (
      id uuid primary key default uuid_v7(),
      item_id uuid not null references content_items(id),
      enrolment_id uuid not null references enrolments(id),
      answers jsonb not null,
      score integer not null check (score >= 0),
      max_score integer not null check (max_score >= 0),
      passed boolean,
      submitted_by uuid references users(id),
      submitted_at timestamptz not null default now()
    );
    create index quiz_attempts_item on quiz_attempts (item_id, enrolment_id, submitted_at);

    create table task_submissions (
      id uuid primary key default uuid_v7(),
      item_id uuid not null references content_items(id),
      enrolment_id uuid not null references enrolments(id),
      body text not null default '',
      file_name text,
      file_type text,
      file_data bytea,
      submitted_by uuid references users(id),
      submitted_at timestamptz not null default now(),
      feedback text,
      feedback_by uuid references users(id),
      feedback_at timestamptz,
      check (length(body) > 0 or file_data is not null),
      check ((feedback is null) = (feedback_at is null))
    );
    create index task_submissions_item on task_submissions (item_id, enrolment_id, submitted_at);

    -- A delivery partner's local context for a lead provider's course block: beside the content, never in it.
    create table local_contexts (
      id uuid primary key default uuid_v7(),
      delivery_partner_id uuid not null references organisations(id),
      lead_provider_id uuid not null references organisations(id),
      course_identifier text not null,
      block text not null,
      notes text not null default '',
      examples text not null default '',
      updated_by uuid references users(id),
      updated_at timestamptz not null default now(),
      unique (delivery_partner_id, lead_provider_id, course_identifier, block)
    );
  `.execute(db)
}
