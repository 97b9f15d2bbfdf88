import {
  Column,
  CreateDateColumn,
  Entity,
  Index,
  PrimaryColumn,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';

export type OrderStatus = 'pending' | 'paid' | 'failed' | 'expired' | 'refunded' | 'disputed';

@Entity('order')
@Index('order_publisher_idx', ['publisherId', 'createdAt'])
@Index('order_pending_expiry_idx', ['expiresAt'], { where: `"status" = 'pending'` })
export class OrderEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'publisher_id', type: 'uuid' })
  publisherId: string;

  @Column({ name: 'chart_id', type: 'uuid' })
  chartId: string;

  /** Snapshots taken at checkout: what was bought, under which update policy, stays fixed. */
  @Column({ name: 'publisher_slug', type: 'varchar', length: 40 })
  publisherSlug: string;

  @Column({ name: 'chart_name', type: 'varchar', length: 63 })
  chartName: string;

  @Column({ name: 'update_policy', type: 'varchar', length: 16 })
  updatePolicy: 'all' | 'major' | 'minor' | 'window';

  @Column({ name: 'update_window_months', type: 'integer', nullable: true })
  updateWindowMonths: number | null;

  /**
   * The newest stable version when the checkout started: `major` and `minor` policies are anchored on
   * what the buyer saw, not on what was released before the payment completed. Null on orders made
   * before this was recorded (fulfilment then falls back to the newest stable version at payment).
   */
  @Column({ name: 'newest_stable_version', type: 'varchar', length: 255, nullable: true })
  newestStableVersion: string | null;

  @Column({ name: 'buyer_email', type: 'varchar', length: 320 })
  buyerEmail: string;

  /** Integer minor units, fixed from the listing when the order is made. */
  @Column({ type: 'integer' })
  amount: number;

  @Column({ type: 'char', length: 3 })
  currency: string;

  @Column({ type: 'varchar', length: 16 })
  provider: 'stripe' | 'local';

  /** The checkout session id: the buyer's secret on the success page. */
  @Index('order_provider_session_key', { unique: true })
  @Column({ name: 'provider_session_id', type: 'varchar', length: 255, nullable: true })
  providerSessionId: string | null;

  /** Stripe PaymentIntent id, learned at completion: refunds and disputes point to it. */
  @Index('order_payment_ref_idx')
  @Column({ name: 'payment_ref', type: 'varchar', length: 255, nullable: true })
  paymentRef: string | null;

  @Column({ type: 'varchar', length: 16 })
  status: OrderStatus;

  /** The highest refunded total the provider reported for this payment: it only ever grows. */
  @Column({ name: 'refunded_amount', type: 'integer', default: 0 })
  refundedAmount: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true })
  paidAt: Date | null;

  /**
   * When a pending checkout stops being payable (CHECKOUT_EXPIRY_SECONDS after it opened; the same instant
   * is Stripe's `expires_at`). The local pay page refuses it after this and the sweep marks it `expired`.
   * Null on orders made before expiry existed and not yet swept.
   */
  @Column({ name: 'expires_at', type: 'timestamptz', nullable: true })
  expiresAt: Date | null;

  /**
   * PAYOUTS=connect: the publisher's payout account the sale is transferred to (a destination charge) and
   * the platform fee kept from it, both fixed when the checkout opened. Null when the operator keeps the
   * whole sale (PAYOUTS=none, and every order from before).
   */
  @Column({ name: 'transfer_destination', type: 'varchar', length: 255, nullable: true })
  transferDestination: string | null;

  @Column({ name: 'platform_fee_amount', type: 'integer', nullable: true })
  platformFeeAmount: number | null;
}

@Entity('webhook_event')
export class WebhookEventEntity {
  /** The provider's event id: a second delivery of the same event conflicts here and is a no-op. */
  @PrimaryColumn({ type: 'varchar', length: 255 })
  id: string;

  @Column({ type: 'varchar', length: 16 })
  provider: string;

  @Column({ type: 'varchar', length: 100 })
  type: string;

  /** The payment the event is about (PaymentIntent id), so late completions can see earlier refunds. */
  @Index('webhook_event_payment_ref_idx')
  @Column({ name: 'payment_ref', type: 'varchar', length: 255, nullable: true })
  paymentRef: string | null;

  @Column({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt: Date | null;

  /** What processing concluded (fulfilled, ignored_unknown_type, ...), for operators. */
  @Column({ type: 'varchar', length: 64, nullable: true })
  outcome: string | null;
}

/**
 * What the provider said about each dispute of a payment, by dispute id. Dispute and payment events
 * arrive in any order, possibly before the completion that ties the payment to an order; the license
 * state is derived from these rows (any lost → revoked, any open → suspended), so it does not depend on
 * delivery order. A closed dispute is final: a late "created" or "updated" cannot reopen it.
 */
@Entity('payment_dispute')
export class PaymentDisputeEntity {
  /** The PaymentIntent disputed: matched to an order's payment_ref, now or at completion. */
  @PrimaryColumn({ name: 'payment_ref', type: 'varchar', length: 255 })
  paymentRef: string;

  /** The provider's dispute id (one payment can be disputed more than once). */
  @PrimaryColumn({ type: 'varchar', length: 255 })
  id: string;

  /** The provider's latest status (needs_response, under_review, won, lost, warning_closed, ...). */
  @Column({ type: 'varchar', length: 32 })
  status: string;

  /** Set by the first closing event; from then on the row never changes. */
  @Column({ name: 'closed_at', type: 'timestamptz', nullable: true })
  closedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/**
 * Refunds the provider reported for a payment, by PaymentIntent: kept even when no order is known yet
 * (a refund can overtake the completion), so fulfilment can cross-check and apply it later.
 */
@Entity('payment_refund')
export class PaymentRefundEntity {
  @PrimaryColumn({ name: 'payment_ref', type: 'varchar', length: 255 })
  paymentRef: string;

  /** The charge's amount and currency as the refund event stated them (checked against the order). */
  @Column({ type: 'integer' })
  amount: number;

  @Column({ type: 'char', length: 3 })
  currency: string;

  /** The highest refunded total seen: an older event delivered late cannot lower it. */
  @Column({ name: 'amount_refunded', type: 'integer' })
  amountRefunded: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

export const COMMERCE_ENTITIES = [OrderEntity, WebhookEventEntity, PaymentDisputeEntity, PaymentRefundEntity];
