import { PgBoss, fromKysely, type Job } from 'pg-boss'
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

/** How long a worker waits before looking at an empty queue again (pg-boss's own default). */
const POLL_MS = 2000

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
  private stopping = false
  private readonly loops: Promise<void>[] = []
  private readonly wakers = new Set<() => void>()

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
      if (options.work) this.loops.push(this.workLoop(job))
    }
  }

  /**
   * Runs a queue's jobs in this process, one at a time: fetch one, run it, complete or fail it (pg-boss
   * retries a failed one with backoff), and fetch the next at once; wait POLL_MS only when the queue is
   * empty. (pg-boss's own `work()` waits its polling interval after every fetch, which capped a queue at
   * one job per 2 s per process — 94 of 200 emails sent in 90 s by two workers; fetching a batch instead
   * holds the batch's other jobs for their 15-minute expiry when the process dies: docs/DEPLOYMENT.md.)
   * One job in hand per queue means that a process killed mid-job leaves only that job to expire.
   */
  private async workLoop(job: JobDefinition): Promise<void> {
    while (!this.stopping) {
      let item: Job | undefined
      try {
        ;[item] = await this.boss.fetch(job.name, { batchSize: 1 })
      } catch (error) {
        if (this.stopping) return
        this.logger.error({ err: error, job: job.name }, 'could not fetch a job')
      }
      if (!item) {
        await this.idle(POLL_MS)
        continue
      }
      try {
        await job.handler(job.schema.parse(item.data))
        await this.settle(() => this.boss.complete(job.name, { id: item.id, retryCount: item.retryCount }), job, item)
        this.logger.debug({ job: job.name, jobId: item.id }, 'job done')
      } catch (error) {
        this.logger.warn({ err: error, job: job.name, jobId: item.id }, 'job failed; it will be retried')
        const message = error instanceof Error ? error.message : String(error)
        await this.settle(() => this.boss.fail(job.name, { id: item.id, retryCount: item.retryCount }, { message }), job, item)
      }
    }
  }

  /** Records a job's outcome; if the database is away, the job expires and is retried. */
  private async settle(record: () => Promise<unknown>, job: JobDefinition, item: Job): Promise<void> {
    try {
      await record()
    } catch (error) {
      this.logger.error({ err: error, job: job.name, jobId: item.id }, 'could not record the outcome of a job')
    }
  }

  /** Waits, or less when the queue stops. */
  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer)
        this.wakers.delete(done)
        resolve()
      }
      const timer = setTimeout(done, ms)
      this.wakers.add(done)
    })
  }

  async send(name: string, data: object, trx?: Trx | Db): Promise<void> {
    if (!this.started) throw new Error('The job queue is not started')
    await this.boss.send(name, data, trx ? { db: fromKysely(trx) } : {})
  }

  async stop(): Promise<void> {
    if (!this.started) return
    // Finish the jobs in hand (up to 5 s), then stop pg-boss.
    this.stopping = true
    for (const wake of this.wakers) wake()
    await Promise.race([Promise.all(this.loops), new Promise((resolve) => setTimeout(resolve, 5000))])
    await this.boss.stop({ graceful: true, timeout: 5000 })
    this.started = false
  }
}
