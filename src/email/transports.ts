import nodemailer from 'nodemailer'
import { NotifyClient } from 'notifications-node-client'
import type { Config } from '../config.ts'

import type { EmailAttachment } from '../db/schema.ts'

export type OutgoingEmail = { to: string; subject: string; body: string; attachments?: EmailAttachment[] }

/** Delivers one email; returns the provider's reference. Throws on failure (the job retries). */
export type EmailTransport = { name: string; deliver(email: OutgoingEmail): Promise<string> }

/**
 * GOV.UK Notify cannot attach files: it sends a file only as a download link in a template field
 * (`prepareUpload`), which would need its own template. So an email whose calendar invitation (.ics)
 * cannot travel says where to get the events into a calendar instead: the event's page (the "Details:"
 * link the event emails end with) and the person's private calendar link at /account/calendar.
 */
export function withCalendarNote(email: OutgoingEmail): string {
  if (!email.attachments?.some((a) => a.contentType.startsWith('text/calendar'))) return email.body
  const details = /^Details: (https?:\/\/[^\s/]+)\S*$/m.exec(email.body)
  const calendarPage = details ? `${details[1]}/account/calendar` : 'the Calendar link page of your account'
  return `${email.body.trimEnd()}\n\nTo keep your NPQ events in your calendar app, create your private calendar link at ${calendarPage}\n`
}

export function createTransport(config: Config['email']): EmailTransport {
  switch (config.transport) {
    case 'outbox':
      // Development and tests: the message stays in the outbox, readable at /dev/emails.
      return { name: 'outbox', deliver: async () => 'kept-in-outbox' }
    case 'notify': {
      const client = new NotifyClient(config.notifyApiKey!)
      const templateId = config.notifyTemplateId!
      return {
        name: 'notify',
        // The Notify template is a plain "((subject))" / "((body))" pass-through.
        async deliver(email) {
          const response = await client.sendEmail(templateId, email.to, {
            personalisation: { subject: email.subject, body: withCalendarNote(email) },
          })
          return String((response.data as { id?: string }).id ?? 'notify')
        },
      }
    }
    case 'smtp': {
      const transporter = nodemailer.createTransport(config.smtpUrl!)
      return {
        name: 'smtp',
        async deliver(email) {
          const info = await transporter.sendMail({
            from: config.from,
            to: email.to,
            subject: email.subject,
            text: email.body,
            attachments: email.attachments?.map((a) => ({ filename: a.filename, contentType: a.contentType, content: a.content })),
          })
          return info.messageId
        },
      }
    }
  }
}
