import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTransport, type Transporter } from 'nodemailer';

/** A message as a renderer makes it; From is the store's. */
export interface MailMessage {
  to: string;
  subject: string;
  text: string;
  /** Replies go to the publisher's support address, not to the store. */
  replyTo?: string;
}

/** The mail port: hands one message to whatever delivers it, or throws. */
export interface MailTransport {
  /** How the start line describes it (no credentials). */
  readonly description: string;
  send(message: MailMessage): Promise<void>;
  close(): void;
}

export const MAIL_TRANSPORT = Symbol('MAIL_TRANSPORT');

/**
 * Give up on an SMTP server well inside the sender's lease (mail-sender.ts), so a live sender always
 * records its outcome before another replica may take the message over.
 */
const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };

/** SMTP through nodemailer: STARTTLS when the server offers it on smtp://, TLS from the start on smtps://. */
export class SmtpMailTransport implements MailTransport {
  readonly description: string;
  private readonly transporter: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    const u = new URL(url);
    this.description = `SMTP ${u.protocol}//${u.host}`;
    // Options beside the URL, never from it (SMTP_URL has no query): nodemailer's own logger would print
    // messages, keys included, past the redacting one.
    this.transporter = createTransport({ url, ...SMTP_TIMEOUTS, logger: false, debug: false });
  }

  async send(message: MailMessage): Promise<void> {
    await this.transporter.sendMail({ from: this.from, ...message });
  }

  close(): void {
    this.transporter.close();
  }
}

/**
 * No SMTP server (the embedded default): each message becomes `<time>-<id>.eml` under the outbox
 * folder, the bytes an SMTP server would have received, written whole (temp file, then rename) so a
 * reader never sees half a message.
 */
export class DirectoryMailTransport implements MailTransport {
  readonly description: string;
  private readonly composer = createTransport({ streamTransport: true, buffer: true, newline: 'unix' });

  constructor(
    private readonly dir: string,
    private readonly from: string,
  ) {
    this.description = `.eml files in ${dir}`;
  }

  async send(message: MailMessage): Promise<void> {
    const info = (await this.composer.sendMail({ from: this.from, ...message })) as { message: Buffer };
    await mkdir(this.dir, { recursive: true });
    const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID()}.eml`;
    const tmp = join(this.dir, `.${name}.tmp`);
    await writeFile(tmp, info.message, { mode: 0o600 });
    await rename(tmp, join(this.dir, name));
  }

  close(): void {
    this.composer.close();
  }
}
