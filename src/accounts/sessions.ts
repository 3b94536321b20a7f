import { sql } from 'kysely'
import type { Db, Trx } from '../db/database.ts'
import { hashToken, randomToken } from './tokens.ts'

// Sessions live in the database, so any web process can serve any signed-in person, and signing
// out ends the session everywhere. Idle sessions expire; every session ends after at most a day.

const IDLE_MINUTES = 120
const ABSOLUTE_HOURS = 24

export async function createSession(db: Db | Trx, userId: string): Promise<string> {
  const token = randomToken()
  await db
    .insertInto('sessions')
    .values({ id_hash: hashToken(token), user_id: userId, expires_at: idleExpiry(new Date()) })
    .execute()
  return token
}

/** The user of a live session (sliding its idle expiry), or null. */
export async function resolveSession(db: Db, token: string): Promise<string | null> {
  const now = new Date()
  const row = await db
    .updateTable('sessions')
    .set({ last_seen_at: now, expires_at: idleExpiry(now) })
    .where('id_hash', '=', hashToken(token))
    .where('expires_at', '>', now)
    .where('created_at', '>', sql<Date>`now() - ${`${ABSOLUTE_HOURS} hours`}::interval`)
    .returning('user_id')
    .executeTakeFirst()
  return row?.user_id ?? null
}

export async function endSession(db: Db | Trx, token: string): Promise<void> {
  await db.deleteFrom('sessions').where('id_hash', '=', hashToken(token)).execute()
}

export async function endAllSessions(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('sessions').where('user_id', '=', userId).execute()
}

export async function deleteExpiredSessions(db: Db): Promise<void> {
  await db.deleteFrom('sessions').where('expires_at', '<', new Date()).execute()
  await db
    .deleteFrom('sign_in_attempts')
    .where('attempted_at', '<', sql<Date>`now() - interval '30 days'`)
    .execute()
}

function idleExpiry(from: Date): Date {
  return new Date(from.getTime() + IDLE_MINUTES * 60_000)
}
