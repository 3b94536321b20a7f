import { addDays } from '../applications/deadlines.ts'
import { loadUserPrincipal } from '../accounts/principals.ts'
import { londonDateOf } from '../dates/london.ts'
import { publishNews } from '../news/news.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'

// Programme news for the demo participants' Home: one from EDT to its NPQH participants, one from North
// Star to all of its participants, and one scheduled for next week (shown in the list, not yet to
// participants). Through the same function as the pages; a second load finds them and adds nothing.

const items = [
  {
    author: 'lead-provider-admin@demo.test',
    org: 'edt',
    course: 'npq-headship',
    title: 'Block 2 is now live',
    body: 'Block 2, **Curriculum and assessment**, is open. Start with the evidence summary, then the two short videos.\n\nThe face-to-face session for this block is in your Events list.',
    days: -3,
  },
  {
    author: 'delivery-partner-lead@demo.test',
    org: 'north-star-tsh',
    course: '',
    title: 'Parking at the hub',
    body: 'The hub car park is closed for resurfacing until the end of the month. Please use the council car park on Mill Lane, a five-minute walk away.',
    days: -1,
  },
  {
    author: 'delivery-partner-lead@demo.test',
    org: 'north-star-tsh',
    course: '',
    title: 'Spring term dates',
    body: 'Spring term sessions are now on the platform: book early, places are limited to 30.',
    days: 7,
  },
]

export async function addDemoNews(services: Services, progress: (line: string) => void): Promise<number> {
  const { db } = services
  const today = londonDateOf(new Date())
  let created = 0
  for (const item of items) {
    const exists = await db.selectFrom('programme_news').select('id').where('title', '=', item.title).executeTakeFirst()
    if (exists) continue
    const user = await db.selectFrom('users').select('id').where('email', '=', item.author).executeTakeFirst()
    const org = await db.selectFrom('organisations').select('id').where('code', '=', item.org).executeTakeFirst()
    if (!user || !org) continue
    if (created === 0) progress('demo: programme news')
    const by = (await loadUserPrincipal(db, user.id)) as Principal & { kind: 'user' }
    await publishNews(db, by, org.id, { title: item.title, body: item.body, course: item.course, publishedOn: addDays(today, item.days) })
    created++
  }
  return created
}
