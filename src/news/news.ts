import { recordAudit } from '../audit/audit.ts'
import { findCourse } from '../catalogue/courses.ts'
import type { Db } from '../db/database.ts'
import { AppError, notFound, type FieldError } from '../errors.ts'
import type { Principal } from '../policy/principal.ts'
import { renderMarkdown } from '../web/markdown.ts'

// Programme news: a lead provider's or delivery partner's short notices to its participants, shown on
// their Home. A participant reads news from the lead providers and delivery partners of their places
// (not withdrawn ones), for all courses or the course they are on, from its publication date.

export const MAX_TITLE = 120
export const MAX_BODY = 5000

export type NewsInput = { title: string; body: string; course: string; publishedOn: string | null }

export type NewsItem = {
  id: string
  title: string
  html: string
  publishedOn: string
  from: string
  courseName: string | null
  withdrawn: boolean
}

/** What is wrong with a notice as written (field-keyed); empty when it can be published. */
export function newsProblems(input: NewsInput, courseIdentifiers: string[]): FieldError[] {
  const problems: FieldError[] = []
  const title = input.title.trim()
  if (!title) problems.push({ field: 'title', message: 'Enter a title' })
  else if (title.length > MAX_TITLE) problems.push({ field: 'title', message: `Title must be ${MAX_TITLE} characters or fewer` })
  const body = input.body.trim()
  if (!body) problems.push({ field: 'body', message: 'Enter the news' })
  else if (body.length > MAX_BODY) problems.push({ field: 'body', message: `The news must be ${MAX_BODY} characters or fewer` })
  if (input.course && !courseIdentifiers.includes(input.course))
    problems.push({ field: 'course', message: 'Choose one of your courses, or all courses' })
  if (!input.publishedOn)
    problems.push({ field: 'published-day', message: 'Enter the date to publish it as a real date, for example 27 3 2026' })
  return problems
}

const toItem = (r: {
  id: string
  title: string
  body: string
  published_on: string
  from: string
  course_identifier: string | null
  withdrawn_at: Date | null
}): NewsItem => ({
  id: r.id,
  title: r.title,
  html: renderMarkdown(r.body),
  publishedOn: r.published_on,
  from: r.from,
  courseName: r.course_identifier ? (findCourse(r.course_identifier)?.name ?? r.course_identifier) : null,
  withdrawn: r.withdrawn_at !== null,
})

const newsQuery = (db: Db) =>
  db
    .selectFrom('programme_news as n')
    .innerJoin('organisations as o', 'o.id', 'n.organisation_id')
    .select(['n.id', 'n.title', 'n.body', 'n.published_on', 'n.course_identifier', 'n.withdrawn_at', 'o.name as from'])

/** News for a participant's places, newest first, published by today. */
export async function newsForParticipant(db: Db, userId: string, today: string, limit = 50): Promise<NewsItem[]> {
  const rows = await newsQuery(db)
    .where('n.withdrawn_at', 'is', null)
    .where('n.published_on', '<=', today)
    .where(({ exists, selectFrom }) =>
      exists(
        selectFrom('enrolments as e')
          .innerJoin('participants as p', 'p.id', 'e.participant_id')
          .select('e.id')
          .where('p.user_id', '=', userId)
          .where('e.status', '!=', 'withdrawn')
          .where((w) =>
            w.or([w('e.lead_provider_id', '=', w.ref('n.organisation_id')), w('e.delivery_partner_id', '=', w.ref('n.organisation_id'))]),
          )
          .where((w) => w.or([w('n.course_identifier', 'is', null), w('n.course_identifier', '=', w.ref('e.course_identifier'))])),
      ),
    )
    .orderBy('n.published_on', 'desc')
    .orderBy('n.created_at', 'desc')
    .limit(limit)
    .execute()
  return rows.map(toItem)
}

/** Everything an organisation has written, withdrawn included, newest first. */
export async function newsOf(db: Db, organisationIds: string[]): Promise<NewsItem[]> {
  if (!organisationIds.length) return []
  const rows = await newsQuery(db)
    .where('n.organisation_id', 'in', organisationIds)
    .orderBy('n.published_on', 'desc')
    .orderBy('n.created_at', 'desc')
    .execute()
  return rows.map(toItem)
}

export async function publishNews(db: Db, by: Principal & { kind: 'user' }, organisationId: string, input: NewsInput): Promise<string> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('programme_news')
      .values({
        organisation_id: organisationId,
        course_identifier: input.course || null,
        title: input.title.trim(),
        body: input.body.trim(),
        published_on: input.publishedOn!,
        created_by: by.userId,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await recordAudit(trx, {
      by,
      action: 'news.published',
      entityType: 'programme-news',
      entityId: row.id,
      after: { organisationId, course: input.course || null, title: input.title.trim(), publishedOn: input.publishedOn },
    })
    return row.id
  })
}

/** Withdraws a notice of one of these organisations: participants no longer see it; the record stays. */
export async function withdrawNews(db: Db, by: Principal & { kind: 'user' }, organisationIds: string[], id: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('programme_news')
      .select(['id', 'organisation_id', 'withdrawn_at'])
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst()
    if (!row || !organisationIds.includes(row.organisation_id)) throw notFound('News')
    if (row.withdrawn_at) throw new AppError('validation-failed', 'This news is already withdrawn')
    await trx.updateTable('programme_news').set({ withdrawn_at: new Date(), withdrawn_by: by.userId }).where('id', '=', id).execute()
    await recordAudit(trx, { by, action: 'news.withdrawn', entityType: 'programme-news', entityId: id })
  })
}
