import { Injectable } from '@nestjs/common';
import { isUniqueViolation } from '@berth/database';
import { DataSource } from 'typeorm';
import { AccountEntity, PublisherEntity } from './entities';
import { PasswordHasher } from './password-hasher';
import { acceptableEmail } from './email';
import { AccountsErrors } from './errors';
import { slugRefusal } from './scopes';

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
    const email = acceptableEmail(input.email);
    const slug = input.publisher.slug;
    const refusal = slugRefusal(slug);
    if (refusal) throw AccountsErrors.PublisherSlugReserved(refusal);
    // Taken names are refused before the (deliberately slow) hash: a flood of sign-ups with a known
    // e-mail must cost a lookup, not a hash each. The unique indexes still settle races below.
    const [taken] = (await this.dataSource.query(
      `SELECT EXISTS (SELECT 1 FROM account WHERE email = $1) AS email,
              EXISTS (SELECT 1 FROM publisher WHERE slug = $2) AS slug`,
      [email, slug],
    )) as Array<{ email: boolean; slug: boolean }>;
    if (taken.email) throw AccountsErrors.EmailTaken();
    if (taken.slug) throw AccountsErrors.PublisherSlugTaken(slug);
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
