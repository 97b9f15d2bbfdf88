import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { byVersionDesc } from './chart-query.service';

export interface CatalogItem {
  chartId: string;
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
  /** When the newest live version was uploaded. */
  updatedAt: Date | null;
}

export interface CatalogVersion {
  version: string;
  appVersion: string | null;
  created: Date;
  digest: string;
  size: number;
  signed: boolean;
  /** `artifacthub.io/changes` of this version's Chart.yaml, as published (a YAML string or a list). */
  changes: unknown;
}

export interface CatalogDetail extends CatalogItem {
  sources: string[];
  /** Live versions, newest first. */
  versions: CatalogVersion[];
  readme: string | null;
  valuesSchema: unknown;
}

/** What a chart page shows of one version: taken from its archive at upload. */
export interface VersionDocuments {
  readme: string | null;
  values: string | null;
  valuesTruncated: boolean;
  valuesSchema: unknown;
}

export type PriceFilter = 'free' | 'paid';

export interface CatalogSearch {
  q?: string;
  /** Only these publishers' charts. */
  publisherIds?: string[];
  /** Publishers whose own name matched the query: their charts match too, ranked a little lower. */
  matchingPublisherIds?: string[];
  price?: PriceFilter;
  page: number;
  pageSize?: number;
}

export const CATALOG_PAGE_SIZE = 20;
/** Deepest page served: offsets beyond it cost the database more than any reader needs. */
export const MAX_CATALOG_PAGE = 500;
/** Query words used; the rest of a long query is ignored rather than refused. */
const MAX_QUERY_TERMS = 8;
const MAX_TERM_LENGTH = 63;

/**
 * The search document of a chart: exactly the expression of the `chart_search_document` GIN index
 * (migration ChartSearch), so that the planner can use it.
 */
const DOCUMENT =
  `(setweight(to_tsvector('simple'::regconfig, c."name"), 'A') || ` +
  `setweight(to_tsvector('simple'::regconfig, berth_words(c."keywords")), 'B') || ` +
  `setweight(to_tsvector('simple'::regconfig, coalesce(c."description", '')), 'C'))`;

/**
 * The words of a query, lower-cased, letters and digits only: whatever a visitor types (`%`, quotes,
 * backslashes, tsquery operators, emoji) can only narrow or widen the match, never reach the SQL or the
 * tsquery syntax.
 */
export function searchTerms(q: string | undefined): string[] {
  if (!q) return [];
  const words =
    q
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  return [...new Set(words.map((w) => w.slice(0, MAX_TERM_LENGTH)))].slice(0, MAX_QUERY_TERMS);
}

/** Every word, each as a prefix, so that "prom" finds "prometheus" while the visitor types. */
export function prefixQuery(terms: string[]): string {
  return terms.map((t) => `${t}:*`).join(' & ');
}

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

/** An icon: https only, since the pages' CSP loads images from the store and over https alone. */
export function safeIconUrl(url: string | null): string | null {
  const web = safeWebUrl(url);
  return web?.startsWith('https:') ? web : null;
}

interface CardRow {
  id: string;
  publisher_id: string;
  name: string;
  description: string | null;
  icon: string | null;
  keywords: string[];
  home: string | null;
  sources: string[];
  price_amount: number;
  currency: string;
  update_policy: string;
  update_window_months: number | null;
}

const CARD_COLUMNS = `c."id", c."publisher_id", c."name", c."description", c."icon", c."keywords", c."home",
  c."sources", l."price_amount", l."currency", l."update_policy", l."update_window_months"`;
/** Published listings with at least one version a buyer could install. */
const LISTED = `FROM "chart" c JOIN "listing" l ON l."chart_id" = c."id" AND l."published"
  WHERE EXISTS (SELECT 1 FROM "chart_version" lv WHERE lv."chart_id" = c."id" AND lv."yanked_at" IS NULL)`;

const DRAFT_OR_LISTED = `FROM "chart" c JOIN "listing" l ON l."chart_id" = c."id"
  WHERE EXISTS (SELECT 1 FROM "chart_version" lv WHERE lv."chart_id" = c."id" AND lv."yanked_at" IS NULL)`;

/**
 * The storefront's read model: published listings only, free and paid; drafts are never here. Reads
 * select their columns: a version row also holds its README and values (up to a MiB each).
 */
@Injectable()
export class CatalogBrowseService {
  constructor(private readonly dataSource: DataSource) {}

  /** Ranked full-text search (name, then keywords, then description), stable across pages. */
  async search(filter: CatalogSearch): Promise<{ items: CatalogItem[]; total: number }> {
    const pageSize = filter.pageSize ?? CATALOG_PAGE_SIZE;
    const page = Math.min(Math.max(1, filter.page), MAX_CATALOG_PAGE);
    const terms = searchTerms(filter.q);
    const params: unknown[] = [];
    const param = (v: unknown) => `$${params.push(v)}`;
    const where: string[] = [];
    let query = '';
    let others = '';
    if (terms.length) {
      query = param(prefixQuery(terms));
      others = param(filter.matchingPublisherIds ?? []);
      where.push(
        `(${DOCUMENT} @@ to_tsquery('simple', ${query}) OR c."publisher_id" = ANY(${others}::uuid[]))`,
      );
    }
    if (filter.publisherIds) where.push(`c."publisher_id" = ANY(${param(filter.publisherIds)}::uuid[])`);
    if (filter.price === 'free') where.push(`l."price_amount" = 0`);
    if (filter.price === 'paid') where.push(`l."price_amount" > 0`);
    const conditions = where.map((w) => ` AND ${w}`).join('');
    // Postgres cannot type a parameter a statement does not use: the count takes only the filter's.
    const [{ total }] = (await this.dataSource.query(`SELECT count(*)::int AS total ${LISTED}${conditions}`, [
      ...params,
    ])) as Array<{ total: number }>;
    if (!total) return { items: [], total };
    let rank = '0';
    if (terms.length) {
      // The chart named exactly so first; then names that start with the first word, the shorter the
      // closer to what was typed (one step per character; names have at most 63); then the text rank,
      // normalised into [0, 1) (flag 32) so that it only orders charts within a step.
      const exact = param(terms.join('-'));
      const prefix = param(`${terms[0].replace(/[\\%_]/g, '\\$&')}%`);
      rank =
        `CASE WHEN lower(c."name") = ${exact}::text THEN 1000 ELSE 0 END + ` +
        `CASE WHEN lower(c."name") LIKE ${prefix}::text THEN 128 - length(c."name") ELSE 0 END + ` +
        `ts_rank_cd(${DOCUMENT}, to_tsquery('simple', ${query}), 32) + ` +
        `CASE WHEN c."publisher_id" = ANY(${others}::uuid[]) THEN 0.05 ELSE 0 END`;
    }
    const rows = (await this.dataSource.query(
      `SELECT ${CARD_COLUMNS}, ${rank} AS rank ${LISTED}${conditions}
        ORDER BY rank DESC, c."name" ASC, c."id" ASC LIMIT ${param(pageSize)} OFFSET ${param((page - 1) * pageSize)}`,
      params,
    )) as CardRow[];
    return { items: await this.cards(rows), total };
  }

  /** The most recently updated charts: the ones with the newest live version first. */
  async newest(limit: number): Promise<CatalogItem[]> {
    const rows = (await this.dataSource.query(
      `SELECT ${CARD_COLUMNS} ${LISTED}
        ORDER BY (SELECT max(v."created_at") FROM "chart_version" v WHERE v."chart_id" = c."id" AND v."yanked_at" IS NULL) DESC,
                 c."id" ASC LIMIT $1`,
      [limit],
    )) as CardRow[];
    return this.cards(rows);
  }

  /** Publishers with published charts, and how many: the storefront's list of sellers. */
  async publishersWithCharts(limit: number): Promise<Array<{ publisherId: string; charts: number }>> {
    const rows = (await this.dataSource.query(
      `SELECT c."publisher_id", count(*)::int AS charts ${LISTED}
        GROUP BY c."publisher_id" ORDER BY charts DESC, c."publisher_id" ASC LIMIT $1`,
      [limit],
    )) as Array<{ publisher_id: string; charts: number }>;
    return rows.map((r) => ({ publisherId: r.publisher_id, charts: r.charts }));
  }

  /** Cards for these charts, in the order given (charts not published are left out). */
  async cardsFor(chartIds: string[]): Promise<CatalogItem[]> {
    if (!chartIds.length) return [];
    const rows = (await this.dataSource.query(
      `SELECT ${CARD_COLUMNS} ${LISTED} AND c."id" = ANY($1::uuid[])`,
      [chartIds],
    )) as CardRow[];
    const order = new Map(chartIds.map((id, i) => [id, i]));
    rows.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return this.cards(rows);
  }

  /** `documents: false` leaves out the newest version's README and schema (a page reads its own version's). */
  async detail(
    publisherId: string,
    name: string,
    opts: { documents: boolean; drafts?: boolean } = { documents: true },
  ): Promise<CatalogDetail | null> {
    // `drafts`: the publisher's own preview of a chart not (yet) published; never for the storefront.
    const from = opts.drafts ? DRAFT_OR_LISTED : LISTED;
    const rows = (await this.dataSource.query(
      `SELECT ${CARD_COLUMNS} ${from} AND c."publisher_id" = $1 AND c."name" = $2`,
      [publisherId, name],
    )) as CardRow[];
    if (!rows.length) return null;
    const versions = (
      (await this.dataSource.query(
        `SELECT "version", "app_version", "created_at", "digest", "size", "prov_blob_key" IS NOT NULL AS signed,
                "metadata"->'annotations'->'artifacthub.io/changes' AS changes
           FROM "chart_version" WHERE "chart_id" = $1 AND "yanked_at" IS NULL`,
        [rows[0].id],
      )) as Array<{
        version: string;
        app_version: string | null;
        created_at: Date;
        digest: string;
        size: number;
        signed: boolean;
        changes: unknown;
      }>
    )
      .map((v) => ({
        version: v.version,
        appVersion: v.app_version,
        created: v.created_at,
        digest: v.digest.trim(),
        size: v.size,
        signed: v.signed,
        changes: v.changes ?? null,
      }))
      .sort(byVersionDesc);
    const [card] = await this.cards(rows);
    const docs =
      versions.length && opts.documents ? await this.documents(rows[0].id, versions[0].version) : null;
    return {
      ...card,
      sources: rows[0].sources.map(safeWebUrl).filter((u): u is string => u !== null),
      versions,
      readme: docs?.readme ?? null,
      valuesSchema: docs?.valuesSchema ?? null,
    };
  }

  /** README, values and schema of one live version of a published chart; null when there is none. */
  async versionDocuments(chartId: string, version: string): Promise<VersionDocuments | null> {
    return this.documents(chartId, version);
  }

  private async documents(chartId: string, version: string): Promise<VersionDocuments | null> {
    const rows = (await this.dataSource.query(
      `SELECT "readme", "values_yaml", "values_truncated", "values_schema" FROM "chart_version"
        WHERE "chart_id" = $1 AND "version" = $2 AND "yanked_at" IS NULL`,
      [chartId, version],
    )) as Array<{
      readme: string | null;
      values_yaml: string | null;
      values_truncated: boolean;
      values_schema: unknown;
    }>;
    if (!rows.length) return null;
    const r = rows[0];
    return {
      readme: r.readme,
      values: r.values_yaml,
      valuesTruncated: r.values_truncated,
      valuesSchema: r.values_schema ?? null,
    };
  }

  private async cards(rows: CardRow[]): Promise<CatalogItem[]> {
    if (!rows.length) return [];
    const live = (await this.dataSource.query(
      `SELECT "chart_id", "version", "app_version", "created_at" FROM "chart_version"
        WHERE "chart_id" = ANY($1::uuid[]) AND "yanked_at" IS NULL`,
      [rows.map((r) => r.id)],
    )) as Array<{ chart_id: string; version: string; app_version: string | null; created_at: Date }>;
    const newest = new Map<string, (typeof live)[number]>();
    for (const v of live) {
      const seen = newest.get(v.chart_id);
      if (!seen || byVersionDesc(v, seen) < 0) newest.set(v.chart_id, v);
    }
    return rows.map((c) => {
      const top = newest.get(c.id);
      return {
        chartId: c.id,
        publisherId: c.publisher_id,
        name: c.name,
        description: c.description,
        icon: safeIconUrl(c.icon),
        keywords: c.keywords,
        home: safeWebUrl(c.home),
        price: { amount: c.price_amount, currency: c.currency },
        updatePolicy:
          c.update_window_months !== null
            ? { kind: c.update_policy, months: c.update_window_months }
            : { kind: c.update_policy },
        latestVersion: top?.version ?? null,
        appVersion: top?.app_version ?? null,
        updatedAt: top?.created_at ?? null,
      };
    });
  }
}
