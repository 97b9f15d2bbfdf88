import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createServer, Server } from 'node:net';
import { LICENSE_MAIL, LicenseMail } from '@berth/commerce';
import { MailSender, MAX_MAIL_ATTEMPTS, SmtpMailTransport } from '@berth/mail';
import { DataSource } from 'typeorm';
import { bearer, createPublisher, postJson as post, Publisher, publishChart } from '../support/api';
import { simpleChart } from '../support/charts';
import { buyerEmail, buyLocally, payLocally, startCheckout } from '../support/checkout';
import { InProcessStore, startInProcess } from '../support/in-process';
import { Mailpit, startMailpit } from '../support/mailpit';
import { freePorts } from '../support/minio';

const PUBLIC_URL = 'https://store.example.test';

type Row = { kind: string; subject: string; status: string; attempts: number; last_error: string | null };

/** The key and id a license e-mail carries, read the way a buyer reads them. */
function licenseIn(text: string) {
  return {
    id: /^License id: +(\S+)$/m.exec(text)?.[1],
    key: /^License key: +(berth_lic_\S+)$/m.exec(text)?.[1],
  };
}

/** Undoes quoted-printable (soft line breaks, =XX) as a mail client does. */
const unQuotedPrintable = (s: string) =>
  s.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

describe('license e-mail through the outbox', () => {
  describe('over SMTP (Mailpit), on Postgres', () => {
    let mailpit: Mailpit;
    let store: InProcessStore;
    let db: DataSource;
    let acme: Publisher;
    const outbox = (): Promise<Row[]> =>
      db.query(`SELECT kind, subject, status, attempts, last_error FROM mail_outbox ORDER BY created_at`);
    const verify = async (key: string) =>
      (await (await post(`${store.url}/v1/licenses/verify`, { key })).json()) as {
        valid: boolean;
        license?: { id: string };
      };

    beforeAll(async () => {
      mailpit = await startMailpit();
      store = await startInProcess('postgres', { PUBLIC_URL, SMTP_URL: mailpit.smtpUrl });
      db = store.app.get(DataSource);
      acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write', 'licenses:write']);
      await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '2.1.0'), 4900);
    }, 60_000);
    afterAll(async () => {
      await store?.close();
      await mailpit?.stop();
    });

    it('mails the buyer a working key, the coverage and the Helm commands once the payment completes', async () => {
      const email = buyerEmail('mail');
      const started = await startCheckout(store.url, { publisher: 'acme', chart: 'superdb', email });
      const paid = await payLocally(store.url, started);
      const [mail] = await mailpit.waitFor(email);
      expect(mail.subject).toBe('Your license for acme/superdb');
      expect(mail.from).toBe('no-reply@store.example.test');
      expect(mail.text).toContain(`Thank you for buying acme/superdb (49.00 USD, order ${paid.orderId}).`);
      expect(mail.text).toContain('It covers every version, including future releases.');
      expect(mail.text).toContain(
        `helm repo add acme ${PUBLIC_URL}/helm/acme --username ${paid.id} --password-stdin`,
      );
      const carried = licenseIn(mail.text);
      expect(carried.id).toBe(paid.id);
      // Minted when sent (keys are never stored): another string than the success page's, as valid.
      expect(await verify(carried.key!)).toMatchObject({ valid: true, license: { id: paid.id } });
      // The chart's images: a pull secret keyed by <host>/<publisher>, with the very key of this mail.
      const host = new URL(PUBLIC_URL).host;
      expect(mail.text).toContain(
        `  kubectl create secret docker-registry acme-pull --docker-server=${host}/acme --docker-username=${paid.id} --docker-password=${carried.key}`,
      );
      expect(mail.text).toContain(`  helm install superdb oci://${host}/acme/superdb`);

      // Pressing Pay again changes nothing and mails nothing more.
      const again = await fetch(`${store.url}${new URL(started.checkoutUrl).pathname}/pay`, {
        method: 'POST',
        redirect: 'manual',
      });
      expect(again.status).toBe(303);
      await store.app.get(MailSender).sendDue();
      expect((await mailpit.messages()).filter((m) => m.to.includes(email))).toHaveLength(1);
      expect(
        await db.query(
          `SELECT kind, subject, status, attempts, last_error FROM mail_outbox WHERE recipient = $1`,
          [email],
        ),
      ).toEqual([{ kind: 'license_key', subject: paid.id, status: 'sent', attempts: 1, last_error: null }]);
    });

    it("sets the publisher's support address as Reply-To, and refuses one that is not an address", async () => {
      const profile = (body: unknown, token = acme.accessToken) =>
        fetch(`${store.url}/v1/publishers/acme/profile`, {
          method: 'PATCH',
          headers: { ...bearer(token), 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
      expect((await profile({ supportEmail: 'not an address' })).status).toBe(400);
      // An API token cannot change the profile: the owner's access token only.
      expect((await profile({ supportEmail: 'help@acme.example' }, acme.apiToken)).status).toBe(403);
      const set = await profile({ supportEmail: 'Help@Acme.example' });
      expect(set.status).toBe(200);
      expect(await set.json()).toEqual({
        slug: 'acme',
        displayName: 'ACME',
        supportEmail: 'help@acme.example',
        logo: null,
      });
      const email = buyerEmail('reply');
      await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email });
      const [mail] = await mailpit.waitFor(email);
      expect(mail.replyTo).toEqual(['help@acme.example']);
      expect(mail.from).toBe('no-reply@store.example.test');
      expect(mail.text).toContain('Reply to this mail: it goes to help@acme.example.');
      expect(mail.text).toContain(`${PUBLIC_URL}/my/licenses`);
      expect((await profile({ supportEmail: null })).status).toBe(200);
    });

    it('mails a complimentary license, and keeps no key in the outbox', async () => {
      const email = buyerEmail('comp');
      const res = await post(
        `${store.url}/v1/publishers/acme/licenses`,
        { chart: 'superdb', email, versionRange: '^2.0.0' },
        bearer(acme.apiToken),
      );
      expect(res.status).toBe(201);
      const granted = (await res.json()) as { id: string };
      const [mail] = await mailpit.waitFor(email);
      expect(mail.text).toContain('acme has given you a license for acme/superdb.');
      expect(mail.text).toContain('It covers versions >=2.0.0 <3.0.0-0, including future releases.');
      expect(await verify(licenseIn(mail.text).key!)).toMatchObject({
        valid: true,
        license: { id: granted.id },
      });
      const everything = JSON.stringify(await db.query(`SELECT * FROM mail_outbox`));
      expect(everything).not.toContain('berth_lic_');
    });

    it('sends nothing for a license revoked before its mail went out', async () => {
      const email = buyerEmail('revoked');
      const sender = store.app.get(MailSender);
      // Hold the sender back: the row stays due until revoked.
      await sender.stop();
      try {
        const res = await post(
          `${store.url}/v1/publishers/acme/licenses`,
          { chart: 'superdb', email },
          bearer(acme.apiToken),
        );
        expect(res.status).toBe(201);
        const { id } = (await res.json()) as { id: string };
        const revoke = await fetch(`${store.url}/v1/publishers/acme/licenses/${id}`, {
          method: 'DELETE',
          headers: bearer(acme.apiToken),
        });
        expect(revoke.status).toBe(204);
        expect(await sender.sendDue()).toBe(1);
        expect((await outbox()).find((r) => r.subject === id)).toMatchObject({ status: 'skipped' });
        expect((await mailpit.messages()).filter((m) => m.to.includes(email))).toEqual([]);
      } finally {
        sender.start();
      }
    });
  });

  describe('when the SMTP server is away', () => {
    it('retries with backoff, and gives up after the last attempt', async () => {
      const [smtpPort] = await freePorts(1);
      const store = await startInProcess('postgres', {
        PUBLIC_URL,
        SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      });
      const sender = store.app.get(MailSender);
      await sender.stop(); // only this test's calls send
      const db = store.app.get(DataSource);
      let mailpit: Mailpit | undefined;
      try {
        const acme = await createPublisher(store.url, 'acme');
        await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 900);
        const email = buyerEmail('later');
        await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email });
        const row = async () =>
          (
            await db.query(
              `SELECT status, attempts, last_error, extract(epoch FROM next_attempt_at - now())::float8 AS wait FROM mail_outbox`,
            )
          )[0] as Row & { wait: number };

        expect(await sender.sendDue()).toBe(1);
        const failed = await row();
        expect(failed).toMatchObject({
          status: 'pending',
          attempts: 1,
          last_error: expect.stringMatching(/ECONNREFUSED/),
        });
        expect(failed.wait).toBeGreaterThan(10);
        expect(await sender.sendDue()).toBe(0); // not due yet

        mailpit = await startMailpit(smtpPort);
        await db.query(`UPDATE mail_outbox SET next_attempt_at = now() - interval '1 second'`);
        expect(await sender.sendDue()).toBe(1);
        expect(await mailpit.waitFor(email)).toHaveLength(1);
        expect(await row()).toMatchObject({ status: 'sent', attempts: 2, last_error: null });

        // The last attempt failing gives the message up instead of retrying forever.
        await mailpit.stop();
        const email2 = buyerEmail('never');
        await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: email2 });
        await db.query(`UPDATE mail_outbox SET attempts = $1 WHERE status = 'pending'`, [
          MAX_MAIL_ATTEMPTS - 1,
        ]);
        expect(await sender.sendDue()).toBe(1);
        expect(
          (await db.query(`SELECT status, attempts FROM mail_outbox WHERE recipient = $1`, [email2]))[0],
        ).toEqual({ status: 'failed', attempts: MAX_MAIL_ATTEMPTS });
      } finally {
        await mailpit?.stop();
        await store.close();
      }
    }, 60_000);
  });

  describe('when a sender stalls holding a message', () => {
    let silent: Server;
    beforeAll(async () => {
      // Accepts connections and never says a word: an SMTP server that hangs before its greeting.
      silent = createServer(() => undefined);
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    });
    afterAll(() => new Promise<void>((r) => silent.close(() => r())));

    it('leaves it to another sender once the lease ends, and the stalled one changes nothing after', async () => {
      const port = (silent.address() as { port: number }).port;
      const store = await startInProcess('postgres', { PUBLIC_URL, SMTP_URL: `smtp://127.0.0.1:${port}` });
      const stalled = store.app.get(MailSender);
      await stalled.stop();
      const db = store.app.get(DataSource);
      const mailpit = await startMailpit();
      // Another replica: the same database and renderer, an SMTP server that answers.
      const other = new MailSender(
        db,
        new SmtpMailTransport(mailpit.smtpUrl, 'Berth <no-reply@store.example.test>'),
      );
      other.register(LICENSE_MAIL, ({ subject }) => store.app.get(LicenseMail).render(subject));
      try {
        const acme = await createPublisher(store.url, 'acme');
        await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 900);
        const email = buyerEmail('takeover');
        await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email });

        const stalling = stalled.sendDue(); // takes the message, then waits for a greeting that never comes
        for (let i = 0; i < 50; i++) {
          const [r] = await db.query(`SELECT attempts FROM mail_outbox`);
          if (r.attempts === 1) break;
          await new Promise((res) => setTimeout(res, 100));
        }
        expect(await other.sendDue()).toBe(0); // leased: not the other's to take
        await db.query(`UPDATE mail_outbox SET next_attempt_at = now() - interval '1 second'`); // the lease ends
        expect(await other.sendDue()).toBe(1);
        expect(await mailpit.waitFor(email)).toHaveLength(1);
        await stalling; // its greeting timeout: the failure it reports is fenced off
        expect(await db.query(`SELECT status, attempts, last_error FROM mail_outbox`)).toEqual([
          { status: 'sent', attempts: 2, last_error: null },
        ]);
        expect((await mailpit.messages()).filter((m) => m.to.includes(email))).toHaveLength(1);
      } finally {
        await other.stop();
        await mailpit.stop();
        await store.close();
      }
    }, 60_000);
  });

  describe('with no SMTP server (the embedded default)', () => {
    it('writes each message as an .eml file under DATA_DIR/outbox', async () => {
      const store = await startInProcess('embedded', { PUBLIC_URL });
      try {
        const acme = await createPublisher(store.url, 'acme');
        await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 900);
        const email = buyerEmail('eml');
        const paid = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email });
        const dir = join(store.config.dataDir, 'outbox');
        let files: string[] = [];
        for (let i = 0; i < 100 && !files.length; i++) {
          files = (await readdir(dir).catch(() => [])).filter((f) => f.endsWith('.eml'));
          if (!files.length) await new Promise((r) => setTimeout(r, 100));
        }
        expect(files).toHaveLength(1);
        const eml = unQuotedPrintable(await readFile(join(dir, files[0]), 'utf8'));
        expect(eml).toMatch(new RegExp(`^To: ${email}$`, 'm'));
        expect(eml).toMatch(/^Subject: Your license for acme\/superdb$/m);
        const carried = licenseIn(eml);
        expect(carried.id).toBe(paid.id);
        const verified = (await (
          await post(`${store.url}/v1/licenses/verify`, { key: carried.key })
        ).json()) as {
          valid: boolean;
        };
        expect(verified.valid).toBe(true);
      } finally {
        await store.close();
      }
    }, 60_000);
  });
});
