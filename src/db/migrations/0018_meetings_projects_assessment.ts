import { sql, type Kysely } from 'kysely'

// Issue 8: line manager/mentor meetings scheduled and logged on the platform, the implementation
// project, and the summative assessment from its window to released results.
//
// Meetings: a meeting is scheduled in advance (meeting_schedules); its log is written in versions
// (meeting_log_versions) that both the participant and their line manager sign; a fully signed version
// becomes evidence as a row of meeting_logs (append-only since 0005; a later version supersedes it).
//
// The implementation project is the participant's own record and never evidence of engagement.
//
// Assessment: windows per lead provider, course and cohort (8 calendar days, the 90% deadline before
// them); at the deadline each enrolment gets an entry decision; an entered participant writes a response
// (draft autosaved, then submitted); extenuating circumstances are requested and decided; scripts are
// allocated to assessors and marked anonymously, a sample moderated internally, the window moderated
// externally, and results released together, when they become assessment_attempts (the evidence the
// outputs read, as the `assessments` import writes them).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table meeting_schedules (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      meeting_number integer not null check (meeting_number > 0),
      starts_at timestamptz not null,
      duration_minutes integer not null default 60 check (duration_minutes between 15 and 480),
      location text,
      scheduled_by uuid references users(id),
      scheduled_at timestamptz not null default now(),
      cancelled_at timestamptz,
      cancelled_by uuid references users(id),
      -- When the time or place last changed: the calendar invitation's stamp.
      updated_at timestamptz not null default now()
    );
    create unique index meeting_schedules_one_live on meeting_schedules (enrolment_id, meeting_number) where cancelled_at is null;

    create table meeting_log_versions (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      meeting_number integer not null check (meeting_number > 0),
      version integer not null check (version > 0),
      held_on date not null,
      stage text not null check (stage in ('contracting', 'check-in', 'reflection', 'target-setting')),
      fats_completed boolean not null default false,
      fats_completed_count integer not null default 0 check (fats_completed_count >= 0),
      checking_in text not null default '',
      key_purposes text not null default '',
      -- The five questions of Appendix 1 with their responses: [{ question, response }].
      answers jsonb not null default '[]',
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      participant_signed_at timestamptz,
      participant_signed_by uuid references users(id),
      line_manager_signed_at timestamptz,
      line_manager_signed_by uuid references users(id),
      -- The evidence row written when both have signed (a later version whose evidence fields are
      -- unchanged keeps the same row, so this is not unique).
      meeting_log_id uuid references meeting_logs(id),
      unique (enrolment_id, meeting_number, version)
    );

    create table implementation_projects (
      enrolment_id uuid primary key references enrolments(id),
      title text not null default '',
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create table project_entries (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      stage text not null check (stage in ('explore', 'prepare', 'deliver', 'sustain')),
      body text not null check (length(body) > 0),
      -- A reflection linked to one of the participant's line manager/mentor meetings.
      meeting_number integer check (meeting_number > 0),
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index project_entries_enrolment on project_entries (enrolment_id, stage, created_at);
    create table project_reports (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      body text,
      file_name text,
      file_type text,
      file_size integer check (file_size > 0),
      file_data bytea,
      presented_on date,
      submitted_by uuid references users(id),
      submitted_at timestamptz not null default now(),
      check (body is not null or file_data is not null),
      check ((file_data is null) = (file_name is null))
    );
    create index project_reports_enrolment on project_reports (enrolment_id, submitted_at desc);

    create table assessment_windows (
      id uuid primary key default uuid_v7(),
      lead_provider_id uuid not null references organisations(id),
      course_identifier text not null,
      cohort text not null,
      opens_on date not null,
      closes_on date not null,
      engagement_deadline date not null,
      max_words integer not null check (max_words > 0),
      case_study_title text not null default '',
      case_study text not null default '',
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      entries_decided_at timestamptz,
      externally_moderated_at timestamptz,
      externally_moderated_by uuid references users(id),
      results_released_at timestamptz,
      results_released_by uuid references users(id),
      -- 8 calendar days, day 1 to day 8; the 90% deadline before day 1.
      check (closes_on = opens_on + 7),
      check (engagement_deadline < opens_on),
      unique (lead_provider_id, course_identifier, cohort, opens_on)
    );

    create table assessment_entries (
      id uuid primary key default uuid_v7(),
      window_id uuid not null references assessment_windows(id),
      enrolment_id uuid not null references enrolments(id),
      attempt integer not null check (attempt > 0),
      -- entered: sits it; not-entered: below 90% at the deadline (the attempt is lost); kept: below 90%
      -- with a deferral requested before the deadline (the attempt is kept).
      decision text not null check (decision in ('entered', 'not-entered', 'kept')),
      engagement_percent numeric(6, 2),
      decided_at timestamptz not null default now(),
      decided_by uuid references users(id),
      draft text not null default '',
      draft_word_count integer not null default 0,
      draft_saved_at timestamptz,
      submitted_text text,
      submitted_word_count integer,
      submitted_at timestamptz,
      -- Entered but not submitted by the end of day 8: lost unless extenuating circumstances are accepted.
      outcome text check (outcome in ('submitted', 'lost', 'kept')),
      unique (window_id, enrolment_id)
    );
    create index assessment_entries_enrolment on assessment_entries (enrolment_id);

    create table extenuating_circumstances (
      id uuid primary key default uuid_v7(),
      entry_id uuid not null references assessment_entries(id),
      reason text not null check (length(reason) > 0),
      requested_by uuid references users(id),
      requested_at timestamptz not null default now(),
      decision text check (decision in ('accepted', 'declined')),
      decision_reason text,
      decided_by uuid references users(id),
      decided_at timestamptz,
      check ((decision is null) = (decided_at is null))
    );
    create unique index extenuating_one_open on extenuating_circumstances (entry_id) where decision is null;

    create table assessment_marks (
      id uuid primary key default uuid_v7(),
      entry_id uuid not null unique references assessment_entries(id),
      -- Scripts are shown to assessors by this reference only: no name or TRN.
      script_reference text not null unique,
      assessor_user_id uuid not null references users(id),
      allocated_by uuid references users(id),
      allocated_at timestamptz not null default now(),
      mark integer check (mark >= 0),
      result text check (result in ('passed', 'failed')),
      feedback text,
      marked_at timestamptz,
      in_moderation_sample boolean not null default false,
      moderated_by uuid references users(id),
      moderated_at timestamptz,
      moderated_result text check (moderated_result in ('passed', 'failed')),
      moderation_notes text,
      check ((result is null) = (marked_at is null))
    );
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table assessment_marks; drop table extenuating_circumstances; drop table assessment_entries; drop table assessment_windows;
    drop table project_reports; drop table project_entries; drop table implementation_projects;
    drop table meeting_log_versions; drop table meeting_schedules;
  `.execute(db)
}
