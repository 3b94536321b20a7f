import pino from 'pino'

// Structured logs. Secrets and personal data never reach them: these paths are redacted wherever
// they appear in a logged object, and request logs carry no bodies, query strings or cookies.
export const redactedPaths = [
  'password',
  '*.password',
  'email',
  '*.email',
  'to',
  '*.to',
  'trn',
  '*.trn',
  'full_name',
  '*.full_name',
  'fullName',
  '*.fullName',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
  'cookie',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
]

export type Logger = pino.Logger

/** Request paths without query strings, and with secrets in paths (one-time links, calendar feeds) taken out. */
export function safeUrl(url: string): string {
  return url.split('?')[0]!.replace(/\/(set-password|links|calendar)\/[^/]+/g, '/$1/[redacted]')
}

type LoggedRequest = { id?: unknown; method?: string; url?: string; ip?: string }
type LoggedReply = { statusCode?: number }

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      serializers: {
        req: (req: LoggedRequest) => ({ id: req.id, method: req.method, url: safeUrl(req.url ?? '') }),
        res: (res: LoggedReply) => ({ statusCode: res.statusCode }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  )
}
