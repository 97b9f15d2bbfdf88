import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { assertValidBlobKey, blobTooLarge } from './blob-store';
import { ArtifactsErrors } from '../errors';

/**
 * Validates a put's key and limit and wraps its body. `put` owns the body: on any failure, including
 * this validation, a source stream is destroyed (see `releaseBody`).
 */
export function openBody(
  key: string,
  body: Readable | Buffer,
  maxBytes: number | undefined,
  defaultMaxBytes: number,
): CappedBody {
  try {
    assertValidBlobKey(key);
    return new CappedBody(body, resolveMaxBytes(maxBytes, defaultMaxBytes));
  } catch (error) {
    releaseBody(body);
    throw error;
  }
}

/** Destroys a source stream a failed put did not read to the end (no-op for Buffers and ended streams). */
export function releaseBody(body: Readable | Buffer): void {
  if (!Buffer.isBuffer(body) && !body.destroyed && !body.readableEnded) body.destroy();
}

/** Checks a caller's `maxBytes` and falls back to the store default. */
export function resolveMaxBytes(maxBytes: number | undefined, fallback: number): number {
  const value = maxBytes ?? fallback;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw ArtifactsErrors.BlobMaxBytesInvalid();
  }
  return value;
}

/**
 * Yields the body's chunks as Buffers while counting and hashing them, and throws `blob_too_large`
 * as soon as the running total passes `maxBytes` (before the offending chunk is yielded). Leaving the
 * loop early (throw or break) destroys a source stream, so an upload is not left half-read.
 */
export class CappedBody {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;

  constructor(
    private readonly body: Readable | Buffer,
    private readonly maxBytes: number,
  ) {
    if (Buffer.isBuffer(body) && body.length > maxBytes) throw blobTooLarge(maxBytes);
  }

  async *chunks(): AsyncGenerator<Buffer> {
    const source: AsyncIterable<unknown> | Iterable<unknown> = Buffer.isBuffer(this.body)
      ? [this.body]
      : this.body;
    for await (const raw of source) {
      const chunk = toBuffer(raw);
      this.bytes += chunk.length;
      if (this.bytes > this.maxBytes) throw blobTooLarge(this.maxBytes);
      this.hash.update(chunk);
      yield chunk;
    }
  }

  /** Only meaningful once `chunks()` has been fully consumed. */
  result(): { size: number; sha256: string } {
    return { size: this.bytes, sha256: this.hash.digest('hex') };
  }
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('A blob body must yield bytes.');
}
