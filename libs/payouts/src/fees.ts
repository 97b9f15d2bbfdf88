/**
 * Currencies Stripe charges in whole units (no minor unit). Amounts in them are counted in those units.
 * https://docs.stripe.com/currencies#zero-decimal
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

/**
 * Three-decimal currencies: amounts are in thousandths, and Stripe takes only those that end in 0 (it
 * settles them in hundredths), so a fee in them is rounded to a multiple of ten.
 */
const THREE_DECIMAL = new Set(['bhd', 'jod', 'kwd', 'omr', 'tnd']);

export function minorUnitDigits(currency: string): 0 | 2 | 3 {
  const c = currency.toLowerCase();
  return ZERO_DECIMAL.has(c) ? 0 : THREE_DECIMAL.has(c) ? 3 : 2;
}

/** What the store takes from one sale: a share in basis points plus a fixed amount per currency. */
export interface FeePolicy {
  bps: number;
  /** Per lowercase currency, in the currency's smallest unit (as Stripe counts it). */
  fixed: Record<string, number>;
}

/**
 * The platform fee for a sale of `amount` (smallest unit of `currency`): `bps` of the amount, rounded half
 * up to a whole unit Stripe accepts, plus the currency's fixed fee, never more than the amount itself.
 * Integer arithmetic only, so no sale is ever off by a float's rounding.
 */
export function platformFee(amount: number, currency: string, policy: FeePolicy): number {
  if (!Number.isSafeInteger(amount) || amount <= 0) return 0;
  const step = minorUnitDigits(currency) === 3 ? 10 : 1;
  const share = Math.floor((amount * policy.bps + 5000) / 10000);
  const fixed = policy.fixed[currency.toLowerCase()] ?? 0;
  const fee = roundToStep(share + fixed, step);
  // Capped at the price, and kept a multiple of the step below it (a price itself is one).
  return Math.min(fee, amount - (amount % step));
}

function roundToStep(value: number, step: number): number {
  return step === 1 ? value : Math.floor((value + step / 2) / step) * step;
}
