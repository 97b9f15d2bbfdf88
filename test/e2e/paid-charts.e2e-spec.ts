import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createPublisher, json, Publisher, putListing, uploadChart } from '../support/api';
import { simpleChart } from '../support/charts';
import { Helm, HelmResult } from '../support/helm';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { ROOT, startStore, StoreProcess } from '../support/store-process';
import { keyOnSuccessPage, postCheckout, startCheckout } from '../support/checkout';
import {
  checkoutSessionObject,
  disputeObject,
  postWebhook,
  refundedChargeObject,
  startStripeMock,
  STRIPE_TEST_KEY,
  STRIPE_WEBHOOK_SECRET,
  stripeEvent,
  StripeMock,
  TEST_PRICE,
} from '../support/stripe';

const execFileP = promisify(execFile);
jest.setTimeout(120_000);

const SLUG = 'acme';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Provider = 'local' | 'stripe';
type HelmVersion = 'helm3' | 'helm4';

interface Purchase {
  orderId: string;
  sessionId: string;
  /** Stripe only: the PaymentIntent the completion event named (refunds and disputes point to it). */
  paymentIntent: string | null;
  license: { id: string; key: string; versionRange: string; updatesUntil: string | null };
  helm: { repoUrl: string; username: string; addCommand: string };
}

interface IndexBody {
  entries: Record<string, Array<{ version: string; created: string; digest: string; urls: string[] }>>;
}

const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Header and claims of a `berth_lic_<JWS>` key, decoded without verifying (that is the verifier's job). */
function decodeKey(key: string): {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  parts: string[];
} {
  expect(key.startsWith('berth_lic_')).toBe(true);
  const parts = key.slice('berth_lic_'.length).split('.');
  expect(parts).toHaveLength(3);
  const dec = (p: string) =>
    JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
  return { header: dec(parts[0]), claims: dec(parts[1]), parts };
}

/**
 * What a buyer would see in a terminal: each helm command and its output, and the HTTP checks as the
 * equivalent curl. Written to $BERTH_E2E_TRANSCRIPTS/<name>.txt when that variable is set (for docs).
 */
class Transcript {
  private readonly lines: string[] = [];
  private readonly secrets: string[] = [];

  constructor(readonly name: string) {}

  hide(secret: string): void {
    this.secrets.push(secret);
  }

  private redact(s: string): string {
    return this.secrets.reduce((acc, k) => acc.split(k).join(`${k.slice(0, 22)}…`), s);
  }

  async helm(h: Helm, ...args: string[]): Promise<HelmResult> {
    const r = await h.run(...args);
    this.lines.push(`$ helm ${this.redact(args.join(' '))}`);
    const out = `${r.stdout}${r.stderr}`.trimEnd();
    if (out) this.lines.push(this.redact(out));
    if (r.code !== 0) this.lines.push(`[exit status ${r.code}]`);
    return r;
  }

  note(line: string): void {
    this.lines.push(this.redact(line));
  }

  save(): void {
    const dir = process.env.BERTH_E2E_TRANSCRIPTS;
    if (!dir) return;
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.name}.txt`), `${this.lines.join('\n')}\n`);
  }
}

/**
 * Paid charts end to end, with the built app started exactly as `npm start` and the real Helm v3 and
 * v4 clients: a buyer pays (the local pay page on the embedded database, or Stripe Checkout through
 * stripe-mock and signed webhooks on the machine's Postgres), adds the publisher's repository with
 * the license id and key the store hands out, and sees exactly the versions the license covers next
 * to the free charts. Refunds, disputes and the publisher's revocation take access away again; update
 * policies decide which later versions a purchase gets; license keys verify offline with the JWKS.
 */
describe.each([
  ['local', 'the local pay page on the embedded database (npm start defaults)'],
  ['stripe', 'Stripe Checkout (stripe-mock + signed webhooks) on Postgres'],
] as const)('paid charts bought through %s provider: %s', (provider: Provider, _how: string) => {
  let store: StoreProcess;
  let db: TestDatabase | undefined;
  let stripe: StripeMock | undefined;
  let pub: Publisher;
  let other: Publisher;
  /** How long a replica may trust a license row: the local store keeps the default, Stripe's is 0. */
  let cacheBoundMs: number;
  const charts = new Map<string, Buffer>();
  let majorPurchase: Purchase | undefined;
  /** Every buyer secret handed out (session ids read license keys; keys are repository passwords). */
  const buyerSecrets: string[] = [];

  async function upload(name: string, version: string): Promise<Buffer> {
    const bytes = await simpleChart(name, version);
    const res = await uploadChart(store.url, SLUG, pub.apiToken, bytes);
    expect({ status: res.status, body: await json(res) }).toEqual({ status: 201, body: { saved: true } });
    charts.set(`${name}-${version}`, bytes);
    return bytes;
  }

  async function list(name: string, body: Record<string, unknown>): Promise<void> {
    const res = await putListing(store.url, SLUG, pub.apiToken, name, body);
    expect({ status: res.status, body: await json(res) }).toMatchObject({ status: 200 });
  }

  const paid = (policy: Record<string, unknown>) => ({
    price: { amount: TEST_PRICE, currency: 'usd' },
    updatePolicy: policy,
    published: true,
  });

  async function checkoutState(
    sessionId: string,
  ): Promise<{ status: string; license?: Purchase['license']; helm?: Purchase['helm'] }> {
    const res = await fetch(`${store.url}/v1/checkout/${encodeURIComponent(sessionId)}`);
    expect(res.status).toBe(200);
    return (await res.json()) as { status: string; license?: Purchase['license']; helm?: Purchase['helm'] };
  }

  async function webhook(
    type: string,
    object: Record<string, unknown>,
  ): Promise<{ status: number; body: unknown }> {
    const res = await postWebhook(store.url, stripeEvent(type, object));
    return { status: res.status, body: await json(res) };
  }

  /** Buys `chart` as a buyer would, through whichever provider this store runs. */
  async function buy(chart: string, email: string, t?: Transcript): Promise<Purchase> {
    const startedBody = await startCheckout(store.url, { publisher: SLUG, chart, email });
    const { orderId, sessionId, checkoutUrl } = startedBody;
    buyerSecrets.push(sessionId);
    t?.note(
      `$ curl -X POST ${store.url}/v1/checkout -d '{"publisher":"${SLUG}","chart":"${chart}","email":"${email}"}'`,
    );
    t?.note(JSON.stringify(startedBody));
    let paymentIntent: string | null = null;

    // Nothing is issued before the payment.
    const before = await checkoutState(sessionId);
    expect(before.status).toBe('pending');
    expect(before.license).toBeUndefined();

    if (provider === 'local') {
      expect(checkoutUrl).toBe(`${store.url}/checkout/local/${sessionId}`);
      const payPage = await fetch(checkoutUrl);
      expect(payPage.status).toBe(200);
      expect(payPage.headers.get('content-type')).toMatch(/text\/html/);
      const html = await payPage.text();
      expect(html).toContain('49.00 USD');
      expect(html).toContain(`action="/checkout/local/${sessionId}/pay"`);
      const pay = await fetch(`${store.url}/checkout/local/${sessionId}/pay`, {
        method: 'POST',
        redirect: 'manual',
      });
      expect(pay.status).toBe(303);
      const location = pay.headers.get('location');
      expect(location).toBe(`${store.url}/checkout/success?session_id=${sessionId}`);
      t?.note(`(browser: GET ${checkoutUrl}, press "Pay 49.00 USD" → 303 ${location})`);
      const success = await fetch(location!);
      expect(success.status).toBe(200);
      const page = await success.text();
      const shownKey = keyOnSuccessPage(page);
      expect(shownKey).toMatch(/^berth_lic_/);
      expect(page).toContain(`helm repo add ${SLUG} ${store.url}/helm/${SLUG} --username `);
      buyerSecrets.push(shownKey!);
      // Paying twice (a double click, a reload) issues no second license.
      const twice = await fetch(`${store.url}/checkout/local/${sessionId}/pay`, {
        method: 'POST',
        redirect: 'manual',
      });
      expect(twice.status).toBe(303);
    } else {
      expect(checkoutUrl).toMatch(/^https:\/\/checkout\.stripe\.com\//);
      expect(sessionId).toMatch(/^cs_test_/);
      paymentIntent = `pi_${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
      // Stripe sends the buyer back before the webhook may have arrived: the success page waits.
      const waiting = await fetch(`${store.url}/checkout/success?session_id=${sessionId}`);
      expect(waiting.status).toBe(200);
      expect(await waiting.text()).toContain('Payment processing');
      const session = checkoutSessionObject({ orderId, sessionId }, { payment_intent: paymentIntent });
      // The signed event is cross-checked against our order: a different amount issues nothing.
      const mismatch = await webhook('checkout.session.completed', { ...session, amount_total: 100 });
      expect(mismatch.status).toBe(400);
      expect((await checkoutState(sessionId)).status).toBe('pending');
      const payload = stripeEvent('checkout.session.completed', session);
      const done = await postWebhook(store.url, payload);
      expect({ status: done.status, body: await json(done) }).toEqual({
        status: 200,
        body: { received: true, outcome: 'fulfilled' },
      });
      // Stripe delivers at least once: the same event again is a no-op.
      const again = await postWebhook(store.url, payload);
      expect(await json(again)).toEqual({ received: true, outcome: 'duplicate' });
      t?.note(
        `(Stripe Checkout paid; signed checkout.session.completed posted to ${store.url}/v1/webhooks/stripe → {"received":true,"outcome":"fulfilled"})`,
      );
    }

    const state = await checkoutState(sessionId);
    expect(state.status).toBe('paid');
    expect(state.license).toBeDefined();
    expect(state.helm).toBeDefined();
    const purchase: Purchase = {
      orderId,
      sessionId,
      paymentIntent,
      license: state.license!,
      helm: state.helm!,
    };
    const { id, key } = purchase.license;
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(purchase.helm).toEqual({
      repoUrl: `${store.url}/helm/${SLUG}`,
      username: id,
      addCommand: `helm repo add ${SLUG} ${store.url}/helm/${SLUG} --username ${id} --password ${key}`,
    });
    t?.hide(key);
    buyerSecrets.push(key);
    const licenses = await fetch(`${store.url}/v1/publishers/${SLUG}/licenses`, {
      headers: { authorization: `Bearer ${pub.accessToken}` },
    });
    const forOrder = (
      (await licenses.json()) as { licenses: Array<{ id: string; orderId: string }> }
    ).licenses.filter((l) => l.orderId === orderId);
    expect(forOrder.map((l) => l.id)).toEqual([id]);
    t?.note(`$ curl ${store.url}/v1/checkout/${sessionId}`);
    t?.note(
      JSON.stringify({
        status: state.status,
        license: state.license,
        helm: { addCommand: state.helm!.addCommand },
      }),
    );
    return purchase;
  }

  /** Runs the store's own `helm repo add …` line with the given client (it must be exactly that). */
  async function addRepo(helm: Helm, p: Purchase, t?: Transcript): Promise<void> {
    const words = p.helm.addCommand.split(' ');
    expect(words.slice(0, 3)).toEqual(['helm', 'repo', 'add']);
    const r = t ? await t.helm(helm, ...words.slice(1)) : await helm.run(...words.slice(1));
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toContain(`"${SLUG}" has been added to your repositories`);
  }

  async function anonymousIndex(): Promise<IndexBody> {
    const res = await fetch(`${store.url}/helm/${SLUG}/index.yaml`);
    expect(res.status).toBe(200);
    return (await res.json()) as IndexBody;
  }

  async function licensedFetch(
    p: Purchase,
    file: string,
    t?: Transcript,
  ): Promise<{ status: number; body: Buffer; headers: Headers }> {
    const res = await fetch(`${store.url}/helm/${SLUG}/${file}`, {
      headers: { authorization: basic(p.license.id, p.license.key) },
    });
    const body = Buffer.from(await res.arrayBuffer());
    t?.note(
      `$ curl -s -o /dev/null -w '%{http_code}' -u ${p.license.id}:${p.license.key} ${store.url}/helm/${SLUG}/${file}`,
    );
    t?.note(`${res.status}${res.status >= 400 ? `  ${body.toString('utf8')}` : ''}`);
    return { status: res.status, body, headers: res.headers };
  }

  async function pullBytes(helm: Helm, chart: string, version: string, t?: Transcript): Promise<Buffer> {
    const dest = mkdtempSync(join(tmpdir(), `berth-paid-pull-${helm.version}-`));
    const r = t
      ? await t.helm(helm, 'pull', `${SLUG}/${chart}`, '--version', version, '--destination', dest)
      : await helm.run('pull', `${SLUG}/${chart}`, '--version', version, '--destination', dest);
    expect(r).toMatchObject({ code: 0 });
    return readFileSync(join(dest, `${chart}-${version}.tgz`));
  }

  /** `helm search repo <slug>/<chart> --versions --devel` as a list of versions. */
  async function searchVersions(helm: Helm, chart: string): Promise<string[]> {
    const out = await helm.ok('search', 'repo', `${SLUG}/${chart}`, '--versions', '--devel', '-o', 'json');
    return (JSON.parse(out) as Array<{ name: string; version: string }>)
      .filter((e) => e.name === `${SLUG}/${chart}`)
      .map((e) => e.version);
  }

  beforeAll(async () => {
    const env: Record<string, string | undefined> = {
      STRIPE_SECRET_KEY: undefined,
      STRIPE_WEBHOOK_SECRET: undefined,
      STRIPE_API_URL: undefined,
    };
    if (provider === 'local') {
      env.DATABASE_URL = undefined; // the embedded PGlite, as `npm start` on a laptop
      cacheBoundMs = 2_000; // LICENSE_STATUS_CACHE_SECONDS default
    } else {
      [db, stripe] = await Promise.all([createTestDatabase('berth_paid'), startStripeMock()]);
      Object.assign(env, {
        DATABASE_URL: db.url,
        STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
        STRIPE_WEBHOOK_SECRET,
        STRIPE_API_URL: stripe.url,
        LICENSE_STATUS_CACHE_SECONDS: '0',
      });
      cacheBoundMs = 0;
    }
    store = await startStore(env);
    [pub, other] = await Promise.all([
      createPublisher(store.url, SLUG),
      createPublisher(store.url, 'othercorp'),
    ]);

    // superdb: sold under `major`, bought at 1.2.0 → >=1.0.0 <2.0.0-0: 0.9.0 and the 2.0.0 release
    // candidate are versions the store holds that a buyer's license does not cover.
    for (const v of ['0.9.0', '1.0.0', '1.1.0', '1.2.0', '2.0.0-rc.1']) await upload('superdb', v);
    await list('superdb', paid({ kind: 'major' }));
    // majordb: the `major` policy over time; windowdb: the `window` policy over time.
    for (const v of ['1.0.0', '1.2.0']) await upload('majordb', v);
    await list('majordb', paid({ kind: 'major' }));
    await upload('windowdb', '1.0.0');
    await list('windowdb', paid({ kind: 'window', months: 12 }));
    // Free charts sit beside the paid ones in the same repository.
    await upload('freebie', '1.0.0');
    await upload('freebie', '1.1.0');
    await list('freebie', {
      price: { amount: 0, currency: 'usd' },
      updatePolicy: { kind: 'all' },
      published: true,
    });
  });

  afterAll(async () => {
    await store?.stop();
    await stripe?.stop();
    await db?.drop();
  });

  it('shows anonymous clients the free charts only, and refuses paid archives without a license', async () => {
    expect(Object.keys((await anonymousIndex()).entries)).toEqual(['freebie']);
    for (const file of ['superdb-1.2.0.tgz', 'majordb-1.2.0.tgz']) {
      const res = await fetch(`${store.url}/helm/${SLUG}/charts/${file}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('license_required');
    }
    // A free chart cannot be bought.
    const free = await postCheckout(store.url, { publisher: SLUG, chart: 'freebie', email: 'x@buyer.test' });
    expect(free.status).toBe(400);
  });

  it.each(['helm3', 'helm4'] as const)(
    '%s: buy, add the repo with the key, see paid + free, pull a covered version, not an uncovered one, then lose access',
    async (hv: HelmVersion) => {
      const helm = new Helm(hv);
      const t = new Transcript(`${provider}-${hv}`);
      t.note(`# ${(await helm.ok('version', '--short')).trim()} — provider: ${provider}`);
      const p = await buy('superdb', `${hv}@buyer.test`, t);
      // Fixed at purchase against the newest stable version (1.2.0): the release candidate does not count.
      expect(p.license.versionRange).toBe('>=1.0.0 <2.0.0-0');
      expect(p.license.updatesUntil).toBeNull();

      // The key: ES256, a kid, our issuer, the license id as subject; nothing personal, no expiry.
      const { header, claims } = decodeKey(p.license.key);
      expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT', kid: expect.any(String) });
      expect(claims).toMatchObject({
        iss: store.url,
        sub: p.license.id,
        pub: SLUG,
        chart: 'superdb',
        range: '>=1.0.0 <2.0.0-0',
      });
      expect(claims.exp).toBeUndefined();
      expect(JSON.stringify(claims)).not.toContain('@');

      await addRepo(helm, p, t);
      const search = await t.helm(helm, 'search', 'repo', SLUG);
      expect(search.code).toBe(0);
      expect(search.stdout).toMatch(new RegExp(`${SLUG}/superdb\\s+1\\.2\\.0`));
      expect(search.stdout).toMatch(new RegExp(`${SLUG}/freebie\\s+1\\.1\\.0`));
      // Another paid chart of the same publisher is not part of this license.
      expect(search.stdout).not.toContain(`${SLUG}/majordb`);
      expect(search.stdout).not.toContain(`${SLUG}/windowdb`);

      // Exactly the covered versions, even with --devel.
      const listed = await t.helm(helm, 'search', 'repo', `${SLUG}/superdb`, '--versions');
      expect(listed.stdout).not.toMatch(/0\.9\.0/);
      expect(await searchVersions(helm, 'superdb')).toEqual(['1.2.0', '1.1.0', '1.0.0']);
      expect(await searchVersions(helm, 'freebie')).toEqual(['1.1.0', '1.0.0']);

      const pulled = await pullBytes(helm, 'superdb', '1.2.0', t);
      expect(pulled.equals(charts.get('superdb-1.2.0')!)).toBe(true);
      const rendered = await t.helm(helm, 'template', 'db', `${SLUG}/superdb`);
      expect(rendered.code).toBe(0);
      expect(rendered.stdout).toContain('name: db-cm');
      if (hv === 'helm4') {
        // Helm v4 can dry-run an install without a cluster (Helm v3 needs one even for --dry-run).
        const installed = await t.helm(helm, 'install', 'db', `${SLUG}/superdb`, '--dry-run=client');
        expect(installed.code).toBe(0);
        expect(installed.stdout).toMatch(/STATUS: pending-install/);
        expect(installed.stdout).toContain('name: db-cm');
      }

      // Uncovered versions: not in the client's index, and their archives answer 401 even with the key.
      const uncovered = await t.helm(
        helm,
        'pull',
        `${SLUG}/superdb`,
        '--version',
        '0.9.0',
        '--destination',
        tmpdir(),
      );
      expect(uncovered.code).not.toBe(0);
      for (const file of ['superdb-0.9.0.tgz', 'superdb-2.0.0-rc.1.tgz', 'majordb-1.2.0.tgz']) {
        const res = await licensedFetch(p, `charts/${file}`, file === 'superdb-0.9.0.tgz' ? t : undefined);
        expect({ file, status: res.status }).toEqual({ file, status: 401 });
        expect(JSON.parse(res.body.toString('utf8')).error.code).toBe('license_required');
      }
      // A licensed answer is the buyer's own: never cached by shared caches.
      const idx = await licensedFetch(p, 'index.yaml');
      expect(idx.status).toBe(200);
      expect(idx.headers.get('cache-control')).toMatch(/private/);
      expect(idx.headers.get('vary')).toMatch(/Authorization/);
      expect(Object.keys((JSON.parse(idx.body.toString('utf8')) as IndexBody).entries).sort()).toEqual([
        'freebie',
        'superdb',
      ]);
      // The key is bound to its license id (the Basic username).
      const wrongUser = await fetch(`${store.url}/helm/${SLUG}/index.yaml`, {
        headers: { authorization: basic('00000000-0000-4000-8000-000000000000', p.license.key) },
      });
      expect(wrongUser.status).toBe(401);
      // … and to its publisher's repository: another publisher's repository refuses it.
      const foreign = await fetch(`${store.url}/helm/${other.slug}/index.yaml`, {
        headers: { authorization: basic(p.license.id, p.license.key) },
      });
      expect(foreign.status).toBe(401);

      if (provider === 'stripe') {
        // A dispute suspends the license at once …
        const opened = await webhook(
          'charge.dispute.created',
          disputeObject(p.paymentIntent!, 'needs_response', { id: 'dp_x', charge: 'ch_x' }),
        );
        expect(opened).toEqual({ status: 200, body: { received: true, outcome: 'suspended' } });
        t.note('(signed charge.dispute.created posted → {"received":true,"outcome":"suspended"})');
        await sleep(cacheBoundMs);
        const suspended = await t.helm(
          helm,
          'pull',
          `${SLUG}/superdb`,
          '--version',
          '1.1.0',
          '--destination',
          mkdtempSync(join(tmpdir(), 'berth-paid-')),
        );
        expect(suspended.code).not.toBe(0);
        expect(suspended.stderr).toMatch(/401/);
        expect((await checkoutState(p.sessionId)).status).toBe('disputed');
        const suspendedIndex = await licensedFetch(p, 'index.yaml');
        expect(suspendedIndex.status).toBe(401);
        expect(JSON.parse(suspendedIndex.body.toString('utf8')).error).toMatchObject({
          code: 'license_inactive',
          message: expect.stringMatching(/suspended/),
        });
        // … and winning it gives access back.
        const won = await webhook(
          'charge.dispute.closed',
          disputeObject(p.paymentIntent!, 'won', { id: 'dp_x', charge: 'ch_x' }),
        );
        expect(won).toEqual({ status: 200, body: { received: true, outcome: 'reinstated' } });
        t.note(
          '(signed charge.dispute.closed, status "won", posted → {"received":true,"outcome":"reinstated"})',
        );
        await sleep(cacheBoundMs);
        expect((await pullBytes(helm, 'superdb', '1.1.0', t)).equals(charts.get('superdb-1.1.0')!)).toBe(
          true,
        );
        expect((await checkoutState(p.sessionId)).status).toBe('paid');

        // A full refund revokes.
        const refunded = await webhook(
          'charge.refunded',
          refundedChargeObject(p.paymentIntent!, TEST_PRICE, { id: 'ch_x' }),
        );
        expect(refunded).toEqual({ status: 200, body: { received: true, outcome: 'refunded' } });
        t.note('(signed charge.refunded, 4900 of 4900, posted → {"received":true,"outcome":"refunded"})');
        const after = await checkoutState(p.sessionId);
        expect(after.status).toBe('refunded');
        expect(after.license).toBeUndefined();
      } else {
        // The publisher revokes the license (owner's access token).
        const res = await fetch(`${store.url}/v1/publishers/${SLUG}/licenses/${p.license.id}`, {
          method: 'DELETE',
          headers: { authorization: `Bearer ${pub.accessToken}` },
        });
        expect(res.status).toBe(204);
        t.note(
          `$ curl -X DELETE -H 'Authorization: Bearer <owner access token>' ${store.url}/v1/publishers/${SLUG}/licenses/${p.license.id}`,
        );
        t.note('204');
        const listed = await fetch(`${store.url}/v1/publishers/${SLUG}/licenses`, {
          headers: { authorization: `Bearer ${pub.accessToken}` },
        });
        const mine = (
          (await listed.json()) as { licenses: Array<{ id: string; status: string; reason: string | null }> }
        ).licenses.find((l) => l.id === p.license.id);
        expect(mine).toMatchObject({ status: 'revoked', reason: 'revoked_by_publisher' });
      }
      await sleep(cacheBoundMs + 500); // the documented propagation bound (LICENSE_STATUS_CACHE_SECONDS)

      // Helm never retries a 401: the pull fails, and so does refreshing the repository.
      const refused = await t.helm(
        helm,
        'pull',
        `${SLUG}/superdb`,
        '--version',
        '1.0.0',
        '--destination',
        mkdtempSync(join(tmpdir(), 'berth-paid-')),
      );
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/401 Unauthorized/);
      // The version this client already downloaded before the revocation: Helm v3 asks the store again
      // and is refused; Helm v4 keeps every chart it fetched in $HELM_CACHE_HOME/content keyed by the
      // index digest and answers from there without any request reaching the store. Revocation stops
      // downloads; it cannot take back bytes already on the buyer's disk.
      const seen = () =>
        store.output.filter(
          (l) =>
            l.includes(`"path":"/helm/${SLUG}/charts/superdb-1.2.0.tgz"`) &&
            l.includes(`Helm/${hv === 'helm3' ? '3' : '4'}`),
        ).length;
      const before = seen();
      const again = await t.helm(
        helm,
        'pull',
        `${SLUG}/superdb`,
        '--version',
        '1.2.0',
        '--destination',
        mkdtempSync(join(tmpdir(), 'berth-paid-')),
      );
      await sleep(200); // the store's request log line
      if (hv === 'helm3') {
        expect(again.code).not.toBe(0);
        expect(again.stderr).toMatch(/401 Unauthorized/);
        expect(seen()).toBe(before + 1);
      } else {
        expect(again.code).toBe(0);
        expect(seen()).toBe(before);
        t.note('(answered from $HELM_CACHE_HOME/content by digest: no request reached the store)');
      }
      const update = await t.helm(helm, 'repo', 'update');
      expect(update.stdout + update.stderr).toMatch(/index\.yaml : 401 Unauthorized/);
      if (hv === 'helm4') expect(update.code).not.toBe(0);
      // Helm 3 reports the failed repository but exits 0 unless asked to fail.
      else expect((await helm.run('repo', 'update', '--fail-on-repo-update-fail')).code).not.toBe(0);
      const direct = await licensedFetch(p, 'index.yaml');
      expect(direct.status).toBe(401);
      expect(direct.headers.get('www-authenticate')).toMatch(/^Basic /);
      expect(JSON.parse(direct.body.toString('utf8')).error.code).toBe('license_inactive');
      // Online verification says why; anonymous clients are back to the free charts only.
      const verify = await fetch(`${store.url}/v1/licenses/verify`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ key: p.license.key }),
      });
      expect(await verify.json()).toMatchObject({ valid: false, reason: 'revoked' });
      expect(Object.keys((await anonymousIndex()).entries)).toEqual(['freebie']);
      t.save();
    },
  );

  it('major policy: bought at 1.2.0, a later 1.3.0 arrives with `helm repo update`, 2.0.0 does not (Helm v3 and v4)', async () => {
    const p = await buy('majordb', 'major@buyer.test');
    majorPurchase = p;
    expect(p.license.versionRange).toBe('>=1.0.0 <2.0.0-0');
    const clients = [new Helm('helm3'), new Helm('helm4')];
    for (const helm of clients) {
      await addRepo(helm, p);
      expect(await searchVersions(helm, 'majordb')).toEqual(['1.2.0', '1.0.0']);
    }
    await upload('majordb', '1.3.0');
    await upload('majordb', '2.0.0');
    for (const helm of clients) {
      await helm.ok('repo', 'update');
      expect(await searchVersions(helm, 'majordb')).toEqual(['1.3.0', '1.2.0', '1.0.0']);
      expect((await pullBytes(helm, 'majordb', '1.3.0')).equals(charts.get('majordb-1.3.0')!)).toBe(true);
      const next = await helm.run('pull', `${SLUG}/majordb`, '--version', '2.0.0', '--destination', tmpdir());
      expect(next.code).not.toBe(0);
      expect(next.stderr).toMatch(/2\.0\.0/);
    }
    expect((await licensedFetch(p, 'charts/majordb-2.0.0.tgz')).status).toBe(401);
    expect((await licensedFetch(p, 'charts/majordb-1.3.0.tgz')).status).toBe(200);
    // Still invisible to anonymous clients.
    expect(Object.keys((await anonymousIndex()).entries)).toEqual(['freebie']);
  });

  if (provider === 'stripe') {
    it('window policy: versions published after the update window ends are not covered (Helm v3 and v4)', async () => {
      const p = await buy('windowdb', 'window@buyer.test');
      const updatesUntil = new Date(p.license.updatesUntil!);
      // 12 months after the purchase (within a few days, months differ in length).
      expect(Math.abs(updatesUntil.getTime() - Date.now() - 365 * 86_400_000)).toBeLessThan(3 * 86_400_000);
      const clients = [new Helm('helm3'), new Helm('helm4')];
      for (const helm of clients) await addRepo(helm, p);
      // Inside the window, a new version is an update the buyer gets.
      await upload('windowdb', '1.0.5');
      for (const helm of clients) {
        await helm.ok('repo', 'update');
        expect(await searchVersions(helm, 'windowdb')).toEqual(['1.0.5', '1.0.0']);
      }

      // Time travel: nobody can wait twelve months in a test, so the end of the window is moved to
      // "one second ago" in the store's own Postgres database (the real one this store runs on, not a
      // mock). That is the only thing touched; everything after goes through HTTP and Helm again.
      const created = new Date((await licensedIndex(p)).entries.windowdb[0].created);
      const wait = created.getTime() + 1_200 - Date.now();
      if (wait > 0) await sleep(wait); // 1.0.5 must stay before the moved cut-off
      const pg = new Client({ connectionString: db!.url });
      await pg.connect();
      try {
        const moved = await pg.query(
          "UPDATE license SET updates_until = now() - interval '1 second' WHERE id = $1 RETURNING updates_until",
          [p.license.id],
        );
        expect(moved.rowCount).toBe(1);
        expect(new Date(moved.rows[0].updates_until).getTime()).toBeGreaterThan(created.getTime());
      } finally {
        await pg.end();
      }
      await sleep(cacheBoundMs + 500); // the store may trust its cached row for this long

      await upload('windowdb', '1.1.0');
      for (const helm of clients) {
        await helm.ok('repo', 'update');
        expect(await searchVersions(helm, 'windowdb')).toEqual(['1.0.5', '1.0.0']);
        expect((await pullBytes(helm, 'windowdb', '1.0.5')).equals(charts.get('windowdb-1.0.5')!)).toBe(true);
        const late = await helm.run(
          'pull',
          `${SLUG}/windowdb`,
          '--version',
          '1.1.0',
          '--destination',
          tmpdir(),
        );
        expect(late.code).not.toBe(0);
      }
      expect((await licensedFetch(p, 'charts/windowdb-1.1.0.tgz')).status).toBe(401);
      const verify = async (version: string) =>
        (await fetch(`${store.url}/v1/licenses/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: p.license.key, publisher: SLUG, chart: 'windowdb', version }),
        }).then((r) => r.json())) as { valid: boolean; reason?: string };
      expect(await verify('1.0.5')).toMatchObject({ valid: true });
      expect(await verify('1.1.0')).toMatchObject({ valid: false, reason: 'version_not_covered' });
    });
  }

  if (provider === 'local') {
    it('a signed paid chart: `pull --verify` and `template --verify` work for the license holder with Helm v3 and v4', async () => {
      // The publisher signs with GnuPG (`helm package --sign`) and uploads chart + .prov in one request.
      const dir = mkdtempSync(join(tmpdir(), 'berth-paid-prov-'));
      const gnupg = join(dir, 'gnupg');
      mkdirSync(gnupg, { mode: 0o700 });
      writeFileSync(
        join(dir, 'key'),
        '%no-protection\nKey-Type: RSA\nKey-Length: 2048\nName-Real: Berth Paid Publisher\nName-Email: paid@example.test\nExpire-Date: 0\n%commit\n',
      );
      const genv = { ...process.env, GNUPGHOME: gnupg };
      await execFileP('gpg', ['--batch', '--gen-key', join(dir, 'key')], { env: genv });
      writeFileSync(
        join(dir, 'secring.gpg'),
        (await execFileP('gpg', ['--export-secret-keys'], { env: genv, encoding: 'buffer' })).stdout,
      );
      writeFileSync(
        join(dir, 'pubring.gpg'),
        (await execFileP('gpg', ['--export'], { env: genv, encoding: 'buffer' })).stdout,
      );
      mkdirSync(join(dir, 'sealed', 'templates'), { recursive: true });
      writeFileSync(
        join(dir, 'sealed', 'Chart.yaml'),
        'apiVersion: v2\nname: sealed\nversion: 1.0.0\ndescription: A signed paid chart\n',
      );
      writeFileSync(
        join(dir, 'sealed', 'templates', 'cm.yaml'),
        'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}-sealed\n',
      );
      await new Helm('helm3').ok(
        'package',
        '--sign',
        '--key',
        'paid@example.test',
        '--keyring',
        join(dir, 'secring.gpg'),
        join(dir, 'sealed'),
        '-d',
        join(dir, 'out'),
      );
      const tgz = join(dir, 'out', 'sealed-1.0.0.tgz');
      const { stdout } = await execFileP('curl', [
        '-sS',
        '-H',
        `Authorization: Bearer ${pub.apiToken}`,
        '-F',
        `chart=@${tgz}`,
        '-F',
        `prov=@${tgz}.prov`,
        `${store.url}/api/${SLUG}/charts`,
      ]);
      expect(JSON.parse(stdout)).toEqual({ saved: true });
      await list('sealed', paid({ kind: 'all' }));
      const p = await buy('sealed', 'sealed@buyer.test');

      const results: Record<string, { pull: number; template: number; templateError?: string }> = {};
      for (const hv of ['helm3', 'helm4'] as const) {
        const helm = new Helm(hv);
        await addRepo(helm, p);
        const dest = mkdtempSync(join(tmpdir(), 'berth-paid-verify-'));
        const pulled = await helm.run(
          'pull',
          `${SLUG}/sealed`,
          '--verify',
          '--keyring',
          join(dir, 'pubring.gpg'),
          '--destination',
          dest,
        );
        expect(pulled.stdout + pulled.stderr).toMatch(/Signed by: Berth Paid Publisher/);
        expect(readFileSync(join(dest, 'sealed-1.0.0.tgz')).equals(readFileSync(tgz))).toBe(true);
        const rendered = await helm.run(
          'template',
          'x',
          `${SLUG}/sealed`,
          '--verify',
          '--keyring',
          join(dir, 'pubring.gpg'),
        );
        results[hv] = {
          pull: pulled.code,
          template: rendered.code,
          ...(rendered.code ? { templateError: rendered.stderr.trim() } : {}),
        };
        if (rendered.code === 0) expect(rendered.stdout).toContain('name: x-sealed');
      }
      // Helm v4 fetches the .prov of `template/install --verify` WITHOUT the repository credentials
      // (the .tgz gets them): a .prov served only to license holders makes these commands fail.
      expect(results).toEqual({ helm3: { pull: 0, template: 0 }, helm4: { pull: 0, template: 0 } });
    });
  }

  it('licensed buyers keep covered versions that are later yanked or unpublished', async () => {
    const p = majorPurchase!;
    expect(p).toBeDefined();
    const helm = new Helm('helm4');
    await addRepo(helm, p);
    const yank = await fetch(`${store.url}/api/${SLUG}/charts/majordb/1.0.0`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(yank.status).toBeLessThan(300);
    await list('majordb', { ...paid({ kind: 'major' }), published: false });
    await helm.ok('repo', 'update');
    expect(await searchVersions(helm, 'majordb')).toEqual(['1.3.0', '1.2.0']);
    expect((await pullBytes(helm, 'majordb', '1.2.0')).equals(charts.get('majordb-1.2.0')!)).toBe(true);
    const yanked = await licensedFetch(p, 'charts/majordb-1.0.0.tgz');
    expect(yanked.status).toBe(200);
    expect(yanked.body.equals(charts.get('majordb-1.0.0')!)).toBe(true);
    // Unpublished: no longer for sale, still nobody else's.
    const sale = await postCheckout(store.url, {
      publisher: SLUG,
      chart: 'majordb',
      email: 'late@buyer.test',
    });
    expect(sale.status).toBe(404);
    expect((await fetch(`${store.url}/helm/${SLUG}/charts/majordb-1.2.0.tgz`)).status).toBeGreaterThanOrEqual(
      401,
    );
    await list('majordb', paid({ kind: 'major' }));
  });

  it('fulfils concurrent completions of one order exactly once', async () => {
    const { orderId, sessionId } = await startCheckout(store.url, {
      publisher: SLUG,
      chart: 'superdb',
      email: 'race@buyer.test',
    });
    buyerSecrets.push(sessionId);
    if (provider === 'local') {
      const pays = await Promise.all(
        [1, 2, 3].map(() =>
          fetch(`${store.url}/checkout/local/${sessionId}/pay`, { method: 'POST', redirect: 'manual' }),
        ),
      );
      expect(pays.map((r) => r.status)).toEqual([303, 303, 303]);
    } else {
      // Stripe may deliver completion twice under different event ids (completed + async_payment_succeeded).
      const session = checkoutSessionObject({ orderId, sessionId });
      const outcomes = await Promise.all([
        webhook('checkout.session.completed', session),
        webhook('checkout.session.async_payment_succeeded', session),
        webhook('checkout.session.completed', session),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200]);
      expect(outcomes.map((o) => (o.body as { outcome: string }).outcome).sort()).toEqual([
        'already_fulfilled',
        'already_fulfilled',
        'fulfilled',
      ]);
    }
    const licenses = await fetch(`${store.url}/v1/publishers/${SLUG}/licenses`, {
      headers: { authorization: `Bearer ${pub.accessToken}` },
    });
    expect(
      ((await licenses.json()) as { licenses: Array<{ orderId: string }> }).licenses.filter(
        (l) => l.orderId === orderId,
      ),
    ).toHaveLength(1);
    const state = await checkoutState(sessionId);
    expect(state.status).toBe('paid');
    buyerSecrets.push(state.license!.key);
  });

  if (provider === 'stripe') {
    it('a second replica on the same database refuses a refunded license within LICENSE_STATUS_CACHE_SECONDS', async () => {
      // Same database, blobs and generated secrets (DATA_DIR), same PUBLIC_URL (the keys' issuer), the
      // default 2 s status cache: the production shape of several replicas behind one URL.
      const replica = await startStore({
        DATA_DIR: store.dataDir,
        PUBLIC_URL: store.url,
        DATABASE_URL: db!.url,
        STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
        STRIPE_WEBHOOK_SECRET,
        STRIPE_API_URL: stripe!.url,
        LICENSE_STATUS_CACHE_SECONDS: '2',
      });
      try {
        const p = await buy('superdb', 'replica@buyer.test');
        const helm = new Helm('helm3');
        await helm.ok(
          'repo',
          'add',
          SLUG,
          `${replica.url}/helm/${SLUG}`,
          '--username',
          p.license.id,
          '--password',
          p.license.key,
        );
        const dest = mkdtempSync(join(tmpdir(), 'berth-replica-'));
        await helm.ok('pull', `${SLUG}/superdb`, '--version', '1.2.0', '--destination', dest); // the replica caches the row now
        const refunded = await webhook(
          'charge.refunded',
          refundedChargeObject(p.paymentIntent!, TEST_PRICE, { id: 'ch_r' }),
        );
        expect(refunded.body).toMatchObject({ outcome: 'refunded' });
        await sleep(2_500);
        const refused = await helm.run(
          'pull',
          `${SLUG}/superdb`,
          '--version',
          '1.1.0',
          '--destination',
          dest,
        );
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(/401 Unauthorized/);
      } finally {
        await replica.stop();
      }
    });

    it('a lost dispute revokes for good', async () => {
      const p = await buy('superdb', 'lost@buyer.test');
      const dispute = (status: string) =>
        disputeObject(p.paymentIntent!, status, { id: 'dp_l', charge: 'ch_l' });
      expect((await webhook('charge.dispute.created', dispute('needs_response'))).body).toMatchObject({
        outcome: 'suspended',
      });
      expect((await webhook('charge.dispute.closed', dispute('lost'))).body).toMatchObject({
        outcome: 'revoked',
      });
      const res = await licensedFetch(p, 'charts/superdb-1.2.0.tgz');
      expect(res.status).toBe(401);
      expect(JSON.parse(res.body.toString('utf8')).error.code).toBe('license_inactive');
      // Final, like a full refund: the order does not stay "disputed".
      expect(await checkoutState(p.sessionId)).toEqual({ status: 'refunded' });
    });

    it('a dispute won after a full refund does not bring the order back to paid', async () => {
      const p = await buy('superdb', 'refund-then-dispute@buyer.test');
      const refund = refundedChargeObject(p.paymentIntent!, TEST_PRICE, { id: 'ch_rd' });
      expect((await webhook('charge.refunded', refund)).body).toMatchObject({ outcome: 'refunded' });
      // Stripe lets a buyer dispute a charge that was already refunded; the bank sides with the merchant.
      const dispute = (status: string) =>
        disputeObject(p.paymentIntent!, status, { id: 'dp_rd', charge: 'ch_rd' });
      await webhook('charge.dispute.created', dispute('needs_response'));
      await webhook('charge.dispute.closed', dispute('won'));
      // The money went back to the buyer: the license stays revoked and the order stays refunded.
      expect((await licensedFetch(p, 'charts/superdb-1.2.0.tgz')).status).toBe(401);
      const orders = await fetch(`${store.url}/v1/publishers/${SLUG}/orders`, {
        headers: { authorization: `Bearer ${pub.accessToken}` },
      });
      const order = (
        (await orders.json()) as { orders: Array<{ id: string; status: string; refundedAmount: number }> }
      ).orders.find((o) => o.id === p.orderId);
      expect({ order: order?.status, checkout: (await checkoutState(p.sessionId)).status }).toEqual({
        order: 'refunded',
        checkout: 'refunded',
      });
    });

    it('a dispute that overtakes the completion event leaves the new license suspended', async () => {
      const { orderId, sessionId } = await startCheckout(store.url, {
        publisher: SLUG,
        chart: 'superdb',
        email: 'early-dispute@buyer.test',
      });
      buyerSecrets.push(sessionId);
      const pi = `pi_early${Date.now().toString(36)}`;
      // Webhooks arrive late and out of order (Stripe retries a failed delivery for days).
      const dispute = await webhook(
        'charge.dispute.created',
        disputeObject(pi, 'needs_response', { id: 'dp_e', charge: 'ch_e' }),
      );
      expect(dispute.status).toBe(200);
      const completed = await webhook(
        'checkout.session.completed',
        checkoutSessionObject({ orderId, sessionId }, { payment_intent: pi }),
      );
      expect(completed.status).toBe(200);
      const licenses = await fetch(`${store.url}/v1/publishers/${SLUG}/licenses`, {
        headers: { authorization: `Bearer ${pub.accessToken}` },
      });
      const license = (
        (await licenses.json()) as { licenses: Array<{ orderId: string; status: string }> }
      ).licenses.find((l) => l.orderId === orderId);
      // Either no license yet or a suspended one; never an active license while the dispute is open.
      expect(license?.status ?? 'none').not.toBe('active');
    });

    it('a refund that overtakes the completion event leaves the order refunded and issues no license', async () => {
      const { orderId, sessionId } = await startCheckout(store.url, {
        publisher: SLUG,
        chart: 'superdb',
        email: 'late@buyer.test',
      });
      buyerSecrets.push(sessionId);
      const pi = `pi_late${Date.now().toString(36)}`;
      const refund = await webhook(
        'charge.refunded',
        refundedChargeObject(pi, TEST_PRICE, { id: 'ch_late' }),
      );
      expect(refund).toEqual({
        status: 200,
        body: { received: true, outcome: 'refunded_before_completion' },
      });
      const completed = await webhook(
        'checkout.session.completed',
        checkoutSessionObject({ orderId, sessionId }, { payment_intent: pi }),
      );
      expect(completed).toEqual({
        status: 200,
        body: { received: true, outcome: 'refunded_before_completion' },
      });
      const state = await checkoutState(sessionId);
      expect(state.status).toBe('refunded');
      expect(state.license).toBeUndefined();
    });
  }

  it("keeps buyers' secrets (checkout session ids, license keys) out of its logs", async () => {
    expect(buyerSecrets.length).toBeGreaterThan(0);
    await sleep(200);
    const log = store.output.join('\n');
    const leaked = buyerSecrets.filter((s) => log.includes(s));
    const leakedLines = store.output
      .filter((l) => buyerSecrets.some((s) => l.includes(s)))
      .map((l) => {
        const m = /"method":"(\w+)","path":"([^"]+)"/.exec(l);
        return m ? `${m[1]} ${m[2].replace(/(local_cs_|cs_test_)[A-Za-z0-9_-]+/, '$1…')}` : l.slice(0, 120);
      });
    expect({ leaked: leaked.length, lines: [...new Set(leakedLines)] }).toEqual({ leaked: 0, lines: [] });
    expect(log).not.toContain('berth_lic_');
  });

  async function licensedIndex(p: Purchase): Promise<IndexBody> {
    const res = await licensedFetch(p, 'index.yaml');
    expect(res.status).toBe(200);
    return JSON.parse(res.body.toString('utf8')) as IndexBody;
  }

  it('verifies a license key offline with examples/verify-offline and the saved JWKS, the store stopped', async () => {
    const p = majorPurchase!;
    expect(p).toBeDefined();
    const dir = mkdtempSync(join(tmpdir(), 'berth-offline-'));
    const jwksFile = join(dir, 'jwks.json');
    const jwks = await fetch(`${store.url}/.well-known/jwks.json`);
    expect(jwks.status).toBe(200);
    const body = (await jwks.json()) as { keys: Array<Record<string, string>> };
    expect(body.keys.map((k) => k.kid)).toContain(decodeKey(p.license.key).header.kid);
    for (const k of body.keys) expect(k).not.toHaveProperty('d'); // public halves only
    writeFileSync(jwksFile, JSON.stringify(body));
    // What the store itself says about versions (stored or not), to hold the offline verdicts against.
    const probes = ['1.3.0', '2.0.0', '0.9.9', '1.0.0-rc.1', '1.9.9-beta.1', '2.0.0-rc.1'];
    const online: Record<string, string> = {};
    for (const version of probes) {
      const r = (await (
        await fetch(`${store.url}/v1/licenses/verify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ key: p.license.key, publisher: SLUG, chart: 'majordb', version }),
        })
      ).json()) as { valid: boolean; reason?: string };
      online[version] = r.valid ? 'valid' : r.reason!;
    }
    expect(online['1.3.0']).toBe('valid');
    expect(online['2.0.0']).toBe('version_not_covered');

    // Offline means offline: the store is gone before the verifier runs.
    await store.stop();
    await expect(fetch(`${store.url}/healthz`)).rejects.toThrow();

    const verifier = join(ROOT, 'examples', 'verify-offline', 'verify.mjs');
    const run = async (...args: string[]) => {
      try {
        const { stdout } = await execFileP(process.execPath, [verifier, ...args], { timeout: 30_000 });
        return { code: 0, out: JSON.parse(stdout) as Record<string, unknown> };
      } catch (e) {
        const err = e as { code?: number; stdout?: string; stderr?: string };
        return {
          code: err.code ?? -1,
          out: err.stdout ? (JSON.parse(err.stdout) as Record<string, unknown>) : { stderr: err.stderr },
        };
      }
    };
    const common = ['--issuer', store.url, '--publisher', SLUG, '--chart', 'majordb'];
    expect(await run(jwksFile, p.license.key, ...common, '--version', '1.3.0')).toEqual({
      code: 0,
      out: {
        valid: true,
        license: {
          id: p.license.id,
          publisher: SLUG,
          chart: 'majordb',
          versionRange: '>=1.0.0 <2.0.0-0',
          updatesUntil: null,
        },
      },
    });
    expect(await run(jwksFile, p.license.key, ...common, '--version', '2.0.0')).toEqual({
      code: 1,
      out: { valid: false, reason: 'version_not_covered' },
    });
    expect(await run(jwksFile, p.license.key, '--issuer', 'https://elsewhere.example')).toEqual({
      code: 1,
      out: { valid: false, reason: 'wrong_issuer' },
    });
    expect(await run(jwksFile, p.license.key, '--publisher', SLUG, '--chart', 'superdb')).toEqual({
      code: 1,
      out: { valid: false, reason: 'wrong_chart' },
    });
    // Chart names are unique per publisher only: the publisher is compared too, and required with --chart.
    expect(await run(jwksFile, p.license.key, '--publisher', other.slug, '--chart', 'majordb')).toEqual({
      code: 1,
      out: { valid: false, reason: 'wrong_publisher' },
    });
    expect((await run(jwksFile, p.license.key, '--chart', 'majordb')).code).toBe(2);
    // Tampered: the buyer widens the range to every version; the signature no longer matches.
    const { parts, claims } = decodeKey(p.license.key);
    const forged = `berth_lic_${parts[0]}.${Buffer.from(JSON.stringify({ ...claims, range: '*' })).toString('base64url')}.${parts[2]}`;
    expect(await run(jwksFile, forged, ...common, '--version', '2.0.0')).toEqual({
      code: 1,
      out: { valid: false, reason: 'bad_signature' },
    });
    // Tampered: one character of the signature changed.
    const sig = parts[2];
    const flipped = `berth_lic_${parts[0]}.${parts[1]}.${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    expect(await run(jwksFile, flipped, ...common)).toEqual({
      code: 1,
      out: { valid: false, reason: 'bad_signature' },
    });
    // Offline and online agree on every version, pre-releases included (the store: semver with
    // includePrerelease, so 1.0.0-rc.1 is below >=1.0.0).
    const offline: Record<string, string> = {};
    for (const version of probes) {
      const r = await run(jwksFile, p.license.key, ...common, '--version', version);
      offline[version] = r.out.valid ? 'valid' : String(r.out.reason);
    }
    expect(offline).toEqual(online);
  });
});
