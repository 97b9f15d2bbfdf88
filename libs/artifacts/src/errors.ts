import { defineErrors, ErrorKind } from '@berth/common';

/** What a client is told to wait before retrying when the backing store is down (the `Retry-After` header). */
export const BLOB_STORE_RETRY_AFTER_SECONDS = 5;

/** Stable error codes of the blob stores (API surface: never rename); the inspector's are `InspectionErrorCode`. */
export enum ArtifactsErrorCode {
  BlobKeyInvalid = 'blob_key_invalid',
  BlobNotFound = 'blob_not_found',
  BlobTooLarge = 'blob_too_large',
  BlobStoreUnavailable = 'blob_store_unavailable',
  BlobKeyConflict = 'blob_key_conflict',
  BlobMaxBytesInvalid = 'blob_max_bytes_invalid',
}

/** Each blob-store code's kind and message, declared once; throw `ArtifactsErrors.<Code>(…)`. */
export const ArtifactsErrors = defineErrors(ArtifactsErrorCode, {
  BlobKeyInvalid: { kind: ErrorKind.Invalid, message: 'The blob key is not valid.' },
  BlobNotFound: { kind: ErrorKind.NotFound, message: 'The blob does not exist.' },
  BlobTooLarge: {
    kind: ErrorKind.TooLarge,
    message: (maxBytes: number) => `The upload exceeds the maximum size of ${maxBytes} bytes.`,
  },
  BlobStoreUnavailable: {
    kind: ErrorKind.Unavailable,
    message: 'The blob store is unavailable.',
    retryAfterSeconds: BLOB_STORE_RETRY_AFTER_SECONDS,
  },
  BlobKeyConflict: { kind: ErrorKind.Conflict, message: 'The blob key collides with an existing key.' },
  BlobMaxBytesInvalid: { kind: ErrorKind.Invalid, message: 'The size limit must be a non-negative integer.' },
});
