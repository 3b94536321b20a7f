import { sql, type Kysely } from 'kysely'

// Organisations, accounts, sessions, one-time links, audit, email outbox, API tokens,
// participants and their enrolments: the ground every capability builds on.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table organisations (
      id uuid primary key default gen_random_uuid(),
      kind text not null check (kind in ('lead-provider', 'delivery-partner', 'school')),
      code text not null,
      name text not null,
      created_at timestamptz not null default now(),
      unique (kind, code)
    );

    -- A delivery partner (teaching school hub, trust) can work with more than one lead provider.
    create table delivery_partnerships (
      lead_provider_id uuid not null references organisations(id),
      delivery_partner_id uuid not null references organisations(id),
      created_at timestamptz not null default now(),
      primary key (lead_provider_id, delivery_partner_id)
    );

    create table users (
      id uuid primary key default gen_random_uuid(),
      email text not null unique check (email = lower(email)),
      full_name text not null,
      password_hash text,
      status text not null default 'invited' check (status in ('invited', 'active', 'disabled')),
      is_demo boolean not null default false,
      created_at timestamptz not null default now(),
      last_signed_in_at timestamptz
    );

    create table role_assignments (
      id uuid primary key default gen_random_uuid(),
      user_id uuid not null references users(id),
      role text not null check (role in ('participant', 'line-manager', 'facilitator', 'delivery-partner-lead',
        'lead-provider-admin', 'assessor', 'moderator', 'school-contact')),
      organisation_id uuid not null references organisations(id),
      created_at timestamptz not null default now(),
      unique (user_id, role, organisation_id)
    );

    -- Only a hash of the cookie's token is stored: a leaked table does not let anyone sign in.
    create table sessions (
      id_hash text primary key,
      user_id uuid not null references users(id),
      created_at timestamptz not null default now(),
      last_seen_at timestamptz not null default now(),
      expires_at timestamptz not null
    );
    create index sessions_user on sessions(user_id);

    -- Emailed one-time links: set a password after an invitation, reset it, and (later) endorse, sign.
    create table one_time_links (
      id uuid primary key default gen_random_uuid(),
      token_hash text not null unique,
      purpose text not null,
      user_id uuid references users(id),
      subject_id uuid,
      expires_at timestamptz not null,
      used_at timestamptz,
      created_at timestamptz not null default now()
    );

    create table sign_in_attempts (
      id bigserial primary key,
      email text not null,
      ip text not null,
      succeeded boolean not null,
      attempted_at timestamptz not null default now()
    );
    create index sign_in_attempts_email on sign_in_attempts(email, attempted_at);
    create index sign_in_attempts_ip on sign_in_attempts(ip, attempted_at);

    create table audit_events (
      id bigserial primary key,
      occurred_at timestamptz not null default now(),
      actor_user_id uuid references users(id),
      actor text not null,
      action text not null,
      entity_type text not null,
      entity_id text not null,
      before jsonb,
      after jsonb
    );
    create index audit_events_entity on audit_events(entity_type, entity_id);

    -- The audit log is append-only: the database itself refuses to change or delete it.
    create function refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only', tg_table_name using errcode = 'P0001';
    end $$;
    create trigger audit_events_append_only before update or delete on audit_events
      for each row execute function refuse_change();

    create table email_outbox (
      id uuid primary key default gen_random_uuid(),
      to_address text not null,
      subject text not null,
      body text not null,
      status text not null default 'queued' check (status in ('queued', 'sending', 'sent', 'failed')),
      attempts integer not null default 0,
      claimed_at timestamptz,
      last_error text,
      provider_reference text,
      created_at timestamptz not null default now(),
      sent_at timestamptz
    );
    create index email_outbox_status on email_outbox(status, created_at);

    create table api_tokens (
      id uuid primary key default gen_random_uuid(),
      lead_provider_id uuid not null references organisations(id),
      name text not null,
      token_hash text not null unique,
      created_at timestamptz not null default now(),
      last_used_at timestamptz,
      revoked_at timestamptz
    );

    -- A participant is a person (DfE participant_id); an enrolment is that person on one course.
    create table participants (
      id uuid primary key,
      user_id uuid unique references users(id),
      full_name text not null,
      email text not null check (email = lower(email)),
      trn text not null unique check (trn ~ '^[0-9]{7}$'),
      created_at timestamptz not null default now()
    );

    create table enrolments (
      id uuid primary key default gen_random_uuid(),
      participant_id uuid not null references participants(id),
      lead_provider_id uuid not null references organisations(id),
      delivery_partner_id uuid references organisations(id),
      school_id uuid references organisations(id),
      line_manager_user_id uuid references users(id),
      course_identifier text not null,
      cohort text not null check (cohort ~ '^[0-9]{4}-(autumn|spring)$'),
      status text not null default 'active',
      school_contract_signed_on date,
      sponsorship_agreement_signed_on date,
      created_at timestamptz not null default now(),
      unique (participant_id, course_identifier)
    );
    create index enrolments_lead_provider on enrolments(lead_provider_id, cohort);
    create index enrolments_delivery_partner on enrolments(delivery_partner_id, cohort);
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table enrolments; drop table participants; drop table api_tokens; drop table email_outbox;
    drop table audit_events; drop function refuse_change; drop table sign_in_attempts; drop table one_time_links;
    drop table sessions; drop table role_assignments; drop table users; drop table delivery_partnerships;
    drop table organisations;
  `.execute(db)
}
