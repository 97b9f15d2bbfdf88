import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { AccessTokens } from './access-tokens';
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
  ) {}

  /** Password login; throttled per e-mail and per client so guessing costs lockouts. */
  async login(
    emailInput: string,
    password: string,
    clientKey: string,
  ): Promise<{ accessToken: string; expiresIn: number }> {
    const email = emailInput.trim().toLowerCase();
    const keys = [`email:${email}`, `client-email:${clientKey}:${email}`];
    const wait = this.throttle.begin(keys);
    if (wait > 0) {
      throw AccountsErrors.LoginThrottled(wait);
    }
    let ok = false;
    let account: AccountEntity | null = null;
    try {
      account = await this.dataSource.getRepository(AccountEntity).findOne({ where: { email } });
      ok = (await this.hasher.verify(account?.passwordHash ?? null, password)) && account !== null;
    } finally {
      this.throttle.end(keys, ok);
    }
    if (!ok || !account) throw AccountsErrors.InvalidCredentials();
    return this.tokens.issue(account.id);
  }
}
