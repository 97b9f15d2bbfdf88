import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import { ChartFileRef, ChartQueryService } from '@berth/catalog';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { covers, Entitlement, LICENSE_KEY_PREFIX, LicenseService, VerifiedLicense } from '@berth/licensing';
import { ChartFileCache, MAX_CACHED_ARCHIVE_BYTES } from './chart-file-cache';
import { IndexBody, IndexFragmentCache, licensedViewKey, renderFragment } from './index-cache';
import { HelmRepoErrors } from './errors';

/** Who reads the repository: anyone, the publisher itself, or a buyer holding a license. */
export type RepoViewer =
  | { kind: 'public' }
  | { kind: 'publisher' }
  | { kind: 'license'; licenseId: string; chartId: string; chartName: string; entitlement: Entitlement };

export interface ChartFile {
  /** Small archives come as the bytes kept in memory, everything else as a stream from the blob store. */
  body: Buffer | Readable;
  size: number | null;
  etag: string;
  contentType: string;
  /** The chart version an archive is (absent for a `.prov`): what a download is counted against. */
  download?: { chartId: string; version: string };
}

/**
 * Whether a viewer may have a stored version's archive (or `.prov`): the one rule for every way a file
 * is served. A provenance file holds Chart.yaml fields, the archive's digest and a signature: nothing the
 * public catalog does not show, and Helm v4's `--verify` fetches it without credentials, so a published
 * version's .prov is public, paid or not. A licensed buyer keeps covered versions even after a yank or an
 * unpublish.
 */
export function fileAccess(
  v: ChartFileRef,
  viewer: RepoViewer,
  prov: boolean,
): 'allowed' | 'missing' | 'license_required' {
  if (prov && v.published && !v.yankedAt && viewer.kind !== 'publisher') return 'allowed';
  const licensed = viewer.kind === 'license' && v.chartId === viewer.chartId && covers(viewer.entitlement, v);
  if (licensed) return 'allowed';
  if (v.yankedAt || (viewer.kind !== 'publisher' && !v.published)) return 'missing';
  if (viewer.kind !== 'publisher' && !v.free) return 'license_required';
  return 'allowed';
}

/** A buyer's view depends on the chart and the entitlement only, never on who the buyer is. */
const licensedView = (v: RepoViewer & { kind: 'license' }) =>
  licensedViewKey(
    v.chartName,
    `${v.chartId} ${v.entitlement.versionRange} ${v.entitlement.updatesUntil?.getTime() ?? '-'}`,
  );

const buyer = (r: VerifiedLicense & { valid: true }): RepoViewer => ({
  kind: 'license',
  licenseId: r.license.id,
  chartId: r.license.chartId,
  chartName: r.license.chart,
  entitlement: r.entitlement,
});

/** Per-publisher Helm repository: the index and the chart and provenance files behind it. */
@Injectable()
export class HelmRepositoryService {
  /** PUBLIC_URL's path, the prefix of every repository's `serverInfo.contextPath`. */
  private readonly basePath: string;

  constructor(
    private readonly charts: ChartQueryService,
    private readonly licenses: LicenseService,
    private readonly indexes: IndexFragmentCache,
    private readonly files: ChartFileCache,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.basePath = new URL(config.publicUrl).pathname.replace(/\/$/, '');
  }

  repoUrl(slug: string): string {
    return `${this.config.publicUrl}/helm/${slug}`;
  }

  /**
   * Basic auth where the password is a license key and the username its license id. Any failure is a
   * 401 with one message, whichever check failed (it must not help guessing).
   */
  async licenseViewer(slug: string, username: string, key: string): Promise<RepoViewer> {
    // Built only when thrown: an error's stack trace costs more than the rest of a cached check.
    const refused = () =>
      HelmRepoErrors.RepositoryCredentialsInvalid(
        'The license key is invalid, revoked or not for this repository.',
      );
    if (!key.startsWith(LICENSE_KEY_PREFIX)) throw refused();
    const result = await this.licenses.verify(key);
    // Whose license it is comes first: its state is told only to someone presenting it where it belongs.
    if (!result.license || result.license.publisher !== slug || result.license.id !== username)
      throw refused();
    if (!result.valid) {
      if (result.reason === 'suspended' || result.reason === 'revoked') {
        throw HelmRepoErrors.LicenseInactive(result.reason);
      }
      throw refused();
    }
    return buyer(result);
  }

  /**
   * The index the viewer may see. Public and publisher views come whole from the fragment cache; a
   * buyer's view is the public one with the licensed chart's covered versions spliced in, so its cost
   * is that of the public index plus one chart, whatever else the repository holds.
   */
  async index(publisher: { id: string; slug: string }, viewer: RepoViewer): Promise<IndexBody> {
    const contextPath = this.contextPath(publisher.slug);
    if (viewer.kind !== 'license') return this.indexes.body(publisher.id, viewer.kind, contextPath);
    const { chartId, chartName, entitlement } = viewer;
    return this.indexes.licensedBody(publisher.id, chartName, licensedView(viewer), contextPath, async () => {
      const live =
        (await this.charts.listVersions(publisher.id, 'publisher', chartName)).get(chartName) ?? [];
      const versions = live.filter((v) => v.chartId === chartId && covers(entitlement, v));
      return renderFragment({
        name: chartName,
        chartId,
        public: false,
        versions,
        versionChangedAt: null,
        listingChangedAt: null,
      });
    });
  }

  /** The index answer when it is built already and nothing changed since (see IndexFragmentCache.built). */
  cachedIndex(publisherId: string, viewer: RepoViewer): IndexBody | undefined {
    return viewer.kind === 'license'
      ? this.indexes.built(publisherId, 'public', licensedView(viewer))
      : this.indexes.built(publisherId, viewer.kind);
  }

  private contextPath(slug: string): string {
    return `${this.basePath}/helm/${slug}`;
  }

  private async provFile(v: ChartFileRef): Promise<ChartFile> {
    if (!v.provBlobKey) throw HelmRepoErrors.ChartFileNotFound();
    const info = await this.blobs.head(v.provBlobKey);
    return {
      body: await this.blobs.get(v.provBlobKey),
      size: info?.size ?? null,
      etag: `"${v.digest}-prov"`,
      contentType: 'application/pgp-signature',
    };
  }

  /** `<name>-<version>.tgz` or `.tgz.prov`, if the viewer may have it. Every request re-checks the license. */
  async chartFile(publisherId: string, fileName: string, viewer: RepoViewer): Promise<ChartFile> {
    const prov = fileName.endsWith('.tgz.prov');
    const base = prov
      ? fileName.slice(0, -'.tgz.prov'.length)
      : fileName.endsWith('.tgz')
        ? fileName.slice(0, -4)
        : null;
    const missing = () => HelmRepoErrors.ChartFileNotFound();
    if (base === null) throw missing();
    const v = await this.findFile(publisherId, base);
    if (!v) throw missing();
    const access = fileAccess(v, viewer, prov);
    if (access === 'missing') throw missing();
    if (access === 'license_required') {
      throw HelmRepoErrors.LicenseRequired();
    }
    if (prov) return this.provFile(v);
    return {
      body: await this.archive(v),
      size: v.size,
      etag: `"${v.digest}"`,
      contentType: 'application/gzip',
      download: { chartId: v.chartId, version: v.version },
    };
  }

  /**
   * The archive answer when everything it depends on is already in memory (file lookup, archive bytes),
   * by the same rule as chartFile; undefined whenever chartFile would have to read or refuse anything.
   */
  cachedArchive(
    publisherId: string,
    fileName: string,
    viewer: RepoViewer,
  ): (ChartFile & { body: Buffer }) | undefined {
    if (!fileName.endsWith('.tgz')) return undefined;
    const v = this.files.ref(publisherId, fileName.slice(0, -4), false);
    if (!v || fileAccess(v, viewer, false) !== 'allowed') return undefined;
    const body = this.files.archive(v.blobKey);
    return (
      body && {
        body,
        size: v.size,
        etag: `"${v.digest}"`,
        contentType: 'application/gzip',
        download: { chartId: v.chartId, version: v.version },
      }
    );
  }

  /** Counts an answer of cachedArchive that was sent, as the full path counts its cache hits. */
  countCachedPull(viewer: RepoViewer): void {
    this.files.countHit();
    if (viewer.kind === 'license') this.licenses.countCachedCheck();
  }

  /** Counts an answer of cachedIndex that was sent: for a buyer, a key check answered from memory. */
  countCachedIndex(viewer: RepoViewer): void {
    if (viewer.kind === 'license') this.licenses.countCachedCheck();
  }

  /** A buyer's viewer from memory alone (see LicenseService.verifyFromCache); undefined to take the full path. */
  cachedLicenseViewer(slug: string, username: string, key: string): RepoViewer | undefined {
    const result = this.licenses.verifyFromCache(key);
    if (!result?.valid || result.license.publisher !== slug || result.license.id !== username)
      return undefined;
    return buyer(result);
  }

  private async findFile(publisherId: string, base: string): Promise<ChartFileRef | null> {
    const cached = this.files.ref(publisherId, base, false);
    if (cached || this.files.knownMissing(publisherId, base)) {
      this.files.countHit();
      return cached ?? null;
    }
    this.files.countMiss();
    const generation = this.files.current;
    const v = await this.charts.findChartFile(publisherId, base);
    if (v) this.files.rememberRef(publisherId, base, v, generation);
    else this.files.rememberMissing(publisherId, base, generation);
    return v;
  }

  private async archive(v: ChartFileRef): Promise<Buffer | Readable> {
    const kept = this.files.archive(v.blobKey);
    if (kept) return kept;
    const stream = await this.blobs.get(v.blobKey);
    if (v.size > MAX_CACHED_ARCHIVE_BYTES) return stream;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    // What the upload recorded is what must go out; anything else is a damaged blob, never kept.
    if (bytes.length === v.size) this.files.rememberArchive(v.blobKey, bytes);
    return bytes;
  }
}
