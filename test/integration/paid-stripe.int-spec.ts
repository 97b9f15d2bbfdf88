import { createPublicKey, randomBytes, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import {
  createPublisher,
  json,
  Publisher,
  publishChart,
  putListing,
  uploadChart,
  postJson as post,
  statusAndCode as code,
  basicAuth as basic,
} from '../support/api';
import { simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';
import { postCheckout, startCheckout } from '../support/checkout';
import {
  checkoutSessionObject,
  disputeObject,
  paymentIntentId,
  postWebhook,
  refundedChargeObject,
  signStripe,
  startStripeMock,
  STRIPE_WEBHOOK_SECRET,
  StripeMock,
  TEST_PRICE,
  stripeEvent,
} from '../support/stripe';

/**
 * stripe-mock only accepts keys matching sk_test_[A-Za-z0-9]+: it answers 401 to the support helper's
 * STRIPE_TEST_KEY (`sk_test_berth_0123456789`, with a second underscore), so every checkout would be a 503.
 */
const MOCK_ACCEPTED_KEY = 'sk_test_berth0123456789';

/**
 * Paid charts through the real Stripe SDK against stripe-mock: checkout creation, signed webhooks
 * posted to the running app, fulfilment, refunds and disputes, and what each does to the license.
 */

const PUBLIC_URL = 'https://berth.example.test';
const PRICE = TEST_PRICE;

type CheckoutState = {
  status: string;
  license?: { id: string; key: string; versionRange: string; updatesUntil: string | null };
  helm?: { repoUrl: string; username: string; addCommand: string };
};
type Index = { entries: Record<string, Array<{ version: string }>> };

const pi = paymentIntentId;

describe('paid charts with Stripe (stripe-mock) on postgres', () => {
  let mock: StripeMock;
  let store: InProcessStore;
  let db: DataSource;
  let pub: Publisher;

  const count = async (
    table: 'license' | 'order' | 'webhook_event',
    where = 'true',
    params: unknown[] = [],
  ) => Number((await db.query(`SELECT count(*)::int AS n FROM "${table}" WHERE ${where}`, params))[0].n);
  const counts = async () => ({ licenses: await count('license'), orders: await count('order') });
  const orderRow = async (id: string) =>
    (
      await db.query(
        `SELECT status, provider, provider_session_id, payment_ref, amount, currency, refunded_amount FROM "order" WHERE id = $1`,
        [id],
      )
    )[0];

  const checkout = (chart = 'superdb', email = 'buyer@example.com') =>
    startCheckout(store.url, { publisher: 'acme', chart, email });
  const send = async (type: string, object: Record<string, unknown>, id?: string) => {
    const res = await postWebhook(store.url, stripeEvent(type, object, id));
    return {
      status: res.status,
      body: (await json(res)) as { received?: boolean; outcome?: string; error?: { code: string } },
    };
  };
  const state = async (sessionId: string) => {
    const res = await fetch(`${store.url}/v1/checkout/${encodeURIComponent(sessionId)}`);
    expect(res.status).toBe(200);
    return (await res.json()) as CheckoutState;
  };
  /** Checkout, then a paid completion: the license the buyer sees. */
  const buy = async (chart = 'superdb') => {
    const c = await checkout(chart);
    const s = checkoutSessionObject(c);
    expect((await send('checkout.session.completed', s)).body.outcome).toBe('fulfilled');
    const st = await state(c.sessionId);
    expect(st.license).toBeDefined();
    return { c, paymentIntent: s.payment_intent as string, license: st.license! };
  };
  const verify = async (key: string, extra: Record<string, string> = {}) => {
    const res = await post(`${store.url}/v1/licenses/verify`, { key, ...extra });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      valid: boolean;
      reason?: string;
      license?: { id: string; status: string };
    };
  };
  const tgz = (file: string, license?: { id: string; key: string }) =>
    fetch(`${store.url}/helm/acme/charts/${file}`, {
      headers: license ? basic(license.id, license.key) : {},
    });
  const index = async (license?: { id: string; key: string }) => {
    const res = await fetch(`${store.url}/helm/acme/index.yaml`, {
      headers: { 'accept-encoding': 'identity', ...(license ? basic(license.id, license.key) : {}) },
    });
    return { res, body: res.status === 200 ? ((await res.json()) as Index) : null };
  };
  const versionsIn = (body: Index | null) =>
    Object.fromEntries(Object.entries(body?.entries ?? {}).map(([k, v]) => [k, v.map((e) => e.version)]));

  beforeAll(async () => {
    mock = await startStripeMock();
    store = await startInProcess('postgres', {
      STRIPE_SECRET_KEY: MOCK_ACCEPTED_KEY,
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: mock.url,
      PUBLIC_URL,
      LICENSE_STATUS_CACHE_SECONDS: '0',
    });
    db = store.app.get(DataSource);
    pub = await createPublisher(store.url, 'acme');
    for (const [name, version] of [
      ['superdb', '1.0.0'],
      ['superdb', '2.0.0'],
      ['superdb', '2.1.0'],
      ['superdb', '3.0.0-rc.1'],
      ['tools', '1.0.0'],
      ['secret', '0.1.0'],
      ['cheap', '1.0.0'],
      ['addon', '1.0.0'],
    ]) {
      expect(
        (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart(name, version))).status,
      ).toBe(201);
    }
    const paid = (kind = 'major', published = true) => ({
      price: { amount: PRICE, currency: 'usd' },
      updatePolicy: { kind },
      published,
    });
    expect((await putListing(store.url, 'acme', pub.apiToken, 'superdb', paid())).status).toBe(200);
    expect((await putListing(store.url, 'acme', pub.apiToken, 'addon', paid('all'))).status).toBe(200);
    expect((await putListing(store.url, 'acme', pub.apiToken, 'tools')).status).toBe(200);
    expect((await putListing(store.url, 'acme', pub.apiToken, 'secret', paid('all', false))).status).toBe(
      200,
    );
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await mock?.stop();
  });

  describe('checkout and fulfilment', () => {
    it('opens a Stripe Checkout Session through the SDK and, once the signed completion arrives, shows the key and the exact helm command', async () => {
      const before = await counts();
      const c = await checkout('superdb', 'Buyer@Example.com');
      expect(c.sessionId).toMatch(/^cs_test_/); // made by stripe-mock, not by the store
      expect(c.checkoutUrl).toMatch(/^https?:\/\//);
      expect(await orderRow(c.orderId)).toEqual({
        status: 'pending',
        provider: 'stripe',
        provider_session_id: c.sessionId,
        payment_ref: null,
        amount: PRICE,
        currency: 'usd',
        refunded_amount: 0,
      });
      expect(await counts()).toEqual({ licenses: before.licenses, orders: before.orders + 1 });
      expect(await state(c.sessionId)).toEqual({ status: 'pending' });

      const paymentIntent = pi();
      const res = await postWebhook(
        store.url,
        stripeEvent(
          'checkout.session.completed',
          checkoutSessionObject(c, { payment_intent: paymentIntent }),
        ),
      );
      expect([res.status, await res.json()]).toEqual([200, { received: true, outcome: 'fulfilled' }]);
      expect(await count('license', 'order_id = $1', [c.orderId])).toBe(1);
      expect((await orderRow(c.orderId)).status).toBe('paid');
      expect((await orderRow(c.orderId)).payment_ref).toBe(paymentIntent);

      const st = await state(c.sessionId);
      expect(st.status).toBe('paid');
      const lic = st.license!;
      // major policy, fixed against the newest stable version at purchase (2.1.0; the 3.0.0 rc is not stable)
      expect(lic).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        key: expect.stringMatching(/^berth_lic_/),
        versionRange: '>=2.0.0 <3.0.0-0',
        updatesUntil: null,
      });
      expect(st.helm).toEqual({
        repoUrl: `${PUBLIC_URL}/helm/acme`,
        username: lic.id,
        addCommand: `helm repo add acme ${PUBLIC_URL}/helm/acme --username ${lic.id} --password ${lic.key}`,
      });

      // The key: ES256 JWS with the documented header and claims, no personal data, verifiable offline with the JWKS.
      const token = lic.key.slice('berth_lic_'.length);
      const decoded = jwt.decode(token, { complete: true })!;
      expect(decoded.header).toEqual({ alg: 'ES256', kid: expect.any(String), typ: 'JWT' });
      expect(decoded.payload).toEqual({
        iss: PUBLIC_URL,
        sub: lic.id,
        pub: 'acme',
        chart: 'superdb',
        range: '>=2.0.0 <3.0.0-0',
        upd: null,
        iat: expect.any(Number),
      });
      expect(token).not.toMatch(/buyer/i);
      const jwks = (await (await fetch(`${store.url}/.well-known/jwks.json`)).json()) as {
        keys: Array<Record<string, string>>;
      };
      const jwk = jwks.keys.find((k) => k.kid === decoded.header.kid)!;
      expect(jwk).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256' });
      expect(() =>
        jwt.verify(token, createPublicKey({ key: jwk, format: 'jwk' }), {
          algorithms: ['ES256'],
          issuer: PUBLIC_URL,
        }),
      ).not.toThrow();
      expect(await verify(lic.key, { publisher: 'acme', chart: 'superdb', version: '2.1.0' })).toMatchObject({
        valid: true,
        license: { id: lic.id, status: 'active' },
      });
      expect(await verify(lic.key, { publisher: 'acme', chart: 'superdb', version: '1.0.0' })).toMatchObject({
        valid: false,
        reason: 'version_not_covered',
      });

      // The repository: free charts plus exactly the covered versions.
      const { res: idx, body } = await index(lic);
      expect(idx.status).toBe(200);
      expect(idx.headers.get('cache-control')).toMatch(/private/);
      expect(versionsIn(body)).toEqual({ superdb: ['2.1.0', '2.0.0'], tools: ['1.0.0'] });
      expect((await tgz('superdb-2.1.0.tgz', lic)).status).toBe(200);
      expect(await code(await tgz('superdb-1.0.0.tgz', lic))).toEqual([401, 'license_required']);
      expect(await code(await tgz('superdb-3.0.0-rc.1.tgz', lic))).toEqual([401, 'license_required']);
      expect(await code(await tgz('addon-1.0.0.tgz', lic))).toEqual([401, 'license_required']);
      // Without credentials the paid chart is absent and its archive refused.
      expect(versionsIn((await index()).body)).toEqual({ tools: ['1.0.0'] });
      expect(await code(await tgz('superdb-2.1.0.tgz'))).toEqual([401, 'license_required']);
      // The HTML success page shows the same command.
      const page = await (await fetch(`${store.url}/checkout/success?session_id=${c.sessionId}`)).text();
      expect(page).toContain(lic.id);
    });

    it('answers an unknown checkout session with 404', async () => {
      for (const id of ['cs_test_nothing', 'x'.repeat(300)]) {
        expect(await code(await fetch(`${store.url}/v1/checkout/${id}`))).toEqual([
          404,
          'checkout_not_found',
        ]);
      }
    });
  });

  describe('refusing checkouts and listings', () => {
    it('refuses checkouts for unknown, draft and free charts and bad e-mails, storing nothing, then takes a good one', async () => {
      const before = await counts();
      const cases: Array<[Record<string, unknown>, number, string]> = [
        [{ publisher: 'nobody', chart: 'superdb', email: 'b@example.com' }, 404, 'chart_not_for_sale'],
        [{ publisher: 'acme', chart: 'nothing', email: 'b@example.com' }, 404, 'chart_not_for_sale'],
        [{ publisher: 'acme', chart: 'secret', email: 'b@example.com' }, 404, 'chart_not_for_sale'],
        [{ publisher: 'acme', chart: 'tools', email: 'b@example.com' }, 400, 'chart_is_free'],
        [{ publisher: 'acme', chart: 'superdb', email: 'not-an-email' }, 400, 'validation_failed'],
        [{ publisher: 'acme', chart: 'superdb', email: '' }, 400, 'validation_failed'],
        [{ publisher: 'acme', chart: 'superdb' }, 400, 'validation_failed'],
        [
          { publisher: 'acme', chart: 'superdb', email: 'b@example.com', amount: 1 },
          400,
          'validation_failed',
        ],
      ];
      for (const [body, status, errorCode] of cases) {
        expect([body, ...(await code(await postCheckout(store.url, body)))]).toEqual([
          body,
          status,
          errorCode,
        ]);
      }
      expect(await counts()).toEqual(before);
      const c = await checkout('superdb', 'good@example.com');
      expect(await count('order', 'id = $1 AND status = $2', [c.orderId, 'pending'])).toBe(1);
      expect(await counts()).toEqual({ ...before, orders: before.orders + 1 });
    });

    it('refuses a paid price below the provider minimum and leaves the listing as it was', async () => {
      expect(
        (
          await putListing(store.url, 'acme', pub.apiToken, 'cheap', {
            price: { amount: 0, currency: 'usd' },
            updatePolicy: { kind: 'all' },
            published: true,
          })
        ).status,
      ).toBe(200);
      for (const amount of [1, 49]) {
        const res = await putListing(store.url, 'acme', pub.apiToken, 'cheap', {
          price: { amount, currency: 'usd' },
          updatePolicy: { kind: 'all' },
          published: true,
        });
        expect(await code(res)).toEqual([400, 'price_below_minimum']);
      }
      // Still free: checkout still says so.
      expect(
        await code(
          await postCheckout(store.url, { publisher: 'acme', chart: 'cheap', email: 'b@example.com' }),
        ),
      ).toEqual([400, 'chart_is_free']);
      const ok = await putListing(store.url, 'acme', pub.apiToken, 'cheap', {
        price: { amount: 50, currency: 'usd' },
        updatePolicy: { kind: 'all' },
        published: true,
      });
      expect(ok.status).toBe(200);
      const c = await checkout('cheap');
      expect((await orderRow(c.orderId)).amount).toBe(50);
    });
  });

  describe('webhook authenticity', () => {
    it('refuses missing, wrong-secret, stale and re-serialised signatures, changing nothing, then accepts the genuine delivery', async () => {
      const c = await checkout();
      const payload = stripeEvent('checkout.session.completed', checkoutSessionObject(c));
      const before = await counts();
      const events = await count('webhook_event');
      const attempts: Array<[string, string, string | null, string]> = [
        ['no signature', payload, null, 'webhook_signature_missing'],
        [
          'wrong secret',
          payload,
          signStripe(payload, 'whsec_someone_else_0123456789'),
          'webhook_signature_invalid',
        ],
        [
          'older than 5 minutes',
          payload,
          signStripe(payload, STRIPE_WEBHOOK_SECRET, Math.floor(Date.now() / 1000) - 360),
          'webhook_signature_invalid',
        ],
        [
          're-serialised body',
          JSON.stringify(JSON.parse(payload), null, 2),
          signStripe(payload),
          'webhook_signature_invalid',
        ],
        ['garbage signature', payload, 't=1,v1=deadbeef', 'webhook_signature_invalid'],
      ];
      for (const [what, body, sig, errorCode] of attempts) {
        expect([what, ...(await code(await postWebhook(store.url, body, sig)))]).toEqual([
          what,
          400,
          errorCode,
        ]);
      }
      expect(await counts()).toEqual(before);
      expect(await count('webhook_event')).toBe(events);
      expect((await orderRow(c.orderId)).status).toBe('pending');

      const res = await postWebhook(store.url, payload);
      expect([res.status, await res.json()]).toEqual([200, { received: true, outcome: 'fulfilled' }]);
      expect(await counts()).toEqual({ ...before, licenses: before.licenses + 1 });
      // Stripe redelivers: a no-op.
      expect((await (await postWebhook(store.url, payload)).json()) as unknown).toEqual({
        received: true,
        outcome: 'duplicate',
      });
      expect(await counts()).toEqual({ ...before, licenses: before.licenses + 1 });
    });

    it('acknowledges unknown event types and ignores them', async () => {
      const before = await counts();
      const r = await send('customer.created', { id: 'cus_123', object: 'customer' });
      expect([r.status, r.body]).toEqual([200, { received: true, outcome: 'ignored' }]);
      expect(await counts()).toEqual(before);
    });
  });

  describe('webhook payloads against the order', () => {
    it("issues nothing for an unknown order or a session that is not the order's", async () => {
      const c = await checkout();
      const before = await counts();
      for (const object of [
        checkoutSessionObject({ orderId: randomUUID(), sessionId: 'cs_test_unknown' }),
        checkoutSessionObject({ orderId: 'not-a-uuid', sessionId: 'cs_test_unknown' }),
        checkoutSessionObject({ ...c, sessionId: 'cs_test_someone_elses' }),
      ]) {
        expect(await send('checkout.session.completed', object)).toEqual({
          status: 200,
          body: { received: true, outcome: 'unknown_order' },
        });
      }
      expect(await counts()).toEqual(before);
      expect((await orderRow(c.orderId)).status).toBe('pending');
      expect((await send('checkout.session.completed', checkoutSessionObject(c))).body.outcome).toBe(
        'fulfilled',
      );
      expect(await counts()).toEqual({ ...before, licenses: before.licenses + 1 });
    });

    it('refuses an amount or currency that differs from the order (400), issuing nothing, and fulfils the genuine one', async () => {
      const c = await checkout();
      const before = await counts();
      const events = await count('webhook_event');
      for (const over of [
        { amount_total: 100 },
        { amount_total: PRICE + 1 },
        { currency: 'eur' },
        { amount_total: null },
      ]) {
        const r = await send('checkout.session.completed', checkoutSessionObject(c, over));
        expect([over, r.status, r.body.error?.code]).toEqual([over, 400, 'webhook_payload_mismatch']);
        const async = await send('checkout.session.async_payment_succeeded', checkoutSessionObject(c, over));
        expect([over, async.status, async.body.error?.code]).toEqual([over, 400, 'webhook_payload_mismatch']);
      }
      expect(await counts()).toEqual(before);
      // Refused events are not recorded, so Stripe's retry of a fixed delivery would still be processed.
      expect(await count('webhook_event')).toBe(events);
      expect((await orderRow(c.orderId)).status).toBe('pending');
      expect(await state(c.sessionId)).toEqual({ status: 'pending' });
      expect(
        (await send('checkout.session.completed', checkoutSessionObject(c, { currency: 'USD' }))).body
          .outcome,
      ).toBe('fulfilled');
      expect(await counts()).toEqual({ ...before, licenses: before.licenses + 1 });
    });

    it('waits on an unpaid completion and fulfils on async_payment_succeeded', async () => {
      const c = await checkout();
      const before = await counts();
      const paymentIntent = pi();
      const r = await send(
        'checkout.session.completed',
        checkoutSessionObject(c, { payment_status: 'unpaid', payment_intent: paymentIntent }),
      );
      expect(r).toEqual({ status: 200, body: { received: true, outcome: 'awaiting_payment' } });
      expect(await counts()).toEqual(before);
      expect(await state(c.sessionId)).toEqual({ status: 'pending' });
      const ok = await send(
        'checkout.session.async_payment_succeeded',
        checkoutSessionObject(c, { payment_intent: paymentIntent }),
      );
      expect(ok).toEqual({ status: 200, body: { received: true, outcome: 'fulfilled' } });
      expect(await count('license', 'order_id = $1', [c.orderId])).toBe(1);
      const st = await state(c.sessionId);
      expect(st.status).toBe('paid');
      expect((await verify(st.license!.key)).valid).toBe(true);
    });

    it('marks failed async payments and expired sessions, issuing nothing; a late completion cannot revive them', async () => {
      const failed = await checkout();
      const expired = await checkout();
      const before = await counts();
      expect(
        (
          await send(
            'checkout.session.completed',
            checkoutSessionObject(failed, { payment_status: 'unpaid' }),
          )
        ).body.outcome,
      ).toBe('awaiting_payment');
      expect(
        (
          await send(
            'checkout.session.async_payment_failed',
            checkoutSessionObject(failed, { payment_status: 'unpaid' }),
          )
        ).body.outcome,
      ).toBe('failed');
      expect(
        (
          await send(
            'checkout.session.expired',
            checkoutSessionObject(expired, {
              payment_status: 'unpaid',
              status: 'expired',
              payment_intent: null,
            }),
          )
        ).body.outcome,
      ).toBe('expired');
      expect((await orderRow(failed.orderId)).status).toBe('failed');
      expect((await orderRow(expired.orderId)).status).toBe('expired');
      expect(
        (await send('checkout.session.async_payment_succeeded', checkoutSessionObject(failed))).body.outcome,
      ).toBe('not_pending');
      expect((await send('checkout.session.completed', checkoutSessionObject(expired))).body.outcome).toBe(
        'not_pending',
      );
      expect(await counts()).toEqual(before);
      expect(await state(failed.sessionId)).toEqual({ status: 'failed' });
    });

    it('fulfils once when the same event arrives 20 times at once', async () => {
      const c = await checkout();
      const before = await counts();
      const payload = stripeEvent('checkout.session.completed', checkoutSessionObject(c));
      const sig = signStripe(payload);
      const results = await Promise.all(
        Array.from({ length: 20 }, () =>
          postWebhook(store.url, payload, sig).then(async (r) => [
            r.status,
            ((await r.json()) as { outcome: string }).outcome,
          ]),
        ),
      );
      expect(results.filter(([s]) => s !== 200)).toEqual([]);
      const outcomes = results.map(([, o]) => o);
      expect(outcomes.filter((o) => o === 'fulfilled')).toHaveLength(1);
      expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(19);
      expect(await count('license', 'order_id = $1', [c.orderId])).toBe(1);
      expect(await counts()).toEqual({ ...before, licenses: before.licenses + 1 });
    });

    it('fulfils once when completion and async success (different event ids) race', async () => {
      const c = await checkout();
      const s = checkoutSessionObject(c);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          send(i % 2 ? 'checkout.session.completed' : 'checkout.session.async_payment_succeeded', s),
        ),
      );
      expect(results.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(results.filter((r) => r.body.outcome === 'fulfilled')).toHaveLength(1);
      expect(await count('license', 'order_id = $1', [c.orderId])).toBe(1);
    });
  });

  describe('refunds and disputes', () => {
    const refund = refundedChargeObject;
    /** A dispute event; one dispute per payment unless `id` says otherwise. */
    const dispute = (type: 'created' | 'closed', paymentIntent: string, status: string, id?: string) =>
      send(`charge.dispute.${type}`, disputeObject(paymentIntent, status, { id }));
    const licenseRow = async (orderId: string) =>
      (await db.query(
        `SELECT revoked_at IS NOT NULL AS revoked, suspended_at IS NOT NULL AS suspended, reason FROM license WHERE order_id = $1`,
        [orderId],
      )) as Array<{
        revoked: boolean;
        suspended: boolean;
        reason: string | null;
      }>;

    it('issues no usable license when the refund overtakes the completion (refund without order metadata)', async () => {
      const c = await checkout();
      const before = await counts();
      const paymentIntent = pi();
      expect((await send('charge.refunded', refund(paymentIntent, PRICE))).body.outcome).toBe(
        'refunded_before_completion',
      );
      const late = await send(
        'checkout.session.completed',
        checkoutSessionObject(c, { payment_intent: paymentIntent }),
      );
      expect(late.status).toBe(200);
      expect(late.body.outcome).toBe('refunded_before_completion');
      expect(
        await count('license', 'order_id = $1 AND revoked_at IS NULL AND suspended_at IS NULL', [c.orderId]),
      ).toBe(0);
      expect(await counts()).toEqual(before);
      expect(await state(c.sessionId)).toEqual({ status: 'refunded' });
      expect((await orderRow(c.orderId)).status).toBe('refunded');
    });

    it('issues no usable license when the refund overtakes the completion (refund carrying the order id)', async () => {
      const c = await checkout();
      const before = await counts();
      const paymentIntent = pi();
      const r = await send(
        'charge.refunded',
        refund(paymentIntent, PRICE, { metadata: { orderId: c.orderId } }),
      );
      expect(r.status).toBe(200);
      expect(['refunded', 'refunded_before_completion']).toContain(r.body.outcome);
      const late = await send(
        'checkout.session.completed',
        checkoutSessionObject(c, { payment_intent: paymentIntent }),
      );
      expect(late.status).toBe(200);
      expect(late.body.outcome).not.toBe('fulfilled');
      expect(
        await count('license', 'order_id = $1 AND revoked_at IS NULL AND suspended_at IS NULL', [c.orderId]),
      ).toBe(0);
      expect(await counts()).toEqual(before);
      expect((await state(c.sessionId)).license).toBeUndefined();
    });

    it('still issues the license when only a partial refund overtook the completion, and records the refunded amount', async () => {
      const c = await checkout();
      const paymentIntent = pi();
      expect((await send('charge.refunded', refund(paymentIntent, 1000))).status).toBe(200);
      const late = await send(
        'checkout.session.completed',
        checkoutSessionObject(c, { payment_intent: paymentIntent }),
      );
      expect(late).toEqual({ status: 200, body: { received: true, outcome: 'fulfilled' } });
      const st = await state(c.sessionId);
      expect(st.status).toBe('paid');
      expect((await verify(st.license!.key)).valid).toBe(true);
      expect((await orderRow(c.orderId)).refunded_amount).toBe(1000);
    });

    it('ignores refunds of another amount, currency or payment, and never revokes on them', async () => {
      const { c, paymentIntent, license } = await buy();
      const events = await count('webhook_event', `outcome = 'refund_mismatch'`);
      const foreign: Array<[string, Record<string, unknown>]> = [
        ['another currency', { ...refund(paymentIntent, PRICE), currency: 'eur' }],
        ['another amount', { ...refund(paymentIntent, 100), amount: 100 }],
        ['a bigger charge', { ...refund(paymentIntent, PRICE * 2), amount: PRICE * 2 }],
        ['no amount', { ...refund(paymentIntent, PRICE), amount: null }],
        // The order id in the charge's metadata, but another payment: somebody else's charge.
        ['another payment naming this order', refund(pi(), PRICE, { metadata: { orderId: c.orderId } })],
      ];
      for (const [what, object] of foreign) {
        const r = await send('charge.refunded', object);
        expect([what, r.status, r.body.outcome]).toEqual([what, 200, 'refund_mismatch']);
      }
      // Recorded for operators, and nothing changed.
      expect(await count('webhook_event', `outcome = 'refund_mismatch'`)).toBe(events + foreign.length);
      expect(await orderRow(c.orderId)).toMatchObject({ status: 'paid', refunded_amount: 0 });
      expect(await verify(license.key)).toMatchObject({ valid: true, license: { status: 'active' } });
      expect((await tgz('superdb-2.0.0.tgz', license)).status).toBe(200);
      // The genuine refund (currency in capitals, as some payloads have it) still works.
      expect(
        (await send('charge.refunded', { ...refund(paymentIntent, PRICE), currency: 'USD' })).body.outcome,
      ).toBe('refunded');
      expect(await verify(license.key)).toMatchObject({ valid: false, reason: 'revoked' });
    });

    it('only ever raises the refunded amount: an older refund event delivered late changes nothing', async () => {
      const { c, paymentIntent, license } = await buy();
      expect((await send('charge.refunded', refund(paymentIntent, 3000))).body.outcome).toBe(
        'partially_refunded',
      );
      expect((await send('charge.refunded', refund(paymentIntent, 1000))).body.outcome).toBe('stale_refund');
      expect(await orderRow(c.orderId)).toMatchObject({ status: 'paid', refunded_amount: 3000 });
      expect((await verify(license.key)).valid).toBe(true);
      expect((await send('charge.refunded', refund(paymentIntent, PRICE))).body.outcome).toBe('refunded');
      for (const late of [1000, 3000]) {
        expect((await send('charge.refunded', refund(paymentIntent, late))).body.outcome).toBe(
          'stale_refund',
        );
      }
      expect(await orderRow(c.orderId)).toMatchObject({ status: 'refunded', refunded_amount: PRICE });
      expect(await verify(license.key)).toMatchObject({ valid: false, reason: 'revoked' });
    });

    it('does not let a refund in another currency that overtook the completion cancel the purchase', async () => {
      const c = await checkout();
      const paymentIntent = pi();
      expect(
        (await send('charge.refunded', { ...refund(paymentIntent, PRICE), currency: 'eur' })).body.outcome,
      ).toBe('refunded_before_completion');
      expect(
        (
          await send(
            'checkout.session.completed',
            checkoutSessionObject(c, { payment_intent: paymentIntent }),
          )
        ).body.outcome,
      ).toBe('fulfilled');
      const st = await state(c.sessionId);
      expect(st.status).toBe('paid');
      expect((await verify(st.license!.key)).valid).toBe(true);
      expect((await orderRow(c.orderId)).refunded_amount).toBe(0);
    });

    it('keeps the license on a partial refund and revokes it on the full refund', async () => {
      const { c, paymentIntent, license } = await buy();
      expect((await send('charge.refunded', refund(paymentIntent, 1000))).body).toEqual({
        received: true,
        outcome: 'partially_refunded',
      });
      expect(await orderRow(c.orderId)).toMatchObject({ status: 'paid', refunded_amount: 1000 });
      expect((await verify(license.key)).valid).toBe(true);
      expect((await tgz('superdb-2.0.0.tgz', license)).status).toBe(200);

      expect((await send('charge.refunded', refund(paymentIntent, PRICE))).body).toEqual({
        received: true,
        outcome: 'refunded',
      });
      expect(await orderRow(c.orderId)).toMatchObject({ status: 'refunded', refunded_amount: PRICE });
      expect(await verify(license.key)).toMatchObject({
        valid: false,
        reason: 'revoked',
        license: { id: license.id, status: 'revoked' },
      });
      const denied = await tgz('superdb-2.0.0.tgz', license);
      expect(await code(denied)).toEqual([401, 'license_inactive']);
      expect(denied.headers.get('www-authenticate')).toMatch(/^Basic/);
      expect(await code((await index(license)).res)).toEqual([401, 'license_inactive']);
      expect(await state(c.sessionId)).toEqual({ status: 'refunded' });
    });

    it('suspends on an open dispute, reinstates when won, revokes when lost', async () => {
      const won = await buy();
      expect((await dispute('created', won.paymentIntent, 'needs_response')).body).toEqual({
        received: true,
        outcome: 'suspended',
      });
      expect(await verify(won.license.key)).toMatchObject({ valid: false, reason: 'suspended' });
      expect(await code(await tgz('superdb-2.0.0.tgz', won.license))).toEqual([401, 'license_inactive']);
      expect((await orderRow(won.c.orderId)).status).toBe('disputed');
      expect((await dispute('closed', won.paymentIntent, 'won')).body).toEqual({
        received: true,
        outcome: 'reinstated',
      });
      expect(await verify(won.license.key)).toMatchObject({ valid: true, license: { status: 'active' } });
      expect((await tgz('superdb-2.0.0.tgz', won.license)).status).toBe(200);
      expect((await orderRow(won.c.orderId)).status).toBe('paid');

      const lost = await buy();
      expect((await dispute('created', lost.paymentIntent, 'needs_response')).body.outcome).toBe('suspended');
      expect((await dispute('closed', lost.paymentIntent, 'lost')).body).toEqual({
        received: true,
        outcome: 'revoked',
      });
      expect(await verify(lost.license.key)).toMatchObject({ valid: false, reason: 'revoked' });
      expect(await code(await tgz('superdb-2.0.0.tgz', lost.license))).toEqual([401, 'license_inactive']);
      // A lost dispute is final, like a full refund: the order does not stay "disputed".
      expect(await state(lost.c.sessionId)).toEqual({ status: 'refunded' }); // no key shown any more
      expect((await orderRow(lost.c.orderId)).status).toBe('refunded');
      // A late duplicate "created" for the lost dispute cannot suspend-and-reinstate its way back.
      expect((await dispute('created', lost.paymentIntent, 'needs_response')).body.outcome).toBe(
        'stale_dispute_event',
      );
      expect(await verify(lost.license.key)).toMatchObject({ valid: false, reason: 'revoked' });

      expect((await dispute('created', pi(), 'needs_response')).body.outcome).toBe('unknown_order');
    });

    it('keeps the license when a won dispute\'s "closed" arrives before its "created"', async () => {
      const { c, paymentIntent, license } = await buy();
      expect((await dispute('closed', paymentIntent, 'won')).body.outcome).toBe('reinstated');
      // The late "created" of the same dispute: already closed, so it changes nothing.
      expect((await dispute('created', paymentIntent, 'needs_response')).body.outcome).toBe(
        'stale_dispute_event',
      );
      expect(await verify(license.key)).toMatchObject({ valid: true, license: { status: 'active' } });
      expect((await tgz('superdb-2.0.0.tgz', license)).status).toBe(200);
      expect((await orderRow(c.orderId)).status).toBe('paid');
      expect(await licenseRow(c.orderId)).toEqual([{ revoked: false, suspended: false, reason: null }]);
      // A second, different dispute on the same payment still suspends.
      expect(
        (
          await dispute(
            'created',
            paymentIntent,
            'needs_response',
            `dp_second_${randomBytes(4).toString('hex')}`,
          )
        ).body.outcome,
      ).toBe('suspended');
      expect(await verify(license.key)).toMatchObject({ valid: false, reason: 'suspended' });
    });

    it('revokes for good when a lost dispute\'s "closed" arrives before its "created"', async () => {
      const { c, paymentIntent, license } = await buy();
      expect((await dispute('closed', paymentIntent, 'lost')).body.outcome).toBe('revoked');
      expect((await dispute('created', paymentIntent, 'needs_response')).body.outcome).toBe(
        'stale_dispute_event',
      );
      expect(await verify(license.key)).toMatchObject({ valid: false, reason: 'revoked' });
      expect((await orderRow(c.orderId)).status).toBe('refunded');
    });

    it('issues no active license when a dispute was opened and lost before the completion arrived', async () => {
      for (const order of [
        ['created', 'closed'],
        ['closed', 'created'],
      ] as const) {
        const c = await checkout();
        const before = await counts();
        const paymentIntent = pi();
        for (const type of order) {
          expect(
            (await dispute(type, paymentIntent, type === 'created' ? 'needs_response' : 'lost')).body.outcome,
          ).toMatch(/^(unknown_order|stale_dispute_event)$/);
        }
        const late = await send(
          'checkout.session.completed',
          checkoutSessionObject(c, { payment_intent: paymentIntent }),
        );
        expect([order, late.status, late.body.outcome]).toEqual([
          order,
          200,
          'dispute_lost_before_completion',
        ]);
        expect(await count('license', 'order_id = $1 AND revoked_at IS NULL', [c.orderId])).toBe(0);
        expect(await counts()).toEqual(before);
        expect(await state(c.sessionId)).toEqual({ status: 'refunded' });
        expect(await orderRow(c.orderId)).toMatchObject({ status: 'refunded', payment_ref: paymentIntent });
      }
    });

    it('issues an active license when a dispute was opened and won before the completion arrived, in either order', async () => {
      for (const order of [
        ['created', 'closed'],
        ['closed', 'created'],
      ] as const) {
        const c = await checkout();
        const paymentIntent = pi();
        for (const type of order)
          await dispute(type, paymentIntent, type === 'created' ? 'needs_response' : 'won');
        expect(
          (
            await send(
              'checkout.session.completed',
              checkoutSessionObject(c, { payment_intent: paymentIntent }),
            )
          ).body.outcome,
        ).toBe('fulfilled');
        const st = await state(c.sessionId);
        expect([order, st.status]).toEqual([order, 'paid']);
        expect(await verify(st.license!.key)).toMatchObject({ valid: true, license: { status: 'active' } });
      }
    });

    it('issues a suspended license when a dispute is still open at completion, and reinstates it when won', async () => {
      const c = await checkout();
      const paymentIntent = pi();
      expect((await dispute('created', paymentIntent, 'needs_response')).body.outcome).toBe('unknown_order');
      expect(
        (
          await send(
            'checkout.session.completed',
            checkoutSessionObject(c, { payment_intent: paymentIntent }),
          )
        ).body.outcome,
      ).toBe('fulfilled');
      expect((await orderRow(c.orderId)).status).toBe('disputed');
      expect(await licenseRow(c.orderId)).toEqual([{ revoked: false, suspended: true, reason: 'disputed' }]);
      expect(await state(c.sessionId)).toEqual({ status: 'disputed' });
      expect((await dispute('closed', paymentIntent, 'won')).body.outcome).toBe('reinstated');
      const st = await state(c.sessionId);
      expect(st.status).toBe('paid');
      expect(await verify(st.license!.key)).toMatchObject({ valid: true });
    });

    it('does not turn a refunded order back into a paid one when a dispute on it is later won', async () => {
      const { c, paymentIntent, license } = await buy();
      expect((await send('charge.refunded', refund(paymentIntent, PRICE))).body.outcome).toBe('refunded');
      await dispute('created', paymentIntent, 'needs_response');
      await dispute('closed', paymentIntent, 'won');
      expect((await verify(license.key)).valid).toBe(false);
      expect((await orderRow(c.orderId)).status).toBe('refunded');
      expect((await state(c.sessionId)).status).toBe('refunded');
    });
  });

  describe('licensed buyers when a chart changes', () => {
    it('shows a licensed buyer at least what everyone sees once the chart is made free', async () => {
      const { license } = await buy('addon');
      expect(
        (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart('addon', '2.0.0'))).status,
      ).toBe(201);
      // addon was sold under "all": both versions are covered.
      expect(versionsIn((await index(license)).body).addon).toEqual(['2.0.0', '1.0.0']);
      // The buyer of superdb (major 2) vs. superdb turned free: everyone sees every version.
      const sd = await buy('superdb');
      expect(
        (
          await putListing(store.url, 'acme', pub.apiToken, 'superdb', {
            price: { amount: 0, currency: 'usd' },
            updatePolicy: { kind: 'all' },
            published: true,
          })
        ).status,
      ).toBe(200);
      try {
        const anonymous = versionsIn((await index()).body).superdb;
        expect(anonymous).toEqual(expect.arrayContaining(['2.1.0', '2.0.0', '1.0.0']));
        expect(versionsIn((await index(sd.license)).body).superdb).toEqual(anonymous);
      } finally {
        await putListing(store.url, 'acme', pub.apiToken, 'superdb', {
          price: { amount: PRICE, currency: 'usd' },
          updatePolicy: { kind: 'major' },
          published: true,
        });
      }
    });
  });
});

describe('checkout when Stripe is unreachable', () => {
  let store: InProcessStore;
  beforeAll(async () => {
    // Port 1 on loopback: connection refused at once (the SDK retries twice, then gives up).
    store = await startInProcess('postgres', {
      STRIPE_SECRET_KEY: MOCK_ACCEPTED_KEY,
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: 'http://127.0.0.1:1',
      PUBLIC_URL,
    });
    const pub = await createPublisher(store.url, 'acme');
    await publishChart(store.url, pub, 'superdb', await simpleChart('superdb', '1.0.0'), PRICE);
  }, 60_000);
  afterAll(async () => store?.close());

  it('answers 503 payment_provider_unavailable and leaves no pending order behind (it is recorded as failed)', async () => {
    const res = await postCheckout(store.url, {
      publisher: 'acme',
      chart: 'superdb',
      email: 'b@example.com',
    });
    const body = await res.text();
    expect(res.status).toBe(503);
    expect(JSON.parse(body).error.code).toBe('payment_provider_unavailable');
    expect(body).not.toMatch(/sk_test|127\.0\.0\.1|ECONNREFUSED/);
    const rows = await store.app.get(DataSource).query(`SELECT status, provider_session_id FROM "order"`);
    expect(rows).toEqual([{ status: 'failed', provider_session_id: null }]);
    expect(await store.app.get(DataSource).query('SELECT id FROM license')).toEqual([]);
  }, 20_000);
});
