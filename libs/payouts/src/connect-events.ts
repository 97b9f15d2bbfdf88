import { Inject, Injectable, Logger } from '@nestjs/common';
import { returnedRows } from '@berth/database';
import { DataSource, EntityManager } from 'typeorm';
import { CONNECT_PROVIDER, ConnectEvent, ConnectProvider } from './connect-provider';
import { PayoutAccounts, RETURNING_SLUG } from './payout-accounts';

export type ConnectOutcome = 'applied' | 'unchanged' | 'duplicate' | 'ignored';

/**
 * Connect webhook events, each handled once per event id and account: the dedupe row and the change it
 * makes commit together, so a delivery that failed half-way is handled again on Stripe's retry.
 */
@Injectable()
export class ConnectEvents {
  private readonly log = new Logger('Payouts');

  constructor(
    private readonly dataSource: DataSource,
    private readonly accounts: PayoutAccounts,
    @Inject(CONNECT_PROVIDER) private readonly provider: ConnectProvider,
  ) {}

  parse(rawBody: Buffer, signature: string | undefined): ConnectEvent {
    return this.provider.parseEvent(rawBody, signature);
  }

  async handle(event: ConnectEvent): Promise<ConnectOutcome> {
    // A live store acts on live events only: a test-mode endpoint pointed here must not open sales.
    if (this.provider.livemode && !event.livemode) return 'ignored';
    return this.dataSource.transaction(async (m) => {
      const fresh = returnedRows(
        await m.query(
          `INSERT INTO connect_event (id, account, type, outcome) VALUES ($1, $2, $3, 'pending')
           ON CONFLICT DO NOTHING RETURNING id`,
          [event.id, event.account, event.type === 'ignored' ? event.originalType : event.type],
        ),
      );
      if (!fresh.length) return 'duplicate';
      const outcome = await this.apply(m, event);
      await m.query(`UPDATE connect_event SET outcome = $3 WHERE id = $1 AND account = $2`, [
        event.id,
        event.account,
        outcome,
      ]);
      if (outcome === 'applied')
        this.log.log({ msg: 'payout account changed', event: event.type, account: event.account });
      return outcome;
    });
  }

  private async apply(m: EntityManager, event: ConnectEvent): Promise<ConnectOutcome> {
    const known = returnedRows(
      await m.query(`SELECT publisher_id FROM payout_account WHERE account_id = $1 FOR UPDATE`, [
        event.account,
      ]),
    );
    // Not one of ours (another platform's, or a publisher since closed): acknowledged, nothing to do.
    if (!known.length) return 'ignored';
    switch (event.type) {
      case 'account.updated':
        return (await this.accounts.apply(m, event.account, event.state, event.created))
          ? 'applied'
          : 'unchanged';
      case 'capability.updated': {
        if (event.capability !== 'transfers') return 'ignored';
        const rows = returnedRows<{ slug: string | null }>(
          await m.query(
            `UPDATE payout_account SET transfers_capability = $2, updated_at = now()
             WHERE account_id = $1 AND transfers_capability <> $2 AND (state_as_of IS NULL OR state_as_of <= $3)
             RETURNING ${RETURNING_SLUG}`,
            [event.account, event.status, event.created],
          ),
        );
        await this.accounts.saleGateMoved(m, rows);
        return rows.length ? 'applied' : 'unchanged';
      }
      case 'account.application.deauthorized': {
        const rows = returnedRows<{ slug: string | null }>(
          await m.query(
            `UPDATE payout_account SET deauthorized_at = $2, updated_at = now()
             WHERE account_id = $1 AND deauthorized_at IS NULL RETURNING ${RETURNING_SLUG}`,
            [event.account, event.created],
          ),
        );
        await this.accounts.saleGateMoved(m, rows);
        return rows.length ? 'applied' : 'unchanged';
      }
      case 'payout.failed':
        await m.query(
          `UPDATE payout_account SET payout_failure = $2::jsonb, updated_at = now() WHERE account_id = $1`,
          [
            event.account,
            JSON.stringify({ at: event.created.toISOString(), code: event.code, message: event.message }),
          ],
        );
        return 'applied';
      case 'payout.paid': {
        const rows = returnedRows(
          await m.query(
            `UPDATE payout_account SET payout_failure = NULL, updated_at = now()
             WHERE account_id = $1 AND payout_failure IS NOT NULL
               AND (payout_failure->>'at')::timestamptz <= $2 RETURNING publisher_id`,
            [event.account, event.created],
          ),
        );
        return rows.length ? 'applied' : 'unchanged';
      }
      default:
        return 'ignored';
    }
  }
}
