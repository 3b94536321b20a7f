import { sql, type Kysely } from 'kysely'

// Issue 7 onboarding: the school contract and sponsorship agreement are sent to a school contact and
// signed through a one-time link (each sending kept, so resends and who signed stay visible), and the
// funding of a place: a school- or self-funded place is invoiced and paid; a DfE-funded one is not.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table agreement_requests (
      id uuid primary key default uuid_v7(),
      enrolment_id uuid not null references enrolments(id),
      kind text not null check (kind in ('school-contract', 'sponsorship-agreement')),
      sent_to uuid not null references users(id),
      sent_by uuid references users(id),
      sent_at timestamptz not null default now(),
      token_hash text not null unique,
      expires_at timestamptz not null,
      superseded_at timestamptz,
      signed_at timestamptz,
      signed_by_name text,
      signed_by_user uuid references users(id),
      check ((signed_at is null) = (signed_by_name is null))
    );
    create index agreement_requests_enrolment on agreement_requests (enrolment_id, kind);

    create table place_funding (
      enrolment_id uuid primary key references enrolments(id),
      funding text not null check (funding in ('school', 'self', 'dfe')),
      invoice_sent_on date,
      amount_pence integer check (amount_pence > 0),
      paid_on date,
      recorded_by uuid references users(id),
      recorded_at timestamptz not null default now(),
      check (funding <> 'dfe' or (invoice_sent_on is null and amount_pence is null and paid_on is null)),
      check (paid_on is null or (invoice_sent_on is not null and paid_on >= invoice_sent_on))
    );
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table place_funding; drop table agreement_requests;`.execute(db)
}
