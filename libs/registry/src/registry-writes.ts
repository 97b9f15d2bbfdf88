import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BlobUploads, UploadState } from './blob-uploads';
import { ChartArtifacts } from './chart-artifacts';
import { RegistryErrors } from './errors';
import { MediaTypes, parseManifest } from './manifest';
import { parseDigest, parseReference, parseRepositoryName, RepositoryName } from './names';
import { RegistryAccess, RegistryCaller } from './registry-access';
import { RegistryReads } from './registry-reads';
import { ReleaseImages } from './release-images';
import { RegistryReadCache } from './read-cache';
import { Repositories, Repository } from './repositories';

export type UploadStart = { kind: 'created'; digest: string } | { kind: 'session'; upload: UploadState };

export interface PushedManifest {
  digest: string;
  subject: string | null;
}

/** The push side: uploads, mounts, manifests, tags and deletes, for the publisher's own token only. */
@Injectable()
export class RegistryWrites {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: RegistryAccess,
    private readonly repositories: Repositories,
    private readonly uploads: BlobUploads,
    private readonly reads: RegistryReads,
    private readonly charts: ChartArtifacts,
    private readonly releases: ReleaseImages,
    private readonly cache: RegistryReadCache,
  ) {}

  /** What a new upload session asks of chunked clients (`OCI-Chunk-Min-Length`), if anything. */
  get chunkMinLength(): number | null {
    return this.uploads.chunkMinLength;
  }

  /** The repository a push goes to, created on the first push. */
  async target(caller: RegistryCaller, rawName: string): Promise<{ repo: Repository; name: RepositoryName }> {
    const name = parseRepositoryName(rawName);
    this.access.assertPush(caller, name);
    const publisherId = (caller as { publisherId: string }).publisherId;
    return { repo: await this.repositories.ensure(name, publisherId), name };
  }

  /** The push session's repository, which must exist already. */
  existing(caller: RegistryCaller, rawName: string): Promise<Repository> {
    return this.existingOrUnknown(caller, rawName, () => RegistryErrors.BlobUploadUnknown());
  }

  /** PATCH: one more chunk of a session. */
  async append(
    caller: RegistryCaller,
    rawName: string,
    id: string,
    body: Readable,
    range: { start: number; end: number } | null,
    length: number | null,
  ): Promise<UploadState> {
    return this.uploads.append(await this.existing(caller, rawName), id, body, range, length);
  }

  /** PUT …/uploads/<id>?digest=: the session's end, with an optional last chunk. */
  async finishUpload(
    caller: RegistryCaller,
    rawName: string,
    id: string,
    digest: string | undefined,
    body: Readable | null,
    length: number | null,
    range: { start: number; end: number } | null,
  ): Promise<string> {
    const repo = await this.existing(caller, rawName);
    const checked = parseDigest(digest);
    await this.uploads.finish(repo, id, checked, body, length, range);
    return checked;
  }

  async uploadState(caller: RegistryCaller, rawName: string, id: string): Promise<UploadState> {
    return this.uploads.state(await this.existing(caller, rawName), id);
  }

  async cancelUpload(caller: RegistryCaller, rawName: string, id: string): Promise<void> {
    await this.uploads.cancel(await this.existing(caller, rawName), id);
  }

  /**
   * POST …/blobs/uploads/: a mount (only from a repository of the same publisher; anything else falls
   * back to a session, never reveals whether the blob exists elsewhere), a monolithic upload (`digest`
   * and the body), or a new session.
   */
  async startUpload(
    caller: RegistryCaller,
    rawName: string,
    q: { digest?: string; mount?: string; from?: string },
    body: Readable,
    length: number | null,
  ): Promise<UploadStart> {
    const { repo, name } = await this.target(caller, rawName);
    if (q.mount !== undefined) {
      const digest = parseDigest(q.mount);
      const from = this.sameOwner(name, q.from);
      const source = from ? await this.repositories.find(from) : null;
      const blob = source
        ? await this.repositories.linkedBlob(source, digest)
        : q.from === undefined
          ? await this.repositories.publisherBlob(repo.publisherId, digest)
          : null;
      body.resume();
      if (blob) {
        await this.dataSource.transaction((m) => this.repositories.link(m, repo.id, digest));
        return { kind: 'created', digest };
      }
      return { kind: 'session', upload: await this.uploads.start(repo) };
    }
    const upload = await this.uploads.start(repo);
    if (q.digest === undefined) {
      body.resume();
      return { kind: 'session', upload };
    }
    const digest = parseDigest(q.digest);
    await this.uploads.finish(repo, upload.id, digest, body, length);
    return { kind: 'created', digest };
  }

  private sameOwner(name: RepositoryName, from: string | undefined): string | null {
    if (from === undefined) return null;
    try {
      const parsed = parseRepositoryName(from);
      return parsed.publisher === name.publisher ? parsed.full : null;
    } catch {
      return null;
    }
  }

  async putManifest(
    caller: RegistryCaller,
    rawName: string,
    reference: string,
    body: Buffer,
    contentType: string | undefined,
  ): Promise<PushedManifest> {
    const ref = parseReference(reference);
    const { repo, name } = await this.target(caller, rawName);
    const manifest = parseManifest(body, contentType);
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    if ('digest' in ref && ref.digest !== digest) {
      throw RegistryErrors.DigestInvalid('The manifest does not match the digest it was pushed by.');
    }
    const missingBlob = (
      await this.repositories.unlinked(
        repo.id,
        manifest.blobs.map((b) => b.digest),
      )
    )[0];
    if (missingBlob) throw RegistryErrors.ManifestBlobUnknown(missingBlob);
    const children = [...new Set(manifest.manifests.map((d) => d.digest))];
    if (children.length) {
      const rows: Array<{ digest: string }> = await this.dataSource.query(
        'SELECT digest FROM oci_manifest WHERE repository_id = $1 AND digest = ANY($2::varchar[])',
        [repo.id, children],
      );
      const have = new Set(rows.map((r) => r.digest));
      const missing = children.find((c) => !have.has(c));
      if (missing) throw RegistryErrors.ManifestBlobUnknown(missing);
    }
    const tag = 'tag' in ref ? ref.tag : null;
    const chartVersionId =
      manifest.config?.mediaType === MediaTypes.helmConfig
        ? await this.charts.ingest(repo, name, tag, manifest)
        : null;
    await this.dataSource.transaction(async (m) => {
      await this.charts.store(
        m,
        repo,
        digest,
        manifest.mediaType,
        body,
        chartVersionId,
        manifest.blobs.map((b) => b.digest),
        children,
        {
          artifactType: manifest.artifactType ?? manifest.config?.mediaType ?? null,
          subject: manifest.subject?.digest,
        },
      );
      if (tag !== null) {
        const [current] = (await m.query(
          `SELECT t.manifest_digest, m.chart_version_id FROM oci_tag t
             JOIN oci_manifest m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest
            WHERE t.repository_id = $1 AND t.tag = $2 FOR UPDATE OF t`,
          [repo.id, tag],
        )) as Array<{ manifest_digest: string; chart_version_id: string | null }>;
        if (current && current.manifest_digest !== digest) {
          const chartPinned =
            current.chart_version_id !== null && current.chart_version_id !== chartVersionId;
          if (chartPinned || (await this.releases.pinned(repo.name, tag)))
            throw RegistryErrors.TagImmutable(tag);
        }
        await m.query(
          `INSERT INTO oci_tag (repository_id, tag, manifest_digest) VALUES ($1, $2, $3)
           ON CONFLICT (repository_id, tag) DO UPDATE SET manifest_digest = EXCLUDED.manifest_digest, updated_at = now()`,
          [repo.id, tag, digest],
        );
      }
    });
    this.cache.changed(repo.id);
    if (tag !== null) await this.releases.tagged(repo.name, tag, digest);
    return { digest, subject: manifest.subject?.digest ?? null };
  }

  /** DELETE by tag (the tag only) or by digest (the manifest and its tags); releases' and charts' stay. */
  async deleteManifest(caller: RegistryCaller, rawName: string, reference: string): Promise<void> {
    const ref = parseReference(reference);
    const repo = await this.existingOrUnknown(caller, rawName, () => RegistryErrors.ManifestUnknown());
    const m = await this.reads.find(repo, ref);
    if (!m) throw RegistryErrors.ManifestUnknown();
    const pinned = m.chartVersionId !== null || (await this.releases.released(repo.name, m.digest));
    if (pinned) throw RegistryErrors.TagImmutable('tag' in ref ? ref.tag : m.digest);
    await this.dataSource.transaction(async (q) => {
      if ('tag' in ref) {
        await q.query('DELETE FROM oci_tag WHERE repository_id = $1 AND tag = $2', [repo.id, ref.tag]);
        return;
      }
      await q.query('DELETE FROM oci_tag WHERE repository_id = $1 AND manifest_digest = $2', [
        repo.id,
        m.digest,
      ]);
      await q.query('DELETE FROM oci_manifest_reference WHERE repository_id = $1 AND manifest_digest = $2', [
        repo.id,
        m.digest,
      ]);
      await q.query('DELETE FROM oci_manifest WHERE repository_id = $1 AND digest = $2', [repo.id, m.digest]);
    });
    this.cache.changed(repo.id);
  }

  /** DELETE …/blobs/<digest>: unlinks it from the repository; the bytes go when nothing uses them. */
  async deleteBlob(caller: RegistryCaller, rawName: string, rawDigest: string): Promise<void> {
    const digest = parseDigest(rawDigest);
    const repo = await this.existingOrUnknown(caller, rawName, () => RegistryErrors.BlobUnknown());
    const used: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM oci_manifest_reference r JOIN oci_manifest m ON m.repository_id = r.repository_id
          AND m.digest = r.manifest_digest
        WHERE r.repository_id = $1 AND r.child_digest = $2 AND m.chart_version_id IS NOT NULL LIMIT 1`,
      [repo.id, digest],
    );
    if (used.length) throw RegistryErrors.TagImmutable(digest);
    const unlinked = await this.repositories.unlink(repo.id, digest);
    this.cache.changed(repo.id);
    if (!unlinked) throw RegistryErrors.BlobUnknown();
  }

  private async existingOrUnknown(
    caller: RegistryCaller,
    rawName: string,
    unknown: () => Error,
  ): Promise<Repository> {
    const name = parseRepositoryName(rawName);
    this.access.assertPush(caller, name);
    const repo = await this.repositories.find(name.full);
    if (!repo) throw unknown();
    return repo;
  }
}
