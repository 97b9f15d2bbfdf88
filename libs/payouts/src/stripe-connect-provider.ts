import type Stripe from 'stripe';
import type { TransfersCapability } from './entities';
import type {
  AccountState,
  ConnectEvent,
  ConnectProvider,
  NewAccount,
  TransferChange,
} from './connect-provider';
import { PayoutsErrors } from './errors';
import { stripeClient } from './stripe-client';

const capability = (value: unknown): TransfersCapability =>
  value === 'active' || value === 'inactive' || value === 'pending' ? value : 'none';

export function accountState(a: Stripe.Account): AccountState {
  return {
    chargesEnabled: a.charges_enabled === true,
    payoutsEnabled: a.payouts_enabled === true,
    transfers: capability(a.capabilities?.transfers),
    currentlyDue: [...(a.requirements?.currently_due ?? [])],
  };
}

/**
 * Stripe Connect with accounts the platform controls: Stripe collects the requirements, the publisher
 * gets the Express dashboard, and the platform carries negative balances and pays Stripe's fees (the
 * controller properties Stripe recommends for destination charges).
 */
export class StripeConnectProvider implements ConnectProvider {
  readonly name = 'stripe' as const;
  readonly livemode: boolean;
  private readonly stripe: Stripe;

  constructor(
    secretKey: string,
    private readonly webhookSecret: string,
    apiUrl?: string,
  ) {
    this.stripe = stripeClient(secretKey, apiUrl);
    this.livemode = secretKey.startsWith('sk_live_') || secretKey.startsWith('rk_live_');
  }

  async createAccount(a: NewAccount): Promise<string> {
    const account = await this.call(() =>
      this.stripe.accounts.create(
        {
          controller: {
            losses: { payments: 'application' },
            fees: { payer: 'application' },
            requirement_collection: 'stripe',
            stripe_dashboard: { type: 'express' },
          },
          capabilities: {
            transfers: { requested: true },
            ...(a.onBehalfOf ? { card_payments: { requested: true } } : {}),
          },
          email: a.email,
          metadata: { publisherId: a.publisherId, publisher: a.slug },
        },
        // A retried start (the row not saved after Stripe answered) gets the same account, not a second.
        { idempotencyKey: `connect-account-${a.publisherId}` },
      ),
    );
    return account.id;
  }

  async onboardingLink(accountId: string, refreshUrl: string, returnUrl: string): Promise<string> {
    const link = await this.call(() =>
      this.stripe.accountLinks.create({
        account: accountId,
        type: 'account_onboarding',
        refresh_url: refreshUrl,
        return_url: returnUrl,
      }),
    );
    return link.url;
  }

  async dashboardLink(accountId: string): Promise<string> {
    return (await this.call(() => this.stripe.accounts.createLoginLink(accountId))).url;
  }

  async retrieve(accountId: string): Promise<AccountState> {
    return accountState(await this.call(() => this.stripe.accounts.retrieve(accountId)));
  }

  parseEvent(rawBody: Buffer, signature: string | undefined): ConnectEvent {
    if (!signature) throw PayoutsErrors.ConnectWebhookSignatureMissing();
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(rawBody, signature, this.webhookSecret);
    } catch {
      throw PayoutsErrors.ConnectWebhookSignatureInvalid();
    }
    const base = {
      id: event.id,
      account: event.account ?? '',
      livemode: event.livemode === true,
      created: new Date(event.created * 1000),
    };
    const o = event.data.object as unknown as Record<string, unknown>;
    switch (event.type) {
      case 'account.updated':
        return { ...base, type: 'account.updated', state: accountState(event.data.object) };
      case 'capability.updated':
        return {
          ...base,
          type: 'capability.updated',
          capability: String(o.id ?? ''),
          status: capability(o.status),
        };
      case 'account.application.deauthorized':
        return { ...base, type: 'account.application.deauthorized' };
      case 'payout.failed':
        return {
          ...base,
          type: 'payout.failed',
          code: typeof o.failure_code === 'string' ? o.failure_code : null,
          message: typeof o.failure_message === 'string' ? o.failure_message : null,
        };
      case 'payout.paid':
        return { ...base, type: 'payout.paid' };
      default:
        return { ...base, type: 'ignored', originalType: event.type };
    }
  }

  async reverseTransfer(t: TransferChange): Promise<void> {
    if (!t.chargeId) throw new Error('the dispute names no charge');
    const charge = await this.stripe.charges.retrieve(t.chargeId);
    const transfer = typeof charge.transfer === 'string' ? charge.transfer : charge.transfer?.id;
    if (!transfer) throw new Error('the charge has no transfer');
    await this.stripe.transfers.createReversal(
      transfer,
      { amount: t.amount, metadata: t.metadata },
      { idempotencyKey: t.key },
    );
  }

  async restoreTransfer(t: TransferChange): Promise<void> {
    await this.stripe.transfers.create(
      {
        amount: t.amount,
        currency: t.currency,
        destination: t.destination,
        metadata: t.metadata,
        // Paid from the charge's funds, so it does not wait on the platform's available balance.
        ...(t.chargeId ? { source_transaction: t.chargeId } : {}),
      },
      { idempotencyKey: t.key },
    );
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch {
      // Stripe's message may quote request data; the publisher can only retry.
      throw PayoutsErrors.PayoutProviderUnavailable();
    }
  }
}
