import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { byVersionDesc } from './chart-query.service';

/** One chart as its publisher sees it: drafts, yanked versions and all. */
export interface PublisherChart {
  id: string;
  name: string;
  /** Versions not yanked. */
  liveVersions: number;
  latestVersion: string | null;
  listing: {
    priceAmount: number;
    currency: string;
    published: boolean;
    updatePolicy: string;
    updateWindowMonths: number | null;
  } | null;
}

export interface PublisherChartVersion {
  version: string;
  appVersion: string | null;
  size: number;
  digest: string;
  signed: boolean;
  createdAt: Date;
  yankedAt: Date | null;
}

/** The publisher's own view of its charts (the console's): nothing here is filtered for buyers. */
@Injectable()
export class PublisherCharts {
  constructor(private readonly dataSource: DataSource) {}

  async list(publisherId: string): Promise<PublisherChart[]> {
    const rows = (await this.dataSource.query(
      `SELECT c."id", c."name", l."price_amount", l."currency", l."published", l."update_policy",
              l."update_window_months",
              (SELECT count(*) FROM "chart_version" v WHERE v."chart_id" = c."id" AND v."yanked_at" IS NULL)::int AS live,
              (SELECT array_agg(v."version") FROM "chart_version" v WHERE v."chart_id" = c."id" AND v."yanked_at" IS NULL) AS versions
         FROM "chart" c LEFT JOIN "listing" l ON l."chart_id" = c."id"
        WHERE c."publisher_id" = $1 ORDER BY c."name"`,
      [publisherId],
    )) as Array<{
      id: string;
      name: string;
      price_amount: number | null;
      currency: string | null;
      published: boolean | null;
      update_policy: string | null;
      update_window_months: number | null;
      live: number;
      versions: string[] | null;
    }>;
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      liveVersions: r.live,
      latestVersion:
        (r.versions ?? []).map((version) => ({ version })).sort(byVersionDesc)[0]?.version ?? null,
      listing:
        r.price_amount === null
          ? null
          : {
              priceAmount: r.price_amount,
              currency: r.currency!,
              published: !!r.published,
              updatePolicy: r.update_policy!,
              updateWindowMonths: r.update_window_months,
            },
    }));
  }

  /** Every version of one chart, yanked ones included, newest first; null when there is no such chart. */
  async versions(
    publisherId: string,
    name: string,
  ): Promise<{ chartId: string; versions: PublisherChartVersion[] } | null> {
    const [chart] = (await this.dataSource.query(
      `SELECT "id" FROM "chart" WHERE "publisher_id" = $1 AND "name" = $2`,
      [publisherId, name],
    )) as Array<{ id: string }>;
    if (!chart) return null;
    const rows = (await this.dataSource.query(
      `SELECT "version", "app_version", "size", "digest", "prov_blob_key" IS NOT NULL AS signed,
              "created_at", "yanked_at"
         FROM "chart_version" WHERE "chart_id" = $1`,
      [chart.id],
    )) as Array<{
      version: string;
      app_version: string | null;
      size: number;
      digest: string;
      signed: boolean;
      created_at: Date;
      yanked_at: Date | null;
    }>;
    const versions = rows
      .map((r) => ({
        version: r.version,
        appVersion: r.app_version,
        size: Number(r.size),
        digest: r.digest.trim(),
        signed: r.signed,
        createdAt: r.created_at,
        yankedAt: r.yanked_at,
      }))
      .sort(byVersionDesc);
    return { chartId: chart.id, versions };
  }
}
