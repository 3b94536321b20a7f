import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { breachedPasswords, hashPassword, isBreachedPassword, passwordProblem, verifyPassword } from './passwords.ts'

test('passwords are stored as argon2id hashes and verified', async () => {
  const hash = await hashPassword('correct horse battery staple')
  assert.match(hash, /^\$argon2id\$/)
  assert.equal(await verifyPassword(hash, 'correct horse battery staple'), true)
  assert.equal(await verifyPassword(hash, 'Correct horse battery staple'), false)
  assert.equal(await verifyPassword('not a hash', 'anything'), false)
})

test('new passwords follow NCSC guidance: long enough, not common, not the email address', () => {
  assert.match(passwordProblem('short', 'a@b.test')!, /10 characters/)
  assert.match(passwordProblem('password123', 'a@b.test')!, /harder to guess/)
  assert.match(passwordProblem('aaaaaaaaaaaa', 'a@b.test')!, /harder to guess/)
  assert.match(passwordProblem('jane.smith-2026!', 'jane.smith@school.test')!, /email/)
  assert.equal(passwordProblem('three random words', 'jane.smith@school.test'), null)
  assert.match(passwordProblem('x'.repeat(300), 'a@b.test')!, /256/)
  assert.equal(passwordProblem('x'.repeat(256).replace(/^x/, 'y'), 'a@b.test'), null)
})

test('the breached-password list ships as data with its source, and is loaded once', () => {
  const file = fs.readFileSync(path.join(import.meta.dirname, 'breached-passwords.txt'), 'utf8')
  assert.match(file, /^# .*\n# Source: npm package @zxcvbn-ts\/language-common \d+\.\d+\.\d+ \(MIT licence\)/)
  const lines = file.split('\n').filter((l) => l && !l.startsWith('#'))
  assert.ok(lines.length > 40_000, `only ${lines.length} passwords`)
  assert.ok(lines.every((l) => l === l.toLowerCase() && l === l.trim()))
  assert.equal(breachedPasswords(), breachedPasswords())
  assert.ok(breachedPasswords().size >= lines.length)
})

test('every breached password of an acceptable length is refused, in any case and with digits or symbols added', () => {
  const long = [...breachedPasswords()].filter((p) => p.length >= 10)
  assert.ok(long.length > 1000)
  for (const password of long) assert.match(passwordProblem(password, 'someone@school.test') ?? '', /harder to guess/, password)
  // Taken from the list, not from the old hand-written set.
  for (const password of ['qwertyuiop', '1qaz2wsx3edc', 'manchester', 'Basketball', 'PASSWORD123', 'Manchester2024!', 'sunshine!!!!']) {
    assert.equal(isBreachedPassword(password), true, password)
    assert.match(passwordProblem(password, 'someone@school.test') ?? '', /harder to guess/, password)
  }
  // Passphrases and unusual passwords pass.
  for (const password of ['three random words', 'correct horse battery staple', 'Kettle-Orbit-Saffron-42']) {
    assert.equal(passwordProblem(password, 'someone@school.test'), null, password)
  }
})
