/** Stable error codes of the catalog context. */
export enum CatalogErrorCode {
  ChartVersionExists = 'chart_version_exists',
  ChartNotFound = 'chart_not_found',
  ChartVersionNotFound = 'chart_version_not_found',
  ProvenanceInvalid = 'provenance_invalid',
  ProvenanceExists = 'provenance_exists',
  CurrencyInvalid = 'currency_invalid',
  PriceInvalid = 'price_invalid',
  PriceBelowMinimum = 'price_below_minimum',
  UpdatePolicyInvalid = 'update_policy_invalid',
  /** kind TooLarge (413): the upload would take the publisher past PUBLISHER_QUOTA_BYTES. */
  PublisherQuotaExceeded = 'publisher_quota_exceeded',
}
