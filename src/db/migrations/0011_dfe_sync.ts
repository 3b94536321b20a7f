import { sql, type Kysely } from 'kysely'

// Sending the queued DfE requests (src/dfe/sync.ts):
// - participant_id: whom a request is about. One participant's requests go to DfE in the order they
//   were queued (a void after its submit, a withdrawal after the started declaration DfE requires);
// - seq: that order, also between requests queued in the same transaction (same queued_at);
// - claimed_until: a sender's lease while its call is in flight, so the job and `npq dfe sync` never
//   send the same request twice at once (no transaction is held open across an HTTP call).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table dfe_requests
      add column participant_id uuid references participants(id),
      add column seq bigint generated always as identity,
      add column claimed_until timestamptz;
    create index dfe_requests_queued_by_participant on dfe_requests (lead_provider_id, participant_id, seq) where status = 'queued';
    create index dfe_requests_by_provider on dfe_requests (lead_provider_id, seq desc);
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    drop index dfe_requests_by_provider;
    drop index dfe_requests_queued_by_participant;
    alter table dfe_requests drop column claimed_until, drop column seq, drop column participant_id;
  `.execute(db)
}
