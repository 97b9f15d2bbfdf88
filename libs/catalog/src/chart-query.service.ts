import { Injectable } from '@nestjs/common';
import semver from 'semver';
import { DataSource, EntityManager } from 'typeorm';
import { chartFileCandidates } from './chart-file-name';
import { ChartEntity, ChartVersionEntity, ListingEntity } from './entities';
import { CatalogErrors } from './errors';

/** Who looks: the public sees published free charts; the publisher itself sees all its charts. */
export type CatalogAudience = 'public' | 'publisher';

export interface StoredChartVersion {
  chartId: string;
  name: string;
  version: string;
  digest: string;
  size: number;
  createdAt: Date;
  yankedAt: Date | null;
  metadata: Record<string, unknown>;
  blobKey: string;
  provBlobKey: string | null;
  published: boolean;
  free: boolean;
}

interface Row {
  chart_id: string;
  name: string;
  version: string;
  digest: string;
  size: number;
  created_at: Date;
  yanked_at: Date | null;
  metadata: Record<string, unknown>;
  blob_key: string;
  prov_blob_key: string | null;
  published: boolean | null;
  price_amount: number | null;
}

const toStored = (r: Row): StoredChartVersion => ({
  chartId: r.chart_id,
  name: r.name,
  version: r.version,
  digest: r.digest.trim(),
  size: r.size,
  createdAt: r.created_at,
  yankedAt: r.yanked_at,
  metadata: r.metadata,
  blobKey: r.blob_key,
  provBlobKey: r.prov_blob_key,
  published: r.published === true,
  free: r.price_amount === 0,
});

/** What serving one chart file needs: everything of a stored version but its Chart.yaml metadata. */
export type ChartFileRef = Omit<StoredChartVersion, 'metadata'>;

/** Every (name, version) split of a file name in one round trip; the metadata JSON is not read. */
const CHART_FILE_SQL = `
  SELECT v.chart_id, c.name, v.version, v.digest, v.size, v.created_at, v.yanked_at, v.blob_key, v.prov_blob_key,
         l.published, l.price_amount
    FROM chart c
    JOIN chart_version v ON v.chart_id = c.id
    LEFT JOIN listing l ON l.chart_id = c.id
   WHERE c.publisher_id = $1 AND (c.name, v.version) IN (SELECT * FROM unnest($2::text[], $3::text[]))
   ORDER BY length(c.name)`;

/** A stored version as the OCI registry needs it: its id, files, Chart.yaml and values text. */
export interface RegistryChartVersion extends Omit<StoredChartVersion, 'published' | 'free'> {
  id: string;
  valuesYaml: string | null;
  templateImages: string[];
}

/** What deciding who may pull a version needs (see the registry's access rule). */
export interface VersionAccessRef {
  id: string;
  chartId: string;
  version: string;
  createdAt: Date;
  yankedAt: Date | null;
  published: boolean;
  free: boolean;
}

/** One chart as the repository index needs it: its live versions and what dates its last change. */
export interface ChartIndexState {
  name: string;
  chartId: string;
  /** Published and free: in the anonymous index. */
  public: boolean;
  /** Live versions, newest first. */
  versions: StoredChartVersion[];
  /** The newest upload or yank of any of its versions, yanked ones included. */
  versionChangedAt: Date | null;
  listingChangedAt: Date | null;
}

/** Newest first, as Helm sorts index entries. */
export const byVersionDesc = (a: { version: string }, b: { version: string }) =>
  semver.rcompare(a.version, b.version);

@Injectable()
export class ChartQueryService {
  constructor(private readonly dataSource: DataSource) {}

  private base(manager?: EntityManager) {
    return (manager ?? this.dataSource.manager)
      .getRepository(ChartVersionEntity)
      .createQueryBuilder('v')
      .innerJoin(ChartEntity, 'c', 'c.id = v.chart_id')
      .leftJoin(ListingEntity, 'l', 'l.chart_id = c.id')
      .select([
        'v.chart_id AS chart_id',
        'c.name AS name',
        'v.version AS version',
        'v.digest AS digest',
        'v.size AS size',
        'v.created_at AS created_at',
        'v.yanked_at AS yanked_at',
        'v.metadata AS metadata',
        'v.blob_key AS blob_key',
        'v.prov_blob_key AS prov_blob_key',
        'l.published AS published',
        'l.price_amount AS price_amount',
      ]);
  }

  /** Live (not yanked) versions the audience may see, grouped by chart name, newest version first. */
  async listVersions(
    publisherId: string,
    audience: CatalogAudience,
    chartName?: string,
    manager?: EntityManager,
  ): Promise<Map<string, StoredChartVersion[]>> {
    // `manager`: run inside the caller's transaction (the embedded database has one connection).
    const q = this.base(manager).where('c.publisher_id = :publisherId AND v.yanked_at IS NULL', {
      publisherId,
    });
    if (audience === 'public') q.andWhere('l.published = true AND l.price_amount = 0');
    if (chartName !== undefined) q.andWhere('c.name = :chartName', { chartName });
    const rows = (await q.orderBy('c.name', 'ASC').getRawMany<Row>()).map(toStored);
    const byChart = new Map<string, StoredChartVersion[]>();
    for (const r of rows) {
      const list = byChart.get(r.name) ?? [];
      list.push(r);
      byChart.set(r.name, list);
    }
    for (const list of byChart.values()) list.sort(byVersionDesc);
    return byChart;
  }

  /** Every chart name of the publisher, sorted. */
  async chartNames(publisherId: string): Promise<string[]> {
    const rows: Array<{ name: string }> = await this.dataSource.query(
      'SELECT name FROM chart WHERE publisher_id = $1 ORDER BY name',
      [publisherId],
    );
    return rows.map((r) => r.name);
  }

  /** The publisher's charts by id, with their names (drafts included): what analytics rows name. */
  async chartIdsByName(publisherId: string): Promise<Map<string, string>> {
    const rows: Array<{ id: string; name: string }> = await this.dataSource.query(
      'SELECT id, name FROM chart WHERE publisher_id = $1 ORDER BY name',
      [publisherId],
    );
    return new Map(rows.map((r) => [r.name, r.id]));
  }

  /** The index state of the named charts (absent names: no such chart). One query for the lot. */
  async chartIndexStates(publisherId: string, names: string[]): Promise<ChartIndexState[]> {
    if (!names.length) return [];
    const rows = await this.base()
      .addSelect('l.updated_at AS listing_updated_at')
      .where('c.publisher_id = :publisherId AND c.name = ANY(:names)', { publisherId, names })
      .getRawMany<Row & { listing_updated_at: Date | null }>();
    const byName = new Map<string, ChartIndexState>();
    for (const r of rows) {
      const v = toStored(r);
      let state = byName.get(v.name);
      if (!state) {
        state = {
          name: v.name,
          chartId: v.chartId,
          public: v.published && v.free,
          versions: [],
          versionChangedAt: null,
          listingChangedAt: r.listing_updated_at,
        };
        byName.set(v.name, state);
      }
      const changed = v.yankedAt && v.yankedAt > v.createdAt ? v.yankedAt : v.createdAt;
      if (!state.versionChangedAt || changed > state.versionChangedAt) state.versionChangedAt = changed;
      if (!v.yankedAt) state.versions.push(v);
    }
    for (const state of byName.values()) state.versions.sort(byVersionDesc);
    return [...byName.values()];
  }

  /** Every version of one chart (yanked ones too), oldest first, with what the registry writes manifests from. */
  async registryVersions(
    publisherId: string,
    chartName: string,
    ids?: string[],
  ): Promise<RegistryChartVersion[]> {
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT v.id, v.chart_id, c.name, v.version, v.digest, v.size, v.created_at, v.yanked_at, v.blob_key,
              v.prov_blob_key, v.metadata, v.values_yaml, v.template_images
         FROM chart c JOIN chart_version v ON v.chart_id = c.id
        WHERE c.publisher_id = $1 AND c.name = $2 AND ($3::uuid[] IS NULL OR v.id = ANY($3::uuid[]))
        ORDER BY v.created_at, v.id`,
      [publisherId, chartName, ids ?? null],
    );
    return rows.map((r) => ({
      id: r.id as string,
      chartId: r.chart_id as string,
      name: r.name as string,
      version: r.version as string,
      digest: (r.digest as string).trim(),
      size: Number(r.size),
      createdAt: r.created_at as Date,
      yankedAt: (r.yanked_at as Date | null) ?? null,
      blobKey: r.blob_key as string,
      provBlobKey: (r.prov_blob_key as string | null) ?? null,
      metadata: r.metadata as Record<string, unknown>,
      valuesYaml: (r.values_yaml as string | null) ?? null,
      templateImages: (r.template_images as string[] | null) ?? [],
    }));
  }

  /** The access facts of the given versions (unknown ids are left out). */
  async accessRefs(ids: string[]): Promise<VersionAccessRef[]> {
    if (!ids.length) return [];
    const rows: Array<Record<string, unknown>> = await this.dataSource.query(
      `SELECT v.id, v.chart_id, v.version, v.created_at, v.yanked_at, l.published, l.price_amount
         FROM chart_version v LEFT JOIN listing l ON l.chart_id = v.chart_id
        WHERE v.id = ANY($1::uuid[])`,
      [ids],
    );
    return rows.map((r) => ({
      id: r.id as string,
      chartId: r.chart_id as string,
      version: r.version as string,
      createdAt: r.created_at as Date,
      yankedAt: (r.yanked_at as Date | null) ?? null,
      published: r.published === true,
      free: r.price_amount === 0,
    }));
  }

  /** Resolves `<name>-<version>` of a download to the stored version, yanked or not. */
  /**
   * The version behind `<name>-<version>` for a download: one statement without the query builder or the
   * metadata JSON, since every `helm pull` and install comes through here. The shortest name wins where
   * a file name splits more than one way, as in findByFileName.
   */
  async findChartFile(publisherId: string, base: string): Promise<ChartFileRef | null> {
    const candidates = chartFileCandidates(base);
    if (!candidates.length) return null;
    const rows: Row[] = await this.dataSource.query(CHART_FILE_SQL, [
      publisherId,
      candidates.map((c) => c.name),
      candidates.map((c) => c.version),
    ]);
    if (!rows.length) return null;
    const { metadata: _metadata, ...ref } = toStored({ ...rows[0], metadata: {} });
    return ref;
  }

  async findByFileName(publisherId: string, base: string): Promise<StoredChartVersion | null> {
    for (const c of chartFileCandidates(base)) {
      const row = await this.base()
        .where('c.publisher_id = :publisherId AND c.name = :name AND v.version = :version', {
          publisherId,
          ...c,
        })
        .getRawOne<Row>();
      if (row) return toStored(row);
    }
    return null;
  }

  async findVersion(publisherId: string, name: string, version: string): Promise<StoredChartVersion> {
    const row = await this.base()
      .where(
        'c.publisher_id = :publisherId AND c.name = :name AND v.version = :version AND v.yanked_at IS NULL',
        {
          publisherId,
          name,
          version,
        },
      )
      .getRawOne<Row>();
    if (!row) throw CatalogErrors.ChartVersionNotFound(`No version ${version} of chart ${name}.`);
    return toStored(row);
  }
}
