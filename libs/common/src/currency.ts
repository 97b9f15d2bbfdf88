/**
 * Stripe's minor units: most currencies have two decimals, these none (an amount of 500 JPY is 500) and
 * these three (https://docs.stripe.com/currencies#zero-decimal). ISK, HUF and TWD stay two-decimal in
 * Stripe's API even where the currency has no fractional unit in practice.
 */
const ZERO_DECIMAL = new Set([
  'bif',
  'clp',
  'djf',
  'gnf',
  'jpy',
  'kmf',
  'krw',
  'mga',
  'pyg',
  'rwf',
  'ugx',
  'vnd',
  'vuv',
  'xaf',
  'xof',
  'xpf',
]);
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

/** How many decimals an amount in `currency` has in Stripe's API (amounts are counted in that unit). */
export function minorUnitDigits(currency: string): 0 | 2 | 3 {
  const c = currency.toLowerCase();
  return ZERO_DECIMAL.has(c) ? 0 : THREE_DECIMAL.has(c) ? 3 : 2;
}
