import assert from 'node:assert/strict'
import { test } from 'node:test'
import { formatPence, maxPricePence, parsePounds, penceAsDecimal } from './pence.ts'

test('amounts are shown as £1,234.56, deductions with a minus sign', () => {
  assert.equal(formatPence(123_456), '£1,234.56')
  assert.equal(formatPence(33_333), '£333.33')
  assert.equal(formatPence(5), '£0.05')
  assert.equal(formatPence(0), '£0.00')
  assert.equal(formatPence(100_000_000), '£1,000,000.00')
  assert.equal(formatPence(-1_200), '−£12.00')
  assert.equal(penceAsDecimal(123_456), '1234.56')
  assert.equal(penceAsDecimal(-5), '-0.05')
  assert.throws(() => formatPence(1.5), RangeError)
})

test('a price in pounds and pence becomes whole pence', () => {
  assert.deepEqual(parsePounds('1250'), { pence: 125_000 })
  assert.deepEqual(parsePounds('1,250.50'), { pence: 125_050 })
  assert.deepEqual(parsePounds('£1250.5'), { pence: 125_050 })
  assert.deepEqual(parsePounds(' £ 999.99 '), { pence: 99_999 })
  assert.deepEqual(parsePounds('0.01'), { pence: 1 })
  assert.deepEqual(parsePounds('100000'), { pence: maxPricePence })
  // 0.1 + 0.2 style float errors cannot happen: the digits are read as text.
  assert.deepEqual(parsePounds('1234.57'), { pence: 123_457 })
})

test('what is wrong with a price, in GOV.UK words', () => {
  const error = (text: string) => {
    const result = parsePounds(text, 'The price per teacher')
    assert.ok('error' in result, text)
    return result.error
  }
  assert.equal(error(''), 'Enter the price per teacher')
  assert.equal(error('0'), 'The price per teacher must be more than £0')
  assert.equal(error('0.00'), 'The price per teacher must be more than £0')
  assert.equal(error('-5'), 'The price per teacher must be more than £0')
  assert.equal(error('12.345'), 'The price per teacher must have no more than 2 decimal places (whole pence)')
  assert.equal(error('100000.01'), 'The price per teacher must be £100,000.00 or less')
  assert.equal(error('99999999999'), 'The price per teacher must be £100,000.00 or less')
  assert.equal(error('£'), 'Enter the price per teacher')
  for (const text of ['abc', '1,25', '12a', '1.2.3', '1e3', '.5']) {
    assert.equal(error(text), 'The price per teacher must be an amount in pounds and pence, like 1250 or 1250.50', text)
  }
})
