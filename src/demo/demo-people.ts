import { loadUserPrincipal } from '../accounts/principals.ts'
import { addDays } from '../applications/deadlines.ts'
import { londonDateOf } from '../dates/london.ts'
import { addObservation, createGroup, saveProgrammeContacts, setPartnerContact, setSafeguardingLeads } from '../people/people.ts'
import type { Services } from '../services.ts'

// Issue 9 people for the demo, through the pages' own functions: at North Star, Priya Patel's NPQH has
// a buddy (another North Star NPQH participant) and a clinic group; EDT's programme and technical help
// contacts; North Star's named contact and designated safeguarding lead (its lead, Dan Okafor); and a
// quality assurance observation of North Star's facilitator, Fatima Hussain. A second load finds the
// buddy pair and creates nothing.

export async function addDemoPeople(services: Services, progress: (line: string) => void): Promise<number> {
  const { db } = services
  const ids = async (email: string) => (await db.selectFrom('users').select('id').where('email', '=', email).executeTakeFirst())?.id
  const [danId, fatimaId] = [await ids('delivery-partner-lead@demo.test'), await ids('facilitator@demo.test')]
  const laura = await ids('lead-provider-admin@demo.test')
  const org = async (code: string) => (await db.selectFrom('organisations').select('id').where('code', '=', code).executeTakeFirst())?.id
  const [northStar, edt] = [await org('north-star-tsh'), await org('edt')]
  if (!danId || !fatimaId || !laura || !northStar || !edt) return 0
  if (await db.selectFrom('people_groups').select('id').where('delivery_partner_id', '=', northStar).executeTakeFirst()) return 0
  progress('demo: buddies, clinic group, contacts and a facilitator observation')
  const dan = await loadUserPrincipal(db, danId)
  const lauraPrincipal = await loadUserPrincipal(db, laura)
  if (dan?.kind !== 'user' || lauraPrincipal?.kind !== 'user') return 0

  const npqh = await db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['e.id', 'p.email'])
    .where('e.delivery_partner_id', '=', northStar)
    .where('e.course_identifier', '=', 'npq-headship')
    .where('e.cohort', '=', '2022-autumn')
    .orderBy('p.full_name')
    .execute()
  const priya = npqh.find((e) => e.email === 'participant@demo.test')
  const others = npqh.filter((e) => e !== priya)
  if (!priya || !others.length) return 0
  let created = 0
  await createGroup(
    db,
    dan,
    northStar,
    {
      kind: 'buddies',
      name: 'NPQH buddies 1',
      courseIdentifier: 'npq-headship',
      cohort: '2022-autumn',
      description: 'Work through the Apply modules together.',
    },
    [priya.id, others[0]!.id],
  )
  await createGroup(
    db,
    dan,
    northStar,
    {
      kind: 'clinic-group',
      name: 'NPQH clinic group A',
      courseIdentifier: 'npq-headship',
      cohort: '2022-autumn',
      description: 'Clinics on the first Tuesday of each half term, 4pm, online.',
    },
    [priya.id, ...others.map((o) => o.id)],
  )
  created += 2

  await saveProgrammeContacts(db, lauraPrincipal, edt, {
    programme: { name: 'EDT NPQ programme team', email: 'npq.programme@edt.demo.test', phone: '0118 902 1000' },
    technicalHelp: { name: 'EDT platform help desk', email: 'npq.help@edt.demo.test', phone: '' },
  })
  await setPartnerContact(db, dan, northStar, '', danId)
  await setSafeguardingLeads(db, dan, northStar, [danId])
  created += 3

  const event = await db
    .selectFrom('event_facilitators as ef')
    .innerJoin('events as ev', 'ev.id', 'ef.event_id')
    .select(['ev.id', 'ev.starts_on'])
    .where('ef.user_id', '=', fatimaId)
    .where('ev.delivery_partner_id', '=', northStar)
    .where('ev.starts_on', '<=', londonDateOf(new Date()))
    .orderBy('ev.starts_on', 'desc')
    .executeTakeFirst()
  await addObservation(db, dan, northStar, fatimaId, {
    observedOn: event ? String(event.starts_on) : addDays(londonDateOf(new Date()), -14),
    eventId: event?.id ?? null,
    session: event ? '' : 'NPQH clinic group A, clinic 1',
    observer: 'Dan Okafor',
    strengths: 'Clear modelling of the Apply task; every participant contributed in the paired practice.',
    areasToDevelop: 'Leave more time at the end for participants to agree their actions with their buddy.',
    rating: 'good',
  })
  return created + 1
}
