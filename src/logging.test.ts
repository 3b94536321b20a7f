import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import type pino from 'pino'
import { createLogger, safeUrl } from './logging.ts'

function capture() {
  const lines: string[] = []
  const sink = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) })
  return { logger: createLogger('info', sink as unknown as pino.DestinationStream), lines }
}

test('personal data and secrets are redacted from logs', () => {
  const { logger, lines } = capture()
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

test('TRN, email and date of birth are redacted at any depth, in arrays, and in free text', () => {
  const { logger, lines } = capture()
  const application = {
    id: 'a1',
    applicant: { details: { trn: '7654321', date_of_birth: '1990-05-17', contact: { email: 'sam@x.test' } } },
  }
  logger.info({ applications: [application], dateOfBirth: '1991-06-18', dob: '1992-07-19' }, 'sent to sam@x.test and lee@y.test')
  const line = lines.join('')
  for (const secret of ['7654321', '1990-05-17', '1991-06-18', '1992-07-19', 'sam@x.test', 'lee@y.test']) {
    assert.ok(!line.includes(secret), `${secret} leaked: ${line}`)
  }
  assert.match(line, /"id":"a1"/)
  // The caller's object is left as it was.
  assert.equal(application.applicant.details.trn, '7654321')
})

test('errors lose the personal data in their messages and in PostgreSQL’s details', () => {
  const { logger, lines } = capture()
  const duplicate = Object.assign(new Error('duplicate key value violates unique constraint "users_email_key"'), {
    detail: 'Key (email)=(jo@school.test) already exists.',
    code: '23505',
  })
  const failingRow = Object.assign(new Error('new row violates check constraint'), {
    detail: 'Failing row contains (9f1c, 2345678, 1985-01-02, Jo Bloggs).',
  })
  const smtp = new Error('550 5.1.1 <jo@school.test>: Recipient address rejected; participant 3456789')
  logger.error({ err: duplicate }, 'unhandled error')
  logger.error({ err: failingRow }, 'unhandled error')
  logger.warn({ err: smtp, job: 'email' }, 'job failed')
  logger.error(smtp)
  const text = lines.join('')
  for (const secret of ['jo@school.test', '2345678', '1985-01-02', 'Jo Bloggs', '3456789']) {
    assert.ok(!text.includes(secret), `${secret} leaked: ${text}`)
  }
  assert.match(text, /Key \(email\)=\(\[redacted\]\)/)
  assert.match(text, /"code":"23505"/)
  assert.match(text, /Recipient address rejected/)
})

test('logged URLs lose their query strings and one-time-link secrets', () => {
  const secret = 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-AbCdE'
  assert.equal(safeUrl('/set-password/abcDEF123?x=1'), '/set-password/[redacted]')
  assert.equal(safeUrl('/calendar/cal_abcDEF123.ics'), '/calendar/[redacted]')
  assert.equal(safeUrl('/lead-provider/users?invited=jane%40school.test'), '/lead-provider/users')
  assert.equal(safeUrl(`/sign-in/link/${secret}?returnTo=%2F`), '/sign-in/link/[redacted]')
  assert.equal(safeUrl(`/agreements/${secret}`), '/agreements/[redacted]')
  assert.equal(safeUrl(`/some/new/link/${secret}/confirm`), '/some/new/link/[redacted]/confirm')
  // Ids are not secrets and stay.
  assert.equal(safeUrl('/events/0b6f9f3c-6a43-4c1e-9d0e-2f7a8f1b2c3d/register'), '/events/0b6f9f3c-6a43-4c1e-9d0e-2f7a8f1b2c3d/register')
})
