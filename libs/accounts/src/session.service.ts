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

  /** Password login; throttled per e-mail and per client so guessing costs lockouts. */
  async login(emailInput: string, password: string, clientKey: string): Promise<{ accessToken: string; expiresIn: number }> {
    const email = emailInput.trim().toLowerCase();
    const keys = [`email:${email}`, `client:${clientKey}`];
    const wait = this.throttle.retryAfter(keys);
    if (wait > 0) {
      throw new DomainError(ErrorKind.RateLimited, AccountsErrorCode.LoginThrottled, 'Too many failed logins; try again later.', {
        retryAfterSeconds: wait,
      });
    }
    const account = await this.dataSource.getRepository(AccountEntity).findOne({ where: { email } });
    const ok = await this.hasher.verify(account?.passwordHash ?? null, password);
    if (!account || !ok) {
      this.throttle.recordFailure(keys);
      throw unauthenticated(AccountsErrorCode.InvalidCredentials, 'The e-mail or password is wrong.');
    }
    this.throttle.recordSuccess([`email:${email}`]);
    return this.tokens.issue(account.id);
  }
}
