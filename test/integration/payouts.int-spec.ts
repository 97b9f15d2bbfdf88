import { TransferActions } from '@berth/payouts';
import { DataSource } from 'typeorm';
import { createPublisher, json, Publisher, publishChart, postJson, bearer } from '../support/api';
import { simpleChart } from '../support/charts';
import { buyLocally, postCheckout, startCheckout } from '../support/checkout';
import { consoleForm, consoleGet, consoleSignIn } from '../support/console';
import { InProcessStore, startInProcess } from '../support/in-process';
import { waitFor } from '../support/wait';
import {
  checkoutSessionObject,
  connectAccountObject,
  disputeObject,
  connectEvent,
  postConnectWebhook,
  postWebhook,
  recordingStripeProxy,
  refundedChargeObject,
  signStripe,
  startStripeMock,
  STRIPE_CONNECT_WEBHOOK_SECRET,
  STRIPE_TEST_KEY,
  STRIPE_WEBHOOK_SECRET,
  stripeEvent,
  TEST_PRICE,
} from '../support/stripe';

/**
 * PAYOUTS=connect through the real Stripe SDK against stripe-mock (which checks every call's shape against
 * Stripe's API description; a recording proxy in front of it keeps the parameters), with account state,
 * refunds and the rest arriving as signed events built here: stripe-mock keeps no state and sends none.
 */
jest.setTimeout(60_000);

const FEE_BPS = 1000;
const FEE_FIXED_USD = 30;
const expectedFee = Math.floor((TEST_PRICE * FEE_BPS + 5000) / 10000) + FEE_FIXED_USD;

type PayoutStatus = { status: string; accountId: string | null; transfers: string; currentlyDue: string[] };

/** A store with PAYOUTS=connect on the real SDK, talking to stripe-mock through a recording proxy. */
async function connectStore(env: Record<string, string>) {
  const mock = await startStripeMock();
  const proxy = await recordingStripeProxy(mock.url);
  const store = await startInProcess('postgres', {
    STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
    STRIPE_WEBHOOK_SECRET,
    STRIPE_API_URL: proxy.url,
    PAYOUTS: 'connect',
    STRIPE_CONNECT_WEBHOOK_SECRET,
    PLATFORM_FEE_BPS: String(FEE_BPS),
    PUBLIC_URL: 'https://berth.example.test',
    ...env,
  });
  return {
    store,
    proxy,
    /** The POSTs the store made to one Stripe path, in order. */
    callsTo: (path: string) => proxy.calls.filter((c) => c.method === 'POST' && c.path === path),
    async close() {
      await store.close();
      await proxy.stop();
      await mock.stop();
    },
  };
}

describe('marketplace payouts with Stripe Connect (stripe-mock)', () => {
  let connected: Awaited<ReturnType<typeof connectStore>>;
  let proxy: Awaited<ReturnType<typeof recordingStripeProxy>>;
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;
  let accountId: string;

  const payouts = async (p: Publisher = acme) => {
    const res = await fetch(`${store.url}/v1/publishers/${p.slug}/payouts`, {
      headers: bearer(p.accessToken),
    });
    expect(res.status).toBe(200);
    return (await res.json()) as PayoutStatus;
  };
  const connect = async (type: string, object: Record<string, unknown>, account: string, id?: string) => {
    const res = await postConnectWebhook(store.url, connectEvent(type, object, account, { id }));
    return { status: res.status, body: (await json(res)) as { outcome?: string; error?: { code: string } } };
  };
  const orders = () => db.query(`SELECT count(*)::int AS n FROM "order"`).then((r) => r[0].n as number);
  const callsTo = (path: string) => connected.callsTo(path);

  beforeAll(async () => {
    connected = await connectStore({
      PLATFORM_FEE_FIXED: `usd:${FEE_FIXED_USD},jpy:40`,
      LICENSE_STATUS_CACHE_SECONDS: '0',
    });
    ({ store, proxy } = connected);
    db = store.app.get(DataSource);
    acme = await createPublisher(store.url, 'acme');
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), TEST_PRICE);
  });
  afterAll(async () => {
    await connected?.close();
  });

  it('does not sell a paid chart of a publisher who has not onboarded: 409, and no order', async () => {
    expect((await payouts()).status).toBe('not_started');
    const before = await orders();
    const res = await postCheckout(store.url, {
      publisher: 'acme',
      chart: 'superdb',
      email: 'b@example.test',
    });
    expect(res.status).toBe(409);
    expect(((await json(res)) as { error: { code: string } }).error.code).toBe('publisher_not_payable');
    expect(await orders()).toBe(before);
    expect(callsTo('/v1/checkout/sessions')).toHaveLength(0);
    const page = await (await fetch(`${store.url}/charts/acme/superdb`)).text();
    expect(page).toContain('Not on sale yet');
    expect(page).not.toContain('class="buy"');
  });

  it('creates one controlled Connect account and a fresh onboarding link each time', async () => {
    const start = () =>
      fetch(`${store.url}/v1/publishers/acme/payouts/onboarding`, {
        method: 'POST',
        headers: bearer(acme.accessToken),
      });
    const first = await start();
    expect(first.status).toBe(200);
    expect(((await first.json()) as { url: string }).url).toMatch(/^https:\/\//);
    expect((await start()).status).toBe(200);

    const accounts = callsTo('/v1/accounts');
    expect(accounts).toHaveLength(1);
    expect(accounts[0].params).toMatchObject({
      'controller[losses][payments]': 'application',
      'controller[fees][payer]': 'application',
      'controller[requirement_collection]': 'stripe',
      'controller[stripe_dashboard][type]': 'express',
      'capabilities[transfers][requested]': 'true',
      email: acme.email,
      'metadata[publisher]': 'acme',
    });
    const links = callsTo('/v1/account_links');
    expect(links).toHaveLength(2);
    const status = await payouts();
    accountId = status.accountId as string;
    expect(accountId).toMatch(/^acct_/);
    for (const link of links) {
      expect(link.params).toEqual({
        account: accountId,
        type: 'account_onboarding',
        refresh_url: 'https://berth.example.test/payouts/acme/refresh',
        return_url: 'https://berth.example.test/payouts/acme/return',
      });
    }
    expect(status.status).toBe('pending');
  });

  it('the return page re-reads the account from Stripe rather than trusting the redirect', async () => {
    const before = proxy.calls.length;
    const res = await fetch(`${store.url}/payouts/acme/return`);
    expect(res.status).toBe(200);
    expect(
      proxy.calls.slice(before).some((c) => c.method === 'GET' && c.path === `/v1/accounts/${accountId}`),
    ).toBe(true);
    // The refresh page mints nothing: a link lets whoever opens it enter bank details.
    const linksBefore = callsTo('/v1/account_links').length;
    expect((await fetch(`${store.url}/payouts/acme/refresh`)).status).toBe(200);
    expect(callsTo('/v1/account_links')).toHaveLength(linksBefore);
  });

  it('the console shows the payout state and its button mints a link at the click, same-origin only', async () => {
    const cookie = await consoleSignIn(store, acme);
    const page = await consoleGet(store, '/console/acme/payouts', cookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    const shown = (await payouts()).status;
    expect(html).toContain(`data-status="${shown}"`);
    expect(html).toContain('Open the Stripe dashboard');
    const links = callsTo('/v1/account_links').length;
    const go = await consoleForm(store, '/console/acme/payouts/onboarding', cookie);
    expect(go.status).toBe(303);
    expect(go.headers.get('location')).toMatch(/^https:\/\//);
    expect(callsTo('/v1/account_links')).toHaveLength(links + 1);
    const forged = await consoleForm(
      store,
      '/console/acme/payouts/onboarding',
      cookie,
      {},
      { origin: 'https://evil.example' },
    );
    expect(forged.status).toBe(403);
    expect(callsTo('/v1/account_links')).toHaveLength(links + 1);
  });

  it('applies twenty deliveries of one account.updated once, and then sells', async () => {
    // Stripe still wants a bank account: not for sale.
    const pending = await connect(
      'account.updated',
      connectAccountObject(accountId, { transfers: 'pending', currentlyDue: ['external_account'] }),
      accountId,
    );
    expect(pending.body.outcome).toBe('applied');
    expect(await payouts()).toMatchObject({ status: 'pending', currentlyDue: ['external_account'] });
    expect(
      (await postCheckout(store.url, { publisher: 'acme', chart: 'superdb', email: 'p@example.test' }))
        .status,
    ).toBe(409);

    const chartPage = async () => (await fetch(`${store.url}/charts/acme/superdb`)).text();
    expect(await chartPage()).toContain('Not on sale yet');

    const payload = connectEvent(
      'account.updated',
      connectAccountObject(accountId, { transfers: 'active' }),
      accountId,
      { id: 'evt_account_enabled' },
    );
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const res = await postConnectWebhook(store.url, payload);
        expect(res.status).toBe(200);
        return ((await res.json()) as { outcome: string }).outcome;
      }),
    );
    expect(outcomes.filter((o) => o === 'applied')).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(19);
    expect(await payouts()).toMatchObject({ status: 'enabled', transfers: 'active', currentlyDue: [] });
    // The page rendered a moment ago is dropped on the change (well before its 10 s lifetime ends).
    await waitFor(async () => (await chartPage()).includes('class="buy"'), 'the chart page to go on sale');
    const rows = await db.query(
      `SELECT count(*)::int AS n FROM connect_event WHERE id = 'evt_account_enabled'`,
    );
    expect(rows[0].n).toBe(1);
  });

  it('opens checkouts as destination charges with the platform fee, recorded on the order', async () => {
    const c = await startCheckout(store.url, {
      publisher: 'acme',
      chart: 'superdb',
      email: 'fee@example.test',
    });
    const sessions = callsTo('/v1/checkout/sessions');
    expect(sessions.at(-1)?.params).toMatchObject({
      'payment_intent_data[transfer_data][destination]': accountId,
      'payment_intent_data[application_fee_amount]': String(expectedFee),
      'line_items[0][price_data][unit_amount]': String(TEST_PRICE),
    });
    expect(sessions.at(-1)?.params['payment_intent_data[on_behalf_of]']).toBeUndefined();
    const [order] = await db.query(
      `SELECT transfer_destination, platform_fee_amount, amount FROM "order" WHERE id = $1`,
      [c.orderId],
    );
    expect(order).toEqual({
      transfer_destination: accountId,
      platform_fee_amount: expectedFee,
      amount: TEST_PRICE,
    });
  });

  it('refunds reverse the transfer (the fee kept by default) and revoke the license', async () => {
    const c = await startCheckout(store.url, {
      publisher: 'acme',
      chart: 'superdb',
      email: 'refund@example.test',
    });
    const session = checkoutSessionObject(c);
    const paid = await postWebhook(store.url, stripeEvent('checkout.session.completed', session));
    expect(((await paid.json()) as { outcome: string }).outcome).toBe('fulfilled');
    const refund = await fetch(`${store.url}/v1/publishers/acme/orders/${c.orderId}/refund`, {
      method: 'POST',
      headers: bearer(acme.accessToken),
    });
    expect(refund.status).toBe(202);
    expect(callsTo('/v1/refunds').at(-1)?.params).toMatchObject({
      payment_intent: session.payment_intent,
      reverse_transfer: 'true',
      refund_application_fee: 'false',
    });
    await postWebhook(
      store.url,
      stripeEvent(
        'charge.refunded',
        refundedChargeObject(session.payment_intent, TEST_PRICE, { metadata: { orderId: c.orderId } }),
      ),
    );
    const [license] = await db.query(`SELECT revoked_at FROM license WHERE order_id = $1`, [c.orderId]);
    expect(license.revoked_at).toBeInstanceOf(Date);
  });

  it('a dispute takes the transfer back; won, it is sent again; lost, the reversal stays and the license goes', async () => {
    const paid = async (email: string) => {
      const c = await startCheckout(store.url, { publisher: 'acme', chart: 'superdb', email });
      const session = checkoutSessionObject(c);
      await postWebhook(store.url, stripeEvent('checkout.session.completed', session));
      return { orderId: c.orderId, pi: session.payment_intent };
    };
    const license = async (orderId: string) =>
      (await db.query(`SELECT suspended_at, revoked_at FROM license WHERE order_id = $1`, [orderId]))[0] as {
        suspended_at: Date | null;
        revoked_at: Date | null;
      };
    // The webhook starts the queued changes itself; one may be in flight (row-locked) on that run.
    const settle = async () => {
      let pending: Array<{ kind: string; last_error: string | null }> = [];
      for (let i = 0; i < 50; i++) {
        await store.app.get(TransferActions).runDue();
        pending = await db.query(`SELECT kind, last_error FROM transfer_action WHERE status <> 'done'`);
        if (!pending.length) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(pending).toEqual([]);
    };
    const dispute = (pi: string, status: string, charge: string, type = 'charge.dispute.created') =>
      postWebhook(store.url, stripeEvent(type, disputeObject(pi, status, { charge, amount: 1500 })));

    const won = await paid('won@example.test');
    const lost = await paid('lost@example.test');
    for (const [charge, transfer] of [
      ['ch_won', 'tr_won'],
      ['ch_lost', 'tr_lost'],
    ])
      proxy.answer(`/v1/charges/${charge}`, {
        id: charge,
        object: 'charge',
        transfer,
        amount: TEST_PRICE,
        currency: 'usd',
      });

    expect((await dispute(won.pi, 'needs_response', 'ch_won')).status).toBe(200);
    expect((await dispute(lost.pi, 'needs_response', 'ch_lost')).status).toBe(200);
    await settle();
    for (const t of ['tr_won', 'tr_lost']) {
      const reversals = callsTo(`/v1/transfers/${t}/reversals`);
      expect(reversals).toHaveLength(1);
      expect(reversals[0].params).toMatchObject({ amount: '1500' });
    }
    expect((await license(won.orderId)).suspended_at).toBeInstanceOf(Date);

    const transfersBefore = callsTo('/v1/transfers').length;
    await dispute(won.pi, 'won', 'ch_won', 'charge.dispute.closed');
    await dispute(lost.pi, 'lost', 'ch_lost', 'charge.dispute.closed');
    // A repeated delivery of the won dispute queues nothing more.
    await dispute(won.pi, 'won', 'ch_won', 'charge.dispute.closed');
    await settle();
    const restored = callsTo('/v1/transfers').slice(transfersBefore);
    expect(restored).toHaveLength(1);
    expect(restored[0].params).toMatchObject({
      amount: '1500',
      currency: 'usd',
      destination: accountId,
      source_transaction: 'ch_won',
      'metadata[orderId]': won.orderId,
    });
    expect(await license(won.orderId)).toMatchObject({ suspended_at: null, revoked_at: null });
    expect((await license(lost.orderId)).revoked_at).toBeInstanceOf(Date);
    expect(callsTo('/v1/transfers/tr_lost/reversals')).toHaveLength(1);

    // Partly refunded first (that refund took its share of the transfer back): a dispute of the whole
    // charge reverses only the rest, and a win sends back exactly what was reversed.
    const part = await paid('part@example.test');
    const refunded = refundedChargeObject(part.pi, 1000, { metadata: { orderId: part.orderId } });
    expect((await postWebhook(store.url, stripeEvent('charge.refunded', refunded))).status).toBe(200);
    proxy.answer('/v1/charges/ch_part', {
      id: 'ch_part',
      object: 'charge',
      transfer: 'tr_part',
      amount: TEST_PRICE,
      currency: 'usd',
    });
    const whole = (status: string, type: string) =>
      postWebhook(
        store.url,
        stripeEvent(type, disputeObject(part.pi, status, { charge: 'ch_part', amount: TEST_PRICE })),
      );
    expect((await whole('needs_response', 'charge.dispute.created')).status).toBe(200);
    await settle();
    expect(callsTo('/v1/transfers/tr_part/reversals').map((c) => c.params.amount)).toEqual([
      String(TEST_PRICE - 1000),
    ]);
    const beforeWin = callsTo('/v1/transfers').length;
    expect((await whole('won', 'charge.dispute.closed')).status).toBe(200);
    await settle();
    expect(
      callsTo('/v1/transfers')
        .slice(beforeWin)
        .map((c) => c.params.amount),
    ).toEqual([String(TEST_PRICE - 1000)]);

    // A reversal Stripe has not taken yet when the dispute is won is dropped, and nothing is sent back.
    const stuck = await paid('stuck@example.test');
    proxy.answer('/v1/charges/ch_stuck', {
      id: 'ch_stuck',
      object: 'charge',
      transfer: null,
      amount: TEST_PRICE,
      currency: 'usd',
    });
    const stuckDispute = (status: string, type: string) =>
      postWebhook(store.url, stripeEvent(type, disputeObject(stuck.pi, status, { charge: 'ch_stuck' })));
    expect((await stuckDispute('needs_response', 'charge.dispute.created')).status).toBe(200);
    const actions = () =>
      db.query(
        `SELECT kind, status, last_error IS NOT NULL AS failed FROM transfer_action WHERE order_id = $1`,
        [stuck.orderId],
      );
    // The webhook's own run tries the reversal just after its commit, and Stripe refuses it.
    await waitFor(async () => (await actions())[0]?.failed === true, 'the reversal to be refused once');
    expect(await actions()).toEqual([{ kind: 'reverse', status: 'pending', failed: true }]);
    const beforeStuck = callsTo('/v1/transfers').length;
    expect((await stuckDispute('won', 'charge.dispute.closed')).status).toBe(200);
    await store.app.get(TransferActions).runDue();
    expect(await actions()).toEqual([{ kind: 'reverse', status: 'dropped', failed: true }]);
    expect(callsTo('/v1/transfers')).toHaveLength(beforeStuck);
  });

  it('stops sales when transfers go inactive or the publisher disconnects, and shows a failed payout', async () => {
    expect(
      (
        await connect(
          'capability.updated',
          { id: 'transfers', object: 'capability', account: accountId, status: 'inactive' },
          accountId,
        )
      ).body.outcome,
    ).toBe('applied');
    let res = await postCheckout(store.url, {
      publisher: 'acme',
      chart: 'superdb',
      email: 'b2@example.test',
    });
    expect(res.status).toBe(409);
    expect(
      (
        await connect(
          'capability.updated',
          { id: 'transfers', object: 'capability', account: accountId, status: 'active' },
          accountId,
        )
      ).body.outcome,
    ).toBe('applied');
    res = await postCheckout(store.url, { publisher: 'acme', chart: 'superdb', email: 'b3@example.test' });
    expect(res.status).toBe(201);

    expect(
      (
        await connect(
          'payout.failed',
          {
            id: 'po_1',
            object: 'payout',
            failure_code: 'account_closed',
            failure_message: 'The bank account has been closed.',
          },
          accountId,
        )
      ).body.outcome,
    ).toBe('applied');
    const failed = (await payouts()) as PayoutStatus & { payoutFailure: { code: string } | null };
    expect(failed.payoutFailure?.code).toBe('account_closed');

    expect(
      (await connect('account.application.deauthorized', { id: 'ca_1', object: 'application' }, accountId))
        .body.outcome,
    ).toBe('applied');
    expect((await payouts()).status).toBe('restricted');
    res = await postCheckout(store.url, { publisher: 'acme', chart: 'superdb', email: 'b4@example.test' });
    expect(res.status).toBe(409);
  });

  it('acknowledges an event for an account it does not know, and refuses a bad signature', async () => {
    const unknown = await connect(
      'account.updated',
      connectAccountObject('acct_someone_else', { transfers: 'active' }),
      'acct_someone_else',
    );
    expect(unknown).toEqual({ status: 200, body: { received: true, outcome: 'ignored' } });
    const chartPage = async () => (await fetch(`${store.url}/charts/acme/superdb`)).text();
    expect(await chartPage()).toContain('Not on sale yet');

    const payload = connectEvent(
      'account.updated',
      connectAccountObject(accountId, { transfers: 'active' }),
      accountId,
    );
    // Signed with the payments endpoint's secret: the Connect endpoint has its own.
    const wrong = await postConnectWebhook(store.url, payload, signStripe(payload, STRIPE_WEBHOOK_SECRET));
    expect(wrong.status).toBe(400);
    expect(((await json(wrong)) as { error: { code: string } }).error.code).toBe(
      'connect_webhook_signature_invalid',
    );
    const none = await postConnectWebhook(store.url, payload, null);
    expect(((await json(none)) as { error: { code: string } }).error.code).toBe(
      'connect_webhook_signature_missing',
    );
    // Neither refusal recorded the event: the same payload, properly signed, is handled as new.
    const { id } = JSON.parse(payload) as { id: string };
    expect((await db.query(`SELECT count(*)::int AS n FROM connect_event WHERE id = $1`, [id]))[0].n).toBe(0);
    const good = await postConnectWebhook(store.url, payload);
    expect(good.status).toBe(200);
    expect(((await good.json()) as { outcome: string }).outcome).not.toBe('duplicate');
  });
});

describe('marketplace payouts on behalf of the publisher, the fee given back on refunds (stripe-mock)', () => {
  let connected: Awaited<ReturnType<typeof connectStore>>;
  let store: InProcessStore;
  let seller: Publisher;
  const callsTo = (path: string) => connected.callsTo(path);
  const accountUpdated = (account: string, state: Parameters<typeof connectAccountObject>[1]) =>
    postConnectWebhook(
      store.url,
      connectEvent('account.updated', connectAccountObject(account, state), account),
    );

  beforeAll(async () => {
    connected = await connectStore({ STRIPE_CONNECT_ON_BEHALF_OF: 'true', REFUND_PLATFORM_FEE: 'true' });
    store = connected.store;
    seller = await createPublisher(store.url, 'obo');
    await publishChart(store.url, seller, 'tool', await simpleChart('tool', '1.0.0'), TEST_PRICE);
  });
  afterAll(async () => {
    await connected?.close();
  });

  it('asks for card payments, sells only once the account takes charges, and charges on its behalf', async () => {
    const start = await postJson(
      `${store.url}/v1/publishers/obo/payouts/onboarding`,
      {},
      bearer(seller.accessToken),
    );
    expect(start.status).toBe(200);
    expect(callsTo('/v1/accounts').at(-1)?.params).toMatchObject({
      'capabilities[transfers][requested]': 'true',
      'capabilities[card_payments][requested]': 'true',
    });
    const { accountId } = (await (
      await fetch(`${store.url}/v1/publishers/obo/payouts`, { headers: bearer(seller.accessToken) })
    ).json()) as { accountId: string };

    // Transfers work but the account cannot take charges yet: as merchant of record it cannot sell.
    expect((await accountUpdated(accountId, { transfers: 'active', chargesEnabled: false })).status).toBe(
      200,
    );
    const refused = await postCheckout(store.url, {
      publisher: 'obo',
      chart: 'tool',
      email: 'o@example.test',
    });
    expect(refused.status).toBe(409);
    expect(((await json(refused)) as { error: { code: string } }).error.code).toBe('publisher_not_payable');

    expect((await accountUpdated(accountId, { transfers: 'active', chargesEnabled: true })).status).toBe(200);
    const c = await startCheckout(store.url, { publisher: 'obo', chart: 'tool', email: 'o@example.test' });
    expect(callsTo('/v1/checkout/sessions').at(-1)?.params).toMatchObject({
      'payment_intent_data[on_behalf_of]': accountId,
      'payment_intent_data[transfer_data][destination]': accountId,
      'payment_intent_data[application_fee_amount]': String(
        Math.floor((TEST_PRICE * FEE_BPS + 5000) / 10000),
      ),
    });

    const session = checkoutSessionObject(c);
    await postWebhook(store.url, stripeEvent('checkout.session.completed', session));
    const refund = await fetch(`${store.url}/v1/publishers/obo/orders/${c.orderId}/refund`, {
      method: 'POST',
      headers: bearer(seller.accessToken),
    });
    expect(refund.status).toBe(202);
    expect(callsTo('/v1/refunds').at(-1)?.params).toMatchObject({
      payment_intent: session.payment_intent,
      reverse_transfer: 'true',
      refund_application_fee: 'true',
    });
  });
});

describe('marketplace payouts without Stripe (local simulation)', () => {
  let store: InProcessStore;
  let db: DataSource;
  let pub: Publisher;

  beforeAll(async () => {
    store = await startInProcess('postgres', {
      PAYOUTS: 'connect',
      PLATFORM_FEE_BPS: '500',
      OPERATOR_EMAILS: 'someone@example.test, OPS@example.test',
    });
    db = store.app.get(DataSource);
    pub = await createPublisher(store.url, 'localpub');
    await publishChart(store.url, pub, 'app', await simpleChart('app', '1.0.0'), TEST_PRICE);
  });
  afterAll(async () => {
    await store?.close();
  });

  it('onboards on a local page, then sells with the fee recorded', async () => {
    const refused = await postCheckout(store.url, {
      publisher: 'localpub',
      chart: 'app',
      email: 'x@example.test',
    });
    expect(refused.status).toBe(409);
    const start = await postJson(
      `${store.url}/v1/publishers/localpub/payouts/onboarding`,
      {},
      bearer(pub.accessToken),
    );
    expect(start.status).toBe(200);
    const { url } = (await start.json()) as { url: string };
    const path = new URL(url).pathname;
    expect(path).toMatch(/^\/payouts\/local\/local_acct_[0-9a-f]{24}$/);
    const page = await fetch(`${store.url}${path}`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('Finish onboarding');
    expect((await fetch(`${store.url}${path}/complete`, { method: 'POST' })).status).toBe(200);
    // A publisher named like the local pages still gets its return page.
    await createPublisher(store.url, 'local');
    const back = await fetch(`${store.url}/payouts/local/return`);
    expect(back.status).toBe(200);
    expect(await back.text()).toContain('Back from Stripe');

    const status = (await (
      await fetch(`${store.url}/v1/publishers/localpub/payouts`, { headers: bearer(pub.accessToken) })
    ).json()) as PayoutStatus;
    expect(status.status).toBe('enabled');
    const chartPage = await (await fetch(`${store.url}/charts/localpub/app`)).text();
    expect(chartPage).toContain('class="buy"');
    expect(chartPage).not.toContain('Not on sale yet');
    const license = await buyLocally(store.url, { publisher: 'localpub', chart: 'app' });
    const [order] = await db.query(
      `SELECT status, transfer_destination, platform_fee_amount FROM "order" WHERE id = $1`,
      [license.orderId],
    );
    expect(order).toEqual({
      status: 'paid',
      transfer_destination: status.accountId,
      platform_fee_amount: 245,
    });
  });

  it("lets an operator override a publisher's fee and see sales, fees and disputes per publisher", async () => {
    const ops = await createPublisher(store.url, 'ops');
    const report = (token?: string) =>
      fetch(`${store.url}/v1/operator/marketplace`, { headers: token ? bearer(token) : {} });
    expect((await report()).status).toBe(401);
    const refused = await report(pub.accessToken);
    expect(refused.status).toBe(403);
    expect(((await json(refused)) as { error: { code: string } }).error.code).toBe('operator_required');
    const apiToken = await report(ops.apiToken);
    expect(apiToken.status).toBe(403);

    const fee = (body: unknown, token = ops.accessToken) =>
      fetch(`${store.url}/v1/operator/publishers/localpub/platform-fee`, {
        method: body === null ? 'DELETE' : 'PUT',
        headers: { ...bearer(token), 'content-type': 'application/json' },
        ...(body === null ? {} : { body: JSON.stringify(body) }),
      });
    expect((await fee({ bps: 2000, fixed: { usd: 100 } }, pub.accessToken)).status).toBe(403);
    expect((await fee({ bps: 20000, fixed: {} })).status).toBe(400);
    expect((await fee({ bps: 100, fixed: { USD: 5 } })).status).toBe(400);
    const untouched = (await (
      await fetch(`${store.url}/v1/publishers/localpub/payouts`, { headers: bearer(pub.accessToken) })
    ).json()) as { feeBps: number };
    expect(untouched.feeBps).toBe(500);
    expect((await fee({ bps: 2000, fixed: { usd: 100 } })).status).toBe(204);
    const license = await buyLocally(store.url, { publisher: 'localpub', chart: 'app' });
    const [order] = await db.query(`SELECT platform_fee_amount FROM "order" WHERE id = $1`, [
      license.orderId,
    ]);
    expect(order.platform_fee_amount).toBe(Math.round(TEST_PRICE * 0.2) + 100);

    const res = await report(ops.accessToken);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { rows: Array<Record<string, unknown>>; exposure: unknown[] };
    expect(body.rows).toEqual([
      {
        publisher: 'localpub',
        currency: 'usd',
        sales: 2,
        gross: 2 * TEST_PRICE,
        platformFees: 245 + Math.round(TEST_PRICE * 0.2) + 100,
        refunded: 0,
        openDisputes: 0,
        disputedAmount: 0,
      },
    ]);
    expect(body.exposure).toEqual([]);

    expect((await fee(null)).status).toBe(204);
    const view = (await (
      await fetch(`${store.url}/v1/publishers/localpub/payouts`, { headers: bearer(pub.accessToken) })
    ).json()) as { feeBps: number; feeFixed: Record<string, number> };
    expect(view).toMatchObject({ feeBps: 500, feeFixed: {} });
  });

  it('forgets the payout account when its publisher closes: the name starts afresh', async () => {
    const closing = await createPublisher(store.url, 'closing');
    const start = await postJson(
      `${store.url}/v1/publishers/closing/payouts/onboarding`,
      {},
      bearer(closing.accessToken),
    );
    const path = new URL(((await start.json()) as { url: string }).url).pathname;
    expect((await fetch(`${store.url}${path}/complete`, { method: 'POST' })).status).toBe(200);
    const rows = () =>
      db.query(`SELECT count(*)::int AS n FROM payout_account WHERE account_id = $1`, [
        path.split('/').at(-1),
      ]);
    expect((await rows())[0].n).toBe(1);
    const close = await fetch(`${store.url}/v1/account`, {
      method: 'DELETE',
      headers: { ...bearer(closing.accessToken), 'content-type': 'application/json' },
      body: JSON.stringify({ password: closing.password }),
    });
    expect(close.status).toBe(204);
    expect((await rows())[0].n).toBe(0);
    const again = await createPublisher(store.url, 'closing');
    const view = (await (
      await fetch(`${store.url}/v1/publishers/closing/payouts`, { headers: bearer(again.accessToken) })
    ).json()) as PayoutStatus;
    expect(view).toMatchObject({ status: 'not_started', accountId: null });
  });

  it("gives operators a console page: the report, every publisher's payouts and fee, and the fee form", async () => {
    const ops = await createPublisher(store.url, 'someone');
    const cookie = await consoleSignIn(store, ops);
    const home = await (await consoleGet(store, '/console', cookie)).text();
    expect(home).toContain('/console/operator');
    const publisherCookie = await consoleSignIn(store, pub);
    const refused = await consoleGet(store, '/console/operator', publisherCookie);
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('Only the store&#39;s operators can do this.');
    expect(await (await consoleGet(store, '/console', publisherCookie)).text()).not.toContain(
      '/console/operator',
    );
    expect(
      (await consoleForm(store, '/console/operator/fee', publisherCookie, { slug: 'localpub', bps: '0' }))
        .status,
    ).toBe(403);

    const page = await consoleGet(store, '/console/operator', cookie);
    expect(page.status).toBe(200);
    const html = await page.text();
    const [totals] = (await db.query(
      `SELECT count(*)::int AS n, sum(platform_fee_amount)::int AS fees FROM "order"
        WHERE publisher_slug = 'localpub' AND status = 'paid'`,
    )) as Array<{ n: number; fees: number }>;
    expect(totals.n).toBeGreaterThan(0);
    const row =
      /<tr><td><code>localpub<\/code><\/td><td>USD<\/td><td>(\d+)<\/td><td>[^<]+<\/td><td>([\d.]+) USD</.exec(
        html,
      );
    expect(row?.slice(1)).toEqual([String(totals.n), (totals.fees / 100).toFixed(2)]);
    expect(html).toMatch(
      /<tr data-publisher="localpub"><td>[^<]*<code>localpub<\/code><\/td><td>paid out<\/td><td>5 %</,
    );
    // A period with no sales, and one that is not a date (refused, with the unfiltered report under it).
    expect(
      await (await consoleGet(store, '/console/operator?from=2001-01-01&to=2001-12-31', cookie)).text(),
    ).toContain('No paid orders in this period.');
    const badDate = await consoleGet(store, '/console/operator?from=yesterday', cookie);
    expect(badDate.status).toBe(400);
    expect(await badDate.text()).toContain('from must be a date');

    // The fee form: a refusal keeps what was typed and stores nothing; a good one redirects with a notice.
    const bad = await consoleForm(store, '/console/operator/fee', cookie, {
      slug: 'localpub',
      bps: '250',
      fixed: 'usd=abc',
    });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('value="usd=abc"');
    const unknown = await consoleForm(store, '/console/operator/fee', cookie, {
      slug: 'nobody',
      bps: '250',
      fixed: '',
    });
    expect(unknown.status).toBe(404);
    expect(
      (await db.query(`SELECT count(*)::int AS n FROM payout_account WHERE fee_bps IS NOT NULL`))[0].n,
    ).toBe(0);
    const set = await consoleForm(store, '/console/operator/fee', cookie, {
      slug: 'localpub',
      bps: '250',
      fixed: 'USD=45, jpy=10',
    });
    expect(set.status).toBe(303);
    expect(set.headers.get('location')).toBe('/console/operator?done=feeSet');
    const view = (await (
      await fetch(`${store.url}/v1/publishers/localpub/payouts`, { headers: bearer(pub.accessToken) })
    ).json()) as { feeBps: number; feeFixed: Record<string, number> };
    expect(view).toMatchObject({ feeBps: 250, feeFixed: { usd: 45, jpy: 10 } });
    const after = await (await consoleGet(store, '/console/operator?done=feeSet', cookie)).text();
    expect(after).toContain('The publisher&#39;s fee was set');
    expect(after).toContain('2.5 % + 10 JPY or 0.45 USD (set for this publisher)');
    const list = (await (
      await fetch(`${store.url}/v1/operator/publishers?limit=1&cursor=local`, {
        headers: bearer(ops.accessToken),
      })
    ).json()) as {
      publishers: Array<{ publisher: string; fee: { bps: number; override: boolean } }>;
      nextCursor: string;
    };
    expect(list.publishers).toEqual([
      expect.objectContaining({
        publisher: 'localpub',
        status: 'enabled',
        fee: { bps: 250, fixed: { usd: 45, jpy: 10 }, override: true },
      }),
    ]);
    expect(list.nextCursor).toBe('localpub');
    // A cursor that is not a slug, or a page size out of range, is refused; the next good page still answers.
    for (const bad of ['cursor=Not%20a%20slug', 'limit=0', 'limit=201']) {
      const refused = await fetch(`${store.url}/v1/operator/publishers?${bad}`, {
        headers: bearer(ops.accessToken),
      });
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('validation_failed');
    }
    const next = (await (
      await fetch(`${store.url}/v1/operator/publishers?limit=1&cursor=localpub`, {
        headers: bearer(ops.accessToken),
      })
    ).json()) as { publishers: Array<{ publisher: string }> };
    expect(next.publishers.map((p) => p.publisher)).toEqual(['ops']);

    const cleared = await consoleForm(store, '/console/operator/fee/clear', cookie, { slug: 'localpub' });
    expect(cleared.status).toBe(303);
    expect(
      (await (
        await fetch(`${store.url}/v1/publishers/localpub/payouts`, { headers: bearer(pub.accessToken) })
      ).json()) as {
        feeBps: number;
      },
    ).toMatchObject({ feeBps: 500, feeFixed: {} });
  });

  it('answers 404 payouts_not_enabled on a store that keeps every sale', async () => {
    const plain = await startInProcess('postgres');
    try {
      const p = await createPublisher(plain.url, 'plainpub');
      const res = await fetch(`${plain.url}/v1/publishers/plainpub/payouts`, {
        headers: bearer(p.accessToken),
      });
      expect(res.status).toBe(404);
      expect(((await json(res)) as { error: { code: string } }).error.code).toBe('payouts_not_enabled');
    } finally {
      await plain.close();
    }
  });
});
