import { sql } from 'kysely'
import { z } from 'zod'
import type { Config } from '../config.ts'
import { londonDateOf, londonMoment } from '../dates/london.ts'
import type { Db, Trx } from '../db/database.ts'
import type { EmailOutbox } from '../email/outbox.ts'
import { eventTitle, loadEvent, type EventDetails } from '../events/events.ts'
import { sendEventEmail } from '../events/notifications.ts'
import { formatSpan } from '../events/times.ts'
import { defineJob, type JobDefinition } from '../jobs/queue.ts'
import type { Logger } from '../logging.ts'

// Reminders by email, each sent once: to booked participants a number of days before an event (the
// event's own `reminder_days_before`, or EVENT_REMINDER_DAYS), and to facilitators (or, with none, the
// delivery partner's leads; for a central event, the lead provider's admins) when the register has not
// been taken by the day after the event. Cron jobs look every 15 minutes; the rules of when a reminder is
// due are pure functions of the time, below. Each event is handled in one transaction that locks the
// event row and records what was sent (event_reminders) with the emails, so two workers, or a job run
// twice, never send a reminder twice.

/** London wall-clock time booking reminders go at, on the day they are due. */
export const BOOKING_REMINDER_TIME = '08:00'
/** London wall-clock time register reminders go at, on the day after the event. */
export const REGISTER_REMINDER_TIME = '09:00'
/** Registers lock 14 days after the event: no reminder after that. */
export const REGISTER_REMINDER_DAYS = 14

const DAY = 86_400_000

/** A calendar date (YYYY-MM-DD) moved by whole days. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10)
}

/** When a booking reminder becomes due: BOOKING_REMINDER_TIME in London, `daysBefore` days before the event's London date. */
export function bookingReminderDueAt(startsAt: Date | string, daysBefore: number): Date {
  return londonMoment(addDays(londonDateOf(new Date(startsAt)), -daysBefore), BOOKING_REMINDER_TIME)!
}

export type BookingReminderFacts = {
  startsAt: Date | string
  daysBefore: number
  /** When the place was booked (or given from the waiting list). */
  bookedAt: Date | string
  alreadySent: boolean
}

/**
 * Whether a booked participant's reminder is due at `now`: from its due time until the event starts
 * (so a job that was down catches up), unless it was sent already or the place was booked after the due
 * time (the booking confirmation has just told them).
 */
export function bookingReminderDue(f: BookingReminderFacts, now: Date): boolean {
  const dueAt = bookingReminderDueAt(f.startsAt, f.daysBefore)
  return !f.alreadySent && dueAt <= now && now < new Date(f.startsAt) && new Date(f.bookedAt) < dueAt
}

/** When a register reminder becomes due: REGISTER_REMINDER_TIME in London on the day after the event ends. */
export function registerReminderDueAt(endsAt: Date | string): Date {
  return londonMoment(addDays(londonDateOf(new Date(endsAt)), 1), REGISTER_REMINDER_TIME)!
}

export type RegisterReminderFacts = {
  endsAt: Date | string
  status: 'scheduled' | 'cancelled'
  registerTaken: boolean
  alreadySent: boolean
}

/** Whether a facilitator's "register not taken" reminder is due at `now` (until registers lock). */
export function registerReminderDue(f: RegisterReminderFacts, now: Date): boolean {
  const dueAt = registerReminderDueAt(f.endsAt)
  return (
    f.status === 'scheduled' &&
    !f.registerTaken &&
    !f.alreadySent &&
    dueAt <= now &&
    now.getTime() < dueAt.getTime() + REGISTER_REMINDER_DAYS * DAY
  )
}

export type ReminderDeps = { db: Db; config: Config; email: EmailOutbox; logger: Logger }

/** sendEventEmail reads only `config` and `email` of the services. */
const lockEvent = (trx: Trx, eventId: string) => sql`select id from events where id = ${eventId} for update`.execute(trx)

/** Sends every booking reminder due at `now`; returns how many were sent. */
export async function sendBookingReminders(deps: ReminderDeps, now: Date): Promise<number> {
  const { db, config } = deps
  const candidates = await db
    .selectFrom('events as ev')
    .select('ev.id')
    .where('ev.status', '=', 'scheduled')
    .where('ev.starts_at', '>', now)
    .where('ev.starts_at', '<=', new Date(now.getTime() + 62 * DAY))
    .where((eb) =>
      eb.exists(eb.selectFrom('bookings as b').select('b.id').whereRef('b.event_id', '=', 'ev.id').where('b.status', '=', 'booked')),
    )
    .orderBy('ev.starts_at')
    .execute()
  let sent = 0
  for (const { id } of candidates) {
    sent += await db.transaction().execute(async (trx) => {
      await lockEvent(trx, id)
      const event = await loadEvent(trx, id)
      if (!event || event.status !== 'scheduled') return 0
      const daysBefore = event.reminder_days_before ?? config.eventReminderDays
      const booked = await trx
        .selectFrom('bookings as b')
        .select(['b.participant_id', 'b.booked_at'])
        .where('b.event_id', '=', id)
        .where('b.status', '=', 'booked')
        .execute()
      const already = new Set(
        (
          await trx.selectFrom('event_reminders').select('recipient_id').where('event_id', '=', id).where('kind', '=', 'booking').execute()
        ).map((r) => r.recipient_id),
      )
      let n = 0
      for (const b of booked) {
        const alreadySent = already.has(b.participant_id)
        if (!bookingReminderDue({ startsAt: event.starts_at, daysBefore, bookedAt: b.booked_at!, alreadySent }, now)) continue
        // No reminders while deferred or after withdrawing from the event's course.
        const paused = await trx
          .selectFrom('enrolments')
          .select('id')
          .where('participant_id', '=', b.participant_id)
          .where('lead_provider_id', '=', event.lead_provider_id)
          .where('course_identifier', '=', event.course_identifier)
          .where('status', 'in', ['deferred', 'withdrawn'])
          .executeTakeFirst()
        if (paused) continue
        // The primary key makes this the one place the reminder is claimed, even without the lock.
        const claimed = await trx
          .insertInto('event_reminders')
          .values({ event_id: id, recipient_id: b.participant_id, kind: 'booking', sent_at: now })
          .onConflict((oc) => oc.doNothing())
          .returning('recipient_id')
          .executeTakeFirst()
        if (!claimed) continue
        await sendEventEmail(trx, deps, 'reminder', event, b.participant_id)
        n++
      }
      return n
    })
  }
  if (sent) deps.logger.info({ sent }, 'booking reminders sent')
  return sent
}

/** Who is told a register has not been taken: the facilitators; else the partner's leads; else (central events) the provider's admins. */
async function registerRecipients(trx: Trx, event: EventDetails) {
  const users = (ids: string[]) =>
    ids.length
      ? trx
          .selectFrom('users')
          .select(['id', 'full_name', 'email'])
          .where('id', 'in', ids)
          .where('status', '=', 'active')
          .orderBy('email')
          .execute()
      : Promise.resolve([])
  const facilitators = await users(event.facilitators.map((f) => f.userId))
  if (facilitators.length) return facilitators
  const role = event.delivery_partner_id ? 'delivery-partner-lead' : 'lead-provider-admin'
  const organisationId = event.delivery_partner_id ?? event.lead_provider_id
  const holders = await trx
    .selectFrom('role_assignments')
    .select('user_id')
    .where('role', '=', role)
    .where('organisation_id', '=', organisationId)
    .execute()
  return users(holders.map((h) => h.user_id))
}

/** Where a facilitator takes an event's register. */
export const registerPath = (eventId: string) => `/events/${eventId}/register`

/** Sends every "register not taken" reminder due at `now`; returns how many were sent. */
export async function sendRegisterReminders(deps: ReminderDeps, now: Date): Promise<number> {
  const { db, config, email } = deps
  const candidates = await db
    .selectFrom('events as ev')
    .select('ev.id')
    .where('ev.status', '=', 'scheduled')
    .where('ev.register_taken_at', 'is', null)
    .where('ev.ends_at', '<=', now)
    .where('ev.ends_at', '>', new Date(now.getTime() - (REGISTER_REMINDER_DAYS + 2) * DAY))
    .orderBy('ev.ends_at')
    .execute()
  let sent = 0
  for (const { id } of candidates) {
    sent += await db.transaction().execute(async (trx) => {
      await lockEvent(trx, id)
      const event = await loadEvent(trx, id)
      if (!event) return 0
      // Entries imported or recorded without the register page still count as a register taken.
      const entry = await trx.selectFrom('register_entries').select('id').where('event_id', '=', id).limit(1).executeTakeFirst()
      const registerTaken = event.register_taken_at !== null || entry !== undefined
      const already = new Set(
        (
          await trx
            .selectFrom('event_reminders')
            .select('recipient_id')
            .where('event_id', '=', id)
            .where('kind', '=', 'register-not-taken')
            .execute()
        ).map((r) => r.recipient_id),
      )
      const facts = { endsAt: event.ends_at, status: event.status, registerTaken }
      if (!registerReminderDue({ ...facts, alreadySent: false }, now)) return 0
      const title = eventTitle(event)
      let n = 0
      for (const user of await registerRecipients(trx, event)) {
        if (!registerReminderDue({ ...facts, alreadySent: already.has(user.id) }, now)) continue
        const claimed = await trx
          .insertInto('event_reminders')
          .values({ event_id: id, recipient_id: user.id, kind: 'register-not-taken', sent_at: now })
          .onConflict((oc) => oc.doNothing())
          .returning('recipient_id')
          .executeTakeFirst()
        if (!claimed) continue
        const body = [
          `Hello ${user.full_name},`,
          `The register for ${title} (${formatSpan(event.starts_at, event.ends_at)}) has not been taken yet.`,
          event.deliveryPartner ? `Delivery partner: ${event.deliveryPartner.name}` : `Run by: ${event.leadProvider.name}`,
          `Take the register: ${config.baseUrl}${registerPath(id)}`,
          `Registers lock ${REGISTER_REMINDER_DAYS} days after the event. After that, only a delivery partner lead can change them.`,
        ].join('\n\n')
        await email.queue(trx, { to: user.email, subject: `Register not taken: ${title}`, body: `${body}\n` })
        n++
      }
      return n
    })
  }
  if (sent) deps.logger.info({ sent }, 'register reminders sent')
  return sent
}

/** The cron jobs, every 15 minutes (Europe/London). */
export function reminderJobDefinitions(deps: ReminderDeps): JobDefinition[] {
  return [
    defineJob({
      name: 'event-reminders',
      schema: z.object({}),
      retryLimit: 2,
      retryDelay: 60,
      schedule: '*/15 * * * *',
      handler: async () => {
        await sendBookingReminders(deps, new Date())
      },
    }),
    defineJob({
      name: 'register-reminders',
      schema: z.object({}),
      retryLimit: 2,
      retryDelay: 60,
      schedule: '7,22,37,52 * * * *',
      handler: async () => {
        await sendRegisterReminders(deps, new Date())
      },
    }),
  ]
}
