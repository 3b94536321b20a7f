// Amounts are whole pence (integers) everywhere; these turn them into text and back, by string
// arithmetic only, so no amount ever passes through a binary fraction.

/** The largest price per teacher an admin may enter: well above any NPQ price, and a guard against typing pence as pounds. */
export const maxPricePence = 10_000_000 // £100,000.00

function digitsOf(pence: number): { sign: string; pounds: string; pennies: string } {
  if (!Number.isSafeInteger(pence)) throw new RangeError(`An amount must be whole pence, not ${pence}`)
  const abs = String(Math.abs(pence)).padStart(3, '0')
  return { sign: pence < 0 ? '-' : '', pounds: abs.slice(0, -2), pennies: abs.slice(-2) }
}

/** £1,234.56; −£12.00 for a deduction. */
export function formatPence(pence: number): string {
  const { sign, pounds, pennies } = digitsOf(pence)
  return `${sign ? '−' : ''}£${pounds.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${pennies}`
}

/** 1234.56 as plain text, for CSV files (no symbol or separators; a minus sign for a deduction). */
export function penceAsDecimal(pence: number): string {
  const { sign, pounds, pennies } = digitsOf(pence)
  return `${sign}${pounds}.${pennies}`
}

/**
 * A price typed in pounds and pence ("1250", "1,250.50", "£1250.5") as whole pence, or what is wrong
 * with it in the words of the GOV.UK error message.
 */
export function parsePounds(text: string, label = 'The price'): { pence: number } | { error: string } {
  const value = text.trim().replace(/^£\s*/, '')
  if (value === '') return { error: `Enter ${label.replace(/^The /, 'the ')}` }
  // Thousands separators only where they belong (1,250 or 12,500,000), never 1,25.
  if (!/^(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$/.test(value)) {
    return /^-/.test(value)
      ? { error: `${label} must be more than £0` }
      : { error: `${label} must be an amount in pounds and pence, like 1250 or 1250.50` }
  }
  const [whole, fraction = ''] = value.replace(/,/g, '').split('.') as [string, string?]
  if (fraction.length > 2) return { error: `${label} must have no more than 2 decimal places (whole pence)` }
  const pounds = whole.replace(/^0+(?=\d)/, '')
  if (pounds.length > 9) return { error: `${label} must be ${formatPence(maxPricePence)} or less` }
  const pence = Number(pounds) * 100 + Number(fraction.padEnd(2, '0'))
  if (pence <= 0) return { error: `${label} must be more than £0` }
  if (pence > maxPricePence) return { error: `${label} must be ${formatPence(maxPricePence)} or less` }
  return { pence }
}
