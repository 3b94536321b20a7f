import { sql, type Kysely } from 'kysely'

// Issue 9: learning audits and personal learning journals; buddies, clinic groups, communities and
// peer learning groups; contacts and safeguarding concerns; facilitators' records. (Discussion forums
// have their own migration, 0022.)
//
// Learning audits and journal entries belong to the participant alone: no other role reads them.
// Safeguarding concerns are read only by the designated safeguarding leads (DSLs) their organisation
// named; the audit log records that a concern was raised, never what it says.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table learning_audits (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      taken_on date not null,
      -- { domainKey: 1..5 } for the course's domains at the time it was taken.
      ratings jsonb not null,
      note text not null default '',
      created_by uuid references users(id),
      created_at timestamptz not null default now()
    );
    create index learning_audits_enrolment on learning_audits (enrolment_id, created_at);

    create table journal_entries (
      id uuid primary key default uuid_v7(),
      user_id uuid not null references users(id),
      entry_on date not null,
      title text not null check (length(trim(title)) > 0),
      body text not null check (length(body) > 0),
      enrolment_id uuid references enrolments(id),
      block text,
      created_at timestamptz not null default now(),
      updated_at timestamptz not null default now()
    );
    create index journal_entries_user on journal_entries (user_id, entry_on desc);

    create table people_groups (
      id uuid primary key default uuid_v7(),
      delivery_partner_id uuid not null references organisations(id),
      kind text not null check (kind in ('buddies', 'clinic-group', 'community', 'peer-learning-group')),
      name text not null check (length(trim(name)) > 0),
      course_identifier text,
      cohort text,
      description text not null default '',
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      unique (delivery_partner_id, kind, name)
    );
    create table people_group_members (
      group_id uuid not null references people_groups(id),
      enrolment_id uuid not null references enrolments(id),
      added_by uuid references users(id),
      added_at timestamptz not null default now(),
      primary key (group_id, enrolment_id)
    );
    create index people_group_members_enrolment on people_group_members (enrolment_id);

    -- A lead provider's programme and technical help contacts (a person or a team mailbox).
    create table programme_contacts (
      lead_provider_id uuid not null references organisations(id),
      kind text not null check (kind in ('programme', 'technical-help')),
      name text not null check (length(trim(name)) > 0),
      email text not null,
      phone text not null default '',
      updated_by uuid references users(id),
      updated_at timestamptz not null default now(),
      primary key (lead_provider_id, kind)
    );

    -- A delivery partner's named contact for its participants on a course ('' = every course).
    create table delivery_partner_contacts (
      delivery_partner_id uuid not null references organisations(id),
      course_identifier text not null default '',
      user_id uuid not null references users(id),
      updated_by uuid references users(id),
      updated_at timestamptz not null default now(),
      primary key (delivery_partner_id, course_identifier)
    );

    create table safeguarding_leads (
      organisation_id uuid not null references organisations(id),
      user_id uuid not null references users(id),
      named_by uuid references users(id),
      named_at timestamptz not null default now(),
      primary key (organisation_id, user_id)
    );

    create table safeguarding_concerns (
      id uuid primary key default uuid_v7(),
      raised_by uuid not null references users(id),
      lead_provider_id uuid not null references organisations(id),
      delivery_partner_id uuid references organisations(id),
      concern text not null check (length(trim(concern)) > 0),
      immediate_risk boolean not null,
      contact_by text not null check (contact_by in ('email', 'phone')),
      phone text not null default '',
      status text not null default 'open' check (status in ('open', 'acknowledged', 'closed')),
      raised_at timestamptz not null default now(),
      acknowledged_at timestamptz,
      acknowledged_by uuid references users(id),
      closed_at timestamptz,
      closed_by uuid references users(id),
      outcome text not null default ''
    );
    create index safeguarding_concerns_orgs on safeguarding_concerns (lead_provider_id, delivery_partner_id, raised_at desc);

    create table facilitator_observations (
      id uuid primary key default uuid_v7(),
      delivery_partner_id uuid not null references organisations(id),
      facilitator_user_id uuid not null references users(id),
      observed_on date not null,
      event_id uuid references events(id),
      session text not null default '',
      observer text not null check (length(trim(observer)) > 0),
      strengths text not null check (length(trim(strengths)) > 0),
      areas_to_develop text not null check (length(trim(areas_to_develop)) > 0),
      rating text not null check (rating in ('excellent', 'good', 'requires-improvement', 'inadequate')),
      created_by uuid references users(id),
      created_at timestamptz not null default now()
    );
    create index facilitator_observations_facilitator on facilitator_observations (delivery_partner_id, facilitator_user_id, observed_on desc);
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table facilitator_observations; drop table safeguarding_concerns; drop table safeguarding_leads;
    drop table delivery_partner_contacts; drop table programme_contacts; drop table people_group_members;
    drop table people_groups; drop table journal_entries; drop table learning_audits;
  `.execute(db)
}
