import { minorUnitDigits as decimalsOf } from '@berth/common';

/** `12.50`, `500`: an amount in minor units as a decimal number of the currency's major unit. */
export function decimalAmount(amount: number, currency: string): string {
  const decimals = decimalsOf(currency);
  return (amount / 10 ** decimals).toFixed(decimals);
}

/** `12.50 EUR`, `500 JPY`: an amount in minor units as people read it. */
export function formatMoney(amount: number, currency: string): string {
  return `${decimalAmount(amount, currency)} ${currency.toUpperCase()}`;
}

/**
 * A price as a person types it (`49`, `49.5`, `49.00`) in the currency's minor units; null when it is
 * not a plain non-negative number with at most the currency's decimals.
 */
export function minorUnits(text: string, currency: string): number | null {
  const decimals = decimalsOf(currency);
  const m = /^(\d{1,9})(?:\.(\d*))?$/.exec(text.trim());
  if (!m || (m[2] ?? '').length > decimals) return null;
  return Number(m[1]) * 10 ** decimals + Number((m[2] ?? '').padEnd(decimals, '0') || 0);
}
