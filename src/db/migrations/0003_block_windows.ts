import { sql, type Kysely } from 'kysely'

// Block go-live dates and completion windows an admin has set for a cohort (defaults are derived).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table block_windows (
      lead_provider text not null,
      course_identifier text not null,
      cohort text not null,
      block integer not null,
      goes_live_on date not null,
      completes_by date not null check (completes_by >= goes_live_on),
      updated_by uuid references users(id),
      updated_at timestamptz not null default now(),
      primary key (lead_provider, course_identifier, cohort, block)
    );
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table block_windows`.execute(db)
}
