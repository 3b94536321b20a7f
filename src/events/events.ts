import type { Selectable } from 'kysely'
import type { Db, Trx } from '../db/database.ts'
import type { EventKind, EventsTable } from '../db/schema.ts'
import { forbidden, notFound } from '../errors.ts'
import { can, type Action, type EventRef } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'
import type { Services } from '../services.ts'

// Events as the platform holds them: loaded with who runs them, who facilitates, who else may book,
// and how full they are; and the one check every page and API call makes before touching one.

/** What scheduling, booking and their emails use of the services (API operations and jobs have no more). */
export type EventServices = Pick<Services, 'config' | 'email' | 'catalogue' | 'designs'>

export const kindLabels: Record<EventKind, string> = {
  induction: 'Induction',
  conference: 'Conference',
  f2f: 'Face-to-face session',
  'live-webinar': 'Live webinar',
  'peer-learning-group': 'Peer learning group',
  clinic: 'Clinic',
  community: 'Community',
  coaching: 'Coaching',
  'school-visit': 'School visit',
  'assessment-clinic': 'Assessment clinic',
  'tutor-session': 'Tutor session',
  welcome: 'Welcome event',
}

/** Kinds that deliver no design activity: their registers are kept but earn nothing. */
export const kindsDeliveringNothing: readonly EventKind[] = ['welcome', 'tutor-session']

export type EventRow = Selectable<EventsTable>
type OrganisationSummary = { id: string; code: string; name: string }

export type EventDetails = EventRow & {
  leadProvider: OrganisationSummary
  /** Null for a lead provider's central event. */
  deliveryPartner: OrganisationSummary | null
  facilitators: { userId: string; fullName: string; email: string }[]
  sharedWith: OrganisationSummary[]
  booked: number
  waiting: number
}

/** The title people see: the scheduler's, or the kind and activity. */
export function eventTitle(e: Pick<EventRow, 'title' | 'kind' | 'activity_code'>): string {
  return e.title?.trim() || `${kindLabels[e.kind]}${e.activity_code ? ` (${e.activity_code})` : ''}`
}

export const eventRefOf = (e: EventDetails): EventRef => ({
  leadProviderId: e.lead_provider_id,
  deliveryPartnerId: e.delivery_partner_id,
  facilitatorUserIds: e.facilitators.map((f) => f.userId),
})

/** Whether a path parameter can be a row id at all (PostgreSQL refuses anything else as a uuid). */
export const isUuid = (s: string): boolean => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(s)

export async function loadEvents(db: Db | Trx, ids: string[]): Promise<EventDetails[]> {
  if (ids.length === 0) return []
  const [events, facilitators, shared, counts] = await Promise.all([
    db
      .selectFrom('events as ev')
      .innerJoin('organisations as lp', 'lp.id', 'ev.lead_provider_id')
      .leftJoin('organisations as dp', 'dp.id', 'ev.delivery_partner_id')
      .selectAll('ev')
      .select(['lp.code as lp_code', 'lp.name as lp_name', 'dp.code as dp_code', 'dp.name as dp_name'])
      .where('ev.id', 'in', ids)
      .orderBy('ev.starts_at')
      .orderBy('ev.event_ref')
      .execute(),
    db
      .selectFrom('event_facilitators as f')
      .innerJoin('users as u', 'u.id', 'f.user_id')
      .select(['f.event_id', 'u.id', 'u.full_name', 'u.email'])
      .where('f.event_id', 'in', ids)
      .orderBy('u.full_name')
      .execute(),
    db
      .selectFrom('event_shared_partners as s')
      .innerJoin('organisations as o', 'o.id', 's.delivery_partner_id')
      .select(['s.event_id', 'o.id', 'o.code', 'o.name'])
      .where('s.event_id', 'in', ids)
      .orderBy('o.name')
      .execute(),
    db
      .selectFrom('bookings')
      .select(['event_id', 'status', (eb) => eb.fn.countAll<string>().as('n')])
      .where('event_id', 'in', ids)
      .where('status', '<>', 'cancelled')
      .groupBy(['event_id', 'status'])
      .execute(),
  ])
  return events.map(({ lp_code, lp_name, dp_code, dp_name, ...e }) => ({
    ...e,
    leadProvider: { id: e.lead_provider_id, code: lp_code, name: lp_name },
    deliveryPartner: e.delivery_partner_id ? { id: e.delivery_partner_id, code: dp_code!, name: dp_name! } : null,
    facilitators: facilitators.filter((f) => f.event_id === e.id).map((f) => ({ userId: f.id, fullName: f.full_name, email: f.email })),
    sharedWith: shared.filter((s) => s.event_id === e.id).map(({ id, code, name }) => ({ id, code, name })),
    booked: Number(counts.find((c) => c.event_id === e.id && c.status === 'booked')?.n ?? 0),
    waiting: Number(counts.find((c) => c.event_id === e.id && c.status === 'waiting')?.n ?? 0),
  }))
}

export async function loadEvent(db: Db | Trx, id: string): Promise<EventDetails | undefined> {
  if (!isUuid(id)) return undefined
  return (await loadEvents(db, [id]))[0]
}

/**
 * The event, if the principal may do `action` to it. An event they may not even see is "not found"
 * (its existence is not disclosed); one they may see but not change is forbidden.
 */
export async function eventFor(db: Db | Trx, principal: Principal | null, id: string, action: Action): Promise<EventDetails> {
  const event = await loadEvent(db, id)
  if (!event || !principal) throw notFound('Event')
  const ref = eventRefOf(event)
  if (!can(principal, 'view', { type: 'event', event: ref })) throw notFound('Event')
  if (!can(principal, action, { type: 'event', event: ref })) throw forbidden()
  return event
}

/** Free places: capacity less the places booked (never below zero if capacity was lowered by import). */
export const freePlaces = (e: Pick<EventDetails, 'capacity' | 'booked'>) => Math.max(0, e.capacity - e.booked)

/**
 * Participants on the event's lead provider, course and cohort (not withdrawn), of the given delivery
 * partners (any, if none are given), leaving out `excluding`: whom a lead may book, or add as a walk-in.
 */
export function participantsOnCourse(
  db: Db | Trx,
  event: Pick<EventRow, 'lead_provider_id' | 'course_identifier' | 'cohort'>,
  options: { deliveryPartnerIds?: string[]; excluding?: string[] } = {},
) {
  let q = db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['p.id', 'p.full_name', 'p.email'])
    .where('e.lead_provider_id', '=', event.lead_provider_id)
    .where('e.course_identifier', '=', event.course_identifier)
    .where('e.cohort', '=', event.cohort)
    .where('e.status', '<>', 'withdrawn')
    .orderBy('p.full_name')
    .orderBy('p.id')
  if (options.deliveryPartnerIds)
    q = q.where('e.delivery_partner_id', 'in', options.deliveryPartnerIds.length ? options.deliveryPartnerIds : [null as never])
  if (options.excluding?.length) q = q.where('p.id', 'not in', options.excluding)
  return q
}
