import { randomUUID } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { SignedLinkIds } from '@berth/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { MailMessage, MailOutbox, MailSender } from '@berth/mail';
import { DataSource, EntityManager, IsNull, LessThan, MoreThan } from 'typeorm';
import { AccessTokens } from './access-tokens';
import { canonicalEmail } from './email';
import { AccountEntity, AccountMailTokenEntity } from './entities';
import { AccountsErrors } from './errors';
import { PasswordHasher } from './password-hasher';

/** Outbox kinds of the mail an account's owner gets. */
export const ACCOUNT_MAIL = {
  verify: 'account_verify_email',
  exists: 'account_exists',
  reset: 'account_password_reset',
} as const;
const LIFETIME_MS = { verify_email: 24 * 3_600_000, reset_password: 30 * 60_000 } as const;
type Purpose = keyof typeof LIFETIME_MS;
const RESEND_AFTER_MS = 5 * 60_000;

/**
 * The mail an account's owner gets and the links in it: confirming the address after sign-up, "you already
 * have an account" when someone signs up with a taken address, and resetting a forgotten password (which
 * ends every session). Links are single-use and short-lived; only their ids are stored.
 */
@Injectable()
export class AccountMailService implements OnModuleInit {
  private readonly links: SignedLinkIds;

  constructor(
    private readonly dataSource: DataSource,
    private readonly outbox: MailOutbox,
    private readonly sender: MailSender,
    private readonly hasher: PasswordHasher,
    private readonly tokens: AccessTokens,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.links = new SignedLinkIds(config.auth.accessTokenSecret, 'berth-account-links');
  }

  onModuleInit(): void {
    this.sender.register(ACCOUNT_MAIL.verify, ({ subject }) => this.renderLink(subject, 'verify_email'));
    this.sender.register(ACCOUNT_MAIL.reset, ({ subject }) => this.renderLink(subject, 'reset_password'));
    this.sender.register(ACCOUNT_MAIL.exists, ({ recipient }) =>
      Promise.resolve(this.renderExists(recipient)),
    );
  }

  /** Inside the sign-up's transaction: the confirmation mail exists exactly when the account does. */
  async sendVerification(m: EntityManager, account: { id: string; email: string }): Promise<void> {
    const id = await this.newLink(m, account.id, 'verify_email');
    await this.outbox.enqueue(m, { kind: ACCOUNT_MAIL.verify, subject: id, to: account.email });
  }

  /**
   * After a correct password on an unconfirmed account: a fresh confirmation link, unless one was mailed in
   * the last few minutes (the first may still be on its way).
   */
  async resendVerification(account: { id: string; email: string }): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const recent = await m.exists(AccountMailTokenEntity, {
        where: {
          accountId: account.id,
          purpose: 'verify_email',
          usedAt: IsNull(),
          createdAt: MoreThan(new Date(Date.now() - RESEND_AFTER_MS)),
        },
      });
      if (!recent) await this.sendVerification(m, account);
    });
  }

  /** Someone signed up with this (taken) address: its owner hears of it; nothing else happens. */
  async sendAlreadyRegistered(email: string): Promise<void> {
    await this.outbox.enqueue(this.dataSource.manager, {
      kind: ACCOUNT_MAIL.exists,
      subject: randomUUID(),
      to: email,
    });
  }

  /** Mails a reset link when the address has an account; the caller answers the same either way. */
  async requestPasswordReset(emailInput: string): Promise<void> {
    const email = canonicalEmail(emailInput);
    const account = await this.dataSource.getRepository(AccountEntity).findOne({ where: { email } });
    if (!account) return;
    await this.dataSource.transaction(async (m) => {
      const id = await this.newLink(m, account.id, 'reset_password');
      await this.outbox.enqueue(m, { kind: ACCOUNT_MAIL.reset, subject: id, to: account.email });
    });
  }

  /** Confirms the address the link was sent to. */
  async verifyEmail(token: string): Promise<void> {
    await this.dataSource.transaction(async (m) => {
      const accountId = await this.useLink(m, token, 'verify_email');
      await m.update(
        AccountEntity,
        { id: accountId, emailVerifiedAt: IsNull() },
        { emailVerifiedAt: new Date() },
      );
    });
  }

  /**
   * Sets a new password with a reset link and ends every session of the account (its access tokens stop at
   * once). Opening the mailed link also proves the address, so it counts as confirmed. Returns a fresh
   * access token for the caller.
   */
  async resetPassword(
    token: string,
    newPassword: string,
  ): Promise<{ accessToken: string; expiresIn: number }> {
    // Hashed before the link is used up: a busy hasher leaves the link usable for another try.
    if (!this.links.idOf(token)) throw AccountsErrors.AccountLinkInvalid();
    const passwordHash = await this.hasher.hash(newPassword);
    const { accountId, epoch } = await this.dataSource.transaction(async (m) => {
      const accountId = await this.useLink(m, token, 'reset_password');
      const [rows] = (await m.query(
        `UPDATE "account" SET "password_hash" = $2, "session_epoch" = "session_epoch" + 1,
           "email_verified_at" = coalesce("email_verified_at", now())
         WHERE "id" = $1 RETURNING "session_epoch"`,
        [accountId, passwordHash],
      )) as [Array<{ session_epoch: number }>, number];
      // Every other reset link of the account dies with this one.
      await m.update(
        AccountMailTokenEntity,
        { accountId, purpose: 'reset_password', usedAt: IsNull() },
        { usedAt: new Date() },
      );
      return { accountId, epoch: rows[0].session_epoch };
    });
    return this.tokens.issue(accountId, epoch);
  }

  /** Whether `token` is a link this store minted (its signature), before any database work. */
  isWellFormedLink(token: string): boolean {
    return this.links.idOf(token) !== undefined;
  }

  private async newLink(m: EntityManager, accountId: string, purpose: Purpose): Promise<string> {
    await m.delete(AccountMailTokenEntity, { expiresAt: LessThan(new Date(Date.now() - 86_400_000)) });
    const row = m.create(AccountMailTokenEntity, {
      accountId,
      purpose,
      expiresAt: new Date(Date.now() + LIFETIME_MS[purpose]),
      usedAt: null,
    });
    await m.insert(AccountMailTokenEntity, row);
    return row.id;
  }

  /** Uses a link up and answers its account; a forged, used, expired or other-purpose link: 400. */
  private async useLink(m: EntityManager, token: string, purpose: Purpose): Promise<string> {
    const id = this.links.idOf(token);
    if (!id) throw AccountsErrors.AccountLinkInvalid();
    const [rows] = (await m.query(
      `UPDATE "account_mail_token" SET "used_at" = now()
       WHERE "id" = $1 AND "purpose" = $2 AND "used_at" IS NULL AND "expires_at" > now()
       RETURNING "account_id"`,
      [id, purpose],
    )) as [Array<{ account_id: string }>, number];
    const accountId = rows[0]?.account_id;
    if (!accountId) throw AccountsErrors.AccountLinkInvalid();
    return accountId;
  }

  private async renderLink(id: string, purpose: Purpose): Promise<MailMessage | null> {
    const link = await this.dataSource
      .getRepository(AccountMailTokenEntity)
      .findOne({ where: { id }, relations: { account: true } });
    if (!link?.account || link.usedAt || link.expiresAt.getTime() <= Date.now()) return null;
    const token = this.links.tokenFor(id);
    const store = `${this.config.publicUrl}/`;
    if (purpose === 'verify_email')
      return {
        to: link.account.email,
        subject: 'Confirm your e-mail address for Berth',
        text: [
          'Open this link to confirm your address and start publishing:',
          '',
          `  ${this.config.publicUrl}/account/verify?token=${token}`,
          '',
          'It works once, for 24 hours. If you did not sign up, ignore this mail: nothing happens without it.',
          '',
          `Store: ${store}`,
          '',
        ].join('\n'),
      };
    return {
      to: link.account.email,
      subject: 'Reset your Berth password',
      text: [
        'Open this link to choose a new password. Setting it signs you out everywhere:',
        '',
        `  ${this.config.publicUrl}/account/reset?token=${token}`,
        '',
        'It works once, for 30 minutes. If you did not ask for it, ignore this mail: your password stays.',
        '',
        `Store: ${store}`,
        '',
      ].join('\n'),
    };
  }

  private renderExists(email: string): MailMessage {
    return {
      to: email,
      subject: 'You already have a Berth account',
      text: [
        'Someone (maybe you) tried to sign up with this address, which already has an account. Nothing was',
        'changed. Sign in with your password; if you forgot it, reset it here:',
        '',
        `  ${this.config.publicUrl}/account/forgot`,
        '',
      ].join('\n'),
    };
  }
}
