import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { PublisherProfileService } from '@berth/accounts';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { licenseCommands, LicenseService, LicenseView } from '@berth/licensing';
import { MailMessage, MailSender } from '@berth/mail';
import { DataSource } from 'typeorm';
import { OrderEntity } from './entities';
import { formatMoney } from './money';

/** A command block in a plain-text mail: each line indented two spaces. */
const indent = (block: string) => block.split('\n').map((line) => `  ${line}`);

/** The outbox kind of the message that carries a new license's key; its subject is the license id. */
export const LICENSE_MAIL = 'license_key';
/**
 * The same message sent again at the publisher's request (LicenseMailResend). Its subject is
 * `<license id>/<epoch ms of the mail before it>`: each resend is its own outbox row.
 */
export const LICENSE_MAIL_AGAIN = 'license_key_again';

/** What a license opens, as its holder reads it. */
export function coverageSentence(l: Pick<LicenseView, 'versionRange' | 'updatesUntil'>): string {
  const range = l.versionRange === '*' ? 'every version' : `versions ${l.versionRange}`;
  if (!l.updatesUntil) return `${range}, including future releases.`;
  return `${range} published until ${l.updatesUntil.toISOString().slice(0, 10)}; what you have by then stays yours.`;
}

/**
 * The license e-mail, on fulfilment and on a complimentary grant. It is written when it is sent, from
 * the license as it is then: the key is minted afresh (keys are never stored), and a license revoked in
 * the meantime gets no mail.
 */
@Injectable()
export class LicenseMail implements OnModuleInit {
  constructor(
    private readonly sender: MailSender,
    private readonly licenses: LicenseService,
    private readonly dataSource: DataSource,
    private readonly profiles: PublisherProfileService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleInit(): void {
    this.sender.register(LICENSE_MAIL, ({ subject }) => this.render(subject));
    this.sender.register(LICENSE_MAIL_AGAIN, ({ subject }) => this.render(subject.split('/')[0]));
  }

  async render(licenseId: string): Promise<MailMessage | null> {
    const license = await this.licenses.find(licenseId);
    if (!license || license.status === 'revoked') return null;
    const order = license.orderId
      ? await this.dataSource.getRepository(OrderEntity).findOne({ where: { id: license.orderId } })
      : null;
    const key = this.licenses.keyFor(license);
    const support = (await this.profiles.get(license.publisherId))?.supportEmail ?? null;
    const repoUrl = `${this.config.publicUrl}/helm/${license.publisher}`;
    const title = `${license.publisher}/${license.chart}`;
    const commands = licenseCommands({
      publicUrl: this.config.publicUrl,
      publisher: license.publisher,
      chart: license.chart,
      licenseId: license.id,
      key,
    });
    const lines = [
      order
        ? `Thank you for buying ${title} (${formatMoney(order.amount, order.currency)}, order ${order.id}).`
        : `${license.publisher} has given you a license for ${title}.`,
      '',
      `It covers ${coverageSentence(license)}`,
      license.status === 'suspended'
        ? 'It is suspended for now (a payment dispute is open); it works again once the dispute is settled.'
        : '',
      '',
      `License id:  ${license.id}`,
      `License key: ${key}`,
      '',
      'Keep the key secret: it is your password to the repository.',
      '',
      'Add the repository and install (the key is read from standard input, so it stays out of your shell history):',
      '',
      `  helm repo add ${license.publisher} ${repoUrl} --username ${license.id} --password-stdin`,
      `  helm install ${license.chart} ${license.publisher}/${license.chart}`,
      '',
      'Or install from the OCI registry:',
      '',
      ...indent(commands.ociInstallCommand),
      '',
      `The chart's container images come from the same registry. Give your cluster a pull secret and name it (${commands.pullSecretName}) in the release's imagePullSecrets:`,
      '',
      ...indent(commands.pullSecretCommand),
      '',
      'Lost this mail, or need a new key? Sign in to My licenses with this address (no password):',
      `  ${this.config.publicUrl}/my/licenses`,
      '',
      support ? `Questions about ${title}? Reply to this mail: it goes to ${support}.` : '',
      '',
      `Store: ${this.config.publicUrl}/`,
    ].filter((line, i, all) => line !== '' || all[i - 1] !== '');
    return {
      to: license.buyerEmail,
      subject: `Your license for ${title}`,
      text: lines.join('\n') + '\n',
      ...(support ? { replyTo: support } : {}),
    };
  }
}
