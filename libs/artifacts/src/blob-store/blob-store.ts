import type { Readable, Writable } from 'node:stream';
import { DomainError } from '@berth/common';
import { ArtifactsErrors } from '../errors';

/** What a store knows about one stored object. */
export interface BlobInfo {
  key: string;
  size: number;
  lastModified: Date;
}

/** The outcome of a successful `put`: the exact byte count and the lowercase hex SHA-256 of those bytes. */
export interface PutResult {
  size: number;
  sha256: string;
}

/** Inclusive byte offsets, as in an HTTP `Range: bytes=start-end` (the caller clamps `end` to the size). */
export interface ByteRange {
  start: number;
  end: number;
}

export interface PutOptions {
  /** Hard cap on the body. Over it the put fails with `blob_too_large` and nothing is stored. */
  maxBytes?: number;
  /** Stored as object metadata by drivers that have it (s3); ignored by `fs`. */
  contentType?: string;
}

/**
 * Where chart archives (and other server-made blobs) live. Keys are made by the server, never taken
 * from a request, and still validated (see `assertValidBlobKey`).
 *
 * Semantics every driver honours (the conformance suite in test/integration/blob-store.int-spec.ts
 * checks them against each driver):
 * - `put` streams the body, hashing as it goes, and is all-or-nothing: on any failure (size cap, a
 *   source stream error, a storage error) no object and no temporary file is left behind, and an
 *   object that existed before under the key is untouched. A successful `put` replaces any existing
 *   object under the key (last writer wins; readers see the old or the new bytes, never a mix).
 *   Without `maxBytes` the driver's default cap (`DEFAULT_BLOB_MAX_BYTES` unless configured) applies.
 * - `get` of an absent key rejects with NotFound `blob_not_found`.
 * - `head` of an absent key resolves `null`.
 * - `delete` is idempotent.
 * - `list(prefix)` yields every key that starts with `prefix` (a plain string prefix, as in S3;
 *   `''` means everything) in ascending key order, paging internally.
 * - `ping` resolves when the store is usable and throws Unavailable `blob_store_unavailable` otherwise.
 * - Failures of the backing store surface as Unavailable `blob_store_unavailable` whose message names
 *   no bucket, endpoint, path or key (the original error is kept as the non-enumerable `cause`).
 */
export interface BlobStore {
  readonly driver: 'fs' | 's3';
  /**
   * Drivers that store a large body in parts (s3) say how large a part is: a writer that chooses its own
   * chunking (an OCI client told `OCI-Chunk-Min-Length`) makes fewer, whole parts with chunks this big.
   */
  readonly partBytes?: number;
  put(key: string, body: Readable | Buffer, opts?: PutOptions): Promise<PutResult>;
  /** The object's bytes, or only `range` of them (both offsets inside the object). */
  get(key: string, range?: ByteRange): Promise<Readable>;
  /**
   * Writes the object's bytes (or `range` of them) to `out` and ends it; resolves once `out` has taken
   * the last byte. Rejects with `blob_not_found` before writing anything when the key is absent; a
   * failure after the first byte leaves `out` unended for the caller to destroy.
   */
  writeTo(key: string, out: Writable, range?: ByteRange): Promise<void>;
  head(key: string): Promise<BlobInfo | null>;
  delete(key: string): Promise<void>;
  list(prefix: string): AsyncIterable<BlobInfo>;
  ping(): Promise<void>;
  /**
   * Drivers that stage writes in temporary files (fs) remove those older than `olderThanMs`: what a process
   * killed mid-put leaves behind. Returns how many were removed.
   */
  purgeStaleTemp?(olderThanMs: number): Promise<number>;
}

/** DI token for the configured `BlobStore`. */
export const BLOB_STORE = Symbol('BLOB_STORE');

/** Default size cap for `put` when the caller gives none (20 MiB, the compressed chart upload limit). */
export const DEFAULT_BLOB_MAX_BYTES = 20 * 1024 * 1024;

/** Keys are at most this long (S3's own limit is 1024 bytes; ours leaves room for a driver prefix). */
export const MAX_BLOB_KEY_LENGTH = 512;

const KEY_CHARS = /^[a-z0-9/._-]+$/;

/**
 * Accepts `[a-z0-9/._-]`, slash-separated segments that are non-empty and do not start with a dot
 * (which rules out `.`, `..` and the fs driver's `.tmp` working directory), no leading or trailing
 * slash, at most `MAX_BLOB_KEY_LENGTH` characters. Throws Invalid `blob_key_invalid` otherwise.
 */
export function assertValidBlobKey(key: string): void {
  if (
    typeof key !== 'string' ||
    key.length === 0 ||
    key.length > MAX_BLOB_KEY_LENGTH ||
    !KEY_CHARS.test(key)
  ) {
    throw invalidKey();
  }
  for (const segment of key.split('/')) {
    if (segment.length === 0 || segment.startsWith('.')) throw invalidKey();
  }
}

/**
 * A list prefix is `''` or a key-shaped string that may end in `/` (and may end mid-segment, as S3
 * prefixes do). Throws Invalid `blob_key_invalid` otherwise.
 */
export function assertValidBlobPrefix(prefix: string): void {
  if (prefix === '') return;
  if (typeof prefix !== 'string' || prefix.length > MAX_BLOB_KEY_LENGTH || !KEY_CHARS.test(prefix)) {
    throw invalidKey();
  }
  const segments = prefix.split('/');
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if ((!last && segment.length === 0) || segment.startsWith('.')) throw invalidKey();
  });
}

function invalidKey(): DomainError {
  return ArtifactsErrors.BlobKeyInvalid();
}

export function blobNotFound(): DomainError {
  return ArtifactsErrors.BlobNotFound();
}

export function blobTooLarge(maxBytes: number): DomainError {
  return ArtifactsErrors.BlobTooLarge(maxBytes);
}

/** The one error a broken backing store turns into. `cause` is kept for logs but never serialized. */
export function blobStoreUnavailable(cause?: unknown): DomainError {
  const error = ArtifactsErrors.BlobStoreUnavailable();
  if (cause !== undefined) {
    Object.defineProperty(error, 'cause', {
      value: cause,
      enumerable: false,
      configurable: true,
      writable: true,
    });
  }
  return error;
}
