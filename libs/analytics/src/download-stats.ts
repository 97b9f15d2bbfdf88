import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** What a license's holder downloaded, for the publisher's license list. */
export interface LicenseDownloads {
  pulls: number;
  firstPullOn: string | null;
  lastPullOn: string | null;
  /** Distinct clients (address and user agent) over the last 30 days. */
  distinctClients30d: number;
  /** Distinct clients over the current and the previous UTC day. */
  distinctClientsLastDay: number;
}

export interface DownloadSeriesRow {
  day: string;
  chartId: string;
  version: string;
  pulls: number;
}

export interface IndexFetchRow {
  day: string;
  audience: string;
  fetches: number;
}

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

  /** Per license: its pulls, first and last day, and distinct clients (30 days; the last day). */
  async forLicenses(licenseIds: string[]): Promise<Map<string, LicenseDownloads>> {
    if (!licenseIds.length) return new Map();
    const [pulls, clients] = await Promise.all([
      this.dataSource.query(
        `SELECT license_id, pulls, to_char(first_day, 'YYYY-MM-DD') AS first, to_char(last_day, 'YYYY-MM-DD') AS last
           FROM license_download_total WHERE license_id = ANY($1::uuid[])`,
        [licenseIds],
      ) as Promise<Array<{ license_id: string; pulls: string; first: string; last: string }>>,
      this.dataSource.query(
        `SELECT license_id, count(DISTINCT client)::int AS month,
                count(DISTINCT client) FILTER (WHERE day >= current_date - 1)::int AS last_day
           FROM download_client_daily WHERE license_id = ANY($1::uuid[]) AND day > current_date - 30
          GROUP BY license_id`,
        [licenseIds],
      ) as Promise<Array<{ license_id: string; month: number; last_day: number }>>,
    ]);
    const seen = new Map(clients.map((c) => [c.license_id, c]));
    const out = new Map<string, LicenseDownloads>();
    for (const id of licenseIds) {
      const p = pulls.find((r) => r.license_id === id);
      const c = seen.get(id);
      out.set(id, {
        pulls: Number(p?.pulls ?? 0),
        firstPullOn: p?.first ?? null,
        lastPullOn: p?.last ?? null,
        distinctClients30d: c?.month ?? 0,
        distinctClientsLastDay: c?.last_day ?? 0,
      });
    }
    return out;
  }

  /** Pulls per day, chart and version of these charts, `from` to `to` (dates, inclusive). */
  async series(chartIds: string[], from: string, to: string): Promise<DownloadSeriesRow[]> {
    if (!chartIds.length) return [];
    const rows = (await this.dataSource.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, chart_id, version, pulls FROM chart_download_daily
        WHERE chart_id = ANY($1::uuid[]) AND day BETWEEN $2::date AND $3::date ORDER BY day, chart_id, version`,
      [chartIds, from, to],
    )) as Array<{ day: string; chart_id: string; version: string; pulls: string }>;
    return rows.map((r) => ({ day: r.day, chartId: r.chart_id, version: r.version, pulls: Number(r.pulls) }));
  }

  /** Pulls of one license per day and version, `from` to `to` (dates, inclusive). */
  async licenseSeries(licenseId: string, from: string, to: string): Promise<DownloadSeriesRow[]> {
    const rows = (await this.dataSource.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, chart_id, version, pulls FROM license_download_daily
        WHERE license_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day, version`,
      [licenseId, from, to],
    )) as Array<{ day: string; chart_id: string; version: string; pulls: string }>;
    return rows.map((r) => ({ day: r.day, chartId: r.chart_id, version: r.version, pulls: Number(r.pulls) }));
  }

  /**
   * Image pulls per day, chart and version `from` to `to` (dates, inclusive): of these charts, or of one
   * license.
   */
  async imageSeries(
    of: { chartIds: string[] } | { licenseId: string },
    from: string,
    to: string,
  ): Promise<DownloadSeriesRow[]> {
    if ('chartIds' in of && !of.chartIds.length) return [];
    const [filter, value] =
      'chartIds' in of
        ? ['chart_id = ANY($1::uuid[])', of.chartIds]
        : ['license_id = $1::uuid', of.licenseId];
    const rows = (await this.dataSource.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, chart_id, version, sum(pulls)::bigint AS pulls
         FROM image_pull_daily WHERE ${filter} AND day BETWEEN $2::date AND $3::date
        GROUP BY day, chart_id, version ORDER BY day, chart_id, version`,
      [value, from, to],
    )) as Array<{ day: string; chart_id: string; version: string; pulls: string }>;
    return rows.map((r) => ({ day: r.day, chartId: r.chart_id, version: r.version, pulls: Number(r.pulls) }));
  }

  /** Index fetches of a publisher per day and audience, `from` to `to` (dates, inclusive). */
  async indexFetches(publisherId: string, from: string, to: string): Promise<IndexFetchRow[]> {
    const rows = (await this.dataSource.query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, audience, fetches FROM index_fetch_daily
        WHERE publisher_id = $1 AND day BETWEEN $2::date AND $3::date ORDER BY day, audience`,
      [publisherId, from, to],
    )) as Array<{ day: string; audience: string; fetches: string }>;
    return rows.map((r) => ({ day: r.day, audience: r.audience, fetches: Number(r.fetches) }));
  }
}
