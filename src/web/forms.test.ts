import assert from 'node:assert/strict'
import { test } from 'node:test'
import { z } from 'zod'
import { formErrors, parseForm } from './forms.ts'

test('form errors are keyed by field and listed in order for the error summary', () => {
  const form = formErrors([
    { field: 'email', message: 'Enter your email address' },
    { field: 'password', message: 'Enter your password' },
    { field: 'email', message: 'a second message for the same field is not repeated' },
  ])
  assert.deepEqual(form.errors, { email: { text: 'Enter your email address' }, password: { text: 'Enter your password' } })
  assert.deepEqual(form.errorList, [
    { text: 'Enter your email address', href: '#email' },
    { text: 'Enter your password', href: '#password' },
  ])
})

test('parseForm returns data or GOV.UK-ready errors', () => {
  const schema = z.object({ name: z.string().min(1, 'Enter a name') })
  assert.deepEqual(parseForm(schema, { name: 'Jo' }), { ok: true, data: { name: 'Jo' } })
  const failed = parseForm(schema, {})
  assert.equal(failed.ok, false)
  if (!failed.ok) assert.equal(failed.form.errorList[0]!.href, '#name')
})
