import { sql, type Kysely } from 'kysely'

// Files uploaded through the imports page: kept with who uploaded them and what applying them did,
// so an admin can preview before applying and anyone can later see what came from which file.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table import_uploads (
      id uuid primary key default gen_random_uuid(),
      lead_provider_id uuid not null references organisations(id),
      kind text not null,
      filename text not null,
      content text not null,
      uploaded_by uuid not null references users(id),
      uploaded_at timestamptz not null default now(),
      applied_at timestamptz,
      applied_by uuid references users(id),
      result jsonb
    );
    create index import_uploads_recent on import_uploads (lead_provider_id, uploaded_at desc);
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table import_uploads`.execute(db)
}
