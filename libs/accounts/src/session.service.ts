import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccessTokens } from './access-tokens';
import { AccountMailService } from './account-mail.service';
import { canonicalEmail } from './email';
import { AccountEntity } from './entities';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';
import { AccountsErrors } from './errors';

@Injectable()
export class SessionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly tokens: AccessTokens,
    private readonly mail: AccountMailService,
  ) {}

  /** Password login; throttled per (client, e-mail) and per e-mail (see LoginThrottle). */
  async login(
    emailInput: string,
    password: string,
    clientKey: string,
  ): Promise<{ accessToken: string; expiresIn: number; accountId: string }> {
    const account = await this.checkLogin(emailInput, password, clientKey);
    return { ...this.tokens.issue(account.id, account.sessionEpoch), accountId: account.id };
  }

  /**
   * The account an e-mail and password open, by the login's rules (throttle, confirmed address): for the
   * API's access token and the console's cookie session alike.
   */
  async checkLogin(emailInput: string, password: string, clientKey: string): Promise<AccountEntity> {
    const email = canonicalEmail(emailInput);
    const reservation = await this.throttle.begin(clientKey, email);
    if ('wait' in reservation) {
      throw AccountsErrors.LoginThrottled(reservation.wait);
    }
    let ok = false;
    let account: AccountEntity | null = null;
    try {
      account = await this.dataSource.getRepository(AccountEntity).findOne({ where: { email } });
      ok = (await this.hasher.verify(account?.passwordHash ?? null, password)) && account !== null;
    } catch (e) {
      // Not checked (the hasher is busy, the database away): not a failed guess either.
      await this.throttle.end(reservation, 'unchecked').catch(() => undefined);
      throw e;
    }
    await this.throttle.end(reservation, ok ? 'ok' : 'failed');
    if (!ok || !account) throw AccountsErrors.InvalidCredentials();
    if (!account.emailVerifiedAt) {
      // The right password proves the account is theirs: a new link replaces one that expired or got lost.
      await this.mail.resendVerification(account);
      throw AccountsErrors.EmailNotVerified();
    }
    return account;
  }

  /**
   * The account an access token speaks for, checked against the account row on every call: a token of
   * an earlier session epoch (signed out everywhere, password changed) or of a deleted account is
   * refused at once on every replica, with the same answer as a forged one.
   */
  async authenticate(accessToken: string): Promise<string> {
    const { accountId, sessionEpoch } = this.tokens.verify(accessToken);
    const row = await this.dataSource
      .getRepository(AccountEntity)
      .findOne({ where: { id: accountId }, select: { id: true, sessionEpoch: true } });
    if (!row || row.sessionEpoch !== sessionEpoch) throw AccessTokens.invalid();
    return accountId;
  }

  /**
   * Checks the account's password for a sensitive change, counted by the same per-e-mail throttle as
   * logins, so a stolen access token cannot be used to guess the password faster than logging in.
   */
  async confirmPassword(accountId: string, password: string, clientKey: string): Promise<AccountEntity> {
    const account = await this.dataSource.getRepository(AccountEntity).findOne({ where: { id: accountId } });
    if (!account) throw AccessTokens.invalid();
    const reservation = await this.throttle.begin(clientKey, account.email);
    if ('wait' in reservation) {
      throw AccountsErrors.LoginThrottled(reservation.wait);
    }
    let ok = false;
    try {
      ok = await this.hasher.verify(account.passwordHash, password);
    } catch (e) {
      // Not checked (the hasher is busy, the database away): not a failed guess either.
      await this.throttle.end(reservation, 'unchecked').catch(() => undefined);
      throw e;
    }
    await this.throttle.end(reservation, ok ? 'ok' : 'failed');
    if (!ok) throw AccountsErrors.PasswordIncorrect();
    return account;
  }

  /**
   * Sets a new password after checking the current one and ends every session of the account (other
   * devices, a stolen access token); returns a fresh access token so the caller stays logged in.
   * API tokens are not touched: they are listed and revoked one by one.
   */
  async changePassword(
    accountId: string,
    currentPassword: string,
    newPassword: string,
    clientKey: string,
  ): Promise<{ accessToken: string; expiresIn: number }> {
    await this.confirmPassword(accountId, currentPassword, clientKey);
    const passwordHash = await this.hasher.hash(newPassword);
    const epoch = await this.nextEpoch(accountId, { passwordHash });
    return this.tokens.issue(accountId, epoch);
  }

  /** Ends every session of the account, this one included: all its access tokens stop working at once. */
  async signOutEverywhere(accountId: string): Promise<void> {
    await this.nextEpoch(accountId, {});
  }

  private async nextEpoch(accountId: string, also: { passwordHash?: string }): Promise<number> {
    const params: unknown[] = [accountId];
    let set = '"session_epoch" = "session_epoch" + 1';
    if (also.passwordHash !== undefined) {
      params.push(also.passwordHash);
      set += ', "password_hash" = $2';
    }
    // TypeORM answers an UPDATE on Postgres with [rows, affectedCount].
    const [rows] = (await this.dataSource.query(
      `UPDATE "account" SET ${set} WHERE "id" = $1 RETURNING "session_epoch"`,
      params,
    )) as [Array<{ session_epoch: number }>, number];
    if (!rows.length) throw AccessTokens.invalid();
    return rows[0].session_epoch;
  }
}
