import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  type CompletedPart,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { DomainError } from '@berth/common';
import {
  assertValidBlobKey,
  assertValidBlobPrefix,
  blobNotFound,
  blobStoreUnavailable,
  DEFAULT_BLOB_MAX_BYTES,
  type BlobInfo,
  type BlobStore,
  type ByteRange,
  type PutOptions,
  type PutResult,
} from './blob-store';
import { openBody, releaseBody, resolveMaxBytes } from './capped-body';

export interface S3BlobStoreOptions {
  bucket: string;
  region: string;
  /** For S3-compatible stores (MinIO, Ceph, R2…); omit for AWS. */
  endpoint?: string;
  /** `true` for MinIO and most S3-compatible stores. */
  forcePathStyle?: boolean;
  /** Static credentials; without both, the SDK's default provider chain (env, profile, IMDS…) is used. */
  accessKeyId?: string;
  secretAccessKey?: string;
  /** Namespace inside the bucket, e.g. `berth` → objects are `berth/<key>`. Keys given and listed exclude it. */
  prefix?: string;
  /** Cap for `put` calls that give no `maxBytes` (the body is buffered up to it). Default 20 MiB. */
  defaultMaxBytes?: number;
  /** ListObjectsV2 `MaxKeys` per page, 1–1000. Default 1000. Small values exist for tests. */
  listPageSize?: number;
  /** SDK attempts per request (1 = no retries). Default 3. */
  maxAttempts?: number;
  /** TCP connect timeout. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Socket idle timeout (also applies while a `get` stream sits unread). Default 60000 ms. */
  socketTimeoutMs?: number;
  /**
   * Per attempt: how long a request may wait for the response headers before it is abandoned (and
   * retried, up to `maxAttempts`). A `put` gets 1 s more per started MiB of body. Default 5000 ms.
   * Without it a peer that accepts connections but never answers (a hung server, a black-holed
   * load balancer) held every call for `socketTimeoutMs` × `maxAttempts` (3 minutes by default).
   */
  requestTimeoutMs?: number;
  /**
   * A body up to this size is sent as one PutObject; a larger one as a multipart upload of parts about
   * this size, so a put holds at most a few parts in memory whatever the blob's size. At least 5 MiB
   * (S3's smallest part but the last). Default 8 MiB.
   */
  partSizeBytes?: number;
}

const MIB = 1024 * 1024;
/** S3's rules: every part but the last at least 5 MiB; at most 10,000 parts. */
export const S3_MIN_PART_BYTES = 5 * MIB;
const S3_MAX_PARTS = 10_000;
/**
 * Part buffers one put holds: one filling while the others are sent (up to all of them, when the body
 * arrives faster than the bucket takes it). Overlaps the network with reading the body; bounds memory.
 */
const PART_BUFFERS = 3;

/**
 * Blobs as objects in one S3 bucket (AWS SDK v3).
 *
 * `put` reads the capped body, hashing as it goes. A body that ends within one part is sent as one
 * PutObject with an exact ContentLength; a larger one becomes a multipart upload, a part sent as soon
 * as it is read, at most PART_BUFFERS at a time. Either way the object appears only when all of it
 * is there (PutObject and CompleteMultipartUpload are atomic: replace on success, untouched on
 * failure), and a body that is too large or whose stream fails aborts the multipart upload, so no
 * parts are left behind.
 *
 * Flexible checksums are requested only when an operation requires them, so S3-compatible stores that
 * lack the newer CRC headers keep working; integrity on the wire is covered by SigV4 / TLS.
 */
export class S3BlobStore implements BlobStore {
  readonly driver = 's3' as const;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly keyPrefix: string;
  private readonly defaultMaxBytes: number;
  private readonly listPageSize: number;
  private readonly requestTimeoutMs: number;
  private readonly partSize: number;

  get partBytes(): number {
    return this.partSize;
  }

  constructor(options: S3BlobStoreOptions) {
    if (!options?.bucket) throw new Error('S3BlobStore needs a bucket');
    if (!options.region) throw new Error('S3BlobStore needs a region');
    this.bucket = options.bucket;
    this.keyPrefix = normalizePrefix(options.prefix);
    this.defaultMaxBytes = options.defaultMaxBytes ?? DEFAULT_BLOB_MAX_BYTES;
    const pageSize = options.listPageSize ?? 1000;
    if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 1000) {
      throw new Error('S3BlobStore listPageSize must be an integer from 1 to 1000');
    }
    this.listPageSize = pageSize;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.partSize = options.partSizeBytes ?? 8 * MIB;
    if (!Number.isSafeInteger(this.partSize) || this.partSize < S3_MIN_PART_BYTES) {
      throw new Error(`S3BlobStore partSizeBytes must be an integer of at least ${S3_MIN_PART_BYTES}`);
    }
    const config: S3ClientConfig = {
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle,
      maxAttempts: options.maxAttempts ?? 3,
      requestHandler: {
        connectionTimeout: options.connectTimeoutMs ?? 5000,
        socketTimeout: options.socketTimeoutMs ?? 60_000,
        requestTimeout: this.requestTimeoutMs,
        throwOnRequestTimeout: true,
      },
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    };
    if (options.accessKeyId && options.secretAccessKey) {
      config.credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
    }
    this.client = new S3Client(config);
  }

  async put(key: string, body: Readable | Buffer, opts: PutOptions = {}): Promise<PutResult> {
    const capped = openBody(key, body, opts.maxBytes, this.defaultMaxBytes);
    const objectKey = this.keyPrefix + key;
    const contentType = opts.contentType ?? 'application/octet-stream';
    // Parts grow with the cap so that the largest body allowed still fits in S3's 10,000 parts.
    const partSize = Math.max(
      this.partSize,
      Math.ceil(resolveMaxBytes(opts.maxBytes, this.defaultMaxBytes) / S3_MAX_PARTS),
    );
    // Until a body passes one part it may still go as one PutObject: its chunks are kept as they came.
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let multipart: MultipartWrite | null = null;
    try {
      for await (const chunk of capped.chunks()) {
        if (multipart) {
          await multipart.write(chunk);
          continue;
        }
        pending.push(chunk);
        pendingBytes += chunk.length;
        // A body of exactly one part still goes as one PutObject (an OCI client sends chunks of a part).
        if (pendingBytes <= partSize) continue;
        multipart = await this.startMultipart(objectKey, contentType, partSize);
        for (const kept of pending) await multipart.write(kept);
        pending = [];
        pendingBytes = 0;
      }
      const result = capped.result();
      if (multipart) {
        await multipart.complete();
        return result;
      }
      const payload = pending.length === 1 ? pending[0] : Buffer.concat(pending, pendingBytes);
      await this.call(() =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: objectKey,
            Body: payload,
            ContentLength: payload.length,
            ContentType: contentType,
          }),
          { requestTimeout: this.partTimeoutMs(payload.length) },
        ),
      );
      return result;
    } catch (error) {
      releaseBody(body);
      await multipart?.abort();
      throw error;
    }
  }

  private async startMultipart(
    objectKey: string,
    contentType: string,
    partSize: number,
  ): Promise<MultipartWrite> {
    const out = await this.call(() =>
      this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: objectKey, ContentType: contentType }),
      ),
    );
    if (!out.UploadId) throw blobStoreUnavailable(new Error('CreateMultipartUpload returned no UploadId'));
    return new MultipartWrite(this.client, this.bucket, objectKey, out.UploadId, partSize, (bytes) =>
      this.partTimeoutMs(bytes),
    );
  }

  /** A request carrying a body gets 1 s more per started MiB. */
  private partTimeoutMs(bytes: number): number {
    return this.requestTimeoutMs + Math.ceil(bytes / MIB) * 1000;
  }

  async writeTo(key: string, out: Writable, range?: ByteRange): Promise<void> {
    await pipeline(await this.get(key, range), out);
  }

  async get(key: string, range?: ByteRange): Promise<Readable> {
    assertValidBlobKey(key);
    let out;
    try {
      out = await this.client.send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: this.keyPrefix + key,
          Range: range ? `bytes=${range.start}-${range.end}` : undefined,
        }),
      );
    } catch (error) {
      if (errorName(error) === 'NoSuchKey') throw blobNotFound();
      throw toDomainError(error);
    }
    const body: unknown = out.Body;
    if (body instanceof Readable) return body;
    if (body === undefined || body === null) return Readable.from([]);
    // Not expected on Node (the SDK hands back an IncomingMessage), but keep the contract if it changes.
    return Readable.from(body as AsyncIterable<Uint8Array>);
  }

  async head(key: string): Promise<BlobInfo | null> {
    assertValidBlobKey(key);
    try {
      const out = await this.client.send(
        new HeadObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + key }),
      );
      return { key, size: out.ContentLength ?? 0, lastModified: out.LastModified ?? new Date(0) };
    } catch (error) {
      // A HEAD response has no body, so a missing key is a bare 404 ("NotFound").
      if (statusOf(error) === 404 || errorName(error) === 'NotFound' || errorName(error) === 'NoSuchKey') {
        return null;
      }
      throw toDomainError(error);
    }
  }

  async delete(key: string): Promise<void> {
    assertValidBlobKey(key);
    await this.call(() =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.keyPrefix + key })),
    );
  }

  async *list(prefix: string): AsyncIterable<BlobInfo> {
    assertValidBlobPrefix(prefix);
    let token: string | undefined;
    do {
      const page = await this.call(() =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: this.keyPrefix + prefix,
            MaxKeys: this.listPageSize,
            ContinuationToken: token,
          }),
        ),
      );
      for (const object of page.Contents ?? []) {
        if (!object.Key?.startsWith(this.keyPrefix)) continue;
        const key = object.Key.slice(this.keyPrefix.length);
        if (!isValidKey(key)) continue; // objects someone else put in the bucket
        yield { key, size: object.Size ?? 0, lastModified: object.LastModified ?? new Date(0) };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async ping(): Promise<void> {
    await this.call(() => this.client.send(new HeadBucketCommand({ Bucket: this.bucket })));
  }

  /** Closes the SDK's keep-alive sockets (ArtifactsModule calls it on application shutdown). */
  async close(): Promise<void> {
    this.client.destroy();
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (error) {
      throw toDomainError(error);
    }
  }
}

/**
 * One multipart upload. Bytes are copied into part-sized buffers from a small pool (PART_BUFFERS), a full
 * one goes out at once, and `write` waits for a buffer to come back: memory stays at a few parts whatever
 * the body's size, and makes no garbage per part. The first failure is kept and rethrown by the next
 * `write` or by `complete`.
 */
class MultipartWrite {
  private readonly parts: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly free: Buffer[] = [];
  private allocated = 0;
  private current: Buffer | null = null;
  private filled = 0;
  private failure: unknown = null;

  constructor(
    private readonly client: S3Client,
    private readonly bucket: string,
    private readonly key: string,
    private readonly uploadId: string,
    private readonly partSize: number,
    private readonly timeoutMs: (bytes: number) => number,
  ) {}

  async write(chunk: Buffer): Promise<void> {
    for (let offset = 0; offset < chunk.length;) {
      this.current ??= await this.buffer();
      const n = chunk.copy(this.current, this.filled, offset, offset + this.partSize - this.filled);
      this.filled += n;
      offset += n;
      if (this.filled === this.partSize) this.send();
    }
  }

  private async buffer(): Promise<Buffer> {
    while (!this.free.length && this.allocated >= PART_BUFFERS) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
    const reused = this.free.pop();
    if (reused) return reused;
    this.allocated++;
    return Buffer.allocUnsafe(this.partSize);
  }

  /** Sends what the current buffer holds as the next part; the buffer returns to the pool when done. */
  private send(): void {
    const pooled = this.current as Buffer;
    const body = pooled.subarray(0, this.filled);
    this.current = null;
    this.filled = 0;
    const partNumber = this.parts.length + 1;
    this.parts.push({ PartNumber: partNumber });
    const sent: Promise<void> = this.client
      .send(
        new UploadPartCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
        { requestTimeout: this.timeoutMs(body.length) },
      )
      .then(
        (out) => {
          this.parts[partNumber - 1].ETag = out.ETag;
        },
        (error: unknown) => {
          this.failure ??= toDomainError(error);
        },
      )
      .finally(() => {
        this.inFlight.delete(sent);
        this.free.push(pooled);
      });
    this.inFlight.add(sent);
  }

  async complete(): Promise<void> {
    if (this.filled > 0 && !this.failure) this.send();
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: this.key,
          UploadId: this.uploadId,
          MultipartUpload: { Parts: this.parts },
        }),
      );
    } catch (error) {
      throw toDomainError(error);
    }
  }

  /** Best effort: an upload left pending is also what a bucket lifecycle rule should expire. */
  async abort(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    await this.client
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: this.key, UploadId: this.uploadId }))
      .catch(() => undefined);
  }
}

function normalizePrefix(prefix: string | undefined): string {
  const trimmed = (prefix ?? '').replace(/^\/+|\/+$/g, '');
  if (trimmed === '') return '';
  assertValidBlobKey(trimmed);
  return `${trimmed}/`;
}

/**
 * Everything the bucket (or the road to it) does wrong is "unavailable" to callers: connection
 * refused/reset/timeouts, 5xx, but also 403 or a missing bucket, which are deployment faults. The SDK
 * error (which names the endpoint and bucket) is only kept as the non-enumerable `cause`.
 */
function toDomainError(error: unknown): DomainError {
  if (error instanceof DomainError) return error;
  return blobStoreUnavailable(error);
}

function errorName(error: unknown): string | undefined {
  return (error as { name?: string } | null)?.name;
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
}

function isValidKey(key: string): boolean {
  try {
    assertValidBlobKey(key);
    return true;
  } catch {
    return false;
  }
}
