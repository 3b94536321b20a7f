import { sql } from 'kysely'
import { z } from 'zod'
import type { Db, Trx } from '../db/database.ts'
import { defineJob, type JobDefinition, type JobSender } from '../jobs/queue.ts'
import type { Logger } from '../logging.ts'
import type { EmailTransport, OutgoingEmail } from './transports.ts'

// Email goes through an outbox table: the message is written in the same transaction as the change
// that causes it, and a job delivers it. A failed delivery is retried with backoff by the job queue.

const MAX_ATTEMPTS = 10
const CLAIM_TIMEOUT = '10 minutes'

export class EmailOutbox {
  private readonly db: Db
  private readonly jobs: JobSender
  private readonly transport: EmailTransport
  private readonly logger: Logger

  constructor(db: Db, jobs: JobSender, transport: EmailTransport, logger: Logger) {
    this.db = db
    this.jobs = jobs
    this.transport = transport
    this.logger = logger
  }

  /** Writes the email and its delivery job inside the caller's transaction. */
  async queue(trx: Trx, email: OutgoingEmail): Promise<string> {
    const row = await trx
      .insertInto('email_outbox')
      .values({
        to_address: email.to.toLowerCase(),
        subject: email.subject,
        body: email.body,
        attachments: email.attachments?.length ? JSON.stringify(email.attachments) : null,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await this.jobs.send(sendEmailJobName, { emailId: row.id }, trx)
    return row.id
  }

  /** Delivers one queued email. Safe to run twice at once: only one claim succeeds. */
  async deliver(emailId: string): Promise<void> {
    const claimed = await this.db
      .updateTable('email_outbox')
      .set({ status: 'sending', claimed_at: new Date(), attempts: sql`attempts + 1` })
      .where('id', '=', emailId)
      .where((eb) =>
        eb.or([
          eb('status', '=', 'queued'),
          eb.and([eb('status', '=', 'sending'), eb('claimed_at', '<', sql<Date>`now() - ${CLAIM_TIMEOUT}::interval`)]),
        ]),
      )
      .returningAll()
      .executeTakeFirst()
    if (!claimed) return
    try {
      const reference = await this.transport.deliver({
        to: claimed.to_address,
        subject: claimed.subject,
        body: claimed.body,
        attachments: claimed.attachments ?? undefined,
      })
      await this.db
        .updateTable('email_outbox')
        .set({ status: 'sent', sent_at: new Date(), provider_reference: reference, last_error: null })
        .where('id', '=', emailId)
        .execute()
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error)
      const giveUp = claimed.attempts >= MAX_ATTEMPTS
      await this.db
        .updateTable('email_outbox')
        .set({ status: giveUp ? 'failed' : 'queued', last_error: message.slice(0, 1000) })
        .where('id', '=', emailId)
        .execute()
      this.logger.warn({ emailId, attempts: claimed.attempts, giveUp }, 'email delivery failed')
      if (!giveUp) throw error
    }
  }

  /** Re-queues emails whose job was lost (for example, a crash between claim and send). */
  async sweep(): Promise<number> {
    const stuck = await this.db
      .selectFrom('email_outbox')
      .select('id')
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'queued'), eb('created_at', '<', sql<Date>`now() - interval '15 minutes'`)]),
          eb.and([eb('status', '=', 'sending'), eb('claimed_at', '<', sql<Date>`now() - ${CLAIM_TIMEOUT}::interval`)]),
        ]),
      )
      .limit(500)
      .execute()
    for (const { id } of stuck) await this.jobs.send(sendEmailJobName, { emailId: id })
    return stuck.length
  }

  jobDefinitions(): JobDefinition[] {
    return [
      defineJob({
        name: sendEmailJobName,
        schema: z.object({ emailId: z.uuid() }),
        retryLimit: MAX_ATTEMPTS,
        retryDelay: 30,
        handler: ({ emailId }) => this.deliver(emailId),
      }),
      defineJob({
        name: 'email-outbox-sweep',
        schema: z.object({}),
        retryLimit: 2,
        retryDelay: 60,
        schedule: '*/10 * * * *',
        handler: async () => {
          await this.sweep()
        },
      }),
    ]
  }
}

export const sendEmailJobName = 'send-email'
