import type { Writable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import { PublisherAccessService } from '@berth/accounts';
import { ChartQueryService } from '@berth/catalog';
import { DataSource } from 'typeorm';
import { ChartArtifacts } from './chart-artifacts';
import { RegistryErrors } from './errors';
import { MediaTypes } from './manifest';
import { parseDigest, parseReference, parseRepositoryName, RepositoryName } from './names';
import { RegistryAccess, RegistryCaller } from './registry-access';
import { RegistryReadCache } from './read-cache';
import { Repositories, Repository, StoredBlob } from './repositories';

export interface StoredManifest {
  digest: string;
  mediaType: string;
  body: Buffer;
  chartVersionId: string | null;
}

export interface OpenRepository {
  repo: Repository;
  name: RepositoryName;
  /** The caller owns it: everything in it is visible. */
  owner: boolean;
}

/** The most tags one `tags/list` page holds, whatever `n` asks. */
export const MAX_TAGS_PAGE = 1000;

/** The pull side of the registry: manifests, blobs, tags and referrers, as far as the caller may see them. */
@Injectable()
export class RegistryReads {
  constructor(
    private readonly dataSource: DataSource,
    private readonly access: RegistryAccess,
    private readonly repositories: Repositories,
    private readonly publishers: PublisherAccessService,
    private readonly charts: ChartArtifacts,
    private readonly chartVersions: ChartQueryService,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly cache: RegistryReadCache,
  ) {}

  async open(caller: RegistryCaller, rawName: string): Promise<OpenRepository> {
    const name = parseRepositoryName(rawName);
    const unknown = () => this.access.hidden(caller, () => RegistryErrors.NameUnknown());
    // Another publisher's token or license sees here what anyone sees (a client sends its one login for
    // the host everywhere): free charts and their images, nothing else.
    const repo = (await this.repositories.find(name.full)) ?? (await this.syncChart(name));
    if (!repo) throw unknown();
    return { repo, name, owner: this.access.ownsRepository(caller, name) };
  }

  async manifest(
    caller: RegistryCaller,
    rawName: string,
    reference: string,
  ): Promise<StoredManifest & { open: OpenRepository }> {
    const ref = parseReference(reference);
    const open = await this.open(caller, rawName);
    let m = await this.find(open.repo, ref);
    // A catalog version whose manifest is not written yet (uploaded since, through the ChartMuseum API).
    if (!m && (await this.syncChart(open.name))) m = await this.find(open.repo, ref);
    const unknown = () => this.access.hidden(caller, () => RegistryErrors.ManifestUnknown());
    if (!m) throw unknown();
    if (!open.owner && !(await this.access.manifestsVisible(caller, open.repo, [m.digest]))) throw unknown();
    return { ...m, open };
  }

  /**
   * The chart versions whose releases resolved an image to this manifest, newest first (at most 50), for
   * counting image pulls; none for anything else (a chart's own manifest, an index's platform manifest,
   * an image no release names).
   */
  async imageReleasesOf(
    open: { repo: Repository; name: RepositoryName },
    digest: string,
  ): Promise<Array<{ chartId: string; version: string }>> {
    const key = `${open.repo.id} ${digest}`;
    const kept = this.cache.releases.get(key);
    if (kept !== undefined) return kept;
    const rows: Array<{ chart_version_id: string }> = await this.dataSource.query(
      `SELECT chart_version_id FROM oci_release_image
        WHERE repository_name = $1 AND manifest_digest = $2 ORDER BY created_at DESC LIMIT 50`,
      [open.name.full, digest],
    );
    const versions = await this.chartVersions.accessRefs([...new Set(rows.map((r) => r.chart_version_id))]);
    const releases = versions
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .map((v) => ({ chartId: v.chartId, version: v.version }));
    this.cache.releases.set(key, releases);
    return releases;
  }

  async blob(
    caller: RegistryCaller,
    rawName: string,
    rawDigest: string,
  ): Promise<StoredBlob & { open: OpenRepository }> {
    const digest = parseDigest(rawDigest);
    const open = await this.open(caller, rawName);
    const unknown = () => this.access.hidden(caller, () => RegistryErrors.BlobUnknown());
    const key = `${open.repo.id} ${digest}`;
    let kept = this.cache.blobs.get(key);
    if (!kept) {
      kept = { blob: await this.repositories.linkedBlob(open.repo, digest) };
      if (kept.blob) this.cache.blobs.set(key, kept);
    }
    const blob = kept.blob;
    if (!blob) throw unknown();
    if (!open.owner && !(await this.access.blobVisible(caller, open.repo, digest))) throw unknown();
    return { ...blob, open };
  }

  /** A blob's bytes, or the range of them. */
  send(blob: StoredBlob, out: Writable, range?: { start: number; end: number }): Promise<void> {
    return this.blobs.writeTo(blob.blobKey, out, range);
  }

  /**
   * The chart version whose archive a blob is, for download counting; null for anything else (a config,
   * a `.prov`, an image layer).
   */
  async chartLayerOf(
    open: { repo: Repository; name: RepositoryName },
    digest: string,
  ): Promise<{ chartId: string; version: string } | null> {
    if (open.name.path.includes('/')) return null;
    const key = `${open.repo.id} ${digest}`;
    const kept = this.cache.blobs.get(key);
    if (kept?.chart !== undefined) return kept.chart;
    const chart = await this.findChartLayer(open, digest);
    if (kept) this.cache.blobs.set(key, { ...kept, chart });
    return chart;
  }

  private async findChartLayer(
    open: { repo: Repository; name: RepositoryName },
    digest: string,
  ): Promise<{ chartId: string; version: string } | null> {
    const rows: Array<{ chart_version_id: string }> = await this.dataSource.query(
      `SELECT DISTINCT m.chart_version_id FROM oci_manifest_reference r
         JOIN oci_manifest m ON m.repository_id = r.repository_id AND m.digest = r.manifest_digest
        WHERE r.repository_id = $1 AND r.child_digest = $2 AND m.chart_version_id IS NOT NULL LIMIT 5`,
      [open.repo.id, digest],
    );
    if (!rows.length) return null;
    const versions = await this.chartVersions.registryVersions(
      open.repo.publisherId,
      open.name.path,
      rows.map((r) => r.chart_version_id),
    );
    const v = versions.find((x) => `sha256:${x.digest}` === digest);
    return v ? { chartId: v.chartId, version: v.version } : null;
  }

  /** Tags in code-point order after `last`, at most `n` (capped); those the caller may not see are left out. */
  async tags(
    caller: RegistryCaller,
    rawName: string,
    n: number | null,
    last: string | null,
  ): Promise<{ name: string; tags: string[]; more: boolean }> {
    const open = await this.open(caller, rawName);
    await this.syncChart(open.name);
    const limit = Math.min(n ?? MAX_TAGS_PAGE, MAX_TAGS_PAGE);
    const tags: string[] = [];
    let after = last ?? '';
    let more = false;
    while (tags.length < limit) {
      const rows: Array<{ tag: string; manifest_digest: string }> = await this.dataSource.query(
        `SELECT tag, manifest_digest FROM oci_tag WHERE repository_id = $1 AND tag COLLATE "C" > $2
          ORDER BY tag COLLATE "C" LIMIT $3`,
        [open.repo.id, after, limit + 1],
      );
      if (!rows.length) break;
      for (const r of rows) {
        if (tags.length === limit) {
          more = true;
          break;
        }
        if (open.owner || (await this.access.manifestsVisible(caller, open.repo, [r.manifest_digest])))
          tags.push(r.tag);
        after = r.tag;
      }
      if (more || rows.length <= limit) break;
    }
    // A repository of which the caller may see nothing does not exist for it.
    if (!open.owner && !tags.length && !last)
      throw this.access.hidden(caller, () => RegistryErrors.NameUnknown());
    return { name: open.name.full, tags, more };
  }

  /** The manifests whose `subject` is the digest, as an image index (filtered by artifactType). */
  async referrers(
    caller: RegistryCaller,
    rawName: string,
    rawDigest: string,
    artifactType: string | null,
  ): Promise<Buffer> {
    const digest = parseDigest(rawDigest);
    const name = parseRepositoryName(rawName);
    // The owner asking about a repository with nothing in it yet gets the empty list the spec wants.
    if (this.access.ownsRepository(caller, name) && !(await this.repositories.find(name.full))) {
      return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests: [] }));
    }
    const open = await this.open(caller, rawName);
    const rows: Array<{ digest: string; media_type: string; body: Buffer; artifact_type: string | null }> =
      await this.dataSource.query(
        `SELECT digest, media_type, body, artifact_type FROM oci_manifest
          WHERE repository_id = $1 AND subject_digest = $2 ORDER BY created_at, digest LIMIT 1000`,
        [open.repo.id, digest],
      );
    const manifests = [];
    for (const r of rows) {
      const doc = JSON.parse(r.body.toString('utf8')) as {
        artifactType?: string;
        config?: { mediaType?: string };
        annotations?: Record<string, string>;
      };
      const type = r.artifact_type ?? doc.config?.mediaType ?? null;
      if (artifactType && type !== artifactType) continue;
      if (!open.owner && !(await this.access.manifestsVisible(caller, open.repo, [r.digest]))) continue;
      manifests.push({
        mediaType: r.media_type,
        digest: r.digest,
        size: r.body.length,
        ...(type ? { artifactType: type } : {}),
        ...(doc.annotations ? { annotations: doc.annotations } : {}),
      });
    }
    return Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaTypes.ociIndex, manifests }));
  }

  async find(repo: Repository, ref: { tag: string } | { digest: string }): Promise<StoredManifest | null> {
    const key = `${repo.id} ${'tag' in ref ? ref.tag : ref.digest}`;
    const kept = this.cache.manifests.get(key);
    if (kept !== undefined) return kept;
    const rows: Array<{ digest: string; media_type: string; body: Buffer; chart_version_id: string | null }> =
      'tag' in ref
        ? await this.dataSource.query(
            `SELECT m.digest, m.media_type, m.body, m.chart_version_id FROM oci_tag t
               JOIN oci_manifest m ON m.repository_id = t.repository_id AND m.digest = t.manifest_digest
              WHERE t.repository_id = $1 AND t.tag = $2`,
            [repo.id, ref.tag],
          )
        : await this.dataSource.query(
            'SELECT digest, media_type, body, chart_version_id FROM oci_manifest WHERE repository_id = $1 AND digest = $2',
            [repo.id, ref.digest],
          );
    const r = rows[0];
    const found = r
      ? { digest: r.digest, mediaType: r.media_type, body: r.body, chartVersionId: r.chart_version_id }
      : null;
    // Only what exists is kept: a push seen by another replica must be pullable here at once.
    if (found) this.cache.manifests.set(key, found);
    return found;
  }

  private async syncChart(name: RepositoryName): Promise<Repository | null> {
    if (name.path.includes('/')) return null;
    const publisher = await this.publishers.findBySlug(name.publisher);
    return publisher ? this.charts.sync(publisher.id, name) : null;
  }
}
