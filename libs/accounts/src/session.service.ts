import { Injectable } from '@nestjs/common';
import { DomainError, ErrorKind, unauthenticated } from '@berth/common';
import { DataSource } from 'typeorm';
import { AccessTokens } from './access-tokens';
import { AccountEntity } from './entities';
import { AccountsErrorCode } from './errors';
import { LoginThrottle } from './login-throttle';
import { PasswordHasher } from './password-hasher';

@Injectable()
export class SessionService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly throttle: LoginThrottle,
    private readonly tokens: AccessTokens,
  ) {}

  /** Password login; throttled per (client, e-mail) and per e-mail (see LoginThrottle). */
  async login(
    emailInput: string,
    password: string,
    clientKey: string,
  ): Promise<{ accessToken: string; expiresIn: number }> {
    const email = emailInput.trim().toLowerCase();
    const reservation = await this.throttle.begin(clientKey, email);
    if ('wait' in reservation) {
      throw new DomainError(
        ErrorKind.RateLimited,
        AccountsErrorCode.LoginThrottled,
        'Too many failed logins; try again later.',
        { retryAfterSeconds: reservation.wait },
      );
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
    if (!ok || !account)
      throw unauthenticated(AccountsErrorCode.InvalidCredentials, 'The e-mail or password is wrong.');
    return this.tokens.issue(account.id);
  }
}
