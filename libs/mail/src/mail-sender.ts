import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { returnedRows } from '@berth/database';
import { DataSource } from 'typeorm';
import { MAIL_TRANSPORT, MailMessage, MailTransport } from './mail-transport';

/** Writes the message for one outbox row when it is sent; null when it no longer applies (skipped). */
export type MailRenderer = (row: { subject: string; recipient: string }) => Promise<MailMessage | null>;

/** How often each replica looks for due messages. */
const POLL_MS = 1000;
/** Messages one replica sends per round, each taken (leased) just before it is sent. */
const BATCH = 10;
/**
 * How long a taken message is the taker's: past it, a replica that died mid-send has lost it to the
 * others. Well above the SMTP transport's own timeouts (mail-transport.ts), so a live sender finishes or
 * fails first.
 */
const LEASE_SECONDS = 120;
/** Attempts before a message is given up: 30 s doubling, the last about an hour after the first. */
export const MAX_MAIL_ATTEMPTS = 8;
const backoffSeconds = (attempts: number) => Math.min(3600, 30 * 2 ** (attempts - 1));

interface Taken {
  id: string;
  kind: string;
  subject: string;
  recipient: string;
  attempts: number;
}

/**
 * Sends what the outbox holds, on every replica: each takes due rows with SKIP LOCKED and a lease, so
 * two replicas never take the same row at once and a replica that dies mid-send leaves its rows due
 * again after the lease. Failures are retried with exponential backoff, then given up (logged).
 */
@Injectable()
export class MailSender implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Mail');
  private readonly renderers = new Map<string, MailRenderer>();
  private timer?: NodeJS.Timeout;
  private running: Promise<number> | null = null;
  private stopped = false;

  constructor(
    private readonly dataSource: DataSource,
    @Inject(MAIL_TRANSPORT) private readonly transport: MailTransport,
  ) {}

  /** Each context that mails registers its kinds at start. */
  register(kind: string, render: MailRenderer): void {
    if (this.renderers.has(kind)) throw new Error(`mail kind ${kind} is registered twice`);
    this.renderers.set(kind, render);
  }

  onApplicationBootstrap(): void {
    this.logger.log({ msg: `mail goes to ${this.transport.description}` });
    this.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.stop();
    this.transport.close();
  }

  /** Sends what falls due from now on, every POLL_MS. */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Stops looking for due mail; a batch in flight finishes (or its lease runs out for another replica). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.sendDue()
        .catch((e) => this.logger.warn({ msg: 'mail round failed', error: (e as Error).message }))
        .finally(() => this.schedule());
    }, POLL_MS);
    this.timer.unref();
  }

  /** One round: takes what is due and sends it. Returns how many rows it took. */
  sendDue(): Promise<number> {
    this.running ??= this.round().finally(() => (this.running = null));
    return this.running;
  }

  private async round(): Promise<number> {
    let sent = 0;
    for (; sent < BATCH; sent++) {
      const row = await this.takeOne();
      if (!row) break;
      await this.deliver(row);
    }
    return sent;
  }

  /** Leases the next due message: SKIP LOCKED, so replicas never take the same row at once. */
  private async takeOne(): Promise<Taken | undefined> {
    const result: unknown = await this.dataSource.query(
      `UPDATE "mail_outbox" SET "attempts" = "attempts" + 1,
         "next_attempt_at" = now() + make_interval(secs => $1)
       WHERE "id" = (
         SELECT "id" FROM "mail_outbox" WHERE "status" = 'pending' AND "next_attempt_at" <= now()
         ORDER BY "next_attempt_at" LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING "id", "kind", "subject", "recipient", "attempts"`,
      [LEASE_SECONDS],
    );
    return returnedRows<Taken>(result)[0];
  }

  /**
   * Records what became of a message this sender took. `attempts` fences it: a sender whose lease ran out
   * (another replica took the row since) changes nothing. The clock is the database's, as in takeOne.
   */
  private async settle(row: Taken, outcome: 'sent' | 'skipped' | 'failed' | 'retry', error?: string) {
    const fence = `WHERE "id" = $1 AND "attempts" = $2 AND "status" = 'pending' RETURNING "id"`;
    const result: unknown =
      outcome === 'retry'
        ? await this.dataSource.query(
            `UPDATE "mail_outbox" SET "next_attempt_at" = now() + make_interval(secs => $3), "last_error" = $4 ${fence}`,
            [row.id, row.attempts, backoffSeconds(row.attempts), error ?? null],
          )
        : await this.dataSource.query(
            `UPDATE "mail_outbox" SET "status" = $3, "done_at" = now(), "last_error" = $4 ${fence}`,
            [row.id, row.attempts, outcome, error ?? null],
          );
    if (!returnedRows(result).length)
      this.logger.warn({
        msg: 'mail outcome not recorded: another sender took it over',
        kind: row.kind,
        mailId: row.id,
      });
  }

  private async deliver(row: Taken): Promise<void> {
    let message: MailMessage | null;
    try {
      const render = this.renderers.get(row.kind);
      if (!render) throw new Error(`no renderer for mail kind ${row.kind}`);
      message = await render({ subject: row.subject, recipient: row.recipient });
      if (message) await this.transport.send(message);
    } catch (e) {
      const error = ((e as Error).message || String(e)).slice(0, 500);
      const giveUp = row.attempts >= MAX_MAIL_ATTEMPTS;
      await this.settle(row, giveUp ? 'failed' : 'retry', error);
      const log = { kind: row.kind, mailId: row.id, attempts: row.attempts, error };
      if (giveUp) this.logger.error({ msg: 'mail given up', ...log });
      else this.logger.warn({ msg: 'mail not sent; will retry', ...log });
      return;
    }
    // Sent (or no longer due): a failure to record it from here on must not count as a failed send. At
    // worst the row stays leased and goes out again once the lease ends: at least once, never lost.
    await this.settle(row, message ? 'sent' : 'skipped');
    if (message) this.logger.log({ msg: 'mail sent', kind: row.kind, mailId: row.id });
    else this.logger.log({ msg: 'mail skipped: it no longer applies', kind: row.kind, mailId: row.id });
  }
}
