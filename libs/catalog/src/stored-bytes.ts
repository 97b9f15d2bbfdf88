import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import {
  DataSource,
  EntityManager,
  QueryFailedError,
  QueryRunner,
  QueryRunnerAlreadyReleasedError,
} from 'typeorm';
import { CatalogErrors } from './errors';

/**
 * The per-publisher storage quota: bytes of every stored chart archive and `.prov` file (yanked versions
 * too: their bytes are kept), against `PUBLISHER_QUOTA_BYTES`, kept as a running total (`publisher_usage`).
 */
@Injectable()
export class PublisherQuota {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Cheap check before any byte is written; racing uploads are settled by `reserve`. */
  async assertRoom(publisherId: string, incoming: number): Promise<void> {
    const [row] = (await this.dataSource.query(
      'SELECT stored_bytes::text AS used FROM publisher_usage WHERE publisher_id = $1',
      [publisherId],
    )) as Array<{ used: string }>;
    this.check(Number(row?.used ?? 0) + incoming);
  }

  /**
   * The last statement of the transaction that adds `incoming` bytes: adds them to the publisher's total
   * and checks the result. The total's row stays locked until the commit, so racing writers of one
   * publisher add up one after the other and cannot both pass on the same total; writers of other
   * publishers are not held. It also holds the publisher row against an account closure (which locks it
   * FOR UPDATE) until this commits: the closure then removes what this adds, or, if it came first, this
   * finds the publisher gone.
   */
  async reserve(m: EntityManager, publisherId: string, incoming: number): Promise<void> {
    const live = (await m.query('SELECT 1 FROM publisher WHERE id = $1 FOR KEY SHARE', [
      publisherId,
    ])) as unknown[];
    if (!live.length) throw CatalogErrors.PublisherClosed();
    const [row] = (await m.query(
      `INSERT INTO publisher_usage (publisher_id, stored_bytes) VALUES ($1, $2)
       ON CONFLICT (publisher_id) DO UPDATE SET stored_bytes = publisher_usage.stored_bytes + EXCLUDED.stored_bytes
       RETURNING stored_bytes::text AS used`,
      [publisherId, incoming],
    )) as Array<{ used: string }>;
    this.check(Number(row.used));
  }

  /** Inside the transaction that removes the publisher's whole catalog. */
  async forget(m: EntityManager, publisherId: string): Promise<void> {
    await m.query('DELETE FROM publisher_usage WHERE publisher_id = $1', [publisherId]);
  }

  private check(total: number): void {
    const quota = this.config.uploads.publisherQuotaBytes;
    if (total > quota) throw CatalogErrors.PublisherQuotaExceeded(quota);
  }
}

/** Thrown when COMMIT was sent but no verdict came back: the transaction may or may not have committed. */
export class CommitOutcomeUnknown extends Error {
  constructor(override readonly cause: unknown) {
    super('the outcome of COMMIT is unknown');
    this.name = 'CommitOutcomeUnknown';
  }
}

/** Postgres answered the COMMIT with an ERROR: it rolled the transaction back. */
function commitRefused(error: unknown): boolean {
  const driver = (error instanceof QueryFailedError ? error.driverError : error) as {
    severity?: unknown;
  } | null;
  return driver?.severity === 'ERROR';
}

/**
 * Runs `work` in a transaction and tells apart how it ended: any failure throws what was thrown, and means
 * nothing was committed, except `CommitOutcomeUnknown` (COMMIT sent, connection lost before its answer).
 * Callers that wrote files for the transaction delete them on every failure but that one.
 */
export async function runTransaction<T>(
  dataSource: DataSource,
  work: (m: EntityManager) => Promise<T>,
): Promise<T> {
  const runner: QueryRunner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    let result: T;
    try {
      result = await work(runner.manager);
    } catch (error) {
      await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
    try {
      await runner.commitTransaction();
    } catch (error) {
      // Released by the driver on a connection error: COMMIT was never sent.
      if (commitRefused(error) || error instanceof QueryRunnerAlreadyReleasedError) throw error;
      throw new CommitOutcomeUnknown(error);
    }
    return result;
  } finally {
    await runner.release().catch(() => undefined);
  }
}
