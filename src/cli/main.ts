import fs from 'node:fs'
import pino from 'pino'
import { Command, CommanderError, Option } from 'commander'
import { createApiToken } from '../api/api-tokens.ts'
import { BackupError } from '../backup/archive.ts'
import { backupDatabase, restoreDatabase } from '../backup/backup.ts'
import { catalogueListJson, catalogueShowJson } from '../catalogue/cli-output.ts'
import { cohortPattern, findCourse, type DeclarationType } from '../catalogue/courses.ts'
import { CatalogueError } from '../catalogue/load.ts'
import { ConfigError, loadConfig } from '../config.ts'
import { DatabaseInUseError } from '../db/database.ts'
import { declareOutputs } from '../declarations/declarations.ts'
import { loadDemoData } from '../demo/demo.ts'
import { AppError } from '../errors.ts'
import { formatProblem } from '../imports/csv.ts'
import { calendarDate } from '../imports/fields.ts'
import { ImportError, importFile } from '../imports/import-file.ts'
import { importers } from '../imports/importers.ts'
import { createLogger } from '../logging.ts'
import { findOrganisation } from '../organisations/organisations.ts'
import type { Principal } from '../policy/principal.ts'
import { roleOrganisationKind, roles, type Role } from '../policy/roles.ts'
import { declarationReport, engagementReport, ReportQueryError } from '../reports/engagement-reports.ts'
import { declarationTable, engagementTable, escalationsTable, outputsTable, toCsv, type Table } from '../reports/formats.ts'
import { escalationsReport, outputsReport, type EscalationQuery } from '../outputs/report.ts'
import { anonymiseParticipant, ErasureRefused } from '../privacy/anonymise.ts'
import { exportPersonalData, type SubjectQuery } from '../privacy/personal-data.ts'
import { londonDateOf } from '../dates/london.ts'
import { createServices, type Services } from '../services.ts'
import { progressReporter } from './progress.ts'

// `npx npq <command>` (../shared/INTERFACES.md). Machine output on stdout, messages on stderr.
// Exit codes: 0 success, 1 bad input (naming file, line and column where there is one), 2 usage.

const cli: Principal = { kind: 'system', name: 'cli' }

export class UsageError extends Error {}
export class InputError extends Error {}

async function withServices<T>(work: (services: Services) => Promise<T>): Promise<T> {
  const config = loadConfig()
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', pino.destination(2))
  const services = await createServices({ config, owner: 'cli', work: false, background: false, logger })
  try {
    return await work(services)
  } finally {
    await services.close()
  }
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`)

export function buildProgram(): Command {
  const program = new Command('npq')
    .description('The NPQ delivery platform: database, demo data, accounts, imports, reports and the catalogue')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })

  program
    .command('migrate')
    .description('Apply database migrations (also done at every start)')
    .action(() =>
      withServices(async ({ database }) => {
        process.stderr.write(`Migrations applied (${database.description})\n`)
      }),
    )

  program
    .command('demo')
    .description('Load demo data and one account for every role (development only; idempotent)')
    .option('--quiet', 'no progress output')
    .action((options: { quiet?: boolean }) =>
      withServices(async (services) => {
        const result = await loadDemoData(services, { progress: progressReporter(options.quiet) })
        if (result.generatedPassword) {
          process.stderr.write(`Password for every demo account (shown once): ${result.generatedPassword}\n`)
        } else if (services.config.demoPassword) {
          process.stderr.write('Demo accounts use the password in NPQ_DEMO_PASSWORD.\n')
        }
        print({ created: result.created })
      }),
    )

  program
    .command('backup')
    .description('Copy the embedded database to a .tar.gz file, also while the server runs (PostgreSQL: pg_dump; docs/RELIABILITY.md)')
    .argument('<file>', 'the backup file to write')
    .option('--force', 'replace the file if it exists')
    .option('--quiet', 'no progress output')
    .action(async (file: string, options: { force?: boolean; quiet?: boolean }) => {
      const config = loadConfig()
      const result = await backupDatabase(config, file, { force: options.force, progress: progressReporter(options.quiet) })
      process.stderr.write(`Backed up the embedded database to ${result.file} (${result.bytes} bytes)\n`)
      print(result)
    })

  program
    .command('restore')
    .description('Restore a backup into the embedded database (NPQ_DATA_DIR), with the server stopped (PostgreSQL: pg_restore)')
    .argument('<file>', 'a file written by npq backup')
    .option('--force', 'replace a database that is already there (it is moved aside, not deleted)')
    .option('--quiet', 'no progress output')
    .action(async (file: string, options: { force?: boolean; quiet?: boolean }) => {
      const config = loadConfig()
      const result = await restoreDatabase(config, file, { force: options.force, progress: progressReporter(options.quiet) })
      if (result.moved_aside) process.stderr.write(`The database that was there is kept in ${result.moved_aside}\n`)
      process.stderr.write(
        `Restored ${result.file} into ${result.data_dir}` +
          (result.migrations_pending ? `; ${result.migrations_pending} migration(s) will be applied at the next start` : '') +
          '\n',
      )
      print(result)
    })

  const users = program.command('users').description('Manage accounts')
  users
    .command('create')
    .description('Create an account with a role, or add the role to an existing account. Without a password an invitation email is sent.')
    .requiredOption('--email <email>', 'email address')
    .requiredOption('--name <name>', 'full name')
    .addOption(new Option('--role <role>', 'role').choices(roles).makeOptionMandatory())
    .requiredOption('--organisation <code>', 'organisation code: lead provider (edt), delivery partner id, or school URN')
    .option('--password-stdin', 'read a password from standard input instead of sending an invitation')
    .action((options: { email: string; name: string; role: Role; organisation: string; passwordStdin?: boolean }) =>
      withServices(async (services) => {
        const kind = roleOrganisationKind[options.role]
        const organisation = await findOrganisation(services.db, kind, options.organisation)
        if (!organisation) throw new InputError(`No ${kind.replace('-', ' ')} with code "${options.organisation}" (--organisation)`)
        if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(options.email)) throw new InputError(`"${options.email}" is not an email address (--email)`)
        const input = { email: options.email, fullName: options.name, role: options.role, organisationId: organisation.id }
        if (options.passwordStdin) {
          const password = (await readStdin()).replace(/\r?\n$/, '')
          const userId = await services.accounts.createUser(cli, { ...input, password })
          print({
            user_id: userId,
            email: options.email.toLowerCase(),
            role: options.role,
            organisation: organisation.code,
            invited: false,
          })
        } else {
          const { userId } = await services.accounts.invite(cli, input)
          print({ user_id: userId, email: options.email.toLowerCase(), role: options.role, organisation: organisation.code, invited: true })
        }
      }),
    )

  const tokens = program.command('api-tokens').description('Bearer tokens for lead providers’ integrations')
  tokens
    .command('create')
    .description('Create a token; it is printed once')
    .requiredOption('--lead-provider <code>', 'lead provider code, e.g. edt')
    .requiredOption('--name <name>', 'what uses the token')
    .action((options: { leadProvider: string; name: string }) =>
      withServices(async ({ db }) => {
        const lp = await findOrganisation(db, 'lead-provider', options.leadProvider)
        if (!lp) throw new InputError(`No lead provider with code "${options.leadProvider}" (--lead-provider)`)
        const { id, token } = await createApiToken(db, cli, lp.id, options.name)
        print({ id, lead_provider: lp.code, name: options.name, token })
      }),
    )

  // The public command structure of INTERFACES.md. Each capability registers its kinds and reports
  // as it arrives; until then the command says plainly that the kind is not available yet.
  const importKinds = [
    'delivery-partners',
    'participants',
    'events',
    'attendance',
    'activity',
    'meetings',
    'assessments',
    'deferrals',
    'withdrawals',
  ]
  program
    .command('import')
    .description(`Import a CSV file, whole or not at all. Kinds: ${importKinds.join(', ')}`)
    .argument('<kind>', 'what the file holds')
    .argument('<file>', 'CSV file with a header row')
    .option('--quiet', 'no progress output')
    .action(async (kind: string, file: string, options: { quiet?: boolean }) => {
      if (!importKinds.includes(kind)) throw new UsageError(`Unknown import kind "${kind}". Kinds: ${importKinds.join(', ')}`)
      const importer = importers[kind]
      if (!importer) throw new UsageError(`npq import ${kind} is not available in this version of the platform yet`)
      let text: string
      try {
        text = fs.readFileSync(file, 'utf8')
      } catch {
        throw new InputError(`cannot read ${file}`)
      }
      const progress = progressReporter(options.quiet)
      await withServices(async (services) => {
        progress(`import ${kind}: ${file}`)
        try {
          const result = await importFile(services, importer, text, cli)
          progress(`import ${kind}: done`)
          print(result)
        } catch (error) {
          if (!(error instanceof ImportError)) throw error
          for (const p of error.problems) process.stderr.write(`${formatProblem(file, p)}\n`)
          throw new InputError(error.message)
        }
      })
    })

  const reportNames = ['engagement', 'declaration', 'outputs', 'escalations']
  program
    .command('report')
    .description(`Run a report. Names: ${reportNames.join(', ')}`)
    .argument('<name>', 'which report')
    .option('--lead-provider <code>', 'edt, ucl or ambition')
    .option('--cohort <cohort>', 'e.g. 2022-autumn')
    .option('--course <identifier>', 'a DfE course identifier: only this course')
    .option('--delivery-partner <id>', "only this delivery partner's participants")
    .option('--from <date>', 'declaration: credits earned after this date')
    .option('--as-of <date>', 'everything up to the end of this London date')
    .addOption(new Option('--format <format>').choices(['json', 'csv']).default('json'))
    .option('--quiet', 'no progress output')
    .action(async (name: string, options: ReportOptions) => {
      if (!reportNames.includes(name)) throw new UsageError(`Unknown report "${name}". Reports: ${reportNames.join(', ')}`)
      // The escalations report spans the lead provider's cohorts unless --cohort narrows it.
      const required =
        name === 'escalations' ? (['--lead-provider', '--as-of'] as const) : (['--lead-provider', '--cohort', '--as-of'] as const)
      const given: Record<string, string | undefined> = {
        '--lead-provider': options.leadProvider,
        '--cohort': options.cohort,
        '--as-of': options.asOf,
      }
      for (const option of required) {
        if (!given[option]) throw new UsageError(`npq report ${name} needs ${option}`)
      }
      if (options.from && name !== 'declaration') throw new UsageError('--from is an option of the declaration report only')
      if (options.cohort !== undefined && !cohortPattern.test(options.cohort))
        throw new InputError(`"${options.cohort}" is not a cohort like 2022-autumn (--cohort)`)
      if (options.course && !findCourse(options.course)) throw new InputError(`Unknown course "${options.course}" (--course)`)
      for (const [option, value] of [
        ['--as-of', options.asOf],
        ['--from', options.from],
      ] as const) {
        if (value !== undefined && !calendarDate.safeParse(value).success)
          throw new InputError(`"${value}" is not a date like 2023-01-31 (${option})`)
      }
      const progress = progressReporter(options.quiet)
      await withServices(async (services) => {
        progress(`report ${name}: computing`)
        const query = {
          leadProvider: options.leadProvider!,
          cohort: options.cohort,
          course: options.course,
          deliveryPartner: options.deliveryPartner,
          asOf: options.asOf!,
        }
        try {
          const table = await runReport(services, name, { ...query, from: options.from })
          progress(`report ${name}: ${table.rows.length} rows, done`)
          if (options.format === 'csv') process.stdout.write(toCsv(table.table()))
          else print(table.rows)
        } catch (error) {
          if (error instanceof ReportQueryError) throw new InputError(`${error.message} (--${error.field.replaceAll('_', '-')})`)
          throw error
        }
      })
    })

  program
    .command('declare')
    .description('Declare to DfE every participant whose output of this type is eligible as of the date (npq report outputs)')
    .requiredOption('--lead-provider <code>', 'edt, ucl or ambition')
    .requiredOption('--cohort <cohort>', 'e.g. 2022-autumn')
    .option('--course <identifier>', 'a DfE course identifier: only this course')
    .addOption(
      new Option('--type <type>', 'declaration type').choices(['started', 'retained-1', 'retained-2', 'completed']).makeOptionMandatory(),
    )
    .requiredOption('--as-of <date>', 'everything up to the end of this London date')
    .option('--dry-run', 'print what would be declared and write nothing')
    .addOption(new Option('--format <format>').choices(['json']).default('json'))
    .action((options: { leadProvider: string; cohort: string; course?: string; type: DeclarationType; asOf: string; dryRun?: boolean }) => {
      if (!cohortPattern.test(options.cohort)) throw new InputError(`"${options.cohort}" is not a cohort like 2022-autumn (--cohort)`)
      if (options.course && !findCourse(options.course)) throw new InputError(`Unknown course "${options.course}" (--course)`)
      if (!calendarDate.safeParse(options.asOf).success) throw new InputError(`"${options.asOf}" is not a date like 2023-01-31 (--as-of)`)
      return withServices(async (services) => {
        try {
          const result = await declareOutputs(services, cli, {
            leadProvider: options.leadProvider,
            cohort: options.cohort,
            course: options.course,
            asOf: options.asOf,
            declarationType: options.type,
            dryRun: options.dryRun,
            requestKey: 'cli',
          })
          process.stderr.write(
            `${options.dryRun ? 'Would declare' : 'Declared'} ${result.created.length} ${options.type} declaration(s)${options.dryRun ? ' (dry run: nothing written)' : ''}\n`,
          )
          print(result.created.map(({ id: _id, ...row }) => row))
        } catch (error) {
          if (error instanceof ReportQueryError) throw new InputError(`${error.message} (--${error.field.replaceAll('_', '-')})`)
          throw error
        }
      })
    })

  const catalogue = program.command('catalogue').description('Courses, designs, cohorts and schedules')
  catalogue
    .command('list')
    .description('Every design with its newest version and the cohorts that run it')
    .addOption(new Option('--format <format>').choices(['json']).default('json'))
    .action(() =>
      withServices(async (services) => {
        print(await catalogueListJson(services.catalogue, services.designs))
      }),
    )
  catalogue
    .command('show')
    .description('One design: blocks, activities and credits; with --cohort, the version that cohort runs and its outputs and dates')
    .requiredOption('--lead-provider <code>', 'edt, ucl or ambition')
    .requiredOption('--course <identifier>', 'a DfE course identifier, e.g. npq-headship')
    .option('--cohort <cohort>', 'e.g. 2022-autumn')
    .addOption(new Option('--format <format>').choices(['json']).default('json'))
    .action((options: { leadProvider: string; course: string; cohort?: string }) =>
      withServices(async ({ catalogue: loaded, designs }) => {
        if (!findCourse(options.course)) throw new InputError(`Unknown course "${options.course}" (--course)`)
        if (options.cohort && !cohortPattern.test(options.cohort))
          throw new InputError(`"${options.cohort}" is not a cohort like 2022-autumn (--cohort)`)
        if (!(await designs.design(options.leadProvider, options.course))) {
          throw new InputError(`${options.leadProvider} has no design for ${options.course} (--lead-provider, --course)`)
        }
        const design = options.cohort
          ? await designs.designForCohort(options.leadProvider, options.course, options.cohort)
          : await designs.design(options.leadProvider, options.course)
        if (!design)
          throw new InputError(`${options.course} does not run in cohort ${options.cohort} with ${options.leadProvider} (--cohort)`)
        print(catalogueShowJson(loaded, design, options.cohort))
      }),
    )

  const dfe = program.command('dfe').description("DfE's Lead Provider API v3 (DFE_API_URL, DFE_API_TOKEN)")
  dfe
    .command('sync')
    .description('Send every queued DfE request now (declarations, voids, defer/resume/withdraw, outcomes); prints {sent, failed, queued}')
    .addOption(new Option('--format <format>').choices(['json']).default('json'))
    .action(() =>
      withServices(async (services) => {
        // Off without configuration: say so and how many requests are waiting, rather than print zeros.
        if (!services.dfe.enabled) {
          const queued = await services.dfe.queuedCount()
          throw new InputError(`DfE sync is off: set DFE_API_URL and DFE_API_TOKEN to send the ${queued} queued request(s)`)
        }
        const result = await services.dfe.syncAll({ force: true })
        process.stderr.write(
          `DfE sync: ${result.sent} sent, ${result.failed} failed, ${result.queued} still queued${result.failed ? ' (see /lead-provider/dfe-sync)' : ''}\n`,
        )
        print(result)
      }),
    )

  const privacy = program.command('privacy').description('Data protection: subject access exports and erasure (docs/RELIABILITY.md)')
  privacy
    .command('export')
    .description('Everything the platform holds about one person, as JSON on stdout (audited)')
    .option('--email <email>', 'their email address (participant, account or application)')
    .option('--trn <trn>', 'their 7-digit TRN')
    .option('--participant-id <id>', 'their DfE participant id')
    .action((options: { email?: string; trn?: string; participantId?: string }) => {
      const given = [options.email, options.trn, options.participantId].filter((v) => v !== undefined)
      if (given.length !== 1) throw new UsageError('npq privacy export needs exactly one of --email, --trn or --participant-id')
      if (options.trn !== undefined && !/^[0-9]{7}$/.test(options.trn))
        throw new InputError(`"${options.trn}" is not a 7-digit TRN (--trn)`)
      if (options.participantId !== undefined && !uuid.test(options.participantId))
        throw new InputError(`"${options.participantId}" is not a participant id (--participant-id)`)
      const query: SubjectQuery = { email: options.email, trn: options.trn, participantId: options.participantId }
      return withServices(async ({ db }) => {
        const document = await exportPersonalData(db, cli, query).catch((error: unknown) => {
          if (error instanceof AppError && error.code === 'not-found') throw new InputError(`Nobody matches ${given[0]}`)
          throw error
        })
        const rows = document.sections.reduce((n, section) => n + section.rows.length, 0)
        process.stderr.write(`Exported ${rows} row(s) in ${document.sections.length} sections and ${document.files.length} file(s)\n`)
        print(document)
      })
    })
  privacy
    .command('erase')
    .description(
      'Carry out a verified erasure request: anonymise one participant, keeping the declaration evidence DfE funding rules require. ' +
        'Refused while an enrolment is accepted, active or deferred, a declaration is not settled, or a safeguarding concern they raised is open.',
    )
    .requiredOption('--participant-id <id>', 'their DfE participant id')
    .requiredOption('--reason <text>', 'the verified request, e.g. its reference (kept in the audit log)')
    .action((options: { participantId: string; reason: string }) => {
      if (!uuid.test(options.participantId)) throw new InputError(`"${options.participantId}" is not a participant id (--participant-id)`)
      if (!options.reason.trim()) throw new UsageError('--reason must say why (the verified request)')
      return withServices(async ({ db, catalogue }) => {
        try {
          const result = await anonymiseParticipant(db, cli, options.participantId.toLowerCase(), {
            catalogue,
            mode: 'request',
            reason: options.reason.trim(),
            today: londonDateOf(new Date()),
          })
          process.stderr.write(`Erased participant ${result.participant_id}; declaration evidence kept\n`)
          print(result)
        } catch (error) {
          if (error instanceof ErasureRefused) throw new InputError(error.message)
          if (error instanceof AppError && error.code === 'not-found') throw new InputError(`${error.message} (--participant-id)`)
          throw error
        }
      })
    })

  return program
}

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

type ReportRun = { rows: unknown[]; table: () => Table }

async function runReport(services: Services, name: string, query: EscalationQuery & { from?: string }): Promise<ReportRun> {
  if (name === 'escalations') {
    const rows = await escalationsReport(services, query)
    return { rows, table: () => escalationsTable(rows) }
  }
  const scoped = { ...query, cohort: query.cohort! }
  if (name === 'outputs') {
    const rows = await outputsReport(services, scoped)
    return { rows, table: () => outputsTable(rows) }
  }
  if (name === 'declaration') {
    const rows = await declarationReport(services, scoped)
    return { rows, table: () => declarationTable(rows) }
  }
  const rows = await engagementReport(services, scoped)
  return { rows, table: () => engagementTable(rows) }
}

type ReportOptions = {
  leadProvider?: string
  cohort?: string
  course?: string
  deliveryPartner?: string
  from?: string
  asOf?: string
  format: 'json' | 'csv'
  quiet?: boolean
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** A reader that stops early (`npq privacy export … | head`) closes the pipe: stop quietly, as other tools do. */
function quietOnClosedPipe(): void {
  if (process.stdout.listenerCount('error') > 0) return
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
}

export async function run(argv: string[]): Promise<number> {
  quietOnClosedPipe()
  try {
    await buildProgram().parseAsync(argv, { from: 'user' })
    return 0
  } catch (error) {
    if (error instanceof CommanderError) {
      return ['commander.helpDisplayed', 'commander.version', 'commander.help'].includes(error.code) ? 0 : 2
    }
    if (error instanceof BackupError) {
      process.stderr.write(`npq: ${error.message}\n`)
      return error.exitCode
    }
    if (error instanceof UsageError) {
      process.stderr.write(`npq: ${error.message}\n`)
      return 2
    }
    if (
      error instanceof InputError ||
      error instanceof ConfigError ||
      error instanceof DatabaseInUseError ||
      error instanceof CatalogueError
    ) {
      process.stderr.write(`npq: ${error.message}\n`)
      return 1
    }
    if (error instanceof AppError) {
      const fields = error.fieldErrors.map((f) => ` (${f.field}: ${f.message})`).join('')
      process.stderr.write(`npq: ${error.message}${fields}\n`)
      return 1
    }
    process.stderr.write(`npq: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return 1
  }
}

if (import.meta.main) {
  process.exitCode = await run(process.argv.slice(2))
}
