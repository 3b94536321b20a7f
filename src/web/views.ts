import path from 'node:path'
import nunjucks from 'nunjucks'

/** Nunjucks with GOV.UK Frontend's and MoJ Frontend's macros; feature templates live beside their code. */
export function createViews(root: string): nunjucks.Environment {
  const env = new nunjucks.Environment(
    new nunjucks.FileSystemLoader(
      [
        path.join(root, 'src'),
        path.join(root, 'node_modules/govuk-frontend/dist'),
        path.join(root, 'node_modules/@ministryofjustice/frontend'),
      ],
      { noCache: process.env.NODE_ENV === 'development' },
    ),
    { autoescape: true, throwOnUndefined: false },
  )
  env.addFilter('londonDate', (value: Date | string | null) => (value ? formatLondon(value, { dateStyle: 'long' }) : ''))
  env.addFilter('londonDateTime', (value: Date | string | null) =>
    value ? formatLondon(value, { dateStyle: 'medium', timeStyle: 'short' }) : '',
  )
  return env
}

// Making an Intl.DateTimeFormat costs far more than using one: a page of dates made one per date.
const formats = new Map<string, Intl.DateTimeFormat>()

function formatLondon(value: Date | string, options: Intl.DateTimeFormatOptions): string {
  const date = typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? new Date(`${value}T12:00:00Z`) : new Date(value)
  const key = JSON.stringify(options)
  let format = formats.get(key)
  if (!format) formats.set(key, (format = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', ...options })))
  return format.format(date)
}
