import { sql, type ExpressionBuilder, type Selectable } from 'kysely'
import { z } from 'zod'
import { storeDfeApplications } from '../applications/applications.ts'
import { recordAudit } from '../audit/audit.ts'
import type { Config } from '../config.ts'
import type { Db, Trx } from '../db/database.ts'
import type { DfeRequestsTable, Schema } from '../db/schema.ts'
import { canMove, changeDeclarationState } from '../declarations/state.ts'
import { defineJob, type JobDefinition } from '../jobs/queue.ts'
import type { Logger } from '../logging.ts'
import type { Principal } from '../policy/principal.ts'
import {
  DfeCallError,
  DfeClient,
  describeDfeError,
  dfeApplicationsResponse,
  dfeDeclarationResponse,
  dfeDeclarationsResponse,
  dfeDeclarationState,
  dfeStatementsResponse,
  type DfeDeclaration,
  type DfeResponse,
  type DfeStatement,
} from './client.ts'
import { dfeDeclarationIdPlaceholder, dfeSendRequestJobName, dfeSyncJobName, queueDfeRequest } from './requests.ts'

// Sends the queued DfE requests and applies DfE's answers. Every HTTP call is kept as an attempt
// row (status, response or error, duration). A request that fails stays queued, visible with its
// error, and is tried again with exponential backoff — also a 4xx, which an admin can cancel — so a
// failed DfE call never disappears. One participant's requests go in the order they were queued
// (a void waits for its submit); a lease (claimed_until) stops two senders sending one request.

type RequestRow = Selectable<DfeRequestsTable>

type Call = {
  attemptedAt: Date
  status: number | null
  response: unknown
  error: string | null
  durationMs: number
}

export type DfeSyncResult = { sent: number; failed: number; queued: number }
export type DfeSendResult =
  | { outcome: 'sent' }
  | { outcome: 'failed'; error: string }
  | { outcome: 'skipped'; reason: 'sync-off' | 'not-queued' | 'in-flight' | 'waiting-for-earlier' | 'not-due' }

const dfeSync: Principal = { kind: 'system', name: 'dfe-sync' }
const LEASE = '15 minutes'
const PER_PAGE = 1000
const MAX_PAGES = 200
/** Responses bigger than this are kept as a summary in the attempt row. */
const MAX_STORED_RESPONSE = 100_000

/** Seconds before the next try after `attempts` failures: 1, 2, 4 … minutes, at most 6 hours (24 for a refusal). */
export function backoffSeconds(attempts: number, status: number | null): number {
  const refused = status !== null && status >= 400 && status < 500 && status !== 408 && status !== 429
  return Math.min(60 * 2 ** Math.min(Math.max(attempts - 1, 0), 20), (refused ? 24 : 6) * 3600)
}

class Failure extends Error {
  readonly status: number | null
  constructor(message: string, status: number | null) {
    super(message)
    this.status = status
  }
}

export class DfeSync {
  private readonly db: Db
  private readonly client: DfeClient | null
  private readonly logger: Logger

  constructor(db: Db, config: Config['dfe'], logger: Logger, options: { timeoutMs?: number } = {}) {
    this.db = db
    this.client = config ? new DfeClient(config, options) : null
    this.logger = logger
  }

  /** False when DFE_API_URL and DFE_API_TOKEN are unset: requests wait in the queue. */
  get enabled(): boolean {
    return this.client !== null
  }

  async queuedCount(leadProviderIds?: string[]): Promise<number> {
    let q = this.db
      .selectFrom('dfe_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'queued')
    if (leadProviderIds)
      q = q.where('lead_provider_id', 'in', leadProviderIds.length ? leadProviderIds : ['00000000-0000-0000-0000-000000000000'])
    return Number((await q.executeTakeFirstOrThrow()).n)
  }

  /**
   * Sends the queued requests, oldest first and each participant's in order; each is tried at most
   * once per run. `force` sends those waiting out a backoff too (`npq dfe sync`: "now").
   */
  async syncAll(options: { force?: boolean } = {}): Promise<DfeSyncResult> {
    let sent = 0
    let failed = 0
    if (this.client) {
      const tried = new Set<string>()
      for (;;) {
        const due = await this.db
          .selectFrom('dfe_requests as r')
          .select('r.id')
          .where(sendable(options.force ?? false))
          .$if(tried.size > 0, (q) => q.where('r.id', 'not in', [...tried]))
          .orderBy('r.seq')
          .limit(100)
          .execute()
        if (due.length === 0) break
        for (const { id } of due) {
          tried.add(id)
          const result = await this.send(id, options)
          if (result.outcome === 'sent') sent++
          if (result.outcome === 'failed') failed++
        }
      }
    }
    return { sent, failed, queued: await this.queuedCount() }
  }

  /** Sends one request now if it may go: queued, not in flight, no earlier request of its participant waiting. */
  async send(requestId: string, options: { force?: boolean } = {}): Promise<DfeSendResult> {
    if (!this.client) return { outcome: 'skipped', reason: 'sync-off' }
    const claimed = await this.db
      .updateTable('dfe_requests as r')
      .set({ claimed_until: sql<Date>`now() + ${LEASE}::interval` })
      .where('r.id', '=', requestId)
      .where(sendable(options.force ?? false))
      .returningAll()
      .executeTakeFirst()
    if (!claimed) return { outcome: 'skipped', reason: await this.whyNot(requestId) }

    const calls: Call[] = []
    let applied: ((trx: Trx) => Promise<unknown>) | null = null
    let failure: Failure | null = null
    try {
      applied = await this.perform(claimed, calls)
    } catch (error) {
      failure = error instanceof Failure ? error : new Failure(error instanceof Error ? error.message : String(error), null)
    }
    if (applied) {
      try {
        const apply = applied
        await this.db.transaction().execute(async (trx) => {
          await this.recordCalls(trx, claimed.id, calls)
          await apply(trx)
          await trx
            .updateTable('dfe_requests')
            .set({ status: 'sent', sent_at: new Date(), attempts: claimed.attempts + 1, last_error: null, claimed_until: null })
            .where('id', '=', claimed.id)
            .execute()
        })
        this.logger.info({ dfeRequestId: claimed.id, kind: claimed.kind }, 'DfE request sent')
        return { outcome: 'sent' }
      } catch (error) {
        // DfE took it but its answer could not be applied here: keep it queued and visible.
        const message = error instanceof Error ? error.message : String(error)
        failure = new Failure(`DfE accepted the request, but its answer could not be applied: ${message}`, calls.at(-1)?.status ?? null)
      }
    }
    const error = failure!.message.slice(0, 2000)
    const attempts = claimed.attempts + 1
    await this.db.transaction().execute(async (trx) => {
      // A failure before any call (a void still waiting for DfE's id) is an attempt too.
      await this.recordCalls(
        trx,
        claimed.id,
        calls.length ? calls : [{ attemptedAt: new Date(), status: null, response: null, error, durationMs: 0 }],
      )
      await trx
        .updateTable('dfe_requests')
        .set({
          attempts,
          last_error: error,
          next_attempt_at: new Date(Date.now() + backoffSeconds(attempts, failure!.status) * 1000),
          claimed_until: null,
        })
        .where('id', '=', claimed.id)
        .execute()
    })
    this.logger.warn(
      { dfeRequestId: claimed.id, kind: claimed.kind, attempts, status: failure!.status },
      'DfE request failed; it stays queued',
    )
    return { outcome: 'failed', error }
  }

  private async whyNot(requestId: string): Promise<'not-queued' | 'in-flight' | 'waiting-for-earlier' | 'not-due'> {
    const row = await this.db
      .selectFrom('dfe_requests as r')
      .select([
        'r.status',
        sql<boolean>`r.claimed_until is not null and r.claimed_until >= now()`.as('in_flight'),
        sql<boolean>`r.next_attempt_at > now()`.as('later'),
        (eb) => eb.exists(earlierWaiting(eb)).as('waiting'),
      ])
      .where('r.id', '=', requestId)
      .executeTakeFirst()
    if (!row || row.status !== 'queued') return 'not-queued'
    if (row.in_flight) return 'in-flight'
    if (row.waiting) return 'waiting-for-earlier'
    return 'not-due'
  }

  /** Makes the calls for a request; returns what to write when DfE accepted it, or throws a Failure. */
  private async perform(request: RequestRow, calls: Call[]): Promise<(trx: Trx) => Promise<unknown>> {
    switch (request.kind) {
      case 'submit-declaration':
        return this.submit(request, calls)
      case 'void-declaration':
        return this.voidDeclaration(request, calls)
      case 'pull-statements':
        return this.pullStatements(request, calls)
      case 'pull-applications': {
        const applications = await this.pages(request.path, await this.updatedSince(request), calls, dfeApplicationsResponse)
        return async (trx) => {
          const counts = await storeDfeApplications(trx, request.lead_provider_id, applications, dfeSync)
          this.logger.info({ dfeRequestId: request.id, applications: applications.length, ...counts }, 'DfE applications pulled')
        }
      }
      case 'defer-participant':
      case 'resume-participant':
      case 'withdraw-participant':
      case 'post-outcome':
      case 'accept-application':
      case 'reject-application':
      case 'change-funded-place':
      case 'change-schedule':
        await this.expect2xx(request.method, request.path, request.body, calls)
        return async () => {}
    }
  }

  private async submit(request: RequestRow, calls: Call[]): Promise<(trx: Trx) => Promise<unknown>> {
    // After a timeout or a 5xx, DfE may have made the declaration all the same: look before posting
    // again, or the repeat would be refused as a duplicate and the request would never clear.
    if (request.attempts > 0) {
      const attributes = (request.body as { data: { attributes: Record<string, unknown> } }).data.attributes
      const existing = await this.pages(
        '/participant-declarations',
        { 'filter[participant_id]': String(attributes.participant_id) },
        calls,
        dfeDeclarationsResponse,
      )
      const same = existing.find(
        (d) =>
          d.attributes.declaration_type === attributes.declaration_type &&
          d.attributes.course_identifier === attributes.course_identifier &&
          dfeDeclarationState(d.attributes.state) !== 'voided',
      )
      if (same) return (trx) => this.applyDeclaration(trx, request.subject_id!, same, 'submitted earlier: found at DfE')
    }
    const body = await this.expect2xx('POST', request.path, request.body, calls)
    const parsed = dfeDeclarationResponse.safeParse(body)
    if (!parsed.success) throw new Failure(`DfE's answer is not a participant declaration: ${parsed.error.issues[0]?.message}`, null)
    return (trx) => this.applyDeclaration(trx, request.subject_id!, parsed.data.data, 'DfE’s answer to the declaration')
  }

  private async voidDeclaration(request: RequestRow, calls: Call[]): Promise<(trx: Trx) => Promise<unknown>> {
    let path = request.path
    if (path.includes(dfeDeclarationIdPlaceholder)) {
      const declaration = await this.db
        .selectFrom('declarations')
        .select('dfe_declaration_id')
        .where('id', '=', request.subject_id!)
        .executeTakeFirstOrThrow()
      if (!declaration.dfe_declaration_id) {
        throw new Failure(
          'DfE has no id for this declaration: its submit has not succeeded (or was cancelled), so there is nothing to void yet',
          null,
        )
      }
      path = path.replace(dfeDeclarationIdPlaceholder, declaration.dfe_declaration_id)
    }
    const body = await this.expect2xx('PUT', path, null, calls)
    const parsed = dfeDeclarationResponse.safeParse(body)
    if (!parsed.success) throw new Failure(`DfE's answer is not a participant declaration: ${parsed.error.issues[0]?.message}`, null)
    // The void was addressed by DfE's id in the path: its answer is about that declaration.
    const answer = { ...parsed.data.data, id: path.split('/')[2]! }
    return (trx) => this.applyDeclaration(trx, request.subject_id!, answer, 'DfE’s answer to the void')
  }

  private async pullStatements(request: RequestRow, calls: Call[]): Promise<(trx: Trx) => Promise<unknown>> {
    const since = await this.updatedSince(request)
    const statements = await this.pages('/statements', {}, calls, dfeStatementsResponse)
    const declarations = await this.pages('/participant-declarations', since, calls, dfeDeclarationsResponse)
    const byId = new Map(statements.map((s) => [s.id, s]))
    return async (trx) => {
      let changed = 0
      for (const d of declarations) {
        const ours = await trx
          .selectFrom('declarations')
          .select('id')
          .where('dfe_declaration_id', '=', d.id)
          .where('lead_provider_id', '=', request.lead_provider_id)
          .executeTakeFirst()
        if (!ours) continue
        const statement = d.attributes.statement_id ? byId.get(d.attributes.statement_id) : undefined
        if (await this.applyDeclaration(trx, ours.id, d, statementReason(statement))) changed++
      }
      this.logger.info(
        { dfeRequestId: request.id, statements: statements.length, declarations: declarations.length, changed },
        'DfE statements pulled',
      )
    }
  }

  /**
   * Stores DfE's id for the declaration (once) and moves it to DfE's state. A move our own later
   * change rules out (DfE says eligible, we voided since) is left: the queued void tells DfE.
   */
  private async applyDeclaration(trx: Trx, declarationId: string, dfe: DfeDeclaration, reason: string): Promise<boolean> {
    const current = await trx
      .selectFrom('declarations')
      .select(['state', 'dfe_declaration_id'])
      .where('id', '=', declarationId)
      .forUpdate()
      .executeTakeFirstOrThrow()
    if (current.dfe_declaration_id === null) {
      await trx.updateTable('declarations').set({ dfe_declaration_id: dfe.id }).where('id', '=', declarationId).execute()
    } else if (current.dfe_declaration_id !== dfe.id) {
      throw new Error(`DfE answered about declaration ${dfe.id}, but this one is ${current.dfe_declaration_id} at DfE`)
    }
    const to = dfeDeclarationState(dfe.attributes.state)
    if (!to) throw new Error(`DfE reported an unknown declaration state "${dfe.attributes.state}"`)
    if (!canMove(current.state, to)) {
      if (current.state !== to)
        this.logger.warn({ declarationId, ourState: current.state, dfeState: to }, 'DfE state not applied: our later change stands')
      return false
    }
    const { changed } = await changeDeclarationState(trx, { declarationId, to, source: 'dfe', reason, by: dfeSync })
    return changed
  }

  /** Only what changed since the last successful pull of this kind (with a margin for clocks). */
  private async updatedSince(request: RequestRow): Promise<Record<string, string>> {
    const last = await this.db
      .selectFrom('dfe_requests')
      .select('sent_at')
      .where('lead_provider_id', '=', request.lead_provider_id)
      .where('kind', '=', request.kind)
      .where('status', '=', 'sent')
      .orderBy('sent_at', 'desc')
      .executeTakeFirst()
    if (!last?.sent_at) return {}
    const since = new Date(new Date(last.sent_at).getTime() - 3600_000)
    return { 'filter[updated_since]': since.toISOString().replace(/\.\d{3}Z$/, 'Z') }
  }

  /** Every page of a list (`page[page]`, `page[per_page]`): a short page is the last. */
  private async pages<T>(path: string, query: Record<string, string>, calls: Call[], schema: z.ZodType<{ data: T[] }>): Promise<T[]> {
    const all: T[] = []
    for (let page = 1; page <= MAX_PAGES; page++) {
      const body = await this.expect2xx('GET', path, null, calls, {
        ...query,
        'page[page]': String(page),
        'page[per_page]': String(PER_PAGE),
      })
      const parsed = schema.safeParse(body)
      if (!parsed.success) throw new Failure(`DfE's answer to ${path} is not a list: ${parsed.error.issues[0]?.message}`, null)
      all.push(...parsed.data.data)
      if (parsed.data.data.length < PER_PAGE) return all
    }
    throw new Failure(`${path} has more than ${MAX_PAGES} pages`, null)
  }

  /** One call, kept in `calls`; anything but a 2xx is a Failure with DfE's words. */
  private async expect2xx(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body: unknown,
    calls: Call[],
    query?: Record<string, string>,
  ): Promise<unknown> {
    const attemptedAt = new Date()
    let response: DfeResponse
    try {
      response = await this.client!.call(method, path, { body: body ?? undefined, query })
    } catch (error) {
      if (!(error instanceof DfeCallError)) throw error
      calls.push({ attemptedAt, status: null, response: null, error: error.message, durationMs: error.durationMs })
      throw new Failure(error.message, null)
    }
    const ok = response.status >= 200 && response.status < 300
    const error = ok ? null : describeDfeError(response.status, response.body)
    calls.push({ attemptedAt, status: response.status, response: response.body, error, durationMs: response.durationMs })
    if (!ok) throw new Failure(error!, response.status)
    return response.body
  }

  private async recordCalls(trx: Trx, requestId: string, calls: Call[]): Promise<void> {
    for (const call of calls) {
      await trx
        .insertInto('dfe_request_attempts')
        .values({
          request_id: requestId,
          attempted_at: call.attemptedAt,
          status_code: call.status,
          response: call.response === null || call.response === undefined ? null : JSON.stringify(storedResponse(call.response)),
          error: call.error,
          duration_ms: call.durationMs,
        })
        .execute()
    }
  }

  /** Asks DfE for statements and declaration states, for each lead provider that declares through the platform. */
  async queueDailyPulls(): Promise<number> {
    const providers = await this.db
      .selectFrom('dfe_requests')
      .select('lead_provider_id')
      .distinct()
      .where('kind', '=', 'submit-declaration')
      .execute()
    await this.db.transaction().execute(async (trx) => {
      for (const { lead_provider_id } of providers) {
        await queueDfeRequest(trx, { leadProviderId: lead_provider_id, kind: 'pull-statements', queuedBy: dfeSync })
      }
    })
    return providers.length
  }

  jobDefinitions(): JobDefinition[] {
    return [
      defineJob({
        name: dfeSyncJobName,
        schema: z.object({}),
        retryLimit: 2,
        retryDelay: 60,
        schedule: '*/5 * * * *',
        handler: async () => {
          if (this.enabled) await this.syncAll()
        },
      }),
      // Queued with a request (queueDfeRequest with `jobs`): sends it at once, and the job queue's
      // own retries back off while it fails (the sweep above keeps trying after they run out).
      defineJob({
        name: dfeSendRequestJobName,
        schema: z.object({ requestId: z.uuid() }),
        retryLimit: 8,
        retryDelay: 60,
        handler: async ({ requestId }) => {
          const result = await this.send(requestId, { force: true })
          if (result.outcome === 'failed') throw new Error(result.error)
        },
      }),
      defineJob({
        name: 'dfe-daily-pull',
        schema: z.object({}),
        retryLimit: 2,
        retryDelay: 300,
        schedule: '30 6 * * *',
        handler: async () => {
          if (this.enabled) await this.queueDailyPulls()
        },
      }),
    ]
  }
}

type RequestsAsR = ExpressionBuilder<Schema & { r: DfeRequestsTable }, 'r'>

/** An earlier request of the same participant still queued: this one waits for it. */
const earlierWaiting = (eb: RequestsAsR) =>
  eb
    .selectFrom('dfe_requests as e')
    .select('e.id')
    .where('e.status', '=', 'queued')
    .whereRef('e.lead_provider_id', '=', 'r.lead_provider_id')
    .whereRef('e.participant_id', '=', 'r.participant_id')
    .whereRef('e.seq', '<', 'r.seq')

/** Queued requests that may be sent now: not in flight, none of the participant's earlier ones waiting, due (unless forced). */
const sendable = (force: boolean) => (eb: RequestsAsR) =>
  eb.and([
    eb('r.status', '=', 'queued'),
    eb.or([eb('r.claimed_until', 'is', null), eb('r.claimed_until', '<', sql<Date>`now()`)]),
    eb.not(eb.exists(earlierWaiting(eb))),
    ...(force ? [] : [eb('r.next_attempt_at', '<=', sql<Date>`now()`)]),
  ])

function statementReason(statement: DfeStatement | undefined): string {
  if (!statement) return 'DfE reported this state'
  const a = statement.attributes
  return `DfE statement ${[a.month, a.year].filter(Boolean).join(' ')}${a.paid ? ' (paid)' : ''}`.trim()
}

/** What an attempt row keeps of a response: all of it, or a summary of a very large list. */
function storedResponse(body: unknown): unknown {
  const text = JSON.stringify(body)
  if (text.length <= MAX_STORED_RESPONSE) return body
  const data = (body as { data?: unknown }).data
  return Array.isArray(data)
    ? { summary: `${data.length} records (${text.length} bytes); the first 5 are kept`, data: data.slice(0, 5) }
    : { summary: `${text.length} bytes; not kept` }
}

/**
 * An admin cancels a queued request: it will not be sent, and stays in the log with who cancelled it.
 * Refused while a call for it is in flight.
 */
export async function cancelDfeRequest(db: Db, requestId: string, by: Principal): Promise<'cancelled' | 'not-queued' | 'in-flight'> {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom('dfe_requests')
      .select(['status', 'attempts', 'last_error', sql<boolean>`claimed_until is not null and claimed_until >= now()`.as('in_flight')])
      .where('id', '=', requestId)
      .forUpdate()
      .executeTakeFirst()
    if (!row || row.status !== 'queued') return 'not-queued'
    if (row.in_flight) return 'in-flight'
    await trx
      .updateTable('dfe_requests')
      .set({ status: 'cancelled', cancelled_at: new Date(), cancelled_by: by.kind === 'user' ? by.userId : null })
      .where('id', '=', requestId)
      .execute()
    await recordAudit(trx, {
      by,
      action: 'dfe-request.cancelled',
      entityType: 'dfe-request',
      entityId: requestId,
      before: { status: 'queued', attempts: row.attempts, last_error: row.last_error },
      after: { status: 'cancelled' },
    })
    return 'cancelled'
  })
}
