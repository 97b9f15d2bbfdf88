import { DownloadCounter } from '@berth/analytics';
import { DataSource } from 'typeorm';
import { bearer, createPublisher, postJson, Publisher, publishChart, statusAndCode } from '../support/api';
import { simpleChart } from '../support/charts';
import { buyerEmail, buyLocally } from '../support/checkout';
import { consoleForm, consoleGet, consoleSignIn } from '../support/console';
import { InProcessStore, startInProcess } from '../support/in-process';

const HOSTILE_EMAIL = '"<script>alert(1)</script>"@x.io';
const HOSTILE_EMAIL_HTML = '&quot;&lt;script&gt;alert(1)&lt;/script&gt;&quot;@x.io';
const HOSTILE_NOTE = '<img src=x onerror=alert(1)> please stop sharing the key';
const UNKNOWN = '00000000-0000-4000-8000-00000000abcd';

type Timeline = {
  email: string;
  orders: number;
  licenses: number;
  events: Array<{
    at: string;
    type: string;
    orderId: string | null;
    licenseId: string | null;
    detail: string;
  }>;
};

describe('the console: orders, licenses and customers', () => {
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;
  let other: Publisher;
  let cookie: string;
  let hostile: { id: string; key: string; orderId: string };
  let paid: { id: string; key: string; orderId: string };
  let paidEmail: string;
  let otherOrder: { id: string; key: string; orderId: string };

  const verify = async (key: string) =>
    (await (await postJson(`${store.url}/v1/licenses/verify`, { key })).json()) as {
      valid: boolean;
      reason?: string;
    };
  const api = (p: Publisher, path: string, init: RequestInit = {}) =>
    fetch(`${store.url}/v1/publishers/${p.slug}${path}`, {
      ...init,
      headers: { ...bearer(p.apiToken), ...(init.headers as Record<string, string>) },
    });
  const grantByApi = async (email: string) => {
    const res = await api(acme, '/licenses', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ chart: 'superdb', email }),
    });
    expect(res.status).toBe(201);
    return (await res.json()) as { id: string; key: string };
  };
  const page = async (path: string) => {
    const res = await consoleGet(store, path, cookie);
    return { status: res.status, html: await res.text() };
  };

  beforeAll(async () => {
    store = await startInProcess('postgres', { LICENSE_STATUS_CACHE_SECONDS: '0' });
    db = store.app.get(DataSource);
    const scopes = ['charts:write', 'listings:write', 'orders:read', 'licenses:read', 'licenses:write'];
    acme = await createPublisher(store.url, 'acme', scopes);
    other = await createPublisher(store.url, 'other', scopes);
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 4900);
    await publishChart(store.url, other, 'otherdb', await simpleChart('otherdb', '1.0.0'), 1500);
    cookie = await consoleSignIn(store, acme);
    hostile = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: HOSTILE_EMAIL });
    paidEmail = buyerEmail('paid');
    paid = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: paidEmail });
    otherOrder = await buyLocally(store.url, { publisher: 'other', chart: 'otherdb', email: paidEmail });
  }, 90_000);
  afterAll(() => store?.close());

  it('shows orders with totals per currency for the filters, escaped, with a CSV link that keeps them', async () => {
    const all = await page('/console/acme/orders');
    expect(all.status).toBe(200);
    expect(all.html).toContain('98.00 USD');
    expect(all.html).toContain(HOSTILE_EMAIL_HTML);
    expect(all.html).not.toContain('<script>alert(1)');
    expect(all.html).not.toContain(otherOrder.orderId);
    expect(all.html).toContain(`/console/acme/orders/${paid.orderId}/refund`);
    expect(all.html).toContain('href="/console/acme/orders/export.csv"');

    const q = `status=paid&email=${encodeURIComponent(paidEmail)}`;
    const filtered = await page(`/console/acme/orders?${q}&chart=&from=&to=`);
    expect(filtered.status).toBe(200);
    expect(filtered.html).toContain(paid.orderId.slice(0, 8));
    expect(filtered.html).not.toContain(hostile.orderId.slice(0, 8));
    expect(filtered.html).toMatch(/<td>49\.00 USD<\/td>\s*<td>0\.00 USD<\/td>\s*<td>49\.00 USD<\/td>/);
    expect(filtered.html).toContain(`value="${paidEmail}"`);
    expect(filtered.html).toContain('<option value="paid" selected>');
    expect(filtered.html).toContain(`href="/console/acme/orders/export.csv?${q.replace('&', '&amp;')}"`);

    // Paging: one a page, "Next page" keeps the filters.
    const first = await page('/console/acme/orders?status=paid&limit=1');
    const next = /<a href="([^"]+)" rel="next">Next page<\/a>/.exec(first.html)?.[1].replace(/&amp;/g, '&');
    expect(next).toMatch(/^\/console\/acme\/orders\?status=paid&limit=1&cursor=/);
    const second = await page(next!);
    expect(second.status).toBe(200);
    expect(second.html).toContain(hostile.orderId.slice(0, 8));
    expect(second.html).not.toContain('rel="next"');

    const bad = await page('/console/acme/orders?from=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.html).toContain('from must be an ISO 8601 date-time');
    expect(bad.html).toContain('value="yesterday"');
  });

  it('exports the same CSV as the API, and it parses back', async () => {
    const res = await consoleGet(store, '/console/acme/orders/export.csv?status=paid', cookie);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="orders-acme-/);
    const csv = await res.text();
    const viaApi = await (await api(acme, '/orders/export.csv?status=paid')).text();
    expect(csv).toBe(viaApi);
    // RFC 4180: split on CRLF outside quotes, then cells.
    const rows: string[][] = [];
    for (const line of csv.split('\r\n').filter(Boolean)) {
      const cells: string[] = [];
      const re = /("((?:[^"]|"")*)"|[^,]*)(,|$)/g;
      let m: RegExpExecArray | null;
      while ((m = re.exec(line)) && m[0] !== '') {
        cells.push(m[2] !== undefined ? m[2].replace(/""/g, '"') : m[1]);
        if (m[3] === '') break;
      }
      rows.push(cells);
    }
    expect(rows[0].slice(0, 6)).toEqual([
      'order_id',
      'created_at',
      'paid_at',
      'chart',
      'buyer_email',
      'status',
    ]);
    const byId = new Map(rows.slice(1).map((r) => [r[0], r]));
    expect(byId.size).toBe(2);
    expect(byId.get(hostile.orderId)![4]).toBe(HOSTILE_EMAIL);
    expect(byId.get(paid.orderId)!.slice(5, 9)).toEqual(['paid', 'USD', '49.00', '0.00']);
  });

  it('refunds a paid order from the console (its license is revoked); another publisher’s order is unknown', async () => {
    const order = await buyLocally(store.url, {
      publisher: 'acme',
      chart: 'superdb',
      email: buyerEmail('refund'),
    });
    expect(await verify(order.key)).toMatchObject({ valid: true });
    const res = await consoleForm(store, `/console/acme/orders/${order.orderId}/refund`, cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/acme/orders?done=refunded');
    expect(await verify(order.key)).toMatchObject({ valid: false, reason: 'revoked' });
    const again = await consoleForm(store, `/console/acme/orders/${order.orderId}/refund`, cookie);
    expect(again.status).toBe(409);
    expect(await again.text()).toContain('Only a paid order can be refunded; this one is refunded.');

    const foreign = await consoleForm(store, `/console/acme/orders/${otherOrder.orderId}/refund`, cookie);
    const unknown = await consoleForm(store, `/console/acme/orders/${UNKNOWN}/refund`, cookie);
    expect([foreign.status, unknown.status]).toEqual([404, 404]);
    expect(await foreign.text()).toBe(await unknown.text());
    expect(await verify(otherOrder.key)).toMatchObject({ valid: true });
    const [{ n }] = (await db.query(
      `SELECT count(*)::int AS n FROM audit_event WHERE action = 'order_refunded' AND subject = $1 AND account_id IS NOT NULL`,
      [order.orderId],
    )) as Array<{ n: number }>;
    expect(n).toBe(1);
  });

  it('revokes with a note the holder sees, escaped on the page; a note over 300 characters is refused', async () => {
    const gift = await grantByApi(buyerEmail('note'));
    const long = await consoleForm(store, `/console/acme/licenses/${gift.id}/revoke`, cookie, {
      note: 'x'.repeat(301),
    });
    expect(long.status).toBe(400);
    expect(await long.text()).toContain('note must be shorter than or equal to 300 characters');
    expect(await verify(gift.key)).toMatchObject({ valid: true });

    const res = await consoleForm(store, `/console/acme/licenses/${gift.id}/revoke`, cookie, {
      note: HOSTILE_NOTE,
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/acme/licenses?done=revoked');
    expect(await verify(gift.key)).toMatchObject({ valid: false, reason: 'revoked' });
    const [row] = (await db.query(`SELECT publisher_note, reason FROM license WHERE id = $1`, [
      gift.id,
    ])) as Array<{
      publisher_note: string;
      reason: string;
    }>;
    expect(row).toEqual({ publisher_note: HOSTILE_NOTE, reason: 'revoked_by_publisher' });
    const list = await page('/console/acme/licenses?done=revoked');
    expect(list.html).toContain('The license was revoked.');
    expect(list.html).toContain('&lt;img src=x onerror=alert(1)&gt; please stop sharing the key');
    expect(list.html).not.toContain('<img src=x');
    expect(list.html).toContain(HOSTILE_EMAIL_HTML);
    expect(list.html).not.toContain('<script>alert(1)');

    const foreign = await consoleForm(store, `/console/acme/licenses/${otherOrder.id}/revoke`, cookie, {
      note: 'x',
    });
    const unknown = await consoleForm(store, `/console/acme/licenses/${UNKNOWN}/revoke`, cookie, {
      note: 'x',
    });
    expect([foreign.status, unknown.status]).toEqual([404, 404]);
    expect(await foreign.text()).toBe(await unknown.text());
    expect(await verify(otherOrder.key)).toMatchObject({ valid: true });
  });

  it('reinstates a revoked complimentary license (console and API); a paid or active one is 409', async () => {
    const gift = await grantByApi(buyerEmail('gift'));
    expect((await api(acme, `/licenses/${gift.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await verify(gift.key)).toMatchObject({ valid: false, reason: 'revoked' });
    const listed = await page('/console/acme/licenses');
    expect(listed.html).toContain(`/console/acme/licenses/${gift.id}/reinstate`);
    const res = await consoleForm(store, `/console/acme/licenses/${gift.id}/reinstate`, cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/acme/licenses?done=reinstated');
    expect(await verify(gift.key)).toMatchObject({ valid: true });

    // The API: revoke again, reinstate → 200 and the license.
    expect((await api(acme, `/licenses/${gift.id}`, { method: 'DELETE' })).status).toBe(204);
    const viaApi = await api(acme, `/licenses/${gift.id}/reinstate`, { method: 'POST' });
    expect(viaApi.status).toBe(200);
    expect(await viaApi.json()).toMatchObject({ id: gift.id, status: 'active', reason: null, orderId: null });
    expect(await verify(gift.key)).toMatchObject({ valid: true });
    // Active now: nothing to reinstate.
    expect(
      await statusAndCode(await api(acme, `/licenses/${gift.id}/reinstate`, { method: 'POST' })),
    ).toEqual([409, 'license_not_reinstatable']);

    // A bought license revoked by the publisher stays revoked: its order decides.
    const bought = await buyLocally(store.url, {
      publisher: 'acme',
      chart: 'superdb',
      email: buyerEmail('b'),
    });
    expect((await api(acme, `/licenses/${bought.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(
      await statusAndCode(await api(acme, `/licenses/${bought.id}/reinstate`, { method: 'POST' })),
    ).toEqual([409, 'license_not_reinstatable']);
    const refused = await consoleForm(store, `/console/acme/licenses/${bought.id}/reinstate`, cookie);
    expect(refused.status).toBe(409);
    expect(await refused.text()).toContain('Only a complimentary license can be reinstated');
    expect(await verify(bought.key)).toMatchObject({ valid: false, reason: 'revoked' });

    // Another publisher's license answers as an unknown one.
    const foreign = await api(acme, `/licenses/${otherOrder.id}/reinstate`, { method: 'POST' });
    const unknown = await api(acme, `/licenses/${UNKNOWN}/reinstate`, { method: 'POST' });
    expect(await statusAndCode(foreign)).toEqual([404, 'license_not_found']);
    expect(await statusAndCode(unknown)).toEqual([404, 'license_not_found']);
    const [{ n }] = (await db.query(
      `SELECT count(*)::int AS n FROM audit_event WHERE action = 'license_reinstated' AND subject = $1`,
      [gift.id],
    )) as Array<{ n: number }>;
    expect(n).toBe(2);
  });

  it('grants a complimentary license and shows its key once, never in a URL', async () => {
    const email = buyerEmail('granted');
    const res = await consoleForm(store, '/console/acme/licenses/grant', cookie, {
      chart: 'superdb',
      email,
      versionRange: '^1.0.0',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    const html = await res.text();
    const key = /<pre\b[^>]*\bid="key"[^>]*>(berth_lic_[A-Za-z0-9_.-]+)<\/pre>/.exec(html)?.[1];
    expect(key).toBeDefined();
    expect(await verify(key!)).toMatchObject({ valid: true });
    const list = await page(`/console/acme/licenses?email=${encodeURIComponent(email)}`);
    expect(list.html).toContain(email);
    expect(list.html).toContain('Complimentary');
    expect(list.html).not.toContain('berth_lic_');

    const bad = await consoleForm(store, '/console/acme/licenses/grant', cookie, {
      chart: 'superdb',
      email: 'not-an-address',
      versionRange: '',
    });
    expect(bad.status).toBe(400);
    const badHtml = await bad.text();
    expect(badHtml).toContain('email must be an e-mail address');
    expect(badHtml).toContain('value="not-an-address"');
    const unknownChart = await consoleForm(store, '/console/acme/licenses/grant', cookie, {
      chart: 'otherdb',
      email,
    });
    expect(unknownChart.status).toBe(404);
  });

  it('resends the license e-mail at most every 10 minutes; revoked and foreign licenses are refused', async () => {
    const gift = await grantByApi(buyerEmail('resend'));
    // The grant's own mail was just queued: too soon.
    const soon = await api(acme, `/licenses/${gift.id}/resend`, { method: 'POST' });
    expect(await statusAndCode(soon)).toEqual([429, 'license_mail_too_soon']);
    expect(Number(soon.headers.get('retry-after'))).toBeGreaterThan(500);
    await db.query(
      `UPDATE mail_outbox SET created_at = now() - interval '11 minutes' WHERE split_part(subject, '/', 1) = $1`,
      [gift.id],
    );
    const res = await consoleForm(store, `/console/acme/licenses/${gift.id}/resend`, cookie);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/console/acme/licenses?done=resent');
    const again = await consoleForm(store, `/console/acme/licenses/${gift.id}/resend`, cookie);
    expect(again.status).toBe(429);
    expect(await again.text()).toContain('The license e-mail was sent less than 10 minutes ago');
    // It goes out, with the license written when it is sent.
    let rows: Array<{ kind: string; status: string; recipient: string }> = [];
    for (let i = 0; i < 50; i++) {
      rows = (await db.query(
        `SELECT kind, status, recipient FROM mail_outbox WHERE split_part(subject, '/', 1) = $1 ORDER BY created_at`,
        [gift.id],
      )) as typeof rows;
      if (rows.every((r) => r.status !== 'pending')) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(rows.map((r) => [r.kind, r.status])).toEqual([
      ['license_key', 'sent'],
      ['license_key_again', 'sent'],
    ]);

    // The API answers 202 once the interval has passed.
    await db.query(
      `UPDATE mail_outbox SET created_at = now() - interval '11 minutes' WHERE split_part(subject, '/', 1) = $1`,
      [gift.id],
    );
    expect((await api(acme, `/licenses/${gift.id}/resend`, { method: 'POST' })).status).toBe(202);

    expect((await api(acme, `/licenses/${gift.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await statusAndCode(await api(acme, `/licenses/${gift.id}/resend`, { method: 'POST' }))).toEqual([
      409,
      'license_revoked',
    ]);
    expect(
      await statusAndCode(await api(acme, `/licenses/${otherOrder.id}/resend`, { method: 'POST' })),
    ).toEqual([404, 'license_not_found']);
    const foreign = await consoleForm(store, `/console/acme/licenses/${otherOrder.id}/resend`, cookie);
    const unknown = await consoleForm(store, `/console/acme/licenses/${UNKNOWN}/resend`, cookie);
    expect([foreign.status, unknown.status]).toEqual([404, 404]);
    expect(await foreign.text()).toBe(await unknown.text());
  });

  it('flags possible key sharing on the license list', async () => {
    const today = new Date().toISOString().slice(0, 10);
    // Nine pulls with the key from seven clients (one address, seven user agents), counted and flushed.
    const auth = `Basic ${Buffer.from(`${paid.id}:${paid.key}`).toString('base64')}`;
    for (let i = 0; i < 9; i++) {
      const res = await fetch(`${store.url}/helm/acme/charts/superdb-1.0.0.tgz`, {
        headers: { authorization: auth, 'user-agent': `Helm/3.21.${i % 7}` },
      });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    await store.app.get(DownloadCounter).flush();
    const list = await page(`/console/acme/licenses?email=${encodeURIComponent(paidEmail)}`);
    expect(list.html).toContain('Possible key sharing');
    expect(list.html).toContain(`first ${today}, last ${today}`);
    expect(list.html).toContain('7 distinct clients in 30 days');
    expect(list.html).toMatch(/<td>9<span class="small"><br>first/);
  });

  it('looks a customer up by e-mail, order id or license id, with a timeline; the API answers the same', async () => {
    const byEmail = await page(`/console/acme/customers?q=${encodeURIComponent(paidEmail)}`);
    expect(byEmail.status).toBe(200);
    expect(byEmail.html).toContain(`<h2>${paidEmail}</h2>`);
    expect(byEmail.html).toContain('9 pulls (1.0.0).');
    expect(byEmail.html).toContain('License e-mail to');
    // Only this publisher's: the buyer's order with `other` is not in it.
    expect(byEmail.html).not.toContain(otherOrder.orderId.slice(0, 8));
    for (const q of [paid.orderId, paid.id, paidEmail.toUpperCase()]) {
      const p = await page(`/console/acme/customers?q=${encodeURIComponent(q)}`);
      expect(p.status).toBe(200);
      expect(p.html).toContain(`<h2>${paidEmail}</h2>`);
    }
    const hostilePage = await page(`/console/acme/customers?q=${encodeURIComponent(HOSTILE_EMAIL)}`);
    expect(hostilePage.html).toContain(`<h2>${HOSTILE_EMAIL_HTML}</h2>`);
    expect(hostilePage.html).not.toContain('<script>alert(1)');

    const foreign = await page(`/console/acme/customers?q=${otherOrder.orderId}`);
    const foreignLicense = await page(`/console/acme/customers?q=${otherOrder.id}`);
    const unknown = await page(`/console/acme/customers?q=${UNKNOWN}`);
    expect([foreign.status, foreignLicense.status, unknown.status]).toEqual([404, 404, 404]);
    expect(foreign.html.replace(otherOrder.orderId, 'ID')).toBe(unknown.html.replace(UNKNOWN, 'ID'));
    expect(foreign.html).toContain('No order or license of yours matches');

    const res = await api(acme, `/customers/timeline?q=${paid.orderId}`);
    expect(res.status).toBe(200);
    const t = (await res.json()) as Timeline;
    expect(t).toMatchObject({ email: paidEmail, orders: 1, licenses: 1 });
    const types = t.events.map((e) => e.type);
    expect(types).toEqual(
      expect.arrayContaining(['order_created', 'order_paid', 'license_issued', 'mail', 'pulls']),
    );
    const times = t.events.map((e) => Date.parse(e.at));
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    // A refund and a revocation show up on the refunded buyer's timeline.
    const refundedEmail = buyerEmail('tl');
    const order = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: refundedEmail });
    expect((await consoleForm(store, `/console/acme/orders/${order.orderId}/refund`, cookie)).status).toBe(
      303,
    );
    const t2 = (await (await api(acme, `/customers/timeline?q=${order.id}`)).json()) as Timeline;
    expect(t2.email).toBe(refundedEmail);
    expect(t2.events.find((e) => e.type === 'order_refunded')?.detail).toBe(
      'Refunded in full: 49.00 USD of 49.00 USD.',
    );
    expect(t2.events.find((e) => e.type === 'license_revoked')?.detail).toBe('Revoked (refunded).');
    expect(t2.events[0].type).toMatch(/order_refunded|license_revoked|mail/);

    for (const q of [otherOrder.orderId, otherOrder.id, UNKNOWN, 'nobody@example.test'])
      expect(await statusAndCode(await api(acme, `/customers/timeline?q=${encodeURIComponent(q)}`))).toEqual([
        404,
        'customer_not_found',
      ]);
    expect(await statusAndCode(await api(acme, '/customers/timeline'))).toEqual([400, 'validation_failed']);
    // The owner's access token works too; a token without orders:read does not.
    expect(
      (
        await fetch(`${store.url}/v1/publishers/acme/customers/timeline?q=${paid.id}`, {
          headers: bearer(acme.accessToken),
        })
      ).status,
    ).toBe(200);
    const narrow = await fetch(`${store.url}/v1/publishers/acme/tokens`, {
      method: 'POST',
      headers: { ...bearer(acme.accessToken), 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'narrow', scopes: ['licenses:read'] }),
    });
    const { token } = (await narrow.json()) as { token: string };
    expect(
      await statusAndCode(
        await fetch(`${store.url}/v1/publishers/acme/customers/timeline?q=${paid.id}`, {
          headers: bearer(token),
        }),
      ),
    ).toEqual([403, 'token_scope_missing']);
  });
});
