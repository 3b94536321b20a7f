import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { sql } from 'kysely'
import { run } from '../cli/main.ts'
import { outputsReport } from '../outputs/report.ts'
import { engagementReport } from '../reports/engagement-reports.ts'
import { Agent } from '../test-support/agent.ts'
import { demoPassword, startDemoApp } from '../test-support/demo-app.ts'
import { systemPrincipal } from '../test-support/fixtures.ts'
import type { TestServices } from '../test-support/services.ts'
import { anonymiseParticipant, dueForErasure, ErasureRefused } from './anonymise.ts'
import { runRetentionErasure } from './jobs.ts'
import { buildExport, findSubject, sections, type SubjectAccessExport } from './personal-data.ts'

// The subject access export, the page and its access, and erasure after the retention period, on the
// demo data: Priya Patel (participant@demo.test, EDT's NPQH and EHCO at North Star) is the person.

let services: TestServices
let app: FastifyInstance
let close: () => Promise<void>
const email = 'participant@demo.test'
let priya: { id: string; user_id: string; full_name: string; trn: string }

before(async () => {
  ;({ services, app, close } = await startDemoApp())
  const db = services.db
  priya = await db
    .selectFrom('participants')
    .select(['id', 'user_id', 'full_name', 'trn'])
    .where('email', '=', email)
    .executeTakeFirstOrThrow()
    .then((p) => ({ ...p, user_id: p.user_id! }))
  // Rows the demo does not give her: a private journal entry, a closed safeguarding concern, a final report file.
  const enrolment = await db
    .selectFrom('enrolments')
    .select(['id', 'lead_provider_id'])
    .where('participant_id', '=', priya.id)
    .executeTakeFirstOrThrow()
  await db
    .insertInto('journal_entries')
    .values({ user_id: priya.user_id, entry_on: '2023-01-10', title: 'Private thoughts', body: `${priya.full_name} wrote this privately` })
    .execute()
  await db
    .insertInto('safeguarding_concerns')
    .values({
      raised_by: priya.user_id,
      lead_provider_id: enrolment.lead_provider_id,
      concern: `A concern raised by ${priya.full_name}`,
      immediate_risk: false,
      contact_by: 'phone',
      phone: '07700 900123',
    })
    .execute()
  await db
    .insertInto('project_reports')
    .values({
      enrolment_id: enrolment.id,
      body: 'My final report',
      file_name: 'report.txt',
      file_type: 'text/plain',
      file_size: 24,
      file_data: Buffer.from(`Report by ${priya.full_name}.`),
      submitted_by: priya.user_id,
    })
    .execute()
  // And mentions of her: an email to her, one to her line manager naming her, a CSV upload holding her row
  // beside Sam Whitfield's, an application, a survey response and a learning audit in her own words.
  const sam = await db
    .selectFrom('participants')
    .select(['id', 'full_name', 'email', 'trn'])
    .where('email', '=', 'ucl-participant@demo.test')
    .executeTakeFirstOrThrow()
  await db
    .insertInto('email_outbox')
    .values([
      { to_address: email, subject: 'Welcome', body: `Dear ${priya.full_name}, welcome to NPQH.` },
      {
        to_address: 'line-manager@demo.test',
        subject: `${priya.full_name}'s meeting`,
        body: `${priya.full_name} (${email}) booked a meeting.`,
      },
    ])
    .execute()
  await db
    .insertInto('import_uploads')
    .values({
      lead_provider_id: enrolment.lead_provider_id,
      kind: 'participants',
      filename: 'participants.csv',
      content: `participant_id,full_name,email,trn\n${priya.id},${priya.full_name},${email},${priya.trn}\n${sam.id},${sam.full_name},${sam.email},${sam.trn}\n`,
      uploaded_by: priya.user_id,
    })
    .execute()
  await db
    .insertInto('applications')
    .values({
      lead_provider_id: enrolment.lead_provider_id,
      source: 'csv',
      participant_id: priya.id,
      trn: priya.trn,
      full_name: priya.full_name,
      email,
      course_identifier: 'npq-senior-leadership',
      employer_name: 'Oakfield Primary School',
      status: 'expired',
    })
    .execute()
  const npqh = await db
    .selectFrom('enrolments')
    .select('id')
    .where('participant_id', '=', priya.id)
    .where('course_identifier', '=', 'npq-headship')
    .executeTakeFirstOrThrow()
  const survey = await db.selectFrom('surveys').select('id').where('course_identifier', '=', 'npq-headship').executeTakeFirstOrThrow()
  await db
    .insertInto('survey_responses')
    .values({
      survey_id: survey.id,
      enrolment_id: npqh.id,
      answers: JSON.stringify({ q1: 4, q2: 'Most of it', q3: `More time, says ${priya.full_name}` }),
    })
    .execute()
  await db
    .insertInto('learning_audits')
    .values({ enrolment_id: npqh.id, taken_on: '2023-01-05', ratings: JSON.stringify({ vision: 3 }), note: 'I need to work on delegation' })
    .execute()
})
after(() => close())

/** A regular expression for the value alone (participant@demo.test is not inside ucl-participant@demo.test). */
const wholeValue = (value: string) => `(^|[^a-z0-9._%+-])${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^a-z0-9_%+-])`

/** Rows anywhere (audit log included) whose text holds the value. */
async function mentionsOf(value: string): Promise<number> {
  const { rows: columns } = await sql<{ table_name: string; column_name: string }>`
    select c.table_name, c.column_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema = current_schema() and c.data_type in ('text', 'character varying', 'json', 'jsonb')
  `.execute(services.db)
  let n = 0
  for (const c of columns) {
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(c.table_name)}
      where ${sql.ref(c.column_name)}::text ~* ${wholeValue(value)}`.execute(services.db)
    n += Number(rows[0]!.n)
  }
  return n
}

/** Her courses ended on 31 July 2023 (completed, with the transition recorded). */
async function endCourses(participantId: string, status: 'completed' | 'withdrawn' = 'completed') {
  const db = services.db
  const enrolments = await db
    .selectFrom('enrolments as e')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select(['e.id', 'e.status', 'e.cohort', 'e.course_identifier', 'lp.code'])
    .where('e.participant_id', '=', participantId)
    .execute()
  for (const e of enrolments) {
    await db.updateTable('enrolments').set({ status }).where('id', '=', e.id).execute()
    await db
      .insertInto('enrolment_transitions')
      .values({ enrolment_id: e.id, from_status: e.status, to_status: status, effective_on: '2023-07-31', reason: status })
      .execute()
  }
  return enrolments
}

/** The engagement and outputs reports' rows for the person, in each of their cohorts. */
async function reportsOf(participantId: string): Promise<unknown[]> {
  const enrolments = await services.db
    .selectFrom('enrolments as e')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select(['e.cohort', 'lp.code'])
    .where('e.participant_id', '=', participantId)
    .execute()
  const out: unknown[] = []
  for (const cohort of [...new Set(enrolments.map((e) => `${e.code}|${e.cohort}`))].sort()) {
    const [leadProvider, c] = cohort.split('|') as [string, string]
    const query = { leadProvider, cohort: c, asOf: '2024-06-30', participantIds: [participantId] }
    out.push(
      await engagementReport(services, query),
      (await outputsReport(services, query)).filter((r) => r.participant_id === participantId),
    )
  }
  return out
}

/** How many evidence rows are kept, and the declarations with their evidence snapshots. */
async function evidenceOf(participantId: string) {
  const counts: Record<string, number> = {}
  for (const table of [
    'declarations',
    'learning_records',
    'register_entries',
    'meeting_logs',
    'assessment_attempts',
    'enrolments',
    'bookings',
  ] as const) {
    const { rows } = await sql<{
      n: string
    }>`select count(*)::text as n from ${sql.table(table)} where participant_id = ${participantId}`.execute(services.db)
    counts[table] = Number(rows[0]!.n)
  }
  const { rows } = await sql<{
    s: string
  }>`select coalesce(string_agg(id::text || state || evidence::text || engagement::text, ',' order by id), '') as s
    from declarations where participant_id = ${participantId}`.execute(services.db)
  return { counts, declarations: rows[0]!.s }
}

const textOfExport = (document: SubjectAccessExport) => JSON.stringify(document.sections.filter((s) => s.table !== 'audit_events'))

test('every table that refers to a participant or an enrolment is a section of the export', async () => {
  const { rows } = await sql<{ table_name: string }>`
    select distinct c.conrelid::regclass::text as table_name
    from pg_constraint c
    where c.contype = 'f' and c.confrelid in ('participants'::regclass, 'enrolments'::regclass)
  `.execute(services.db)
  const covered = new Set(sections.map((s) => s.table))
  assert.deepEqual(
    rows.map((r) => r.table_name).filter((t) => !covered.has(t)),
    [],
  )
})

test('the export holds her rows from every personal table, files included, and nobody else’s', async (t) => {
  const subject = (await findSubject(services.db, { email }))!
  assert.deepEqual(subject.participantIds, [priya.id])
  assert.deepEqual(subject.userIds, [priya.user_id])
  const document = await buildExport(services.db, subject, 'test')
  const rowsOf = (table: string) => document.sections.find((s) => s.table === table)!.rows
  for (const table of [
    'participants',
    'users',
    'role_assignments',
    'enrolments',
    'learning_records',
    'register_entries',
    'forum_posts',
    'journal_entries',
    'safeguarding_concerns',
    'project_reports',
    'task_submissions',
    'email_outbox',
    'import_uploads',
    'applications',
    'survey_responses',
    'learning_audits',
    'audit_events',
  ]) {
    assert.ok(rowsOf(table).length > 0, `${table} has her rows`)
  }
  // Each section's rows are exactly the table's rows about her (checked independently for the main ones).
  const direct = async (table: 'learning_records' | 'register_entries' | 'bookings' | 'declarations') =>
    Number(
      (
        await services.db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('participant_id', '=', priya.id)
          .executeTakeFirstOrThrow()
      ).n,
    )
  for (const table of ['learning_records', 'register_entries', 'bookings', 'declarations'] as const) {
    assert.equal(rowsOf(table).length, await direct(table), table)
  }
  t.diagnostic(
    `sections with her rows: ${document.sections
      .filter((s) => s.rows.length)
      .map((s) => `${s.table} ${s.rows.length}`)
      .join(', ')}`,
  )
  assert.ok(rowsOf('participants').every((r) => r.id === priya.id))
  assert.ok(rowsOf('learning_records').every((r) => r.participant_id === priya.id))
  assert.ok(rowsOf('forum_posts').every((r) => r.author_user_id === priya.user_id))
  assert.equal(document.files.length >= 1, true)
  assert.equal(
    Buffer.from(document.files.find((f) => f.file_name === 'report.txt')!.content_base64, 'base64').toString(),
    `Report by ${priya.full_name}.`,
  )
  // No secrets.
  const text = JSON.stringify(document)
  assert.ok(!/password_hash|token_hash|id_hash/.test(text))
  // Nobody else's identity appears outside the audit entries.
  const others = await services.db.selectFrom('participants').select(['email', 'trn']).where('id', '<>', priya.id).execute()
  assert.ok(others.length > 5)
  const sectionsText = textOfExport(document)
  for (const other of others) {
    assert.ok(!sectionsText.includes(other.email), `no ${other.email}`)
    assert.ok(!sectionsText.includes(`"${other.trn}"`), `no ${other.trn}`)
  }
})

test('the Data protection page: her lead provider’s admin finds her and downloads the export, audited', async () => {
  const admin = new Agent(app)
  await admin.signIn('lead-provider-admin@demo.test', demoPassword)
  const found = await admin.get(`/lead-provider/privacy?q=${encodeURIComponent(email)}`)
  assert.equal(found.statusCode, 200)
  assert.match(found.body, new RegExp(priya.id))
  assert.match(found.body, /Download their data/)
  // Her places named as people read them.
  assert.match(found.body, /NPQ for Headship/)
  assert.doesNotMatch(found.body, />npq-headship</)
  const byTrn = await admin.get(`/lead-provider/privacy?q=${priya.trn}`)
  assert.match(byTrn.body, new RegExp(priya.id))
  const download = await admin.post(
    '/lead-provider/privacy/export',
    { q: email },
    { csrfFrom: `/lead-provider/privacy?q=${encodeURIComponent(email)}` },
  )
  assert.equal(download.statusCode, 200)
  assert.match(String(download.headers['content-disposition']), /attachment; filename="subject-access-/)
  const document = JSON.parse(download.body) as SubjectAccessExport
  assert.deepEqual(document.subject.participant_ids, [priya.id])
  assert.equal(document.sections.length, sections.length)
  const adminUser = await services.db
    .selectFrom('users')
    .select('id')
    .where('email', '=', 'lead-provider-admin@demo.test')
    .executeTakeFirstOrThrow()
  const audit = await services.db
    .selectFrom('audit_events')
    .selectAll()
    .where('action', '=', 'privacy.export')
    .where('entity_id', '=', priya.id)
    .executeTakeFirstOrThrow()
  assert.equal(audit.actor_user_id, adminUser.id)
  assert.ok(!JSON.stringify(audit.after).includes(email), 'the audit entry holds ids, not the data')
  // The page is in the admin's Settings.
  assert.match((await admin.get('/lead-provider/settings')).body, /href="\/lead-provider\/privacy"/)
})

test('another lead provider’s admin is told nobody matched; other roles are refused', async () => {
  const ucl = await services.db.selectFrom('organisations').select('id').where('code', '=', 'ucl').executeTakeFirstOrThrow()
  await services.accounts.createUser(systemPrincipal, {
    email: 'ucl-admin@privacy.test',
    fullName: 'Ucl Admin',
    role: 'lead-provider-admin',
    organisationId: ucl.id,
    password: 'a long and unusual passphrase 4821',
  })
  const other = new Agent(app)
  await other.signIn('ucl-admin@privacy.test', 'a long and unusual passphrase 4821')
  const page = await other.get(`/lead-provider/privacy?q=${encodeURIComponent(email)}`)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /No participant or applicant of yours/)
  assert.ok(!page.body.includes(priya.id))
  const refused = await other.post('/lead-provider/privacy/export', { q: email }, { csrfFrom: '/lead-provider/privacy' })
  assert.equal(refused.statusCode, 404)
  assert.ok(!refused.body.includes(priya.id))

  for (const who of [
    'participant@demo.test',
    'facilitator@demo.test',
    'delivery-partner-lead@demo.test',
    'assessor@demo.test',
    'line-manager@demo.test',
  ]) {
    const agent = new Agent(app)
    await agent.signIn(who, demoPassword)
    assert.equal((await agent.get(`/lead-provider/privacy?q=${encodeURIComponent(email)}`)).statusCode, 403, who)
    const csrf = await agent.get('/account/calendar')
    const token = /name="_csrf" value="([^"]+)"/.exec(csrf.body)?.[1] ?? ''
    assert.equal((await agent.post('/lead-provider/privacy/export', { q: email }, { csrf: token })).statusCode, 403, who)
  }
  assert.equal((await new Agent(app).get('/lead-provider/privacy')).statusCode === 200, false, 'signed out')
})

test('the CLI checks its options before touching the database (exit 2 usage, 1 bad input)', async () => {
  const stderr = process.stderr.write.bind(process.stderr)
  process.stderr.write = () => true
  try {
    assert.equal(await run(['privacy', 'export']), 2)
    assert.equal(await run(['privacy', 'export', '--email', 'a@b.test', '--trn', '1234567']), 2)
    assert.equal(await run(['privacy', 'export', '--trn', '12']), 1)
    assert.equal(await run(['privacy', 'erase', '--participant-id', 'not-an-id', '--reason', 'request 42']), 1)
    assert.equal(await run(['privacy', 'erase', '--participant-id', priya.id]), 2)
  } finally {
    process.stderr.write = stderr
  }
})

test('erasure is refused while a course is running or a declaration is unsettled, and says why', async () => {
  const options = { catalogue: services.catalogue, reason: 'verified request 42', today: '2031-01-01' }
  await assert.rejects(
    () => anonymiseParticipant(services.db, systemPrincipal, priya.id, { ...options, mode: 'request' }),
    (error: unknown) => error instanceof ErasureRefused && /still (active|accepted|deferred)/.test(error.message),
  )
  assert.ok(!(await dueForErasure(services.db, services.catalogue, '2099-01-01')).includes(priya.id))
  // Nothing changed.
  const still = await services.db
    .selectFrom('participants')
    .select(['full_name', 'anonymised_at'])
    .where('id', '=', priya.id)
    .executeTakeFirstOrThrow()
  assert.equal(still.full_name, priya.full_name)
  assert.equal(still.anonymised_at, null)
})

test('after the retention period the daily job erases her everywhere but the audit log, and keeps the funding evidence', async (t) => {
  const db = services.db
  const enrolments = await endCourses(priya.id)
  // Her declarations were paid; her safeguarding concern was closed.
  await db
    .updateTable('declarations')
    .set({ state: 'paid' })
    .where('participant_id', '=', priya.id)
    .where('state', 'in', ['submitted', 'eligible', 'payable'])
    .execute()
  await db
    .updateTable('safeguarding_concerns')
    .set({ status: 'closed', outcome: `Closed: ${priya.full_name} was supported` })
    .where('raised_by', '=', priya.user_id)
    .execute()
  const reports = () => reportsOf(priya.id)
  const evidence = () => evidenceOf(priya.id)
  const reportsBefore = await reports()
  const evidenceBefore = await evidence()
  assert.ok(evidenceBefore.counts.learning_records! > 0 && evidenceBefore.counts.register_entries! > 0)
  const auditBefore = Number(
    (
      await db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
  const signedIn = new Agent(app)
  await signedIn.signIn(email, demoPassword)
  const sam = await db
    .selectFrom('participants')
    .select(['id', 'full_name', 'email'])
    .where('email', '=', 'ucl-participant@demo.test')
    .executeTakeFirstOrThrow()

  const samMentions = await mentionsOf(sam.email)
  assert.ok(samMentions > 2)
  assert.ok(!(await dueForErasure(db, services.catalogue, '2030-07-30')).includes(priya.id), 'not the day before 7 years')
  assert.ok((await dueForErasure(db, services.catalogue, '2030-07-31')).includes(priya.id))
  const result = await runRetentionErasure({ db, catalogue: services.catalogue, logger: services.logger }, '2030-07-31')
  assert.ok(result.erased.includes(priya.id), JSON.stringify(result.refused))
  const entry = await db
    .selectFrom('audit_events')
    .select('after')
    .where('action', '=', 'privacy.anonymise')
    .where('entity_id', '=', priya.id)
    .executeTakeFirstOrThrow()
  t.diagnostic(`erased ${result.erased.length} participant(s); hers: ${JSON.stringify(entry.after)}`)

  // Her name, email and TRN are nowhere in the database but the audit log.
  const { rows: columns } = await sql<{ table_schema: string; table_name: string; column_name: string }>`
    select c.table_schema, c.table_name, c.column_name from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema not in ('pg_catalog', 'information_schema') and c.data_type in ('text', 'character varying', 'json', 'jsonb', 'ARRAY')
  `.execute(db)
  const remaining: string[] = []
  for (const c of columns) {
    if (c.table_schema === 'public' && c.table_name === 'audit_events') continue
    for (const value of [priya.full_name, email, priya.trn]) {
      const { rows } = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(`${c.table_schema}.${c.table_name}`)}
        where ${sql.ref(c.column_name)}::text ~* ${wholeValue(value)}`.execute(db)
      if (Number(rows[0]!.n) > 0) remaining.push(`${c.table_schema}.${c.table_name}.${c.column_name}: ${value}`)
    }
  }
  assert.deepEqual(remaining, [])
  assert.equal(await mentionsOf(sam.email), samMentions, 'another participant’s mentions are untouched')

  // The participant row stays, with a pseudonym and her DfE participant id; the evidence and the reports are unchanged.
  const row = await db.selectFrom('participants').selectAll().where('id', '=', priya.id).executeTakeFirstOrThrow()
  assert.equal(row.trn, `erased-${priya.id}`)
  assert.match(row.full_name, /^Erased participant /)
  assert.ok(row.anonymised_at)
  assert.deepEqual(await evidence(), evidenceBefore)
  assert.deepEqual(await reports(), reportsBefore)

  // Private rows gone, account disabled, sessions ended; what she wrote replaced.
  assert.equal((await db.selectFrom('journal_entries').select('id').where('user_id', '=', priya.user_id).execute()).length, 0)
  const user = await db.selectFrom('users').selectAll().where('id', '=', priya.user_id).executeTakeFirstOrThrow()
  assert.equal(user.status, 'disabled')
  assert.equal(user.password_hash, null)
  assert.equal((await db.selectFrom('sessions').select('user_id').where('user_id', '=', priya.user_id).execute()).length, 0)
  assert.notEqual((await signedIn.get('/participant')).statusCode, 200)
  const posts = await db.selectFrom('forum_posts').select('body').where('author_user_id', '=', priya.user_id).execute()
  assert.ok(posts.length > 0 && posts.every((p) => p.body === '[erased]'))
  const response = await db
    .selectFrom('survey_responses')
    .select('answers')
    .where(
      'enrolment_id',
      'in',
      enrolments.map((e) => e.id),
    )
    .executeTakeFirstOrThrow()
  assert.deepEqual(response.answers, { q1: 4, q2: 'Most of it', q3: '[erased]' }, 'ratings and choices kept, her words gone')
  const upload = await db
    .selectFrom('import_uploads')
    .select('content')
    .where('filename', '=', 'participants.csv')
    .executeTakeFirstOrThrow()
  assert.ok(upload.content.includes(sam.email) && upload.content.includes(sam.full_name), 'Sam’s row in the same file is kept')
  assert.ok(upload.content.includes(priya.id), 'her DfE participant id stays')
  assert.equal(
    (
      await db
        .selectFrom('learning_audits')
        .select('id')
        .where(
          'enrolment_id',
          'in',
          enrolments.map((e) => e.id),
        )
        .execute()
    ).length,
    0,
  )
  const concern = await db.selectFrom('safeguarding_concerns').selectAll().where('raised_by', '=', priya.user_id).executeTakeFirstOrThrow()
  assert.equal(concern.concern, '[erased]')
  assert.equal(concern.phone, '')

  // The audit log: nothing removed or changed, one entry for the erasure, holding ids only.
  const auditAfter = await db
    .selectFrom('audit_events')
    .selectAll()
    .where('occurred_at', '>=', new Date(Date.now() - 3_600_000))
    .execute()
  const erasure = auditAfter.find((a) => a.action === 'privacy.anonymise' && a.entity_id === priya.id)!
  assert.ok(erasure)
  assert.ok(!JSON.stringify(erasure.after).includes(priya.full_name))
  const auditNow = Number(
    (
      await db
        .selectFrom('audit_events')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )
  assert.ok(auditNow > auditBefore)

  // Someone else is untouched; a second erasure is refused; the export by id still works and is clean.
  const samAfter = await db.selectFrom('participants').select(['full_name', 'email']).where('id', '=', sam.id).executeTakeFirstOrThrow()
  assert.deepEqual(samAfter, { full_name: sam.full_name, email: sam.email })
  await assert.rejects(
    () =>
      anonymiseParticipant(db, systemPrincipal, priya.id, {
        catalogue: services.catalogue,
        mode: 'request',
        reason: 'again',
        today: '2031-01-01',
      }),
    ErasureRefused,
  )
  const again = await buildExport(db, (await findSubject(db, { participantId: priya.id }))!, 'test')
  const text = textOfExport(again)
  assert.ok(!text.includes(priya.full_name) && !text.includes(email) && !text.includes(`"${priya.trn}"`))
  assert.ok(again.sections.find((s) => s.table === 'declarations')!.rows.length === evidenceBefore.counts.declarations)
})

test('a verified erasure request (the CLI’s operation) for a withdrawn UCL participant erases meeting logs’ words and keeps their signatures', async () => {
  const db = services.db
  const sam = await db
    .selectFrom('participants')
    .select(['id', 'user_id', 'full_name', 'email', 'trn'])
    .where('email', '=', 'ucl-participant@demo.test')
    .executeTakeFirstOrThrow()
  const enrolments = await endCourses(sam.id, 'withdrawn')
  await db
    .updateTable('declarations')
    .set({ state: 'paid' })
    .where('participant_id', '=', sam.id)
    .where('state', 'in', ['submitted', 'eligible', 'payable'])
    .execute()
  const signaturesOf = () =>
    db
      .selectFrom('meeting_log_versions')
      .select([
        'meeting_number',
        'version',
        'held_on',
        'participant_signed_at',
        'line_manager_signed_at',
        'line_manager_signed_by',
        'meeting_log_id',
      ])
      .where(
        'enrolment_id',
        'in',
        enrolments.map((e) => e.id),
      )
      .orderBy('meeting_number')
      .orderBy('version')
      .execute()
  const signatures = await signaturesOf()
  assert.ok(signatures.length > 0 && signatures.some((v) => v.line_manager_signed_at), 'the demo gives Sam signed logs')
  const reportsBefore = await reportsOf(sam.id)
  const evidenceBefore = await evidenceOf(sam.id)
  assert.ok(evidenceBefore.counts.meeting_logs! > 0)

  const result = await anonymiseParticipant(db, systemPrincipal, sam.id, {
    catalogue: services.catalogue,
    mode: 'request',
    reason: 'verified erasure request SAR-42',
    today: '2024-01-15',
  })
  assert.ok(result.replaced.meeting_log_versions! > 0)
  const logs = await db
    .selectFrom('meeting_log_versions')
    .select(['checking_in', 'key_purposes', 'answers'])
    .where(
      'enrolment_id',
      'in',
      enrolments.map((e) => e.id),
    )
    .execute()
  for (const log of logs) {
    assert.equal(log.checking_in, '[erased]')
    assert.ok(
      log.answers.every((a) => a.response === '[erased]' && a.question.length > 0),
      'the questions stay, the answers go',
    )
  }
  assert.deepEqual(await signaturesOf(), signatures)
  assert.deepEqual(await evidenceOf(sam.id), evidenceBefore)
  assert.deepEqual(await reportsOf(sam.id), reportsBefore)
  const text = JSON.stringify(await buildExport(db, (await findSubject(db, { participantId: sam.id }))!, 'test'))
  const withoutAudit = text.slice(0, text.indexOf('"table":"audit_events"'))
  assert.ok(!withoutAudit.includes(sam.full_name) && !withoutAudit.includes(sam.email) && !withoutAudit.includes(`"${sam.trn}"`))
})

test('the erasure switch lets only an update of kept evidence through, inside its transaction, and never touches the audit log', async () => {
  const db = services.db
  await assert.rejects(db.updateTable('learning_records').set({ reason: 'x' }).execute(), /append-only/)
  await db.transaction().execute(async (trx) => {
    await sql`select set_config('npq.erasure', 'on', true)`.execute(trx)
    await assert.rejects(trx.updateTable('audit_events').set({ action: 'changed' }).execute(), /append-only/)
  })
  await db.transaction().execute(async (trx) => {
    await sql`select set_config('npq.erasure', 'on', true)`.execute(trx)
    await assert.rejects(trx.deleteFrom('register_entries').execute(), /append-only/)
  })
  await db.transaction().execute(async (trx) => {
    await sql`select set_config('npq.erasure', 'on', true)`.execute(trx)
    await trx.updateTable('register_entries').set({ note: null }).where('note', '=', 'no such note').execute()
  })
  // The setting ended with its transaction.
  await assert.rejects(db.updateTable('register_entries').set({ note: null }).execute(), /append-only/)
})

test('npq privacy export and erase on PostgreSQL: JSON on stdout, audited as the CLI; an erasure while a course runs exits 1 saying why', async (t) => {
  if (!services.databaseUrl) return t.skip('the CLI opens the database by DATABASE_URL: PostgreSQL suite only')
  const active = await services.db
    .selectFrom('enrolments as e')
    .innerJoin('participants as p', 'p.id', 'e.participant_id')
    .select(['p.id', 'p.email'])
    .where('e.status', '=', 'active')
    .where('p.anonymised_at', 'is', null)
    .executeTakeFirstOrThrow()
  const saved = { ...process.env }
  const out: string[] = []
  const err: string[] = []
  const stdout = process.stdout.write.bind(process.stdout)
  const stderr = process.stderr.write.bind(process.stderr)
  process.env.DATABASE_URL = services.databaseUrl
  process.stdout.write = (chunk: string | Uint8Array) => (out.push(String(chunk)), true)
  process.stderr.write = (chunk: string | Uint8Array) => (err.push(String(chunk)), true)
  let exported: number, erased: number
  try {
    exported = await run(['privacy', 'export', '--email', active.email])
    erased = await run(['privacy', 'erase', '--participant-id', active.id, '--reason', 'verified request SAR-7'])
  } finally {
    process.stdout.write = stdout
    process.stderr.write = stderr
    process.env = saved
  }
  assert.equal(exported, 0, err.join(''))
  const document = JSON.parse(out.join('')) as SubjectAccessExport
  assert.deepEqual(document.subject.participant_ids, [active.id])
  assert.equal(document.generated_by, 'system: cli')
  assert.equal(erased, 1)
  assert.match(err.join(''), /still active: the person is still on a course/)
  const audit = await services.db
    .selectFrom('audit_events')
    .select(['actor'])
    .where('action', '=', 'privacy.export')
    .where('entity_id', '=', active.id)
    .executeTakeFirstOrThrow()
  assert.equal(audit.actor, 'cli')
  const row = await services.db.selectFrom('participants').select('anonymised_at').where('id', '=', active.id).executeTakeFirstOrThrow()
  assert.equal(row.anonymised_at, null)
})
