import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BLOB_STORE, BlobStore, sweepUnreferenced } from '@berth/artifacts';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DataSource } from 'typeorm';

/**
 * Deletes chart blobs that no version row references and that are older than the grace period:
 * what an upload leaves behind when the process dies between the blob write and the row insert (or
 * when its COMMIT went unanswered), and the fs driver's temporary `.part` files of puts killed midway.
 * The grace period keeps it away from uploads still in flight on any replica. Runs once at start (in the
 * background: a crash's leftovers go without waiting a period) and then periodically.
 */
@Injectable()
export class OrphanBlobSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OrphanBlobSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** The sweep started with the application (tests await it). */
  startupSweep?: Promise<void>;

  onApplicationBootstrap(): void {
    const everyMs = Math.min(this.config.uploads.orphanGraceSeconds * 1000, 15 * 60 * 1000);
    const run = () =>
      this.sweep().then(
        () => undefined,
        (e) => this.logger.warn(`sweep failed: ${(e as Error).message}`),
      );
    this.startupSweep = run();
    this.timer = setInterval(() => void run(), everyMs);
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Returns the keys deleted. */
  async sweep(now = Date.now()): Promise<string[]> {
    const graceMs = this.config.uploads.orphanGraceSeconds * 1000;
    const cutoff = now - graceMs;
    const purged = (await this.blobs.purgeStaleTemp?.(graceMs)) ?? 0;
    if (purged) this.logger.log({ msg: 'purged stale temporary blob files', count: purged });
    const deleted = await sweepUnreferenced(this.blobs, 'charts/', cutoff, async (keys) => {
      const rows: Array<{ key: string }> = await this.dataSource.query(
        `SELECT blob_key AS key FROM chart_version WHERE blob_key = ANY($1)
         UNION SELECT prov_blob_key FROM chart_version WHERE prov_blob_key = ANY($1)`,
        [keys],
      );
      return new Set(rows.map((r) => r.key));
    });
    if (deleted.length) this.logger.log({ msg: 'swept orphan blobs', count: deleted.length });
    return deleted;
  }
}
