import { defineErrors, ErrorKind, sentence } from '@berth/common';

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
  /** The publisher's account was closed while the upload ran. */
  PublisherClosed = 'publisher_closed',
  ChartAppVersionInvalid = 'chart_app_version_invalid',
}

/** Each catalog code's kind and message, declared once; throw `CatalogErrors.<Code>(…)`. */
export const CatalogErrors = defineErrors(CatalogErrorCode, {
  ChartVersionExists: {
    kind: ErrorKind.Conflict,
    // Versions are immutable (buyers' digests pin them): no overwrite, whatever ?force says.
    message: (name: string, version: string) =>
      `${name}-${version}.tgz already exists; chart versions are immutable.`,
  },
  ChartNotFound: { kind: ErrorKind.NotFound, message: sentence },
  ChartVersionNotFound: { kind: ErrorKind.NotFound, message: sentence },
  ProvenanceInvalid: { kind: ErrorKind.Invalid, message: sentence },
  ProvenanceExists: { kind: ErrorKind.Conflict, message: (file: string) => `${file}.prov already exists.` },
  CurrencyInvalid: {
    kind: ErrorKind.Invalid,
    message: (currency: string) => `The currency "${currency}" is not supported.`,
  },
  PriceInvalid: {
    kind: ErrorKind.Invalid,
    message: 'The price must be a whole number of minor units between 0 and 99999999.',
  },
  PriceBelowMinimum: {
    kind: ErrorKind.Invalid,
    message: (currency: string, minimum: number) =>
      `A paid price in ${currency.toUpperCase()} must be at least ${minimum} minor units (the payment provider's minimum charge).`,
  },
  UpdatePolicyInvalid: {
    kind: ErrorKind.Invalid,
    message: 'Give "months" exactly when the update policy is "window".',
  },
  ChartAppVersionInvalid: {
    kind: ErrorKind.Invalid,
    message: 'The chart appVersion is longer than 255 characters.',
  },
  PublisherClosed: { kind: ErrorKind.NotFound, message: 'The publisher no longer exists.' },
  PublisherQuotaExceeded: {
    kind: ErrorKind.TooLarge,
    message: (quota: number) =>
      `This upload would take the publisher past its storage quota of ${quota} bytes.`,
  },
});
