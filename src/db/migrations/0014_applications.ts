import { sql, type Kysely } from 'kysely'

// Issue 7: applications before they become enrolments. One row per application as DfE (or a CSV
// upload) gives it, with the short application form the lead provider sends (5 days to return it),
// the endorsement given through an emailed one-time link, and the admin's decision. An accepted
// application points at the enrolment it created. DfE learns of decisions through two new request kinds.

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
]
const after = [...before, 'accept-application', 'reject-application']

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table dfe_requests drop constraint dfe_requests_kind_check;
    alter table dfe_requests add constraint dfe_requests_kind_check check (kind in (${kinds(after)}));

    create table applications (
      id uuid primary key default uuid_v7(),
      lead_provider_id uuid not null references organisations(id),
      source text not null check (source in ('dfe', 'csv')),
      -- DfE's ids: null for a CSV row that has none (such an application is not synced to DfE).
      dfe_application_id text unique,
      participant_id uuid,
      trn text not null check (trn ~ '^[0-9]{7}$'),
      full_name text not null,
      email text not null check (email = lower(email)),
      course_identifier text not null,
      cohort text,
      school_urn text,
      employer_name text,
      employment_role text,
      funding_choice text,
      eligible_for_funding boolean not null default false,
      ineligible_for_funding_reason text,
      headteacher_status text,
      -- Where the applicant works, for the funding check: null when not known.
      establishment text check (establishment in ('state-school', 'sixteen-to-nineteen', 'early-years', 'independent', 'other')),
      in_england boolean,
      -- High pupil premium numbers: the scholarship (targeted delivery funding) flag.
      pupil_premium_uplift boolean not null default false,
      status text not null default 'applied' check (status in ('applied', 'accepted', 'rejected', 'expired')),
      reason_for_rejection text,
      decided_by uuid references users(id),
      decided_at timestamptz,
      delivery_partner_id uuid references organisations(id),
      accepted_cohort text,
      schedule_identifier text,
      enrolment_id uuid references enrolments(id),
      -- The short application form: sent, due (5 days, moved by an extension), reminded, returned.
      form_sent_on date,
      form_due_on date,
      form_reminded_at timestamptz,
      form_returned_at timestamptz,
      form_extended_by uuid references users(id),
      endorser_name text,
      endorser_email text,
      endorser_role text check (endorser_role in ('headteacher', 'line-manager')),
      ey_qualification_level integer check (ey_qualification_level between 1 and 8),
      headship_started_on date,
      npqh_status text check (npqh_status in ('none', 'in-progress', 'completed')),
      endorsement_requested_at timestamptz,
      endorsed_at timestamptz,
      endorsed_by_name text,
      endorsed_by_email text,
      received_at timestamptz not null default now(),
      updated_at timestamptz not null default now(),
      check ((status in ('accepted', 'rejected')) = (decided_at is not null)),
      check (status <> 'accepted' or enrolment_id is not null)
    );
    create index applications_by_provider on applications (lead_provider_id, status, received_at desc);
    create index applications_by_person on applications (trn, course_identifier);
    create index applications_forms_open on applications (form_due_on) where status = 'applied' and form_sent_on is not null and form_returned_at is null;
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table applications;
    alter table dfe_requests drop constraint dfe_requests_kind_check;
    alter table dfe_requests add constraint dfe_requests_kind_check check (kind in (${kinds(before)}));
  `.execute(db)
}
