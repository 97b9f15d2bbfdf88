import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface MarketplaceRow {
  publisher: string;
  currency: string;
  /** Orders paid in the period (whatever happened to them after). */
  sales: number;
  gross: number;
  /** The platform fees recorded on those orders. */
  platformFees: number;
  refunded: number;
  openDisputes: number;
  disputedAmount: number;
}

export interface MarketplaceReportResult {
  rows: MarketplaceRow[];
  /** Per currency: what open disputes on destination charges put at the platform's risk (it carries losses). */
  exposure: Array<{ currency: string; openDisputes: number; amount: number }>;
}

const PAID = `o.status IN ('paid', 'disputed', 'refunded') AND o.paid_at IS NOT NULL`;

/** The operator's view of a marketplace: per publisher and currency, from the orders themselves. */
@Injectable()
export class MarketplaceReport {
  constructor(private readonly dataSource: DataSource) {}

  async summary(period: { from?: Date; to?: Date } = {}): Promise<MarketplaceReportResult> {
    const from = period.from ?? new Date(0);
    const to = period.to ?? new Date('9999-12-31T00:00:00Z');
    const rows = (await this.dataSource.query(
      `SELECT o.publisher_slug AS publisher, o.currency,
              count(*)::int AS sales,
              sum(o.amount)::bigint AS gross,
              coalesce(sum(o.platform_fee_amount), 0)::bigint AS fees,
              sum(o.refunded_amount)::bigint AS refunded,
              count(*) FILTER (WHERE o.status = 'disputed')::int AS open_disputes,
              coalesce(sum(o.amount) FILTER (WHERE o.status = 'disputed'), 0)::bigint AS disputed
         FROM "order" o
        WHERE ${PAID} AND o.paid_at >= $1 AND o.paid_at < $2
        GROUP BY o.publisher_slug, o.currency
        ORDER BY o.publisher_slug, o.currency`,
      [from, to],
    )) as Array<Record<string, string | number>>;
    const exposure = (await this.dataSource.query(
      `SELECT o.currency, count(*)::int AS open_disputes, coalesce(sum(o.amount), 0)::bigint AS amount
         FROM "order" o
        WHERE o.status = 'disputed' AND o.transfer_destination IS NOT NULL
        GROUP BY o.currency ORDER BY o.currency`,
    )) as Array<Record<string, string | number>>;
    return {
      rows: rows.map((r) => ({
        publisher: String(r.publisher),
        currency: String(r.currency).trim(),
        sales: Number(r.sales),
        gross: Number(r.gross),
        platformFees: Number(r.fees),
        refunded: Number(r.refunded),
        openDisputes: Number(r.open_disputes),
        disputedAmount: Number(r.disputed),
      })),
      exposure: exposure.map((r) => ({
        currency: String(r.currency).trim(),
        openDisputes: Number(r.open_disputes),
        amount: Number(r.amount),
      })),
    };
  }
}
