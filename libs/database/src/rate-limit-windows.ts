import { createHmac } from 'node:crypto';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { Column, DataSource, Entity, Index, PrimaryColumn } from 'typeorm';
import { ChangeFeed } from './change-feed';

/**
 * One fixed window of one rate-limit key, shared by every replica. `key` is an HMAC of what is counted
 * (a client address, a credential's digest, an e-mail): no address, credential or e-mail is stored.
 */
@Entity('rate_limit_window')
export class RateLimitWindowEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  key: string;

  @PrimaryColumn({ name: 'window_start', type: 'timestamptz' })
  windowStart: Date;

  @Column({ type: 'integer' })
  count: number;

  @Index('rate_limit_window_expires_idx')
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt: Date;
}

export const DATABASE_ENTITIES = [RateLimitWindowEntity];

/** What the shared counter answered for one key. */
export interface WindowCount {
  key: string;
  /** Attempts counted in the current window, this one included. */
  count: number;
  /** Epoch ms when the window ends (the database's clock). */
  resetAt: number;
  /** Identifies the window, to give a reservation back. */
  windowStart: Date;
}

/** A key some replica saw cross its limit; every replica blocks it until `until` (epoch ms). */
export interface LockNotice {
  key: string;
  until: number;
}

const PURGE_EVERY_MS = 5 * 60 * 1000;

/**
 * Fixed-window counters in Postgres, so a limit holds across replicas (N replicas still allow the
 * limit, not N times it). One `INSERT … ON CONFLICT DO UPDATE … RETURNING` per counted event (failures,
 * reservations, sign-ups, checkouts), never on a request that merely checks whether it is blocked: that
 * check is an in-memory lookup on every replica, fed by the counts returned here and by lock notices
 * (`lock`, over the change feed) when a key crosses its limit anywhere. Windows are aligned on the
 * database's clock, so every replica agrees where one starts. Expired windows are purged periodically.
 */
@Injectable()
export class RateLimitWindows implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RateLimitWindows.name);
  private readonly pepper: Buffer;
  private purgeTimer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly feed: ChangeFeed,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    // Every replica shares ACCESS_TOKEN_SECRET, so they derive the same keys; the secret itself is not stored.
    this.pepper = createHmac('sha256', config.auth.accessTokenSecret)
      .update('berth-rate-limit-keys')
      .digest();
  }

  /** The stored (and broadcast) form of a key: an HMAC, never the address, e-mail or credential. */
  keyOf(scope: string, value: string): string {
    return createHmac('sha256', this.pepper).update(`${scope}\n${value}`).digest('base64url');
  }

  /** Counts one event for each key (one statement), in windows of `windowSeconds`; answers the counts. */
  async hit(keys: string[], windowSeconds: number): Promise<WindowCount[]> {
    if (!keys.length) return [];
    const rows: Array<{ key: string; count: number; window_start: Date; reset_at: string }> =
      await this.dataSource.query(
        `WITH now AS (SELECT to_timestamp(floor(extract(epoch FROM clock_timestamp()) / $2::int) * $2::int) AS start)
         INSERT INTO rate_limit_window (key, window_start, count, expires_at)
         SELECT k, now.start, 1, now.start + make_interval(secs => $2::int) FROM unnest($1::varchar[]) AS k, now
         ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limit_window.count + 1
         RETURNING key, count, window_start, (extract(epoch FROM expires_at) * 1000)::float8::text AS reset_at`,
        [keys, windowSeconds],
      );
    const byKey = new Map(rows.map((r) => [r.key, r]));
    return keys.map((key) => {
      const r = byKey.get(key)!;
      return { key, count: r.count, resetAt: Number(r.reset_at), windowStart: r.window_start };
    });
  }

  /** Gives back attempts counted by `hit` (a reservation that turned out not to be a failure). */
  async release(counts: WindowCount[]): Promise<void> {
    if (!counts.length) return;
    await this.dataSource.query(
      `UPDATE rate_limit_window SET count = greatest(count - 1, 0)
       WHERE (key, window_start) IN (SELECT * FROM unnest($1::varchar[], $2::timestamptz[]))`,
      [counts.map((c) => c.key), counts.map((c) => c.windowStart)],
    );
  }

  /** Forgets every window of these keys (a successful login clears its failures). */
  async reset(keys: string[]): Promise<void> {
    if (!keys.length) return;
    await this.dataSource.query(`DELETE FROM rate_limit_window WHERE key = ANY($1::varchar[])`, [keys]);
  }

  /** Tells every replica (this one included) to block `key` until `until`. */
  async lock(notice: LockNotice): Promise<void> {
    this.feed.announceLocally('rate_limits', `${notice.key}:${notice.until}`);
    await this.feed.publish('rate_limits', `${notice.key}:${notice.until}`);
  }

  /** Lock notices from every replica. */
  onLock(handler: (notice: LockNotice) => void): () => void {
    return this.feed.subscribe('rate_limits', (payload) => {
      if (typeof payload !== 'string') return;
      const i = payload.lastIndexOf(':');
      const until = Number(payload.slice(i + 1));
      if (i > 0 && Number.isFinite(until)) handler({ key: payload.slice(0, i), until });
    });
  }

  /** Deletes expired windows; answers how many. */
  async purge(): Promise<number> {
    // TypeORM answers a DELETE on Postgres with [rows, affectedCount].
    const [, deleted] = (await this.dataSource.query(
      `DELETE FROM rate_limit_window WHERE expires_at < now()`,
    )) as [unknown[], number];
    return deleted;
  }

  onApplicationBootstrap(): void {
    this.purgeTimer = setInterval(() => {
      this.purge().catch((e: Error) =>
        this.logger.warn({ msg: 'rate-limit purge failed; retried later', err: e.message }),
      );
    }, PURGE_EVERY_MS);
    this.purgeTimer.unref();
  }

  onApplicationShutdown(): void {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
  }
}
