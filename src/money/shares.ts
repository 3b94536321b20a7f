// Splitting a price per teacher across a course group's outputs (seed 004 Annex 1: specialist 33.3% × 3,
// leadership 25% × 4). Money is whole pence throughout; nothing here touches a float amount.
//
// Each output's share is taken relative to the group's total share, as an exact fraction: the
// handbook's 33.3% is a third written to one decimal place, so 33.3 × 3 gives exact thirds, 25 × 4
// exact quarters, and DfE's schedules (20 × 3 or 15 × 4 of its 60% output share) the same thirds and
// quarters. Each part is rounded half up to the penny and the last output takes the remainder, so
// the parts always add up to the price: £1,000.00 → £333.33, £333.33, £333.34.

export class ShareError extends Error {}

/** A share percentage as a whole number of hundredths of a percent (33.3 → 3330), so fractions stay exact. */
function weightOf(sharePercent: number): number {
  const weight = Math.round(sharePercent * 100)
  if (!Number.isFinite(sharePercent) || weight < 0 || Math.abs(weight - sharePercent * 100) > 1e-6) {
    throw new ShareError(`A share must be a percentage with at most 2 decimal places, not ${sharePercent}`)
  }
  return weight
}

/**
 * The price in pence split across outputs with these shares (percent; null where the schedule gives
 * none, in which case every output gets an equal part). Returns one part per share, in order.
 */
export function splitPrice(pricePence: number, sharePercents: readonly (number | null)[]): number[] {
  if (!Number.isSafeInteger(pricePence) || pricePence < 0) throw new ShareError(`A price must be whole pence, not ${pricePence}`)
  if (sharePercents.length === 0) return []
  const weights = sharePercents.some((s) => s === null) ? sharePercents.map(() => 1) : sharePercents.map((s) => weightOf(s!))
  const total = weights.reduce((a, b) => a + b, 0)
  if (total === 0) throw new ShareError('The shares add up to nothing')
  // price × weight ÷ total, rounded half up, in integers: ⌊(2 × price × weight + total) ÷ (2 × total)⌋.
  // A price up to £1m (10⁸ pence) times a weight up to 10⁴ stays far below 2⁵³.
  let parts = weights.slice(0, -1).map((w) => Math.floor((2 * pricePence * w + total) / (2 * total)))
  // Only a price of a few pence can round the others past the whole (2p in quarters: 1p, 1p, 1p):
  // then each is rounded down instead, so the last output's remainder is never negative.
  if (parts.reduce((a, b) => a + b, 0) > pricePence) parts = weights.slice(0, -1).map((w) => Math.floor((pricePence * w) / total))
  return [...parts, pricePence - parts.reduce((a, b) => a + b, 0)]
}

/** Each output's amount in pence, by declaration type, for a course group's outputs in schedule order. */
export function outputAmounts<T extends string>(
  pricePence: number,
  outputs: readonly { declarationType: T; sharePercent: number | null }[],
): Map<T, number> {
  const parts = splitPrice(
    pricePence,
    outputs.map((o) => o.sharePercent),
  )
  return new Map(outputs.map((o, i) => [o.declarationType, parts[i]!]))
}
