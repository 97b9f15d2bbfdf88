import { Injectable } from '@nestjs/common';
import { LicenseService, LicensingErrors } from '@berth/licensing';
import { MailOutbox } from '@berth/mail';
import { DataSource } from 'typeorm';
import { CommerceErrors } from './errors';
import { LICENSE_MAIL, LICENSE_MAIL_AGAIN } from './license-mail';

/**
 * The least time between two license e-mails of one license (the first one included): enough for a
 * buyer who lost the mail, too little to flood an inbox or the store's mail reputation.
 */
export const LICENSE_MAIL_INTERVAL_SECONDS = 10 * 60;

/**
 * The publisher sends a license's e-mail again, to the address the license was issued to (never another
 * one). It is the same message as on purchase or grant (LicenseMail), written when it is sent: the key
 * minted afresh then, nothing secret in the outbox. A revoked license has no key to send (409).
 */
@Injectable()
export class LicenseMailResend {
  constructor(
    private readonly licenses: LicenseService,
    private readonly mail: MailOutbox,
    private readonly dataSource: DataSource,
  ) {}

  async resend(publisherId: string, licenseId: string): Promise<void> {
    const license = await this.licenses.requireForPublisher(publisherId, licenseId);
    if (license.status === 'revoked') throw LicensingErrors.LicenseRevoked();
    const now = Date.now();
    const [last] = await this.mail.about([LICENSE_MAIL, LICENSE_MAIL_AGAIN], [license.id], 1);
    const since = last ? (now - last.queuedAt.getTime()) / 1000 : Infinity;
    if (since < LICENSE_MAIL_INTERVAL_SECONDS) throw this.tooSoon(LICENSE_MAIL_INTERVAL_SECONDS - since);
    // Named after the mail it follows: two requests racing past the check above name the same row, and
    // the outbox's unique (kind, subject) lets only one of them in.
    const queued = await this.mail.enqueue(this.dataSource.manager, {
      kind: LICENSE_MAIL_AGAIN,
      subject: `${license.id}/${last ? last.queuedAt.getTime() : 0}`,
      to: license.buyerEmail,
    });
    if (!queued) throw this.tooSoon(LICENSE_MAIL_INTERVAL_SECONDS);
  }

  private tooSoon(waitSeconds: number) {
    return CommerceErrors.LicenseMailTooSoon(
      LICENSE_MAIL_INTERVAL_SECONDS / 60,
      Math.max(1, Math.ceil(waitSeconds)),
    );
  }
}
