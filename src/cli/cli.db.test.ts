import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { createPostgresDatabase, testDatabaseKind } from '../test-support/services.ts'

// The `npq` command as users run it: a separate process, exit codes, stdout for data, stderr for messages.

const bin = path.resolve(import.meta.dirname, '../../bin/npq.js')
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'npq-cli-'))
let env: Record<string, string>
let drop = async () => {}

before(async () => {
  env = { PATH: process.env.PATH!, NODE_ENV: 'development', NPQ_DEMO_PASSWORD: 'demo-password-for-tests', LOG_LEVEL: 'silent' }
  if (testDatabaseKind() === 'postgres') {
    const created = await createPostgresDatabase()
    env.DATABASE_URL = created.url
    drop = created.drop
  } else {
    env.NPQ_DATA_DIR = dir
  }
})
after(async () => {
  await drop()
  fs.rmSync(dir, { recursive: true, force: true })
})

function npq(args: string[], input?: string) {
  const result = spawnSync(process.execPath, [bin, ...args], { env, input, encoding: 'utf8', timeout: 120_000 })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

test('migrate applies the migrations and says where', () => {
  const { code, stderr } = npq(['migrate'])
  assert.equal(code, 0, stderr)
  assert.match(stderr, /Migrations applied/)
})

test('demo loads the demo data once: a second run creates nothing', () => {
  const first = npq(['demo'])
  assert.equal(first.code, 0, first.stderr)
  assert.ok(JSON.parse(first.stdout).created > 0)
  assert.match(first.stderr, /demo: done/)
  const second = npq(['demo', '--quiet'])
  assert.equal(second.code, 0, second.stderr)
  assert.deepEqual(JSON.parse(second.stdout), { created: 0 })
  assert.doesNotMatch(second.stderr, /demo: /)
})

test('users create invites a person to a role, or sets a password read from stdin', () => {
  const invited = npq([
    'users',
    'create',
    '--email',
    'Ann@Hub.test',
    '--name',
    'Ann Hub',
    '--role',
    'facilitator',
    '--organisation',
    'east-coast-tsh',
  ])
  assert.equal(invited.code, 0, invited.stderr)
  const row = JSON.parse(invited.stdout)
  assert.equal(row.email, 'ann@hub.test')
  assert.equal(row.invited, true)

  const withPassword = npq(
    ['users', 'create', '--email', 'bo@lp.test', '--name', 'Bo', '--role', 'assessor', '--organisation', 'ucl', '--password-stdin'],
    'a very long password\n',
  )
  assert.equal(withPassword.code, 0, withPassword.stderr)
  assert.equal(JSON.parse(withPassword.stdout).invited, false)

  const weak = npq(
    ['users', 'create', '--email', 'cy@lp.test', '--name', 'Cy', '--role', 'assessor', '--organisation', 'ucl', '--password-stdin'],
    'short\n',
  )
  assert.equal(weak.code, 1)
  assert.match(weak.stderr, /10 characters/)
})

test('bad input exits 1 naming the option; usage errors exit 2', () => {
  const unknownOrg = npq(['users', 'create', '--email', 'a@b.test', '--name', 'A', '--role', 'facilitator', '--organisation', 'nowhere'])
  assert.equal(unknownOrg.code, 1)
  assert.match(unknownOrg.stderr, /No delivery partner with code "nowhere" \(--organisation\)/)
  assert.equal(unknownOrg.stdout, '')

  const badRole = npq(['users', 'create', '--email', 'a@b.test', '--name', 'A', '--role', 'wizard', '--organisation', 'edt'])
  assert.equal(badRole.code, 2)
  assert.match(badRole.stderr, /wizard/)
  assert.equal(npq(['no-such-command']).code, 2)
  assert.equal(npq(['import', 'unicorns', 'x.csv']).code, 2)
  assert.equal(npq(['--help']).code, 0)
})

test('api-tokens create prints a token once', () => {
  const { code, stdout, stderr } = npq(['api-tokens', 'create', '--lead-provider', 'edt', '--name', 'Finance'])
  assert.equal(code, 0, stderr)
  assert.match(JSON.parse(stdout).token, /^npq_/)
})

test('a bad setting stops the command with one line naming it', () => {
  const saved = env
  env = { ...env, PORT: 'not-a-port' }
  try {
    const { code, stderr } = npq(['migrate'])
    assert.equal(code, 1)
    assert.equal(stderr.trim().split('\n').length, 1)
    assert.match(stderr, /PORT/)
  } finally {
    env = saved
  }
})

test('catalogue list and show print the designs in the form of INTERFACES.md', () => {
  const list = npq(['catalogue', 'list', '--format', 'json'])
  assert.equal(list.code, 0, list.stderr)
  const rows = JSON.parse(list.stdout) as { lead_provider: string; course_identifier: string; design_version: number; cohorts: string[] }[]
  const npqh = rows.find((r) => r.lead_provider === 'edt' && r.course_identifier === 'npq-headship')!
  assert.equal(npqh.design_version, 1)
  assert.ok(npqh.cohorts.includes('2022-autumn'))

  const show = npq([
    'catalogue',
    'show',
    '--lead-provider',
    'edt',
    '--course',
    'npq-headship',
    '--cohort',
    '2022-autumn',
    '--format',
    'json',
  ])
  assert.equal(show.code, 0, show.stderr)
  const design = JSON.parse(show.stdout)
  assert.deepEqual(Object.keys(design), ['lead_provider', 'course_identifier', 'design_version', 'credits_available', 'blocks', 'cohort'])
  assert.equal(design.credits_available, 237)
  assert.deepEqual(design.blocks[0].activities[0], {
    code: 'NPQH-B1-DIAGNOSTIC',
    component: 'Self-study',
    title: 'Diagnostic Assessment for Block 1',
    duration_minutes: 40,
    credits: 2,
  })
  assert.equal(design.cohort.self_reporting, false)
  assert.deepEqual(design.cohort.outputs[0], {
    declaration_type: 'started',
    review_date: '2022-11-24',
    invoice_date: '2022-12-16',
    payment_date: '2023-01-16',
    share_percent: 25,
  })
  assert.deepEqual(
    design.cohort.outputs.map((o: { declaration_type: string }) => o.declaration_type),
    ['started', 'retained-1', 'retained-2', 'completed'],
  )

  const bad = npq(['catalogue', 'show', '--lead-provider', 'edt', '--course', 'npq-nope'])
  assert.equal(bad.code, 1)
  assert.match(bad.stderr, /Unknown course "npq-nope" \(--course\)/)
  assert.equal(npq(['catalogue', 'show', '--course', 'npq-headship']).code, 2)
})

test('import: a good file prints a summary; a bad one lists file:line:column problems, exits 1 and imports nothing', () => {
  const partners = path.join(dir, 'partners.csv')
  fs.writeFileSync(partners, 'delivery_partner_id,name,lead_provider\nharbour-tsh,Harbour Teaching School Hub,edt\n')
  const ok = npq(['import', 'delivery-partners', partners, '--quiet'])
  assert.equal(ok.code, 0, ok.stderr)
  assert.deepEqual(JSON.parse(ok.stdout), { kind: 'delivery-partners', rows: 1, created: 1, updated: 0, unchanged: 0 })

  const bad = path.join(dir, 'bad.csv')
  fs.writeFileSync(bad, 'delivery_partner_id,name,lead_provider\nharbour tsh,Harbour,edt\nnew-tsh,New,nobody\n')
  const failed = npq(['import', 'delivery-partners', bad])
  assert.equal(failed.code, 1)
  assert.equal(failed.stdout, '')
  assert.match(failed.stderr, new RegExp(`${bad}:2:1 \\(delivery_partner_id\\): must be letters`))
  assert.match(failed.stderr, new RegExp(`${bad}:3:3 \\(lead_provider\\): unknown lead provider "nobody"`))
  assert.match(failed.stderr, /nothing was imported/)
  const again = npq(['import', 'delivery-partners', partners, '--quiet'])
  assert.deepEqual(JSON.parse(again.stdout), { kind: 'delivery-partners', rows: 1, created: 0, updated: 0, unchanged: 1 })

  assert.equal(npq(['import', 'delivery-partners', path.join(dir, 'missing.csv')]).code, 1)
  assert.equal(npq(['import', 'attendance', partners]).code, 1) // the wrong columns for the kind
  assert.equal(npq(['import', 'assessments', partners]).code, 1) // a kind that exists: the wrong columns
  assert.equal(npq(['import', 'absences', partners]).code, 2) // no such kind: a usage error
})

test('report engagement|declaration: JSON sorted by participant_id, CSV, and clear errors', () => {
  const base = ['--lead-provider', 'edt', '--cohort', '2022-autumn', '--as-of', '2026-11-23', '--quiet']
  const json = npq(['report', 'engagement', ...base])
  assert.equal(json.code, 0, json.stderr)
  const rows = JSON.parse(json.stdout) as {
    participant_id: string
    credits_available: number
    blocks: unknown[]
    eligible_for_assessment: boolean
  }[]
  assert.ok(rows.length > 0)
  assert.deepEqual(
    rows.map((r) => r.participant_id),
    rows.map((r) => r.participant_id).sort(),
  )
  assert.deepEqual(Object.keys(rows[0]!), [
    'participant_id',
    'course_identifier',
    'delivery_partner',
    'credits_earned',
    'credits_available',
    'engagement_percent',
    'eligible_for_assessment',
    'blocks',
  ])
  const csv = npq(['report', 'engagement', ...base, '--format', 'csv', '--delivery-partner', 'north-star-tsh'])
  assert.equal(csv.code, 0, csv.stderr)
  assert.match(csv.stdout.split('\n')[0]!, /^participant_id,course_identifier,delivery_partner,credits_earned/)
  const declaration = npq(['report', 'declaration', ...base, '--from', '2022-11-24'])
  assert.equal(declaration.code, 0, declaration.stderr)
  assert.deepEqual(Object.keys(JSON.parse(declaration.stdout)[0]), [
    'participant_id',
    'course_identifier',
    'delivery_partner',
    'credits_in_period',
    'cumulative_credits',
  ])

  const noDate = npq(['report', 'engagement', '--lead-provider', 'edt', '--cohort', '2022-autumn'])
  assert.equal(noDate.code, 2)
  assert.match(noDate.stderr, /needs --as-of/)
  const badCohort = npq(['report', 'engagement', '--lead-provider', 'edt', '--cohort', '2099-autumn', '--as-of', '2023-01-31'])
  assert.equal(badCohort.code, 1)
  assert.match(badCohort.stderr, /runs no course in cohort 2099-autumn \(--cohort\)/)
})

test('report outputs|escalations and declare: the shapes of INTERFACES.md, declare once, dry run writes nothing', () => {
  const base = ['--lead-provider', 'edt', '--cohort', '2022-autumn', '--as-of', '2023-06-30', '--quiet']
  const outputs = npq(['report', 'outputs', ...base])
  assert.equal(outputs.code, 0, outputs.stderr)
  const rows = JSON.parse(outputs.stdout) as { participant_id: string; outputs: { declaration_type: string; status: string }[] }[]
  assert.ok(rows.length > 0)
  assert.deepEqual(Object.keys(rows[0]!), ['participant_id', 'course_identifier', 'outputs'])
  assert.deepEqual(Object.keys(rows[0]!.outputs[0]!), ['declaration_type', 'review_date', 'status', 'evidence', 'evidence_on', 'reasons'])
  const csv = npq(['report', 'outputs', ...base, '--format', 'csv'])
  assert.match(csv.stdout.split('\n')[0]!, /^participant_id,course_identifier,started_review_date,started_status,started_evidence/)

  // --cohort is optional for escalations.
  const escalations = npq(['report', 'escalations', '--lead-provider', 'edt', '--as-of', '2023-07-30', '--quiet'])
  assert.equal(escalations.code, 0, escalations.stderr)
  const cases = JSON.parse(escalations.stdout) as Record<string, unknown>[]
  assert.ok(cases.length > 0)
  assert.deepEqual(Object.keys(cases[0]!), ['participant_id', 'declaration_type', 'review_date', 'stage', 'days_since_review'])
  assert.equal(npq(['report', 'outputs', '--lead-provider', 'edt', '--as-of', '2023-06-30']).code, 2)

  // The demo declared started and retained-1 at their review dates; retained-2 is still to declare.
  const declare = ['declare', '--lead-provider', 'edt', '--cohort', '2022-autumn', '--type', 'retained-2', '--as-of', '2024-01-24']
  const later = ['--lead-provider', 'edt', '--cohort', '2022-autumn', '--as-of', '2024-01-24', '--quiet']
  const retained2 = (list: typeof rows, status: string) =>
    list.filter((r) => r.outputs.find((o) => o.declaration_type === 'retained-2')?.status === status).length
  const eligible = retained2(JSON.parse(npq(['report', 'outputs', ...later]).stdout) as typeof rows, 'eligible')
  assert.ok(eligible > 0)
  const dry = npq([...declare, '--dry-run'])
  assert.equal(dry.code, 0, dry.stderr)
  assert.equal(JSON.parse(dry.stdout).length, eligible)
  assert.match(dry.stderr, /dry run: nothing written/)
  const made = npq(declare)
  assert.equal(made.code, 0, made.stderr)
  const created = JSON.parse(made.stdout) as Record<string, unknown>[]
  assert.equal(created.length, eligible)
  assert.deepEqual(Object.keys(created[0]!), [
    'participant_id',
    'course_identifier',
    'declaration_type',
    'declaration_date',
    'has_passed',
    'state',
  ])
  assert.equal(created[0]!.state, 'submitted')
  assert.deepEqual(JSON.parse(npq(declare).stdout), [])
  assert.equal(retained2(JSON.parse(npq(['report', 'outputs', ...later]).stdout) as typeof rows, 'declared'), eligible)

  const badType = npq(['declare', '--lead-provider', 'edt', '--cohort', '2022-autumn', '--type', 'finished', '--as-of', '2023-06-30'])
  assert.equal(badType.code, 2)
  const badDate = npq(['declare', '--lead-provider', 'edt', '--cohort', '2022-autumn', '--type', 'started', '--as-of', '2023-02-30'])
  assert.equal(badDate.code, 1)
  assert.match(badDate.stderr, /--as-of/)
})

test('a reader that stops early (| head) ends the command quietly, not with a trace', () => {
  // The export is ~100 KB, more than a pipe holds, so the command is still writing when head has gone.
  const result = spawnSync(
    'bash',
    ['-c', `set -o pipefail; "${process.execPath}" "${bin}" privacy export --email participant@demo.test | head -c 20`],
    {
      env,
      encoding: 'utf8',
      timeout: 120_000,
    },
  )
  assert.equal(result.stdout.length, 20)
  assert.equal(result.status, 0, result.stderr)
  assert.doesNotMatch(result.stderr, /EPIPE|Unhandled|at /)
})
