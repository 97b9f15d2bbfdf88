import { randomBytes } from 'node:crypto';
import { ChildProcess, spawn } from 'node:child_process';
import { createServer, request } from 'node:http';
import Stripe from 'stripe';
import { freePorts } from './minio';
import { toolPath } from './tools';

export interface StripeMock {
  url: string;
  stop(): Promise<void>;
}

/** stripe-mock (Stripe's official API mock) on a free loopback port. */
export async function startStripeMock(): Promise<StripeMock> {
  const [http, https] = await freePorts(2);
  const child: ChildProcess = spawn(
    toolPath('stripe-mock'),
    // Both on loopback: with only a port, stripe-mock serves HTTPS on every interface.
    ['-http-addr', `127.0.0.1:${http}`, '-https-addr', `127.0.0.1:${https}`],
    { stdio: 'ignore' },
  );
  const url = `http://127.0.0.1:${http}`;
  const deadline = Date.now() + 20_000;
  for (;;) {
    try {
      const res = await fetch(`${url}/v1/customers`, { headers: { authorization: 'Bearer sk_test_123' } });
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline || child.exitCode !== null) throw new Error('stripe-mock did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
    },
  };
}

/** stripe-mock refuses keys with more underscores than `sk_test_…`. */
export const STRIPE_TEST_KEY = 'sk_test_berth0123456789';
export const STRIPE_WEBHOOK_SECRET = 'whsec_berth_test_secret_0123456789';

/** A Stripe event envelope around `object`, as Stripe posts it. */
export function stripeEvent(
  type: string,
  object: Record<string, unknown>,
  id = `evt_${Math.random().toString(36).slice(2)}`,
): string {
  return JSON.stringify({
    id,
    object: 'event',
    api_version: '2024-06-20',
    created: Math.floor(Date.now() / 1000),
    type,
    data: { object },
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
  });
}

/** The Stripe-Signature header for `payload`, made by the SDK's own test helper. */
export function signStripe(payload: string, secret = STRIPE_WEBHOOK_SECRET, timestamp?: number): string {
  return Stripe.webhooks.generateTestHeaderString({ payload, secret, ...(timestamp ? { timestamp } : {}) });
}

/** Posts a signed (or deliberately mis-signed) event to the store's webhook endpoint. */
export function postWebhook(
  baseUrl: string,
  payload: string,
  signature: string | null = signStripe(payload),
): Promise<Response> {
  return fetch(`${baseUrl}/v1/webhooks/stripe`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
    body: payload,
  });
}

/** The price most suites list their paid charts at (integer minor units of `usd`). */
export const TEST_PRICE = 4900;

/** A fresh PaymentIntent id, as Stripe makes them. */
export const paymentIntentId = () => `pi_${randomBytes(12).toString('hex')}`;

/** The checkout a Stripe object belongs to: our order id travels in its metadata and client_reference_id. */
export interface CheckoutRef {
  orderId: string;
  sessionId: string;
}

/**
 * A `checkout.session` object as Stripe sends it once the buyer of `c` has paid `TEST_PRICE` usd;
 * `over` changes any field (another amount, `payment_status: 'unpaid'`, a given `payment_intent`, …).
 */
export function checkoutSessionObject(
  c: CheckoutRef,
  over: Record<string, unknown> = {},
): Record<string, unknown> & { payment_intent: string } {
  return {
    id: c.sessionId,
    object: 'checkout.session',
    mode: 'payment',
    metadata: { orderId: c.orderId },
    client_reference_id: c.orderId,
    amount_total: TEST_PRICE,
    currency: 'usd',
    payment_status: 'paid',
    status: 'complete',
    payment_intent: paymentIntentId(),
    ...over,
  };
}

/** The `checkout.session.completed` event (a JSON body, ready to sign) for a paid checkout `c`. */
export function checkoutCompletedEvent(
  c: CheckoutRef,
  over: Record<string, unknown> = {},
  id?: string,
): string {
  return stripeEvent('checkout.session.completed', checkoutSessionObject(c, over), id);
}

/** A `charge` object as `charge.refunded` carries it: `amountRefunded` of `amount` refunded so far. */
export function refundedChargeObject(
  paymentIntent: string,
  amountRefunded: number,
  over: { amount?: number; currency?: string; metadata?: Record<string, string>; id?: string } = {},
): Record<string, unknown> {
  const amount = over.amount ?? TEST_PRICE;
  return {
    id: over.id ?? `ch_${randomBytes(8).toString('hex')}`,
    object: 'charge',
    payment_intent: paymentIntent,
    amount,
    amount_refunded: amountRefunded,
    currency: over.currency ?? 'usd',
    refunded: amountRefunded >= amount,
    metadata: over.metadata ?? {},
  };
}

/**
 * A `dispute` object as `charge.dispute.created` / `.closed` carry it. Stripe keeps a dispute's id from
 * created to closed: by default one dispute per payment.
 */
export function disputeObject(
  paymentIntent: string,
  status: string,
  over: { id?: string; amount?: number; currency?: string; charge?: string } = {},
): Record<string, unknown> {
  return {
    id: over.id ?? `dp_${paymentIntent.slice(3)}`,
    object: 'dispute',
    payment_intent: paymentIntent,
    charge: over.charge ?? `ch_${randomBytes(8).toString('hex')}`,
    amount: over.amount ?? TEST_PRICE,
    currency: over.currency ?? 'usd',
    status,
  };
}

export const STRIPE_CONNECT_WEBHOOK_SECRET = 'whsec_berth_connect_secret_0123456789';

/** A Connect event: the envelope of `stripeEvent`, about the connected account `account`. */
export function connectEvent(
  type: string,
  object: Record<string, unknown>,
  account: string,
  opts: { id?: string; created?: number; livemode?: boolean } = {},
): string {
  const event = JSON.parse(stripeEvent(type, object, opts.id)) as Record<string, unknown>;
  return JSON.stringify({
    ...event,
    account,
    ...(opts.created ? { created: opts.created } : {}),
    ...(opts.livemode !== undefined ? { livemode: opts.livemode } : {}),
  });
}

/** A Connect account object as `account.updated` carries it. */
export function connectAccountObject(
  account: string,
  state: {
    transfers: 'active' | 'inactive' | 'pending';
    chargesEnabled?: boolean;
    payoutsEnabled?: boolean;
    currentlyDue?: string[];
  },
): Record<string, unknown> {
  return {
    id: account,
    object: 'account',
    charges_enabled: state.chargesEnabled ?? state.transfers === 'active',
    payouts_enabled: state.payoutsEnabled ?? state.transfers === 'active',
    capabilities: { transfers: state.transfers },
    requirements: { currently_due: state.currentlyDue ?? [] },
  };
}

/** Posts a signed Connect event to the store's second webhook endpoint. */
export function postConnectWebhook(
  baseUrl: string,
  payload: string,
  signature: string | null = signStripe(payload, STRIPE_CONNECT_WEBHOOK_SECRET),
): Promise<Response> {
  return fetch(`${baseUrl}/v1/webhooks/stripe-connect`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(signature ? { 'stripe-signature': signature } : {}) },
    body: payload,
  });
}

export interface RecordedStripeCall {
  method: string;
  path: string;
  /** The form-encoded body as flat `a[b][c]` keys, as the SDK sends it. */
  params: Record<string, string>;
}

/**
 * A loopback proxy in front of stripe-mock that keeps every request: stripe-mock checks each call's shape
 * against Stripe's OpenAPI document but answers fixtures, so the parameters are asserted from here.
 */
export async function recordingStripeProxy(target: string): Promise<{
  url: string;
  calls: RecordedStripeCall[];
  /** Answers `GET path` with `object` instead of stripe-mock's fixture (which has, say, no transfer on a charge). */
  answer(path: string, object: Record<string, unknown>): void;
  stop(): Promise<void>;
}> {
  const calls: RecordedStripeCall[] = [];
  const answers = new Map<string, Record<string, unknown>>();
  const upstream = new URL(target);
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      calls.push({
        method: req.method ?? '',
        path: (req.url ?? '').split('?')[0],
        params: Object.fromEntries(new URLSearchParams(body.toString('utf8'))),
      });
      const answer = req.method === 'GET' ? answers.get((req.url ?? '').split('?')[0]) : undefined;
      if (answer) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
        return;
      }
      const forward = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      forward.on('error', () => res.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    answer: (path, object) => void answers.set(path, object),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
