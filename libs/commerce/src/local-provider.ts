import { randomBytes } from 'node:crypto';
import { CheckoutRequest, CheckoutSession, PaymentEvent, PaymentProvider } from './payment-provider';
import { CommerceErrors } from './errors';

/**
 * The laptop default: a plain HTML pay page served by the store itself, no money moves. Paying on it
 * fulfils the order through the same path as a Stripe webhook.
 */
export class LocalPaymentProvider implements PaymentProvider {
  readonly name = 'local' as const;

  constructor(private readonly publicUrl: string) {}

  async createCheckout(r: CheckoutRequest): Promise<CheckoutSession> {
    const sessionId = `local_cs_${randomBytes(24).toString('base64url')}`;
    return { sessionId, url: `${this.publicUrl}/checkout/local/${sessionId}`, expiresAt: r.expiresAt };
  }

  parseWebhook(): PaymentEvent {
    throw CommerceErrors.WebhooksNotConfigured();
  }

  async refund(): Promise<void> {}
}
