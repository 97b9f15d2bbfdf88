import { defineErrors, ErrorKind, sentence } from '@berth/common';

export enum LicensingErrorCode {
  LicenseNotFound = 'license_not_found',
  LicenseRevoked = 'license_revoked',
  /** Only a complimentary license its publisher revoked may be reinstated. */
  LicenseNotReinstatable = 'license_not_reinstatable',
}

/** Each licensing code's kind and message, declared once; throw `LicensingErrors.<Code>(…)`. */
export const LicensingErrors = defineErrors(LicensingErrorCode, {
  LicenseNotFound: { kind: ErrorKind.NotFound, message: 'No such license.' },
  LicenseRevoked: { kind: ErrorKind.Conflict, message: 'This license is revoked: it has no key any more.' },
  LicenseNotReinstatable: { kind: ErrorKind.Conflict, message: sentence },
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
  /** A key minted before the holder rotated it. */
  | 'rotated'
  | 'wrong_chart'
  | 'version_not_covered';
