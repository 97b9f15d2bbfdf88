import { randomBytes } from 'node:crypto';

export interface Publisher {
  slug: string;
  email: string;
  password: string;
  accessToken: string;
  apiToken: string;
}

export async function json(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Signs up a publisher, logs in and mints an API token, through the public API only. */
export async function createPublisher(
  baseUrl: string,
  slug = `p${randomBytes(4).toString('hex')}`,
  scopes = ['charts:read', 'charts:write', 'listings:write'],
): Promise<Publisher> {
  const email = `${slug}@example.test`;
  const password = `pw-${randomBytes(8).toString('hex')}`;
  const signup = await fetch(`${baseUrl}/v1/accounts`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password, publisher: { slug, displayName: slug.toUpperCase() } }),
  });
  if (signup.status !== 201)
    throw new Error(`signup ${signup.status}: ${JSON.stringify(await json(signup))}`);
  const login = await fetch(`${baseUrl}/v1/sessions`, {
    method: 'POST',
    body: JSON.stringify({ email, password }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const tok = await fetch(`${baseUrl}/v1/publishers/${slug}/tokens`, {
    method: 'POST',
    headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'ci', scopes }),
  });
  if (tok.status !== 201) throw new Error(`token ${tok.status}: ${JSON.stringify(await json(tok))}`);
  const { token } = (await tok.json()) as { token: string };
  return { slug, email, password, accessToken, apiToken: token };
}

export function uploadChart(
  baseUrl: string,
  slug: string,
  token: string,
  archive: Buffer,
  query = '',
): Promise<Response> {
  return fetch(`${baseUrl}/api/${slug}/charts${query}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream' },
    body: archive,
  });
}

export function putListing(
  baseUrl: string,
  slug: string,
  token: string,
  chart: string,
  body: Record<string, unknown> = {
    price: { amount: 0, currency: 'usd' },
    updatePolicy: { kind: 'all' },
    published: true,
  },
): Promise<Response> {
  return fetch(`${baseUrl}/v1/publishers/${slug}/charts/${chart}/listing`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

/** Uploads `archive` and publishes its chart at `price` (minor units, USD, update policy `all`): a chart for sale. */
export async function publishChart(
  baseUrl: string,
  publisher: Publisher,
  chart: string,
  archive: Buffer,
  price: number,
): Promise<void> {
  const up = await uploadChart(baseUrl, publisher.slug, publisher.apiToken, archive);
  if (up.status !== 201) throw new Error(`upload ${up.status}: ${JSON.stringify(await json(up))}`);
  const listing = await putListing(baseUrl, publisher.slug, publisher.apiToken, chart, {
    price: { amount: price, currency: 'usd' },
    updatePolicy: { kind: 'all' },
    published: true,
  });
  if (listing.status !== 200)
    throw new Error(`listing ${listing.status}: ${JSON.stringify(await json(listing))}`);
}

/** POST a JSON body (whatever the route), with extra headers. */
export const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

/** `[status, error code]` of a /v1 answer (the code is undefined on success). */
export const statusAndCode = async (res: Response) => [
  res.status,
  ((await json(res)) as { error?: { code: string } }).error?.code,
];

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Basic credentials as Helm sends them (a license id and key, or any name and an API token). */
export const basicAuth = (user: string, pass: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
});
