import assert from 'node:assert/strict'
import { test } from 'node:test'
import { addDays, formAction, formDueOn, formStatus } from './deadlines.ts'

const sent = (overrides = {}) => ({
  sentOn: '2025-03-10',
  dueOn: formDueOn('2025-03-10'),
  remindedAt: null,
  returnedAt: null,
  ...overrides,
})

test('the form is due 5 days after it is sent (across month ends too)', () => {
  assert.equal(formDueOn('2025-03-10'), '2025-03-15')
  assert.equal(formDueOn('2025-02-26'), '2025-03-03')
  assert.equal(addDays('2025-12-30', 3), '2026-01-02')
})

test('a reminder on day 3, expiry after day 5, nothing once returned', () => {
  assert.equal(formAction(sent(), '2025-03-11'), null)
  assert.equal(formAction(sent(), '2025-03-12'), null)
  assert.equal(formAction(sent(), '2025-03-13'), 'remind')
  assert.equal(formAction(sent({ remindedAt: new Date() }), '2025-03-14'), null)
  assert.equal(formAction(sent({ remindedAt: new Date() }), '2025-03-15'), null)
  assert.equal(formAction(sent({ remindedAt: new Date() }), '2025-03-16'), 'expire')
  // A job that missed the reminder still expires on time.
  assert.equal(formAction(sent(), '2025-03-16'), 'expire')
  assert.equal(formAction(sent({ returnedAt: new Date() }), '2025-03-20'), null)
  assert.equal(formAction({ sentOn: null, dueOn: null, remindedAt: null, returnedAt: null }, '2025-03-20'), null)
})

test('an extension moves the expiry', () => {
  assert.equal(formAction(sent({ dueOn: '2025-03-20', remindedAt: new Date() }), '2025-03-16'), null)
  assert.equal(formAction(sent({ dueOn: '2025-03-20', remindedAt: new Date() }), '2025-03-21'), 'expire')
})

test('what the page says about the form', () => {
  assert.equal(formStatus({ sentOn: null, dueOn: null, remindedAt: null, returnedAt: null }, '2025-03-10'), 'not-sent')
  assert.equal(formStatus(sent(), '2025-03-15'), 'sent')
  assert.equal(formStatus(sent(), '2025-03-16'), 'overdue')
  assert.equal(formStatus(sent({ returnedAt: new Date() }), '2025-03-16'), 'returned')
})
