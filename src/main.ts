import { CatalogueError } from './catalogue/load.ts'
import { ConfigError, loadConfig } from './config.ts'
import { DatabaseInUseError } from './db/database.ts'
import { loadDemoData } from './demo/demo.ts'
import { escalationCasesJobName } from './escalations/open-cases.ts'
import { buildApp } from './routes.ts'
import { createServices } from './services.ts'

// `npm start`: the platform on http://localhost:3000, its database migrated, demo data on first start.

async function main() {
  const config = loadConfig()
  const services = await createServices({ config, owner: 'server', work: true })
  const { logger } = services
  logger.info({ database: services.database.description }, 'database ready')

  if (!config.isProduction) {
    const empty = (await services.db.selectFrom('organisations').select('id').limit(1).execute()).length === 0
    if (empty) {
      const result = await loadDemoData(services, { progress: (line) => logger.info(line) })
      if (result.generatedPassword) {
        process.stderr.write(
          `\nDemo accounts created (development only). Password for every demo account: ${result.generatedPassword}\n` +
            `It is shown once. Set NPQ_DEMO_PASSWORD and run \`npx npq demo\` to choose your own.\n\n`,
        )
      }
    }
  }

  // Cron does not run what was missed while the server was down: catch up on escalations now (the job
  // is idempotent: it opens only the cases not yet open and emails only stage changes).
  await services.jobs.send(escalationCasesJobName, {})

  const app = await buildApp(services)
  await app.listen({ port: config.port, host: process.env.HOST ?? '0.0.0.0' })
  process.stderr.write(`NPQ delivery platform running at ${config.baseUrl}\n`)

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

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof DatabaseInUseError || error instanceof CatalogueError) {
    process.stderr.write(`${error.message}\n`)
  } else {
    process.stderr.write(`Could not start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
  }
  process.exit(1)
})
