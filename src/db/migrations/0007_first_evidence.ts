import { sql, type Kysely } from 'kysely'

// The first evidence of each activity per participant and course, kept beside the append-only
// evidence so that a report reads a few narrow rows per participant from one index instead of ~100
// scattered learning records and register entries with anti-joins for corrections
// (docs/PERFORMANCE.md). The engine counts an activity at its first evidence of the kind that earns
// it, so the first date per kind is all a report "as of" any date needs.
//
// - learning_completions: first completion per activity and source, from learning records.
// - attendance_firsts: first attended / contingency-completed date per activity, from current
//   register entries and their events (the event's date unless the entry has its own).
//
// Triggers keep both in the same transaction as every write, whoever writes (API, imports, pages,
// corrections, bulk loads): new evidence can only bring a date earlier; a correction, a retraction or
// a moved event recomputes the keys it touches from the current rows.
//
// Learning-record ids become time-ordered (UUIDv7) so their primary key is appended to, not written
// at random pages, which is most of the write cost of ingest.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create function uuid_v7() returns uuid language sql volatile as $$
      select encode(
        set_bit(set_bit(
          overlay(uuid_send(gen_random_uuid())
            placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
            from 1 for 6),
          52, 1), 53, 1),
        'hex')::uuid
    $$;
    alter table learning_records alter column id set default uuid_v7();

    create table learning_completions (
      participant_id uuid not null,
      course_identifier text not null,
      activity_code text not null,
      source text not null,
      first_on date not null,
      constraint learning_completions_pkey
        primary key (participant_id, course_identifier, activity_code, source) include (first_on)
    );

    create function learning_completions_maintain() returns trigger language plpgsql as $$
    begin
      -- New records: a completion (no percentage, or 100) can only bring a first date earlier.
      insert into learning_completions as c (participant_id, course_identifier, activity_code, source, first_on)
      select participant_id, course_identifier, activity_code, source, min(evidence_on)
      from new_records
      where supersedes is null and not retracted and (progress_percent is null or progress_percent >= 100)
      group by participant_id, course_identifier, activity_code, source
      on conflict (participant_id, course_identifier, activity_code, source)
      do update set first_on = excluded.first_on where excluded.first_on < c.first_on;

      -- Corrections and retractions: recompute every key they touch from the current records.
      if exists (select from new_records where supersedes is not null) then
        with keys as (
          select o.participant_id, o.course_identifier, o.activity_code, o.source
          from new_records n join learning_records o on o.id = n.supersedes
          union
          select participant_id, course_identifier, activity_code, source from new_records where supersedes is not null
        ), firsts as (
          select k.*, (
            select min(r.evidence_on) from learning_records r
            where r.participant_id = k.participant_id and r.course_identifier = k.course_identifier
              and r.activity_code = k.activity_code and r.source = k.source
              and not r.retracted and (r.progress_percent is null or r.progress_percent >= 100)
              and not exists (select from learning_records s where s.supersedes = r.id)
          ) as first_on
          from keys k
        ), gone as (
          delete from learning_completions c using firsts f
          where f.first_on is null and c.participant_id = f.participant_id and c.course_identifier = f.course_identifier
            and c.activity_code = f.activity_code and c.source = f.source
        )
        insert into learning_completions as c (participant_id, course_identifier, activity_code, source, first_on)
        select participant_id, course_identifier, activity_code, source, first_on from firsts where first_on is not null
        on conflict (participant_id, course_identifier, activity_code, source)
        do update set first_on = excluded.first_on where excluded.first_on <> c.first_on;
      end if;
      return null;
    end
    $$;

    create trigger learning_completions_maintain after insert on learning_records
      referencing new table as new_records for each statement execute function learning_completions_maintain();

    create table attendance_firsts (
      participant_id uuid not null,
      course_identifier text not null,
      activity_code text not null,
      lead_provider_id uuid not null,
      status text not null,
      first_on date not null,
      constraint attendance_firsts_pkey
        primary key (participant_id, course_identifier, activity_code, lead_provider_id, status) include (first_on)
    );

    -- Recomputes whole keys (every status) from the current register entries; two statements, so
    -- the insert sees the delete.
    create function attendance_firsts_refresh(participants uuid[], courses text[], codes text[], providers uuid[])
    returns void language sql as $$
      delete from attendance_firsts a
      using unnest(participants, courses, codes, providers) as k(participant_id, course_identifier, activity_code, lead_provider_id)
      where a.participant_id = k.participant_id and a.course_identifier = k.course_identifier
        and a.activity_code = k.activity_code and a.lead_provider_id = k.lead_provider_id;
      insert into attendance_firsts (participant_id, course_identifier, activity_code, lead_provider_id, status, first_on)
      select r.participant_id, ev.course_identifier, ev.activity_code, ev.lead_provider_id, r.status,
        min(coalesce(r.completed_on, ev.starts_on))
      from (select distinct * from unnest(participants, courses, codes, providers)) as k(participant_id, course_identifier, activity_code, lead_provider_id)
      join register_entries r on r.participant_id = k.participant_id
      join events ev on ev.id = r.event_id and ev.course_identifier = k.course_identifier
        and ev.activity_code = k.activity_code and ev.lead_provider_id = k.lead_provider_id
      where r.status in ('attended', 'contingency-completed')
        and not exists (select from register_entries s where s.supersedes = r.id)
      group by r.participant_id, ev.course_identifier, ev.activity_code, ev.lead_provider_id, r.status;
    $$;

    create function attendance_firsts_after_entries() returns trigger language plpgsql as $$
    declare
      keys record;
    begin
      insert into attendance_firsts as a (participant_id, course_identifier, activity_code, lead_provider_id, status, first_on)
      select n.participant_id, ev.course_identifier, ev.activity_code, ev.lead_provider_id, n.status,
        min(coalesce(n.completed_on, ev.starts_on))
      from new_entries n join events ev on ev.id = n.event_id
      where n.supersedes is null and n.status in ('attended', 'contingency-completed') and ev.activity_code is not null
      group by n.participant_id, ev.course_identifier, ev.activity_code, ev.lead_provider_id, n.status
      on conflict (participant_id, course_identifier, activity_code, lead_provider_id, status)
      do update set first_on = excluded.first_on where excluded.first_on < a.first_on;

      if exists (select from new_entries where supersedes is not null) then
        select array_agg(participant_id) as participants, array_agg(course_identifier) as courses,
          array_agg(activity_code) as codes, array_agg(lead_provider_id) as providers
        into keys
        from (
          select distinct r.participant_id, ev.course_identifier, ev.activity_code, ev.lead_provider_id
          from new_entries n
          join register_entries r on r.id = n.id or r.id = n.supersedes
          join events ev on ev.id = r.event_id
          where n.supersedes is not null and ev.activity_code is not null
        ) touched;
        if keys.participants is not null then
          perform attendance_firsts_refresh(keys.participants, keys.courses, keys.codes, keys.providers);
        end if;
      end if;
      return null;
    end
    $$;

    create trigger attendance_firsts_maintain after insert on register_entries
      referencing new table as new_entries for each statement execute function attendance_firsts_after_entries();

    -- An event moved to another day, or given another activity, course or provider: its entries' keys
    -- (before and after) are recomputed.
    create function attendance_firsts_after_events() returns trigger language plpgsql as $$
    declare
      keys record;
    begin
      select array_agg(participant_id) as participants, array_agg(course_identifier) as courses,
        array_agg(activity_code) as codes, array_agg(lead_provider_id) as providers
      into keys
      from (
        select distinct r.participant_id, x.course_identifier, x.activity_code, x.lead_provider_id
        from old_events o join new_events n on n.id = o.id
        join register_entries r on r.event_id = o.id
        cross join lateral (values (o.course_identifier, o.activity_code, o.lead_provider_id),
                                   (n.course_identifier, n.activity_code, n.lead_provider_id)) x(course_identifier, activity_code, lead_provider_id)
        where (o.starts_on, o.course_identifier, o.activity_code, o.lead_provider_id)
          is distinct from (n.starts_on, n.course_identifier, n.activity_code, n.lead_provider_id)
          and x.activity_code is not null
      ) touched;
      if keys.participants is not null then
        perform attendance_firsts_refresh(keys.participants, keys.courses, keys.codes, keys.providers);
      end if;
      return null;
    end
    $$;

    create trigger attendance_firsts_events after update on events
      referencing old table as old_events new table as new_events for each statement execute function attendance_firsts_after_events();

    insert into learning_completions (participant_id, course_identifier, activity_code, source, first_on)
    select r.participant_id, r.course_identifier, r.activity_code, r.source, min(r.evidence_on)
    from learning_records r
    where not r.retracted and (r.progress_percent is null or r.progress_percent >= 100)
      and not exists (select from learning_records s where s.supersedes = r.id)
    group by r.participant_id, r.course_identifier, r.activity_code, r.source;

    insert into attendance_firsts (participant_id, course_identifier, activity_code, lead_provider_id, status, first_on)
    select r.participant_id, ev.course_identifier, ev.activity_code, ev.lead_provider_id, r.status, min(coalesce(r.completed_on, ev.starts_on))
    from register_entries r join events ev on ev.id = r.event_id
    where r.status in ('attended', 'contingency-completed') and ev.activity_code is not null
      and not exists (select from register_entries s where s.supersedes = r.id)
    group by r.participant_id, ev.course_identifier, ev.activity_code, ev.lead_provider_id, r.status;
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop trigger attendance_firsts_events on events;
    drop function attendance_firsts_after_events();
    drop trigger attendance_firsts_maintain on register_entries;
    drop function attendance_firsts_after_entries();
    drop function attendance_firsts_refresh(uuid[], text[], text[], uuid[]);
    drop table attendance_firsts;
    drop trigger learning_completions_maintain on learning_records;
    drop function learning_completions_maintain();
    drop table learning_completions;
    alter table learning_records alter column id set default gen_random_uuid();
    drop function uuid_v7();
  `.execute(db)
}
