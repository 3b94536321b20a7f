import { sql, type Kysely } from 'kysely'

// The dashboards (docs/PERFORMANCE.md, "Dashboards"):
//  - list past events whose register has not been taken: an event counts as taken when it has any
//    register entry (imported or recorded), and register_entries had no index by event, so each check
//    read the whole table (over a million rows at national scale);
//  - count participants by status per cohort and course on every request: an index-only scan of this
//    index instead of reading ~40,000 enrolment rows for a lead provider (105 ms → 20 ms, loaded machine);
//  - find a lead provider's past events not marked as having a register (the register page and the
//    API mark them) without reading every one of its events.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index if not exists register_entries_event on register_entries (event_id)`.execute(db)
  await sql`
    create index if not exists enrolments_dashboard_status
      on enrolments (lead_provider_id, cohort, course_identifier, status, delivery_partner_id)
  `.execute(db)
  await sql`
    create index if not exists events_register_pending on events (lead_provider_id, ends_at)
      where status = 'scheduled' and register_taken_at is null
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index events_register_pending`.execute(db)
  await sql`drop index enrolments_dashboard_status`.execute(db)
  await sql`drop index register_entries_event`.execute(db)
}
