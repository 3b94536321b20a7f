import { z } from 'zod'
import { declarationStates, type DeclarationState } from '../db/schema.ts'

// A small client for DfE's Lead Provider API v3: JSON:API bodies, a bearer token, a timeout. It
// never logs, and its errors never carry the token or headers. Responses are parsed with zod, leniently:
// only what the platform uses is required, so a field DfE adds does not stop the sync.

export type DfeApiConfig = { url: string; token: string }

export type DfeResponse = { status: number; body: unknown; durationMs: number }

/** The call got no HTTP answer: a timeout or a network failure. */
export class DfeCallError extends Error {
  readonly durationMs: number
  readonly timedOut: boolean
  constructor(message: string, durationMs: number, timedOut: boolean) {
    super(message)
    this.durationMs = durationMs
    this.timedOut = timedOut
  }
}

export const defaultTimeoutMs = 30_000

export class DfeClient {
  private readonly config: DfeApiConfig
  private readonly timeoutMs: number

  constructor(config: DfeApiConfig, options: { timeoutMs?: number } = {}) {
    this.config = config
    this.timeoutMs = options.timeoutMs ?? defaultTimeoutMs
  }

  /** One HTTP call. Any HTTP status is an answer; only a timeout or a network failure throws. */
  async call(method: 'GET' | 'POST' | 'PUT', path: string, options: { body?: unknown; query?: Record<string, string> } = {}) {
    const url = new URL(this.config.url.replace(/\/+$/, '') + path)
    for (const [name, value] of Object.entries(options.query ?? {})) url.searchParams.set(name, value)
    const started = performance.now()
    const elapsed = () => Math.round(performance.now() - started)
    const controller = new AbortController()
    const timer = setTimeout(() => controller.abort(), this.timeoutMs)
    try {
      const response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${this.config.token}`,
          accept: 'application/json',
          ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: controller.signal,
      })
      const text = await response.text()
      return { status: response.status, body: parseBody(text), durationMs: elapsed() } satisfies DfeResponse
    } catch (error) {
      if (controller.signal.aborted) throw new DfeCallError(`No answer from DfE within ${this.timeoutMs / 1000} seconds`, elapsed(), true)
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : ''
      throw new DfeCallError(`Could not reach DfE (${error instanceof Error ? error.message : String(error)}${cause})`, elapsed(), false)
    } finally {
      clearTimeout(timer)
    }
  }
}

function parseBody(text: string): unknown {
  if (text === '') return null
  try {
    return JSON.parse(text)
  } catch {
    return { text: text.slice(0, 2000) }
  }
}

/** DfE's words for what went wrong: JSON:API `errors` ({title, detail}), `error`, or the status alone. */
export function describeDfeError(status: number, body: unknown): string {
  const parsed = dfeErrorBody.safeParse(body)
  const details = parsed.success
    ? [...(parsed.data.errors ?? []).map((e) => [e.title, e.detail].filter(Boolean).join(': ')), parsed.data.error ?? '']
    : []
  const text = details.filter(Boolean).join('; ')
  return `DfE answered ${status}${text ? `: ${text}` : ''}`.slice(0, 2000)
}

const dfeErrorBody = z.object({
  errors: z.array(z.object({ title: z.string().nullish(), detail: z.string().nullish() })).optional(),
  error: z.string().optional(),
})

/**
 * DfE's declaration state as ours. The spec's enum uses underscores (`awaiting_clawback`) while the
 * API sends dasherised states (`awaiting-clawback`): both are accepted. Null for anything else.
 */
export function dfeDeclarationState(state: string): DeclarationState | null {
  const dashed = state.trim().toLowerCase().replaceAll('_', '-')
  return (declarationStates as readonly string[]).includes(dashed) ? (dashed as DeclarationState) : null
}

const declaration = z.object({
  id: z.string().min(1),
  type: z.string().optional(),
  attributes: z.looseObject({
    participant_id: z.string().nullish(),
    declaration_type: z.string().nullish(),
    course_identifier: z.string().nullish(),
    declaration_date: z.string().nullish(),
    state: z.string(),
    // The spec says string, DfE sends boolean or null.
    has_passed: z.union([z.boolean(), z.string()]).nullish(),
    statement_id: z.string().nullish(),
  }),
})
export type DfeDeclaration = z.infer<typeof declaration>

export const dfeDeclarationResponse = z.object({ data: declaration })
export const dfeDeclarationsResponse = z.object({ data: z.array(declaration) })

const statement = z.object({
  id: z.string().min(1),
  attributes: z.looseObject({
    month: z.string().nullish(),
    year: z.string().nullish(),
    cohort: z.string().nullish(),
    cut_off_date: z.string().nullish(),
    payment_date: z.string().nullish(),
    paid: z.boolean().nullish(),
  }),
})
export type DfeStatement = z.infer<typeof statement>
export const dfeStatementsResponse = z.object({ data: z.array(statement) })

export const dfeApplicationsResponse = z.object({ data: z.array(z.object({ id: z.string().min(1), attributes: z.looseObject({}) })) })

/** Defer, resume and withdraw answer with the participant; outcomes with the outcome. */
export const dfeResourceResponse = z.object({ data: z.object({ id: z.string().min(1), attributes: z.looseObject({}).optional() }) })
