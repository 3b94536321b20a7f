import { sql, type Kysely } from 'kysely'

// Programme designs are versioned; each running cohort is bound to one version and keeps it until a
// lead-provider admin moves it (issue: catalogue item 7). Versions are never changed or deleted.

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table design_versions (
      id uuid primary key default gen_random_uuid(),
      lead_provider text not null,
      course_identifier text not null,
      version integer not null check (version > 0),
      content jsonb not null,
      content_hash text not null,
      origin text not null check (origin in ('file', 'admin')),
      note text,
      created_by uuid references users(id),
      created_at timestamptz not null default now(),
      unique (lead_provider, course_identifier, version)
    );
    create trigger design_versions_append_only before update or delete on design_versions
      for each row execute function refuse_change();

    create table cohort_designs (
      lead_provider text not null,
      course_identifier text not null,
      cohort text not null check (cohort ~ '^[0-9]{4}-(autumn|spring)$'),
      design_version_id uuid not null references design_versions(id),
      bound_at timestamptz not null default now(),
      bound_by uuid references users(id),
      primary key (lead_provider, course_identifier, cohort)
    );
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table cohort_designs; drop table design_versions;`.execute(db)
}
