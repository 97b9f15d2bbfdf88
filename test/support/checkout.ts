import { randomBytes } from 'node:crypto';

/** Who buys what: the body of `POST /v1/checkout`. */
export interface Buyer {
  publisher: string;
  chart: string;
  email?: string;
}

/** What `POST /v1/checkout` answers with 201. */
export interface StartedCheckout {
  orderId: string;
  sessionId: string;
  checkoutUrl: string;
}

/** A fresh buyer e-mail (`tag` makes it readable in a failing assertion). */
export const buyerEmail = (tag = 'buyer') => `${tag}-${randomBytes(4).toString('hex')}@example.test`;

/**
 * `POST /v1/checkout` with exactly `body`, as a storefront posts it: the raw response, for suites that
 * assert refusals (a malformed body included).
 */
export function postCheckout(
  baseUrl: string,
  body: Partial<Buyer> & Record<string, unknown>,
): Promise<Response> {
  return fetch(`${baseUrl}/v1/checkout`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Starts a checkout (a fresh e-mail unless given) that must be accepted (201 with an order and a session), and returns it. */
export async function startCheckout(baseUrl: string, buyer: Buyer): Promise<StartedCheckout> {
  const res = await postCheckout(baseUrl, { ...buyer, email: buyer.email ?? buyerEmail() });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`POST /v1/checkout ${res.status}: ${text}`);
  const started = JSON.parse(text) as StartedCheckout;
  if (typeof started.orderId !== 'string' || typeof started.sessionId !== 'string')
    throw new Error(`POST /v1/checkout answered without an order or a session: ${text}`);
  return started;
}
