import { sql, type Kysely } from 'kysely'

// Issue 6: how the lead provider and its partners get paid, and how nobody is left behind unnoticed.
// - who recorded the school contract and sponsorship agreement (the dates are on enrolments already);
// - declarations to DfE: immutable once made (a snapshot of the evidence and engagement at that
//   moment), their DfE state kept with every change in an append-only history, exactly one live
//   declaration per participant, course and type (a partial unique index; DfE keeps the same rule);
// - requests to DfE's Lead Provider API, queued so the platform works offline, with every attempt kept;
// - contract prices per course and cohort, and clawbacks raised by voiding a paid declaration;
// - escalation cases opened after an output review date, and everything done in them.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table enrolments
      add column school_contract_recorded_by uuid references users(id),
      add column sponsorship_agreement_recorded_by uuid references users(id);

    create table declarations (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      participant_id uuid not null references participants(id),
      lead_provider_id uuid not null references organisations(id),
      delivery_partner_id uuid references organisations(id),
      course_identifier text not null,
      cohort text not null,
      declaration_type text not null check (declaration_type in ('started', 'retained-1', 'retained-2', 'completed')),
      declaration_date date not null,
      has_passed boolean,
      state text not null default 'submitted' check (state in
        ('submitted', 'eligible', 'payable', 'paid', 'voided', 'ineligible', 'awaiting-clawback', 'clawed-back')),
      -- What the platform saw when it declared: the criterion, its date and records, and engagement.
      evidence jsonb not null,
      engagement jsonb not null,
      idempotency_key text not null unique,
      dfe_declaration_id text unique,
      declared_by uuid references users(id),
      declared_at timestamptz not null default now(),
      state_changed_at timestamptz not null default now(),
      check (declaration_type = 'completed' or has_passed is null)
    );
    create unique index declarations_one_live on declarations (participant_id, course_identifier, declaration_type)
      where state in ('submitted', 'eligible', 'payable', 'paid');
    create index declarations_by_provider on declarations (lead_provider_id, cohort, course_identifier);

    -- A declaration's content never changes: only its DfE state (and DfE's id for it, once known).
    create function declarations_immutable() returns trigger language plpgsql as $$
    begin
      if tg_op = 'DELETE' then
        raise exception 'declarations are kept: void them instead';
      end if;
      if (new.id, new.enrolment_id, new.participant_id, new.lead_provider_id, new.delivery_partner_id, new.course_identifier,
          new.cohort, new.declaration_type, new.declaration_date, new.has_passed, new.evidence, new.engagement,
          new.idempotency_key, new.declared_by, new.declared_at)
         is distinct from
         (old.id, old.enrolment_id, old.participant_id, old.lead_provider_id, old.delivery_partner_id, old.course_identifier,
          old.cohort, old.declaration_type, old.declaration_date, old.has_passed, old.evidence, old.engagement,
          old.idempotency_key, old.declared_by, old.declared_at)
         or (old.dfe_declaration_id is not null and new.dfe_declaration_id is distinct from old.dfe_declaration_id) then
        raise exception 'a declaration cannot be changed, only its state';
      end if;
      return new;
    end $$;
    create trigger declarations_immutable before update or delete on declarations
      for each row execute function declarations_immutable();

    create table declaration_state_changes (
      id uuid primary key default uuid_v7(),
      declaration_id uuid not null references declarations(id),
      from_state text,
      to_state text not null,
      -- 'platform' when we changed it (declare, void), 'dfe' when DfE's response or statement did.
      source text not null check (source in ('platform', 'dfe')),
      reason text,
      changed_by uuid references users(id),
      changed_at timestamptz not null default now()
    );
    create index declaration_state_changes_by_declaration on declaration_state_changes (declaration_id, changed_at);
    create trigger declaration_state_changes_append_only before update or delete on declaration_state_changes
      for each row execute function refuse_change();

    -- Voiding a paid declaration: DfE claws the payment back from a later statement.
    create table clawbacks (
      id uuid primary key default uuid_v7(),
      declaration_id uuid not null unique references declarations(id),
      raised_on date not null,
      raised_by uuid references users(id),
      clawed_back_on date,
      recorded_at timestamptz not null default now()
    );

    -- Contract values entered by lead-provider admins; the price is the newest row (history kept).
    create table contract_prices (
      id uuid primary key default uuid_v7(),
      lead_provider_id uuid not null references organisations(id),
      course_identifier text not null,
      cohort text not null,
      price_pence integer not null check (price_pence > 0),
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now()
    );
    create index contract_prices_current on contract_prices (lead_provider_id, course_identifier, cohort, recorded_at desc);
    create trigger contract_prices_append_only before update or delete on contract_prices
      for each row execute function refuse_change();

    -- Requests to DfE's Lead Provider API v3, queued in the transaction that makes them necessary.
    create table dfe_requests (
      id uuid primary key default uuid_v7(),
      lead_provider_id uuid not null references organisations(id),
      kind text not null check (kind in ('submit-declaration', 'void-declaration', 'defer-participant', 'resume-participant',
        'withdraw-participant', 'post-outcome', 'pull-applications', 'pull-statements')),
      -- The declaration or participant the request is about (null for pulls).
      subject_id uuid,
      method text not null check (method in ('GET', 'POST', 'PUT')),
      path text not null,
      body jsonb,
      status text not null default 'queued' check (status in ('queued', 'sent', 'cancelled')),
      attempts integer not null default 0,
      last_error text,
      next_attempt_at timestamptz not null default now(),
      queued_by uuid references users(id),
      queued_at timestamptz not null default now(),
      sent_at timestamptz,
      cancelled_by uuid references users(id),
      cancelled_at timestamptz,
      check ((status = 'sent') = (sent_at is not null)),
      check ((status = 'cancelled') = (cancelled_at is not null))
    );
    create index dfe_requests_queued on dfe_requests (next_attempt_at) where status = 'queued';
    create index dfe_requests_by_subject on dfe_requests (subject_id);

    -- Every attempt, with DfE's response or the failure (the sync log).
    create table dfe_request_attempts (
      id uuid primary key default uuid_v7(),
      request_id uuid not null references dfe_requests(id),
      attempted_at timestamptz not null default now(),
      status_code integer,
      response jsonb,
      error text,
      duration_ms integer
    );
    create index dfe_request_attempts_by_request on dfe_request_attempts (request_id, attempted_at);
    create trigger dfe_request_attempts_append_only before update or delete on dfe_request_attempts
      for each row execute function refuse_change();

    -- An escalation: a participant whose output was not met by its review date (DOMAIN.md "Escalation").
    create table escalation_cases (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      participant_id uuid not null references participants(id),
      course_identifier text not null,
      declaration_type text not null check (declaration_type in ('started', 'retained-1', 'retained-2', 'completed')),
      review_date date not null,
      opened_on date not null,
      -- The newest agreed extended deadline (each agreement is an action with its reason).
      extended_deadline date,
      -- Set when the case ends: the output was met, or the participant deferred, withdrew or was removed.
      closed_on date,
      closed_reason text check (closed_reason in ('criteria-met', 'deferred', 'withdrawn', 'removed')),
      unique (enrolment_id, declaration_type, review_date)
    );

    create table escalation_actions (
      id uuid primary key default uuid_v7(),
      case_id uuid not null references escalation_cases(id),
      kind text not null check (kind in ('note', 'extension-agreed', 'contact-attempt', 'support-offered', 'removal-proposed',
        'removal-approved', 'removal-rejected', 'stage-changed')),
      on_date date not null,
      -- contact attempts: how and what came of it; extensions: the new deadline.
      channel text check (channel in ('email', 'phone', 'meeting', 'letter', 'other')),
      outcome text check (outcome in ('no-response', 'responded', 'support-accepted', 'deferral-requested', 'withdrawal-requested')),
      extended_deadline date,
      -- removal sign-offs: which organisation signed (EDT needs both the DP and the LP).
      organisation_id uuid references organisations(id),
      notes text,
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now(),
      check (kind <> 'extension-agreed' or (extended_deadline is not null and notes is not null)),
      check (kind <> 'contact-attempt' or (channel is not null and outcome is not null))
    );
    create index escalation_actions_by_case on escalation_actions (case_id, recorded_at);
    create trigger escalation_actions_append_only before update or delete on escalation_actions
      for each row execute function refuse_change();
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop table escalation_actions; drop table escalation_cases;
    drop table dfe_request_attempts; drop table dfe_requests;
    drop table contract_prices; drop table clawbacks;
    drop table declaration_state_changes; drop table declarations; drop function declarations_immutable;
    alter table enrolments drop column school_contract_recorded_by, drop column sponsorship_agreement_recorded_by;
  `.execute(db)
}
