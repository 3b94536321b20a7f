import { sql, type Kysely } from 'kysely'

// Per-enrolment figures computed by a job (src/dashboards/figure-store.ts): engagement, its projection
// at the 90% deadline, risks and each output's status as of one London day. Pages that show a whole
// cohort (dashboards, the declarations review, money's projections) read these rows with SQL instead of
// running the engagement engine and output evaluation on the request (docs/PERFORMANCE.md).
// `figure_runs` says, per lead provider and cohort, which day the rows are for and when they were made.
// Derived data only: no names (joined when shown), rebuilt whenever it is missing or old.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table figure_runs (
      lead_provider_id uuid not null references organisations (id),
      cohort text not null,
      as_of date not null,
      computed_at timestamptz not null,
      enrolments integer not null,
      took_ms integer not null,
      primary key (lead_provider_id, cohort)
    )
  `.execute(db)
  await sql`
    create table enrolment_figures (
      enrolment_id uuid primary key references enrolments (id) on delete cascade,
      lead_provider_id uuid not null,
      cohort text not null,
      course_identifier text not null,
      delivery_partner_id uuid,
      as_of date not null,
      active boolean not null,
      ratio double precision not null,
      percent double precision not null,
      deadline date,
      projected_percent double precision,
      risks jsonb not null,
      engagement jsonb not null,
      outputs jsonb not null,
      reasons jsonb not null
    )
  `.execute(db)
  await sql`create index enrolment_figures_unit on enrolment_figures (lead_provider_id, cohort, delivery_partner_id)`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table enrolment_figures`.execute(db)
  await sql`drop table figure_runs`.execute(db)
}
