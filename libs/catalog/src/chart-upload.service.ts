import { randomUUID } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { BLOB_STORE, BlobStore, ChartInspector, InspectedChart, InspectionErrors } from '@berth/artifacts';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { isUniqueViolation } from '@berth/database';
import semver from 'semver';
import { DataSource, EntityManager } from 'typeorm';
import { ChartEntity, ChartVersionEntity } from './entities';
import { CatalogChanges } from './catalog-changes';
import { ProvenanceService } from './provenance.service';
import { CommitOutcomeUnknown, PublisherQuota, runTransaction } from './stored-bytes';
import { CatalogErrors } from './errors';

export interface UploadedChartVersion {
  name: string;
  version: string;
  digest: string;
  size: number;
}

/** Limits of our columns and of npm semver (numbers past 2^53), which Helm's rules alone do not bound. */
function assertStorable(chart: InspectedChart): void {
  let parsed = false;
  try {
    parsed = chart.version.length <= 128 && new semver.SemVer(chart.version).version !== '';
  } catch {
    parsed = false;
  }
  if (!parsed) {
    throw InspectionErrors.ChartVersionInvalid(
      'The chart version is too long or has numbers larger than 9007199254740991.',
    );
  }
  if (chart.appVersion !== undefined && chart.appVersion.length > 255) {
    throw CatalogErrors.ChartAppVersionInvalid();
  }
}

/** Blob keys are made here, never from user input: `charts/<publisher>/<random>.tgz`. */
export const chartBlobKey = (publisherId: string) => `charts/${publisherId}/${randomUUID()}.tgz`;

/**
 * Upload pipeline: inspect the archive within limits (which also refuses what the database would not
 * store), refuse an existing version and a full quota before writing anything, write the blob, then insert
 * the row. Whenever the insert's transaction did not commit, whatever was thrown, the blob is deleted; only
 * a lost COMMIT answer (the row may exist) and a crash leave it to OrphanBlobSweeper.
 */
@Injectable()
export class ChartUploadService {
  private readonly logger = new Logger(ChartUploadService.name);

  constructor(
    private readonly dataSource: DataSource,
    private readonly inspector: ChartInspector,
    private readonly provenance: ProvenanceService,
    private readonly changes: CatalogChanges,
    private readonly quota: PublisherQuota,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async upload(publisherId: string, archive: Buffer, prov?: Buffer): Promise<UploadedChartVersion> {
    const chart = await this.inspector.inspect(archive);
    assertStorable(chart);
    if (prov) this.provenance.assertMatches(prov, chart, archive);
    await this.assertVersionFree(publisherId, chart.name, chart.version);
    const incoming = archive.length + (prov?.length ?? 0);
    await this.quota.assertRoom(publisherId, incoming);

    const blobKey = chartBlobKey(publisherId);
    const written: string[] = [];
    try {
      const put = await this.blobs.put(blobKey, archive, {
        contentType: 'application/gzip',
        maxBytes: this.config.uploads.maxBytes,
      });
      written.push(blobKey);
      let provBlobKey: string | null = null;
      if (prov) {
        provBlobKey = `${blobKey}.prov`;
        await this.blobs.put(provBlobKey, prov, { contentType: 'application/pgp-signature' });
        written.push(provBlobKey);
      }
      await runTransaction(this.dataSource, async (m) => {
        await this.insertVersion(m, publisherId, chart, put, blobKey, provBlobKey, prov?.length ?? null);
        await this.quota.reserve(m, publisherId, incoming);
      });
      this.changes.committed(publisherId, chart.name);
      return { name: chart.name, version: chart.version, digest: put.sha256, size: put.size };
    } catch (error) {
      // Nothing was committed unless COMMIT itself went unanswered: then the row may exist, the blob stays,
      // and the sweeper removes it after the grace period only if no row points to it.
      if (!(error instanceof CommitOutcomeUnknown)) {
        await Promise.all(written.map((k) => this.blobs.delete(k).catch(() => undefined)));
      } else {
        this.logger.warn({
          msg: 'upload commit outcome unknown; blob left to the sweeper',
          chart: chart.name,
        });
      }
      if (isUniqueViolation(error, 'chart_version_chart_version_key')) throw this.versionExists(chart);
      throw error instanceof CommitOutcomeUnknown ? error.cause : error;
    }
  }

  private async assertVersionFree(publisherId: string, name: string, version: string): Promise<void> {
    const exists = await this.dataSource
      .getRepository(ChartVersionEntity)
      .createQueryBuilder('v')
      .innerJoin(ChartEntity, 'c', 'c.id = v.chart_id')
      .where('c.publisher_id = :publisherId AND c.name = :name AND v.version = :version', {
        publisherId,
        name,
        version,
      })
      .getExists();
    if (exists) throw this.versionExists({ name, version });
  }

  private versionExists(chart: { name: string; version: string }) {
    return CatalogErrors.ChartVersionExists(chart.name, chart.version);
  }

  private async insertVersion(
    m: EntityManager,
    publisherId: string,
    chart: InspectedChart,
    put: { sha256: string; size: number },
    blobKey: string,
    provBlobKey: string | null,
    provSize: number | null,
  ): Promise<void> {
    await m
      .createQueryBuilder()
      .insert()
      .into(ChartEntity)
      .values({ publisherId, name: chart.name })
      .orIgnore()
      .execute();
    const row = await m.findOneOrFail(ChartEntity, {
      where: { publisherId, name: chart.name },
      lock: { mode: 'pessimistic_write' },
    });
    const version = Object.assign(new ChartVersionEntity(), {
      chartId: row.id,
      version: chart.version,
      appVersion: chart.appVersion ?? null,
      digest: put.sha256,
      size: put.size,
      blobKey,
      provBlobKey,
      provSize,
      metadata: chart.metadata,
      readme: chart.readme ?? null,
      valuesSchema: chart.valuesSchema ?? null,
      valuesYaml: chart.values?.text ?? null,
      valuesTruncated: chart.values?.truncated ?? false,
      templateImages: chart.templateImages,
      yankedAt: null,
    });
    await m.save(ChartVersionEntity, version, { reload: false });
    // The chart's card (description, icon, ...) follows its newest version.
    const newest = await m
      .getRepository(ChartVersionEntity)
      .find({ where: { chartId: row.id }, select: { version: true } });
    const top = newest.map((v) => v.version).sort(semver.rcompare)[0];
    if (top === chart.version) {
      const md = chart.metadata as {
        description?: string;
        icon?: string;
        keywords?: string[];
        home?: string;
        sources?: string[];
      };
      await m.update(
        ChartEntity,
        { id: row.id },
        {
          description: md.description ?? null,
          icon: md.icon ?? null,
          keywords: md.keywords ?? [],
          home: md.home ?? null,
          sources: md.sources ?? [],
        },
      );
    } else {
      await m.update(ChartEntity, { id: row.id }, { updatedAt: new Date() });
    }
    await this.changes.announce(m, publisherId, chart.name);
    this.logger.log({
      msg: 'chart version stored',
      chart: chart.name,
      version: chart.version,
      size: put.size,
    });
  }
}
