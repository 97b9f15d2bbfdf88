import { createHash } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { DataSource } from 'typeorm';
import {
  createPublisher,
  json,
  Publisher,
  putListing,
  postJson as post,
  statusAndCode as code,
} from '../support/api';
import { simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';

describe('accounts, tokens and listings on postgres', () => {
  let store: InProcessStore;
  let pub: Publisher;

  beforeAll(async () => {
    store = await startInProcess('postgres');
    pub = await createPublisher(store.url, 'acme');
  }, 60_000);
  afterAll(async () => store?.close());

  it('refuses bad sign-ups with stable codes and keeps e-mails and namespaces unique', async () => {
    const ok = {
      email: 'new@example.test',
      password: 'long enough pw',
      publisher: { slug: 'newco', displayName: 'New' },
    };
    expect(await code(await post(`${store.url}/v1/accounts`, { ...ok, email: 'not-an-email' }))).toEqual([
      400,
      'validation_failed',
    ]);
    expect(await code(await post(`${store.url}/v1/accounts`, { ...ok, password: 'short' }))).toEqual([
      400,
      'validation_failed',
    ]);
    for (const slug of ['Acme', '-acme', 'acme-', 'a_b', 'a'.repeat(41), '']) {
      expect([
        slug,
        ...(await code(
          await post(`${store.url}/v1/accounts`, { ...ok, publisher: { slug, displayName: 'X' } }),
        )),
      ]).toEqual([slug, 400, 'validation_failed']);
    }
    expect(
      await code(
        await post(`${store.url}/v1/accounts`, { ...ok, publisher: { slug: 'api', displayName: 'X' } }),
      ),
    ).toEqual([400, 'publisher_slug_reserved']);
    expect(await code(await post(`${store.url}/v1/accounts`, { ...ok, isAdmin: true }))).toEqual([
      400,
      'validation_failed',
    ]);
    expect(
      await code(
        await post(`${store.url}/v1/accounts`, { ...ok, publisher: { slug: 'acme', displayName: 'X' } }),
      ),
    ).toEqual([409, 'publisher_slug_taken']);
    expect(
      await code(await post(`${store.url}/v1/accounts`, { ...ok, email: pub.email.toUpperCase() })),
    ).toEqual([409, 'email_taken']);
    // Neither refusal left a half-made account behind: the real sign-up still goes through.
    const created = await post(`${store.url}/v1/accounts`, ok);
    expect(created.status).toBe(201);
    expect(await created.json()).toEqual({
      id: expect.any(String),
      email: ok.email,
      publisher: { slug: 'newco', displayName: 'New' },
      emailVerification: 'not_required',
    });
  });

  it('authenticates before it validates: an anonymous bad body gets 401, not a validation error', async () => {
    const res = await post(`${store.url}/v1/publishers/acme/tokens`, { nonsense: true });
    expect(await code(res)).toEqual([401, 'auth_required']);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const listing = await fetch(`${store.url}/v1/publishers/acme/charts/x/listing`, {
      method: 'PUT',
      body: '{"bad":1}',
    });
    expect(await code(listing)).toEqual([401, 'auth_required']);
  });

  it('answers a body missing a nested object with 400, not 500', async () => {
    expect(
      await code(
        await post(`${store.url}/v1/accounts`, { email: 'nested@example.test', password: 'long enough pw' }),
      ),
    ).toEqual([400, 'validation_failed']);
    const put = await putListing(store.url, 'acme', pub.apiToken, 'anything', { published: true });
    expect(await code(put)).toEqual([400, 'validation_failed']);
  });

  it('holds the login limit against a burst of parallel guesses', async () => {
    const victim = await createPublisher(store.url, 'burst');
    const burst = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        post(`${store.url}/v1/sessions`, { email: victim.email, password: `guess-${i}` }),
      ),
    );
    const statuses = burst.map((r) => r.status);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(25);
    // Another account from the same address is not locked out by it.
    const other = await post(`${store.url}/v1/sessions`, { email: pub.email, password: pub.password });
    expect(other.status).toBe(200);
  });

  it('logs in only with the right password and never returns the hash', async () => {
    expect(
      await code(await post(`${store.url}/v1/sessions`, { email: pub.email, password: 'wrong password' })),
    ).toEqual([401, 'invalid_credentials']);
    expect(
      await code(
        await post(`${store.url}/v1/sessions`, { email: 'nobody@example.test', password: 'whatever1' }),
      ),
    ).toEqual([401, 'invalid_credentials']);
    const res = await post(`${store.url}/v1/sessions`, { email: pub.email, password: pub.password });
    const body = (await res.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn']);
  });

  it('refuses tampered, foreign and expired access tokens', async () => {
    const listTokens = (token: string) =>
      fetch(`${store.url}/v1/publishers/acme/tokens`, { headers: { authorization: `Bearer ${token}` } });
    expect((await listTokens(pub.accessToken)).status).toBe(200);
    const [h, p, s] = pub.accessToken.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    const tampered = [
      h,
      Buffer.from(JSON.stringify({ ...payload, sub: '00000000-0000-0000-0000-000000000000' })).toString(
        'base64url',
      ),
      s,
    ].join('.');
    expect(await code(await listTokens(tampered))).toEqual([401, 'access_token_invalid']);
    const none = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${p}.`;
    expect((await listTokens(none)).status).toBe(401);
    const expired = jwt.sign(
      { exp: Math.floor(Date.now() / 1000) - 10 },
      store.config.auth.accessTokenSecret,
      {
        algorithm: 'HS256',
        subject: payload.sub,
        audience: 'berth:access',
        issuer: store.config.publicUrl,
      },
    );
    expect(await code(await listTokens(expired))).toEqual([401, 'access_token_invalid']);
    const other = await createPublisher(store.url, 'initech');
    expect(await code(await listTokens(other.accessToken))).toEqual([403, 'not_publisher_owner']);
  });

  it('shows an API token once, stores only its hash, and lets only the owner mint tokens', async () => {
    const res = await post(
      `${store.url}/v1/publishers/acme/tokens`,
      { name: 'deploy', scopes: ['charts:read'] },
      { authorization: `Bearer ${pub.accessToken}` },
    );
    const created = (await res.json()) as { id: string; token: string };
    expect(created.token).toMatch(/^berth_pat_[A-Za-z0-9_-]{43}$/);
    const list = await (
      await fetch(`${store.url}/v1/publishers/acme/tokens`, {
        headers: { authorization: `Bearer ${pub.accessToken}` },
      })
    ).text();
    expect(list).not.toContain(created.token);
    const stored = JSON.stringify(await store.app.get(DataSource).query('SELECT * FROM api_token'));
    expect(stored).toContain(createHash('sha256').update(created.token).digest('hex'));
    expect(stored).not.toContain(created.token);
    expect(
      await code(
        await post(
          `${store.url}/v1/publishers/acme/tokens`,
          { name: 'x', scopes: ['charts:read'] },
          { authorization: `Bearer ${pub.apiToken}` },
        ),
      ),
    ).toEqual([403, 'owner_required']);
    expect(
      await code(
        await post(
          `${store.url}/v1/publishers/acme/tokens`,
          { name: 'x', scopes: ['root'] },
          { authorization: `Bearer ${pub.accessToken}` },
        ),
      ),
    ).toEqual([400, 'validation_failed']);
    // A read-only token cannot upload or set listings.
    const up = await fetch(`${store.url}/api/acme/charts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${created.token}` },
      body: await simpleChart('ro', '1.0.0'),
    });
    expect([up.status, ((await json(up)) as { code: string }).code]).toEqual([403, 'token_scope_missing']);
  });

  it('validates listings', async () => {
    await fetch(`${store.url}/api/acme/charts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pub.apiToken}` },
      body: await simpleChart('listed', '1.0.0'),
    });
    const put = (body: Record<string, unknown>, chart = 'listed') =>
      putListing(store.url, 'acme', pub.apiToken, chart, body);
    const base = {
      price: { amount: 4900, currency: 'usd' },
      updatePolicy: { kind: 'major' },
      published: true,
    };
    expect(await code(await put({ ...base, price: { amount: -1, currency: 'usd' } }))).toEqual([
      400,
      'validation_failed',
    ]);
    expect(await code(await put({ ...base, price: { amount: 1.5, currency: 'usd' } }))).toEqual([
      400,
      'validation_failed',
    ]);
    expect(await code(await put({ ...base, price: { amount: 100, currency: 'xyz' } }))).toEqual([
      400,
      'currency_invalid',
    ]);
    expect(await code(await put({ ...base, updatePolicy: { kind: 'window' } }))).toEqual([
      400,
      'update_policy_invalid',
    ]);
    expect(await code(await put({ ...base, updatePolicy: { kind: 'major', months: 3 } }))).toEqual([
      400,
      'update_policy_invalid',
    ]);
    expect(await code(await put({ ...base, updatePolicy: { kind: 'forever' } }))).toEqual([
      400,
      'validation_failed',
    ]);
    expect(await code(await put(base, 'missing-chart'))).toEqual([404, 'chart_not_found']);
    const ok = await put({
      ...base,
      price: { amount: 4900, currency: 'EUR' },
      updatePolicy: { kind: 'window', months: 12 },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({
      chart: 'listed',
      price: { amount: 4900, currency: 'eur' },
      updatePolicy: { kind: 'window', months: 12 },
      published: true,
      updatedAt: expect.any(String),
    });
  });
});
