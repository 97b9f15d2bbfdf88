import { randomBytes } from 'node:crypto';
import type { ConnectEvent, ConnectProvider } from './connect-provider';
import { PayoutsErrors } from './errors';

/**
 * Payouts without Stripe (`npm start`): onboarding is a page of the store itself whose button makes the
 * publisher payable, so the whole marketplace flow runs on a laptop. No money moves; fees are recorded.
 */
export class LocalConnectProvider implements ConnectProvider {
  readonly name = 'local' as const;
  readonly livemode = false;

  constructor(private readonly publicUrl: string) {}

  async createAccount(): Promise<string> {
    return `local_acct_${randomBytes(12).toString('hex')}`;
  }

  async onboardingLink(accountId: string): Promise<string> {
    return `${this.publicUrl}/payouts/local/${accountId}`;
  }

  async dashboardLink(): Promise<string> {
    return `${this.publicUrl}/console/payouts`;
  }

  async retrieve(): Promise<null> {
    return null;
  }

  /** No money moved, so none moves back: the action is recorded as done. */
  async reverseTransfer(): Promise<void> {}

  async restoreTransfer(): Promise<void> {}

  parseEvent(): ConnectEvent {
    throw PayoutsErrors.ConnectWebhooksNotConfigured();
  }
}
