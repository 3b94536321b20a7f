import { sql, type Kysely } from 'kysely'

// Data protection (src/privacy): erasure after the retention period keeps a participant's row, with a
// pseudonym, as the key of the declaration evidence DfE's funding rules require. So:
// - `participants.anonymised_at` records when the person's data was erased (the daily job skips them);
// - an erased TRN is `erased-<participant id>` (unique, and never a real 7-digit TRN), here and on applications;
// - the append-only evidence tables (refuse_change) accept an UPDATE inside a transaction that set
//   `npq.erasure = 'on'` — the anonymise operation, which replaces personal free text and never changes
//   evidence (statuses, dates, ids). Deletes stay refused, and the audit log refuses everything as before.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    alter table participants add column anonymised_at timestamptz;
    alter table participants drop constraint participants_trn_check;
    alter table participants add constraint participants_trn_check
      check (trn ~ '^[0-9]{7}$' or (anonymised_at is not null and trn = 'erased-' || id::text));
    alter table applications drop constraint applications_trn_check;
    alter table applications add constraint applications_trn_check
      check (trn ~ '^[0-9]{7}$' or trn ~ '^erased-[0-9a-f-]{36}$');

    create or replace function refuse_change() returns trigger language plpgsql as $$
    begin
      if tg_op = 'UPDATE' and tg_table_name <> 'audit_events' and current_setting('npq.erasure', true) = 'on' then
        return new;
      end if;
      raise exception '% is append-only', tg_table_name using errcode = 'P0001';
    end $$;
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    create or replace function refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception '% is append-only', tg_table_name using errcode = 'P0001';
    end $$;
    alter table applications drop constraint applications_trn_check;
    alter table applications add constraint applications_trn_check check (trn ~ '^[0-9]{7}$');
    alter table participants drop constraint participants_trn_check;
    alter table participants add constraint participants_trn_check check (trn ~ '^[0-9]{7}$');
    alter table participants drop column anonymised_at;
  `.execute(db)
}
