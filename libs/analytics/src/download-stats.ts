import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

export interface ChartDownloads {
  total: number;
  /** Downloads of each version, all time. */
  byVersion: Map<string, number>;
}

/** What the pages show of the counted downloads. */
@Injectable()
export class DownloadStats {
  constructor(private readonly dataSource: DataSource) {}

  async forChart(chartId: string): Promise<ChartDownloads> {
    const rows = (await this.dataSource.query(
      `SELECT version, sum(pulls)::bigint AS pulls FROM chart_download_daily WHERE chart_id = $1 GROUP BY version`,
      [chartId],
    )) as Array<{ version: string; pulls: string }>;
    const byVersion = new Map(rows.map((r) => [r.version, Number(r.pulls)]));
    return { total: [...byVersion.values()].reduce((a, b) => a + b, 0), byVersion };
  }

  /** Downloads per chart over the last `days` days, for the charts given (absent: none counted). */
  async recentByChart(chartIds: string[], days = 30): Promise<Map<string, number>> {
    if (!chartIds.length) return new Map();
    const rows = (await this.dataSource.query(
      `SELECT chart_id, sum(pulls)::bigint AS pulls FROM chart_download_daily
       WHERE chart_id = ANY($1::uuid[]) AND day > current_date - $2::int GROUP BY chart_id`,
      [chartIds, days],
    )) as Array<{ chart_id: string; pulls: string }>;
    return new Map(rows.map((r) => [r.chart_id, Number(r.pulls)]));
  }

  /** The charts downloaded most in the last `days` days, most first (ties by id): ids and counts. */
  async mostDownloaded(limit: number, days = 30): Promise<Array<{ chartId: string; pulls: number }>> {
    const rows = (await this.dataSource.query(
      `SELECT chart_id, sum(pulls)::bigint AS pulls FROM chart_download_daily
       WHERE day > current_date - $1::int GROUP BY chart_id ORDER BY pulls DESC, chart_id LIMIT $2`,
      [days, limit],
    )) as Array<{ chart_id: string; pulls: string }>;
    return rows.map((r) => ({ chartId: r.chart_id, pulls: Number(r.pulls) }));
  }
}
