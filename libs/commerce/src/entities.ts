import { Column, CreateDateColumn, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export type OrderStatus = 'pending' | 'paid' | 'failed' | 'expired' | 'refunded' | 'disputed';

@Entity('order')
@Index('order_publisher_idx', ['publisherId', 'createdAt'])
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

  @Column({ name: 'refunded_amount', type: 'integer', default: 0 })
  refundedAmount: number;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;

  @Column({ name: 'paid_at', type: 'timestamptz', nullable: true })
  paidAt: Date | null;
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

export const COMMERCE_ENTITIES = [OrderEntity, WebhookEventEntity];
