import { sql, type Kysely } from 'kysely'

// Events and facilitators' registers (the slice of issue 5 that engagement needs), line manager/mentor
// meeting logs (the slice of issue 8), and corrections of learning records. Evidence is append-only
// throughout: a correction is a new row that supersedes the old one (at most one successor each), and
// the current evidence is the rows nobody has superseded.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table events (
      id uuid primary key default gen_random_uuid(),
      event_ref text not null unique,
      lead_provider_id uuid not null references organisations(id),
      delivery_partner_id uuid not null references organisations(id),
      course_identifier text not null,
      cohort text not null,
      activity_code text,
      kind text not null,
      starts_at timestamptz not null,
      ends_at timestamptz not null,
      starts_on date not null,
      capacity integer not null check (capacity > 0),
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check (ends_at > starts_at)
    );
    create index events_delivery_partner on events (delivery_partner_id, starts_at);

    create table register_entries (
      id uuid primary key default gen_random_uuid(),
      event_id uuid not null references events(id),
      participant_id uuid not null references participants(id),
      status text not null check (status in ('attended', 'absent', 'contingency-completed')),
      completed_at timestamptz,
      completed_on date,
      note text,
      supersedes uuid unique references register_entries(id),
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now(),
      check ((status = 'contingency-completed') = (completed_at is not null)),
      check ((completed_at is null) = (completed_on is null))
    );
    create index register_entries_participant on register_entries (participant_id, event_id);
    create trigger register_entries_append_only before update or delete on register_entries
      for each row execute function refuse_change();

    create table meeting_logs (
      id uuid primary key default gen_random_uuid(),
      participant_id uuid not null references participants(id),
      course_identifier text not null,
      meeting_number integer not null check (meeting_number > 0),
      held_on date not null,
      signed_by_line_manager boolean not null,
      signed_by_participant boolean not null,
      fats_completed integer check (fats_completed >= 0),
      supersedes uuid unique references meeting_logs(id),
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now()
    );
    create index meeting_logs_enrolment on meeting_logs (participant_id, course_identifier, meeting_number);
    create trigger meeting_logs_append_only before update or delete on meeting_logs
      for each row execute function refuse_change();

    -- Reports select one lead provider's cohort, often one delivery partner's participants.
    create index enrolments_report on enrolments (lead_provider_id, cohort, delivery_partner_id);

    -- A correction of a learning record carries the corrected values, or retracts it (entered in
    -- error). Only original records are unique by content, so a retracted record imported again
    -- stays retracted.
    alter table learning_records add column retracted boolean not null default false;
    alter table learning_records add column reason text;
    drop index learning_records_once;
    create unique index learning_records_once on learning_records
      (participant_id, activity_code, occurred_at, source, coalesce(progress_percent, -1)) where supersedes is null;
    create unique index learning_records_superseded on learning_records (supersedes) where supersedes is not null;
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index enrolments_report;
    drop table meeting_logs;
    drop table register_entries;
    drop table events;
    drop index learning_records_superseded;
    drop index learning_records_once;
    alter table learning_records drop column retracted, drop column reason;
    create unique index learning_records_once on learning_records
      (participant_id, activity_code, occurred_at, source, coalesce(progress_percent, -1));
  `.execute(db)
}
