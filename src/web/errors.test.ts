import assert from 'node:assert/strict'
import { test } from 'node:test'
import { databaseUnavailable } from './errors.ts'

test('a lost or refused database connection is "unavailable" (503), anything else is not', () => {
  for (const error of [
    Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
    Object.assign(new Error('connection failure'), { code: '08006' }),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    new Error('Connection terminated unexpectedly'),
    new Error('Client has encountered a connection error and is not queryable'),
    new Error('timeout exceeded when trying to connect'),
  ])
    assert.equal(databaseUnavailable(error), true, error.message)
  for (const error of [
    Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
    Object.assign(new Error('syntax error'), { code: '42601' }),
    new TypeError("Cannot read properties of undefined (reading 'id')"),
    null,
    'a string',
  ])
    assert.equal(databaseUnavailable(error), false, String(error))
})
