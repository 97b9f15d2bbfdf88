import { CheckoutExpirySweeper } from '@berth/commerce';
import { DataSource } from 'typeorm';
import {
  createPublisher,
  json,
  Publisher,
  putListing,
  uploadChart,
  postJson as post,
  statusAndCode as code,
  bearer,
} from '../support/api';
import { simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';

/**
 * Orders, licenses and checkout on the local payment provider (issue 11): cursor-paged and filtered
 * publisher lists that checkout spam cannot hide a paid order in, checkouts that expire and are checked
 * again at payment, no caching of anything that carries a key or token, the checkout pages' CSP, and
 * catalog icons that are only ever http(s).
 */

const PUBLIC_URL = 'https://berth.example.test';
const PRICE = 4900;

type Order = { id: string; status: string; chart: string; buyerEmail: string; expiresAt: string | null };
type OrderPage = { orders: Order[]; nextCursor: string | null };
type LicenseRow = { id: string; status: string; chart: string; buyerEmail: string; issuedAt: string };
type LicensePage = { licenses: LicenseRow[]; nextCursor: string | null };
type Started = { orderId: string; sessionId: string; checkoutUrl: string };

describe('orders, licenses and checkout hardening on postgres', () => {
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;

  const checkout = async (chart = 'superdb', email = 'buyer@example.com'): Promise<Started> => {
    const res = await post(`${store.url}/v1/checkout`, { publisher: 'acme', chart, email });
    const body = (await json(res)) as Started;
    expect([res.status, body]).toEqual([201, expect.objectContaining({ sessionId: expect.any(String) })]);
    return body;
  };
  const payPath = (c: Started) => `${new URL(c.checkoutUrl).pathname}/pay`;
  const pay = (c: Started) => fetch(`${store.url}${payPath(c)}`, { method: 'POST', redirect: 'manual' });
  const orders = async (query = '') => {
    const res = await fetch(`${store.url}/v1/publishers/acme/orders${query}`, {
      headers: bearer(acme.accessToken),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as OrderPage;
  };
  const licenses = async (query = '') => {
    const res = await fetch(`${store.url}/v1/publishers/acme/licenses${query}`, {
      headers: bearer(acme.accessToken),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as LicensePage;
  };
  const orderRow = async (id: string) =>
    (await db.query(`SELECT status, expires_at, created_at FROM "order" WHERE id = $1`, [id]))[0] as {
      status: string;
      expires_at: Date | null;
      created_at: Date;
    };
  const licensesOf = async (orderId: string) =>
    Number((await db.query(`SELECT count(*)::int AS n FROM license WHERE order_id = $1`, [orderId]))[0].n);
  const listing = (amount: number, kind = 'major', published = true) => ({
    price: { amount, currency: 'usd' },
    updatePolicy: { kind },
    published,
  });

  beforeAll(async () => {
    store = await startInProcess('postgres', { PUBLIC_URL });
    db = store.app.get(DataSource);
    acme = await createPublisher(store.url, 'acme');
    for (const [name, version] of [
      ['superdb', '1.0.0'],
      ['other', '1.0.0'],
      ['moving', '1.0.0'],
    ]) {
      expect(
        (await uploadChart(store.url, 'acme', acme.apiToken, await simpleChart(name, version))).status,
      ).toBe(201);
    }
    for (const chart of ['superdb', 'other', 'moving'])
      expect((await putListing(store.url, 'acme', acme.apiToken, chart, listing(PRICE))).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
  });

  describe('cursor-paged, filtered order and license lists', () => {
    let paid: Started;
    /** Every acme order id at the start of the walk, newest first as the database orders them. */
    let expected: string[];

    beforeAll(async () => {
      paid = await checkout('superdb', 'real.customer@example.com');
      expect((await pay(paid)).status).toBe(303);
      // 510 abandoned checkouts after the one paid order: 10 through the API, 500 in one statement
      // (so they share one created_at and only the id tells them apart).
      for (let i = 0; i < 10; i++) await checkout('other', `spam${i}@example.com`);
      await db.query(
        `INSERT INTO "order" (publisher_id, chart_id, publisher_slug, chart_name, update_policy, buyer_email,
           amount, currency, provider, status, expires_at)
         SELECT publisher_id, chart_id, publisher_slug, chart_name, update_policy, 'bot' || g || '@example.com',
           amount, currency, provider, 'pending', now() + interval '30 minutes'
         FROM "order", generate_series(1, 500) g WHERE id = $1`,
        [paid.orderId],
      );
      expected = (
        (await db.query(
          `SELECT id FROM "order" WHERE publisher_slug = 'acme' ORDER BY created_at DESC, id DESC`,
        )) as Array<{ id: string }>
      ).map((r) => r.id);
      expect(expected.length).toBe(511);
    }, 60_000);

    it('finds the one paid order among 510 abandoned checkouts by status, chart and e-mail', async () => {
      const byStatus = await orders('?status=paid');
      expect(byStatus.orders.map((o) => o.id)).toEqual([paid.orderId]);
      expect(byStatus.nextCursor).toBeNull();
      expect((await orders('?email=Real.Customer@example.com')).orders.map((o) => o.id)).toEqual([
        paid.orderId,
      ]);
      expect((await orders('?chart=superdb&status=paid')).orders.map((o) => o.id)).toEqual([paid.orderId]);
      const other = await orders('?chart=other&limit=200');
      expect(other.orders.map((o) => o.chart)).toEqual(Array(10).fill('other'));
      expect((await orders('?chart=other&status=paid')).orders).toEqual([]);
      // The first page is the newest 50 (the default page size): the paid order is not on it.
      const first = await orders();
      expect(first.orders).toHaveLength(50);
      expect(first.orders.map((o) => o.id)).toEqual(expected.slice(0, 50));
      expect(first.nextCursor).toEqual(expect.any(String));
    });

    it('walks every order exactly once by cursor while new checkouts keep arriving', async () => {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: OrderPage = await orders(
          `?limit=37${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        seen.push(...page.orders.map((o) => o.id));
        cursor = page.nextCursor;
        pages++;
        // A checkout arrives between two pages: newer than the walk's first page, so never in it.
        if (pages % 4 === 0) await checkout('other', `late${pages}@example.com`);
      } while (cursor);
      expect(pages).toBe(Math.ceil(511 / 37));
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).toEqual(expected);
      expect(seen).toContain(paid.orderId);
    });

    it('filters orders by creation date, from inclusive and to exclusive', async () => {
      const row = await orderRow(paid.orderId);
      const at = row.created_at.toISOString();
      const inWindow = await orders(
        `?status=paid&from=${encodeURIComponent(at)}&to=${encodeURIComponent(new Date(row.created_at.getTime() + 1).toISOString())}`,
      );
      expect(inWindow.orders.map((o) => o.id)).toEqual([paid.orderId]);
      expect((await orders(`?status=paid&to=${encodeURIComponent(at)}`)).orders).toEqual([]);
      expect(
        (
          await orders(
            `?status=paid&from=${encodeURIComponent(new Date(row.created_at.getTime() + 1).toISOString())}`,
          )
        ).orders,
      ).toEqual([]);
    });

    it('pages and filters licenses the same way', async () => {
      const granted: string[] = [];
      for (let i = 0; i < 7; i++) {
        const res = await post(
          `${store.url}/v1/publishers/acme/licenses`,
          { chart: i % 2 ? 'other' : 'superdb', email: `friend${i}@example.com` },
          bearer(acme.accessToken),
        );
        expect(res.status).toBe(201);
        granted.push(((await res.json()) as { id: string }).id);
      }
      const revoke = await fetch(`${store.url}/v1/publishers/acme/licenses/${granted[2]}`, {
        method: 'DELETE',
        headers: bearer(acme.accessToken),
      });
      expect(revoke.status).toBe(204);
      const all = [...granted]
        .reverse()
        .concat((await licenses('?email=real.customer@example.com')).licenses[0].id);
      expect(all).toHaveLength(8);

      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const page: LicensePage = await licenses(
          `?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        );
        expect(page.licenses.length).toBeLessThanOrEqual(3);
        seen.push(...page.licenses.map((l) => l.id));
        cursor = page.nextCursor;
      } while (cursor);
      expect(seen).toEqual(all);

      expect((await licenses('?status=revoked')).licenses.map((l) => l.id)).toEqual([granted[2]]);
      expect((await licenses('?status=active&chart=other')).licenses.map((l) => l.id)).toEqual([
        granted[5],
        granted[3],
        granted[1],
      ]);
      expect((await licenses('?email=FRIEND4@example.com')).licenses.map((l) => l.id)).toEqual([granted[4]]);
      const issued = (await licenses('?email=friend4@example.com')).licenses[0].issuedAt;
      expect(
        (await licenses(`?chart=superdb&from=${encodeURIComponent(issued)}`)).licenses.map((l) => l.id),
      ).toEqual([granted[6], granted[4]]);
    });

    it('refuses a forged cursor, a bad filter and an oversized page with 400 and a stable code', async () => {
      const get = (path: string) =>
        fetch(`${store.url}/v1/publishers/acme/${path}`, { headers: bearer(acme.accessToken) });
      const forged = Buffer.from("2026-01-01T00:00:00.000000Z|x' OR 1=1 --").toString('base64url');
      for (const list of ['orders', 'licenses']) {
        expect(await code(await get(`${list}?cursor=${forged}`))).toEqual([400, 'cursor_invalid']);
        expect(await code(await get(`${list}?cursor=not-a-cursor`))).toEqual([400, 'cursor_invalid']);
        expect(await code(await get(`${list}?status=bogus`))).toEqual([400, 'validation_failed']);
        expect(await code(await get(`${list}?from=yesterday`))).toEqual([400, 'validation_failed']);
        expect(await code(await get(`${list}?limit=201`))).toEqual([400, 'validation_failed']);
        expect(await code(await get(`${list}?limit=0`))).toEqual([400, 'validation_failed']);
      }
      expect(await code(await get('orders?status=active'))).toEqual([400, 'validation_failed']);
      expect(await code(await get('licenses?status=paid'))).toEqual([400, 'validation_failed']);
    });
  });

  describe('checkouts that expire and are checked again at payment', () => {
    it('gives every checkout an expiry CHECKOUT_EXPIRY_SECONDS (default 30 min) after it opened', async () => {
      const c = await checkout('superdb', 'expiry@example.com');
      const row = await orderRow(c.orderId);
      expect(row.expires_at).not.toBeNull();
      const life = (row.expires_at as Date).getTime() - row.created_at.getTime();
      // Computed just before the row is written, so within a moment of created_at + 1800 s.
      expect(Math.abs(life - 1800_000)).toBeLessThan(5_000);
      const listed = (await orders('?email=expiry@example.com')).orders[0];
      expect(listed.expiresAt).toBe((row.expires_at as Date).toISOString());
    });

    it('refuses to take payment for an expired checkout and issues nothing', async () => {
      const c = await checkout('superdb', 'late.payer@example.com');
      await db.query(`UPDATE "order" SET expires_at = now() - interval '1 second' WHERE id = $1`, [
        c.orderId,
      ]);
      // Expired as soon as the time has passed, before any sweep marks it.
      const lapsed = await fetch(`${store.url}/v1/checkout/${c.sessionId}`);
      expect(((await lapsed.json()) as { status: string }).status).toBe('expired');
      const page = await fetch(`${store.url}${new URL(c.checkoutUrl).pathname}`);
      expect(page.status).toBe(410);
      // No pay button (the page's only form is the site's search).
      expect(await page.text()).not.toMatch(/<form method="post"/);
      expect(await code(await pay(c))).toEqual([409, 'checkout_expired']);
      expect((await orderRow(c.orderId)).status).toBe('expired');
      expect(await licensesOf(c.orderId)).toBe(0);
      // Asking again changes nothing.
      expect(await code(await pay(c))).toEqual([409, 'checkout_expired']);
      const state = (await (await fetch(`${store.url}/v1/checkout/${c.sessionId}`)).json()) as {
        status: string;
        license?: unknown;
      };
      expect(state).toEqual({ status: 'expired' });
    });

    it('refuses a checkout opened at $49 once the chart is repriced, re-policied or unpublished', async () => {
      const changes: Array<Record<string, unknown>> = [
        listing(9900),
        listing(PRICE, 'all'),
        listing(PRICE, 'major', false),
        { price: { amount: PRICE, currency: 'eur' }, updatePolicy: { kind: 'major' }, published: true },
      ];
      for (const change of changes) {
        expect((await putListing(store.url, 'acme', acme.apiToken, 'moving', listing(PRICE))).status).toBe(
          200,
        );
        const c = await checkout('moving', 'changed@example.com');
        expect((await putListing(store.url, 'acme', acme.apiToken, 'moving', change)).status).toBe(200);
        expect({ change, refused: await code(await pay(c)) }).toEqual({
          change,
          refused: [409, 'checkout_listing_changed'],
        });
        expect((await orderRow(c.orderId)).status).toBe('expired');
        expect(await licensesOf(c.orderId)).toBe(0);
      }
      // Back on the old terms a fresh checkout pays as before.
      expect((await putListing(store.url, 'acme', acme.apiToken, 'moving', listing(PRICE))).status).toBe(200);
      const fresh = await checkout('moving', 'changed@example.com');
      expect((await pay(fresh)).status).toBe(303);
      expect(await licensesOf(fresh.orderId)).toBe(1);
    });

    it('sweeps stale local checkouts to expired and leaves paid and fresh ones alone', async () => {
      const stale = await checkout('superdb', 'sweep@example.com');
      const done = await checkout('superdb', 'sweep@example.com');
      expect((await pay(done)).status).toBe(303);
      const sweeper = store.app.get(CheckoutExpirySweeper);
      expect(await sweeper.sweep(new Date(Date.now() - 60_000))).toBe(0);
      expect((await orderRow(stale.orderId)).status).toBe('pending');
      // Half an hour and a bit later (the sweep is given the time; it runs every minute on every replica).
      expect(await sweeper.sweep(new Date(Date.now() + 1801_000))).toBeGreaterThan(0);
      expect((await orderRow(stale.orderId)).status).toBe('expired');
      expect((await orderRow(done.orderId)).status).toBe('paid');
      expect(await code(await pay(stale))).toEqual([409, 'checkout_expired']);
      expect((await orders('?email=sweep@example.com&status=pending')).orders).toEqual([]);
    });
  });

  describe('responses that carry a key, token or checkout secret are never cached', () => {
    it('sends Cache-Control: no-store on every one of them', async () => {
      const sessions = await post(`${store.url}/v1/sessions`, { email: acme.email, password: acme.password });
      const tokens = await post(
        `${store.url}/v1/publishers/acme/tokens`,
        { name: 'reader', scopes: ['licenses:read'] },
        bearer(acme.accessToken),
      );
      const tokenList = await fetch(`${store.url}/v1/publishers/acme/tokens`, {
        headers: bearer(acme.accessToken),
      });
      const grant = await post(
        `${store.url}/v1/publishers/acme/licenses`,
        { chart: 'superdb', email: 'nostore@example.com' },
        bearer(acme.accessToken),
      );
      const licenseList = await fetch(`${store.url}/v1/publishers/acme/licenses`, {
        headers: bearer(acme.accessToken),
      });
      const orderList = await fetch(`${store.url}/v1/publishers/acme/orders`, {
        headers: bearer(acme.accessToken),
      });
      const started = await post(`${store.url}/v1/checkout`, {
        publisher: 'acme',
        chart: 'superdb',
        email: 'nostore@example.com',
      });
      const c = (await started.clone().json()) as Started;
      const localPage = await fetch(`${store.url}${new URL(c.checkoutUrl).pathname}`);
      const paid = await pay(c);
      const state = await fetch(`${store.url}/v1/checkout/${c.sessionId}`);
      const success = await fetch(`${store.url}/checkout/success?session_id=${c.sessionId}`);
      const responses: Record<string, Response> = {
        'POST /v1/sessions': sessions,
        'POST tokens': tokens,
        'GET tokens': tokenList,
        'POST licenses (grant)': grant,
        'GET licenses': licenseList,
        'GET orders': orderList,
        'POST /v1/checkout': started,
        'GET /v1/checkout/{sessionId}': state,
        'GET local pay page': localPage,
        'POST pay': paid,
        'GET success page': success,
      };
      const seen = Object.fromEntries(
        Object.entries(responses).map(([k, r]) => [k, [r.status, r.headers.get('cache-control')]]),
      );
      expect(seen).toEqual({
        'POST /v1/sessions': [200, 'no-store'],
        'POST tokens': [201, 'no-store'],
        'GET tokens': [200, 'no-store'],
        'POST licenses (grant)': [201, 'no-store'],
        'GET licenses': [200, 'no-store'],
        'GET orders': [200, 'no-store'],
        'POST /v1/checkout': [201, 'no-store'],
        'GET /v1/checkout/{sessionId}': [200, 'no-store'],
        'GET local pay page': [200, 'private, no-store'],
        'POST pay': [303, 'no-store'],
        'GET success page': [200, 'private, no-store'],
      });
      expect(((await state.json()) as { license?: { key: string } }).license?.key).toMatch(/^berth_lic_/);
    });
  });

  describe('the checkout pages run no inline script', () => {
    it('loads the copy buttons from a same-origin file under a CSP without unsafe-inline', async () => {
      const c = await checkout('superdb', 'csp@example.com');
      expect((await pay(c)).status).toBe(303);
      const pages = [
        await fetch(`${store.url}${new URL(c.checkoutUrl).pathname}`),
        await fetch(`${store.url}/checkout/success?session_id=${c.sessionId}`),
      ];
      for (const res of pages) {
        const csp = res.headers.get('content-security-policy') ?? '';
        const directives = Object.fromEntries(
          csp.split(';').map((d) => {
            const [name, ...values] = d.trim().split(/\s+/);
            return [name, values];
          }),
        );
        expect(directives['default-src']).toEqual(["'none'"]);
        expect(directives['script-src']).toEqual(["'self'"]);
        expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
        const html = await res.text();
        // Every <script> names a same-origin file and has no body.
        const scripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
        for (const [, attrs, inline] of scripts) {
          expect(inline.trim()).toBe('');
          expect(attrs).toMatch(/^ src="\/assets\/berth-[0-9a-f]{12}\.js" defer$/);
        }
      }
      const success = await (await fetch(`${store.url}/checkout/success?session_id=${c.sessionId}`)).text();
      expect(success).toContain('data-copy="key"');
      const src = /<script src="([^"]+)"/.exec(success)?.[1];
      expect(src).toMatch(/^\/assets\/berth-[0-9a-f]{12}\.js$/);
      const script = await fetch(`${store.url}${src}`);
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/^text\/javascript/);
      expect(script.headers.get('x-content-type-options')).toBe('nosniff');
      expect(await script.text()).toContain("querySelectorAll('button[data-copy]')");
    });
  });

  describe('catalog icons', () => {
    it('returns an icon URL only when it is https, null for http:, javascript:, data: and the like', async () => {
      const icons: Record<string, string | null> = {
        jsicon: 'javascript:alert(document.cookie)',
        dataicon: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
        vbicon: 'vbscript:msgbox(1)',
        relicon: '/relative/icon.png',
        httpsicon: 'https://cdn.example.com/icon.png',
        // Pages load images over https only (their CSP says img-src 'self' https:).
        httpicon: null,
      };
      for (const [name, icon] of Object.entries(icons)) {
        const chartYaml = `apiVersion: v2\nname: ${name}\nversion: 1.0.0\nicon: "${icon}"\ntype: application\n`;
        const archive = await simpleChart(name, '1.0.0', { 'Chart.yaml': chartYaml });
        expect((await uploadChart(store.url, 'acme', acme.apiToken, archive)).status).toBe(201);
        expect((await putListing(store.url, 'acme', acme.apiToken, name)).status).toBe(200);
      }
      const shown: Record<string, string | null> = {};
      for (const name of Object.keys(icons)) {
        const detail = (await (await fetch(`${store.url}/v1/catalog/acme/${name}`)).json()) as {
          icon: string | null;
        };
        shown[name] = detail.icon;
      }
      const page = (await (await fetch(`${store.url}/v1/catalog?publisher=acme`)).json()) as {
        items: Array<{ name: string; icon: string | null }>;
      };
      const listed = { items: page.items.filter((i) => i.name in icons) };
      expect(shown).toEqual({
        jsicon: null,
        dataicon: null,
        vbicon: null,
        relicon: null,
        httpsicon: 'https://cdn.example.com/icon.png',
        // Pages load images over https only (their CSP says img-src 'self' https:).
        httpicon: null,
      });
      expect(Object.fromEntries(listed.items.map((i) => [i.name, i.icon]))).toEqual(shown);
    });
  });
});
