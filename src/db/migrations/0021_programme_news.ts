import { sql, type Kysely } from 'kysely'

// Issue 9: programme news for participants' Home. A lead provider writes to all its participants (or
// those on one course); a delivery partner writes to its own participants (or those on one course).
// News is withdrawn rather than deleted, so what participants were told stays on record.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table programme_news (
      id uuid primary key default uuid_v7(),
      organisation_id uuid not null references organisations(id),
      course_identifier text,
      title text not null check (length(title) between 1 and 120),
      body text not null check (length(body) between 1 and 5000),
      published_on date not null,
      created_by uuid not null references users(id),
      created_at timestamptz not null default now(),
      withdrawn_at timestamptz,
      withdrawn_by uuid references users(id)
    );
    create index programme_news_for on programme_news (organisation_id, published_on desc) where withdrawn_at is null;
  `.execute(db)
}
