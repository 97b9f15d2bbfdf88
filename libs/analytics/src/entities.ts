import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

/**
 * `.tgz` downloads of one chart version on one UTC day: answers with the archive's bytes (GET 200), from
 * the full path or the in-memory pull lane. Written in batches by DownloadCounter, never per request.
 */
@Entity('chart_download_daily')
@Index('chart_download_daily_day_idx', ['day'])
export class ChartDownloadDailyEntity {
  @PrimaryColumn({ name: 'chart_id', type: 'uuid' })
  chartId!: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  version!: string;

  @PrimaryColumn({ type: 'date' })
  day!: string;

  @Column({ type: 'bigint', default: 0 })
  pulls!: string;
}

/** Licensed `.tgz` downloads: one license, one version, one UTC day. */
@Entity('license_download_daily')
export class LicenseDownloadDailyEntity {
  @PrimaryColumn({ name: 'license_id', type: 'uuid' })
  licenseId!: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  version!: string;

  @PrimaryColumn({ type: 'date' })
  day!: string;

  @Column({ name: 'chart_id', type: 'uuid' })
  chartId!: string;

  @Column({ type: 'bigint', default: 0 })
  pulls!: string;
}

/**
 * A license's downloads all told, kept beside the daily rows by the same flush: the license list shows
 * every license's total and first and last day, which summing a year of daily rows per license made slow.
 */
@Entity('license_download_total')
export class LicenseDownloadTotalEntity {
  @PrimaryColumn({ name: 'license_id', type: 'uuid' })
  licenseId!: string;

  @Column({ type: 'bigint', default: 0 })
  pulls!: string;

  @Column({ name: 'first_day', type: 'date' })
  firstDay!: string;

  @Column({ name: 'last_day', type: 'date' })
  lastDay!: string;
}

/**
 * The distinct clients that downloaded a chart (under a license, or anonymously: the zero id) on a day,
 * each as a keyed hash of its address and user agent (never the address itself). Kept
 * ANALYTICS_RETENTION_DAYS, then deleted.
 */
@Entity('download_client_daily')
@Index('download_client_daily_license_idx', ['licenseId', 'day'])
export class DownloadClientDailyEntity {
  @PrimaryColumn({ type: 'date' })
  day!: string;

  @PrimaryColumn({ name: 'chart_id', type: 'uuid' })
  chartId!: string;

  @PrimaryColumn({ name: 'license_id', type: 'uuid' })
  licenseId!: string;

  @PrimaryColumn({ type: 'char', length: 22 })
  client!: string;
}

/** Repository index fetches (answered 200 or 304) per publisher, audience and day: counted apart from pulls. */
@Entity('index_fetch_daily')
export class IndexFetchDailyEntity {
  @PrimaryColumn({ name: 'publisher_id', type: 'uuid' })
  publisherId!: string;

  @PrimaryColumn({ type: 'date' })
  day!: string;

  /** `public`, `publisher` or `license`. */
  @PrimaryColumn({ type: 'varchar', length: 16 })
  audience!: string;

  @Column({ type: 'bigint', default: 0 })
  fetches!: string;
}

/**
 * Pulls of a release's container image (a manifest GET of the digest a chart version's release resolved
 * its image to; the platform manifests of an index are not counted again), per chart version, license
 * (the nil id for anonymous pulls of a free chart's images) and UTC day. Kept apart from `.tgz` downloads:
 * every node of a cluster pulls the images, so they count installs' nodes, not installs.
 */
@Entity('image_pull_daily')
@Index('image_pull_daily_day_idx', ['day'])
export class ImagePullDailyEntity {
  @PrimaryColumn({ name: 'chart_id', type: 'uuid' })
  chartId!: string;

  @PrimaryColumn({ type: 'varchar', length: 255 })
  version!: string;

  @PrimaryColumn({ type: 'date' })
  day!: string;

  @PrimaryColumn({ name: 'license_id', type: 'uuid' })
  licenseId!: string;

  @Column({ type: 'bigint', default: 0 })
  pulls!: string;
}

export const ANALYTICS_ENTITIES = [
  ImagePullDailyEntity,
  LicenseDownloadTotalEntity,
  ChartDownloadDailyEntity,
  LicenseDownloadDailyEntity,
  DownloadClientDailyEntity,
  IndexFetchDailyEntity,
];
