import type { Trx } from '../db/database.ts'
import type { Services } from '../services.ts'
import { eventTitle, type EventDetails } from './events.ts'
import { eventInvitation } from './ical.ts'
import { formatMoment, formatSpan } from './times.ts'

// The emails events send to participants, each written in the transaction of the change that causes
// it (through the outbox), with an .ics invitation so the participant's calendar follows along.

export type EventEmailKind = 'booked' | 'waiting' | 'promoted' | 'booking-cancelled' | 'event-changed' | 'event-cancelled' | 'reminder'

/** Where a participant sees the event. */
export const participantEventPath = (eventId: string) => `/participant/events/${eventId}`

/** Needs only the configuration and the outbox, so scheduled jobs can send it before all services exist. */
export async function sendEventEmail(
  trx: Trx,
  services: Pick<Services, 'config' | 'email'>,
  kind: EventEmailKind,
  event: EventDetails,
  participantId: string,
) {
  const participant = await trx
    .selectFrom('participants')
    .select(['full_name', 'email'])
    .where('id', '=', participantId)
    .executeTakeFirstOrThrow()
  const title = eventTitle(event)
  const when = formatSpan(event.starts_at, event.ends_at)
  const where = event.venue ? `Venue: ${event.venue}` : event.joining_link ? `Join online: ${event.joining_link}` : ''
  const link = `${services.config.baseUrl}${participantEventPath(event.id)}`
  const cut = event.cancel_by ?? event.starts_at
  const texts: Record<EventEmailKind, { subject: string; lines: string[]; ics: 'request' | 'cancel' | null }> = {
    booked: {
      subject: `Booking confirmed: ${title}`,
      lines: [`You are booked on ${title}.`, when, where, `You can cancel until ${formatMoment(cut)}.`],
      ics: 'request',
    },
    waiting: {
      subject: `You are on the waiting list: ${title}`,
      lines: [`${title} is full, so you are on its waiting list.`, when, `If a place comes free, it is yours and we will email you.`],
      ics: null,
    },
    promoted: {
      subject: `A place has come free: you are booked on ${title}`,
      lines: [
        `A place came free on ${title} and you were first on the waiting list, so you are now booked.`,
        when,
        where,
        `If you cannot go, cancel by ${formatMoment(cut)} so the place goes to someone else.`,
      ],
      ics: 'request',
    },
    'booking-cancelled': {
      subject: `Booking cancelled: ${title}`,
      lines: [`Your booking on ${title} (${when}) is cancelled.`],
      ics: 'cancel',
    },
    'event-changed': {
      subject: `Event changed: ${title}`,
      lines: [`${title} has changed. It is now:`, when, where],
      ics: 'request',
    },
    'event-cancelled': {
      subject: `Event cancelled: ${title}`,
      lines: [
        `${title} (${when}) has been cancelled.`,
        event.cancelled_reason ? `Reason: ${event.cancelled_reason}` : '',
        'Your delivery partner will tell you about other dates.',
      ],
      ics: 'cancel',
    },
    reminder: {
      subject: `Reminder: ${title}`,
      lines: [`This is a reminder that you are booked on ${title}.`, when, where],
      ics: 'request',
    },
  }
  const text = texts[kind]
  const body = [`Hello ${participant.full_name},`, ...text.lines.filter(Boolean), `Details: ${link}`].join('\n\n') + '\n'
  await services.email.queue(trx, {
    to: participant.email,
    subject: text.subject,
    body,
    attachments: text.ics
      ? [
          {
            filename: 'event.ics',
            contentType: `text/calendar; charset=utf-8; method=${text.ics.toUpperCase()}`,
            content: eventInvitation(event, text.ics, services.config.baseUrl, participantEventPath(event.id)),
          },
        ]
      : undefined,
  })
}
