import { sql, type Kysely } from 'kysely'

// Events as delivery partners schedule them (issue 5): what participants see and book, who
// facilitates, booking windows, cancellation; bookings with a waiting list; registers that are
// "taken"; private calendar feeds; reminders sent once; email attachments (.ics).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    -- A lead provider's central events (UCL's induction conference) belong to no delivery partner.
    alter table events alter column delivery_partner_id drop not null;
    alter table events
      add column title text,
      add column description text,
      add column venue text,
      add column joining_link text,
      add column booking_opens_at timestamptz,
      add column booking_closes_at timestamptz,
      add column cancel_by timestamptz,
      add column series_ref text,
      add column reminder_days_before integer check (reminder_days_before between 0 and 60),
      add column status text not null default 'scheduled' check (status in ('scheduled', 'cancelled')),
      add column cancelled_at timestamptz,
      add column cancelled_reason text,
      add column register_taken_at timestamptz,
      add column register_taken_by uuid references users(id),
      add column created_by uuid references users(id),
      add constraint events_cancelled check ((status = 'cancelled') = (cancelled_at is not null)),
      add constraint events_booking_window check (booking_closes_at is null or booking_opens_at is null or booking_closes_at > booking_opens_at);
    create index events_offer on events (lead_provider_id, course_identifier, cohort, starts_at);
    create index events_series on events (series_ref) where series_ref is not null;

    -- Who else may book: participants of these delivery partners (same course and cohort).
    create table event_shared_partners (
      event_id uuid not null references events(id),
      delivery_partner_id uuid not null references organisations(id),
      primary key (event_id, delivery_partner_id)
    );

    create table event_facilitators (
      event_id uuid not null references events(id),
      user_id uuid not null references users(id),
      primary key (event_id, user_id)
    );
    create index event_facilitators_user on event_facilitators (user_id);

    -- A participant's place on an event, or on its waiting list (in order of requested_at).
    create table bookings (
      id uuid primary key default gen_random_uuid(),
      event_id uuid not null references events(id),
      participant_id uuid not null references participants(id),
      status text not null check (status in ('booked', 'waiting', 'cancelled')),
      requested_at timestamptz not null default now(),
      booked_at timestamptz,
      promoted_at timestamptz,
      cancelled_at timestamptz,
      booked_by uuid references users(id),
      cancelled_by uuid references users(id),
      check ((status = 'cancelled') = (cancelled_at is not null)),
      -- A place has the time it was given; a place on the waiting list has none (cancelled: either).
      check (status <> 'booked' or booked_at is not null),
      check (status <> 'waiting' or booked_at is null)
    );
    create unique index bookings_active on bookings (event_id, participant_id) where status <> 'cancelled';
    create index bookings_participant on bookings (participant_id) where status <> 'cancelled';
    create index bookings_waiting on bookings (event_id, requested_at) where status = 'waiting';

    -- A private iCal feed per user: the token is shown once, only its hash is kept; a new one revokes it.
    create table calendar_feeds (
      user_id uuid primary key references users(id),
      token_hash text not null unique,
      created_at timestamptz not null default now()
    );

    -- Each reminder once per event and person, whichever worker sends it: to a booked participant
    -- (recipient_id is the participant, who may have no account) or to a user about the register.
    create table event_reminders (
      event_id uuid not null references events(id),
      recipient_id uuid not null,
      kind text not null check (kind in ('booking', 'register-not-taken')),
      sent_at timestamptz not null default now(),
      primary key (event_id, recipient_id, kind)
    );

    -- How a missed session was made up, and why a locked register was changed.
    alter table register_entries
      add column contingency_method text
        check (contingency_method in ('recording', 'mop-up-session', 'slides-with-notes', 'another-delivery-partner-event')),
      add column change_reason text;

    alter table email_outbox add column attachments jsonb;
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table email_outbox drop column attachments;
    alter table register_entries drop column contingency_method, drop column change_reason;
    drop table event_reminders;
    drop table calendar_feeds;
    drop table bookings;
    drop table event_facilitators;
    drop table event_shared_partners;
    drop index events_series;
    drop index events_offer;
    alter table events
      drop constraint events_cancelled, drop constraint events_booking_window,
      drop column title, drop column description, drop column venue, drop column joining_link,
      drop column booking_opens_at, drop column booking_closes_at, drop column cancel_by, drop column series_ref,
      drop column reminder_days_before, drop column status, drop column cancelled_at, drop column cancelled_reason,
      drop column register_taken_at, drop column register_taken_by, drop column created_by;
    alter table events alter column delivery_partner_id set not null;
  `.execute(db)
}
