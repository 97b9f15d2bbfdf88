import { createHash, randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccountEntity, ConsoleSessionEntity, PublisherEntity } from './entities';
import { AccountsErrors } from './errors';
import type { PublisherRef } from './publisher-access.service';

/** How long a console sign-in lasts (a working day); signing in again starts a new one. */
export const CONSOLE_SESSION_HOURS = 12;

export interface OpenedConsoleSession {
  token: string;
  expiresAt: Date;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const wellFormed = (token: string | undefined): token is string =>
  !!token && token.length <= 100 && /^[A-Za-z0-9_-]+$/.test(token);

/** Cookie sessions of the publisher's console, beside the API's access tokens (same epoch rule). */
@Injectable()
export class ConsoleSessions {
  constructor(private readonly dataSource: DataSource) {}

  async open(account: Pick<AccountEntity, 'id' | 'sessionEpoch'>): Promise<OpenedConsoleSession> {
    const token = randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + CONSOLE_SESSION_HOURS * 3600_000);
    const repo = this.dataSource.getRepository(ConsoleSessionEntity);
    // The account's dead rows (expired, or of an earlier epoch) go as it signs in again, so the table
    // holds live sessions and a few more, with no sweeper.
    await this.dataSource.query(
      `DELETE FROM "console_session" WHERE "account_id" = $1 AND ("expires_at" < now() OR "session_epoch" <> $2)`,
      [account.id, account.sessionEpoch],
    );
    await repo.insert({
      tokenHash: sha256(token),
      accountId: account.id,
      sessionEpoch: account.sessionEpoch,
      expiresAt,
    });
    return { token, expiresAt };
  }

  /** The account a cookie speaks for: undefined for none, an unknown, expired or signed-out session. */
  async authenticate(token: string | undefined): Promise<string | undefined> {
    if (!wellFormed(token)) return undefined;
    const [row] = (await this.dataSource.query(
      `SELECT s."account_id" FROM "console_session" s JOIN "account" a ON a."id" = s."account_id"
        WHERE s."token_hash" = $1 AND s."expires_at" > now() AND a."session_epoch" = s."session_epoch"`,
      [sha256(token)],
    )) as Array<{ account_id: string }>;
    return row?.account_id;
  }

  async close(token: string | undefined): Promise<void> {
    if (!wellFormed(token)) return;
    await this.dataSource.getRepository(ConsoleSessionEntity).delete({ tokenHash: sha256(token) });
  }

  /** The account's e-mail address, to show who is signed in. */
  async email(accountId: string): Promise<string> {
    const a = await this.dataSource
      .getRepository(AccountEntity)
      .findOne({ where: { id: accountId }, select: { id: true, email: true } });
    return a?.email ?? '';
  }

  /** The publishers the account owns, by slug. */
  async publishersOf(accountId: string): Promise<PublisherRef[]> {
    const rows = await this.dataSource
      .getRepository(PublisherEntity)
      .find({ where: { ownerAccountId: accountId }, order: { slug: 'ASC' } });
    return rows.map((p) => ({ id: p.id, slug: p.slug, displayName: p.displayName }));
  }

  /**
   * The account's publisher of this slug. Another's and an unknown one get the same answer, so the
   * console never tells which publishers exist.
   */
  async ownedPublisher(accountId: string, slug: string): Promise<PublisherRef> {
    const p = await this.dataSource
      .getRepository(PublisherEntity)
      .findOne({ where: { slug, ownerAccountId: accountId } });
    if (!p) throw AccountsErrors.NotPublisherOwner();
    return { id: p.id, slug: p.slug, displayName: p.displayName };
  }
}
