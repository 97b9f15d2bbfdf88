import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { BLOB_STORE, BlobStore, sweepUnreferenced } from '@berth/artifacts';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { returnedRows } from '@berth/database';
import { DataSource } from 'typeorm';
import { BlobUploads } from './blob-uploads';

export interface JanitorReport {
  uploads: number;
  links: number;
  blobs: number;
  orphans: number;
}

/**
 * Online garbage collection, no read-only mode: abandoned upload sessions go after their TTL; a link no
 * manifest of its repository references goes once it is older than the grace period (a push links its
 * blobs before the manifest that uses them arrives); a blob no repository links goes with its bytes; and
 * objects under `oci/` that no record or live session names (a crash between write and record) go once
 * older than the grace period. Chart archives the catalog owns are never deleted here.
 */
@Injectable()
export class RegistryJanitor implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(RegistryJanitor.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly uploads: BlobUploads,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onApplicationBootstrap(): void {
    const everyMs = Math.min(this.config.registry.gcGraceSeconds * 1000, 15 * 60 * 1000);
    this.timer = setInterval(
      () =>
        void this.run().catch((e: unknown) =>
          this.logger.warn(`registry gc failed: ${(e as Error).message}`),
        ),
      everyMs,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  async run(now = Date.now()): Promise<JanitorReport> {
    const graceSeconds = this.config.registry.gcGraceSeconds;
    const uploads = await this.uploads.purgeAbandoned();
    const links = returnedRows(
      await this.dataSource.query(
        `DELETE FROM oci_repository_blob l
          WHERE l.created_at < $1::timestamptz - make_interval(secs => $2)
            AND NOT EXISTS (SELECT 1 FROM oci_manifest_reference r
                             WHERE r.repository_id = l.repository_id AND r.child_digest = l.digest)
         RETURNING l.digest`,
        [new Date(now), graceSeconds],
      ),
    ).length;
    const gone: Array<{ blob_key: string }> = returnedRows(
      await this.dataSource.query(
        `DELETE FROM oci_blob b
          WHERE NOT EXISTS (SELECT 1 FROM oci_repository_blob l JOIN oci_repository r ON r.id = l.repository_id
                             WHERE r.publisher_id = b.publisher_id AND l.digest = b.digest)
         RETURNING b.blob_key`,
      ),
    );
    for (const b of gone)
      if (b.blob_key.startsWith('oci/')) await this.blobs.delete(b.blob_key).catch(() => undefined);
    const orphans = await this.sweepOrphans(now - graceSeconds * 1000);
    const report = { uploads, links, blobs: gone.length, orphans };
    if (uploads + links + gone.length + orphans) this.logger.log({ msg: 'registry gc', ...report });
    return report;
  }

  private async sweepOrphans(cutoff: number): Promise<number> {
    const deleted = await sweepUnreferenced(this.blobs, 'oci/', cutoff, async (keys) => {
      const rows: Array<{ key: string }> = await this.dataSource.query(
        `SELECT blob_key AS key FROM oci_blob WHERE blob_key = ANY($1)
         UNION SELECT p->>'key' FROM oci_upload u, jsonb_array_elements(u.parts) p WHERE p->>'key' = ANY($1)`,
        [keys],
      );
      return new Set(rows.map((r) => r.key));
    });
    return deleted.length;
  }
}
