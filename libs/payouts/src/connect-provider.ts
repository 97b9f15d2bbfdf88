import type { TransfersCapability } from './entities';

/** What Stripe says about a payout account, reduced to what gates sales and what the publisher sees. */
export interface AccountState {
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  transfers: TransfersCapability;
  currentlyDue: string[];
}

interface EventBase {
  id: string;
  /** The connected account the event is about (`event.account`). */
  account: string;
  livemode: boolean;
  /** Stripe's `created`: orders account updates that arrive out of order. */
  created: Date;
}

/** A verified Connect event, reduced to what the payouts need. */
export type ConnectEvent =
  | (EventBase & { type: 'account.updated'; state: AccountState })
  | (EventBase & { type: 'capability.updated'; capability: string; status: TransfersCapability })
  | (EventBase & { type: 'account.application.deauthorized' })
  | (EventBase & { type: 'payout.failed'; code: string | null; message: string | null })
  | (EventBase & { type: 'payout.paid' })
  | (EventBase & { type: 'ignored'; originalType: string });

export interface NewAccount {
  publisherId: string;
  slug: string;
  email: string;
  /** Also request `card_payments`: charges made on behalf of the account need it. */
  onBehalfOf: boolean;
}

/** Where payout accounts live: Stripe Connect, or the local simulation for a store without Stripe. */
export interface ConnectProvider {
  readonly name: 'stripe' | 'local';
  /** True with a live secret key: test-mode events are then ignored. */
  readonly livemode: boolean;
  createAccount(account: NewAccount): Promise<string>;
  /** A fresh single-use onboarding link (Account Links expire within minutes and work once). */
  onboardingLink(accountId: string, refreshUrl: string, returnUrl: string): Promise<string>;
  /** A single-use link into the account's Express dashboard. */
  dashboardLink(accountId: string): Promise<string>;
  /** The account as the provider has it now; null when the store itself is the truth (local). */
  retrieve(accountId: string): Promise<AccountState | null>;
  /** Verifies the signature over the raw body and parses the event; throws a 400 DomainError otherwise. */
  parseEvent(rawBody: Buffer, signature: string | undefined): ConnectEvent;
  /** Takes `amount` of a destination charge's transfer back from the account (idempotent by `key`). */
  reverseTransfer(t: TransferChange): Promise<void>;
  /** Sends `amount` to the account again (a won dispute), from the charge's funds (idempotent by `key`). */
  restoreTransfer(t: TransferChange): Promise<void>;
}

export interface TransferChange {
  key: string;
  chargeId: string | null;
  destination: string;
  amount: number;
  currency: string;
  metadata: Record<string, string>;
}

export const CONNECT_PROVIDER = Symbol('CONNECT_PROVIDER');
