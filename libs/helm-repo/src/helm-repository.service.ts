import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { Inject, Injectable } from '@nestjs/common';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import { CatalogAudience, ChartQueryService, StoredChartVersion } from '@berth/catalog';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DomainError, ErrorKind, notFound } from '@berth/common';
import { HelmRepoErrorCode } from './errors';
import { renderIndex } from './index-renderer';

export interface RenderedIndex {
  body: Buffer;
  etag: string;
  lastModified: Date;
}

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
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  repoUrl(slug: string): string {
    return `${this.config.publicUrl}/helm/${slug}`;
  }

  async index(publisher: { id: string; slug: string }, audience: CatalogAudience): Promise<RenderedIndex> {
    const [versions, last] = await Promise.all([
      this.charts.listVersions(publisher.id, audience),
      this.charts.lastChange(publisher.id),
    ]);
    // `generated` is the last catalog change, not the request time, so the body and ETag are stable.
    const generated = last ?? new Date(0);
    const contextPath = `${new URL(this.config.publicUrl).pathname.replace(/\/$/, '')}/helm/${publisher.slug}`;
    const body = Buffer.from(renderIndex(versions, generated, contextPath));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 32)}"`;
    return { body, etag, lastModified: generated };
  }

  /** `<name>-<version>.tgz` or `.tgz.prov`, if the audience may have it. */
  async chartFile(publisherId: string, fileName: string, audience: CatalogAudience): Promise<ChartFile> {
    const prov = fileName.endsWith('.tgz.prov');
    const base = prov ? fileName.slice(0, -'.tgz.prov'.length) : fileName.endsWith('.tgz') ? fileName.slice(0, -4) : null;
    const missing = notFound(HelmRepoErrorCode.ChartFileNotFound, 'No such chart file in this repository.');
    if (base === null) throw missing;
    const v = await this.charts.findByFileName(publisherId, base);
    if (!v || !this.visible(v, audience)) throw missing;
    if (audience === 'public' && !v.free) {
      throw new DomainError(ErrorKind.Unauthenticated, HelmRepoErrorCode.LicenseRequired, 'This chart requires a license; add the repository with your license key.');
    }
    if (prov) {
      if (!v.provBlobKey) throw missing;
      const info = await this.blobs.head(v.provBlobKey);
      return {
        stream: await this.blobs.get(v.provBlobKey),
        size: info?.size ?? null,
        etag: `"${v.digest}-prov"`,
        contentType: 'application/pgp-signature',
      };
    }
    return { stream: await this.blobs.get(v.blobKey), size: v.size, etag: `"${v.digest}"`, contentType: 'application/gzip' };
  }

  private visible(v: StoredChartVersion, audience: CatalogAudience): boolean {
    if (v.yankedAt) return false;
    return audience === 'publisher' || v.published;
  }
}
