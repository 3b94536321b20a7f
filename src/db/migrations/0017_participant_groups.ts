import { sql, type Kysely } from 'kysely'

// Issue 7 onboarding: a delivery partner runs each course and cohort in local groups of participants
// with a facilitator; an accepted participant is placed in one of their partner's groups for the
// course and cohort they study in (one group per enrolment, moved when the enrolment changes cohort).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table participant_groups (
      id uuid primary key default uuid_v7(),
      delivery_partner_id uuid not null references organisations(id),
      course_identifier text not null,
      cohort text not null,
      name text not null check (length(trim(name)) > 0),
      facilitator_user_id uuid references users(id),
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      unique (delivery_partner_id, course_identifier, cohort, name)
    );

    create table group_memberships (
      enrolment_id uuid primary key references enrolments(id),
      group_id uuid not null references participant_groups(id),
      placed_at timestamptz not null default now(),
      placed_by uuid references users(id)
    );
    create index group_memberships_group on group_memberships (group_id);
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table group_memberships; drop table participant_groups;`.execute(db)
}
