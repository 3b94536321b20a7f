import { sql, type Kysely } from 'kysely'
import { deferralReasons, withdrawalReasons } from '../schema.ts'

// Issue 7: one state machine for an enrolment, every transition kept (the timeline), and the
// deferral and withdrawal journeys (request → the delivery partner's conversation → the lead
// provider's decision). An application is its own record until accepted (applications, issue 7),
// so an enrolment starts at `accepted`.
// Deferrals and withdrawals become per enrolment, as DfE's are (participant and course): a row with
// no enrolment (the CSV imports, which name only the participant) applies to all the person's
// enrolments, as before.

const list = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '))

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table enrolments add constraint enrolments_status
      check (status in ('accepted', 'active', 'deferred', 'withdrawn', 'completed'));

    create table enrolment_transitions (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      from_status text,
      to_status text not null check (to_status in ('accepted', 'active', 'deferred', 'withdrawn', 'completed')),
      effective_on date not null,
      reason text,
      details text,
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now()
    );
    create index enrolment_transitions_by_enrolment on enrolment_transitions (enrolment_id, recorded_at);
    create trigger enrolment_transitions_append_only before update or delete on enrolment_transitions
      for each row execute function refuse_change();

    alter table deferrals add column enrolment_id uuid references enrolments(id);
    alter table withdrawals add column enrolment_id uuid references enrolments(id);
    alter table withdrawals drop constraint withdrawals_participant_id_key;
    -- One withdrawal per enrolment, and one person-wide (imported) withdrawal per participant.
    create unique index withdrawals_one_per_enrolment on withdrawals (enrolment_id) where enrolment_id is not null;
    create unique index withdrawals_one_per_participant on withdrawals (participant_id) where enrolment_id is null;

    create table deferral_requests (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      reason text not null check (reason in (${list(deferralReasons)})),
      details text not null,
      starts_on date not null,
      planned_return_on date not null,
      -- Where the participant picks up on return, proposed so no content is missed.
      proposed_cohort text,
      proposed_return_block text,
      -- A return more than 12 months away needs an admin's override.
      return_override boolean not null default false,
      requested_by uuid references users(id),
      requested_at timestamptz not null default now(),
      conversation_notes text,
      conversation_recorded_by uuid references users(id),
      conversation_recorded_at timestamptz,
      status text not null default 'requested' check (status in ('requested', 'approved', 'declined', 'cancelled')),
      decided_by uuid references users(id),
      decided_at timestamptz,
      decision_reason text,
      deferral_id uuid references deferrals(id),
      check (planned_return_on > starts_on),
      check ((status in ('approved', 'declined')) = (decided_at is not null))
    );
    create unique index deferral_requests_one_open on deferral_requests (enrolment_id) where status = 'requested';

    create table withdrawal_requests (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      reason text not null check (reason in (${list(withdrawalReasons)})),
      details text,
      planned_on date not null,
      requested_by uuid references users(id),
      requested_at timestamptz not null default now(),
      status text not null default 'requested' check (status in ('requested', 'confirmed', 'declined', 'cancelled')),
      decided_by uuid references users(id),
      decided_at timestamptz,
      decision_reason text,
      refund_note text,
      withdrawal_id uuid references withdrawals(id),
      check ((status in ('confirmed', 'declined')) = (decided_at is not null))
    );
    create unique index withdrawal_requests_one_open on withdrawal_requests (enrolment_id) where status = 'requested';
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table withdrawal_requests; drop table deferral_requests;
    drop index withdrawals_one_per_participant; drop index withdrawals_one_per_enrolment;
    alter table withdrawals add constraint withdrawals_participant_id_key unique (participant_id);
    alter table withdrawals drop column enrolment_id; alter table deferrals drop column enrolment_id;
    drop table enrolment_transitions;
    alter table enrolments drop constraint enrolments_status;
  `.execute(db)
}
