import { Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { returnedRows } from '@berth/database';
import { DataSource } from 'typeorm';

/** How often each replica looks for stale checkouts (the UPDATE is idempotent across replicas). */
const SWEEP_EVERY_MS = 60_000;

/**
 * Marks local checkouts still pending past their `expires_at` as `expired`, so abandoned checkouts stop
 * showing as open orders. Stripe checkouts are left to Stripe: it expires the session at the same
 * instant and says so with `checkout.session.expired`, while a session that completed with a delayed
 * (asynchronous) payment stays pending here until Stripe reports the outcome, as it must.
 */
@Injectable()
export class CheckoutExpirySweeper implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(CheckoutExpirySweeper.name);
  private timer?: NodeJS.Timeout;

  constructor(private readonly dataSource: DataSource) {}

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

  /** Returns how many orders it marked expired. */
  async sweep(now = new Date()): Promise<number> {
    const result: unknown = await this.dataSource.query(
      `UPDATE "order" SET "status" = 'expired', "updated_at" = now()
       WHERE "status" = 'pending' AND "provider" = 'local' AND "expires_at" <= $1
       RETURNING "id"`,
      [now],
    );
    const n = returnedRows(result).length;
    if (n) this.logger.log({ msg: 'expired stale checkouts', count: n });
    return n;
  }
}
