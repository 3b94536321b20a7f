import assert from 'node:assert/strict'
import { test } from 'node:test'
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts'

test('passwords are stored as argon2id hashes and verified', async () => {
  const hash = await hashPassword('correct horse battery staple')
  assert.match(hash, /^\$argon2id\$/)
  assert.equal(await verifyPassword(hash, 'correct horse battery staple'), true)
  assert.equal(await verifyPassword(hash, 'Correct horse battery staple'), false)
  assert.equal(await verifyPassword('not a hash', 'anything'), false)
})

test('new passwords follow NCSC guidance: long enough, not common, not the email address', () => {
  assert.match(passwordProblem('short', 'a@b.test')!, /10 characters/)
  assert.match(passwordProblem('password123', 'a@b.test')!, /too easy/)
  assert.match(passwordProblem('aaaaaaaaaaaa', 'a@b.test')!, /too easy/)
  assert.match(passwordProblem('jane.smith-2026!', 'jane.smith@school.test')!, /email/)
  assert.equal(passwordProblem('three random words', 'jane.smith@school.test'), null)
  assert.match(passwordProblem('x'.repeat(300), 'a@b.test')!, /256/)
})
