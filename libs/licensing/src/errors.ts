import { defineErrors, ErrorKind } from '@berth/common';

export enum LicensingErrorCode {
  LicenseNotFound = 'license_not_found',
}

/** Each licensing code's kind and message, declared once; throw `LicensingErrors.<Code>(…)`. */
export const LicensingErrors = defineErrors(LicensingErrorCode, {
  LicenseNotFound: { kind: ErrorKind.NotFound, message: 'No such license.' },
});

/** Why a key does not grant access; also the `reason` of POST /v1/licenses/verify. */
export type LicenseInvalidReason =
  | 'malformed'
  | 'unknown_key'
  | 'bad_signature'
  | 'wrong_issuer'
  | 'expired'
  | 'not_found'
  | 'revoked'
  | 'suspended'
  | 'wrong_chart'
  | 'version_not_covered';
