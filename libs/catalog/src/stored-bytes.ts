import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DataSource, EntityManager, QueryFailedError, QueryRunner } from 'typeorm';
import { CatalogErrors } from './errors';
import { MAX_PROVENANCE_BYTES } from './provenance-limits';

/** Advisory-lock class of the per-publisher quota lock (the second key is the publisher id's hash). */
const QUOTA_LOCK_CLASS = 0x62_71_74_61; // "bqta"

/**
 * The per-publisher storage quota: bytes of every stored chart archive and `.prov` file (yanked versions
 * too: their bytes are kept), against `PUBLISHER_QUOTA_BYTES`.
 */
@Injectable()
export class PublisherQuota {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Cheap check before any byte is written; racing uploads are settled by `reserve`. */
  async assertRoom(publisherId: string, incoming: number): Promise<void> {
    await this.check(this.dataSource.manager, publisherId, incoming);
  }

  /**
   * Inside the transaction that adds `incoming` bytes: serialises the publisher's writers on a transaction
   * advisory lock, then checks. Two racing uploads of one publisher cannot both pass on the same total.
   */
  async reserve(m: EntityManager, publisherId: string, incoming: number): Promise<void> {
    await m.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [QUOTA_LOCK_CLASS, publisherId]);
    // Holds the publisher row against an account closure (which locks it FOR UPDATE) until this commits:
    // the closure then removes what this adds, or, if it came first, this finds the publisher gone.
    const live = (await m.query('SELECT 1 FROM publisher WHERE id = $1 FOR KEY SHARE', [
      publisherId,
    ])) as unknown[];
    if (!live.length) throw CatalogErrors.PublisherClosed();
    await this.check(m, publisherId, incoming);
  }

  private async check(m: EntityManager, publisherId: string, incoming: number): Promise<void> {
    const [row] = (await m.query(
      `SELECT COALESCE(SUM(v.size::bigint + CASE WHEN v.prov_blob_key IS NULL THEN 0
                                             ELSE COALESCE(v.prov_size, $2) END), 0)::text AS used
         FROM chart_version v JOIN chart c ON c.id = v.chart_id
        WHERE c.publisher_id = $1`,
      [publisherId, MAX_PROVENANCE_BYTES],
    )) as Array<{ used: string }>;
    const quota = this.config.uploads.publisherQuotaBytes;
    if (Number(row.used) + incoming > quota) {
      throw CatalogErrors.PublisherQuotaExceeded(quota);
    }
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
      if (commitRefused(error)) throw error;
      throw new CommitOutcomeUnknown(error);
    }
    return result;
  } finally {
    await runner.release().catch(() => undefined);
  }
}
