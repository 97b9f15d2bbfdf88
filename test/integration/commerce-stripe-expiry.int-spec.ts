import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { CheckoutExpirySweeper } from '@berth/commerce';
import { DataSource } from 'typeorm';
import { createPublisher, json, Publisher, publishChart, putListing } from '../support/api';
import { simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';
import {
  postWebhook,
  startStripeMock,
  STRIPE_TEST_KEY,
  STRIPE_WEBHOOK_SECRET,
  StripeMock,
  stripeEvent,
} from '../support/stripe';

/**
 * Checkout expiry with Stripe (issue 11): the session is created with `expires_at` (stripe-mock answers
 * with a fixture, so the request itself is recorded by a pass-through proxy in front of it), the order
 * keeps the same instant, the local sweep leaves Stripe's orders to Stripe, and a payment Stripe reports
 * completed is fulfilled even when the listing changed after the checkout opened.
 */

const PRICE = 4900;
type Recorded = { method: string; path: string; body: string };
type Started = { orderId: string; sessionId: string };

const readBody = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/** Forwards every request to stripe-mock unchanged and keeps a copy of it. */
async function recordingProxy(target: string): Promise<{ url: string; seen: Recorded[]; server: Server }> {
  const seen: Recorded[] = [];
  const server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      seen.push({ method: req.method ?? '', path: req.url ?? '', body: body.toString('utf8') });
      const headers = Object.fromEntries(
        Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length'].includes(k)),
      ) as Record<string, string>;
      const upstream = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers,
        body: body.length ? body : undefined,
      });
      const out = Buffer.from(await upstream.arrayBuffer());
      res.writeHead(upstream.status, {
        'content-type': upstream.headers.get('content-type') ?? 'application/json',
        'content-length': out.length,
      });
      res.end(out);
    })().catch(() => {
      res.writeHead(502).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

describe('checkout expiry with Stripe (stripe-mock) on postgres', () => {
  let mock: StripeMock;
  let proxy: Awaited<ReturnType<typeof recordingProxy>>;
  let store: InProcessStore;
  let db: DataSource;
  let pub: Publisher;

  const checkout = async (): Promise<Started> => {
    const res = await fetch(`${store.url}/v1/checkout`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ publisher: 'acme', chart: 'superdb', email: 'buyer@example.com' }),
    });
    const body = (await json(res)) as Started;
    expect([res.status, body]).toEqual([201, expect.objectContaining({ sessionId: expect.any(String) })]);
    return body;
  };
  const orderRow = async (id: string) =>
    (await db.query(`SELECT status, expires_at FROM "order" WHERE id = $1`, [id]))[0] as {
      status: string;
      expires_at: Date | null;
    };

  beforeAll(async () => {
    mock = await startStripeMock();
    proxy = await recordingProxy(mock.url);
    store = await startInProcess('postgres', {
      STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: proxy.url,
      PUBLIC_URL: 'https://berth.example.test',
      CHECKOUT_EXPIRY_SECONDS: '7200',
    });
    db = store.app.get(DataSource);
    pub = await createPublisher(store.url, 'acme');
    await publishChart(store.url, pub, 'superdb', await simpleChart('superdb', '1.0.0'), PRICE);
  }, 60_000);

  afterAll(async () => {
    await store?.close();
    await new Promise((r) => proxy?.server.close(r));
    await mock?.stop();
  });

  it('creates the Checkout Session with expires_at = CHECKOUT_EXPIRY_SECONDS from now, the order expiring with it', async () => {
    const before = Math.floor(Date.now() / 1000);
    const c = await checkout();
    const after = Math.ceil(Date.now() / 1000);
    const created = proxy.seen.filter((r) => r.method === 'POST' && r.path === '/v1/checkout/sessions');
    expect(created).toHaveLength(1);
    const params = new URLSearchParams(created[0].body);
    const expiresAt = Number(params.get('expires_at'));
    expect(expiresAt).toBeGreaterThanOrEqual(before + 7200);
    expect(expiresAt).toBeLessThanOrEqual(after + 7200);
    expect(params.get('client_reference_id')).toBe(c.orderId);
    const row = await orderRow(c.orderId);
    expect(row.expires_at?.getTime()).toBe(expiresAt * 1000);
  });

  it("leaves Stripe's pending orders to Stripe: the sweep skips them, checkout.session.expired ends them", async () => {
    const c = await checkout();
    await store.app.get(CheckoutExpirySweeper).sweep(new Date(Date.now() + 3 * 86400_000));
    expect((await orderRow(c.orderId)).status).toBe('pending');
    const res = await postWebhook(
      store.url,
      stripeEvent('checkout.session.expired', {
        id: c.sessionId,
        object: 'checkout.session',
        metadata: { orderId: c.orderId },
        client_reference_id: c.orderId,
        amount_total: PRICE,
        currency: 'usd',
        payment_status: 'unpaid',
        status: 'expired',
      }),
    );
    expect([res.status, ((await res.json()) as { outcome: string }).outcome]).toEqual([200, 'expired']);
    expect((await orderRow(c.orderId)).status).toBe('expired');
  });

  it('fulfils a payment Stripe reports completed even after the listing was repriced and unpublished', async () => {
    const c = await checkout();
    expect(
      (
        await putListing(store.url, 'acme', pub.apiToken, 'superdb', {
          price: { amount: 9900, currency: 'usd' },
          updatePolicy: { kind: 'major' },
          published: false,
        })
      ).status,
    ).toBe(200);
    // The buyer paid what Stripe showed (the order's amount): the payment is honoured, on the order's terms.
    const res = await postWebhook(
      store.url,
      stripeEvent('checkout.session.completed', {
        id: c.sessionId,
        object: 'checkout.session',
        metadata: { orderId: c.orderId },
        client_reference_id: c.orderId,
        amount_total: PRICE,
        currency: 'usd',
        payment_status: 'paid',
        status: 'complete',
        payment_intent: `pi_${randomBytes(12).toString('hex')}`,
      }),
    );
    expect([res.status, ((await res.json()) as { outcome: string }).outcome]).toEqual([200, 'fulfilled']);
    const license = (
      await db.query(`SELECT version_range FROM license WHERE order_id = $1`, [c.orderId])
    )[0] as { version_range: string };
    expect(license.version_range).toBe('*');
  });
});
