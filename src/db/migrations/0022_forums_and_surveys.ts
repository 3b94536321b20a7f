import { sql, type Kysely } from 'kysely'

// Issue 9: discussion forums per group and per course (posts, replies, moderation, participation as
// evidence where the design counts it), and event and end-of-block/programme surveys.
//
// Forums: one per participant group (kind 'group') and one per lead provider and course (kind
// 'course'), created when first listed. A forum may name a design activity (UCL's "Bespoke Discussion
// Forums", e.g. NPQLBC-FORUM-1): a participant's first post there records it as a learning record.
// Posts are never deleted: a moderator hides one with a reason, and the author still sees it and why.
//
// Surveys: authored by a lead provider's admins for a course (and optionally a cohort); a participant
// answers once per survey (once per attended event for event surveys). A survey may name a design
// activity (EDT's "End-of-block survey", NPQH-B1-SURVEY…) that the response then records.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table forums (
      id uuid primary key default uuid_v7(),
      kind text not null check (kind in ('group', 'course')),
      group_id uuid unique references participant_groups(id),
      lead_provider_id uuid references organisations(id),
      course_identifier text not null,
      activity_code text,
      created_at timestamptz not null default now(),
      check ((kind = 'group') = (group_id is not null)),
      check ((kind = 'course') = (lead_provider_id is not null)),
      unique (kind, lead_provider_id, course_identifier)
    );

    create table forum_threads (
      id uuid primary key default uuid_v7(),
      forum_id uuid not null references forums(id),
      title text not null check (length(trim(title)) > 0),
      created_by uuid not null references users(id),
      created_at timestamptz not null default now(),
      last_activity_at timestamptz not null default now(),
      locked_at timestamptz,
      locked_by uuid references users(id)
    );
    create index forum_threads_forum on forum_threads (forum_id, last_activity_at desc);

    create table forum_posts (
      id uuid primary key default uuid_v7(),
      thread_id uuid not null references forum_threads(id),
      author_user_id uuid not null references users(id),
      body text not null check (length(trim(body)) > 0),
      created_at timestamptz not null default now(),
      hidden_at timestamptz,
      hidden_by uuid references users(id),
      hidden_reason text,
      check ((hidden_at is null) = (hidden_reason is null))
    );
    create index forum_posts_thread on forum_posts (thread_id, created_at);
    create trigger forum_posts_kept before delete on forum_posts for each row execute function refuse_change();

    create table surveys (
      id uuid primary key default uuid_v7(),
      lead_provider_id uuid not null references organisations(id),
      kind text not null check (kind in ('event', 'end-of-block', 'end-of-programme')),
      title text not null check (length(trim(title)) > 0),
      course_identifier text not null,
      cohort text,
      block integer check (block > 0),
      activity_code text,
      -- [{ id, kind: rating | choice | text, text, options? }]
      questions jsonb not null,
      opens_on date not null,
      closes_on date not null,
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      check ((kind = 'end-of-block') = (block is not null)),
      check (closes_on >= opens_on)
    );
    create index surveys_lead_provider on surveys (lead_provider_id, opens_on desc);

    create table survey_responses (
      id uuid primary key default uuid_v7(),
      survey_id uuid not null references surveys(id),
      enrolment_id uuid not null references enrolments(id),
      event_id uuid references events(id),
      -- { questionId: answer }
      answers jsonb not null,
      submitted_by uuid references users(id),
      submitted_at timestamptz not null default now()
    );
    create unique index survey_responses_once on survey_responses (survey_id, enrolment_id) where event_id is null;
    create unique index survey_responses_once_per_event on survey_responses (survey_id, enrolment_id, event_id) where event_id is not null;
    create trigger survey_responses_kept before update or delete on survey_responses for each row execute function refuse_change();
  `.execute(db)
}
