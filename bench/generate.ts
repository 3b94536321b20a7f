import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { benchDatabaseUrl, ensureDatabase, formatCount, openServices, progressLog } from './databases.ts'
import { deliveryPartnersPerLeadProvider, ehcoCourse, nationalPlan, planCourseCohorts, plannedActivities } from './plan.ts'

// `npm run bench:generate -- --participants 100000 [--records-per-participant 100] [--fresh]`
//
// Writes a national-scale data set into the benchmark database (DATABASE_URL, default `npq_bench`
// on the local server): 30 delivery partners over the three lead providers, several cohorts and
// courses each, participants and enrolments, ~records-per-participant learning records each
// (self-study completions, video and module progress below and at 100, repeated completions,
// self-reports in EDT's self-reporting cohort, a few corrections and retractions), events with
// registers (attended, absent, contingency-completed, a few corrected), and UCL's meeting logs.
//
// Everything is generated inside PostgreSQL (`insert … select … generate_series`); learning records
// are staged, then written in the order they happened (as they would arrive) with the table's
// indexes rebuilt afterwards, all in one transaction. It ends with VACUUM ANALYZE. It refuses a
// database that already has participants (`--fresh` drops and recreates the database first).

export type GenerateOptions = {
  participants: number
  recordsPerParticipant: number
  fresh?: boolean
  quiet?: boolean
}

export type GenerateSummary = {
  participants: number
  enrolments: number
  deliveryPartners: number
  learningRecords: number
  events: number
  registerEntries: number
  meetingLogs: number
  seconds: number
}

/** Participants per session of an event (each participant is booked on one session per event activity). */
const sessionSize = 30
const schools = 5000
/** Enrolments per learning-record batch (one progress line each). */
const batchSize = 10_000

export class DatabaseNotEmptyError extends Error {}

export async function generate(url: string, options: GenerateOptions): Promise<GenerateSummary> {
  const log = progressLog(options.quiet)
  const started = performance.now()
  await ensureDatabase(url, { fresh: options.fresh })

  // Migrations and the catalogue's designs, through the platform itself.
  const services = await openServices(url)
  let courseCohorts
  try {
    courseCohorts = await planCourseCohorts(services)
  } finally {
    await services.close()
  }

  const client = new pg.Client({ connectionString: url })
  await client.connect()
  const q = (text: string, values: unknown[] = []) => client.query(text, values)
  const count = async (table: string) => Number((await q(`select count(*) as n from ${table}`)).rows[0].n)
  try {
    const existing = await count('participants')
    if (existing > 0) {
      throw new DatabaseNotEmptyError(
        `${redact(url)} already has ${formatCount(existing)} participants. ` +
          'Run with --fresh to drop and recreate it, or set DATABASE_URL to a new database.',
      )
    }
    await q(`set timezone = 'Europe/London'`)
    await q(`set work_mem = '256MB'`)
    await q(`set maintenance_work_mem = '1GB'`)
    await q('select setseed(0.2026)')

    // --- Organisations -----------------------------------------------------------------------
    log('organisations: lead providers, 30 delivery partners, schools')
    for (const lp of nationalPlan) {
      await q(`insert into organisations (kind, code, name) values ('lead-provider', $1, $2) on conflict (kind, code) do nothing`, [
        lp.code,
        lp.name,
      ])
    }
    const dps = nationalPlan.flatMap((lp, l) =>
      Array.from({ length: deliveryPartnersPerLeadProvider }, (_, i) => {
        const n = String(l * deliveryPartnersPerLeadProvider + i + 1).padStart(2, '0')
        return { lp_code: lp.code, idx: i, code: `bench-dp-${n}`, name: `Bench Teaching School Hub ${n}` }
      }),
    )
    await q(
      `insert into organisations (kind, code, name)
       select 'delivery-partner', d.code, d.name from json_to_recordset($1::json) as d(code text, name text)`,
      [JSON.stringify(dps)],
    )
    await q(
      `create temp table bench_dp as
       select d.lp_code, d.idx, d.code, dp.id as dp_id, lp.id as lp_id
       from json_to_recordset($1::json) as d(lp_code text, idx int, code text)
       join organisations dp on dp.kind = 'delivery-partner' and dp.code = d.code
       join organisations lp on lp.kind = 'lead-provider' and lp.code = d.lp_code`,
      [JSON.stringify(dps)],
    )
    await q(`insert into delivery_partnerships (lead_provider_id, delivery_partner_id) select lp_id, dp_id from bench_dp`)
    await q(
      `insert into organisations (kind, code, name)
       select 'school', (200000 + i)::text, 'Bench School ' || i from generate_series(1, $1) i`,
      [schools],
    )
    await q(
      `create temp table bench_school as
       select (row_number() over (order by code) - 1)::int as idx, id from organisations
       where kind = 'school' and name like 'Bench School %' and length(code) = 6 and code between '200001' and $1`,
      [String(200000 + schools)],
    )

    // --- Plan tables: provider/course/cohort with participant shares, and design activities ----
    const totalShare = courseCohorts.reduce((n, c) => n + c.share, 0)
    let cumulative = 0
    const ccRows = courseCohorts.map((c, i) => {
      const lo = cumulative / totalShare
      cumulative += c.share
      const activities = plannedActivities(c)
      const lp = nationalPlan.find((p) => p.code === c.leadProvider)!
      return {
        cc_id: i + 1,
        lp_code: c.leadProvider,
        course: c.course,
        cohort: c.cohort,
        starts_on: c.startsOn,
        days: c.days,
        self_reporting: c.selfReporting,
        lo,
        hi: c.share === 0 ? lo : cumulative / totalShare,
        ehco_share: c.course === ehcoCourse ? (lp.ehcoShare ?? 0) : 0,
        n_items: Math.max(1, activities.filter((a) => a.evidence === 'activity' || (c.selfReporting && a.evidence === 'register')).length),
        meetings: activities.filter((a) => a.evidence === 'meeting-log' && /-MEETING-\d+$/.test(a.code)).length,
        fats: activities.filter((a) => /-FAT-\d+$/.test(a.code)).length,
      }
    })
    // The last range ends at exactly 1.
    const last = [...ccRows].reverse().find((c) => c.hi > c.lo)
    if (last) last.hi = 1.0000001
    await q(
      `create temp table bench_cc as
       select c.*, lp.id as lp_id
       from json_to_recordset($1::json) as c(cc_id int, lp_code text, course text, cohort text, starts_on date, days int,
         self_reporting boolean, lo float8, hi float8, ehco_share float8, n_items int, meetings int, fats int)
       join organisations lp on lp.kind = 'lead-provider' and lp.code = c.lp_code`,
      [JSON.stringify(ccRows)],
    )
    const activityRows = courseCohorts.flatMap((c, i) =>
      plannedActivities(c).map((a, ord) => ({
        cc_id: i + 1,
        ord: ord + 1,
        code: a.code,
        evidence: a.evidence,
        position: a.position,
        is_video: a.isVideo,
        is_mit: a.isMit,
        event_kind: a.eventKind,
      })),
    )
    await q(
      `create temp table bench_activity as
       select * from json_to_recordset($1::json) as a(cc_id int, ord int, code text, evidence text, position float8,
         is_video boolean, is_mit boolean, event_kind text)`,
      [JSON.stringify(activityRows)],
    )

    // --- Participants and enrolments -------------------------------------------------------------
    log(`participants: ${formatCount(options.participants)}`)
    await q(
      `create temp table bench_p as
       select i as seq, gen_random_uuid() as id, random() as r_slot, random() as r_dp, random() as r_school,
         random() as r_ehco, 0.35 + 0.65 * random() as diligence
       from generate_series(1, $1) i`,
      [options.participants],
    )
    await q(
      `insert into participants (id, full_name, email, trn)
       select id, 'Bench Participant ' || seq, 'bench.participant.' || seq || '@bench.test', (1000000 + seq)::text from bench_p`,
    )
    await q(
      `create temp table bench_e as
       with first as (
         select p.id as participant_id, p.diligence, p.r_school, p.r_ehco, c.cc_id, c.lp_code, c.course, c.cohort, dp.dp_id
         from bench_p p
         join bench_cc c on p.r_slot >= c.lo and p.r_slot < c.hi
         join bench_dp dp on dp.lp_code = c.lp_code and dp.idx = least(floor(p.r_dp * $1)::int, $1 - 1)
       ), second as (
         select f.participant_id, f.diligence, f.r_school, c.cc_id, f.dp_id
         from first f join bench_cc c on c.lp_code = f.lp_code and c.cohort = f.cohort and c.course = $2
         where f.course = 'npq-headship' and f.r_ehco < c.ehco_share
       ), both_ as (
         select participant_id, diligence, r_school, cc_id, dp_id from first
         union all select participant_id, diligence, r_school, cc_id, dp_id from second
       )
       select row_number() over (order by random()) as eseq, b.*,
         row_number() over (partition by b.cc_id, b.dp_id order by random()) as gidx
       from both_ b`,
      [deliveryPartnersPerLeadProvider, ehcoCourse],
    )
    await q(`create index on bench_e (eseq)`)
    await q(
      `insert into enrolments (participant_id, lead_provider_id, delivery_partner_id, school_id, course_identifier, cohort,
         school_contract_signed_on, sponsorship_agreement_signed_on)
       select e.participant_id, c.lp_id, e.dp_id, s.id, c.course, c.cohort,
         case when e.diligence > 0.37 then c.starts_on - 30 end, case when e.diligence > 0.36 then c.starts_on - 20 end
       from bench_e e join bench_cc c using (cc_id) join bench_school s on s.idx = least(floor(e.r_school * $1)::int, $1 - 1)`,
      [schools],
    )
    const enrolments = await count('bench_e')
    log(`enrolments: ${formatCount(enrolments)}`)

    // --- Events and registers --------------------------------------------------------------------
    await q(
      `create temp table bench_ev as
       select gen_random_uuid() as id, g.cc_id, g.dp_id, a.code, a.event_kind, s as session,
         (c.starts_on + (a.position * c.days)::int + s * 2) as starts_on
       from (select cc_id, dp_id, count(*) as n from bench_e group by cc_id, dp_id) g
       join bench_cc c using (cc_id)
       join bench_activity a on a.cc_id = g.cc_id and a.evidence = 'register'
       cross join generate_series(0, ((g.n - 1) / $1)::int) s`,
      [sessionSize],
    )
    await q(
      `insert into events (id, event_ref, lead_provider_id, delivery_partner_id, course_identifier, cohort, activity_code, kind,
         starts_at, ends_at, starts_on, capacity)
       select ev.id, format('%s-%s-%s-%s', c.cohort, dp.code, ev.code, ev.session + 1), c.lp_id, ev.dp_id, c.course, c.cohort,
         ev.code, ev.event_kind, ev.starts_on + time '09:30', ev.starts_on + time '12:30', ev.starts_on, $1 + 5
       from bench_ev ev join bench_cc c using (cc_id) join bench_dp dp using (dp_id)`,
      [sessionSize],
    )
    await q(
      `insert into register_entries (event_id, participant_id, status, completed_at, completed_on, recorded_at)
       select event_id, participant_id, status, completed_at, completed_at::date, starts_at + interval '1 day'
       from (
         select event_id, participant_id, starts_at,
           case when status = 'contingency-completed' then starts_at + make_interval(days => 3 + (v * 20)::int) end as completed_at, status
         from (
           select ev.id as event_id, e.participant_id, ev.starts_on + time '09:30' as starts_at, r.v,
             case when r.u < 0.04 then null
                  when r.u < 0.04 + (0.55 + 0.4 * e.diligence) then 'attended'
                  when r.v < 0.4 then 'contingency-completed'
                  else 'absent' end as status
           from bench_e e
           join bench_activity a on a.cc_id = e.cc_id and a.evidence = 'register'
           join bench_ev ev on ev.cc_id = e.cc_id and ev.dp_id = e.dp_id and ev.code = a.code and ev.session = (e.gidx - 1) / $1
           cross join lateral (select random() + 0 * e.gidx as u, random() + 0 * e.gidx as v) r
         ) x
         where status is not null
       ) y
       where coalesce(completed_at, starts_at) < now() - interval '1 day'`,
      [sessionSize],
    )
    // A facilitator corrects a few entries: marked absent in error, then attended.
    await q(
      `insert into register_entries (event_id, participant_id, status, supersedes, note, recorded_at)
       select event_id, participant_id, 'attended', id, 'marked absent in error', recorded_at + interval '2 days'
       from register_entries where status = 'absent' and random() < 0.05`,
    )
    log(`events: ${formatCount(await count('events'))}, register entries: ${formatCount(await count('register_entries'))}`)

    // --- UCL meeting logs ---------------------------------------------------------------------------
    await q(
      `insert into meeting_logs (participant_id, course_identifier, meeting_number, held_on, signed_by_line_manager,
         signed_by_participant, fats_completed, recorded_at)
       select participant_id, course, m, held_on, u_lm < 0.93, u_p < 0.97, fats, held_on + time '17:00' + interval '2 days'
       from (
         select e.participant_id, c.course, m, e.diligence,
           c.starts_on + (c.days * m / (c.meetings + 1.0))::int + (random() * 20)::int as held_on,
           random() as u_lm, random() as u_p, random() as u_happen,
           c.fats / c.meetings + (m <= c.fats % c.meetings)::int as fats
         from bench_e e join bench_cc c using (cc_id) cross join generate_series(1, c.meetings) m
         where c.meetings > 0
       ) x
       where u_happen < 0.5 + 0.5 * diligence and held_on < current_date - 2`,
    )
    // A log not signed by the line manager is signed later: a correction that supersedes it.
    await q(
      `insert into meeting_logs (participant_id, course_identifier, meeting_number, held_on, signed_by_line_manager,
         signed_by_participant, fats_completed, supersedes, recorded_at)
       select participant_id, course_identifier, meeting_number, held_on, true, true, fats_completed, id, recorded_at + interval '7 days'
       from meeting_logs where not signed_by_line_manager and random() < 0.6`,
    )
    log(`meeting logs: ${formatCount(await count('meeting_logs'))}`)

    // --- Learning records --------------------------------------------------------------------------
    // Rows per enrolment so that the total is ~ records-per-participant × participants; each attempted
    // item gets n rows (progress below 100, then the completion), spread around its place in the course.
    const perEnrolment = (options.recordsPerParticipant * options.participants) / Math.max(1, enrolments)
    await q(
      `create unlogged table bench_lr (participant_id uuid, course_identifier text, activity_code text, occurred_at timestamptz,
         source text, progress_percent numeric(5, 2), client_event_id text)`,
    )
    for (let lo = 1; lo <= enrolments; lo += batchSize) {
      await q(
        `insert into bench_lr
         select participant_id, course, code, t, source, progress, cid
         from (
           select i.participant_id, i.course, i.code, i.source,
             i.t0 + make_interval(secs => (k - 1) * i.spacing) as t,
             case
               when i.source = 'self-report' then null
               when k < i.n then floor(95.0 * k / i.n)
               when i.completed then case when i.is_video then 100 end
               when i.is_video then 90 + floor(i.r_pct * 10)
               when i.n > 1 then floor(95.0 * (i.n - 1) / i.n)
               else 10 + floor(i.r_pct * 80)
             end as progress,
             case when i.source = 'automatic' then 'g' || i.eseq || '.' || i.ord || '.' || k end as cid
           from (
             select *,
               case when n <= 6 then 1200 + r_pct * 600 else 60 * 86400.0 / n end as spacing,
               (starts_on + make_interval(secs => floor(position * days + r_late * (1.3 - diligence) * 30) * 86400
                  + 7 * 3600 + r_secs * 14 * 3600))::timestamptz as t0
             from (
               select e.eseq, e.participant_id, e.diligence, c.course, c.starts_on, c.days, a.code, a.ord, a.position, a.is_video,
                 case when c.self_reporting and (a.evidence = 'register' or a.is_mit) then 'self-report' else 'automatic' end as source,
                 case when c.self_reporting and (a.evidence = 'register' or a.is_mit) then 1
                      else greatest(1, round($3 / (c.n_items * 0.8) * (0.5 + random())))::int end as n,
                 random() < 0.55 + 0.45 * e.diligence as completed,
                 (random() < 0.08)::int as rep,
                 random() as u_attempt, random() as r_late, random() as r_secs, random() as r_pct
               from bench_e e
               join bench_cc c using (cc_id)
               join bench_activity a on a.cc_id = e.cc_id
                 and (a.evidence = 'activity' or (c.self_reporting and a.evidence = 'register'))
               where e.eseq >= $1 and e.eseq < $2
             ) items
             where u_attempt < 0.45 + 0.55 * diligence
           ) i
           cross join generate_series(1, i.n + i.rep) k
         ) rows
         where t < now() - interval '1 hour'`,
        [lo, lo + batchSize, perEnrolment],
      )
      log(`learning records staged: enrolments ${formatCount(Math.min(enrolments, lo + batchSize - 1))} of ${formatCount(enrolments)}`)
    }
    const staged = await count('bench_lr')
    log(`learning records: writing ${formatCount(staged)} rows in time order, then rebuilding the table's indexes`)
    await q('begin')
    const rebuild = await dropIndexes(client, 'learning_records')
    // The trigger that keeps learning_completions works statement by statement; for one bulk load it is
    // cheaper to fill the table once afterwards, with the statement migration 0007 used.
    await q('alter table learning_records disable trigger learning_completions_maintain')
    await q(
      `insert into learning_records (participant_id, course_identifier, activity_code, occurred_at, evidence_on, source,
         progress_percent, client_event_id, recorded_at)
       select participant_id, course_identifier, activity_code, occurred_at, (occurred_at at time zone 'Europe/London')::date,
         source, progress_percent, client_event_id, occurred_at + interval '90 seconds'
       from bench_lr order by occurred_at`,
    )
    log('learning records written; rebuilding indexes and constraints')
    for (const statement of rebuild) {
      await q(statement)
      log(`  ${statement.length > 110 ? `${statement.slice(0, 107)}...` : statement}`)
    }
    await q('alter table learning_records enable trigger learning_completions_maintain')
    await q(
      `insert into learning_completions (participant_id, course_identifier, activity_code, source, first_on)
       select r.participant_id, r.course_identifier, r.activity_code, r.source, min(r.evidence_on)
       from learning_records r
       where not r.retracted and (r.progress_percent is null or r.progress_percent >= 100)
       group by r.participant_id, r.course_identifier, r.activity_code, r.source`,
    )
    log('first completions written')
    await q('commit')
    await q('drop table bench_lr')
    // Corrections: a few records retracted (entered in error), a few corrected to another time.
    await q(
      `insert into learning_records (participant_id, course_identifier, activity_code, occurred_at, evidence_on, source,
         progress_percent, supersedes, retracted, reason, recorded_at)
       select participant_id, course_identifier, activity_code,
         case when retract then occurred_at else occurred_at + interval '1 day' end,
         case when retract then evidence_on else ((occurred_at + interval '1 day') at time zone 'Europe/London')::date end,
         source, progress_percent, id, retract, case when retract then 'entered in error' else 'wrong date' end,
         recorded_at + interval '3 days'
       from (select *, random() < 0.5 as retract from learning_records where random() < 0.002) x`,
    )
    const learningRecords = await count('learning_records')
    log(`learning records: ${formatCount(learningRecords)}`)

    log('vacuum analyze')
    await q('vacuum (analyze)')
    const summary: GenerateSummary = {
      participants: await count('participants'),
      enrolments: await count('enrolments'),
      deliveryPartners: dps.length,
      learningRecords,
      events: await count('events'),
      registerEntries: await count('register_entries'),
      meetingLogs: await count('meeting_logs'),
      seconds: Math.round((performance.now() - started) / 100) / 10,
    }
    log(`done in ${summary.seconds}s`)
    return summary
  } catch (error) {
    await client.query('rollback').catch(() => {})
    throw error
  } finally {
    await client.end()
  }
}

/**
 * Drops a table's indexes and constraints (and foreign keys that point at it) for a bulk load, and
 * returns the statements that put every one of them back, from the catalog's own definitions.
 */
async function dropIndexes(client: pg.Client, table: string): Promise<string[]> {
  const constraints = await client.query<{ table: string; name: string; definition: string; type: string }>(
    `select conrelid::regclass::text as table, conname as name, pg_get_constraintdef(oid) as definition, contype as type
     from pg_constraint
     where (conrelid = $1::regclass and contype in ('p', 'u', 'f')) or (confrelid = $1::regclass and contype = 'f')`,
    [table],
  )
  const indexes = await client.query<{ name: string; definition: string }>(
    `select indexname as name, indexdef as definition from pg_indexes
     where schemaname = current_schema() and tablename = $1
       and indexname not in (select conname from pg_constraint where conrelid = $1::regclass)`,
    [table],
  )
  const foreign = constraints.rows.filter((c) => c.type === 'f')
  const keys = constraints.rows.filter((c) => c.type !== 'f').sort((a, b) => (a.type === 'p' ? -1 : b.type === 'p' ? 1 : 0))
  for (const c of foreign) await client.query(`alter table ${c.table} drop constraint ${c.name}`)
  for (const c of keys) await client.query(`alter table ${c.table} drop constraint ${c.name}`)
  for (const i of indexes.rows) await client.query(`drop index ${i.name}`)
  return [
    ...keys.map((c) => `alter table ${c.table} add constraint ${c.name} ${c.definition}`),
    ...indexes.rows.map((i) => i.definition),
    ...foreign.map((c) => `alter table ${c.table} add constraint ${c.name} ${c.definition}`),
  ]
}

function redact(url: string): string {
  const u = new URL(url)
  if (u.password) u.password = '***'
  return u.toString()
}

async function main() {
  const { values } = parseArgs({
    options: {
      participants: { type: 'string', default: '100000' },
      'records-per-participant': { type: 'string', default: '100' },
      fresh: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  })
  if (values.help) {
    process.stdout.write(
      'npm run bench:generate -- [--participants 100000] [--records-per-participant 100] [--fresh] [--quiet]\n' +
        'Writes the national-scale data set into DATABASE_URL (default: npq_bench on the local PostgreSQL).\n',
    )
    return
  }
  const participants = Number(values.participants)
  const recordsPerParticipant = Number(values['records-per-participant'])
  if (!Number.isInteger(participants) || participants < 10 || participants > 8_000_000) {
    process.stderr.write('--participants must be a whole number from 10 to 8,000,000\n')
    process.exit(2)
  }
  if (!(recordsPerParticipant > 0)) {
    process.stderr.write('--records-per-participant must be a positive number\n')
    process.exit(2)
  }
  const url = benchDatabaseUrl()
  const summary = await generate(url, { participants, recordsPerParticipant, fresh: values.fresh, quiet: values.quiet })
  process.stdout.write(`${JSON.stringify({ database: redact(url), ...summary }, null, 2)}\n`)
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(
      `${error instanceof DatabaseNotEmptyError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    )
    process.exit(1)
  })
}
