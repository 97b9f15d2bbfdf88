import { AccountsErrors, PublisherAccessService } from '@berth/accounts';
import type { FeePolicy } from '@berth/payouts';
import { HttpErrors } from './http-errors';

const FIXED_RULE = 'fixed must map three-letter lowercase currency codes to whole amounts ≥ 0';

/** A fixed fee per currency as the API takes it (`{ usd: 30 }`), checked entry by entry. */
export function fixedFees(fixed: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [currency, amount] of Object.entries(fixed)) {
    if (
      !/^[a-z]{3}$/.test(currency) ||
      typeof amount !== 'number' ||
      !Number.isSafeInteger(amount) ||
      amount < 0 ||
      amount > 999_999_999
    )
      throw HttpErrors.ValidationFailed([FIXED_RULE]);
    out[currency] = amount;
  }
  return out;
}

/** The console's fee form: basis points, and `usd=30 eur=25` (smallest units) for the fixed part. */
export function feeFromForm(form: { bps: string; fixed: string }): FeePolicy {
  if (!/^\d{1,5}$/.test(form.bps) || Number(form.bps) > 10000)
    throw HttpErrors.ValidationFailed(['bps must be a whole number from 0 to 10000']);
  const fixed: Record<string, unknown> = {};
  for (const entry of form.fixed.split(/[\s,;]+/).filter(Boolean)) {
    const m = /^([a-zA-Z]{3})=(\d{1,9})$/.exec(entry);
    if (!m) throw HttpErrors.ValidationFailed([`${FIXED_RULE}, like usd=30 eur=25`]);
    fixed[m[1].toLowerCase()] = Number(m[2]);
  }
  return { bps: Number(form.bps), fixed: fixedFees(fixed) };
}

/** The publisher a fee is set for, by slug: 404 `publisher_not_found` when there is none. */
export async function feePublisherId(publishers: PublisherAccessService, slug: string): Promise<string> {
  const publisher = await publishers.findBySlug(slug);
  if (!publisher) throw AccountsErrors.PublisherNotFound();
  return publisher.id;
}

/** Basis points as a person reads them: 500 → `5 %`, 250 → `2.5 %`. */
export function feePercentText(bps: number): string {
  return `${(bps / 100).toFixed(2).replace(/\.?0+$/, '')} %`;
}
