import Fastify, { type FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { CatalogueError } from './catalogue/load.ts'
import { ConfigError, loadConfig } from './config.ts'
import { DatabaseInUseError } from './db/database.ts'
import { loadDemoData } from './demo/demo.ts'
import { escalationCasesJobName } from './escalations/open-cases.ts'
import { buildApp } from './routes.ts'
import { createServices, type Services } from './services.ts'
import { registerHealthRoutes } from './web/health.ts'

// `npm start`: the platform on http://localhost:3000, its database migrated, demo data on first start.
// NPQ_PROCESS chooses what this process does (docs/DEPLOYMENT.md): `all` (the default) serves the web
// and runs every job; `web` serves the web and only queues jobs; `worker` (`npm run worker`) runs the
// jobs and the cron schedules and serves only /health. Any number of each may share one PostgreSQL.

async function main() {
  const config = loadConfig()
  const role = config.processRole
  const runsJobs = role !== 'web'
  const services = await createServices({ config, owner: 'server', work: runsJobs, background: runsJobs })
  const { logger } = services
  logger.info({ database: services.database.description, process: role }, 'database ready')

  if (!config.isProduction) await loadDemoDataOnFirstStart(services)

  // Cron does not run what was missed while no worker was running: catch up on escalations now (the
  // job is idempotent: it opens only the cases not yet open and emails only stage changes).
  if (runsJobs) await services.jobs.send(escalationCasesJobName, {})

  const app = role === 'worker' ? healthOnly(services) : await buildApp(services)
  await app.listen({ port: config.port, host: process.env.HOST ?? '0.0.0.0' })
  process.stderr.write(
    role === 'worker'
      ? `NPQ worker running (health at http://localhost:${config.port}/health)\n`
      : `NPQ delivery platform running at ${config.baseUrl}${role === 'web' ? ' (web only: jobs run in the worker)' : ''}\n`,
  )

  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    logger.info({ signal }, 'stopping')
    await app.close()
    await services.close()
    process.exit(0)
  }
  process.on('SIGINT', () => void stop('SIGINT'))
  process.on('SIGTERM', () => void stop('SIGTERM'))
}

/**
 * Development only: an empty database gets the demo data. Processes started together on one
 * PostgreSQL take turns under an advisory lock, so only the first loads it.
 */
async function loadDemoDataOnFirstStart(services: Services): Promise<void> {
  const { db, logger } = services
  const load = async () => {
    const empty = (await db.selectFrom('organisations').select('id').limit(1).execute()).length === 0
    if (!empty) return
    const result = await loadDemoData(services, { progress: (line) => logger.info(line) })
    if (result.generatedPassword) {
      process.stderr.write(
        `\nDemo accounts created (development only). Password for every demo account: ${result.generatedPassword}\n` +
          `It is shown once. Set NPQ_DEMO_PASSWORD and run \`npx npq demo\` to choose your own.\n\n`,
      )
    }
  }
  // The embedded database has one process by construction (and serves one connection at a time).
  if (services.database.kind !== 'postgres') return load()
  await db.connection().execute(async (connection) => {
    await sql`select pg_advisory_lock(hashtext('npq-demo-data'))`.execute(connection)
    try {
      await load()
    } finally {
      await sql`select pg_advisory_unlock(hashtext('npq-demo-data'))`.execute(connection)
    }
  })
}

/** A worker answers load balancers and orchestrators on /health, and nothing else. */
function healthOnly(services: Services): FastifyInstance {
  const app = Fastify({ logger: false })
  registerHealthRoutes(app, services)
  return app
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DatabaseInUseError || error instanceof CatalogueError) {
    process.stderr.write(`${error.message}\n`)
  } else {
    process.stderr.write(`Could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  }
  process.exit(1)
})
