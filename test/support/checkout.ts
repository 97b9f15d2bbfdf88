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

/**
 * Pays a local-provider checkout as a browser does (opens the pay page, presses Pay) and returns the
 * license the checkout state then shows. Fails unless the order ends up paid.
 */
export async function payLocally(
  baseUrl: string,
  started: StartedCheckout,
): Promise<{ id: string; key: string; orderId: string }> {
  const path = new URL(started.checkoutUrl).pathname;
  const page = await fetch(`${baseUrl}${path}`);
  if (page.status !== 200) throw new Error(`GET ${path} ${page.status}`);
  const pay = await fetch(`${baseUrl}${path}/pay`, { method: 'POST', redirect: 'manual' });
  if (pay.status !== 303) throw new Error(`POST ${path}/pay ${pay.status}: ${await pay.text()}`);
  const state = (await (await fetch(`${baseUrl}/v1/checkout/${started.sessionId}`)).json()) as {
    status: string;
    license?: { id: string; key: string };
  };
  if (state.status !== 'paid' || !state.license) throw new Error(`checkout ${JSON.stringify(state)}`);
  return { ...state.license, orderId: started.orderId };
}

/** Starts a checkout for `buyer` and pays it on the local pay page: a paid order and its license. */
export async function buyLocally(baseUrl: string, buyer: Buyer) {
  return payLocally(baseUrl, await startCheckout(baseUrl, buyer));
}

/**
 * The license key a checkout success page shows in its key block, or undefined when the page shows none.
 * Reads the element by its id, so the page may add attributes (class, aria) without breaking suites.
 */
export function keyOnSuccessPage(html: string): string | undefined {
  return /<pre\b[^>]*\bid="key"[^>]*>(berth_lic_[A-Za-z0-9_.-]+)<\/pre>/.exec(html)?.[1];
}
