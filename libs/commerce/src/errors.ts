import { defineErrors, ErrorKind, sentence } from '@berth/common';

export enum CommerceErrorCode {
  ChartNotForSale = 'chart_not_for_sale',
  ChartIsFree = 'chart_is_free',
  CheckoutNotFound = 'checkout_not_found',
  WebhookPayloadMismatch = 'webhook_payload_mismatch',
  VersionRangeInvalid = 'version_range_invalid',
  /** The local pay page after CHECKOUT_EXPIRY_SECONDS: start a new checkout. */
  CheckoutExpired = 'checkout_expired',
  /** The local pay page after the listing was unpublished, repriced or its policy changed. */
  CheckoutListingChanged = 'checkout_listing_changed',
  WebhooksNotConfigured = 'webhooks_not_configured',
  WebhookSignatureMissing = 'webhook_signature_missing',
  WebhookSignatureInvalid = 'webhook_signature_invalid',
  PaymentProviderUnavailable = 'payment_provider_unavailable',
  OrderNotFound = 'order_not_found',
  OrderNotRefundable = 'order_not_refundable',
  RefundFailed = 'refund_failed',
  /** 429: the license e-mail went out (or was queued) for this license too recently to send it again. */
  LicenseMailTooSoon = 'license_mail_too_soon',
  /** No order or license of this publisher matches the e-mail, order id or license id looked up. */
  CustomerNotFound = 'customer_not_found',
}

/** Each commerce code's kind and message, declared once; throw `CommerceErrors.<Code>(…)`. */
export const CommerceErrors = defineErrors(CommerceErrorCode, {
  ChartNotForSale: { kind: ErrorKind.NotFound, message: sentence },
  ChartIsFree: {
    kind: ErrorKind.Invalid,
    message: 'This chart is free: add the repository, no purchase needed.',
  },
  CheckoutNotFound: { kind: ErrorKind.NotFound, message: 'No such checkout session.' },
  // The signed event is the truth about the payment; if it disagrees with our order, issue nothing.
  WebhookPayloadMismatch: {
    kind: ErrorKind.Invalid,
    message: 'The event does not match the order it names.',
  },
  VersionRangeInvalid: { kind: ErrorKind.Invalid, message: sentence },
  WebhooksNotConfigured: {
    kind: ErrorKind.Invalid,
    message: 'This store takes no Stripe webhooks: STRIPE_SECRET_KEY is not set.',
  },
  WebhookSignatureMissing: { kind: ErrorKind.Invalid, message: 'The Stripe-Signature header is missing.' },
  WebhookSignatureInvalid: {
    kind: ErrorKind.Invalid,
    message: 'The webhook signature is invalid or too old.',
  },
  // Stripe's message may quote request data; say only what the buyer can act on.
  PaymentProviderUnavailable: {
    kind: ErrorKind.Unavailable,
    message: 'The payment provider could not open a checkout; try again shortly.',
  },
  CheckoutExpired: { kind: ErrorKind.Conflict, message: 'This checkout has expired: start a new one.' },
  OrderNotFound: { kind: ErrorKind.NotFound, message: 'No such order.' },
  OrderNotRefundable: { kind: ErrorKind.Conflict, message: sentence },
  // Stripe's message may quote request data; the publisher can retry or refund from Stripe's dashboard.
  RefundFailed: {
    kind: ErrorKind.Unavailable,
    message: 'Stripe did not take the refund; try again shortly, or refund from the Stripe dashboard.',
  },
  LicenseMailTooSoon: {
    kind: ErrorKind.RateLimited,
    message: (minutes: number, _retryAfterSeconds: number) =>
      `The license e-mail was sent less than ${minutes} minutes ago; it can be sent again later.`,
    retryAfterSeconds: (_minutes: number, retryAfterSeconds: number) => retryAfterSeconds,
  },
  CustomerNotFound: {
    kind: ErrorKind.NotFound,
    message: 'No order or license of yours matches this e-mail address, order id or license id.',
  },
  CheckoutListingChanged: {
    kind: ErrorKind.Conflict,
    message: 'The chart is no longer sold on the terms this checkout showed: start a new checkout.',
  },
});
