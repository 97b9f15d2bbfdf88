import { DataSource } from 'typeorm';
import { bearer, createPublisher, postJson, Publisher, publishChart, statusAndCode } from '../support/api';
import { simpleChart } from '../support/charts';
import { buyerEmail, buyLocally, startCheckout } from '../support/checkout';
import { InProcessStore, startInProcess } from '../support/in-process';
import {
  checkoutCompletedEvent,
  paymentIntentId,
  postWebhook,
  refundedChargeObject,
  startStripeMock,
  StripeMock,
  stripeEvent,
  STRIPE_TEST_KEY,
  STRIPE_WEBHOOK_SECRET,
} from '../support/stripe';

const refund = (store: InProcessStore, p: Publisher, orderId: string, token = p.apiToken) =>
  fetch(`${store.url}/v1/publishers/${p.slug}/orders/${orderId}/refund`, {
    method: 'POST',
    headers: bearer(token),
  });
const verify = async (store: InProcessStore, key: string) =>
  (await (await postJson(`${store.url}/v1/licenses/verify`, { key })).json()) as {
    valid: boolean;
    reason?: string;
  };
const orderOf = async (db: DataSource, id: string) =>
  (
    (await db.query(`SELECT status, refunded_amount FROM "order" WHERE id = $1`, [id])) as Array<{
      status: string;
      refunded_amount: number;
    }>
  )[0];

describe('refunding an order, local payments', () => {
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;
  let other: Publisher;

  beforeAll(async () => {
    store = await startInProcess('postgres', { LICENSE_STATUS_CACHE_SECONDS: '0' });
    db = store.app.get(DataSource);
    acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write', 'orders:refund']);
    other = await createPublisher(store.url, 'other', ['charts:write', 'listings:write', 'orders:read']);
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 4900);
  }, 60_000);
  afterAll(() => store?.close());

  it('refunds a paid order at once and revokes its license; a second refund is refused', async () => {
    const bought = await buyLocally(store.url, {
      publisher: 'acme',
      chart: 'superdb',
      email: buyerEmail('r'),
    });
    expect(await verify(store, bought.key)).toMatchObject({ valid: true });
    const res = await refund(store, acme, bought.orderId);
    expect([res.status, await res.json()]).toEqual([200, { status: 'refunded' }]);
    expect(await orderOf(db, bought.orderId)).toEqual({ status: 'refunded', refunded_amount: 4900 });
    expect(await verify(store, bought.key)).toMatchObject({ valid: false, reason: 'revoked' });
    const again = await refund(store, acme, bought.orderId);
    expect(await statusAndCode(again)).toEqual([409, 'order_not_refundable']);
    // The owner sees it in the audit log, done by the API token.
    const access = (
      (await (
        await postJson(`${store.url}/v1/sessions`, { email: acme.email, password: acme.password })
      ).json()) as {
        accessToken: string;
      }
    ).accessToken;
    const log = (await (
      await fetch(`${store.url}/v1/publishers/acme/audit-log?action=order_refunded`, {
        headers: bearer(access),
      })
    ).json()) as {
      events: Array<{ subject: string; actor: { kind: string } }>;
    };
    expect(log.events).toEqual([
      expect.objectContaining({
        subject: bought.orderId,
        actor: expect.objectContaining({ kind: 'api_token' }),
      }),
    ]);
  });

  it('refuses what is not a paid order of this publisher, and tokens without orders:refund', async () => {
    const pending = await startCheckout(store.url, { publisher: 'acme', chart: 'superdb' });
    expect(await statusAndCode(await refund(store, acme, pending.orderId))).toEqual([
      409,
      'order_not_refundable',
    ]);
    const paid = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: buyerEmail('x') });
    // Another publisher: its own token cannot reach acme's orders, and acme's order is not in its books.
    expect(await statusAndCode(await refund(store, other, paid.orderId))).toEqual([
      403,
      'token_scope_missing',
    ]);
    expect(
      await statusAndCode(
        await fetch(`${store.url}/v1/publishers/acme/orders/${paid.orderId}/refund`, {
          method: 'POST',
          headers: bearer(other.apiToken),
        }),
      ),
    ).toEqual([401, 'api_token_invalid']);
    const otherOwner = (
      (await (
        await postJson(`${store.url}/v1/sessions`, { email: other.email, password: other.password })
      ).json()) as {
        accessToken: string;
      }
    ).accessToken;
    expect(await statusAndCode(await refund(store, other, paid.orderId, otherOwner))).toEqual([
      404,
      'order_not_found',
    ]);
    expect(await statusAndCode(await refund(store, acme, '00000000-0000-4000-8000-000000000000'))).toEqual([
      404,
      'order_not_found',
    ]);
    expect((await refund(store, acme, 'not-a-uuid')).status).toBe(400);
    expect((await orderOf(db, paid.orderId)).status).toBe('paid');
  });
});

describe('refunding an order paid through Stripe', () => {
  let mock: StripeMock;
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;

  beforeAll(async () => {
    mock = await startStripeMock();
    store = await startInProcess('postgres', {
      STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: mock.url,
      LICENSE_STATUS_CACHE_SECONDS: '0',
    });
    db = store.app.get(DataSource);
    acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write', 'orders:refund']);
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 4900);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await mock?.stop();
  });

  it('asks Stripe for the refund, and revokes the license when Stripe says it is done', async () => {
    const c = await startCheckout(store.url, { publisher: 'acme', chart: 'superdb' });
    const pi = paymentIntentId();
    expect((await postWebhook(store.url, checkoutCompletedEvent(c, { payment_intent: pi }))).status).toBe(
      200,
    );
    expect((await orderOf(db, c.orderId)).status).toBe('paid');

    const res = await refund(store, acme, c.orderId);
    expect([res.status, await res.json()]).toEqual([202, { status: 'refund_requested' }]);
    // Stripe has it (stripe-mock took the call); nothing changes here until its event arrives.
    expect(await orderOf(db, c.orderId)).toEqual({ status: 'paid', refunded_amount: 0 });
    const event = stripeEvent(
      'charge.refunded',
      refundedChargeObject(pi, 4900, { metadata: { orderId: c.orderId } }),
    );
    expect((await postWebhook(store.url, event)).status).toBe(200);
    expect(await orderOf(db, c.orderId)).toEqual({ status: 'refunded', refunded_amount: 4900 });
    const license = (await db.query(
      `SELECT revoked_at IS NOT NULL AS revoked, reason FROM license WHERE order_id = $1`,
      [c.orderId],
    )) as Array<{ revoked: boolean; reason: string }>;
    expect(license).toEqual([{ revoked: true, reason: 'refunded' }]);
    expect(await statusAndCode(await refund(store, acme, c.orderId))).toEqual([409, 'order_not_refundable']);
  });
});
