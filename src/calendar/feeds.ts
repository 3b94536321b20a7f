import { hashToken, randomToken } from '../accounts/tokens.ts'
import { loadUserPrincipal } from '../accounts/principals.ts'
import { recordAudit } from '../audit/audit.ts'
import type { Db } from '../db/database.ts'
import { calendarFeed } from '../events/ical.ts'
import type { Principal } from '../policy/principal.ts'
import { feedEvents } from './my-events.ts'

// Private calendar feeds: one secret link per person, shown once (only its sha256 hash is kept, like
// API tokens). A new link replaces, and so revokes, the old one; the person can also stop it.

export const feedPath = (token: string) => `/calendar/${token}.ics`

/** Creates (or replaces) the person's feed link and returns its secret token. */
export async function createFeedToken(db: Db, by: Principal & { kind: 'user' }): Promise<string> {
  const token = `cal_${randomToken()}`
  await db.transaction().execute(async (trx) => {
    const previous = await trx.selectFrom('calendar_feeds').select('created_at').where('user_id', '=', by.userId).executeTakeFirst()
    await trx
      .insertInto('calendar_feeds')
      .values({ user_id: by.userId, token_hash: hashToken(token), created_at: new Date() })
      .onConflict((oc) => oc.column('user_id').doUpdateSet({ token_hash: hashToken(token), created_at: new Date() }))
      .execute()
    await recordAudit(trx, {
      by,
      action: previous ? 'calendar-feed.replaced' : 'calendar-feed.created',
      entityType: 'calendar-feed',
      entityId: by.userId,
    })
  })
  return token
}

/** Stops the person's feed link; false when there was none. */
export async function revokeFeed(db: Db, by: Principal & { kind: 'user' }): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const row = await trx.deleteFrom('calendar_feeds').where('user_id', '=', by.userId).returning('user_id').executeTakeFirst()
    if (row) await recordAudit(trx, { by, action: 'calendar-feed.revoked', entityType: 'calendar-feed', entityId: by.userId })
    return row !== undefined
  })
}

export async function feedCreatedAt(db: Db, userId: string): Promise<Date | null> {
  const row = await db.selectFrom('calendar_feeds').select('created_at').where('user_id', '=', userId).executeTakeFirst()
  return row ? new Date(row.created_at) : null
}

/**
 * The iCalendar text of the feed a token opens, or null for an unknown or revoked token (or a person who
 * can no longer sign in). `demoAllowed` is false in production, where demo accounts are shut.
 */
export async function feedForToken(
  db: Db,
  token: string,
  options: { baseUrl: string; demoAllowed: boolean; now?: Date },
): Promise<string | null> {
  if (!/^cal_[A-Za-z0-9_-]{20,100}$/.test(token)) return null
  const feed = await db
    .selectFrom('calendar_feeds as f')
    .innerJoin('users as u', 'u.id', 'f.user_id')
    .select(['f.user_id', 'u.is_demo'])
    .where('f.token_hash', '=', hashToken(token))
    .executeTakeFirst()
  if (!feed || (feed.is_demo && !options.demoAllowed)) return null
  const principal = await loadUserPrincipal(db, feed.user_id)
  if (!principal || principal.kind !== 'user') return null
  const events = await feedEvents(db, principal, options.now)
  return calendarFeed(
    'NPQ events',
    events.map((m) => ({ event: m.cancelled ? { ...m.event, status: 'cancelled' as const } : m.event, path: m.path })),
    options.baseUrl,
  )
}
