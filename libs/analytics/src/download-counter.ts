import { createHmac } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DataSource } from 'typeorm';

/** How often counts go to the database: a crash loses at most this much counting. */
export const DOWNLOAD_FLUSH_MS = 10_000;
/** Distinct counters (and clients) held between flushes; past it a flush starts at once. */
const MAX_PENDING_KEYS = 20_000;
const DAY_MS = 86_400_000;
/** The license id of an anonymous download in the clients table (its key needs one). */
export const NO_LICENSE = '00000000-0000-0000-0000-000000000000';
/** Expired client hashes are deleted once per this many flushes (about hourly). */
const PURGE_EVERY_FLUSHES = 360;

/** Who downloaded: the license (if any) and the client as the request shows it. */
export interface Downloader {
  licenseId?: string;
  address?: string;
  userAgent?: string;
}

export type IndexAudience = 'public' | 'publisher' | 'license';

interface Batch {
  pulls: Map<string, number>;
  clients: Set<string>;
  indexes: Map<string, number>;
  /** `<chart id> <day> <license> <version>` → image pulls. */
  images: Map<string, number>;
}

const emptyBatch = (): Batch => ({
  pulls: new Map(),
  clients: new Set(),
  indexes: new Map(),
  images: new Map(),
});

/**
 * Counts downloads off the request path: a pull adds one to a counter in memory (a map lookup, and a
 * keyed hash of the client), and every DOWNLOAD_FLUSH_MS the counters go to Postgres in a few statements
 * that add them to each day's rows (so every replica adds its own). Pulls per chart version, per license,
 * the distinct clients (a keyed hash of address and user agent: the address itself is never kept) and
 * index fetches, apart. Bounded; flushed once more on graceful shutdown; a crash loses at most one
 * interval. A failed flush keeps its counts for the next.
 */
@Injectable()
export class DownloadCounter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Downloads');
  private pending = emptyBatch();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;
  private flushes = 0;
  private clients = new Map<string, string>();
  private readonly clientKey: Buffer;
  private readonly retentionDays: number;
  private readonly counting: boolean;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // Every replica shares ACCESS_TOKEN_SECRET, so one client hashes the same everywhere.
    this.clientKey = createHmac('sha256', config.auth.accessTokenSecret)
      .update('berth-download-clients')
      .digest();
    this.retentionDays = config.analytics.retentionDays;
    this.counting = config.analytics.counting;
  }

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), DOWNLOAD_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** One download of `version` of the chart `chartId`, now, by `who`. */
  count(chartId: string, version: string, who: Downloader = {}): void {
    if (!this.counting) return;
    const day = Math.floor(Date.now() / DAY_MS);
    const license = who.licenseId ?? NO_LICENSE;
    const key = `${chartId} ${day} ${license} ${version}`;
    const p = this.pending;
    p.pulls.set(key, (p.pulls.get(key) ?? 0) + 1);
    if (who.address !== undefined) p.clients.add(`${day} ${chartId} ${license} ${this.clientOf(who)}`);
    if (p.pulls.size + p.clients.size >= MAX_PENDING_KEYS) void this.flush();
  }

  /**
   * The keyed hash of a client. A client pulls again and again: each is hashed once per flush interval
   * (the memo is dropped with every flush, so no address stays in memory longer than its counts).
   */
  private clientOf(who: Downloader): string {
    const raw = `${who.address}\n${who.userAgent ?? ''}`;
    let client = this.clients.get(raw);
    if (client === undefined) {
      client = createHmac('sha256', this.clientKey).update(raw).digest('base64url').slice(0, 22);
      if (this.clients.size >= MAX_PENDING_KEYS) this.clients.clear();
      this.clients.set(raw, client);
    }
    return client;
  }

  /**
   * One pull of a release's image by `who` (its license, if any), counted for the chart version whose
   * release names it. Its clients are not counted: a cluster's nodes are many clients of one install.
   */
  countImagePull(chartId: string, version: string, who: Pick<Downloader, 'licenseId'> = {}): void {
    if (!this.counting) return;
    const key = `${chartId} ${Math.floor(Date.now() / DAY_MS)} ${who.licenseId ?? NO_LICENSE} ${version}`;
    const p = this.pending;
    p.images.set(key, (p.images.get(key) ?? 0) + 1);
    if (p.images.size >= MAX_PENDING_KEYS) void this.flush();
  }

  /** One fetch of a publisher's index (answered 200 or 304) by `audience`, now. */
  countIndex(publisherId: string, audience: IndexAudience): void {
    if (!this.counting) return;
    const key = `${publisherId} ${Math.floor(Date.now() / DAY_MS)} ${audience}`;
    const p = this.pending;
    p.indexes.set(key, (p.indexes.get(key) ?? 0) + 1);
    if (p.indexes.size >= MAX_PENDING_KEYS) void this.flush();
  }

  /** Writes what was counted so far; concurrent calls share one write. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    const batch = this.pending;
    this.clients = new Map();
    if (!batch.pulls.size && !batch.clients.size && !batch.indexes.size && !batch.images.size)
      return Promise.resolve();
    this.pending = emptyBatch();
    this.flushing = this.write(batch)
      .catch((e: Error) => {
        // Keep the counts: the next flush adds them.
        for (const [k, n] of batch.pulls) this.pending.pulls.set(k, (this.pending.pulls.get(k) ?? 0) + n);
        for (const [k, n] of batch.indexes)
          this.pending.indexes.set(k, (this.pending.indexes.get(k) ?? 0) + n);
        for (const [k, n] of batch.images) this.pending.images.set(k, (this.pending.images.get(k) ?? 0) + n);
        for (const c of batch.clients) this.pending.clients.add(c);
        this.logger.warn({
          msg: 'download counts not written; retrying with the next flush',
          err: e.message,
        });
      })
      .finally(() => {
        this.flushing = null;
      });
    return this.flushing;
  }

  private async write(batch: Batch): Promise<void> {
    const isoDay = (day: string) => new Date(Number(day) * DAY_MS).toISOString().slice(0, 10);
    await this.dataSource.transaction(async (m) => {
      if (batch.pulls.size) {
        const byChart = new Map<string, number>();
        const lic = {
          ids: [] as string[],
          charts: [] as string[],
          versions: [] as string[],
          days: [] as string[],
          pulls: [] as number[],
        };
        for (const [key, n] of batch.pulls) {
          const [chartId, day, license, ...rest] = key.split(' ');
          const version = rest.join(' ');
          const chartKey = `${chartId} ${day} ${version}`;
          byChart.set(chartKey, (byChart.get(chartKey) ?? 0) + n);
          if (license === NO_LICENSE) continue;
          lic.ids.push(license);
          lic.charts.push(chartId);
          lic.versions.push(version);
          lic.days.push(isoDay(day));
          lic.pulls.push(n);
        }
        const charts: string[] = [];
        const days: string[] = [];
        const versions: string[] = [];
        const pulls: number[] = [];
        for (const [key, n] of byChart) {
          const [chartId, day, ...rest] = key.split(' ');
          charts.push(chartId);
          days.push(isoDay(day));
          versions.push(rest.join(' '));
          pulls.push(n);
        }
        await m.query(
          `INSERT INTO chart_download_daily (chart_id, version, day, pulls)
           SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::date[], $4::bigint[])
           ON CONFLICT (chart_id, version, day) DO UPDATE SET pulls = chart_download_daily.pulls + EXCLUDED.pulls`,
          [charts, versions, days, pulls],
        );
        if (lic.ids.length)
          await m.query(
            `INSERT INTO license_download_daily (license_id, chart_id, version, day, pulls)
             SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::varchar[], $4::date[], $5::bigint[])
             ON CONFLICT (license_id, version, day)
             DO UPDATE SET pulls = license_download_daily.pulls + EXCLUDED.pulls`,
            [lic.ids, lic.charts, lic.versions, lic.days, lic.pulls],
          );
        if (lic.ids.length)
          await m.query(
            `INSERT INTO license_download_total (license_id, pulls, first_day, last_day)
             SELECT license_id, sum(pulls), min(day), max(day)
               FROM unnest($1::uuid[], $2::date[], $3::bigint[]) AS t(license_id, day, pulls) GROUP BY license_id
             ON CONFLICT (license_id) DO UPDATE SET pulls = license_download_total.pulls + EXCLUDED.pulls,
               first_day = LEAST(license_download_total.first_day, EXCLUDED.first_day),
               last_day = GREATEST(license_download_total.last_day, EXCLUDED.last_day)`,
            [lic.ids, lic.days, lic.pulls],
          );
      }
      if (batch.images.size) {
        const img = {
          charts: [] as string[],
          versions: [] as string[],
          days: [] as string[],
          licenses: [] as string[],
          pulls: [] as number[],
        };
        for (const [key, n] of batch.images) {
          const [chartId, day, license, ...rest] = key.split(' ');
          img.charts.push(chartId);
          img.versions.push(rest.join(' '));
          img.days.push(isoDay(day));
          img.licenses.push(license);
          img.pulls.push(n);
        }
        await m.query(
          `INSERT INTO image_pull_daily (chart_id, version, day, license_id, pulls)
           SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::date[], $4::uuid[], $5::bigint[])
           ON CONFLICT (chart_id, version, day, license_id)
           DO UPDATE SET pulls = image_pull_daily.pulls + EXCLUDED.pulls`,
          [img.charts, img.versions, img.days, img.licenses, img.pulls],
        );
      }
      if (batch.clients.size) {
        const cols = {
          days: [] as string[],
          charts: [] as string[],
          licenses: [] as string[],
          clients: [] as string[],
        };
        for (const key of batch.clients) {
          const [day, chartId, license, client] = key.split(' ');
          cols.days.push(isoDay(day));
          cols.charts.push(chartId);
          cols.licenses.push(license);
          cols.clients.push(client);
        }
        await m.query(
          `INSERT INTO download_client_daily (day, chart_id, license_id, client)
           SELECT * FROM unnest($1::date[], $2::uuid[], $3::uuid[], $4::char(22)[]) ON CONFLICT DO NOTHING`,
          [cols.days, cols.charts, cols.licenses, cols.clients],
        );
      }
      if (batch.indexes.size) {
        const cols = {
          publishers: [] as string[],
          days: [] as string[],
          audiences: [] as string[],
          fetches: [] as number[],
        };
        for (const [key, n] of batch.indexes) {
          const [publisherId, day, audience] = key.split(' ');
          cols.publishers.push(publisherId);
          cols.days.push(isoDay(day));
          cols.audiences.push(audience);
          cols.fetches.push(n);
        }
        await m.query(
          `INSERT INTO index_fetch_daily (publisher_id, day, audience, fetches)
           SELECT * FROM unnest($1::uuid[], $2::date[], $3::varchar[], $4::bigint[])
           ON CONFLICT (publisher_id, day, audience)
           DO UPDATE SET fetches = index_fetch_daily.fetches + EXCLUDED.fetches`,
          [cols.publishers, cols.days, cols.audiences, cols.fetches],
        );
      }
    });
    // After the counts are committed, and apart: a failed purge must not put them back for a second write.
    if (++this.flushes % PURGE_EVERY_FLUSHES === 1)
      await this.purge().catch((e: Error) =>
        this.logger.warn({ msg: 'expired download clients not purged', err: e.message }),
      );
  }

  /** Drops client hashes older than the retention window. */
  async purge(): Promise<void> {
    await this.dataSource.query(`DELETE FROM download_client_daily WHERE day < current_date - $1::int`, [
      this.retentionDays,
    ]);
  }
}
