import { createHash, randomUUID } from 'node:crypto';
import { PassThrough, Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { returnedRows } from '@berth/database';
import { DataSource } from 'typeorm';
import { OciUploadEntity } from './entities';
import { RegistryErrors } from './errors';
import { blobKeyOf } from './names';
import { Repositories, Repository, StoredBlob } from './repositories';

export interface UploadState {
  id: string;
  /** Bytes received so far. */
  size: number;
}

type Part = { key: string; size: number; sha256: string };

/** Chunks one upload session may have (each is an object and an entry in the session row), as S3's parts. */
export const MAX_UPLOAD_CHUNKS = 10_000;

const isUuid = (id: string) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id);

/**
 * Blob upload sessions (monolithic, streamed and chunked). Every request's body is streamed straight
 * into the blob store as one part, hashed on the way; the session row lists the parts. Finishing
 * checks the digest: one part is the blob itself (no copy), several are concatenated once into the
 * publisher's content-addressed key. Nothing is visible in the repository until the digest matched.
 */
@Injectable()
export class BlobUploads {
  private readonly logger = new Logger(BlobUploads.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly repositories: Repositories,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The chunk size to ask clients for (`OCI-Chunk-Min-Length`), when the blob store has parts. */
  get chunkMinLength(): number | null {
    return this.blobs.partBytes ?? null;
  }

  async start(repo: Repository): Promise<UploadState> {
    const id = randomUUID();
    await this.dataSource.getRepository(OciUploadEntity).insert({
      id,
      repositoryId: repo.id,
      publisherId: repo.publisherId,
      parts: [],
      size: '0',
    });
    return { id, size: 0 };
  }

  async state(repo: Repository, id: string): Promise<UploadState> {
    const row = await this.row(repo, id);
    return { id: row.id, size: Number(row.size) };
  }

  /**
   * Appends one chunk. `range` (from Content-Range) must start where the upload ends; without it the
   * body is appended wherever that is (a streamed upload).
   */
  async append(
    repo: Repository,
    id: string,
    body: Readable,
    range: { start: number; end: number } | null,
    length: number | null,
  ): Promise<UploadState> {
    const row = await this.row(repo, id);
    const offset = Number(row.size);
    if (range && range.start !== offset) throw RegistryErrors.BlobUploadOutOfOrder(offset);
    if (range && length !== null && range.end - range.start + 1 !== length) {
      throw RegistryErrors.BlobUploadInvalid('Content-Range and Content-Length disagree.');
    }
    if (row.parts.length >= MAX_UPLOAD_CHUNKS) {
      throw RegistryErrors.BlobUploadInvalid(
        `An upload takes at most ${MAX_UPLOAD_CHUNKS} chunks: send larger ones, or finish it with a PUT.`,
      );
    }
    const part = await this.storePart(row, body, length);
    if (!part) return { id, size: offset };
    if (range && part.size !== range.end - range.start + 1) {
      await this.blobs.delete(part.key).catch(() => undefined);
      throw RegistryErrors.BlobUploadInvalid('The chunk is not as long as its Content-Range says.');
    }
    // Another request may have appended meanwhile (from any replica): only the one that saw this size wins.
    const updated = returnedRows(
      await this.dataSource.query(
        `UPDATE oci_upload SET parts = parts || $3::jsonb, size = size + $4, updated_at = now()
          WHERE id = $1 AND size = $2 RETURNING id`,
        [id, offset, JSON.stringify([part]), part.size],
      ),
    );
    if (!updated.length) {
      await this.blobs.delete(part.key).catch(() => undefined);
      throw RegistryErrors.BlobUploadOutOfOrder(offset);
    }
    return { id, size: offset + part.size };
  }

  /**
   * Completes the upload as `digest`, with a last chunk if the request has one. On a digest mismatch the
   * session is gone and nothing was kept.
   */
  async finish(
    repo: Repository,
    id: string,
    digest: string,
    body: Readable | null,
    length: number | null,
    range: { start: number; end: number } | null = null,
  ): Promise<StoredBlob> {
    const row = await this.row(repo, id);
    if (range && range.start !== Number(row.size)) {
      body?.resume();
      throw RegistryErrors.BlobUploadOutOfOrder(Number(row.size));
    }
    const last = body ? await this.storePart(row, body, length) : null;
    const parts = last ? [...row.parts, last] : row.parts;
    // Claim the session first: two finishing requests must not both store the blob.
    const claimed = returnedRows(
      await this.dataSource.query('DELETE FROM oci_upload WHERE id = $1 RETURNING id', [id]),
    );
    if (!claimed.length) {
      if (last) await this.deleteParts([last]);
      throw RegistryErrors.BlobUploadUnknown();
    }
    let blob: StoredBlob | null = null;
    try {
      blob = await this.assemble(repo, parts, digest);
      if (await this.repositories.recordBlob(repo, blob)) return blob;
      // The publisher held these bytes already: keep the stored copy, drop this one.
      const existing = await this.repositories.publisherBlob(repo.publisherId, digest);
      if (existing && existing.blobKey !== blob.blobKey)
        await this.blobs.delete(blob.blobKey).catch(() => undefined);
      return existing ?? blob;
    } catch (e) {
      await this.deleteParts(parts);
      // An assembled object is kept only if a record points to it (the same bytes stored before).
      const kept =
        blob && (await this.repositories.publisherBlob(repo.publisherId, digest).catch(() => null));
      if (blob && !kept) await this.blobs.delete(blob.blobKey).catch(() => undefined);
      throw e;
    }
  }

  async cancel(repo: Repository, id: string): Promise<void> {
    const row = await this.row(repo, id);
    await this.dataSource.query('DELETE FROM oci_upload WHERE id = $1', [id]);
    await this.deleteParts(row.parts);
  }

  /** Sessions untouched for the TTL, and their parts; returns how many went. */
  async purgeAbandoned(): Promise<number> {
    const rows: Array<{ id: string; parts: Part[] }> = returnedRows(
      await this.dataSource.query(
        `DELETE FROM oci_upload WHERE updated_at < now() - make_interval(secs => $1) RETURNING id, parts`,
        [this.config.registry.uploadTtlSeconds],
      ),
    );
    for (const r of rows) await this.deleteParts(r.parts);
    return rows.length;
  }

  private async row(repo: Repository, id: string): Promise<OciUploadEntity> {
    if (!isUuid(id)) throw RegistryErrors.BlobUploadUnknown();
    const row = await this.dataSource.getRepository(OciUploadEntity).findOne({ where: { id } });
    if (!row || row.repositoryId !== repo.id) throw RegistryErrors.BlobUploadUnknown();
    return row;
  }

  /** Streams a request body into a new part; null when the body was empty. */
  private async storePart(row: OciUploadEntity, body: Readable, length: number | null): Promise<Part | null> {
    if (length === 0) {
      body.resume();
      return null;
    }
    const room = this.config.registry.blobMaxBytes - Number(row.size);
    if (length !== null && length > room) {
      throw RegistryErrors.SizeInvalid(`A blob may be at most ${this.config.registry.blobMaxBytes} bytes.`);
    }
    const key = `oci/${row.publisherId}/uploads/${row.id}/${row.parts.length}-${randomUUID().slice(0, 8)}`;
    const put = await this.blobs.put(key, body, { maxBytes: room, contentType: 'application/octet-stream' });
    if (length !== null && put.size !== length) {
      await this.blobs.delete(key).catch(() => undefined);
      throw RegistryErrors.BlobUploadInvalid('The body is shorter than its Content-Length.');
    }
    if (put.size === 0) {
      await this.blobs.delete(key).catch(() => undefined);
      return null;
    }
    return { key, size: put.size, sha256: put.sha256 };
  }

  /** The finished blob: the single part as it is, or the parts joined into one object, digest checked. */
  private async assemble(repo: Repository, parts: Part[], digest: string): Promise<StoredBlob> {
    const hex = digest.slice('sha256:'.length);
    if (parts.length === 0) {
      const empty = createHash('sha256').digest('hex');
      if (hex !== empty) throw RegistryErrors.DigestInvalid('The uploaded bytes do not match the digest.');
      const key = blobKeyOf(repo.publisherId, digest);
      await this.blobs.put(key, Buffer.alloc(0), { contentType: 'application/octet-stream' });
      return { digest, size: 0, blobKey: key };
    }
    if (parts.length === 1) {
      if (parts[0].sha256 !== hex)
        throw RegistryErrors.DigestInvalid('The uploaded bytes do not match the digest.');
      return { digest, size: parts[0].size, blobKey: parts[0].key };
    }
    const key = blobKeyOf(repo.publisherId, digest);
    const joined = new PassThrough();
    const feeding = (async () => {
      for (const p of parts) await pipeline(await this.blobs.get(p.key), joined, { end: false });
      joined.end();
    })().catch((e: unknown) => joined.destroy(e as Error));
    const put = await this.blobs.put(key, joined, {
      maxBytes: this.config.registry.blobMaxBytes,
      contentType: 'application/octet-stream',
    });
    await feeding;
    if (put.sha256 !== hex) {
      await this.blobs.delete(key).catch(() => undefined);
      throw RegistryErrors.DigestInvalid('The uploaded bytes do not match the digest.');
    }
    await this.deleteParts(parts);
    return { digest, size: put.size, blobKey: key };
  }

  private async deleteParts(parts: Part[]): Promise<void> {
    await Promise.all(parts.map((p) => this.blobs.delete(p.key).catch(() => undefined)));
  }
}
