import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import type pino from 'pino'
import { createLogger, safeUrl } from './logging.ts'

test('personal data and secrets are redacted from logs', () => {
  const lines: string[] = []
  const sink = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) })
  const logger = createLogger('info', sink as unknown as pino.DestinationStream)
  logger.info(
    {
      email: 'jane@school.test',
      trn: '1234567',
      participant: { full_name: 'Jane Smith', email: 'jane@school.test' },
      password: 'secret',
      token: 'abc',
    },
    'hello',
  )
  const line = lines.join('')
  for (const secret of ['jane@school.test', '1234567', 'Jane Smith', 'secret', '"abc"'])
    assert.ok(!line.includes(secret), `${secret} leaked: ${line}`)
  assert.match(line, /\[redacted\]/)
})

test('logged URLs lose their query strings and one-time-link secrets', () => {
  assert.equal(safeUrl('/set-password/abcDEF123?x=1'), '/set-password/[redacted]')
  assert.equal(safeUrl('/calendar/cal_abcDEF123.ics'), '/calendar/[redacted]')
  assert.equal(safeUrl('/lead-provider/users?invited=jane%40school.test'), '/lead-provider/users')
})
