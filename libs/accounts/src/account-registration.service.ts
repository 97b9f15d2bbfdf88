import { Injectable } from '@nestjs/common';
import { isUniqueViolation } from '@berth/database';
import { DataSource } from 'typeorm';
import { AccountEntity, PublisherEntity } from './entities';
import { PasswordHasher } from './password-hasher';
import { RESERVED_SLUGS } from './scopes';
import { AccountsErrors } from './errors';

export interface RegisterAccountInput {
  email: string;
  password: string;
  publisher: { slug: string; displayName: string };
}

export interface RegisteredAccount {
  id: string;
  email: string;
  publisher: { slug: string; displayName: string };
}

@Injectable()
export class AccountRegistrationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
  ) {}

  async register(input: RegisterAccountInput): Promise<RegisteredAccount> {
    const email = input.email.trim().toLowerCase();
    const slug = input.publisher.slug;
    if (RESERVED_SLUGS.has(slug)) {
      throw AccountsErrors.PublisherSlugReserved(slug);
    }
    const passwordHash = await this.hasher.hash(input.password);
    try {
      return await this.dataSource.transaction(async (m) => {
        const account = await m.save(m.create(AccountEntity, { email, passwordHash }));
        const publisher = await m.save(
          m.create(PublisherEntity, {
            slug,
            displayName: input.publisher.displayName.trim(),
            ownerAccountId: account.id,
          }),
        );
        return {
          id: account.id,
          email,
          publisher: { slug: publisher.slug, displayName: publisher.displayName },
        };
      });
    } catch (e) {
      if (isUniqueViolation(e, 'account_email_key')) throw AccountsErrors.EmailTaken();
      if (isUniqueViolation(e, 'publisher_slug_key')) throw AccountsErrors.PublisherSlugTaken(slug);
      throw e;
    }
  }
}
