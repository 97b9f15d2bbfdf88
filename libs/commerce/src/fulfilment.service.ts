import { Inject, Injectable, Logger } from '@nestjs/common';
import { ChartQueryService } from '@berth/catalog';
import { LicenseService, newestStable } from '@berth/licensing';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { MailOutbox } from '@berth/mail';
import { TransferActions } from '@berth/payouts';
import { DataSource, EntityManager } from 'typeorm';
import { OrderEntity, PaymentDisputeEntity, PaymentRefundEntity, WebhookEventEntity } from './entities';
import { PaymentEvent } from './payment-provider';
import { CommerceErrors } from './errors';
import { LICENSE_MAIL } from './license-mail';

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
  | 'refund_mismatch'
  | 'stale_refund'
  | 'stale_dispute_event'
  | 'dispute_lost_before_completion'
  | 'recorded_before_completion'
  | 'ignored';

/** Dispute statuses after which Stripe changes nothing more (a late "created" cannot reopen them). */
const CLOSED_DISPUTE_STATUSES = new Set(['won', 'lost', 'warning_closed', 'prevented']);
/** Closed without the money going back to the buyer: the license stays (or becomes) usable. */
const DISPUTE_STATUSES_KEPT = new Set(['won', 'warning_closed', 'prevented']);

/** What the disputes recorded for one payment mean for its license, whatever order they arrived in. */
type DisputeState = 'clear' | 'open' | 'lost';

/** Namespace of the per-payment transaction lock (the two-key advisory lock space). */
const PAYMENT_LOCK_NAMESPACE = 0x62657274; // "bert"

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
    private readonly mail: MailOutbox,
    private readonly transfers: TransferActions,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async handle(provider: string, event: PaymentEvent): Promise<EventOutcome> {
    const outcome = await this.dataSource.transaction(async (m) => {
      const paymentRef = 'paymentRef' in event ? event.paymentRef : null;
      const inserted = await m
        .createQueryBuilder()
        .insert()
        .into(WebhookEventEntity)
        .values({
          id: event.id,
          provider,
          type: event.type === 'ignored' ? event.originalType : event.type,
          paymentRef,
          receivedAt: new Date(),
          processedAt: null,
          outcome: null,
        })
        .orIgnore()
        .returning(['id'])
        .execute();
      if (!inserted.raw?.length) return 'duplicate' as const;
      // Events about one payment (completion, refunds, disputes) are applied one at a time, before any
      // order row is locked: a dispute or refund can then never miss a completion committing beside it.
      if (paymentRef)
        await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [PAYMENT_LOCK_NAMESPACE, paymentRef]);
      const result = await this.apply(m, event);
      await m.update(WebhookEventEntity, { id: event.id }, { processedAt: new Date(), outcome: result });
      return result;
    });
    // Invalidated inside the transaction too, but a read between that and the commit could re-cache the old state.
    this.licenses.forgetCachedStatus();
    this.logger.log({ msg: 'payment event', provider, type: event.type, eventId: event.id, outcome });
    // A dispute may have queued a transfer change: carry it out now rather than at the next round.
    if (event.type === 'dispute.created' || event.type === 'dispute.closed') {
      void this.transfers
        .runDue()
        .catch((e: unknown) =>
          this.logger.warn({ msg: 'transfer changes failed', err: (e as Error).message }),
        );
    }
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
          throw CommerceErrors.WebhookPayloadMismatch();
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
      case 'charge.refunded':
        return this.refunded(m, event);
      case 'dispute.created':
      case 'dispute.closed':
        return this.disputed(m, event);
      case 'ignored':
        return 'ignored';
    }
  }

  /**
   * A refund the provider reports. It must be about this order's charge (same payment, amount and
   * currency); anything else is recorded as a mismatch and changes nothing. The refunded total only
   * grows, so an older event delivered late cannot lower it; a full refund revokes the license.
   */
  private async refunded(
    m: EntityManager,
    e: Extract<PaymentEvent, { type: 'charge.refunded' }>,
  ): Promise<EventOutcome> {
    const order = (await this.lockOrder(m, e.orderId)) ?? (await this.lockOrderByPayment(m, e.paymentRef));
    const currency = typeof e.currency === 'string' ? e.currency.toLowerCase() : '';
    const wellFormed =
      Number.isSafeInteger(e.amount) &&
      Number.isSafeInteger(e.amountRefunded) &&
      e.amountRefunded >= 0 &&
      /^[a-z]{3}$/.test(currency);
    const foreign =
      !order ||
      !wellFormed ||
      e.amount !== order.amount ||
      currency !== order.currency ||
      (order.paymentRef !== null && e.paymentRef !== null && order.paymentRef !== e.paymentRef);
    if (order && foreign) {
      this.logger.warn({
        msg: 'refund event does not match the order it points to: ignored',
        orderId: order.id,
        eventId: e.id,
      });
      return 'refund_mismatch';
    }
    // Kept by payment even before the completion arrives: fulfilment cross-checks and applies it then.
    if (wellFormed && e.paymentRef)
      await this.recordRefund(m, e.paymentRef, e.amount, currency, e.amountRefunded);
    if (!order) {
      if (!wellFormed) return 'refund_mismatch';
      return e.amountRefunded >= e.amount ? 'refunded_before_completion' : 'partially_refunded';
    }
    if (e.amountRefunded < order.refundedAmount) return 'stale_refund';
    const full = e.amountRefunded >= order.amount;
    await m.update(
      OrderEntity,
      { id: order.id },
      {
        refundedAmount: e.amountRefunded,
        paymentRef: order.paymentRef ?? e.paymentRef,
        ...(full ? { status: 'refunded' as const } : {}),
      },
    );
    if (!full) return 'partially_refunded';
    await this.licenses.revoke({ orderId: order.id }, 'refunded', m);
    return 'refunded';
  }

  private async recordRefund(
    m: EntityManager,
    paymentRef: string,
    amount: number,
    currency: string,
    amountRefunded: number,
  ): Promise<void> {
    await m.query(
      `INSERT INTO "payment_refund" ("payment_ref", "amount", "currency", "amount_refunded") VALUES ($1, $2, $3, $4)
       ON CONFLICT ("payment_ref") DO UPDATE
       SET "amount_refunded" = GREATEST("payment_refund"."amount_refunded", EXCLUDED."amount_refunded"), "updated_at" = now()`,
      [paymentRef, amount, currency, amountRefunded],
    );
  }

  /**
   * A dispute event: first recorded by dispute id (a closed dispute is final, so a "created" delivered
   * after its "closed" changes nothing), then the order's license is set from every dispute recorded
   * for the payment. Before the completion there is no order to act on; fulfilment applies it then.
   */
  private async disputed(
    m: EntityManager,
    e: Extract<PaymentEvent, { type: 'dispute.created' | 'dispute.closed' }>,
  ): Promise<EventOutcome> {
    if (!e.paymentRef) return 'unknown_order';
    const status = (e.status || (e.type === 'dispute.closed' ? 'closed' : 'needs_response')).slice(0, 32);
    const closing = e.type === 'dispute.closed' || CLOSED_DISPUTE_STATUSES.has(status);
    const changed: unknown[] = await m.query(
      `INSERT INTO "payment_dispute" ("id", "payment_ref", "status", "closed_at") VALUES ($1, $2, $3, $4)
       ON CONFLICT ("payment_ref", "id") DO UPDATE SET "status" = EXCLUDED."status", "closed_at" = EXCLUDED."closed_at", "updated_at" = now()
       WHERE "payment_dispute"."closed_at" IS NULL
       RETURNING "id"`,
      [e.disputeId ?? e.id, e.paymentRef, status, closing ? new Date() : null],
    );
    const stale = changed.length === 0;
    const order = await this.lockOrderByPayment(m, e.paymentRef);
    if (!order) return stale ? 'stale_dispute_event' : 'unknown_order';
    if (!stale) await this.queueTransferChange(m, order, e, closing ? status : null);
    const outcome = await this.applyDisputes(m, order, await this.disputeState(m, e.paymentRef));
    return stale ? 'stale_dispute_event' : outcome;
  }

  /**
   * A destination charge's dispute (DISPUTE_REVERSE_TRANSFER): the platform carries it, so an opened dispute
   * takes the disputed amount back from the publisher, and a won one sends it again; a lost one keeps the
   * reversal. Queued here, carried out after the commit (`TransferActions`).
   */
  private async queueTransferChange(
    m: EntityManager,
    order: OrderEntity,
    e: Extract<PaymentEvent, { type: 'dispute.created' | 'dispute.closed' }>,
    closedAs: string | null,
  ): Promise<void> {
    if (!order.transferDestination || !this.config.payouts.disputeReverseTransfer) return;
    // A refund with reverse_transfer already took its part back: only the rest of the transfer can go.
    const amount = Math.min(e.amount ?? order.amount, order.amount - order.refundedAmount);
    if (closedAs === null && amount <= 0) return;
    const change = {
      orderId: order.id,
      disputeId: e.disputeId ?? e.id,
      chargeId: e.chargeId,
      destination: order.transferDestination,
      amount,
      currency: order.currency,
    };
    if (closedAs === null) {
      await this.transfers.queue(m, { ...change, kind: 'reverse' });
      return;
    }
    if (DISPUTE_STATUSES_KEPT.has(closedAs)) await this.transfers.queue(m, { ...change, kind: 'restore' });
  }

  /** Sets a fulfilled order and its license from the disputes on its payment. */
  private async applyDisputes(
    m: EntityManager,
    order: OrderEntity,
    state: DisputeState,
  ): Promise<EventOutcome> {
    if (order.status === 'pending' || order.status === 'failed' || order.status === 'expired')
      return 'recorded_before_completion';
    const fulfilled = order.status === 'paid' || order.status === 'disputed';
    switch (state) {
      case 'lost':
        // The card network took the money back: final, like a full refund.
        if (fulfilled) await m.update(OrderEntity, { id: order.id }, { status: 'refunded' });
        await this.licenses.revoke({ orderId: order.id }, 'dispute_lost', m);
        return 'revoked';
      case 'open':
        // Only a paid order becomes disputed; a refunded one stays refunded (its license is already revoked).
        if (order.status === 'paid') await m.update(OrderEntity, { id: order.id }, { status: 'disputed' });
        await this.licenses.suspend(order.id, 'disputed', m);
        return 'suspended';
      case 'clear':
        if (order.status === 'disputed') await m.update(OrderEntity, { id: order.id }, { status: 'paid' });
        await this.licenses.reinstate(order.id, m);
        return 'reinstated';
    }
  }

  /** Any dispute lost → lost; else any still open → open; else (none, or all won) → clear. */
  private async disputeState(m: EntityManager, paymentRef: string): Promise<DisputeState> {
    const disputes = await m.find(PaymentDisputeEntity, { where: { paymentRef } });
    if (disputes.some((d) => d.closedAt !== null && !DISPUTE_STATUSES_KEPT.has(d.status))) return 'lost';
    if (disputes.some((d) => d.closedAt === null)) return 'open';
    return 'clear';
  }

  /** Marks a locked pending order paid and issues its one license. */
  async fulfil(m: EntityManager, order: OrderEntity, paymentRef: string): Promise<EventOutcome> {
    if (order.status === 'paid' || order.status === 'disputed') return 'already_fulfilled';
    if (order.status !== 'pending') return 'not_pending';
    // A refund can overtake the completion event: then (part of) the payment is already gone.
    let refundedAmount = order.refundedAmount;
    const refund = await m.findOne(PaymentRefundEntity, { where: { paymentRef } });
    if (refund && refund.amount === order.amount && refund.currency === order.currency) {
      refundedAmount = Math.max(refundedAmount, refund.amountRefunded);
    } else if (refund) {
      this.logger.warn({
        msg: 'a refund recorded for this payment does not match the order: ignored',
        orderId: order.id,
      });
    }
    if (refundedAmount >= order.amount) {
      await m.update(OrderEntity, { id: order.id }, { status: 'refunded', paymentRef, refundedAmount });
      return 'refunded_before_completion';
    }
    // So can disputes: a lost one means the money went back, an open one starts the license suspended.
    const disputes = await this.disputeState(m, paymentRef);
    if (disputes === 'lost') {
      await m.update(OrderEntity, { id: order.id }, { status: 'refunded', paymentRef, refundedAmount });
      this.logger.warn({
        msg: 'no license issued: a dispute on this payment was lost before the payment completed',
        orderId: order.id,
      });
      return 'dispute_lost_before_completion';
    }
    await m.update(
      OrderEntity,
      { id: order.id },
      { status: 'paid', paymentRef, paidAt: new Date(), refundedAmount },
    );
    // Anchored on what the buyer saw at checkout; orders from before that was recorded use today's newest.
    let anchor = order.newestStableVersion;
    if (anchor === null) {
      const versions =
        (await this.charts.listVersions(order.publisherId, 'publisher', order.chartName, m)).get(
          order.chartName,
        ) ?? [];
      anchor = newestStable(versions.map((v) => v.version));
    }
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
        newestStable: anchor,
      },
      m,
    );
    // In this transaction: the buyer is mailed exactly when the license exists.
    await this.mail.enqueue(m, { kind: LICENSE_MAIL, subject: license.id, to: order.buyerEmail });
    if (disputes === 'open') {
      await m.update(OrderEntity, { id: order.id }, { status: 'disputed' });
      await this.licenses.suspend(order.id, 'disputed', m);
      this.logger.warn({
        msg: 'license issued suspended: a dispute was recorded before the payment completed',
        licenseId: license.id,
      });
    }
    return 'fulfilled';
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
