import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { AppError, forbidden, notFound, type FieldError } from '../errors.ts'
import type { Services } from '../services.ts'
import { formErrors } from '../web/forms.ts'
import { renderMarkdown } from '../web/markdown.ts'
import {
  forumActivityChoices,
  forumsFor,
  hidePost,
  loadThread,
  MAX_BODY_CHARS,
  MAX_REASON_CHARS,
  MAX_TITLE_CHARS,
  membershipOf,
  POSTS_PER_PAGE,
  postsOf,
  reply as addReply,
  setForumActivity,
  setLocked,
  startThread,
  THREADS_PER_PAGE,
  threadsOf,
  type Area,
  type Membership,
  type User,
} from './forums.ts'

// The forum pages, the same in each area: /participant/forums, /facilitator/forums,
// /delivery-partner/forums and /lead-provider/forums, each listing only the forums the person belongs
// to in that role (forums.ts says who). Every form works without JavaScript and validates here.

type Body = Record<string, unknown>
type ForumParams = { forumId: string }
type ThreadParams = ForumParams & { threadId: string }
type PostParams = ForumParams & { postId: string }

const areas: Area[] = ['participant', 'facilitator', 'delivery-partner', 'lead-provider']
const view = (name: string) => `forums/views/${name}.njk`
const text = (v: unknown) => (typeof v === 'string' ? v : '').trim()
const pageOf = (v: unknown) => {
  const n = Number(typeof v === 'string' ? v : '1')
  return Number.isInteger(n) && n >= 1 && n <= 10_000 ? n : 1
}

/** GOV.UK pagination data: previous/next and numbered pages. */
function pagination(base: string, page: number, total: number, perPage: number) {
  const pages = Math.max(1, Math.ceil(total / perPage))
  if (pages === 1) return null
  const href = (n: number) => `${base}?page=${n}`
  return {
    previous: page > 1 ? { href: href(page - 1) } : undefined,
    next: page < pages ? { href: href(page + 1) } : undefined,
    items: Array.from({ length: pages }, (_, i) => ({ number: i + 1, href: href(i + 1), current: i + 1 === page })),
  }
}

export function registerForumRoutes(app: FastifyInstance, services: Services): void {
  const { db } = services

  const userOf = (req: FastifyRequest): User => {
    const p = req.principal
    if (!p || p.kind !== 'user') throw forbidden()
    return p
  }

  for (const area of areas) {
    const base = `/${area}/forums`
    const forumPath = (m: Membership) => `${base}/${m.forum.id}`
    const threadPath = (m: Membership, threadId: string) => `${forumPath(m)}/threads/${threadId}`

    app.get(base, { config: { access: 'signed-in' } }, async (req, reply) => {
      const forums = await forumsFor(db, userOf(req), area)
      return reply.render(view('index'), {
        title: 'Discussion forums',
        area,
        forums: forums.map((f) => ({ ...f, href: `${base}/${f.id}` })),
      })
    })

    app.get<{ Params: ForumParams; Querystring: { page?: string; saved?: string } }>(
      `${base}/:forumId`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const m = await membershipOf(db, userOf(req), area, req.params.forumId)
        const page = pageOf(req.query.page)
        const { threads, total } = await threadsOf(db, m.forum.id, page)
        return reply.render(view('forum'), {
          title: m.forum.name,
          area,
          m,
          back: base,
          saved: req.query.saved,
          threads: threads.map((t) => ({ ...t, href: threadPath(m, t.id) })),
          total,
          pagination: pagination(forumPath(m), page, total, THREADS_PER_PAGE),
          newThreadHref: `${forumPath(m)}/threads/new`,
          activityHref: area === 'lead-provider' && m.forum.kind === 'course' ? `${forumPath(m)}/activity` : null,
        })
      },
    )

    // ---- Starting a thread ----

    const threadForm = (reply: FastifyReply, m: Membership, values: { title?: string; body?: string }, errors: FieldError[] = []) =>
      reply.render(
        view('new-thread'),
        {
          title: 'Start a thread',
          m,
          back: forumPath(m),
          action: `${forumPath(m)}/threads`,
          values,
          maxTitle: MAX_TITLE_CHARS,
          maxBody: MAX_BODY_CHARS,
          ...formErrors(errors),
        },
        errors.length ? 400 : 200,
      )

    app.get<{ Params: ForumParams }>(`${base}/:forumId/threads/new`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const m = await membershipOf(db, userOf(req), area, req.params.forumId)
      return threadForm(reply, m, {})
    })

    app.post<{ Params: ForumParams; Body: Body }>(`${base}/:forumId/threads`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const user = userOf(req)
      const m = await membershipOf(db, user, area, req.params.forumId)
      const values = { title: text(req.body?.title), body: text(req.body?.body) }
      const problems: FieldError[] = []
      if (!values.title) problems.push({ field: 'title', message: 'Enter a title for your thread' })
      else if (values.title.length > MAX_TITLE_CHARS)
        problems.push({ field: 'title', message: `The title must be ${MAX_TITLE_CHARS} characters or fewer` })
      problems.push(...bodyProblems(values.body))
      if (problems.length) return threadForm(reply, m, values, problems)
      try {
        const { threadId } = await startThread(db, services, user, m, { title: values.title, body: values.body })
        return reply.redirect(`${threadPath(m, threadId)}?saved=thread`, 303)
      } catch (error) {
        if (error instanceof AppError && error.code === 'invalid-transition')
          return threadForm(reply, m, values, [{ field: 'body', message: error.message }])
        throw error
      }
    })

    // ---- A thread, its posts and the reply form ----

    async function threadPage(
      req: FastifyRequest<{ Params: ThreadParams; Querystring: { page?: string; saved?: string } }>,
      reply: FastifyReply,
      options: { values?: { body?: string }; errors?: FieldError[] } = {},
    ) {
      const user = userOf(req)
      const m = await membershipOf(db, user, area, req.params.forumId)
      const thread = await loadThread(db, m.forum.id, req.params.threadId)
      const total = Number(
        (
          await db
            .selectFrom('forum_posts')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .where('thread_id', '=', thread.id)
            .executeTakeFirstOrThrow()
        ).n,
      )
      const lastPage = Math.max(1, Math.ceil(total / POSTS_PER_PAGE))
      // A failed reply shows the last page, where the form is.
      const page = options.errors ? lastPage : Math.min(pageOf(req.query.page), lastPage)
      const { posts } = await postsOf(db, user, m, thread.id, page)
      const errors = options.errors ?? []
      const path = threadPath(m, thread.id)
      return reply.render(
        view('thread'),
        {
          title: thread.title,
          area,
          m,
          thread: { id: thread.id, title: thread.title, locked: thread.locked_at !== null },
          back: forumPath(m),
          path,
          saved: req.query.saved,
          posts: posts.map((p, i) => ({
            ...p,
            number: (page - 1) * POSTS_PER_PAGE + i + 1,
            html: p.body === null ? null : renderMarkdown(p.body),
            hideHref: m.moderator && !p.hidden ? `${forumPath(m)}/posts/${p.id}/hide` : null,
          })),
          pagination: pagination(path, page, total, POSTS_PER_PAGE),
          isLastPage: page === lastPage,
          values: options.values ?? {},
          maxBody: MAX_BODY_CHARS,
          ...formErrors(errors),
        },
        errors.length ? 400 : 200,
      )
    }

    app.get<{ Params: ThreadParams; Querystring: { page?: string; saved?: string } }>(
      `${base}/:forumId/threads/:threadId`,
      { config: { access: 'signed-in' } },
      (req, reply) => threadPage(req, reply),
    )

    app.post<{ Params: ThreadParams; Body: Body; Querystring: { page?: string; saved?: string } }>(
      `${base}/:forumId/threads/:threadId/replies`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const m = await membershipOf(db, user, area, req.params.forumId)
        const thread = await loadThread(db, m.forum.id, req.params.threadId)
        const body = text(req.body?.body)
        const problems = bodyProblems(body, 'Enter your reply')
        if (problems.length) return threadPage(req, reply, { values: { body }, errors: problems })
        try {
          const { postId } = await addReply(db, services, user, m, thread.id, body)
          const total = Number(
            (
              await db
                .selectFrom('forum_posts')
                .select((eb) => eb.fn.countAll<string>().as('n'))
                .where('thread_id', '=', thread.id)
                .executeTakeFirstOrThrow()
            ).n,
          )
          const page = Math.max(1, Math.ceil(total / POSTS_PER_PAGE))
          return reply.redirect(`${threadPath(m, thread.id)}?page=${page}&saved=reply#post-${postId}`, 303)
        } catch (error) {
          if (error instanceof AppError && error.code === 'invalid-transition')
            return threadPage(req, reply, { values: { body }, errors: [{ field: 'body', message: error.message }] })
          throw error
        }
      },
    )

    // ---- Moderation ----

    app.post<{ Params: ThreadParams; Body: Body }>(
      `${base}/:forumId/threads/:threadId/lock`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const m = await membershipOf(db, user, area, req.params.forumId)
        const locked = text(req.body?.locked) === 'true'
        await setLocked(db, user, m, req.params.threadId, locked)
        return reply.redirect(`${threadPath(m, req.params.threadId)}?saved=${locked ? 'locked' : 'unlocked'}`, 303)
      },
    )

    async function postFor(m: Membership, postId: string) {
      if (!m.moderator || !/^[0-9a-f-]{36}$/i.test(postId)) throw notFound('Post')
      const post = await db
        .selectFrom('forum_posts as p')
        .innerJoin('forum_threads as t', 't.id', 'p.thread_id')
        .innerJoin('users as u', 'u.id', 'p.author_user_id')
        .select(['p.id', 'p.body', 'p.thread_id', 't.title', 'u.full_name', 'p.hidden_at'])
        .where('p.id', '=', postId)
        .where('t.forum_id', '=', m.forum.id)
        .executeTakeFirst()
      if (!post) throw notFound('Post')
      return post
    }

    const hideForm = async (reply: FastifyReply, m: Membership, postId: string, values: { reason?: string }, errors: FieldError[] = []) => {
      const post = await postFor(m, postId)
      return reply.render(
        view('hide'),
        {
          title: 'Hide a post',
          m,
          post: { ...post, html: renderMarkdown(post.body) },
          back: threadPath(m, post.thread_id),
          action: `${forumPath(m)}/posts/${post.id}/hide`,
          values,
          maxReason: MAX_REASON_CHARS,
          ...formErrors(errors),
        },
        errors.length ? 400 : 200,
      )
    }

    app.get<{ Params: PostParams }>(`${base}/:forumId/posts/:postId/hide`, { config: { access: 'signed-in' } }, async (req, reply) => {
      const m = await membershipOf(db, userOf(req), area, req.params.forumId)
      return hideForm(reply, m, req.params.postId, {})
    })

    app.post<{ Params: PostParams; Body: Body }>(
      `${base}/:forumId/posts/:postId/hide`,
      { config: { access: 'signed-in' } },
      async (req, reply) => {
        const user = userOf(req)
        const m = await membershipOf(db, user, area, req.params.forumId)
        const reason = text(req.body?.reason)
        const problems: FieldError[] = []
        if (!reason) problems.push({ field: 'reason', message: 'Enter why you are hiding this post' })
        else if (reason.length > MAX_REASON_CHARS)
          problems.push({ field: 'reason', message: `The reason must be ${MAX_REASON_CHARS} characters or fewer` })
        if (problems.length) return hideForm(reply, m, req.params.postId, { reason }, problems)
        const { threadId } = await hidePost(db, user, m, req.params.postId, reason)
        return reply.redirect(`${threadPath(m, threadId)}?saved=hidden#post-${req.params.postId}`, 303)
      },
    )
  }

  // ---- A lead provider's course forum as evidence: the design activity it counts as ----

  const activityForm = async (reply: FastifyReply, m: Membership, value: string, errors: FieldError[] = []) => {
    const code = await leadProviderCode(m)
    const choices = forumActivityChoices(services.catalogue, code, m.forum.courseIdentifier)
    return reply.render(
      view('activity'),
      {
        title: 'Count participation as evidence',
        m,
        back: `/lead-provider/forums/${m.forum.id}`,
        action: `/lead-provider/forums/${m.forum.id}/activity`,
        items: [
          { value: '', text: 'Not counted: no design activity', checked: value === '' },
          ...choices.map((c) => ({
            value: c.code,
            text: `${c.title} (${c.code})`,
            hint: { text: c.component },
            checked: value === c.code,
          })),
        ],
        ...formErrors(errors),
      },
      errors.length ? 400 : 200,
    )
  }

  async function leadProviderCode(m: Membership) {
    const lp = await db.selectFrom('organisations').select('code').where('id', '=', m.forum.leadProviderId!).executeTakeFirstOrThrow()
    return lp.code
  }

  app.get<{ Params: ForumParams }>('/lead-provider/forums/:forumId/activity', { config: { access: 'signed-in' } }, async (req, reply) => {
    const m = await membershipOf(db, userOf(req), 'lead-provider', req.params.forumId)
    if (m.forum.kind !== 'course') throw notFound('Forum')
    return activityForm(reply, m, m.forum.activityCode ?? '')
  })

  app.post<{ Params: ForumParams; Body: Body }>(
    '/lead-provider/forums/:forumId/activity',
    { config: { access: 'signed-in' } },
    async (req, reply) => {
      const user = userOf(req)
      const m = await membershipOf(db, user, 'lead-provider', req.params.forumId)
      if (m.forum.kind !== 'course') throw notFound('Forum')
      const value = text(req.body?.activity)
      const choices = forumActivityChoices(services.catalogue, await leadProviderCode(m), m.forum.courseIdentifier)
      if (value !== '' && !choices.some((c) => c.code === value))
        return activityForm(reply, m, value, [{ field: 'activity', message: 'Select one of the design’s activities, or not counted' }])
      await setForumActivity(db, user, m, value === '' ? null : value)
      return reply.redirect(`/lead-provider/forums/${m.forum.id}?saved=activity`, 303)
    },
  )
}

function bodyProblems(body: string, empty = 'Enter your post'): FieldError[] {
  if (!body) return [{ field: 'body', message: empty }]
  if (body.length > MAX_BODY_CHARS)
    return [{ field: 'body', message: `Your post must be ${MAX_BODY_CHARS.toLocaleString('en-GB')} characters or fewer` }]
  return []
}
