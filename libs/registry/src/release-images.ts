import { Inject, Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { CatalogChanges, CatalogErrors, ChartQueryService, RegistryChartVersion } from '@berth/catalog';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DataSource } from 'typeorm';
import { parse as parseYaml } from 'yaml';
import { RegistryErrors } from './errors';
import { isDigest, isTag, parseDigest, parseRepositoryName } from './names';
import { RegistryReadCache } from './read-cache';

export interface ImageRef {
  /** `<publisher>/<name>` */
  repository: string;
  /** A tag, or `@sha256:…`. */
  reference: string;
  source: 'annotation' | 'values' | 'template' | 'api';
}

const REF_CHARS = /[a-z0-9][a-z0-9._/-]*(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(?:@sha256:[a-f0-9]{64})?/y;

/**
 * The images a chart version names under this registry: `artifacthub.io/images` entries and full
 * references in values.yaml and in the templates, as `<host>/<publisher>/<repo>[:tag][@digest]`. A digest
 * wins over a tag.
 */
export function imageRefs(
  v: Pick<RegistryChartVersion, 'metadata' | 'valuesYaml' | 'templateImages'>,
  host: string,
  slug: string,
): ImageRef[] {
  const prefix = `${host}/${slug}/`;
  const found = new Map<string, ImageRef>();
  const add = (text: string, source: ImageRef['source']) => {
    let at = text.indexOf(prefix);
    while (at >= 0) {
      REF_CHARS.lastIndex = at + host.length + 1;
      const m = REF_CHARS.exec(text);
      if (m) {
        const ref = m[0];
        const digestAt = ref.indexOf('@');
        const body = digestAt >= 0 ? ref.slice(0, digestAt) : ref;
        const colon = body.lastIndexOf(':');
        const repository = colon > 0 ? body.slice(0, colon) : body;
        const reference = digestAt >= 0 ? ref.slice(digestAt) : colon > 0 ? body.slice(colon + 1) : 'latest';
        if (repository.split('/').length >= 2 && (isTag(reference) || isDigest(reference.slice(1)))) {
          const key = `${repository} ${reference}`;
          if (!found.has(key)) found.set(key, { repository, reference, source });
        }
      }
      at = text.indexOf(prefix, at + prefix.length);
    }
  };
  const annotations = (v.metadata.annotations ?? {}) as Record<string, unknown>;
  const listed = annotations['artifacthub.io/images'];
  if (typeof listed === 'string') {
    try {
      const entries = parseYaml(listed) as unknown;
      if (Array.isArray(entries)) {
        for (const e of entries) {
          const image = (e as { image?: unknown })?.image;
          if (typeof image === 'string') add(image, 'annotation');
        }
      }
    } catch {
      // An unreadable annotation names nothing; the chart itself was accepted by Helm's rules.
    }
  }
  if (v.valuesYaml) add(v.valuesYaml, 'values');
  for (const ref of v.templateImages) add(ref, 'template');
  return [...found.values()];
}

/**
 * Ties images to chart versions: a release's references are recorded when the chart version arrives
 * (every replica hears of it; the inserts are idempotent), resolved to a manifest digest as soon as the
 * tag exists, and never re-pointed after that: a license's reach must not move with a tag.
 */
@Injectable()
export class ReleaseImages implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ReleaseImages.name);
  private readonly host: string;
  private unsubscribe?: () => void;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly dataSource: DataSource,
    private readonly charts: ChartQueryService,
    private readonly changes: CatalogChanges,
    private readonly cache: RegistryReadCache,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.host = new URL(config.publicUrl).host;
  }

  get registryHost(): string {
    return this.host;
  }

  onModuleInit(): void {
    this.unsubscribe = this.changes.subscribe((change) => {
      // A yank, a listing or a new version changes who sees what: drop every visibility answer.
      this.cache.visible.clear();
      if (change === 'all') return;
      this.queue = this.queue
        .then(() => this.recordChart(change.publisherId, change.chart))
        .catch((e: unknown) => this.logger.warn({ msg: 'release images not recorded', err: String(e) }));
    });
  }

  onModuleDestroy(): void {
    this.unsubscribe?.();
  }

  /** Waits for recordings already queued (tests, and a publish that wants them in place). */
  settled(): Promise<void> {
    return this.queue;
  }

  /** Records the image references of every version of a chart that has none recorded yet. */
  async recordChart(publisherId: string, chart: string): Promise<void> {
    const [publisher] = (await this.dataSource.query('SELECT slug FROM publisher WHERE id = $1', [
      publisherId,
    ])) as Array<{
      slug: string;
    }>;
    if (!publisher) return;
    for (const v of await this.charts.registryVersions(publisherId, chart)) {
      await this.record(v.id, imageRefs(v, this.host, publisher.slug));
    }
  }

  /** Adds references to a version (idempotent), resolving each from the tags as they are now. */
  async record(chartVersionId: string, refs: ImageRef[]): Promise<void> {
    if (refs.length) this.cache.visible.clear();
    for (const r of refs) {
      await this.dataSource.query(
        `INSERT INTO oci_release_image (chart_version_id, repository_name, reference, manifest_digest, source)
         SELECT $1::uuid, $2::varchar, $3::varchar,
           CASE WHEN left($3::varchar, 1) = '@' THEN substr($3::varchar, 2)
                ELSE (SELECT t.manifest_digest FROM oci_tag t JOIN oci_repository r ON r.id = t.repository_id
                       WHERE r.name = $2::varchar AND t.tag = $3::varchar) END,
           $4::varchar
         ON CONFLICT DO NOTHING`,
        [chartVersionId, r.repository, r.reference, r.source],
      );
    }
  }

  /** A tag was pushed: references waiting for it resolve now. */
  async tagged(repository: string, tag: string, digest: string): Promise<void> {
    this.cache.visible.clear();
    await this.dataSource.query(
      `UPDATE oci_release_image SET manifest_digest = $3
        WHERE repository_name = $1 AND reference = $2 AND manifest_digest IS NULL`,
      [repository, tag, digest],
    );
  }

  /** Whether a tag is pinned by a release (then it cannot move or go). */
  async pinned(repository: string, tag: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM oci_release_image WHERE repository_name = $1 AND reference = $2 AND manifest_digest IS NOT NULL LIMIT 1`,
      [repository, tag],
    );
    return rows.length > 0;
  }

  /** Whether a manifest is a release's image (then it cannot be deleted). */
  async released(repository: string, digest: string): Promise<boolean> {
    const rows: unknown[] = await this.dataSource.query(
      `SELECT 1 FROM oci_release_image WHERE repository_name = $1 AND manifest_digest = $2 LIMIT 1`,
      [repository, digest],
    );
    return rows.length > 0;
  }

  /**
   * The explicit way: ties a manifest the publisher pushed (by digest, into one of its repositories) to a
   * chart version. Unknown versions are `chart_version_not_found`, unknown manifests `manifest_unknown`.
   */
  async attach(
    publisherId: string,
    slug: string,
    chart: string,
    version: string,
    repository: string,
    digest: string,
  ): Promise<{ chartVersionId: string; image: ImageRef & { digest: string | null } }> {
    const name = parseRepositoryName(repository);
    const checked = parseDigest(digest);
    const v = await this.version(publisherId, chart, version);
    const found: unknown[] =
      name.publisher === slug
        ? await this.dataSource.query(
            `SELECT 1 FROM oci_manifest m JOIN oci_repository r ON r.id = m.repository_id
              WHERE r.name = $1 AND m.digest = $2`,
            [name.full, checked],
          )
        : [];
    if (!found.length) throw RegistryErrors.ManifestUnknown();
    const ref: ImageRef = { repository: name.full, reference: `@${checked}`, source: 'api' };
    await this.record(v.id, [ref]);
    return { chartVersionId: v.id, image: { ...ref, digest: checked } };
  }

  /** The images of a chart version by name and version (the publisher's view). */
  async listFor(
    publisherId: string,
    chart: string,
    version: string,
  ): Promise<Array<ImageRef & { digest: string | null }>> {
    const v = await this.version(publisherId, chart, version);
    return this.list(v.id);
  }

  private async version(publisherId: string, chart: string, version: string) {
    const [v] = (await this.charts.registryVersions(publisherId, chart)).filter((x) => x.version === version);
    if (!v) throw CatalogErrors.ChartVersionNotFound(`No version ${version} of chart ${chart}.`);
    return v;
  }

  /** The images of one chart version, resolved or waiting. */
  async list(chartVersionId: string): Promise<Array<ImageRef & { digest: string | null }>> {
    const rows: Array<{
      repository_name: string;
      reference: string;
      manifest_digest: string | null;
      source: ImageRef['source'];
    }> = await this.dataSource.query(
      `SELECT repository_name, reference, manifest_digest, source FROM oci_release_image
          WHERE chart_version_id = $1 ORDER BY repository_name, reference`,
      [chartVersionId],
    );
    return rows.map((r) => ({
      repository: r.repository_name,
      reference: r.reference,
      digest: r.manifest_digest,
      source: r.source,
    }));
  }
}
