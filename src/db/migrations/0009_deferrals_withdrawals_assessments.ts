import { sql, type Kysely } from 'kysely'
import { deferralReasons, withdrawalReasons } from '../schema.ts'

// The dated facts output evaluation needs (issue 6, INTERFACES.md imports `deferrals`, `withdrawals`,
// `assessments`): when a participant was deferred and until when, when they withdrew, and their
// summative assessment attempts with when each was marked and moderated. Reasons are DfE's (the v3
// spec's enums). Issue 7 builds the deferral and withdrawal journeys on these tables.

const list = (values: readonly string[]) => sql.raw(values.map((v) => `'${v}'`).join(', '))

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table deferrals (
      id uuid primary key default gen_random_uuid(),
      participant_id uuid not null references participants(id),
      reason text not null check (reason in (${list(deferralReasons)})),
      deferred_on date not null,
      planned_return_on date,
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now(),
      unique (participant_id, deferred_on),
      check (planned_return_on is null or planned_return_on > deferred_on)
    );

    create table withdrawals (
      id uuid primary key default gen_random_uuid(),
      participant_id uuid not null unique references participants(id),
      reason text not null check (reason in (${list(withdrawalReasons)})),
      withdrawn_on date not null,
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now()
    );

    create table assessment_attempts (
      id uuid primary key default gen_random_uuid(),
      participant_id uuid not null references participants(id),
      attempt integer not null check (attempt in (1, 2)),
      submitted_at timestamptz,
      word_count integer check (word_count >= 0),
      result text check (result in ('passed', 'failed')),
      marked_at timestamptz,
      moderated_at timestamptz,
      externally_moderated_at timestamptz,
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now(),
      unique (participant_id, attempt)
    );
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table assessment_attempts; drop table withdrawals; drop table deferrals;`.execute(db)
}
