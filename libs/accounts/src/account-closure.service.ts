import { Injectable } from '@nestjs/common';
import { ChangeFeed } from '@berth/database';
import { EntityManager } from 'typeorm';
import { AccessTokens } from './access-tokens';
import { AccountEntity, PublisherEntity } from './entities';
import { PublisherAccessService, PublisherRef } from './publisher-access.service';

/**
 * The accounts side of closing an account. The app composes it with the other contexts in one
 * transaction: `lock` first (the account and its publishers, so nothing is created under them
 * meanwhile), then whatever the other contexts refuse or remove, then `remove`; after the commit,
 * `committed` so this replica forgets the publishers at once (others hear it from the change feed).
 */
@Injectable()
export class AccountClosureService {
  constructor(
    private readonly feed: ChangeFeed,
    private readonly publishers: PublisherAccessService,
  ) {}

  /** Locks the account row and its publishers' rows in `m`; a vanished account is an invalid token. */
  async lock(m: EntityManager, accountId: string): Promise<PublisherRef[]> {
    const account = await m
      .getRepository(AccountEntity)
      .createQueryBuilder('a')
      .setLock('pessimistic_write')
      .where('a.id = :accountId', { accountId })
      .getOne();
    if (!account) throw AccessTokens.invalid();
    const rows = await m
      .getRepository(PublisherEntity)
      .createQueryBuilder('p')
      .setLock('pessimistic_write')
      .where('p.owner_account_id = :accountId', { accountId })
      .orderBy('p.slug')
      .getMany();
    return rows.map((p) => ({ id: p.id, slug: p.slug, displayName: p.displayName }));
  }

  /**
   * Deletes the publishers (their API tokens go with them: ON DELETE CASCADE) and the account; its
   * access tokens die because their account is gone. Announced to every replica on commit.
   */
  async remove(m: EntityManager, accountId: string, publishers: PublisherRef[]): Promise<void> {
    for (const p of publishers) {
      await m.delete(PublisherEntity, { id: p.id });
      await this.feed.publish('publishers', p.slug, m);
    }
    await m.delete(AccountEntity, { id: accountId });
  }

  committed(publishers: PublisherRef[]): void {
    for (const p of publishers) this.publishers.forget(p.slug);
  }
}
