import Stripe from 'stripe';
import { stripeClient } from '@berth/payouts';
import {
  CheckoutRequest,
  CheckoutSession,
  PaymentEvent,
  PaymentProvider,
  RefundOptions,
} from './payment-provider';
import { CommerceErrors } from './errors';

const str = (v: unknown): string | null =>
  typeof v === 'string'
    ? v
    : v && typeof v === 'object' && 'id' in v
      ? String((v as { id: unknown }).id)
      : null;

/** Stripe accepts a session `expires_at` from 30 minutes to 24 hours after creation. */
const STRIPE_MIN_EXPIRY_SECONDS = 30 * 60;
const STRIPE_MAX_EXPIRY_SECONDS = 24 * 60 * 60;
/** Room for the request's own transit and clock skew at both ends of that window. */
const STRIPE_EXPIRY_MARGIN_SECONDS = 60;

/** The requested expiry, moved into the window Stripe accepts (counted from now, in whole seconds). */
export function stripeExpiresAt(requested: Date, now = Date.now()): number {
  const nowSeconds = Math.floor(now / 1000);
  return Math.min(
    Math.max(
      Math.floor(requested.getTime() / 1000),
      nowSeconds + STRIPE_MIN_EXPIRY_SECONDS + STRIPE_EXPIRY_MARGIN_SECONDS,
    ),
    nowSeconds + STRIPE_MAX_EXPIRY_SECONDS - STRIPE_EXPIRY_MARGIN_SECONDS,
  );
}

/**
 * Stripe Checkout in payment mode. The order id travels as metadata, client_reference_id and the
 * PaymentIntent's metadata (so refunds and disputes can be traced back); the idempotency key is the
 * order id, so a retried request cannot open two sessions for one order.
 */
export class StripePaymentProvider implements PaymentProvider {
  readonly name = 'stripe' as const;
  private readonly stripe: Stripe;

  constructor(
    secretKey: string,
    private readonly webhookSecret: string,
    apiUrl?: string,
  ) {
    this.stripe = stripeClient(secretKey, apiUrl);
  }

  async createCheckout(r: CheckoutRequest): Promise<CheckoutSession> {
    const expiresAt = stripeExpiresAt(r.expiresAt);
    try {
      const session = await this.stripe.checkout.sessions.create(
        {
          mode: 'payment',
          expires_at: expiresAt,
          customer_email: r.buyerEmail,
          client_reference_id: r.orderId,
          metadata: { orderId: r.orderId },
          payment_intent_data: {
            metadata: { orderId: r.orderId },
            ...(r.transfer
              ? {
                  transfer_data: { destination: r.transfer.destination },
                  application_fee_amount: r.transfer.applicationFeeAmount,
                  ...(r.transfer.onBehalfOf ? { on_behalf_of: r.transfer.destination } : {}),
                }
              : {}),
          },
          line_items: [
            {
              quantity: 1,
              price_data: {
                currency: r.currency,
                unit_amount: r.amount,
                product_data: { name: r.productName },
              },
            },
          ],
          success_url: r.successUrl,
          cancel_url: r.cancelUrl,
        },
        { idempotencyKey: `checkout-${r.orderId}` },
      );
      if (!session.url) throw new Error('no checkout url');
      return { sessionId: session.id, url: session.url, expiresAt: new Date(expiresAt * 1000) };
    } catch {
      // Stripe's message may quote request data; say only what the buyer can act on.
      throw CommerceErrors.PaymentProviderUnavailable();
    }
  }

  parseWebhook(rawBody: Buffer, signature: string | undefined): PaymentEvent {
    if (!signature) throw CommerceErrors.WebhookSignatureMissing();
    let event: Stripe.Event;
    try {
      // Default tolerance: 300 s. The signature covers the exact bytes, so the body is never re-serialised.
      event = this.stripe.webhooks.constructEvent(rawBody, signature, this.webhookSecret);
    } catch {
      throw CommerceErrors.WebhookSignatureInvalid();
    }
    const o = event.data.object as unknown as Record<string, unknown>;
    const metadata = (o.metadata ?? {}) as Record<string, string>;
    const session = () => ({
      id: event.id,
      sessionId: String(o.id),
      orderId: metadata.orderId ?? str(o.client_reference_id),
      amount: typeof o.amount_total === 'number' ? o.amount_total : null,
      currency: str(o.currency),
      paymentStatus: String(o.payment_status ?? ''),
      paymentRef: str(o.payment_intent),
    });
    switch (event.type) {
      case 'checkout.session.completed':
        return { type: 'checkout.completed', ...session() };
      case 'checkout.session.async_payment_succeeded':
        return { type: 'checkout.async_succeeded', ...session() };
      case 'checkout.session.async_payment_failed':
        return { type: 'checkout.async_failed', ...session() };
      case 'checkout.session.expired':
        return { type: 'checkout.expired', ...session() };
      case 'charge.refunded':
        return {
          type: 'charge.refunded',
          id: event.id,
          paymentRef: str(o.payment_intent),
          orderId: metadata.orderId ?? null,
          amount: Number(o.amount),
          amountRefunded: Number(o.amount_refunded),
          currency: String(o.currency),
        };
      case 'charge.dispute.created':
      case 'charge.dispute.closed':
        return {
          type: event.type === 'charge.dispute.created' ? 'dispute.created' : 'dispute.closed',
          id: event.id,
          disputeId: str(o.id),
          paymentRef: str(o.payment_intent),
          status: String(o.status ?? ''),
          chargeId: str(o.charge),
          amount: typeof o.amount === 'number' ? o.amount : null,
        };
      default:
        return { type: 'ignored', id: event.id, originalType: event.type };
    }
  }

  async refund(paymentRef: string, orderId: string, options?: RefundOptions): Promise<void> {
    await this.stripe.refunds.create(
      {
        payment_intent: paymentRef,
        metadata: { orderId },
        ...(options?.reverseTransfer
          ? { reverse_transfer: true, refund_application_fee: options.refundApplicationFee }
          : {}),
      },
      { idempotencyKey: `refund-${orderId}` },
    );
  }
}
