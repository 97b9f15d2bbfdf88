import { decimalAmount } from './money';
import type { OrderView } from './orders.service';

/**
 * One CSV cell (RFC 4180). A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and some a tab
 * or carriage return first) as a formula: buyer e-mails are the buyers' own text, so such a cell gets a
 * leading `'`, which spreadsheets show as text (OWASP's CSV injection advice).
 */
export function csvCell(value: string | number | null): string {
  if (value === null) return '';
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const ORDER_CSV_COLUMNS = [
  'order_id',
  'created_at',
  'paid_at',
  'chart',
  'buyer_email',
  'status',
  'currency',
  'amount',
  'refunded',
  'amount_minor',
  'refunded_minor',
  'provider',
] as const;

/** The header line, then one line per order; CRLF endings as RFC 4180 asks. */
export function orderCsvHeader(): string {
  return `${ORDER_CSV_COLUMNS.join(',')}\r\n`;
}

export function orderCsvLine(o: OrderView): string {
  const cells = [
    o.id,
    o.createdAt.toISOString(),
    o.paidAt?.toISOString() ?? null,
    o.chart,
    o.buyerEmail,
    o.status,
    o.currency.toUpperCase(),
    decimalAmount(o.amount, o.currency),
    decimalAmount(o.refundedAmount, o.currency),
    o.amount,
    o.refundedAmount,
    o.provider,
  ];
  return `${cells.map(csvCell).join(',')}\r\n`;
}
