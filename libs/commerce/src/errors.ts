export enum CommerceErrorCode {
  ChartNotForSale = 'chart_not_for_sale',
  ChartIsFree = 'chart_is_free',
  CheckoutNotFound = 'checkout_not_found',
  WebhookPayloadMismatch = 'webhook_payload_mismatch',
  CheckoutNotLocal = 'checkout_not_local',
  VersionRangeInvalid = 'version_range_invalid',
  /** The local pay page after CHECKOUT_EXPIRY_SECONDS: start a new checkout. */
  CheckoutExpired = 'checkout_expired',
  /** The local pay page after the listing was unpublished, repriced or its policy changed. */
  CheckoutListingChanged = 'checkout_listing_changed',
}
