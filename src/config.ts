import path from 'node:path'
import { z } from 'zod'

// One place for every setting. A missing or bad setting stops the process with one line naming it.

const optionalUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .pipe(z.url().optional())

const schema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: optionalUrl.optional(),
  DATABASE_REPLICA_URL: optionalUrl.optional(),
  NPQ_DATA_DIR: z.string().min(1).default('./data'),
  NPQ_DEMO_PASSWORD: z.string().min(8, 'must be at least 8 characters').optional(),
  NPQ_BASE_URL: optionalUrl.optional(),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  EMAIL_TRANSPORT: z.enum(['outbox', 'notify', 'smtp']).default('outbox'),
  NOTIFY_API_KEY: z.string().optional(),
  NOTIFY_TEMPLATE_ID: z.string().optional(),
  SMTP_URL: optionalUrl.optional(),
  EMAIL_FROM: z.string().default('NPQ platform <no-reply@npq.localhost>'),
  DFE_API_URL: optionalUrl.optional(),
  DFE_API_TOKEN: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  EVENT_REMINDER_DAYS: z.coerce.number().int().min(0).max(60).default(2),
  NPQ_PROCESS: z.enum(['all', 'web', 'worker']).default('all'),
})

export type Config = {
  env: 'development' | 'production' | 'test'
  isProduction: boolean
  port: number
  databaseUrl: string | undefined
  /** A read replica of DATABASE_URL for the figures job and reports counted on request (docs/DEPLOYMENT.md). */
  databaseReplicaUrl: string | undefined
  dataDir: string
  demoPassword: string | undefined
  baseUrl: string
  sessionSecret: string | undefined
  email: {
    transport: 'outbox' | 'notify' | 'smtp'
    notifyApiKey: string | undefined
    notifyTemplateId: string | undefined
    smtpUrl: string | undefined
    from: string
  }
  /** DfE Lead Provider API v3: base URL (…/api/v3) and bearer token; null when unset, and DfE sync is off. */
  dfe: { url: string; token: string } | null
  logLevel: string
  /** Days before an event its booking reminder goes, when the event does not say (events.reminder_days_before). */
  eventReminderDays: number
  /**
   * What this process does: `all` serves the web and runs the jobs (one process, `npm start`); `web`
   * serves the web and only queues jobs; `worker` runs the jobs and the cron schedules and serves only
   * `/health` (`npm run worker`). Several processes need PostgreSQL (docs/DEPLOYMENT.md).
   */
  processRole: 'all' | 'web' | 'worker'
}

export class ConfigError extends Error {}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse(env)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!
    throw new ConfigError(`Configuration error: ${String(issue.path[0])} ${issue.message}`)
  }
  const c = parsed.data
  const isProduction = c.NODE_ENV === 'production'
  if (isProduction && !c.SESSION_SECRET) {
    throw new ConfigError('Configuration error: SESSION_SECRET is required when NODE_ENV=production')
  }
  if (c.EMAIL_TRANSPORT === 'notify' && (!c.NOTIFY_API_KEY || !c.NOTIFY_TEMPLATE_ID)) {
    throw new ConfigError('Configuration error: NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID are required when EMAIL_TRANSPORT=notify')
  }
  if (c.EMAIL_TRANSPORT === 'smtp' && !c.SMTP_URL) {
    throw new ConfigError('Configuration error: SMTP_URL is required when EMAIL_TRANSPORT=smtp')
  }
  if (Boolean(c.DFE_API_URL) !== Boolean(c.DFE_API_TOKEN)) {
    throw new ConfigError('Configuration error: DFE_API_URL and DFE_API_TOKEN must be set together')
  }
  if (c.DATABASE_REPLICA_URL && !c.DATABASE_URL) {
    throw new ConfigError('Configuration error: DATABASE_REPLICA_URL needs DATABASE_URL (a replica of the embedded database cannot exist)')
  }
  if (c.NPQ_PROCESS !== 'all' && !c.DATABASE_URL) {
    throw new ConfigError(
      `Configuration error: NPQ_PROCESS=${c.NPQ_PROCESS} needs DATABASE_URL (the embedded database allows one process only: unset NPQ_PROCESS)`,
    )
  }
  return {
    env: c.NODE_ENV,
    isProduction,
    port: c.PORT,
    databaseUrl: c.DATABASE_URL,
    databaseReplicaUrl: c.DATABASE_REPLICA_URL,
    dataDir: path.resolve(c.NPQ_DATA_DIR),
    demoPassword: c.NPQ_DEMO_PASSWORD,
    baseUrl: (c.NPQ_BASE_URL ?? `http://localhost:${c.PORT}`).replace(/\/$/, ''),
    sessionSecret: c.SESSION_SECRET,
    email: {
      transport: c.EMAIL_TRANSPORT,
      notifyApiKey: c.NOTIFY_API_KEY,
      notifyTemplateId: c.NOTIFY_TEMPLATE_ID,
      smtpUrl: c.SMTP_URL,
      from: c.EMAIL_FROM,
    },
    dfe: c.DFE_API_URL && c.DFE_API_TOKEN ? { url: c.DFE_API_URL.replace(/\/+$/, ''), token: c.DFE_API_TOKEN } : null,
    logLevel: c.LOG_LEVEL,
    eventReminderDays: c.EVENT_REMINDER_DAYS,
    processRole: c.NPQ_PROCESS,
  }
}
