import { sql, type Kysely } from 'kysely'

// Issue 7, finishing the lifecycle:
// - a deferred participant confirms their return ahead of the date (return_confirmed_*); the enrolment
//   resumes on the planned return date (resumed_on), or earlier when a lead-provider admin resumes it;
// - a withdrawal recorded in error is reversed by a lead-provider admin (reinstated_*): the row stays
//   (evidence is never deleted) and stops counting from the reinstatement;
// - the funded place DfE pays for is held on the application and changed with DfE's
//   change-funded-place request; a place that moves cohort is sent as DfE's change-schedule.

const kinds = (values: string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '))
const before = [
  'submit-declaration',
  'void-declaration',
  'defer-participant',
  'resume-participant',
  'withdraw-participant',
  'post-outcome',
  'pull-applications',
  'pull-statements',
  'accept-application',
  'reject-application',
]
const after = [...before, 'change-funded-place', 'change-schedule']

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table deferrals
      add column return_confirmed_at timestamptz,
      add column return_confirmed_by uuid references users(id),
      add column resumed_on date,
      add constraint deferrals_resumed_after check (resumed_on is null or resumed_on >= deferred_on);

    alter table withdrawals
      add column reinstated_on date,
      add column reinstated_by uuid references users(id),
      add column reinstated_reason text,
      add constraint withdrawals_reinstated_complete check ((reinstated_on is null) = (reinstated_reason is null));
    -- One withdrawal in force per enrolment (per person for the person-wide rows); a reinstated one no longer counts.
    drop index withdrawals_one_per_enrolment;
    drop index withdrawals_one_per_participant;
    create unique index withdrawals_one_per_enrolment on withdrawals (enrolment_id) where enrolment_id is not null and reinstated_on is null;
    create unique index withdrawals_one_per_participant on withdrawals (participant_id) where enrolment_id is null and reinstated_on is null;

    alter table applications add column funded_place boolean;

    alter table dfe_requests drop constraint dfe_requests_kind_check;
    alter table dfe_requests add constraint dfe_requests_kind_check check (kind in (${kinds(after)}));
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table dfe_requests drop constraint dfe_requests_kind_check;
    alter table dfe_requests add constraint dfe_requests_kind_check check (kind in (${kinds(before)}));
    alter table applications drop column funded_place;
    drop index withdrawals_one_per_enrolment;
    drop index withdrawals_one_per_participant;
    create unique index withdrawals_one_per_enrolment on withdrawals (enrolment_id) where enrolment_id is not null;
    create unique index withdrawals_one_per_participant on withdrawals (participant_id) where enrolment_id is null;
    alter table withdrawals drop constraint withdrawals_reinstated_complete,
      drop column reinstated_reason, drop column reinstated_by, drop column reinstated_on;
    alter table deferrals drop constraint deferrals_resumed_after,
      drop column resumed_on, drop column return_confirmed_by, drop column return_confirmed_at;
  `.execute(db)
}
