import pino from 'pino'

// Structured logs. Secrets and personal data never reach them:
// - values under these keys are redacted at any depth of a logged object (TRN, email, date of birth,
//   names, passwords, tokens, cookies);
// - email addresses are taken out of every line, wherever they appear (an SMTP error, a message);
// - errors lose the values PostgreSQL quotes in them ("Key (trn)=(1234567) already exists", "Failing
//   row contains (…)") and anything shaped like a TRN;
// - request logs carry no bodies, headers, query strings or secrets in paths.
export const redactedKeys: ReadonlySet<string> = new Set([
  'password',
  'email',
  'to',
  'trn',
  'date_of_birth',
  'dateOfBirth',
  'dob',
  'birth_date',
  'full_name',
  'fullName',
  'first_name',
  'last_name',
  'token',
  'authorization',
  'cookie',
  'set-cookie',
])

const CENSOR = '[redacted]'
const EMAIL_ADDRESS = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g
const TRN_SHAPED = /\b\d{7}\b/g
/** Path segments that follow these are one-time links' and calendar feeds' secrets. */
const SECRET_PATHS = /\/(set-password|sign-in\/link|links|agreements|application-form|endorse|calendar)\/[^/]+/g
/** Any other path segment with a long random run (every secret is 43 base64url characters), UUIDs apart. */
const LONG_RANDOM = /[A-Za-z0-9_-]{32,}/
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export type Logger = pino.Logger

/** Request paths without query strings, and with secrets in paths (one-time links, calendar feeds) taken out. */
export function safeUrl(url: string): string {
  return url
    .split('?')[0]!
    .replace(SECRET_PATHS, '/$1/[redacted]')
    .split('/')
    .map((segment) => (LONG_RANDOM.test(segment) && !UUID.test(segment) ? CENSOR : segment))
    .join('/')
}

/** Email addresses out of free text. */
export function scrubText(text: string): string {
  return text.replace(EMAIL_ADDRESS, CENSOR)
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (value === null || typeof value !== 'object') return false
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * A copy of logged data with redacted keys censored, at any depth. Only plain objects and arrays are
 * walked (a Fastify request or an Error has its own serializer), and nothing is copied when nothing changes.
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (depth > 10) return value
  if (Array.isArray(value)) {
    const items = value.map((item) => redactDeep(item, depth + 1))
    return items.some((item, i) => item !== value[i]) ? items : value
  }
  if (!isPlainObject(value)) return value
  let copy: Record<string, unknown> | null = null
  for (const [key, item] of Object.entries(value)) {
    const redacted = redactedKeys.has(key) && item !== undefined && item !== null ? CENSOR : redactDeep(item, depth + 1)
    if (redacted !== item) {
      copy ??= { ...value }
      copy[key] = redacted
    }
  }
  return copy ?? value
}

/** An error's free text less the values PostgreSQL quotes and anything shaped like a TRN. */
const scrubErrorText = (text: string) =>
  text
    .replace(/\)=\(.*\)/g, `)=(${CENSOR})`)
    .replace(/Failing row contains \(.*\)/g, `Failing row contains (${CENSOR})`)
    .replace(TRN_SHAPED, CENSOR)

/** Errors as pino serializes them, less the personal data their free text can quote. */
function serializeError(error: Error): unknown {
  const serialized = redactDeep(pino.stdSerializers.err(error)) as Record<string, unknown>
  const scrubbed: Record<string, unknown> = {}
  for (const [key, item] of Object.entries(serialized)) scrubbed[key] = typeof item === 'string' ? scrubErrorText(item) : item
  return scrubbed
}

/** The destination, with email addresses taken out of each line (they appear only inside JSON strings). */
function scrubbing(destination: pino.DestinationStream): pino.DestinationStream {
  const target = destination as pino.DestinationStream & { flush?: (cb?: (err?: Error) => void) => void }
  return Object.assign(
    { write: (line: string) => destination.write(scrubText(line)) },
    target.flush ? { flush: (cb?: (err?: Error) => void) => target.flush!(cb) } : {},
  )
}

type LoggedRequest = { id?: unknown; method?: string; url?: string; ip?: string }
type LoggedReply = { statusCode?: number }

export function createLogger(level: string, destination: pino.DestinationStream = pino.destination()): Logger {
  return pino(
    {
      level,
      formatters: { log: (object) => redactDeep(object) as Record<string, unknown> },
      hooks: {
        // Logged without a message, an error lends pino its own message, which the err serializer never sees.
        logMethod(args, method) {
          const [first, second] = args
          const error = first instanceof Error ? first : isPlainObject(first) && first.err instanceof Error ? first.err : null
          if (error && typeof second !== 'string') return method.call(this, first, scrubErrorText(error.message))
          return method.apply(this, args)
        },
      },
      serializers: {
        req: (req: LoggedRequest) => ({ id: req.id, method: req.method, url: safeUrl(req.url ?? '') }),
        res: (res: LoggedReply) => ({ statusCode: res.statusCode }),
        err: serializeError,
      },
    },
    scrubbing(destination),
  )
}
