import { Inject, Injectable, Logger } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DataSource } from 'typeorm';
import { OrderEntity } from './entities';
import { CommerceErrors } from './errors';
import { FulfilmentService } from './fulfilment.service';
import { PAYMENT_PROVIDER, PaymentProvider } from './payment-provider';

/** What a refund request did: done at once (local payments), or asked of Stripe, whose event finishes it. */
export type RefundOutcome = 'refunded' | 'refund_requested';

/**
 * A publisher refunds an order in full. Through Stripe, the refund is asked for (idempotent per order)
 * and the order and license change when Stripe's `charge.refunded` arrives, exactly as for a refund made
 * in Stripe's dashboard. A local (no money moved) order is refunded at once through the same event path,
 * so the license is revoked the same way and a repeated request is a no-op.
 */
@Injectable()
export class OrderRefunds {
  private readonly logger = new Logger(OrderRefunds.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly fulfilment: FulfilmentService,
    @Inject(PAYMENT_PROVIDER) private readonly provider: PaymentProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async refund(publisherId: string, orderId: string): Promise<RefundOutcome> {
    const order = await this.dataSource
      .getRepository(OrderEntity)
      .findOne({ where: { id: orderId, publisherId } });
    if (!order) throw CommerceErrors.OrderNotFound();
    if (order.status !== 'paid' || !order.paymentRef)
      throw CommerceErrors.OrderNotRefundable(
        order.status === 'disputed'
          ? 'This order is under dispute: the card network decides it; answer the dispute in Stripe.'
          : `Only a paid order can be refunded; this one is ${order.status}.`,
      );
    if (order.provider === 'local') {
      await this.fulfilment.handle('local', {
        type: 'charge.refunded',
        id: `local_refund_${order.id}`,
        paymentRef: order.paymentRef,
        orderId: order.id,
        amount: order.amount,
        amountRefunded: order.amount,
        currency: order.currency,
      });
      return 'refunded';
    }
    if (this.provider.name !== order.provider)
      throw CommerceErrors.OrderNotRefundable(
        `This order was paid through ${order.provider}, which this store no longer uses: refund it there.`,
      );
    try {
      // A destination charge: the publisher's share comes back from their account, not the store's.
      await this.provider.refund(
        order.paymentRef,
        order.id,
        order.transferDestination
          ? { reverseTransfer: true, refundApplicationFee: this.config.payouts.refundPlatformFee }
          : undefined,
      );
    } catch (e) {
      this.logger.warn({
        msg: 'refund refused by the provider',
        orderId: order.id,
        err: (e as Error).message,
      });
      throw CommerceErrors.RefundFailed();
    }
    return 'refund_requested';
  }
}
