import { Injectable } from '@nestjs/common';
import { AccountClosureService, AccountsErrors, SessionService } from '@berth/accounts';
import { PublisherCatalogRemoval } from '@berth/catalog';
import { OrdersService } from '@berth/commerce';
import { LicenseService } from '@berth/licensing';
import { PayoutAccounts } from '@berth/payouts';
import { PublisherRegistryRemoval } from '@berth/registry';
import { DataSource } from 'typeorm';
import { PublisherLogos } from './publisher-logos';

/**
 * Closing an account, composed here because it spans contexts that do not know each other: accounts
 * (the account, its publishers and API tokens), licensing (sold licenses still in force refuse it;
 * complimentary ones are revoked) and catalog (charts, versions and listings go; their archives are left
 * to the orphan sweeper), registry (repositories, manifests, tags, blob records; the bytes likewise) and
 * payouts (the payout account row; the Stripe account stays with its balance). One transaction: it all
 * happens, or nothing does. Orders stay, as records.
 */
@Injectable()
export class AccountClosure {
  constructor(
    private readonly dataSource: DataSource,
    private readonly sessions: SessionService,
    private readonly accounts: AccountClosureService,
    private readonly licenses: LicenseService,
    private readonly catalog: PublisherCatalogRemoval,
    private readonly orders: OrdersService,
    private readonly logos: PublisherLogos,
    private readonly registry: PublisherRegistryRemoval,
    private readonly payouts: PayoutAccounts,
  ) {}

  async close(accountId: string, password: string, clientKey: string): Promise<void> {
    await this.sessions.confirmPassword(accountId, password, clientKey);
    const { publishers, charts } = await this.dataSource.transaction(async (m) => {
      const publishers = await this.accounts.lock(m, accountId);
      for (const p of publishers) {
        if (await this.licenses.hasLivePaid(p.id, m)) {
          throw AccountsErrors.AccountHasPaidLicenses(p.slug);
        }
        if (await this.orders.hasOpenCheckouts(p.id, m)) throw AccountsErrors.AccountHasOpenCheckouts(p.slug);
      }
      const charts = new Map<string, string[]>();
      for (const p of publishers) {
        await this.licenses.revoke({ publisherId: p.id }, 'publisher_deleted', m);
        charts.set(p.id, await this.catalog.removeAll(m, p.id));
        await this.registry.removeAll(m, p.id, p.slug);
        await this.payouts.forget(m, p.id);
      }
      await this.accounts.remove(m, accountId, publishers);
      return { publishers, charts };
    });
    this.licenses.forgetCachedStatus();
    for (const [publisherId, names] of charts) this.catalog.committed(publisherId, names);
    this.accounts.committed(publishers);
    for (const p of publishers) await this.logos.forget(p.id);
  }
}
