import { Injectable } from '@nestjs/common';
import { keysetPage, ListFilter, PAGE_LIMIT_MAX } from '@berth/common';
import { DataSource, EntityManager, SelectQueryBuilder } from 'typeorm';
import { OrderEntity, OrderStatus } from './entities';

export interface OrderView {
  id: string;
  chart: string;
  buyerEmail: string;
  amount: number;
  currency: string;
  provider: string;
  status: OrderStatus;
  refundedAmount: number;
  /** PAYOUTS=connect: the platform's fee kept from this sale; null when the store keeps the whole sale. */
  platformFeeAmount: number | null;
  createdAt: Date;
  paidAt: Date | null;
  expiresAt: Date | null;
}

/** Filters of the publisher's order list (`from`/`to` on the creation time). */
export interface OrderFilter extends ListFilter {
  status?: OrderStatus;
}

/** One currency's money in the filtered orders (minor units). */
export interface OrderTotals {
  currency: string;
  /** Orders paid (whatever happened after). */
  paidOrders: number;
  gross: number;
  refunded: number;
  net: number;
  /** Orders with a dispute open now. */
  openDisputes: number;
  /** Money held in those disputes. */
  disputedAmount: number;
}

export interface OrderPage {
  orders: OrderView[];
  /** Null on the last page. */
  nextCursor: string | null;
}

@Injectable()
export class OrdersService {
  constructor(private readonly dataSource: DataSource) {}

  /**
   * Whether a buyer may still pay one of the publisher's checkouts (pending and not past its expiry):
   * its payment would arrive for a publisher that is gone if the publisher were removed now.
   */
  async hasOpenCheckouts(publisherId: string, m: EntityManager): Promise<boolean> {
    const [row] = (await m.query(
      `SELECT EXISTS (SELECT 1 FROM "order" WHERE publisher_id = $1 AND status = 'pending'
         AND (expires_at IS NULL OR expires_at > now())) AS open`,
      [publisherId],
    )) as Array<{ open: boolean }>;
    return row.open;
  }

  /**
   * One page, newest first (id breaks ties), by keyset: the cursor is the last row's exact position, so
   * orders made while a client walks the pages appear before its first page and never shift the rest.
   */
  async list(publisherId: string, filter: OrderFilter = {}): Promise<OrderPage> {
    const { rows, nextCursor } = await keysetPage(this.filtered(publisherId, filter), 'created_at', filter);
    return {
      orders: rows.map((o) => ({
        id: o.id,
        chart: o.chartName,
        buyerEmail: o.buyerEmail,
        amount: o.amount,
        currency: o.currency,
        provider: o.provider,
        status: o.status,
        refundedAmount: o.refundedAmount,
        platformFeeAmount: o.platformFeeAmount,
        createdAt: o.createdAt,
        paidAt: o.paidAt,
        expiresAt: o.expiresAt,
      })),
      nextCursor,
    };
  }

  /** Every order the filter selects, newest first, a page at a time: memory stays flat however many. */
  async *all(
    publisherId: string,
    filter: Omit<OrderFilter, 'cursor' | 'limit'> = {},
  ): AsyncGenerator<OrderView> {
    let cursor: string | undefined;
    do {
      const page = await this.list(publisherId, { ...filter, cursor, limit: PAGE_LIMIT_MAX });
      yield* page.orders;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** Gross, refunded and net per currency, and open disputes, over the orders the filter selects. */
  async totals(
    publisherId: string,
    filter: Omit<OrderFilter, 'cursor' | 'limit'> = {},
  ): Promise<OrderTotals[]> {
    const rows = await this.filtered(publisherId, filter)
      .select('o.currency', 'currency')
      .addSelect('count(*) FILTER (WHERE o.paid_at IS NOT NULL)::int', 'paid_orders')
      .addSelect('coalesce(sum(o.amount) FILTER (WHERE o.paid_at IS NOT NULL), 0)::bigint', 'gross')
      .addSelect('coalesce(sum(o.refunded_amount), 0)::bigint', 'refunded')
      .addSelect(`count(*) FILTER (WHERE o.status = 'disputed')::int`, 'open_disputes')
      .addSelect(`coalesce(sum(o.amount) FILTER (WHERE o.status = 'disputed'), 0)::bigint`, 'disputed_amount')
      .groupBy('o.currency')
      .orderBy('o.currency')
      .getRawMany<Record<string, string | number>>();
    return rows.map((r) => {
      const gross = Number(r.gross);
      const refunded = Number(r.refunded);
      return {
        currency: String(r.currency),
        paidOrders: Number(r.paid_orders),
        gross,
        refunded,
        net: gross - refunded,
        openDisputes: Number(r.open_disputes),
        disputedAmount: Number(r.disputed_amount),
      };
    });
  }

  private filtered(publisherId: string, filter: OrderFilter): SelectQueryBuilder<OrderEntity> {
    const qb = this.dataSource
      .getRepository(OrderEntity)
      .createQueryBuilder('o')
      .where('o.publisher_id = :publisherId', { publisherId });
    if (filter.status) qb.andWhere('o.status = :status', { status: filter.status });
    if (filter.chart) qb.andWhere('o.chart_name = :chart', { chart: filter.chart });
    if (filter.email) qb.andWhere('o.buyer_email = :email', { email: filter.email.trim().toLowerCase() });
    if (filter.from) qb.andWhere('o.created_at >= :from', { from: filter.from });
    if (filter.to) qb.andWhere('o.created_at < :to', { to: filter.to });
    return qb;
  }
}
