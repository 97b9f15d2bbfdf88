import { ChildProcess, spawn } from 'node:child_process';
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
    ['-http-port', String(http), '-https-port', String(https)],
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
