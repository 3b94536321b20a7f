import { PgBoss, fromKysely, type JobResult } from 'pg-boss'
import type { z } from 'zod'
import type { Db, Trx } from '../db/database.ts'
import type { Logger } from '../logging.ts'

// Durable background jobs on pg-boss: they live in the database, survive restarts and retry with
// backoff. A job is typed data: a name, the schema of its payload, retry settings and a handler.

export type JobDefinition<S extends z.ZodType = z.ZodType> = {
  name: string
  schema: S
  retryLimit: number
  /** Seconds before the first retry; later retries back off exponentially. */
  retryDelay: number
  /** Cron expression (Europe/London) for scheduled sweeps. */
  schedule?: string
  handler: (data: z.infer<S>) => Promise<void>
}

export function defineJob<S extends z.ZodType>(definition: JobDefinition<S>): JobDefinition<S> {
  return definition
}

export interface JobSender {
  /** Queues a job; given a transaction, the job exists only if the transaction commits. */
  send(name: string, data: object, trx?: Trx | Db): Promise<void>
}

// Several processes may share one database (docs/DEPLOYMENT.md): pg-boss hands each job to one worker
// (SKIP LOCKED), and its cron pass is claimed by one instance per interval and files each occurrence
// under a singleton key, so a scheduled job runs once per tick however many processes run the cron.

/** Jobs a worker takes from a queue at once. */
const BATCH = 10

export type JobQueueOptions = {
  /**
   * Run pg-boss's cron pass and maintenance in this process (default). Web-only processes
   * (NPQ_PROCESS=web) leave both to the worker and only queue jobs.
   */
  background?: boolean
}

export class JobQueue implements JobSender {
  private readonly boss: PgBoss
  private readonly logger: Logger
  private readonly background: boolean
  private started = false

  constructor(connectionString: string, logger: Logger, options: JobQueueOptions = {}) {
    this.logger = logger
    this.background = options.background ?? true
    this.boss = new PgBoss({
      connectionString,
      max: 3,
      schema: 'pgboss',
      schedule: this.background,
      supervise: this.background,
    })
    this.boss.on('error', (error) => this.logger.error({ err: error }, 'job queue error'))
  }

  /** Creates the queues and schedules; with `work`, this process also runs the handlers. */
  async start(definitions: JobDefinition[], options: { work: boolean }): Promise<void> {
    await this.boss.start()
    this.started = true
    for (const job of definitions) {
      await this.boss.createQueue(job.name, {
        retryLimit: job.retryLimit,
        retryDelay: job.retryDelay,
        retryBackoff: true,
        retryDelayMax: 3600,
      })
      if (job.schedule && this.background) await this.boss.schedule(job.name, job.schedule, {}, { tz: 'Europe/London' })
      if (options.work) {
        // Up to BATCH jobs per fetch, run one after another, each completed or failed on its own. While
        // fetches come back full the worker fetches again at once; pg-boss otherwise waits its polling
        // interval (2 s) after every fetch, which with one job a fetch capped a queue at 0.5 jobs a
        // second per process (measured: 200 emails took 100 s with two workers; docs/DEPLOYMENT.md).
        await this.boss.work(job.name, { batchSize: BATCH, burstWhenBatchFull: true, perJobResults: true }, async (items) => {
          const results: JobResult[] = []
          for (const item of items) {
            try {
              await job.handler(job.schema.parse(item.data))
              this.logger.debug({ job: job.name, jobId: item.id }, 'job done')
              results.push({ id: item.id, status: 'completed' })
            } catch (error) {
              this.logger.warn({ err: error, job: job.name, jobId: item.id }, 'job failed; it will be retried')
              const message = error instanceof Error ? error.message : String(error)
              results.push({ id: item.id, status: 'failed', output: { message } })
            }
          }
          return results
        })
      }
    }
  }

  async send(name: string, data: object, trx?: Trx | Db): Promise<void> {
    if (!this.started) throw new Error('The job queue is not started')
    await this.boss.send(name, data, trx ? { db: fromKysely(trx) } : {})
  }

  async stop(): Promise<void> {
    if (this.started) await this.boss.stop({ graceful: true, timeout: 5000 })
    this.started = false
  }
}
