import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { dfeSpecPath, validatableSpec } from './prism.ts'

// The DfE spec kept in the repository is DfE's file unchanged (spec/dfe-npq-api/SOURCE.md), and the
// copy Prism validates with differs from it only by the non-JSON-Schema `required: true` lines.

const gitBlobHash = (content: Buffer) =>
  crypto
    .createHash('sha1')
    .update(Buffer.concat([Buffer.from(`blob ${content.length}\0`), content]))
    .digest('hex')

test('spec/dfe-npq-api/v3/swagger.yaml is byte-identical to DfE’s (and to the shared anchor, where there is one)', () => {
  const content = fs.readFileSync(dfeSpecPath)
  assert.equal(gitBlobHash(content), 'ba79cf155625cad90611d40c168fd6849eee478a')
  const anchor = path.resolve(import.meta.dirname, '../../../shared/anchors/dfe-npq-api/v3/swagger.yaml')
  if (fs.existsSync(anchor)) assert.ok(content.equals(fs.readFileSync(anchor)), 'the copy differs from ../shared')
})

test('the validatable copy drops only property-level `required: true|false`, keeping the required lists', () => {
  const original = fs.readFileSync(dfeSpecPath, 'utf8')
  const copy = validatableSpec(original)
  const kept = new Set(copy.split('\n'))
  const dropped = original.split('\n').filter((l) => !kept.has(l))
  assert.ok(dropped.length === 0 || dropped.every((l) => /^\s+required: (true|false)$/.test(l)))
  assert.equal(original.split('\n').length - copy.split('\n').length, (original.match(/^\s+required: (true|false)$/gm) ?? []).length)
  assert.equal((copy.match(/^\s+required:$/gm) ?? []).length, (original.match(/^\s+required:$/gm) ?? []).length)
  assert.doesNotMatch(copy, /^\s+required: (true|false)$/m)
})
