import { recordAudit } from '../audit/audit.ts'
import type { Services } from '../services.ts'

// Demo forums: in the forum of each North Star group that has EDT participants, a welcome thread from
// the partner's facilitator with a reply from Priya, and Priya's own question; in EDT's NPQH course
// forum, an introductions thread from the lead provider's admin. Added once (a second load finds them).

type Post = { author: string; body: string }
type Thread = { title: string; posts: Post[] }

export async function addDemoForums(services: Services, progress: (line: string) => void): Promise<number> {
  const { db } = services
  const users = new Map(
    (
      await db
        .selectFrom('users')
        .select(['id', 'email'])
        .where('email', 'in', ['participant@demo.test', 'facilitator@demo.test', 'lead-provider-admin@demo.test'])
        .execute()
    ).map((u) => [u.email, u.id]),
  )
  const priya = users.get('participant@demo.test')
  const facilitator = users.get('facilitator@demo.test')
  const admin = users.get('lead-provider-admin@demo.test')
  if (!priya || !facilitator || !admin) return 0

  // Priya's groups at North Star with EDT (her NPQH and EHCO groups).
  const groups = await db
    .selectFrom('participant_groups as g')
    .innerJoin('group_memberships as gm', 'gm.group_id', 'g.id')
    .innerJoin('enrolments as e', 'e.id', 'gm.enrolment_id')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .innerJoin('organisations as dp', 'dp.id', 'g.delivery_partner_id')
    .select(['g.id', 'g.course_identifier', 'e.lead_provider_id'])
    .where('p.user_id', '=', priya)
    .where('lp.code', '=', 'edt')
    .where('dp.code', '=', 'north-star-tsh')
    .execute()
  if (!groups.length) return 0

  let created = 0
  const system = { kind: 'system', name: 'demo' } as const
  const addThreads = async (forumId: string, threads: Thread[]) => {
    for (const t of threads) {
      const exists = await db
        .selectFrom('forum_threads')
        .select('id')
        .where('forum_id', '=', forumId)
        .where('title', '=', t.title)
        .executeTakeFirst()
      if (exists) continue
      await db.transaction().execute(async (trx) => {
        const thread = await trx
          .insertInto('forum_threads')
          .values({ forum_id: forumId, title: t.title, created_by: t.posts[0]!.author })
          .returning('id')
          .executeTakeFirstOrThrow()
        let at = Date.now() - (t.posts.length + 2) * 3_600_000
        for (const p of t.posts) {
          at += 3_600_000
          await trx
            .insertInto('forum_posts')
            .values({ thread_id: thread.id, author_user_id: p.author, body: p.body, created_at: new Date(at) })
            .execute()
        }
        await trx
          .updateTable('forum_threads')
          .set({ created_at: new Date(at - (t.posts.length - 1) * 3_600_000), last_activity_at: new Date(at) })
          .where('id', '=', thread.id)
          .execute()
        await recordAudit(trx, {
          by: system,
          action: 'forum-thread.created',
          entityType: 'forum-thread',
          entityId: thread.id,
          after: { title: t.title },
        })
      })
      created++
    }
  }

  for (const g of groups) {
    await db
      .insertInto('forums')
      .values({ kind: 'group', group_id: g.id, course_identifier: g.course_identifier })
      .onConflict((oc) => oc.column('group_id').doNothing())
      .execute()
    const forum = await db.selectFrom('forums').select('id').where('group_id', '=', g.id).executeTakeFirstOrThrow()
    await addThreads(forum.id, [
      {
        title: 'Welcome to your group forum',
        posts: [
          {
            author: facilitator,
            body: 'Welcome, everyone. Use this forum between sessions to **share what you are trying in school** and to ask each other questions.\n\nPlease keep posts professional: no pupil or staff names.',
          },
          { author: priya, body: 'Thanks! Looking forward to working with you all.' },
        ],
      },
      {
        title: 'Reading for the next session',
        posts: [
          {
            author: priya,
            body: 'Has anyone found a good summary of the EEF guidance on implementation? I would like something short to share with my senior team.',
          },
        ],
      },
    ])
  }

  const npqh = groups.find((g) => g.course_identifier === 'npq-headship')
  if (npqh) {
    await db
      .insertInto('forums')
      .values({ kind: 'course', lead_provider_id: npqh.lead_provider_id, course_identifier: 'npq-headship' })
      .onConflict((oc) => oc.columns(['kind', 'lead_provider_id', 'course_identifier']).doNothing())
      .execute()
    const forum = await db
      .selectFrom('forums')
      .select('id')
      .where('kind', '=', 'course')
      .where('lead_provider_id', '=', npqh.lead_provider_id)
      .where('course_identifier', '=', 'npq-headship')
      .executeTakeFirstOrThrow()
    await addThreads(forum.id, [
      {
        title: 'Introduce yourself',
        posts: [
          {
            author: admin,
            body: 'This forum is open to every NPQH participant with us. Say hello: your school, your phase and one thing you hope to get from the programme.',
          },
          { author: priya, body: 'Hello from Oakfield Primary: I am a deputy head hoping to sharpen how I lead change.' },
        ],
      },
    ])
  }
  if (created) progress(`Forum threads: ${created}`)
  return created
}
