import { createHash, randomBytes } from 'node:crypto';
import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { SignedLinkIds } from '@berth/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { LicenseService } from '@berth/licensing';
import { MailMessage, MailOutbox, MailSender } from '@berth/mail';
import { DataSource, LessThan } from 'typeorm';
import { BuyerLoginLinkEntity, BuyerSessionEntity } from './entities';
import { StorefrontErrors } from './errors';

/** The outbox kind of a sign-in link; its subject is the link id. */
export const BUYER_LOGIN_MAIL = 'buyer_login_link';
/** How long an e-mailed link opens a session. */
export const LOGIN_LINK_MINUTES = 15;
/** How long a buyer's session lasts from sign-in. */
export const BUYER_SESSION_DAYS = 7;

const normalEmail = (email: string) => email.trim().toLowerCase();
const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** A session just opened: the token goes into the cookie, never anywhere else. */
export interface OpenedBuyerSession {
  token: string;
  email: string;
  expiresAt: Date;
}

/**
 * Passwordless sign-in for buyers: a single-use link by e-mail opens a session that lists the licenses
 * bought with that address. Asking for a link never tells whether the address bought anything: the answer
 * is the same, and only an address with licenses gets a mail.
 */
@Injectable()
export class BuyerSignInService implements OnModuleInit {
  private readonly links: SignedLinkIds;

  constructor(
    private readonly dataSource: DataSource,
    private readonly licenses: LicenseService,
    private readonly outbox: MailOutbox,
    private readonly sender: MailSender,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // Every replica shares ACCESS_TOKEN_SECRET, so each derives the same links.
    this.links = new SignedLinkIds(config.auth.accessTokenSecret, 'berth-buyer-login-links');
  }

  onModuleInit(): void {
    this.sender.register(BUYER_LOGIN_MAIL, ({ subject }) => this.renderLinkMail(subject));
  }

  /** Mails a sign-in link when `email` holds any license; does nothing visible otherwise. */
  async requestLink(email: string): Promise<void> {
    const address = normalEmail(email);
    if (!(await this.licenses.hasAnyForBuyer(address))) return;
    await this.dataSource.transaction(async (m) => {
      await m.delete(BuyerLoginLinkEntity, { expiresAt: LessThan(new Date(Date.now() - 86_400_000)) });
      const link = m.create(BuyerLoginLinkEntity, {
        email: address,
        expiresAt: new Date(Date.now() + LOGIN_LINK_MINUTES * 60_000),
        usedAt: null,
      });
      await m.insert(BuyerLoginLinkEntity, link);
      await this.outbox.enqueue(m, { kind: BUYER_LOGIN_MAIL, subject: link.id, to: address });
    });
  }

  /**
   * Opens a session with a link's token, using the link up: a second use, an expired link or a forged
   * token all get the same refusal.
   */
  async consumeLink(token: string): Promise<OpenedBuyerSession> {
    const id = this.links.idOf(token);
    if (!id) throw StorefrontErrors.LoginLinkInvalid();
    return this.dataSource.transaction(async (m) => {
      const used = await m
        .createQueryBuilder()
        .update(BuyerLoginLinkEntity)
        .set({ usedAt: () => 'now()' })
        .where('id = :id AND used_at IS NULL AND expires_at > now()', { id })
        .returning(['email'])
        .execute();
      const email = (used.raw as Array<{ email: string }>)[0]?.email;
      if (!email) throw StorefrontErrors.LoginLinkInvalid();
      await m.delete(BuyerSessionEntity, { expiresAt: LessThan(new Date()) });
      const sessionToken = randomBytes(32).toString('base64url');
      const expiresAt = new Date(Date.now() + BUYER_SESSION_DAYS * 86_400_000);
      await m.insert(BuyerSessionEntity, { tokenHash: sha256(sessionToken), email, expiresAt });
      return { token: sessionToken, email, expiresAt };
    });
  }

  /** Whether `token` is a link this store minted (its signature), before any database work. */
  isWellFormedLink(token: string): boolean {
    return this.links.idOf(token) !== undefined;
  }

  /** The signed-in buyer's e-mail, or undefined for no, an unknown or an expired session. */
  async authenticate(sessionToken: string | undefined): Promise<string | undefined> {
    if (!sessionToken || sessionToken.length > 100) return undefined;
    const row = await this.dataSource
      .getRepository(BuyerSessionEntity)
      .findOne({ where: { tokenHash: sha256(sessionToken) } });
    if (!row || row.expiresAt.getTime() <= Date.now()) return undefined;
    return row.email;
  }

  async signOut(sessionToken: string | undefined): Promise<void> {
    if (!sessionToken || sessionToken.length > 100) return;
    await this.dataSource.getRepository(BuyerSessionEntity).delete({ tokenHash: sha256(sessionToken) });
  }

  /** The URL a link mail carries: a page that asks the browser to confirm, so mail scanners use nothing up. */
  linkUrl(id: string): string {
    return `${this.config.publicUrl}/my/sign-in?token=${this.links.tokenFor(id)}`;
  }

  private async renderLinkMail(id: string): Promise<MailMessage | null> {
    const link = await this.dataSource.getRepository(BuyerLoginLinkEntity).findOne({ where: { id } });
    // A link that can no longer open anything is not worth a mail.
    if (!link || link.usedAt || link.expiresAt.getTime() <= Date.now()) return null;
    return {
      to: link.email,
      subject: 'Your sign-in link for My licenses',
      text: [
        'Open this link to see your licenses, their keys and install commands:',
        '',
        `  ${this.linkUrl(link.id)}`,
        '',
        `It works once, for ${LOGIN_LINK_MINUTES} minutes. If you did not ask for it, ignore this mail:`,
        'nobody can sign in without it.',
        '',
        `Store: ${this.config.publicUrl}/`,
        '',
      ].join('\n'),
    };
  }
}
