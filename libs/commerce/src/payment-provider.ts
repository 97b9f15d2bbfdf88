/** What a provider needs to open a hosted checkout for one order. */
export interface CheckoutRequest {
  orderId: string;
  amount: number;
  currency: string;
  buyerEmail: string;
  productName: string;
  /** Contains `{CHECKOUT_SESSION_ID}` where the provider substitutes its session id. */
  successUrl: string;
  cancelUrl: string;
  /** When the checkout stops being payable (Stripe's `expires_at`). */
  expiresAt: Date;
  /** PAYOUTS=connect: a destination charge to the publisher's account, the store keeping its fee. */
  transfer?: { destination: string; applicationFeeAmount: number; onBehalfOf: boolean };
}

/** How a refund treats the transfer of a destination charge. */
export interface RefundOptions {
  /** Take the refunded share back from the publisher's account (`reverse_transfer`). */
  reverseTransfer: boolean;
  /** Give the platform fee back in proportion too (`refund_application_fee`, REFUND_PLATFORM_FEE). */
  refundApplicationFee: boolean;
}

export interface CheckoutSession {
  sessionId: string;
  url: string;
  /** The expiry the provider actually applied (Stripe's window may move it by a little). */
  expiresAt: Date;
}

interface SessionFields {
  id: string;
  sessionId: string;
  orderId: string | null;
  amount: number | null;
  currency: string | null;
  paymentStatus: string;
  paymentRef: string | null;
}

/** A verified provider event, reduced to what fulfilment needs. */
export type PaymentEvent =
  | ({ type: 'checkout.completed' | 'checkout.async_succeeded' } & SessionFields)
  | ({ type: 'checkout.async_failed' | 'checkout.expired' } & SessionFields)
  | {
      type: 'charge.refunded';
      id: string;
      paymentRef: string | null;
      orderId: string | null;
      amount: number;
      amountRefunded: number;
      currency: string;
    }
  | {
      type: 'dispute.created' | 'dispute.closed';
      id: string;
      disputeId: string | null;
      paymentRef: string | null;
      status: string;
      /** The disputed charge and amount (smallest unit): what a destination charge's transfer gives back. */
      chargeId: string | null;
      amount: number | null;
    }
  | { type: 'ignored'; id: string; originalType: string };

export interface PaymentProvider {
  readonly name: 'stripe' | 'local';
  createCheckout(request: CheckoutRequest): Promise<CheckoutSession>;
  /** Verifies the signature over the raw body and parses the event; throws a 400 DomainError otherwise. */
  parseWebhook(rawBody: Buffer, signature: string | undefined): PaymentEvent;
  refund(paymentRef: string, orderId: string, options?: RefundOptions): Promise<void>;
}

export const PAYMENT_PROVIDER = Symbol('PAYMENT_PROVIDER');
