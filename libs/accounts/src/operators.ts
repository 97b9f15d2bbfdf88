import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { DataSource } from 'typeorm';
import { canonicalEmail } from './email';
import { AccountEntity } from './entities';

/** The store's operators: the accounts whose e-mail OPERATOR_EMAILS names (compared in canonical form). */
@Injectable()
export class Operators {
  private readonly emails: Set<string>;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.emails = new Set(config.operatorEmails.map(canonicalEmail));
  }

  async isOperator(accountId: string): Promise<boolean> {
    if (!this.emails.size) return false;
    const account = await this.dataSource
      .getRepository(AccountEntity)
      .findOne({ where: { id: accountId }, select: { id: true, email: true } });
    return !!account && this.emails.has(canonicalEmail(account.email));
  }
}
