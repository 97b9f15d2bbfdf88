import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { returnedRows } from '@berth/database';
import { DataSource, EntityManager } from 'typeorm';
import { CONNECT_PROVIDER, ConnectProvider } from './connect-provider';

const RUN_EVERY_MS = 30_000;
/** Backoff after a failed attempt: 30 s doubling, at most 6 hours. */
const retryDelayMs = (attempts: number) => Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 6 * 3600_000);

export interface QueuedTransferChange {
  orderId: string;
  disputeId: string;
  kind: 'reverse' | 'restore';
  chargeId: string | null;
  destination: string;
  amount: number;
  currency: string;
}

/**
 * Carries out the transfer changes disputes call for, after the transaction that recorded them: every
 * replica looks for due rows every 30 s (SKIP LOCKED, so each is taken once), and the dispute's own
 * handling runs them at once after its commit. Stripe's idempotency key makes a retried call harmless.
 */
@Injectable()
export class TransferActions implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Payouts');
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONNECT_PROVIDER) private readonly provider: ConnectProvider,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(
      () =>
        void this.runDue().catch((e) => this.logger.warn(`transfer actions failed: ${(e as Error).message}`)),
      RUN_EVERY_MS,
    );
    this.timer.unref();
  }

  onApplicationShutdown(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /**
   * Records a change in the caller's transaction; a second one for the same dispute and kind is a no-op.
   * A `restore` sends back exactly what its reversal took, and only once Stripe took that reversal: a
   * reversal still waiting (Stripe refused it so far) is dropped instead, and nothing is restored; a
   * dispute whose transfer was never reversed restores nothing either.
   */
  async queue(m: EntityManager, change: QueuedTransferChange): Promise<boolean> {
    const params = [
      change.orderId,
      change.disputeId,
      change.kind,
      change.chargeId,
      change.destination,
      change.amount,
      change.currency,
    ];
    if (change.kind === 'reverse') {
      return (
        returnedRows(
          await m.query(
            `INSERT INTO transfer_action (order_id, dispute_id, kind, charge_id, destination, amount, currency)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING order_id`,
            params,
          ),
        ).length > 0
      );
    }
    // Waits for a run carrying the reversal out right now (its row is locked), then sees how it ended.
    const dropped = returnedRows(
      await m.query(
        `UPDATE transfer_action SET status = 'dropped', last_error = 'the dispute closed before the reversal went through'
          WHERE order_id = $1 AND dispute_id = $2 AND kind = 'reverse' AND status = 'pending' RETURNING order_id`,
        [change.orderId, change.disputeId],
      ),
    );
    if (dropped.length) return false;
    // A new statement, so it sees a reversal that run just committed.
    const rows = returnedRows(
      await m.query(
        `INSERT INTO transfer_action (order_id, dispute_id, kind, charge_id, destination, amount, currency)
         SELECT $1::uuid, $2::varchar, $3::varchar, $4::varchar, $5::varchar, r.amount, $6::char(3)
           FROM transfer_action r
          WHERE r.order_id = $1::uuid AND r.dispute_id = $2::varchar AND r.kind = 'reverse' AND r.status = 'done'
         ON CONFLICT DO NOTHING RETURNING order_id`,
        [change.orderId, change.disputeId, change.kind, change.chargeId, change.destination, change.currency],
      ),
    );
    return rows.length > 0;
  }

  /** Runs what is due now; returns how many it carried out. */
  async runDue(): Promise<number> {
    let done = 0;
    for (;;) {
      const ran = await this.dataSource.transaction(async (m) => {
        const [row] = (await m.query(
          `SELECT * FROM transfer_action WHERE status = 'pending' AND next_attempt_at <= now()
           ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED`,
        )) as Array<Record<string, unknown>>;
        if (!row) return null;
        const a = {
          orderId: String(row.order_id),
          disputeId: String(row.dispute_id),
          kind: row.kind as 'reverse' | 'restore',
          chargeId: (row.charge_id as string | null) ?? null,
          destination: String(row.destination),
          amount: Number(row.amount),
          currency: String(row.currency).trim(),
          attempts: Number(row.attempts),
        };
        const change = {
          key: `transfer-${a.kind}-${a.orderId}-${a.disputeId}`,
          chargeId: a.chargeId,
          destination: a.destination,
          amount: a.amount,
          currency: a.currency,
          metadata: { orderId: a.orderId, disputeId: a.disputeId },
        };
        try {
          if (a.kind === 'reverse') await this.provider.reverseTransfer(change);
          else await this.provider.restoreTransfer(change);
        } catch (e) {
          const attempts = a.attempts + 1;
          await m.query(
            `UPDATE transfer_action SET attempts = $4, last_error = $5, next_attempt_at = now() + make_interval(secs => $6)
             WHERE order_id = $1 AND dispute_id = $2 AND kind = $3`,
            [
              a.orderId,
              a.disputeId,
              a.kind,
              attempts,
              String((e as Error).message).slice(0, 200),
              retryDelayMs(attempts) / 1000,
            ],
          );
          this.logger.warn({
            msg: 'transfer change refused; will retry',
            kind: a.kind,
            orderId: a.orderId,
            attempts,
          });
          return 'failed' as const;
        }
        await m.query(
          `UPDATE transfer_action SET status = 'done', done_at = now(), attempts = attempts + 1, last_error = NULL
           WHERE order_id = $1 AND dispute_id = $2 AND kind = $3`,
          [a.orderId, a.disputeId, a.kind],
        );
        this.logger.log({ msg: 'transfer changed', kind: a.kind, orderId: a.orderId, amount: a.amount });
        return 'done' as const;
      });
      if (ran === null) return done;
      if (ran === 'done') done++;
    }
  }
}
