import { defineErrors, ErrorKind, sentence } from '@berth/common';

/** The registry's stable codes; each answers on the wire as the OCI code `OCI_ERROR_CODES` names. */
export enum RegistryErrorCode {
  BlobUnknown = 'blob_unknown',
  BlobUploadInvalid = 'blob_upload_invalid',
  BlobUploadOutOfOrder = 'blob_upload_out_of_order',
  BlobUploadUnknown = 'blob_upload_unknown',
  BlobRangeInvalid = 'blob_range_invalid',
  DigestInvalid = 'digest_invalid',
  ManifestBlobUnknown = 'manifest_blob_unknown',
  ManifestInvalid = 'manifest_invalid',
  ManifestUnknown = 'manifest_unknown',
  ManifestTooLarge = 'manifest_too_large',
  ManifestTypeUnsupported = 'manifest_type_unsupported',
  NameInvalid = 'name_invalid',
  NameUnknown = 'name_unknown',
  SizeInvalid = 'size_invalid',
  TagImmutable = 'tag_immutable',
  RegistryCredentialsRequired = 'registry_credentials_required',
  RegistryCredentialsInvalid = 'registry_credentials_invalid',
  RegistryPushDenied = 'registry_push_denied',
  RegistryLicenseInactive = 'registry_license_inactive',
  RegistryOperationUnsupported = 'registry_operation_unsupported',
}

/** Each registry code's kind and message, declared once; throw `RegistryErrors.<Code>(…)`. */
export const RegistryErrors = defineErrors(RegistryErrorCode, {
  BlobUnknown: { kind: ErrorKind.NotFound, message: 'No such blob in this repository.' },
  BlobUploadInvalid: { kind: ErrorKind.Invalid, message: sentence },
  BlobUploadOutOfOrder: {
    kind: ErrorKind.RangeNotSatisfiable,
    message: (offset: number) => `The chunk does not start where the upload ends (byte ${offset}).`,
  },
  BlobUploadUnknown: {
    kind: ErrorKind.NotFound,
    message: 'No such upload session (finished, cancelled or expired).',
  },
  BlobRangeInvalid: {
    kind: ErrorKind.RangeNotSatisfiable,
    message: 'The requested range is outside the blob.',
  },
  DigestInvalid: { kind: ErrorKind.Invalid, message: sentence },
  ManifestBlobUnknown: {
    kind: ErrorKind.Invalid,
    message: (digest: string) => `The manifest references ${digest}, which is not in this repository.`,
  },
  ManifestInvalid: { kind: ErrorKind.Invalid, message: sentence },
  ManifestUnknown: { kind: ErrorKind.NotFound, message: 'No such manifest in this repository.' },
  ManifestTooLarge: {
    kind: ErrorKind.TooLarge,
    message: (max: number) => `A manifest may be at most ${max} bytes.`,
  },
  ManifestTypeUnsupported: {
    kind: ErrorKind.Unsupported,
    message: (type: string) =>
      `Manifests of media type ${type} are not accepted (OCI and Docker schema 2 only).`,
  },
  NameInvalid: { kind: ErrorKind.Invalid, message: sentence },
  NameUnknown: { kind: ErrorKind.NotFound, message: 'No such repository.' },
  SizeInvalid: { kind: ErrorKind.Invalid, message: sentence },
  TagImmutable: {
    kind: ErrorKind.Conflict,
    message: (tag: string) => `Tag ${tag} belongs to a published release and cannot be moved or deleted.`,
  },
  // One sentence whichever check failed: it must not help guessing a credential.
  RegistryCredentialsRequired: { kind: ErrorKind.Unauthenticated, message: 'Authentication required.' },
  RegistryCredentialsInvalid: {
    kind: ErrorKind.Unauthenticated,
    message: 'The registry credentials are invalid, revoked or not for this registry.',
  },
  RegistryPushDenied: {
    kind: ErrorKind.Forbidden,
    message: "Pushing needs the publisher's API token with the charts:write scope.",
  },
  RegistryLicenseInactive: {
    kind: ErrorKind.Forbidden,
    message: (state: 'suspended' | 'revoked') => `This license is ${state}; contact the publisher.`,
  },
  RegistryOperationUnsupported: { kind: ErrorKind.Unsupported, message: sentence },
});

/** The distribution spec's error code for each of ours (its `errors[].code`); ours travels as `detail.code`. */
export const OCI_ERROR_CODES: Record<RegistryErrorCode, string> = {
  [RegistryErrorCode.BlobUnknown]: 'BLOB_UNKNOWN',
  [RegistryErrorCode.BlobUploadInvalid]: 'BLOB_UPLOAD_INVALID',
  [RegistryErrorCode.BlobUploadOutOfOrder]: 'BLOB_UPLOAD_INVALID',
  [RegistryErrorCode.BlobUploadUnknown]: 'BLOB_UPLOAD_UNKNOWN',
  [RegistryErrorCode.BlobRangeInvalid]: 'BLOB_UNKNOWN',
  [RegistryErrorCode.DigestInvalid]: 'DIGEST_INVALID',
  [RegistryErrorCode.ManifestBlobUnknown]: 'MANIFEST_BLOB_UNKNOWN',
  [RegistryErrorCode.ManifestInvalid]: 'MANIFEST_INVALID',
  [RegistryErrorCode.ManifestUnknown]: 'MANIFEST_UNKNOWN',
  [RegistryErrorCode.ManifestTooLarge]: 'SIZE_INVALID',
  [RegistryErrorCode.ManifestTypeUnsupported]: 'MANIFEST_INVALID',
  [RegistryErrorCode.NameInvalid]: 'NAME_INVALID',
  [RegistryErrorCode.NameUnknown]: 'NAME_UNKNOWN',
  [RegistryErrorCode.SizeInvalid]: 'SIZE_INVALID',
  [RegistryErrorCode.TagImmutable]: 'DENIED',
  [RegistryErrorCode.RegistryCredentialsRequired]: 'UNAUTHORIZED',
  [RegistryErrorCode.RegistryCredentialsInvalid]: 'UNAUTHORIZED',
  [RegistryErrorCode.RegistryPushDenied]: 'DENIED',
  [RegistryErrorCode.RegistryLicenseInactive]: 'DENIED',
  [RegistryErrorCode.RegistryOperationUnsupported]: 'UNSUPPORTED',
};

/** The OCI code for any error answered under /v2 (codes of other contexts by their HTTP status). */
export function ociErrorCode(code: string, status: number): string {
  const own = OCI_ERROR_CODES[code as RegistryErrorCode];
  if (own) return own;
  const byStatus: Record<number, string> = {
    401: 'UNAUTHORIZED',
    403: 'DENIED',
    404: 'NAME_UNKNOWN',
    413: 'SIZE_INVALID',
    415: 'UNSUPPORTED',
    429: 'TOOMANYREQUESTS',
  };
  return byStatus[status] ?? 'UNSUPPORTED';
}
