import { ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePorts } from './minio';
import { toolPath } from './tools';

/** The link to `path` (with a `token`) in a mail's text, as its reader would click it. */
export function linkIn(text: string, path: string): string | undefined {
  // Mailpit hands back the text part decoded; a link sits alone on its line.
  return text
    .split('\n')
    .map((line) => line.trim())
    .find(
      (line) =>
        /^https?:\/\/\S+$/.test(line) && new URL(line).pathname.endsWith(path) && line.includes('?token='),
    );
}

/** The `token` a mailed link carries. */
export const tokenOf = (link: string): string => new URL(link).searchParams.get('token') ?? '';

/** One message as Mailpit's API describes it. */
export interface ReceivedMail {
  id: string;
  subject: string;
  to: string[];
  from: string;
  replyTo: string[];
  text: string;
}

export interface Mailpit {
  /** `smtp://127.0.0.1:<port>`: the store's SMTP_URL. */
  smtpUrl: string;
  /** Every message received so far, oldest first, with its text. */
  messages(): Promise<ReceivedMail[]>;
  /** Waits until `count` messages to `to` have arrived (or fails after `timeoutMs`), and returns them. */
  waitFor(to: string, count?: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

type Address = { Address: string };
interface Summary {
  ID: string;
}
interface Message {
  ID: string;
  Subject: string;
  From: Address;
  To: Address[];
  ReplyTo: Address[] | null;
  Text: string;
}

/**
 * Mailpit (a real SMTP server that keeps what it receives, with an HTTP API to read it) on free loopback ports, or
 * on `smtpPort` when a test needs the server to appear where a store already points.
 */
export async function startMailpit(smtpPort?: number): Promise<Mailpit> {
  const [free, http] = await freePorts(2);
  const smtp = smtpPort ?? free;
  const dir = await mkdtemp(join(tmpdir(), 'berth-mailpit-'));
  let output = '';
  const child: ChildProcess = spawn(
    toolPath('mailpit'),
    ['--smtp', `127.0.0.1:${smtp}`, '--listen', `127.0.0.1:${http}`, '--database', join(dir, 'mail.db')],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const api = `http://127.0.0.1:${http}/api/v1`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${api}/info`)).ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`Mailpit did not start:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const messages = async (): Promise<ReceivedMail[]> => {
    const list = (await (await fetch(`${api}/messages?limit=500`)).json()) as { messages: Summary[] };
    const full = await Promise.all(
      list.messages.map(async (m) => (await (await fetch(`${api}/message/${m.ID}`)).json()) as Message),
    );
    // The API lists newest first.
    return full.reverse().map((m) => ({
      id: m.ID,
      subject: m.Subject,
      from: m.From.Address,
      to: m.To.map((a) => a.Address),
      replyTo: (m.ReplyTo ?? []).map((a) => a.Address),
      text: m.Text,
    }));
  };
  return {
    smtpUrl: `smtp://127.0.0.1:${smtp}`,
    messages,
    async waitFor(to, count = 1, timeoutMs = 15_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const mine = (await messages()).filter((m) => m.to.includes(to));
        if (mine.length >= count) return mine;
        if (Date.now() > until)
          throw new Error(`${mine.length} of ${count} messages to ${to} arrived within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    stop,
  };
}
