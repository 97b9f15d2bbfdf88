import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import { ChartFileRef, ChartQueryService } from '@berth/catalog';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DomainError, ErrorKind, notFound, unauthenticated } from '@berth/common';
import { covers, Entitlement, LICENSE_KEY_PREFIX, LicenseService } from '@berth/licensing';
import { HelmRepoErrorCode } from './errors';
import { assembleIndex, IndexBody, IndexFragmentCache, renderFragment } from './index-cache';

/** Who reads the repository: anyone, the publisher itself, or a buyer holding a license. */
export type RepoViewer =
  | { kind: 'public' }
  | { kind: 'publisher' }
  | { kind: 'license'; licenseId: string; chartId: string; chartName: string; entitlement: Entitlement };

export interface ChartFile {
  stream: Readable;
  size: number | null;
  etag: string;
  contentType: string;
}

/** Per-publisher Helm repository: the index and the chart and provenance files behind it. */
@Injectable()
export class HelmRepositoryService {
  constructor(
    private readonly charts: ChartQueryService,
    private readonly licenses: LicenseService,
    private readonly indexes: IndexFragmentCache,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

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
      unauthenticated(HelmRepoErrorCode.RepositoryCredentialsInvalid, 'The license key is invalid, revoked or not for this repository.');
    if (!key.startsWith(LICENSE_KEY_PREFIX)) throw refused();
    const result = await this.licenses.verify(key);
    // Whose license it is comes first: its state is told only to someone presenting it where it belongs.
    if (!result.license || result.license.publisher !== slug || result.license.id !== username) throw refused();
    if (!result.valid) {
      if (result.reason === 'suspended' || result.reason === 'revoked') {
        throw unauthenticated(HelmRepoErrorCode.LicenseInactive, `This license is ${result.reason}; contact the publisher.`);
      }
      throw refused();
    }
    return {
      kind: 'license',
      licenseId: result.license.id,
      chartId: result.license.chartId,
      chartName: result.license.chart,
      entitlement: result.entitlement,
    };
  }

  /**
   * The index the viewer may see. Public and publisher views come whole from the fragment cache; a
   * buyer's view is the public one with the licensed chart's covered versions spliced in, so its cost
   * is that of the public index plus one chart, whatever else the repository holds.
   */
  async index(publisher: { id: string; slug: string }, viewer: RepoViewer): Promise<IndexBody> {
    const contextPath = `${new URL(this.config.publicUrl).pathname.replace(/\/$/, '')}/helm/${publisher.slug}`;
    if (viewer.kind !== 'license') return this.indexes.body(publisher.id, viewer.kind, contextPath);
    const { fragments, generated } = await this.indexes.publicFragments(publisher.id);
    // A free chart's public entry already lists every live version, the covered ones included.
    if (fragments.some((f) => f.name === viewer.chartName)) return assembleIndex(fragments, generated, contextPath);
    const live = (await this.charts.listVersions(publisher.id, 'publisher', viewer.chartName)).get(viewer.chartName) ?? [];
    const covered = live.filter((v) => v.chartId === viewer.chartId && covers(viewer.entitlement, v));
    const own = renderFragment({ name: viewer.chartName, chartId: viewer.chartId, public: false, versions: covered, versionChangedAt: null, listingChangedAt: null });
    const at = fragments.findIndex((f) => f.name > viewer.chartName);
    const merged = at < 0 ? [...fragments, own] : [...fragments.slice(0, at), own, ...fragments.slice(at)];
    return assembleIndex(merged, generated, contextPath);
  }

  private async provFile(v: ChartFileRef): Promise<ChartFile> {
    if (!v.provBlobKey) throw notFound(HelmRepoErrorCode.ChartFileNotFound, 'No such chart file in this repository.');
    const info = await this.blobs.head(v.provBlobKey);
    return {
      stream: await this.blobs.get(v.provBlobKey),
      size: info?.size ?? null,
      etag: `"${v.digest}-prov"`,
      contentType: 'application/pgp-signature',
    };
  }

  /** `<name>-<version>.tgz` or `.tgz.prov`, if the viewer may have it. Every request re-checks the license. */
  async chartFile(publisherId: string, fileName: string, viewer: RepoViewer): Promise<ChartFile> {
    const prov = fileName.endsWith('.tgz.prov');
    const base = prov ? fileName.slice(0, -'.tgz.prov'.length) : fileName.endsWith('.tgz') ? fileName.slice(0, -4) : null;
    const missing = () => notFound(HelmRepoErrorCode.ChartFileNotFound, 'No such chart file in this repository.');
    if (base === null) throw missing();
    const v = await this.charts.findChartFile(publisherId, base);
    if (!v) throw missing();
    // A provenance file holds Chart.yaml fields, the archive's digest and a signature: nothing the public
    // catalog does not show. Helm v4's `--verify` fetches it without credentials, so a published version's
    // .prov is public, paid or not; the archive itself stays behind the license check.
    if (prov && v.published && !v.yankedAt && viewer.kind !== 'publisher') return this.provFile(v);
    // A licensed buyer keeps access to covered versions even after a yank or an unpublish.
    const licensed = viewer.kind === 'license' && v.chartId === viewer.chartId && covers(viewer.entitlement, v);
    if (!licensed) {
      if (v.yankedAt || (viewer.kind !== 'publisher' && !v.published)) throw missing();
      if (viewer.kind !== 'publisher' && !v.free) {
        throw new DomainError(
          ErrorKind.Unauthenticated,
          HelmRepoErrorCode.LicenseRequired,
          'This chart version requires a license that covers it; add the repository with your license key.',
        );
      }
    }
    if (prov) return this.provFile(v);
    return { stream: await this.blobs.get(v.blobKey), size: v.size, etag: `"${v.digest}"`, contentType: 'application/gzip' };
  }
}
