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

export const ANALYTICS_ENTITIES = [ChartDownloadDailyEntity];
