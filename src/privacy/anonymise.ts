import { sql } from 'kysely'
import { recordAudit } from '../audit/audit.ts'
import type { Catalogue } from '../catalogue/catalogue.ts'
import type { Db, Trx } from '../db/database.ts'
import type { DeclarationState, EnrolmentStatus } from '../db/schema.ts'
import { AppError } from '../errors.ts'
import { can } from '../policy/policy.ts'
import type { Principal } from '../policy/principal.ts'
import { findSubject, type Subject } from './personal-data.ts'
import { defaultRetentionYears, erasureBlockers, isDueForErasure, type RetentionFacts } from './retention.ts'

// Erasure of one participant's personal data, in ONE transaction with an audit entry
// (docs/RELIABILITY.md "Data protection").
//
// Kept, because DfE's funding rules need them as declaration evidence: the participant row (with a
// pseudonym in place of name, email and TRN, and their DfE participant id), enrolments, declarations and
// their evidence snapshots and history, learning records, register entries, signed meeting logs (who signed
// and when), assessment results, deferrals, withdrawals, funding and agreements — so every output and
// engagement figure for the enrolment is the same afterwards.
// Removed or replaced: name, email and TRN wherever they appear (outside the audit log, which keeps only
// ids and is itself kept for the retention period); everything they wrote; private-only rows (journal,
// learning audits); their sessions, links, calendar feed, sign-in attempts and emails; the account is disabled.

export const erased = '[erased]'

export class ErasureRefused extends AppError {
  readonly blockers: string[]
  constructor(message: string, blockers: string[]) {
    super('unprocessable', `${message}: ${blockers.join('; ')}`)
    this.blockers = blockers
  }
}

const runningStatuses: EnrolmentStatus[] = ['accepted', 'active', 'deferred']

/** The facts the retention rule needs, for each participant. */
export async function loadRetentionFacts(
  db: Db | Trx,
  catalogue: Catalogue,
  participantIds: string[],
): Promise<Map<string, RetentionFacts>> {
  const facts = new Map<string, RetentionFacts>()
  if (participantIds.length === 0) return facts
  const people = await db.selectFrom('participants').select(['id', 'user_id', 'anonymised_at']).where('id', 'in', participantIds).execute()
  for (const p of people)
    facts.set(p.id, { enrolments: [], declarationStates: [], openSafeguardingConcerns: 0, anonymised: p.anonymised_at !== null })
  const enrolments = await db
    .selectFrom('enrolments as e')
    .innerJoin('organisations as lp', 'lp.id', 'e.lead_provider_id')
    .select((eb) => [
      'e.id',
      'e.participant_id',
      'e.status',
      'lp.code as lead_provider',
      // The day it ended: the transition into its present status, else (withdrawn) the withdrawal in force.
      eb
        .selectFrom('enrolment_transitions as t')
        .whereRef('t.enrolment_id', '=', 'e.id')
        .whereRef('t.to_status', '=', 'e.status')
        .select(sql<string>`max(t.effective_on)::text`.as('on'))
        .as('transition_on'),
      eb
        .selectFrom('withdrawals as w')
        .whereRef('w.participant_id', '=', 'e.participant_id')
        .where((w) => w.or([w('w.enrolment_id', '=', w.ref('e.id')), w('w.enrolment_id', 'is', null)]))
        .where('w.reinstated_on', 'is', null)
        .select(sql<string>`max(w.withdrawn_on)::text`.as('on'))
        .as('withdrawn_on'),
    ])
    .where('e.participant_id', 'in', participantIds)
    .execute()
  for (const e of enrolments) {
    const endedOn = runningStatuses.includes(e.status) ? null : (e.transition_on ?? (e.status === 'withdrawn' ? e.withdrawn_on : null))
    facts.get(e.participant_id)!.enrolments.push({
      status: e.status,
      endedOn,
      retentionYears: catalogue.policy(e.lead_provider)?.retention_years_after_completion ?? defaultRetentionYears,
    })
  }
  const declarations = await db
    .selectFrom('declarations')
    .select(['participant_id', 'state'])
    .where('participant_id', 'in', participantIds)
    .execute()
  for (const d of declarations) facts.get(d.participant_id)!.declarationStates.push(d.state as DeclarationState)
  const userIds = people.map((p) => p.user_id).filter((id): id is string => id !== null)
  if (userIds.length) {
    const open = await db
      .selectFrom('safeguarding_concerns')
      .select(['raised_by', (eb) => eb.fn.countAll<string>().as('n')])
      .where('raised_by', 'in', userIds)
      .where('status', '<>', 'closed')
      .groupBy('raised_by')
      .execute()
    for (const p of people) {
      const n = open.find((o) => o.raised_by === p.user_id)?.n
      if (n) facts.get(p.id)!.openSafeguardingConcerns = Number(n)
    }
  }
  return facts
}

export type AnonymiseOptions = {
  catalogue: Catalogue
  /** 'retention': the daily job, only once the retention period has passed; 'request': a verified erasure request. */
  mode: 'retention' | 'request'
  reason: string
  /** London date. */
  today: string
}

export type AnonymiseResult = {
  participant_id: string
  mode: 'retention' | 'request'
  anonymised_at: string
  removed: Record<string, number>
  replaced: Record<string, number>
  kept: Record<string, number>
}

const regexEscape = (value: string) => value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

/** Erases one participant's personal data and keeps the funding evidence (see the top of this file). */
export async function anonymiseParticipant(
  db: Db,
  by: Principal,
  participantId: string,
  options: AnonymiseOptions,
): Promise<AnonymiseResult> {
  return db.transaction().execute(async (trx) => {
    // Serialises with anything else changing this person while they are erased.
    const row = await trx
      .selectFrom('participants')
      .select(['id', 'anonymised_at'])
      .where('id', '=', participantId)
      .forUpdate()
      .executeTakeFirst()
    if (!row) throw new AppError('not-found', `No participant with id ${participantId}`)
    if (row.anonymised_at)
      throw new ErasureRefused('Already erased', [`this participant's data was erased on ${row.anonymised_at.toISOString()}`])
    const subject = (await findSubject(trx, { participantId }))!
    if (!can(by, 'erase-personal-data', { type: 'personal-data', leadProviderIds: subject.leadProviderIds }))
      throw new AppError('forbidden', 'You do not have permission to erase personal data')
    const facts = (await loadRetentionFacts(trx, options.catalogue, [participantId])).get(participantId)!
    const blockers = erasureBlockers(facts)
    if (blockers.length) throw new ErasureRefused('Cannot erase this participant’s data yet', blockers)
    if (options.mode === 'retention' && !isDueForErasure(facts, options.today))
      throw new ErasureRefused('Not due for erasure', ['the retention period after the last enrolment ended has not passed'])

    await sql`select set_config('npq.erasure', 'on', true)`.execute(trx)
    const result = await erase(trx, subject, participantId)
    await recordAudit(trx, {
      by,
      action: 'privacy.anonymise',
      entityType: 'participant',
      entityId: participantId,
      // Ids and counts only: the audit log never holds the erased values.
      after: {
        mode: options.mode,
        reason: options.reason,
        user_ids: subject.userIds,
        enrolment_ids: subject.enrolmentIds,
        application_ids: subject.applicationIds,
        removed: result.removed,
        replaced: result.replaced,
        kept: result.kept,
      },
    })
    return { participant_id: participantId, mode: options.mode, ...result }
  })
}

async function erase(trx: Trx, s: Subject, participantId: string): Promise<Omit<AnonymiseResult, 'participant_id' | 'mode'>> {
  const now = new Date()
  const pseudonym = `Erased participant ${participantId.slice(0, 8)}`
  const P = sql`${s.participantIds}::uuid[]`
  const U = sql`${s.userIds}::uuid[]`
  const E = sql`${s.enrolmentIds}::uuid[]`
  const removed: Record<string, number> = {}
  const replaced: Record<string, number> = {}
  const count = (into: Record<string, number>, key: string, n: bigint | number | undefined) => {
    into[key] = (into[key] ?? 0) + Number(n ?? 0)
  }
  const run = async (into: Record<string, number>, key: string, statement: ReturnType<typeof sql>) => {
    const r = await statement.execute(trx)
    count(into, key, r.numAffectedRows)
  }

  // Who they are: pseudonyms that keep the rows (and DfE's participant id) as the evidence's key.
  await run(
    replaced,
    'participants',
    sql`update participants set full_name = 'Erased participant ' || left(id::text, 8), email = 'erased-' || id::text || '@erased.invalid',
          trn = 'erased-' || id::text, anonymised_at = ${now} where id = any(${P})`,
  )
  await run(
    replaced,
    'users',
    sql`update users set full_name = ${pseudonym}, email = 'erased-' || id::text || '@erased.invalid', password_hash = null,
          status = 'disabled' where id = any(${U})`,
  )
  await run(
    replaced,
    'applications',
    sql`update applications set full_name = ${pseudonym}, email = 'erased-' || id::text || '@erased.invalid',
          trn = 'erased-' || coalesce(participant_id, id)::text where id = any(${s.applicationIds}::uuid[])`,
  )

  // Private-only rows, access, and mail: removed.
  await run(removed, 'sessions', sql`delete from sessions where user_id = any(${U})`)
  await run(removed, 'one_time_links', sql`delete from one_time_links where user_id = any(${U})`)
  await run(removed, 'calendar_feeds', sql`delete from calendar_feeds where user_id = any(${U})`)
  await run(removed, 'sign_in_attempts', sql`delete from sign_in_attempts where email = any(${s.emails}::text[])`)
  await run(removed, 'email_outbox', sql`delete from email_outbox where to_address = any(${s.emails}::text[])`)
  await run(removed, 'journal_entries', sql`delete from journal_entries where user_id = any(${U})`)
  await run(removed, 'learning_audits', sql`delete from learning_audits where enrolment_id = any(${E})`)

  // What they wrote: replaced, keeping the rows (and every date, status, mark and signature) as evidence.
  const x = sql`${erased}`
  const byE = sql`enrolment_id = any(${E})`
  const entries = sql`entry_id in (select id from assessment_entries where ${byE})`
  const textUpdates: [string, ReturnType<typeof sql>][] = [
    ['forum_posts', sql`update forum_posts set body = ${x} where author_user_id = any(${U})`],
    ['forum_threads', sql`update forum_threads set title = ${x} where created_by = any(${U})`],
    [
      'safeguarding_concerns',
      sql`update safeguarding_concerns set concern = ${x}, phone = '', outcome = ${x} where raised_by = any(${U}) and status = 'closed'`,
    ],
    [
      'meeting_log_versions',
      sql`update meeting_log_versions set checking_in = ${x}, key_purposes = ${x},
            answers = (select coalesce(jsonb_agg(jsonb_set(a, '{response}', to_jsonb(${erased}::text))), '[]'::jsonb) from jsonb_array_elements(answers) a)
          where ${byE}`,
    ],
    ['meeting_schedules', sql`update meeting_schedules set location = null where ${byE} and location is not null`],
    ['implementation_projects', sql`update implementation_projects set title = ${x} where ${byE}`],
    ['project_entries', sql`update project_entries set body = ${x} where ${byE}`],
    ['project_reports', sql`update project_reports set body = ${x}, file_data = null, file_name = null where ${byE}`],
    [
      'assessment_entries',
      sql`update assessment_entries set draft = '', submitted_text = case when submitted_text is null then null else ${x} end where ${byE}`,
    ],
    [
      'extenuating_circumstances',
      sql`update extenuating_circumstances set reason = ${x}, decision_reason = case when decision_reason is null then null else ${x} end where ${entries}`,
    ],
    [
      'assessment_marks',
      sql`update assessment_marks set feedback = case when feedback is null then null else ${x} end,
            moderation_notes = case when moderation_notes is null then null else ${x} end where ${entries}`,
    ],
    [
      'task_submissions',
      sql`update task_submissions set body = ${x}, file_data = null, file_name = null,
            feedback = case when feedback is null then null else ${x} end where ${byE}`,
    ],
    ['content_progress', sql`update content_progress set answers = '{}'::jsonb where ${byE} and answers <> '{}'::jsonb`],
    [
      'deferral_requests',
      sql`update deferral_requests set details = ${x}, conversation_notes = case when conversation_notes is null then null else ${x} end,
            decision_reason = case when decision_reason is null then null else ${x} end where ${byE}`,
    ],
    [
      'withdrawal_requests',
      sql`update withdrawal_requests set details = case when details is null then null else ${x} end,
            decision_reason = case when decision_reason is null then null else ${x} end,
            refund_note = case when refund_note is null then null else ${x} end where ${byE}`,
    ],
    ['enrolment_transitions', sql`update enrolment_transitions set details = ${x} where ${byE} and details is not null`],
    [
      'escalation_actions',
      sql`update escalation_actions set notes = ${x} where notes is not null and case_id in (select id from escalation_cases where participant_id = any(${P}))`,
    ],
    [
      'register_entries',
      sql`update register_entries set note = case when note is null then null else ${x} end,
            change_reason = case when change_reason is null then null else ${x} end
          where participant_id = any(${P}) and (note is not null or change_reason is not null)`,
    ],
    [
      'withdrawals',
      sql`update withdrawals set reinstated_reason = ${x} where participant_id = any(${P}) and reinstated_reason is not null`,
    ],
  ]
  for (const [table, statement] of textUpdates) await run(replaced, table, statement)

  // Survey responses: free-text answers go; ratings and choices stay (the results keep their counts).
  const responses = await trx
    .selectFrom('survey_responses as r')
    .innerJoin('surveys as s', 's.id', 'r.survey_id')
    .select(['r.id', 'r.answers', 's.questions'])
    .where('r.enrolment_id', 'in', s.enrolmentIds.length ? s.enrolmentIds : ['00000000-0000-0000-0000-000000000000'])
    .execute()
  for (const r of responses) {
    const textIds = new Set(r.questions.filter((q) => q.kind === 'text').map((q) => q.id))
    const answers = Object.fromEntries(Object.entries(r.answers).map(([k, v]) => [k, textIds.has(k) && v !== '' ? erased : v]))
    await sql`update survey_responses set answers = ${JSON.stringify(answers)}::jsonb where id = ${r.id}`.execute(trx)
    count(replaced, 'survey_responses', 1)
  }

  // Mentions anywhere else (other people's posts and emails, CSV uploads, DfE request bodies and
  // responses): every text and JSON column of every table except the audit log and the rows above.
  count(replaced, 'mentions', await sweepMentions(trx, s))

  // What stays as DfE funding evidence, keyed by the participant id.
  const kept: Record<string, number> = {}
  for (const [table, where] of [
    ['declarations', sql`participant_id = any(${P})`],
    ['learning_records', sql`participant_id = any(${P})`],
    ['register_entries', sql`participant_id = any(${P})`],
    ['meeting_logs', sql`participant_id = any(${P})`],
    ['assessment_attempts', sql`participant_id = any(${P})`],
    ['assessment_entries', byE],
    ['enrolments', sql`participant_id = any(${P})`],
  ] as const) {
    const { rows } = await sql<{ n: string }>`select count(*)::text as n from ${sql.table(table)} where ${where}`.execute(trx)
    kept[table] = Number(rows[0]!.n)
  }
  return { anonymised_at: now.toISOString(), removed, replaced, kept }
}

/** Tables the sweep leaves alone: the audit log (never changed), and the identity rows pseudonymised above. */
const notSwept = new Set(['audit_events', 'participants', 'users', 'applications', 'kysely_migration', 'kysely_migration_lock'])

async function sweepMentions(trx: Trx, s: Subject): Promise<number> {
  // Whole values only: participant@x.test is not inside ucl-participant@x.test, nor 1234567 inside 91234567.
  const parts = [
    ...s.emails.map((e) => `(?<![a-z0-9._%+-])${regexEscape(e)}(?![a-z0-9_%+-]|\\.[a-z0-9])`),
    ...s.names.filter((n) => n.trim().length >= 5).map((n) => `(?<![[:alnum:]])${regexEscape(n.trim())}(?![[:alnum:]])`),
    ...s.trns.map((t) => `(?<![0-9])${t}(?![0-9])`),
  ]
  if (parts.length === 0) return 0
  const pattern = parts.join('|')
  const { rows: columns } = await sql<{ table_name: string; column_name: string; data_type: string }>`
    select c.table_name, c.column_name, c.data_type
    from information_schema.columns c
    join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
    where c.table_schema = current_schema() and c.data_type in ('text', 'character varying', 'json', 'jsonb')
    order by c.table_name, c.column_name
  `.execute(trx)
  let total = 0
  for (const c of columns) {
    if (notSwept.has(c.table_name)) continue
    const column = sql.ref(c.column_name)
    const value = c.data_type === 'json' || c.data_type === 'jsonb' ? sql`${column}::text` : column
    const cast = c.data_type === 'json' ? sql`::json` : c.data_type === 'jsonb' ? sql`::jsonb` : sql``
    const r = await sql`update ${sql.table(c.table_name)} set ${column} = regexp_replace(${value}, ${pattern}, ${erased}, 'gi')${cast}
      where ${value} ~* ${pattern}`.execute(trx)
    total += Number(r.numAffectedRows ?? 0)
  }
  return total
}

/** Participants the daily job erases today: every enrolment ended, the retention period passed, nothing unsettled. */
export async function dueForErasure(db: Db, catalogue: Catalogue, today: string): Promise<string[]> {
  const candidates = await db
    .selectFrom('participants as p')
    .select('p.id')
    .where('p.anonymised_at', 'is', null)
    .where((eb) => eb.exists(eb.selectFrom('enrolments as e').select('e.id').whereRef('e.participant_id', '=', 'p.id')))
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom('enrolments as e')
            .select('e.id')
            .whereRef('e.participant_id', '=', 'p.id')
            .where('e.status', 'in', runningStatuses),
        ),
      ),
    )
    .orderBy('p.id')
    .execute()
  const due: string[] = []
  for (let i = 0; i < candidates.length; i += 500) {
    const batch = candidates.slice(i, i + 500).map((c) => c.id)
    const facts = await loadRetentionFacts(db, catalogue, batch)
    for (const id of batch) if (isDueForErasure(facts.get(id)!, today)) due.push(id)
  }
  return due
}
