import { z } from 'zod'
import { Accounts } from './accounts/accounts.ts'
import { deleteExpiredSessions } from './accounts/sessions.ts'
import { addFoundationOperations } from './api/operations.ts'
import { applicationJobDefinitions } from './applications/applications.ts'
import { ApiRegistry } from './api/registry.ts'
import { addCatalogueOperations } from './catalogue/api.ts'
import { reminderJobDefinitions } from './calendar/reminders.ts'
import { BlockWindows } from './catalogue/block-windows.ts'
import { Catalogue } from './catalogue/catalogue.ts'
import { DesignVersions } from './catalogue/versions.ts'
import type { Config } from './config.ts'
import { openDatabase, openReplica } from './db/database.ts'
import { migrateToLatest } from './db/migrate.ts'
import { DfeSync } from './dfe/sync.ts'
import { EmailOutbox } from './email/outbox.ts'
import { addEventOperations } from './events/api.ts'
import { escalationJobDefinitions } from './escalations/open-cases.ts'
import { createTransport } from './email/transports.ts'
import { defineJob, JobQueue } from './jobs/queue.ts'
import { addLearningRecordOperations } from './learning/api.ts'
import { createLogger, type Logger } from './logging.ts'
import { lifecycleJobDefinitions } from './lifecycle/jobs.ts'
import { assessmentJobDefinitions } from './assessment/jobs.ts'
import { privacyJobDefinitions } from './privacy/jobs.ts'
import { figureJobDefinitions } from './dashboards/figure-store.ts'

// The composition root: data access first, then services built on it, then (in main.ts) the app.
// `Services` is what routes and commands receive, so tests can build it against any database.

export type ServiceOptions = {
  config: Config
  /** 'server' owns the embedded database; 'cli' goes through a running server when there is one. */
  owner: 'server' | 'cli'
  /** Run job handlers in this process (the server does; a CLI command only queues jobs). */
  work: boolean
  /** Run the job queue's cron pass and maintenance here (default true; false in web-only processes). */
  background?: boolean
  logger?: Logger
  /** Overrides the data directory, e.g. 'memory://' in tests. */
  dataDir?: string
}

export async function createServices(options: ServiceOptions) {
  const { config } = options
  // The catalogue is checked before anything else: the platform does not start on a bad one.
  const catalogue = Catalogue.load()
  const logger = options.logger ?? createLogger(config.logLevel)
  const database = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: options.dataDir ?? config.dataDir,
    owner: options.owner,
  })
  try {
    await migrateToLatest(database.db)
    const db = database.db
    const jobs = new JobQueue(database.connectionString, logger, { background: options.background ?? true })
    const email = new EmailOutbox(db, jobs, createTransport(config.email), logger)
    const accounts = new Accounts(db, email, config)
    const designs = new DesignVersions(db, catalogue)
    await designs.syncFromFiles({ kind: 'system', name: 'catalogue-sync' })
    const blockWindows = new BlockWindows(db, catalogue, designs)
    const api = new ApiRegistry()
    addFoundationOperations(api, db)
    addCatalogueOperations(api, db, catalogue, designs)
    addLearningRecordOperations(api, { db, designs, catalogue })
    addEventOperations(api, { db, designs, catalogue, email, config })

    const dfe = new DfeSync(db, config.dfe, logger)
    const jobDefinitions = [
      ...email.jobDefinitions(),
      ...dfe.jobDefinitions(),
      ...reminderJobDefinitions({ db, config, email, logger }),
      ...escalationJobDefinitions({ db, catalogue, designs, email, config, logger }),
      ...applicationJobDefinitions({ db, email, config, catalogue, jobs, logger }),
      ...lifecycleJobDefinitions({ db, email, config, jobs, catalogue }),
      ...assessmentJobDefinitions({ db, email, config, catalogue, designs }),
      ...privacyJobDefinitions({ db, catalogue, logger }),
      ...figureJobDefinitions(() => services),
      defineJob({
        name: 'session-sweep',
        schema: z.object({}),
        retryLimit: 2,
        retryDelay: 60,
        schedule: '17 3 * * *',
        handler: () => deleteExpiredSessions(db),
      }),
    ]

    // Long reads that may lag a moment (the figures job's sweep, reports counted on request, `npq
    // report`) go to the replica when there is one; everything else, and every write, to the primary.
    const replica = config.databaseReplicaUrl ? openReplica(config.databaseReplicaUrl) : null
    const services = {
      config,
      logger,
      catalogue,
      designs,
      blockWindows,
      database,
      db,
      readDb: replica?.db ?? db,
      jobs,
      email,
      accounts,
      api,
      dfe,
      async close() {
        await jobs.stop()
        await replica?.close()
        await database.close()
      },
    }
    // Started once `services` exists: a handler may run at once and some need all of it.
    await jobs.start(jobDefinitions, { work: options.work })
    return services
  } catch (error) {
    await database.close()
    throw error
  }
}

export type Services = Awaited<ReturnType<typeof createServices>>
