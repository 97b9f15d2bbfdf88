import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { ChartEntity, ChartVersionEntity, ListingEntity } from './entities';
import { byVersionDesc } from './chart-query.service';

export interface CatalogItem {
  publisherId: string;
  name: string;
  description: string | null;
  icon: string | null;
  keywords: string[];
  home: string | null;
  price: { amount: number; currency: string };
  updatePolicy: { kind: string; months?: number };
  latestVersion: string | null;
  appVersion: string | null;
}

export interface CatalogDetail extends CatalogItem {
  versions: Array<{ version: string; appVersion: string | null; created: Date; digest: string }>;
  readme: string | null;
  valuesSchema: unknown;
}

export const CATALOG_PAGE_SIZE = 20;

/**
 * A URL a page may put in `<img src>` or `<a href>` (the icon, the home page): absolute http(s) only.
 * `Chart.yaml` is the publisher's text, so `javascript:`, `data:` and anything unparsable become null
 * rather than reaching a storefront.
 */
export function safeWebUrl(url: string | null): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return u.protocol === 'https:' || u.protocol === 'http:' ? url : null;
  } catch {
    return null;
  }
}

/** The storefront: published listings only, free and paid; drafts are never here. */
@Injectable()
export class CatalogBrowseService {
  constructor(private readonly dataSource: DataSource) {}

  async search(filter: {
    q?: string;
    publisherId?: string;
    page: number;
  }): Promise<{ items: CatalogItem[]; total: number }> {
    const qb = this.dataSource
      .getRepository(ChartEntity)
      .createQueryBuilder('c')
      .innerJoin(ListingEntity, 'l', 'l.chart_id = c.id AND l.published = true');
    if (filter.publisherId) qb.andWhere('c.publisher_id = :pid', { pid: filter.publisherId });
    if (filter.q) {
      const like = `%${filter.q.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
      qb.andWhere(
        "(c.name ILIKE :like OR c.description ILIKE :like OR array_to_string(c.keywords, ' ') ILIKE :like)",
        { like },
      );
    }
    const total = await qb.getCount();
    const charts = await qb
      .orderBy('c.name', 'ASC')
      .addOrderBy('c.id', 'ASC')
      .offset((filter.page - 1) * CATALOG_PAGE_SIZE)
      .limit(CATALOG_PAGE_SIZE)
      .getMany();
    const items = await Promise.all(charts.map((c) => this.item(c)));
    return { items: items.filter((i): i is CatalogItem => i !== null), total };
  }

  async detail(publisherId: string, name: string): Promise<CatalogDetail | null> {
    const chart = await this.dataSource.getRepository(ChartEntity).findOne({ where: { publisherId, name } });
    if (!chart) return null;
    const item = await this.item(chart);
    if (!item) return null;
    const versions = (await this.live(chart.id)).sort(byVersionDesc);
    return {
      ...item,
      versions: versions.map((v) => ({
        version: v.version,
        appVersion: v.appVersion,
        created: v.createdAt,
        digest: v.digest.trim(),
      })),
      readme: versions[0]?.readme ?? null,
      valuesSchema: versions[0]?.valuesSchema ?? null,
    };
  }

  private live(chartId: string) {
    return this.dataSource
      .getRepository(ChartVersionEntity)
      .find({ where: { chartId } })
      .then((vs) => vs.filter((v) => !v.yankedAt));
  }

  private async item(c: ChartEntity): Promise<CatalogItem | null> {
    const l = await this.dataSource.getRepository(ListingEntity).findOne({ where: { chartId: c.id } });
    if (!l?.published) return null;
    const newest = (await this.live(c.id)).sort(byVersionDesc)[0];
    return {
      publisherId: c.publisherId,
      name: c.name,
      description: c.description,
      icon: safeWebUrl(c.icon),
      keywords: c.keywords,
      home: safeWebUrl(c.home),
      price: { amount: l.priceAmount, currency: l.currency },
      updatePolicy:
        l.updateWindowMonths !== null
          ? { kind: l.updatePolicy, months: l.updateWindowMonths }
          : { kind: l.updatePolicy },
      latestVersion: newest?.version ?? null,
      appVersion: newest?.appVersion ?? null,
    };
  }
}
