import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { BLOB_STORE, BlobStore, ChartInspector } from '@berth/artifacts';
import {
  CatalogErrorCode,
  ChartQueryService,
  ChartUploadService,
  RegistryChartVersion,
} from '@berth/catalog';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DomainError } from '@berth/common';
import { DataSource, EntityManager } from 'typeorm';
import { RegistryErrors } from './errors';
import { Descriptor, MediaTypes, ParsedManifest } from './manifest';
import { blobKeyOf, RepositoryName, tagToVersion, versionToTag } from './names';
import { RegistryReadCache } from './read-cache';
import { Repositories, Repository } from './repositories';

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function readAll(stream: AsyncIterable<Buffer>, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of stream) {
    size += c.length;
    if (size > max) throw RegistryErrors.SizeInvalid(`A chart archive may be at most ${max} bytes.`);
    chunks.push(c);
  }
  return Buffer.concat(chunks);
}

/**
 * One chart version, two wire formats. A version uploaded through the ChartMuseum API gets the manifest
 * Helm itself would push (config: its Chart.yaml as JSON; layers: the exact archive, then the `.prov`),
 * so its layer digest is the index digest. A chart pushed with `helm push` is inspected and stored by the
 * catalog's own upload, so it is in the index too.
 */
@Injectable()
export class ChartArtifacts {
  constructor(
    private readonly dataSource: DataSource,
    private readonly charts: ChartQueryService,
    private readonly uploads: ChartUploadService,
    private readonly inspector: ChartInspector,
    private readonly repositories: Repositories,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly cache: RegistryReadCache,
  ) {}

  /**
   * Writes the manifests of the chart's versions that have none yet (a repository name of one component
   * after the publisher is a chart's). Returns the repository, or null when there is no such chart.
   */
  async sync(publisherId: string, name: RepositoryName): Promise<Repository | null> {
    if (name.path.includes('/')) return null;
    const versions = await this.charts.registryVersions(publisherId, name.path);
    if (!versions.length) return null;
    const repo = await this.repositories.ensure(name, publisherId);
    const done: Array<{ chart_version_id: string }> = await this.dataSource.query(
      'SELECT chart_version_id FROM oci_manifest WHERE repository_id = $1 AND chart_version_id IS NOT NULL',
      [repo.id],
    );
    const have = new Set(done.map((r) => r.chart_version_id));
    const missing = versions.filter((v) => !have.has(v.id));
    for (const v of missing) await this.write(repo, v);
    if (missing.length) this.cache.changed(repo.id);
    return repo;
  }

  private async write(repo: Repository, v: RegistryChartVersion): Promise<void> {
    const config = Buffer.from(JSON.stringify(v.metadata));
    const configDigest = sha256(config);
    const configKey = blobKeyOf(repo.publisherId, configDigest);
    if (!(await this.repositories.publisherBlob(repo.publisherId, configDigest))) {
      await this.blobs.put(configKey, config, { contentType: MediaTypes.helmConfig });
    }
    const layers: Descriptor[] = [
      { mediaType: MediaTypes.helmChart, digest: `sha256:${v.digest}`, size: v.size },
    ];
    let prov: { digest: string; size: number; key: string } | null = null;
    if (v.provBlobKey) {
      const bytes = await readAll(await this.blobs.get(v.provBlobKey), 1024 * 1024);
      prov = { digest: sha256(bytes), size: bytes.length, key: v.provBlobKey };
      layers.push({ mediaType: MediaTypes.helmProvenance, digest: prov.digest, size: prov.size });
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MediaTypes.ociManifest,
        config: { mediaType: MediaTypes.helmConfig, digest: configDigest, size: config.length },
        layers,
        annotations: {
          'org.opencontainers.image.created': v.createdAt.toISOString(),
          'org.opencontainers.image.title': v.name,
          'org.opencontainers.image.version': v.version,
        },
      }),
    );
    const digest = sha256(manifest);
    await this.dataSource.transaction(async (m) => {
      // The archive and .prov are the catalog's objects: counted in its quota already, never collected here.
      await this.repositories.recordBlob(
        repo,
        { digest: configDigest, size: config.length, blobKey: configKey },
        { quota: false },
        m,
      );
      await this.repositories.recordBlob(
        repo,
        { digest: layers[0].digest, size: v.size, blobKey: v.blobKey },
        { quota: false },
        m,
      );
      if (prov) {
        await this.repositories.recordBlob(
          repo,
          { digest: prov.digest, size: prov.size, blobKey: prov.key },
          { quota: false },
          m,
        );
      }
      await this.store(
        m,
        repo,
        digest,
        MediaTypes.ociManifest,
        manifest,
        v.id,
        [configDigest, ...layers.map((l) => l.digest)],
        [],
      );
      await m.query(
        `INSERT INTO oci_tag (repository_id, tag, manifest_digest) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
        [repo.id, versionToTag(v.version), digest],
      );
    });
  }

  /** Inserts a manifest row and its references (both idempotent). */
  async store(
    m: EntityManager,
    repo: Repository,
    digest: string,
    mediaType: string,
    body: Buffer,
    chartVersionId: string | null,
    blobs: string[],
    manifests: string[],
    extra: { artifactType?: string | null; subject?: string | null } = {},
  ): Promise<void> {
    await m.query(
      `INSERT INTO oci_manifest (repository_id, digest, media_type, body, artifact_type, subject_digest, chart_version_id)
       VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING`,
      [repo.id, digest, mediaType, body, extra.artifactType ?? null, extra.subject ?? null, chartVersionId],
    );
    const refs = [
      ...[...new Set(blobs)].map((d) => [d, 'blob']),
      ...[...new Set(manifests)].map((d) => [d, 'manifest']),
    ];
    if (refs.length) {
      await m.query(
        `INSERT INTO oci_manifest_reference (repository_id, manifest_digest, child_digest, kind)
         SELECT $1, $2, c, k FROM unnest($3::varchar[], $4::varchar[]) AS t(c, k) ON CONFLICT DO NOTHING`,
        [repo.id, digest, refs.map((r) => r[0]), refs.map((r) => r[1])],
      );
    }
  }

  /**
   * `helm push`: the chart layer goes through the catalog's upload (inspection, limits, immutability,
   * quota), so the version is in the index as well. Returns the catalog version's id. Pushing the very
   * bytes of a version that exists is accepted (a retried push); other bytes for it are refused.
   */
  async ingest(
    repo: Repository,
    name: RepositoryName,
    tag: string | null,
    manifest: ParsedManifest,
  ): Promise<string> {
    const chartLayers = manifest.layers.filter((l) => l.mediaType === MediaTypes.helmChart);
    const provLayers = manifest.layers.filter((l) => l.mediaType === MediaTypes.helmProvenance);
    if (chartLayers.length !== 1 || provLayers.length > 1) {
      throw RegistryErrors.ManifestInvalid(
        'A Helm chart manifest holds exactly one chart layer and at most one provenance layer.',
      );
    }
    const read = async (digest: string) => {
      const blob = await this.repositories.linkedBlob(repo, digest);
      if (!blob) throw RegistryErrors.ManifestBlobUnknown(digest);
      return readAll(await this.blobs.get(blob.blobKey), this.config.uploads.maxBytes);
    };
    const archive = await read(chartLayers[0].digest);
    const prov = provLayers.length ? await read(provLayers[0].digest) : undefined;
    const chart = await this.inspector.inspect(archive);
    if (chart.name !== name.path) {
      throw RegistryErrors.ManifestInvalid(
        `The chart is named ${chart.name}, not ${name.path}: push it to ${name.publisher}/${chart.name}.`,
      );
    }
    if (tag !== null && tagToVersion(tag) !== chart.version && tag !== chart.version) {
      throw RegistryErrors.ManifestInvalid(
        `The tag must be the chart version (${versionToTag(chart.version)}).`,
      );
    }
    try {
      await this.uploads.upload(repo.publisherId, archive, prov);
    } catch (e) {
      if (!(e instanceof DomainError && e.code === CatalogErrorCode.ChartVersionExists)) throw e;
    }
    const [v] = (await this.charts.registryVersions(repo.publisherId, chart.name)).filter(
      (x) => x.version === chart.version,
    );
    if (!v || `sha256:${v.digest}` !== chartLayers[0].digest) {
      throw RegistryErrors.TagImmutable(versionToTag(chart.version));
    }
    return v.id;
  }
}
