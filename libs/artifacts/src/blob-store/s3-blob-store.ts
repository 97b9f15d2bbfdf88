import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
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
import { openBody, releaseBody } from './capped-body';

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
}

const MIB = 1024 * 1024;

/**
 * Blobs as objects in one S3 bucket (AWS SDK v3).
 *
 * `put` reads the capped body into memory (it is at most `maxBytes`, 20 MiB by default), hashing as
 * it goes, and only then sends one PutObject with an exact ContentLength: a body that is too large or
 * whose stream fails never reaches the bucket, and S3's PutObject is itself atomic (replace on
 * success, untouched on failure). No multipart upload is used, so there are no orphaned parts.
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
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of capped.chunks()) chunks.push(chunk);
    } catch (error) {
      releaseBody(body);
      throw error;
    }
    const result = capped.result();
    const payload = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, result.size);
    await this.call(() =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: this.keyPrefix + key,
          Body: payload,
          ContentLength: payload.length,
          ContentType: opts.contentType ?? 'application/octet-stream',
        }),
        { requestTimeout: this.requestTimeoutMs + Math.ceil(payload.length / MIB) * 1000 },
      ),
    );
    return result;
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
