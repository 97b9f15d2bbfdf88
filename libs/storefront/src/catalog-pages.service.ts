import { Injectable } from '@nestjs/common';
import { PayoutAccounts } from '@berth/payouts';
import { parse as parseYaml } from 'yaml';
import {
  PublisherAccessService,
  PublisherLogo,
  PublisherProfileService,
  PublisherRef,
} from '@berth/accounts';
import { ChartDownloads, DownloadStats } from '@berth/analytics';
import {
  CATALOG_PAGE_SIZE,
  CatalogBrowseService,
  CatalogDetail,
  CatalogItem,
  MAX_CATALOG_PAGE,
  PriceFilter,
  searchTerms,
} from '@berth/catalog';
import { changelog, ChangeEntry, diffValues, DiffLine, schemaRows, SchemaRow } from './documents';
import { renderUntrustedMarkdown } from './markdown';
import { Coverage, coverageToday } from './policy';

export interface ChartCard extends CatalogItem {
  publisher: PublisherRef;
  /** Downloads in the last 30 days, where the page shows them. */
  downloads?: number;
}

export interface SearchPageModel {
  q: string;
  publisher: PublisherRef | null;
  price: PriceFilter | null;
  page: number;
  pages: number;
  total: number;
  items: ChartCard[];
}

export interface HomePageModel {
  newest: ChartCard[];
  /** Most downloaded in the last 30 days. */
  mostDownloaded: ChartCard[];
  publishers: Array<{ publisher: PublisherRef; charts: number }>;
}

export interface PublisherPageModel {
  publisher: PublisherRef;
  logo: PublisherLogo | null;
  charts: ChartCard[];
}

export interface ChartPageModel {
  chart: CatalogDetail;
  publisher: PublisherRef;
  /** The version shown: the newest, or the one in the URL. */
  version: CatalogDetail['versions'][number];
  latest: boolean;
  coverage: Coverage;
  readmeHtml: string | null;
  values: string | null;
  valuesTruncated: boolean;
  /** The version the values are compared with, when asked, and the diff (null: too large to compare). */
  compare: { version: string; lines: DiffLine[] | null } | null;
  schema: { rows: SchemaRow[]; truncated: boolean } | null;
  changes: Map<string, ChangeEntry[]>;
  downloads: ChartDownloads;
  /** False for a paid chart whose publisher cannot be paid out yet (PAYOUTS=connect): "not on sale yet". */
  onSale: boolean;
}

const HOME_NEWEST = 12;
const HOME_PUBLISHERS = 24;
const parseChanges = (yaml: string) => parseYaml(yaml, { maxAliasCount: 16, prettyErrors: false }) as unknown;

/** The read models of the public pages: what each page shows, from the catalog and the publishers. */
@Injectable()
export class CatalogPages {
  constructor(
    private readonly catalog: CatalogBrowseService,
    private readonly publishers: PublisherAccessService,
    private readonly downloadStats: DownloadStats,
    private readonly profiles: PublisherProfileService,
    private readonly payouts: PayoutAccounts,
  ) {}

  async home(): Promise<HomePageModel> {
    const [newest, sellers, top] = await Promise.all([
      this.catalog.newest(HOME_NEWEST),
      this.catalog.publishersWithCharts(HOME_PUBLISHERS),
      // More than shown: some may since have been unpublished.
      this.downloadStats.mostDownloaded(HOME_NEWEST * 2),
    ]);
    const popular = (await this.catalog.cardsFor(top.map((t) => t.chartId))).slice(0, HOME_NEWEST);
    const pulls = new Map(top.map((t) => [t.chartId, t.pulls]));
    const refs = await this.publishers.findByIds([
      ...newest.map((c) => c.publisherId),
      ...sellers.map((s) => s.publisherId),
      ...popular.map((c) => c.publisherId),
    ]);
    return {
      newest: this.withPublishers(newest, refs),
      mostDownloaded: this.withPublishers(popular, refs).map((c) => ({
        ...c,
        downloads: pulls.get(c.chartId),
      })),
      publishers: sellers
        .filter((s) => refs.has(s.publisherId))
        .map((s) => ({ publisher: refs.get(s.publisherId)!, charts: s.charts })),
    };
  }

  async search(input: {
    q?: string;
    publisher?: string;
    price?: PriceFilter;
    page?: number;
  }): Promise<SearchPageModel> {
    const q = (input.q ?? '').trim();
    const page = Math.min(Math.max(1, input.page ?? 1), MAX_CATALOG_PAGE);
    const publisher = input.publisher ? await this.publishers.findBySlug(input.publisher) : null;
    const base = { q, publisher, price: input.price ?? null, page };
    if (input.publisher && !publisher) return { ...base, pages: 0, total: 0, items: [] };
    const terms = searchTerms(q);
    const { items, total } = await this.catalog.search({
      q,
      publisherIds: publisher ? [publisher.id] : undefined,
      matchingPublisherIds: publisher ? undefined : await this.publishers.matchingName(terms),
      price: input.price,
      page,
    });
    const refs = await this.publishers.findByIds(items.map((i) => i.publisherId));
    return {
      ...base,
      total,
      pages: Math.min(Math.ceil(total / CATALOG_PAGE_SIZE), MAX_CATALOG_PAGE),
      items: this.withPublishers(items, refs),
    };
  }

  async publisher(slug: string): Promise<PublisherPageModel | null> {
    const publisher = await this.publishers.findBySlug(slug);
    if (!publisher) return null;
    const [{ items }, profile] = await Promise.all([
      this.catalog.search({ publisherIds: [publisher.id], page: 1, pageSize: 200 }),
      this.profiles.get(publisher.id),
    ]);
    return { publisher, logo: profile?.logo ?? null, charts: items.map((i) => ({ ...i, publisher })) };
  }

  /** The chart page; null when the chart, or the version asked for, is not in the catalog. */
  async chart(
    slug: string,
    name: string,
    opts: { version?: string; compareWith?: string; now: Date; draft?: boolean },
  ): Promise<ChartPageModel | null> {
    const publisher = await this.publishers.findBySlug(slug);
    if (!publisher) return null;
    const chart = await this.catalog.detail(publisher.id, name, { documents: false, drafts: opts.draft });
    if (!chart || !chart.versions.length) return null;
    const version = opts.version ? chart.versions.find((v) => v.version === opts.version) : chart.versions[0];
    if (!version) return null;
    const [docs, downloads, payable] = await Promise.all([
      this.catalog.versionDocuments(chart.chartId, version.version),
      this.downloadStats.forChart(chart.chartId),
      chart.price.amount > 0 ? this.payouts.canSell(publisher.id) : true,
    ]);
    if (!docs) return null;
    let compare: ChartPageModel['compare'] = null;
    const other = opts.compareWith ? chart.versions.find((v) => v.version === opts.compareWith) : undefined;
    if (other && other.version !== version.version) {
      const theirs = await this.catalog.versionDocuments(chart.chartId, other.version);
      compare = { version: other.version, lines: diffValues(theirs?.values ?? '', docs.values ?? '') };
    }
    const changes = new Map<string, ChangeEntry[]>();
    for (const v of chart.versions) changes.set(v.version, changelog(v.changes, parseChanges));
    return {
      chart,
      publisher,
      version,
      latest: version.version === chart.versions[0].version,
      coverage: coverageToday(chart.updatePolicy, chart.versions, opts.now),
      readmeHtml: docs.readme ? renderUntrustedMarkdown(docs.readme) : null,
      values: docs.values,
      valuesTruncated: docs.valuesTruncated,
      compare,
      schema: docs.valuesSchema ? schemaRows(docs.valuesSchema) : null,
      changes,
      downloads,
      onSale: payable,
    };
  }

  private withPublishers(items: CatalogItem[], refs: Map<string, PublisherRef>): ChartCard[] {
    return items
      .filter((i) => refs.has(i.publisherId))
      .map((i) => ({ ...i, publisher: refs.get(i.publisherId)! }));
  }
}
