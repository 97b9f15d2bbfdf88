export enum CommerceErrorCode {
  ChartNotForSale = 'chart_not_for_sale',
  ChartIsFree = 'chart_is_free',
  CheckoutNotFound = 'checkout_not_found',
  WebhookPayloadMismatch = 'webhook_payload_mismatch',
  CheckoutNotLocal = 'checkout_not_local',
  VersionRangeInvalid = 'version_range_invalid',
}
