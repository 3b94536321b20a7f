import { sql, type Kysely } from 'kysely'

// Outputs take a block's video watched to 90% as evidence (INTERFACES.md `video-90`): the rows of
// `…-VIDEO` activities are a few percent of learning records, so a partial index finds a scope's
// videos without reading every record of its participants (measured in docs/PERFORMANCE.md).

export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create index learning_records_videos on learning_records (participant_id, course_identifier, evidence_on)
      include (progress_percent, retracted, activity_code)
      where activity_code like '%-VIDEO'
  `.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index learning_records_videos`.execute(db)
}
