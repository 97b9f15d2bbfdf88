import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** A Connect account's `transfers` capability as Stripe reports it (`none`: not requested or unknown). */
export type TransfersCapability = 'active' | 'inactive' | 'pending' | 'none';

/**
 * A publisher's payout account and what Stripe last said about it (kept from `account.updated` and
 * `capability.updated` events and re-read whenever the publisher returns from onboarding), plus the fee
 * override an operator may set for this publisher. One row per publisher.
 */
@Entity('payout_account')
export class PayoutAccountEntity {
  @PrimaryColumn({ name: 'publisher_id', type: 'uuid' })
  publisherId: string;

  /** Stripe's `acct_…`, or `local_acct_…` for the local simulation; null until onboarding starts. */
  @Column({ name: 'account_id', type: 'varchar', length: 255, nullable: true, unique: true })
  accountId: string | null;

  @Column({ name: 'charges_enabled', type: 'boolean', default: false })
  chargesEnabled: boolean;

  @Column({ name: 'payouts_enabled', type: 'boolean', default: false })
  payoutsEnabled: boolean;

  @Column({ name: 'transfers_capability', type: 'varchar', length: 16, default: 'none' })
  transfersCapability: TransfersCapability;

  /** `requirements.currently_due`: what Stripe still needs from the publisher. */
  @Column({ name: 'currently_due', type: 'jsonb', default: () => "'[]'" })
  currentlyDue: string[];

  /** `account.application.deauthorized`: the publisher disconnected the store; no sales until reconnected. */
  @Column({ name: 'deauthorized_at', type: 'timestamptz', nullable: true })
  deauthorizedAt: Date | null;

  /** The last `payout.failed`: shown to the publisher until a later payout succeeds. */
  @Column({ name: 'payout_failure', type: 'jsonb', nullable: true })
  payoutFailure: { at: string; code: string | null; message: string | null } | null;

  /** An operator's fee for this publisher instead of PLATFORM_FEE_BPS / PLATFORM_FEE_FIXED. */
  @Column({ name: 'fee_bps', type: 'integer', nullable: true })
  feeBps: number | null;

  @Column({ name: 'fee_fixed', type: 'jsonb', nullable: true })
  feeFixed: Record<string, number> | null;

  /** Stripe's `created` of the newest account event applied: an older event arriving late is ignored. */
  @Column({ name: 'state_as_of', type: 'timestamptz', nullable: true })
  stateAsOf: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}

/** Connect events already handled, by event id and account (Stripe may deliver one many times). */
@Entity('connect_event')
export class ConnectEventEntity {
  @PrimaryColumn({ type: 'varchar', length: 255 })
  id: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  account: string;

  @Column({ type: 'varchar', length: 100 })
  type: string;

  @Column({ type: 'varchar', length: 32 })
  outcome: string;

  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' })
  receivedAt: Date;
}

/**
 * A transfer change a dispute calls for, written in the transaction of the dispute event and carried out
 * after it commits by `TransferActions` (never inside the dispute's own transaction): `reverse` takes the
 * disputed amount back from the publisher when a dispute opens, `restore` sends it again when the dispute
 * is won. One of each per dispute; retried with backoff until Stripe takes it.
 */
@Entity('transfer_action')
export class TransferActionEntity {
  @PrimaryColumn({ name: 'order_id', type: 'uuid' })
  orderId: string;

  @PrimaryColumn({ name: 'dispute_id', type: 'varchar', length: 255 })
  disputeId: string;

  @PrimaryColumn({ type: 'varchar', length: 8 })
  kind: 'reverse' | 'restore';

  /** The charge whose transfer is reversed (`ch_…`), as the dispute names it. */
  @Column({ name: 'charge_id', type: 'varchar', length: 255, nullable: true })
  chargeId: string | null;

  @Column({ type: 'varchar', length: 255 })
  destination: string;

  @Column({ type: 'integer' })
  amount: number;

  @Column({ type: 'char', length: 3 })
  currency: string;

  /** `dropped`: a reversal the dispute's close made moot before Stripe took it (nothing to restore). */
  @Column({ type: 'varchar', length: 8, default: 'pending' })
  status: 'pending' | 'done' | 'dropped';

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', default: () => 'now()' })
  nextAttemptAt: Date;

  @Column({ name: 'last_error', type: 'varchar', length: 200, nullable: true })
  lastError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @Column({ name: 'done_at', type: 'timestamptz', nullable: true })
  doneAt: Date | null;
}

export const PAYOUTS_ENTITIES = [PayoutAccountEntity, ConnectEventEntity, TransferActionEntity];
