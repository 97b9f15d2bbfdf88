import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { ChangeFeed, returnedRows } from '@berth/database';
import { DataSource } from 'typeorm';
import { PublisherAccessService } from './publisher-access.service';

/** An account whose address nobody confirmed in this long is removed, and its name and address freed. */
export const UNCONFIRMED_ACCOUNT_DAYS = 7;
const SWEEP_EVERY_MS = 60 * 60_000;

/**
 * Removes sign-ups never confirmed: without it, anyone could hold every publisher name they like with
 * addresses they do not own. Such an account never signed in, so it has no token and no chart; the check
 * for charts stays anyway, so that nothing a publisher made is ever swept. Idempotent across replicas.
 */
@Injectable()
export class UnconfirmedAccountSweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(UnconfirmedAccountSweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    private readonly feed: ChangeFeed,
    private readonly publishers: PublisherAccessService,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () => void this.sweep().catch((e) => this.logger.warn(`sweep failed: ${(e as Error).message}`)),
      SWEEP_EVERY_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Returns how many accounts it removed. */
  async sweep(now = new Date()): Promise<number> {
    const before = new Date(now.getTime() - UNCONFIRMED_ACCOUNT_DAYS * 86_400_000);
    const { removed, slugs } = await this.dataSource.transaction(async (m) => {
      const freed = returnedRows(
        await m.query(
          `DELETE FROM "publisher" p USING "account" a
            WHERE p."owner_account_id" = a."id" AND a."email_verified_at" IS NULL AND a."created_at" < $1
              AND NOT EXISTS (SELECT 1 FROM "chart" c WHERE c."publisher_id" = p."id")
            RETURNING p."slug"`,
          [before],
        ),
      ) as Array<{ slug: string }>;
      // Every replica forgets the freed names when this commits, as when an account is closed.
      for (const p of freed) await this.feed.publish('publishers', p.slug, m);
      const gone = returnedRows(
        await m.query(
          `DELETE FROM "account" a WHERE a."email_verified_at" IS NULL AND a."created_at" < $1
              AND NOT EXISTS (SELECT 1 FROM "publisher" p WHERE p."owner_account_id" = a."id")
            RETURNING a."id"`,
          [before],
        ),
      );
      return { removed: gone.length, slugs: freed.map((p) => p.slug) };
    });
    for (const slug of slugs) this.publishers.forget(slug);
    if (removed || slugs.length)
      this.logger.log({ msg: 'removed unconfirmed sign-ups', accounts: removed, publishers: slugs.length });
    return removed;
  }
}
