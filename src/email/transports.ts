import nodemailer from 'nodemailer'
import { NotifyClient } from 'notifications-node-client'
import type { Config } from '../config.ts'

import type { EmailAttachment } from '../db/schema.ts'

export type OutgoingEmail = { to: string; subject: string; body: string; attachments?: EmailAttachment[] }

/** Delivers one email; returns the provider's reference. Throws on failure (the job retries). */
export type EmailTransport = { name: string; deliver(email: OutgoingEmail): Promise<string> }

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
            personalisation: { subject: email.subject, body: email.body },
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
