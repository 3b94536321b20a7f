import ICAL from 'ical.js'
import { bookEvent } from '../events/booking.ts'
import { scheduleEvents, type EventInput } from '../events/scheduling.ts'
import { importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { organisation, person, systemPrincipal as by } from '../test-support/fixtures.ts'
import type { TestServices } from '../test-support/services.ts'

// Data for the calendar and reminder tests: a lead provider, a delivery partner, participants (Ana and
// Cat with accounts, Ben without), a facilitator and a lead; and an independent iCalendar reader.

export const ids = {
  ana: '00000000-0000-4000-8000-0000000000d1',
  ben: '00000000-0000-4000-8000-0000000000d2',
  cat: '00000000-0000-4000-8000-0000000000d3',
}

export type CalendarWorld = {
  edt: string
  northStar: string
  users: { ana: string; cat: string; fay: string; lee: string; admin: string }
  input(overrides?: Partial<EventInput>): EventInput
  schedule(i: EventInput): Promise<string>
  book(eventId: string, participantId: string, now: Date): Promise<void>
  lastEmailTo(address: string): Promise<{ subject: string; body: string; attachments: { content: string; contentType: string }[] | null }>
}

export const password = 'a long test password'

export async function calendarWorld(services: TestServices): Promise<CalendarWorld> {
  const edt = await organisation(services.db, 'lead-provider', 'edt', 'Education Development Trust')
  const run = (kind: string, text: string) => importFile(services, importers[kind]!, text, by)
  await run('delivery-partners', 'delivery_partner_id,name,lead_provider\nnorth-star,North Star TSH,edt\n')
  const northStar = (await services.db.selectFrom('organisations').select('id').where('code', '=', 'north-star').executeTakeFirstOrThrow())
    .id
  const header =
    'participant_id,full_name,email,trn,lead_provider,delivery_partner,course_identifier,cohort,school_urn,school_contract_signed,sponsorship_agreement_signed'
  const row = (id: string, name: string, trn: string) =>
    `${id},${name},${name.toLowerCase()}@school.test,${trn},edt,north-star,npq-leading-teaching,2022-autumn,100001,yes,yes`
  await run(
    'participants',
    [header, row(ids.ana, 'Ana', '2000001'), row(ids.ben, 'Ben', '2000002'), row(ids.cat, 'Cat', '2000003')].join('\n'),
  )
  const users = {
    ana: await person(services, 'ana@school.test', 'participant', northStar, password),
    cat: await person(services, 'cat@school.test', 'participant', northStar, password),
    fay: await person(services, 'fay@hub.test', 'facilitator', northStar, password),
    lee: await person(services, 'lee@hub.test', 'delivery-partner-lead', northStar, password),
    admin: await person(services, 'admin@edt.test', 'lead-provider-admin', edt, password),
  }
  await services.db.updateTable('participants').set({ user_id: users.ana }).where('id', '=', ids.ana).execute()
  await services.db.updateTable('participants').set({ user_id: users.cat }).where('id', '=', ids.cat).execute()

  const input = (overrides: Partial<EventInput> = {}): EventInput => ({
    leadProviderId: edt,
    deliveryPartnerId: northStar,
    courseIdentifier: 'npq-leading-teaching',
    cohort: '2022-autumn',
    kind: 'f2f',
    activityCode: 'NPQLT-B1-F2F',
    title: 'Block 1 face-to-face',
    description: null,
    startsAt: new Date('2022-11-15T09:30:00Z'),
    endsAt: new Date('2022-11-15T16:00:00Z'),
    venue: 'North Star TSH, 1 High Street',
    joiningLink: null,
    capacity: 10,
    bookingOpensAt: null,
    bookingClosesAt: null,
    cancelBy: null,
    reminderDaysBefore: null,
    facilitatorUserIds: [users.fay],
    sharedWithPartnerIds: [],
    ...overrides,
  })
  return {
    edt,
    northStar,
    users,
    input,
    async schedule(i) {
      const [id] = await services.db.transaction().execute((trx) => scheduleEvents(trx, services, by, [i]))
      return id!
    },
    async book(eventId, participantId, now) {
      await services.db.transaction().execute((trx) => bookEvent(trx, services, by, eventId, participantId, { now }))
    },
    lastEmailTo: (address) =>
      services.db
        .selectFrom('email_outbox')
        .select(['subject', 'body', 'attachments'])
        .where('to_address', '=', address)
        .orderBy('created_at', 'desc')
        .limit(1)
        .executeTakeFirstOrThrow(),
  }
}

export type ParsedEvent = { uid: string; summary: string; start: Date; end: Date; status: string | null; location: string | null }

/** Reads iCalendar text with ical.js (never with the library that wrote it). */
export function readCalendar(text: string): { method: string | null; name: string | null; events: ParsedEvent[] } {
  const calendar = new ICAL.Component(ICAL.parse(text))
  const value = (c: InstanceType<typeof ICAL.Component>, name: string) => {
    const v = c.getFirstPropertyValue(name)
    return v === null || v === undefined ? null : String(v)
  }
  return {
    method: value(calendar, 'method'),
    name: value(calendar, 'x-wr-calname'),
    events: calendar.getAllSubcomponents('vevent').map((vevent) => {
      const e = new ICAL.Event(vevent)
      return {
        uid: e.uid,
        summary: e.summary,
        start: e.startDate.toJSDate(),
        end: e.endDate.toJSDate(),
        status: value(vevent, 'status'),
        location: e.location ?? null,
      }
    }),
  }
}
