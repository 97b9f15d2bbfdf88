import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { DataSource } from 'typeorm';

/** How often counts go to the database: a crash loses at most this much counting. */
export const DOWNLOAD_FLUSH_MS = 10_000;
/** Distinct (version, day) counters held between flushes; past it a flush starts at once. */
const MAX_PENDING_KEYS = 20_000;
const DAY_MS = 86_400_000;

/**
 * Counts chart downloads off the request path: a pull adds one to a counter in memory (a map lookup),
 * and every DOWNLOAD_FLUSH_MS the counters go to Postgres in one statement that adds them to each day's
 * row (so every replica adds its own). Bounded; flushed once more on graceful shutdown; a crash loses at
 * most one interval. A failed flush keeps its counts for the next.
 */
@Injectable()
export class DownloadCounter implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Downloads');
  private pending = new Map<string, number>();
  private timer?: NodeJS.Timeout;
  private flushing: Promise<void> | null = null;

  constructor(private readonly dataSource: DataSource) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => void this.flush(), DOWNLOAD_FLUSH_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** One download of `version` of the chart `chartId`, now. */
  count(chartId: string, version: string): void {
    const key = `${chartId} ${Math.floor(Date.now() / DAY_MS)} ${version}`;
    this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    if (this.pending.size >= MAX_PENDING_KEYS) void this.flush();
  }

  /** Writes what was counted so far; concurrent calls share one write. */
  flush(): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!this.pending.size) return Promise.resolve();
    const batch = this.pending;
    this.pending = new Map();
    this.flushing = this.write(batch)
      .catch((e: Error) => {
        // Keep the counts: the next flush adds them.
        for (const [k, n] of batch) this.pending.set(k, (this.pending.get(k) ?? 0) + n);
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

  private async write(batch: Map<string, number>): Promise<void> {
    const charts: string[] = [];
    const days: string[] = [];
    const versions: string[] = [];
    const pulls: number[] = [];
    for (const [key, n] of batch) {
      const [chartId, day, ...rest] = key.split(' ');
      charts.push(chartId);
      days.push(new Date(Number(day) * DAY_MS).toISOString().slice(0, 10));
      versions.push(rest.join(' '));
      pulls.push(n);
    }
    await this.dataSource.query(
      `INSERT INTO chart_download_daily (chart_id, version, day, pulls)
       SELECT * FROM unnest($1::uuid[], $2::varchar[], $3::date[], $4::bigint[])
       ON CONFLICT (chart_id, version, day) DO UPDATE SET pulls = chart_download_daily.pulls + EXCLUDED.pulls`,
      [charts, versions, days, pulls],
    );
  }
}
