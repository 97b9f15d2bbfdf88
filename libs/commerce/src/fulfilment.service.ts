import { Injectable, Logger } from '@nestjs/common';
import { ChartQueryService } from '@berth/catalog';
import { invalid } from '@berth/common';
import { LicenseService, newestStable } from '@berth/licensing';
import { DataSource, EntityManager } from 'typeorm';
import { OrderEntity, WebhookEventEntity } from './entities';
import { CommerceErrorCode } from './errors';
import { PaymentEvent } from './payment-provider';

export type EventOutcome =
  | 'duplicate'
  | 'fulfilled'
  | 'already_fulfilled'
  | 'awaiting_payment'
  | 'refunded_before_completion'
  | 'not_pending'
  | 'unknown_order'
  | 'failed'
  | 'expired'
  | 'refunded'
  | 'partially_refunded'
  | 'suspended'
  | 'reinstated'
  | 'revoked'
  | 'ignored';

/**
 * Turns verified payment events into order states and licenses. Each event is recorded under its
 * provider id in the same transaction that acts on it: a second delivery finds the row and does
 * nothing, a failure rolls both back so the provider's retry processes it once. The order row is
 * locked while it changes, and one license per order is a unique key.
 */
@Injectable()
export class FulfilmentService {
  private readonly logger = new Logger(FulfilmentService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly licenses: LicenseService,
    private readonly charts: ChartQueryService,
  ) {}

  async handle(provider: string, event: PaymentEvent): Promise<EventOutcome> {
    const outcome = await this.dataSource.transaction(async (m) => {
      const paymentRef = 'paymentRef' in event ? event.paymentRef : null;
      const inserted = await m
        .createQueryBuilder()
        .insert()
        .into(WebhookEventEntity)
        .values({ id: event.id, provider, type: event.type === 'ignored' ? event.originalType : event.type, paymentRef, receivedAt: new Date(), processedAt: null, outcome: null })
        .orIgnore()
        .returning(['id'])
        .execute();
      if (!inserted.raw?.length) return 'duplicate' as const;
      const result = await this.apply(m, event);
      await m.update(WebhookEventEntity, { id: event.id }, { processedAt: new Date(), outcome: result });
      return result;
    });
    // Invalidated inside the transaction too, but a read between that and the commit could re-cache the old state.
    this.licenses.forgetCachedStatus();
    this.logger.log({ msg: 'payment event', provider, type: event.type, eventId: event.id, outcome });
    return outcome;
  }

  private async apply(m: EntityManager, event: PaymentEvent): Promise<EventOutcome> {
    switch (event.type) {
      case 'checkout.completed':
      case 'checkout.async_succeeded': {
        const order = await this.lockOrder(m, event.orderId);
        if (!order || order.providerSessionId !== event.sessionId) return 'unknown_order';
        if (event.amount !== order.amount || event.currency?.toLowerCase() !== order.currency) {
          // The signed event is the truth about the payment; if it disagrees with our order, issue nothing.
          throw invalid(CommerceErrorCode.WebhookPayloadMismatch, 'The event does not match the order it names.');
        }
        if (event.paymentStatus !== 'paid') return 'awaiting_payment';
        return this.fulfil(m, order, event.paymentRef ?? event.sessionId);
      }
      case 'checkout.async_failed':
      case 'checkout.expired': {
        const order = await this.lockOrder(m, event.orderId);
        if (!order || order.providerSessionId !== event.sessionId) return 'unknown_order';
        if (order.status !== 'pending') return 'not_pending';
        const status = event.type === 'checkout.expired' ? 'expired' : 'failed';
        await m.update(OrderEntity, { id: order.id }, { status });
        return status;
      }
      case 'charge.refunded': {
        const order = (await this.lockOrder(m, event.orderId)) ?? (await this.lockOrderByPayment(m, event.paymentRef));
        const full = event.amountRefunded >= event.amount;
        // Not matched yet: the completion may still come. Only a full refund cancels it (see fulfil).
        if (!order) return full ? 'refunded_before_completion' : 'partially_refunded';
        await m.update(OrderEntity, { id: order.id }, { refundedAmount: event.amountRefunded, ...(full ? { status: 'refunded' as const } : {}) });
        if (!full) return 'partially_refunded';
        await this.licenses.revoke({ orderId: order.id }, 'refunded', m);
        return 'refunded';
      }
      case 'dispute.created': {
        const order = await this.lockOrderByPayment(m, event.paymentRef);
        if (!order) return 'unknown_order';
        // Only a paid order becomes disputed; a refunded one stays refunded (its license is already revoked).
        if (order.status === 'paid') await m.update(OrderEntity, { id: order.id }, { status: 'disputed' });
        await this.licenses.suspend(order.id, 'disputed', m);
        return 'suspended';
      }
      case 'dispute.closed': {
        const order = await this.lockOrderByPayment(m, event.paymentRef);
        if (!order) return 'unknown_order';
        if (event.status === 'won' || event.status === 'warning_closed') {
          if (order.status === 'disputed') await m.update(OrderEntity, { id: order.id }, { status: 'paid' });
          await this.licenses.reinstate(order.id, m);
          return 'reinstated';
        }
        await this.licenses.revoke({ orderId: order.id }, 'dispute_lost', m);
        return 'revoked';
      }
      case 'ignored':
        return 'ignored';
    }
  }

  /** Marks a locked pending order paid and issues its one license. */
  async fulfil(m: EntityManager, order: OrderEntity, paymentRef: string): Promise<EventOutcome> {
    if (order.status === 'paid' || order.status === 'disputed') return 'already_fulfilled';
    if (order.status !== 'pending') return 'not_pending';
    // A refund can overtake the completion event: then the payment is already gone.
    const earlierRefund = await m
      .getRepository(WebhookEventEntity)
      .exists({ where: { paymentRef, type: 'charge.refunded', outcome: 'refunded_before_completion' } });
    if (earlierRefund) {
      await m.update(OrderEntity, { id: order.id }, { status: 'refunded', paymentRef });
      return 'refunded_before_completion';
    }
    await m.update(OrderEntity, { id: order.id }, { status: 'paid', paymentRef, paidAt: new Date() });
    const versions = (await this.charts.listVersions(order.publisherId, 'publisher', order.chartName, m)).get(order.chartName) ?? [];
    const license = await this.licenses.issue(
      {
        orderId: order.id,
        publisherId: order.publisherId,
        publisherSlug: order.publisherSlug,
        chartId: order.chartId,
        chartName: order.chartName,
        buyerEmail: order.buyerEmail,
        policy:
          order.updatePolicy === 'window'
            ? { kind: 'window', months: order.updateWindowMonths ?? 12 }
            : { kind: order.updatePolicy },
        newestStable: newestStable(versions.map((v) => v.version)),
      },
      m,
    );
    // A dispute can overtake the completion too: if one is open for this payment, start suspended.
    if (await this.openDisputeRecorded(m, paymentRef)) {
      await m.update(OrderEntity, { id: order.id }, { status: 'disputed' });
      await this.licenses.suspend(order.id, 'disputed', m);
      this.logger.warn({ msg: 'license issued suspended: a dispute was recorded before the payment completed', licenseId: license.id });
    }
    return 'fulfilled';
  }

  private async openDisputeRecorded(m: EntityManager, paymentRef: string): Promise<boolean> {
    const events = await m.getRepository(WebhookEventEntity).find({
      where: [
        { paymentRef, type: 'dispute.created' },
        { paymentRef, type: 'dispute.closed' },
      ],
      order: { receivedAt: 'ASC' },
    });
    return events.length > 0 && events[events.length - 1].type === 'dispute.created';
  }

  async lockOrder(m: EntityManager, orderId: string | null): Promise<OrderEntity | null> {
    if (!orderId || !/^[0-9a-f-]{36}$/i.test(orderId)) return null;
    return m.findOne(OrderEntity, { where: { id: orderId }, lock: { mode: 'pessimistic_write' } });
  }

  private async lockOrderByPayment(m: EntityManager, paymentRef: string | null): Promise<OrderEntity | null> {
    if (!paymentRef) return null;
    return m.findOne(OrderEntity, { where: { paymentRef }, lock: { mode: 'pessimistic_write' } });
  }
}
