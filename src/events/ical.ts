import ical, { ICalCalendarMethod, ICalEventStatus } from 'ical-generator'
import { eventTitle, type EventDetails } from './events.ts'

// iCalendar for events: one invitation (.ics attached to booking emails: REQUEST, or CANCEL when the
// booking or the event is cancelled) and each user's feed of their events. The UID is the event's id,
// so calendar programs update the same entry when the event moves and remove it when cancelled.

type CalendarEvent = Pick<
  EventDetails,
  'id' | 'title' | 'kind' | 'activity_code' | 'description' | 'starts_at' | 'ends_at' | 'venue' | 'joining_link' | 'status' | 'updated_at'
> & { deliveryPartner: { name: string } | null; leadProvider: { name: string } }

const productId = { company: 'NPQ delivery platform', product: 'events', language: 'EN' }

function addEvent(calendar: ReturnType<typeof ical>, e: CalendarEvent, cancelled: boolean, baseUrl: string, path: string) {
  const details = [e.description?.trim(), e.joining_link ? `Join online: ${e.joining_link}` : null, `Details: ${baseUrl}${path}`]
  calendar.createEvent({
    id: `${e.id}@npq-platform`,
    start: new Date(e.starts_at),
    end: new Date(e.ends_at),
    summary: eventTitle(e),
    description: details.filter(Boolean).join('\n\n'),
    location: e.venue ?? e.joining_link ?? null,
    url: e.joining_link ?? null,
    organizer: { name: e.deliveryPartner?.name ?? e.leadProvider.name, email: 'no-reply@npq-platform.invalid' },
    status: cancelled || e.status === 'cancelled' ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
    lastModified: new Date(e.updated_at),
    stamp: new Date(e.updated_at),
  })
}

/** An invitation for one event: REQUEST to add or update it, CANCEL to remove it. */
export function eventInvitation(e: CalendarEvent, method: 'request' | 'cancel', baseUrl: string, path: string): string {
  const calendar = ical({ prodId: productId, method: method === 'cancel' ? ICalCalendarMethod.CANCEL : ICalCalendarMethod.REQUEST })
  addEvent(calendar, e, method === 'cancel', baseUrl, path)
  return calendar.toString()
}

/** A person's calendar feed: the events they are booked on, facilitate or run. */
export function calendarFeed(name: string, events: { event: CalendarEvent; path: string }[], baseUrl: string): string {
  // Times are written in UTC: every calendar program reads them, with no time-zone definitions needed.
  const calendar = ical({ prodId: productId, name, ttl: 60 * 60 })
  for (const { event, path } of events) addEvent(calendar, event, false, baseUrl, path)
  return calendar.toString()
}
