import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { isUniqueViolation } from '@berth/database';
import { DataSource } from 'typeorm';
import { AccountMailService } from './account-mail.service';
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
  /** Absent while the address awaits confirmation: the answer must not differ for a taken address. */
  id?: string;
  email: string;
  publisher: { slug: string; displayName: string };
  /** `sent`: sign-in works once the mailed link is opened. */
  emailVerification: 'sent' | 'not_required';
}

@Injectable()
export class AccountRegistrationService {
  constructor(
    private readonly dataSource: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly mail: AccountMailService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
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
    const verify = this.config.auth.emailVerification === 'required';
    if (taken.slug) throw AccountsErrors.PublisherSlugTaken(slug);
    const displayName = input.publisher.displayName.trim();
    // With confirmation on, a taken address gets the same answer as a free one; its owner gets a mail.
    const pending = (): RegisteredAccount => ({
      email,
      publisher: { slug, displayName },
      emailVerification: 'sent',
    });
    if (taken.email) {
      if (!verify) throw AccountsErrors.EmailTaken();
      await this.hasher.hash(input.password); // the same time as a real sign-up
      await this.mail.sendAlreadyRegistered(email);
      return pending();
    }
    const passwordHash = await this.hasher.hash(input.password);
    try {
      return await this.dataSource.transaction(async (m) => {
        const account = await m.save(
          m.create(AccountEntity, { email, passwordHash, emailVerifiedAt: verify ? null : new Date() }),
        );
        const publisher = await m.save(
          m.create(PublisherEntity, { slug, displayName, ownerAccountId: account.id }),
        );
        if (verify) {
          await this.mail.sendVerification(m, account);
          return pending();
        }
        return {
          id: account.id,
          email,
          publisher: { slug: publisher.slug, displayName: publisher.displayName },
          emailVerification: 'not_required',
        };
      });
    } catch (e) {
      if (isUniqueViolation(e, 'account_email_key')) {
        if (!verify) throw AccountsErrors.EmailTaken();
        await this.mail.sendAlreadyRegistered(email);
        return pending();
      }
      if (isUniqueViolation(e, 'publisher_slug_key')) throw AccountsErrors.PublisherSlugTaken(slug);
      throw e;
    }
  }
}
