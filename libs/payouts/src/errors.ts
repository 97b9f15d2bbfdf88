import { defineErrors, ErrorKind } from '@berth/common';

export enum PayoutsErrorCode {
  /** 409: PAYOUTS=connect and the chart's publisher cannot receive transfers yet. */
  PublisherNotPayable = 'publisher_not_payable',
  /** 404: the payout routes of a store that does not pay publishers out (PAYOUTS=none). */
  PayoutsNotEnabled = 'payouts_not_enabled',
  PayoutProviderUnavailable = 'payout_provider_unavailable',
  ConnectWebhookSignatureMissing = 'connect_webhook_signature_missing',
  ConnectWebhookSignatureInvalid = 'connect_webhook_signature_invalid',
  ConnectWebhooksNotConfigured = 'connect_webhooks_not_configured',
  /** The local onboarding page of an account that is not a local one. */
  PayoutAccountNotFound = 'payout_account_not_found',
}

/** Each payouts code's kind and message, declared once; throw `PayoutsErrors.<Code>()`. */
export const PayoutsErrors = defineErrors(PayoutsErrorCode, {
  PublisherNotPayable: {
    kind: ErrorKind.Conflict,
    message: 'This chart is not on sale yet: its publisher has not finished setting up payouts.',
  },
  PayoutsNotEnabled: {
    kind: ErrorKind.NotFound,
    message: 'This store does not pay publishers out (PAYOUTS=none).',
  },
  // Stripe's message may quote request data; say only what the publisher can act on.
  PayoutProviderUnavailable: {
    kind: ErrorKind.Unavailable,
    message: 'Stripe could not be reached for payouts; try again shortly.',
  },
  ConnectWebhookSignatureMissing: {
    kind: ErrorKind.Invalid,
    message: 'The Stripe-Signature header is missing.',
  },
  ConnectWebhookSignatureInvalid: {
    kind: ErrorKind.Invalid,
    message: 'The webhook signature is invalid or too old.',
  },
  ConnectWebhooksNotConfigured: {
    kind: ErrorKind.Invalid,
    message: 'This store takes no Connect webhooks: PAYOUTS=connect with STRIPE_SECRET_KEY is not set.',
  },
  PayoutAccountNotFound: { kind: ErrorKind.NotFound, message: 'No such payout account.' },
});
