import { sql, type Kysely } from 'kysely'

// The dashboards list past events with no register (docs/PERFORMANCE.md, "Dashboards"). An event has a
// register once it has any entry, imported or recorded, whether or not the register page marked it
// taken; finding that by looking for entries took ~27 ms per lead provider at national scale (one probe
// per past event). `events.register_entered_at` (when the first entry arrived) is kept by a statement
// trigger, so the partial index holds only the events still waiting for a register.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table events add column register_entered_at timestamptz`.execute(db)
  await sql`
    update events e set register_entered_at = r.first_at
    from (select event_id, min(recorded_at) as first_at from register_entries group by event_id) r
    where r.event_id = e.id
  `.execute(db)
  await sql`
    create function events_register_entered() returns trigger language plpgsql as $$
    begin
      update events e set register_entered_at = n.first_at
      from (select event_id, min(recorded_at) as first_at from new_entries group by event_id) n
      where e.id = n.event_id and e.register_entered_at is null;
      return null;
    end
    $$
  `.execute(db)
  await sql`
    create trigger events_register_entered after insert on register_entries
      referencing new table as new_entries for each statement execute function events_register_entered()
  `.execute(db)
  await sql`drop index if exists events_register_pending`.execute(db)
  await sql`
    create index events_register_pending on events (lead_provider_id, ends_at)
      where status = 'scheduled' and register_taken_at is null and register_entered_at is null
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index events_register_pending`.execute(db)
  await sql`
    create index events_register_pending on events (lead_provider_id, ends_at)
      where status = 'scheduled' and register_taken_at is null
  `.execute(db)
  await sql`drop trigger events_register_entered on register_entries`.execute(db)
  await sql`drop function events_register_entered()`.execute(db)
  await sql`alter table events drop column register_entered_at`.execute(db)
}
