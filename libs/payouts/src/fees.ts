import { minorUnitDigits } from '@berth/common';

/** What the store takes from one sale: a share in basis points plus a fixed amount per currency. */
export interface FeePolicy {
  bps: number;
  /** Per lowercase currency, in the currency's smallest unit (as Stripe counts it). */
  fixed: Record<string, number>;
}

/**
 * Three-decimal currencies' amounts are in thousandths, and Stripe takes only those that end in 0 (it
 * settles them in hundredths), so a fee in them is rounded to a multiple of ten.
 *
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
