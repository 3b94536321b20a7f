import { sql, type Kysely } from 'kysely'

// Learning records: self-study completions, video progress and self-reports, each with its source and
// time. Records are never edited: a correction is a new record that supersedes the old one.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table learning_records (
      id uuid primary key default gen_random_uuid(),
      participant_id uuid not null references participants(id),
      course_identifier text not null,
      activity_code text not null,
      occurred_at timestamptz not null,
      evidence_on date not null,
      source text not null check (source in ('automatic', 'self-report')),
      progress_percent numeric(5, 2) check (progress_percent between 0 and 100),
      client_event_id text unique,
      supersedes uuid references learning_records(id),
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now()
    );
    create unique index learning_records_once on learning_records
      (participant_id, activity_code, occurred_at, source, coalesce(progress_percent, -1));
    create index learning_records_enrolment on learning_records (participant_id, course_identifier, evidence_on);
    create trigger learning_records_append_only before update or delete on learning_records
      for each row execute function refuse_change();
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table learning_records`.execute(db)
}
