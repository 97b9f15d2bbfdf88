import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { ChangeFeed, returnedRows } from '@berth/database';
import { DataSource, EntityManager } from 'typeorm';
import { AccountState, CONNECT_PROVIDER, ConnectProvider } from './connect-provider';
import { PayoutAccountEntity } from './entities';
import { PayoutsErrors } from './errors';
import { FeePolicy, platformFee } from './fees';

/** What an UPDATE of payout_account returns so that `saleGateMoved` can announce it. */
export const RETURNING_SLUG = `(SELECT slug FROM publisher WHERE id = payout_account.publisher_id) AS slug`;

export type PayoutStatus = 'not_started' | 'pending' | 'enabled' | 'restricted';

export interface PayoutView {
  status: PayoutStatus;
  accountId: string | null;
  chargesEnabled: boolean;
  payoutsEnabled: boolean;
  transfers: PayoutAccountEntity['transfersCapability'];
  currentlyDue: string[];
  deauthorized: boolean;
  payoutFailure: PayoutAccountEntity['payoutFailure'];
  fee: FeePolicy & { override: boolean };
}

/** One publisher in the operator's list: its payout state and the fee its sales pay. */
export interface PayoutOverviewRow {
  slug: string;
  displayName: string;
  status: PayoutStatus;
  currentlyDue: number;
  fee: FeePolicy & { override: boolean };
}

/** Where a paid sale goes under PAYOUTS=connect: the transfer's destination and the fee the store keeps. */
export interface SaleRoute {
  destination: string;
  applicationFeeAmount: number;
  onBehalfOf: boolean;
}

/**
 * Transfers can reach the account: the one gate for selling a paid chart of this publisher. With
 * `on_behalf_of` the account is also the merchant of record, so it must be able to take charges too.
 */
function payable(
  a: PayoutAccountEntity | null,
  onBehalfOf: boolean,
): a is PayoutAccountEntity & { accountId: string } {
  return (
    !!a?.accountId &&
    a.transfersCapability === 'active' &&
    !a.deauthorizedAt &&
    (!onBehalfOf || a.chargesEnabled)
  );
}

function statusOf(a: PayoutAccountEntity | null, onBehalfOf: boolean): PayoutStatus {
  if (!a?.accountId) return 'not_started';
  if (a.deauthorizedAt) return 'restricted';
  if (payable(a, onBehalfOf)) return a.payoutsEnabled ? 'enabled' : 'restricted';
  // Stripe switched transfers off and wants nothing more: held for review, not waiting on the publisher.
  if (a.transfersCapability === 'inactive' && a.currentlyDue.length === 0 && a.stateAsOf) return 'restricted';
  return 'pending';
}

/**
 * Publishers' payout accounts: onboarding, what Stripe last said about each, the sale gate and the fee.
 * Stripe's word arrives by `account.updated` / `capability.updated` and by re-reading the account when the
 * publisher comes back from onboarding; the redirect itself proves nothing.
 */
@Injectable()
export class PayoutAccounts {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(CONNECT_PROVIDER) private readonly provider: ConnectProvider,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly feed: ChangeFeed,
  ) {}

  /**
   * Rows whose sale gate may have moved (`RETURNING` the publisher's slug): every replica drops its
   * rendered pages, which say "not on sale yet" or show the buy form, when the transaction commits.
   */
  async saleGateMoved(m: EntityManager, rows: Array<{ slug: string | null }>): Promise<void> {
    for (const { slug } of rows) if (slug) await this.feed.publish('publishers', slug, m);
  }

  get enabled(): boolean {
    return this.config.payouts.mode === 'connect';
  }

  assertEnabled(): void {
    if (!this.enabled) throw PayoutsErrors.PayoutsNotEnabled();
  }

  async view(publisherId: string): Promise<PayoutView> {
    this.assertEnabled();
    const a = await this.find(publisherId);
    return {
      status: statusOf(a, this.config.payouts.onBehalfOf),
      accountId: a?.accountId ?? null,
      chargesEnabled: a?.chargesEnabled ?? false,
      payoutsEnabled: a?.payoutsEnabled ?? false,
      transfers: a?.transfersCapability ?? 'none',
      currentlyDue: a?.currentlyDue ?? [],
      deauthorized: !!a?.deauthorizedAt,
      payoutFailure: a?.payoutFailure ?? null,
      fee: { ...this.feePolicy(a), override: a?.feeBps !== null && a?.feeBps !== undefined },
    };
  }

  /**
   * Every publisher's payout state and fee for the operator, by slug, `limit` at a time after `after`
   * (a publisher that never started onboarding is `not_started` with the store's fee).
   */
  async overview(page: { after?: string; limit: number }): Promise<PayoutOverviewRow[]> {
    this.assertEnabled();
    const rows = (await this.dataSource.query(
      `SELECT p.slug, p.display_name, a.publisher_id AS has_row, a.account_id, a.charges_enabled,
              a.payouts_enabled, a.transfers_capability, a.currently_due, a.deauthorized_at, a.fee_bps,
              a.fee_fixed, a.state_as_of
         FROM publisher p LEFT JOIN payout_account a ON a.publisher_id = p.id
        WHERE p.slug > $1
        ORDER BY p.slug LIMIT $2`,
      [page.after ?? '', page.limit],
    )) as Array<Record<string, unknown>>;
    return rows.map((r) => {
      const a =
        r.has_row === null
          ? null
          : this.dataSource.getRepository(PayoutAccountEntity).create({
              accountId: r.account_id as string | null,
              chargesEnabled: r.charges_enabled as boolean,
              payoutsEnabled: r.payouts_enabled as boolean,
              transfersCapability: r.transfers_capability as PayoutAccountEntity['transfersCapability'],
              currentlyDue: r.currently_due as string[],
              deauthorizedAt: r.deauthorized_at as Date | null,
              feeBps: r.fee_bps as number | null,
              feeFixed: r.fee_fixed as Record<string, number> | null,
              stateAsOf: r.state_as_of as Date | null,
            });
      return {
        slug: String(r.slug),
        displayName: String(r.display_name),
        status: statusOf(a, this.config.payouts.onBehalfOf),
        currentlyDue: a?.currentlyDue.length ?? 0,
        fee: this.feeOf(a),
      };
    });
  }

  /** "Start / continue onboarding": creates the account on first use, then always a fresh link. */
  async onboardingLink(publisher: { id: string; slug: string }): Promise<string> {
    this.assertEnabled();
    const accountId = await this.ensureAccount(publisher);
    const base = `${this.config.publicUrl}/payouts/${encodeURIComponent(publisher.slug)}`;
    return this.provider.onboardingLink(accountId, `${base}/refresh`, `${base}/return`);
  }

  async dashboardLink(publisherId: string): Promise<string> {
    this.assertEnabled();
    const a = await this.find(publisherId);
    if (!a?.accountId) throw PayoutsErrors.PayoutAccountNotFound();
    return this.provider.dashboardLink(a.accountId);
  }

  /** The return page: what Stripe says now, never what the redirect implies. */
  async refresh(publisherId: string): Promise<PayoutView> {
    this.assertEnabled();
    const a = await this.find(publisherId);
    if (a?.accountId) {
      const state = await this.provider.retrieve(a.accountId);
      // As of this second: Stripe dates events in whole seconds, and one sent in this same second may be
      // newer than what was just read, so it must still apply.
      if (state)
        await this.apply(
          this.dataSource.manager,
          a.accountId,
          state,
          new Date(Math.floor(Date.now() / 1000) * 1000),
        );
    }
    return this.view(publisherId);
  }

  /**
   * Stores an account's state unless a newer one is stored already; true when the row changed. Unknown
   * accounts (not ours, or a publisher since closed) change nothing.
   */
  async apply(m: EntityManager, accountId: string, state: AccountState, asOf: Date): Promise<boolean> {
    const rows = returnedRows<{ slug: string | null }>(
      await m.query(
        `UPDATE payout_account SET charges_enabled = $2, payouts_enabled = $3, transfers_capability = $4,
           currently_due = $5::jsonb, state_as_of = $6, updated_at = now()
         WHERE account_id = $1 AND (state_as_of IS NULL OR state_as_of <= $6)
           AND (charges_enabled, payouts_enabled, transfers_capability, currently_due)
               IS DISTINCT FROM ($2, $3, $4::varchar, $5::jsonb)
         RETURNING ${RETURNING_SLUG}`,
        [
          accountId,
          state.chargesEnabled,
          state.payoutsEnabled,
          state.transfers,
          JSON.stringify(state.currentlyDue),
          asOf,
        ],
      ),
    );
    await this.saleGateMoved(m, rows);
    return rows.length > 0;
  }

  /** The local simulation's "finish onboarding" button: the account becomes payable. */
  async completeLocalOnboarding(accountId: string): Promise<void> {
    if (this.provider.name !== 'local' || !accountId.startsWith('local_acct_')) {
      throw PayoutsErrors.PayoutAccountNotFound();
    }
    const found = await this.dataSource.getRepository(PayoutAccountEntity).findOne({ where: { accountId } });
    if (!found) throw PayoutsErrors.PayoutAccountNotFound();
    await this.apply(
      this.dataSource.manager,
      accountId,
      { chargesEnabled: true, payoutsEnabled: true, transfers: 'active', currentlyDue: [] },
      new Date(),
    );
  }

  /**
   * A publisher's account is closing (inside its transaction): Berth forgets the payout account, so its
   * events are ignored from now on and a new publisher of the same name starts afresh. The Stripe account
   * itself stays: its balance still pays out, and orders already paid keep their transfer for refunds.
   */
  async forget(m: EntityManager, publisherId: string): Promise<void> {
    await m.query(`DELETE FROM payout_account WHERE publisher_id = $1`, [publisherId]);
  }

  /** An operator's fee for one publisher; null clears it (the store's settings apply again). */
  async setFeeOverride(publisherId: string, fee: FeePolicy | null): Promise<void> {
    this.assertEnabled();
    await this.dataSource.query(
      `INSERT INTO payout_account (publisher_id, fee_bps, fee_fixed) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (publisher_id) DO UPDATE SET fee_bps = $2, fee_fixed = $3::jsonb, updated_at = now()`,
      [publisherId, fee?.bps ?? null, fee ? JSON.stringify(fee.fixed) : null],
    );
  }

  /**
   * Where a sale of `amount` goes, or null when the store keeps every sale (PAYOUTS=none). Throws
   * `publisher_not_payable` when transfers cannot reach the publisher.
   */
  async routeSale(publisherId: string, amount: number, currency: string): Promise<SaleRoute | null> {
    if (!this.enabled) return null;
    const a = await this.find(publisherId);
    if (!payable(a, this.config.payouts.onBehalfOf)) throw PayoutsErrors.PublisherNotPayable();
    return {
      destination: a.accountId,
      applicationFeeAmount: platformFee(amount, currency, this.feePolicy(a)),
      onBehalfOf: this.config.payouts.onBehalfOf,
    };
  }

  /** Whether a paid chart of this publisher can be bought now (always, under PAYOUTS=none). */
  async canSell(publisherId: string): Promise<boolean> {
    return !this.enabled || payable(await this.find(publisherId), this.config.payouts.onBehalfOf);
  }

  private feeOf(a: PayoutAccountEntity | null): FeePolicy & { override: boolean } {
    return { ...this.feePolicy(a), override: a !== null && a.feeBps !== null };
  }

  private feePolicy(a: PayoutAccountEntity | null): FeePolicy {
    if (a && a.feeBps !== null) return { bps: a.feeBps, fixed: a.feeFixed ?? {} };
    return { bps: this.config.payouts.feeBps, fixed: this.config.payouts.feeFixed };
  }

  private find(publisherId: string): Promise<PayoutAccountEntity | null> {
    return this.dataSource.getRepository(PayoutAccountEntity).findOne({ where: { publisherId } });
  }

  private async ensureAccount(publisher: { id: string; slug: string }): Promise<string> {
    const existing = await this.find(publisher.id);
    if (existing?.accountId) return existing.accountId;
    const [{ email }] = (await this.dataSource.query(
      `SELECT a.email FROM publisher p JOIN account a ON a.id = p.owner_account_id WHERE p.id = $1`,
      [publisher.id],
    )) as Array<{ email: string }>;
    const accountId = await this.provider.createAccount({
      publisherId: publisher.id,
      slug: publisher.slug,
      email,
      onBehalfOf: this.config.payouts.onBehalfOf,
    });
    // Two racing starts get the same Stripe account (idempotency key per publisher); the first row wins.
    await this.dataSource.query(
      `INSERT INTO payout_account (publisher_id, account_id) VALUES ($1, $2)
       ON CONFLICT (publisher_id) DO UPDATE SET account_id = COALESCE(payout_account.account_id, $2)`,
      [publisher.id, accountId],
    );
    return (await this.find(publisher.id))?.accountId ?? accountId;
  }
}
