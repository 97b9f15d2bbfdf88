import { request as httpRequest } from 'node:http';
import { createPublisher, Publisher, putListing, uploadChart } from '../support/api';
import { simpleChart } from '../support/charts';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { startStore, StoreProcess } from '../support/store-process';
import { startCheckout } from '../support/checkout';
import {
  checkoutCompletedEvent,
  postWebhook,
  startStripeMock,
  STRIPE_TEST_KEY,
  STRIPE_WEBHOOK_SECRET,
  StripeMock,
} from '../support/stripe';

jest.setTimeout(180_000);

/**
 * The store under attack, as one real process on Postgres with Stripe (stripe-mock): credential
 * guessing, oversized bodies, forged Host and X-Forwarded-* headers, path tricks, probing for private
 * charts. Every response to an attack is kept, and at the end neither those bodies nor any log line
 * may contain a secret.
 */
describe('abuse', () => {
  const PER_CLIENT = 20;
  const PER_CREDENTIAL = 5;
  const SIGNING_SECRET = 'abuse-suite-signing-secret-0123456789abcdef';
  const ACCESS_SECRET = 'abuse-suite-access-token-secret-0123456789abcdef';
  let db: TestDatabase;
  let stripe: StripeMock;
  let store: StoreProcess;
  let acme: Publisher;
  let rival: Publisher;
  let license: { id: string; key: string };
  let rivalLicense: { id: string; key: string };
  let sessionId: string;
  /** Responses to attack requests: status, headers and body, for the final secret scan. */
  const seen: Array<{ what: string; status: number; headers: string; body: string }> = [];

  const basic = (user: string, password: string) =>
    `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

  /** A request sent byte for byte as written (fetch would normalise `..`, `//` and encodings away). */
  function raw(
    method: string,
    path: string,
    headers: Record<string, string> = {},
    body?: Buffer | string,
  ): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
    const url = new URL(store.url);
    return new Promise((resolve, reject) => {
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: {
            ...headers,
            ...(body !== undefined ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const out = {
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).toString('latin1'),
            };
            seen.push({
              what: `${method} ${path}`,
              status: out.status,
              headers: JSON.stringify(res.headers),
              body: out.body,
            });
            resolve(out);
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  async function grantFresh(): Promise<{ id: string; key: string }> {
    const res = await fetch(`${store.url}/v1/publishers/acme/licenses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acme.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ chart: 'other', email: 'fresh@example.test' }),
    });
    expect(res.status).toBe(201);
    const l = (await res.json()) as { id: string; key: string };
    secretKeys.push(l.key);
    return l;
  }
  const secretKeys: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    stripe = await startStripeMock();
    store = await startStore({
      DATABASE_URL: db.url,
      STRIPE_SECRET_KEY: STRIPE_TEST_KEY,
      STRIPE_WEBHOOK_SECRET,
      STRIPE_API_URL: stripe.url,
      LICENSE_SIGNING_SECRET: SIGNING_SECRET,
      ACCESS_TOKEN_SECRET: ACCESS_SECRET,
      AUTH_FAILURES_PER_CLIENT: String(PER_CLIENT),
      AUTH_FAILURES_PER_CREDENTIAL: String(PER_CREDENTIAL),
      AUTH_FAILURE_WINDOW_SECONDS: '60',
      // The test speaks for many clients through X-Forwarded-For from loopback, as an ingress would.
      TRUST_PROXY: 'loopback',
      UPLOAD_MAX_BYTES: String(256 * 1024),
    });
    acme = await createPublisher(store.url, 'acme', [
      'charts:read',
      'charts:write',
      'listings:write',
      'licenses:read',
      'licenses:write',
      'orders:read',
    ]);
    rival = await createPublisher(store.url, 'rival', [
      'charts:read',
      'charts:write',
      'listings:write',
      'licenses:write',
    ]);
    for (const [name, version] of [
      ['secret', '1.0.0'],
      ['hidden', '1.0.0'],
      ['open', '1.0.0'],
      ['other', '1.0.0'],
    ]) {
      expect(
        (await uploadChart(store.url, 'acme', acme.apiToken, await simpleChart(name, version))).status,
      ).toBe(201);
    }
    // secret: published and paid; open: free; other: paid, for a second buyer; hidden: a draft nobody may see.
    for (const [name, amount] of [
      ['secret', 4900],
      ['open', 0],
      ['other', 900],
    ] as const) {
      const res = await putListing(store.url, 'acme', acme.apiToken, name, {
        price: { amount, currency: 'usd' },
        updatePolicy: { kind: 'all' },
        published: true,
      });
      expect(res.status).toBe(200);
    }
    expect(
      (await uploadChart(store.url, 'rival', rival.apiToken, await simpleChart('secret', '1.0.0'))).status,
    ).toBe(201);
    const grant = async (pub: Publisher, chart: string) => {
      const res = await fetch(`${store.url}/v1/publishers/${pub.slug}/licenses`, {
        method: 'POST',
        headers: { authorization: `Bearer ${pub.apiToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ chart, email: `buyer-${chart}@example.test` }),
      });
      expect(res.status).toBe(201);
      return (await res.json()) as { id: string; key: string };
    };
    license = await grant(acme, 'other');
    rivalLicense = await grant(rival, 'secret');
    // One paid checkout through Stripe, so its session id (which reads a key) is a secret in play too.
    const started = await startCheckout(store.url, {
      publisher: 'acme',
      chart: 'secret',
      email: 'payer@example.test',
    });
    sessionId = started.sessionId;
    const paid = await postWebhook(store.url, checkoutCompletedEvent(started));
    expect(paid.status).toBe(200);
  });

  afterAll(async () => {
    await store?.stop();
    await stripe?.stop();
    await db?.drop();
  });

  describe('credential guessing', () => {
    const surfaces = (credential: string) => [
      {
        what: 'publisher API (Bearer)',
        method: 'GET',
        path: '/v1/publishers/acme/tokens',
        auth: `Bearer ${credential}`,
      },
      {
        what: 'ChartMuseum API (Bearer)',
        method: 'GET',
        path: '/api/acme/charts',
        auth: `Bearer ${credential}`,
      },
      {
        what: 'Helm repository (Basic license key)',
        method: 'GET',
        path: '/helm/acme/index.yaml',
        auth: basic(license.id, `berth_lic_${credential}`),
      },
      {
        what: 'chart download (Basic token)',
        method: 'GET',
        path: '/helm/acme/charts/secret-1.0.0.tgz',
        auth: basic('x', credential),
      },
    ];

    it('locks a credential after repeated failures, from any client, with 429 and Retry-After', async () => {
      for (const [i, s] of surfaces('berth_pat_guess-one').entries()) {
        const credential = `berth_pat_guess-${i}-${Date.now()}`;
        const surface = surfaces(credential)[i];
        const statuses: number[] = [];
        for (let n = 0; n < PER_CREDENTIAL; n++) {
          statuses.push(
            (
              await raw(surface.method, surface.path, {
                authorization: surface.auth,
                'x-forwarded-for': `203.0.113.${10 + n}`,
              })
            ).status,
          );
        }
        expect({ surface: s.what, statuses }).toEqual({
          surface: s.what,
          statuses: Array(PER_CREDENTIAL).fill(401),
        });
        // The same credential from a fresh client is still refused: the limit follows the key.
        const locked = await raw(surface.method, surface.path, {
          authorization: surface.auth,
          'x-forwarded-for': '203.0.113.99',
        });
        expect({ surface: s.what, status: locked.status }).toEqual({ surface: s.what, status: 429 });
        expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
        expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(60);
        expect(locked.body).toContain('too_many_auth_failures');
      }
      // A good credential is unaffected by someone else's locked guesses.
      const ok = await raw('GET', '/api/acme/charts', {
        authorization: `Bearer ${acme.apiToken}`,
        'x-forwarded-for': '203.0.113.99',
      });
      expect(ok.status).toBe(200);
    });

    it('locks a client that keeps failing, for credentialed requests only', async () => {
      const client = { 'x-forwarded-for': '198.51.100.7' };
      const statuses: number[] = [];
      for (let n = 0; n < PER_CLIENT; n++) {
        statuses.push(
          (
            await raw('GET', '/helm/acme/index.yaml', {
              ...client,
              authorization: basic(license.id, `berth_lic_spray-${n}`),
            })
          ).status,
        );
      }
      expect(new Set(statuses)).toEqual(new Set([401]));
      // Even a valid key from this client now waits: it is the client that is throttled.
      const valid = await raw('GET', '/helm/acme/index.yaml', {
        ...client,
        authorization: basic(license.id, license.key),
      });
      expect(valid.status).toBe(429);
      expect(Number(valid.headers['retry-after'])).toBeGreaterThan(0);
      // The public index still serves it, and other clients are untouched.
      expect((await raw('GET', '/helm/acme/index.yaml', client)).status).toBe(200);
      expect(
        (
          await raw('GET', '/helm/acme/index.yaml', {
            authorization: basic(license.id, license.key),
            'x-forwarded-for': '198.51.100.8',
          })
        ).status,
      ).toBe(200);
    });

    it('locks a client that sprays passwords over many e-mails (each e-mail has its own lock too)', async () => {
      const client = { 'x-forwarded-for': '198.51.100.9', 'content-type': 'application/json' };
      const statuses: number[] = [];
      for (let n = 0; n < PER_CLIENT; n++) {
        statuses.push(
          (
            await raw(
              'POST',
              '/v1/sessions',
              client,
              JSON.stringify({ email: `victim${n}@example.test`, password: 'Winter2026!' }),
            )
          ).status,
        );
      }
      expect(new Set(statuses)).toEqual(new Set([401]));
      const right = await raw(
        'POST',
        '/v1/sessions',
        client,
        JSON.stringify({ email: acme.email, password: acme.password }),
      );
      expect(right.status).toBe(429);
      expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
      const elsewhere = await raw(
        'POST',
        '/v1/sessions',
        { ...client, 'x-forwarded-for': '198.51.100.10' },
        JSON.stringify({ email: acme.email, password: acme.password }),
      );
      expect(elsewhere.status).toBe(200);
    });
  });

  it('refuses every oversized body with 413 and a stable code, storing nothing', async () => {
    const big = (n: number) => JSON.stringify({ pad: 'x'.repeat(n) });
    const bearer = { authorization: `Bearer ${acme.accessToken}`, 'content-type': 'application/json' };
    const cases: Array<{
      method: string;
      path: string;
      headers?: Record<string, string>;
      body: string | Buffer;
      code: string;
    }> = [
      { method: 'POST', path: '/v1/accounts', body: big(100_000), code: 'payload_too_large' },
      { method: 'POST', path: '/v1/sessions', body: big(100_000), code: 'payload_too_large' },
      {
        method: 'POST',
        path: '/v1/publishers/acme/tokens',
        headers: bearer,
        body: big(100_000),
        code: 'payload_too_large',
      },
      {
        method: 'PUT',
        path: '/v1/publishers/acme/charts/secret/listing',
        headers: bearer,
        body: big(100_000),
        code: 'payload_too_large',
      },
      {
        method: 'POST',
        path: '/v1/publishers/acme/licenses',
        headers: bearer,
        body: big(100_000),
        code: 'payload_too_large',
      },
      { method: 'POST', path: '/v1/checkout', body: big(100_000), code: 'payload_too_large' },
      { method: 'POST', path: '/v1/licenses/verify', body: big(100_000), code: 'payload_too_large' },
      {
        method: 'POST',
        path: '/v1/webhooks/stripe',
        headers: { 'stripe-signature': 't=1,v1=00' },
        body: big(1_100_000),
        code: 'payload_too_large',
      },
      {
        method: 'POST',
        path: '/checkout/local/cs_x/pay',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `a=${'x'.repeat(5000)}`,
        code: 'payload_too_large',
      },
      {
        method: 'POST',
        path: '/api/acme/charts',
        headers: { authorization: `Bearer ${acme.apiToken}` },
        body: Buffer.alloc(300 * 1024, 1),
        code: 'upload_too_large',
      },
      {
        method: 'POST',
        path: '/api/acme/prov',
        headers: { authorization: `Bearer ${acme.apiToken}` },
        body: Buffer.alloc(300 * 1024, 1),
        code: 'upload_too_large',
      },
    ];
    for (const c of cases) {
      const res = await raw(c.method, c.path, c.headers ?? { 'content-type': 'application/json' }, c.body);
      expect({ route: `${c.method} ${c.path}`, status: res.status }).toEqual({
        route: `${c.method} ${c.path}`,
        status: 413,
      });
      expect({ route: `${c.method} ${c.path}`, code: c.code, body: res.body }).toEqual({
        route: `${c.method} ${c.path}`,
        code: c.code,
        body: expect.stringContaining(c.code),
      });
    }
    // Headers past Node's limit are cut off before any route runs.
    expect((await raw('GET', '/helm/acme/index.yaml', { 'x-pad': 'x'.repeat(20_000) })).status).toBe(431);
    // Nothing was stored: still two tokens, four charts, three licenses.
    const tokens = (await (
      await fetch(`${store.url}/v1/publishers/acme/tokens`, {
        headers: { authorization: `Bearer ${acme.accessToken}` },
      })
    ).json()) as unknown[];
    expect(tokens).toHaveLength(1);
    const charts = (await (
      await fetch(`${store.url}/api/acme/charts`, { headers: { authorization: `Bearer ${acme.apiToken}` } })
    ).json()) as Record<string, unknown>;
    expect(Object.keys(charts).sort()).toEqual(['hidden', 'open', 'other', 'secret']);
    // Still serving.
    expect((await fetch(`${store.url}/healthz`)).status).toBe(200);
  });

  it('sends no CORS headers unless configured, and security headers on every kind of response', async () => {
    const origin = { origin: 'https://evil.example' };
    const preflight = await raw('OPTIONS', '/v1/publishers/acme/tokens', {
      ...origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization',
    });
    expect(preflight.headers['access-control-allow-origin']).toBeUndefined();
    expect(preflight.headers['access-control-allow-headers']).toBeUndefined();
    expect(preflight.status).toBeGreaterThanOrEqual(400);
    const get = await raw('GET', '/v1/catalog', origin);
    expect(get.status).toBe(200);
    expect(get.headers['access-control-allow-origin']).toBeUndefined();
    expect(get.headers['access-control-allow-credentials']).toBeUndefined();

    const responses = [
      await raw('GET', '/helm/acme/index.yaml'),
      await raw('GET', '/helm/acme/charts/open-1.0.0.tgz'),
      await raw('GET', '/v1/catalog'),
      await raw('GET', `/checkout/success?session_id=${sessionId}`),
      await raw('GET', '/helm/acme/charts/secret-1.0.0.tgz'),
      await raw('GET', '/nowhere'),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200, 401, 404]);
    for (const r of responses) {
      expect(r.headers['x-content-type-options']).toBe('nosniff');
      expect(r.headers['x-frame-options']).toBe('DENY');
      // Pages (the success page here) say same-origin, so their own forms post with the store's Origin.
      expect(r.headers['referrer-policy']).toBe(
        /text\/html/.test(String(r.headers['content-type'])) ? 'same-origin' : 'no-referrer',
      );
      expect(r.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(r.headers['content-security-policy']).toContain("default-src 'none'");
      expect(r.headers['x-powered-by']).toBeUndefined();
    }
    // Anything that depends on who asks is never stored by a shared cache.
    expect(responses[3].headers['cache-control']).toMatch(/no-store|private/);
    expect(responses[4].headers['cache-control']).toBe('no-store');
  });

  it('never lets Host or X-Forwarded-* change a URL it writes', async () => {
    const forged = {
      host: 'evil.example',
      'x-forwarded-host': 'evil.example',
      'x-forwarded-proto': 'https',
      'x-forwarded-prefix': '/evil',
      'x-forwarded-port': '6666',
      forwarded: 'host=evil.example;proto=https',
    };
    const pages = [
      await raw('GET', '/helm/acme/index.yaml', forged),
      await raw('GET', '/helm/acme/index.yaml', { ...forged, authorization: basic(license.id, license.key) }),
      await raw('GET', `/v1/checkout/${sessionId}`, forged),
      await raw('GET', `/checkout/success?session_id=${sessionId}`, forged),
      await raw('GET', '/helm/acme/charts/secret-1.0.0.tgz', forged),
      await raw('GET', '/v1/catalog/acme/secret', forged),
      await raw('GET', '/.well-known/jwks.json', forged),
      await raw(
        'POST',
        '/v1/checkout',
        { ...forged, 'content-type': 'application/json' },
        JSON.stringify({ publisher: 'acme', chart: 'secret', email: 'forged@example.test' }),
      ),
    ];
    expect(pages.map((p) => p.status)).toEqual([200, 200, 200, 200, 401, 200, 200, 201]);
    for (const p of pages) {
      expect(p.body).not.toMatch(/evil|6666/);
      expect(JSON.stringify(p.headers)).not.toMatch(/evil|6666/);
    }
    const state = JSON.parse(pages[2].body) as { helm: { repoUrl: string; addCommand: string } };
    expect(state.helm.repoUrl).toBe(`${store.url}/helm/acme`);
    expect(state.helm.addCommand.startsWith(`helm repo add acme ${store.url}/helm/acme `)).toBe(true);
    expect(JSON.parse(pages[0].body).serverInfo).toEqual({ contextPath: '/helm/acme' });
    // The Stripe session was created with our own return URLs: stripe-mock echoes them back.
    const order = JSON.parse(pages[7].body) as { checkoutUrl: string };
    expect(order.checkoutUrl).not.toMatch(/evil/);
  });

  it('gives a revoked or suspended state only to the license holder, at the right repository', async () => {
    const res = await fetch(`${store.url}/v1/publishers/rival/licenses/${rivalLicense.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${rival.apiToken}` },
    });
    expect(res.status).toBeLessThan(300);
    // Presented at acme's repository, the revoked rival key is just invalid: nothing about its state.
    const elsewhere = await raw('GET', '/helm/acme/index.yaml', {
      authorization: basic(rivalLicense.id, rivalLicense.key),
      'x-forwarded-for': '192.0.2.60',
    });
    expect(elsewhere.status).toBe(401);
    expect(elsewhere.body).toContain('repository_credentials_invalid');
    expect(elsewhere.body).not.toMatch(/license_inactive|license is (revoked|suspended)/);
    const wrongUser = await raw('GET', '/helm/rival/index.yaml', {
      authorization: basic('someone', rivalLicense.key),
      'x-forwarded-for': '192.0.2.60',
    });
    expect(wrongUser.body).not.toMatch(/license_inactive|license is (revoked|suspended)/);
    const holder = await raw('GET', '/helm/rival/index.yaml', {
      authorization: basic(rivalLicense.id, rivalLicense.key),
      'x-forwarded-for': '192.0.2.60',
    });
    expect([holder.status, JSON.parse(holder.body).error.code]).toEqual([401, 'license_inactive']);
  });

  it('lets no path trick past the license check or to a draft', async () => {
    const tricks = [
      '/helm/acme/charts/secret-1.0.0.tgz/',
      '/helm/acme//charts/secret-1.0.0.tgz',
      '//helm/acme/charts/secret-1.0.0.tgz',
      '/helm/acme/charts//secret-1.0.0.tgz',
      '/HELM/acme/charts/secret-1.0.0.tgz',
      '/helm/ACME/charts/secret-1.0.0.tgz',
      '/helm/acme/CHARTS/secret-1.0.0.tgz',
      '/helm/acme/charts/SECRET-1.0.0.tgz',
      '/helm/acme/charts/secret-1.0.0.TGZ',
      '/helm/acme/charts/%73ecret-1.0.0.tgz',
      '/helm/acme/charts/secret-1.0.0%2etgz',
      '/helm/acme/charts%2fsecret-1.0.0.tgz',
      '/helm/acme/charts/..%2fcharts%2fsecret-1.0.0.tgz',
      '/helm/acme/charts/%2e%2e/charts/secret-1.0.0.tgz',
      '/helm/acme/charts/open-1.0.0.tgz/../secret-1.0.0.tgz',
      '/helm/acme/charts/open-1.0.0.tgz%2f..%2fsecret-1.0.0.tgz',
      '/helm/rival/../acme/charts/secret-1.0.0.tgz',
      '/helm/acme/./charts/secret-1.0.0.tgz',
      '/helm/acme/charts/secret-1.0.0.tgz%00.prov',
      '/helm/acme/charts/secret-1.0.0.tgz?x=/open-1.0.0.tgz',
      '/helm/acme/charts/hidden-1.0.0.tgz',
      '/helm/acme/charts/hidden-1.0.0.tgz.prov',
      '/helm/acme/charts/%68idden-1.0.0.tgz',
      '/helm/acme/charts/Hidden-1.0.0.tgz',
      '/helm/acme/charts/hidden-1.0.0.tgz/',
      '/api/acme/charts/hidden',
      '/api/acme//charts/hidden',
      '/API/acme/charts/hidden',
      '/api/acme/charts/hidden/1.0.0/',
      '/api/acme/charts/hidden/latest',
      '/helm/acme/api/charts/hidden',
      '/helm/acme/api//charts',
      '/api/acme/charts/',
      '/api/%61cme/charts',
      '/v1/publishers/acme/tokens/',
      '/v1/publishers//acme/tokens',
      '/V1/publishers/acme/tokens',
      '/v1/publishers/%61cme/tokens',
      '/v1/publishers/acme/licenses/',
      '/v1/publishers/acme/orders',
      '/v1/catalog/acme/hidden',
      '/v1/catalog/acme/hidden/',
      '/v1/catalog/ACME/hidden',
    ];
    // 429: a credential refused often enough is locked, which is refusal too.
    const allowed = [400, 401, 403, 404, 405, 429];
    const mine = await grantFresh();
    const identities: Array<[string, Record<string, string>]> = [
      ['anonymous', {}],
      ["a license for another of acme's charts", { authorization: basic(mine.id, mine.key) }],
      ["rival's license for its own 'secret'", { authorization: basic(rivalLicense.id, rivalLicense.key) }],
      ["rival's API token", { authorization: `Bearer ${rival.apiToken}` }],
    ];
    for (const [who, headers] of identities) {
      for (const path of tricks) {
        const res = await raw('GET', path, { ...headers, 'x-forwarded-for': '192.0.2.50' });
        expect({ who, path, status: allowed.includes(res.status) ? 'refused' : res.status }).toEqual({
          who,
          path,
          status: 'refused',
        });
        expect(res.body.startsWith('\x1f\x8b')).toBe(false);
        expect(res.body).not.toContain('hidden-1.0.0');
        expect(res.body).not.toMatch(/"digest"/);
      }
    }
    // The same paths with the rightful credential do work (the tricks were refused, not the routes broken).
    const fresh = await grantFresh();
    const own = await raw('GET', '/helm/acme/charts/other-1.0.0.tgz', {
      authorization: basic(fresh.id, fresh.key),
    });
    expect(own.status).toBe(200);
    expect(own.body.startsWith('\x1f\x8b')).toBe(true);
  });

  it('does not tell a private chart from a missing one, by status, body or timing', async () => {
    const probes: Array<[string, Record<string, string>, string, string]> = [
      ['anonymous .tgz', {}, '/helm/acme/charts/hidden-1.0.0.tgz', '/helm/acme/charts/nosuch-1.0.0.tgz'],
      [
        'licensed .tgz',
        { authorization: basic(license.id, license.key) },
        '/helm/acme/charts/hidden-1.0.0.tgz',
        '/helm/acme/charts/nosuch-1.0.0.tgz',
      ],
      [
        'anonymous .prov',
        {},
        '/helm/acme/charts/hidden-1.0.0.tgz.prov',
        '/helm/acme/charts/nosuch-1.0.0.tgz.prov',
      ],
      ['catalog', {}, '/v1/catalog/acme/hidden', '/v1/catalog/acme/nosuch'],
      [
        'ChartMuseum API, rival token',
        { authorization: `Bearer ${rival.apiToken}` },
        '/api/acme/charts/hidden',
        '/api/acme/charts/nosuch',
      ],
      ['ChartMuseum API, anonymous', {}, '/api/acme/charts/hidden', '/api/acme/charts/nosuch'],
    ];
    const shape = (r: { status: number; body: string }) => ({
      status: r.status,
      body: r.body.replace(/[0-9a-f-]{36}/g, '<id>').replace(/hidden|nosuch/g, '<name>'),
    });
    for (const [what, headers, privatePath, missingPath] of probes) {
      const a = await raw('GET', privatePath, headers);
      const b = await raw('GET', missingPath, headers);
      expect({ what, ...shape(a) }).toEqual({ what, ...shape(b) });
      expect(a.status).toBeGreaterThanOrEqual(400);
    }
    // Timing: interleaved, many samples, medians compared. An attacker repeats a name to see whether the
    // store remembers it; a repeated private name and a repeated missing one must cost the same (both are
    // answered from the file cache), so a difference beyond noise is something an attacker could measure.
    const time = async (path: string) => {
      const t = process.hrtime.bigint();
      await raw('GET', path, { authorization: basic(license.id, license.key) });
      return Number(process.hrtime.bigint() - t) / 1e6;
    };
    for (let i = 0; i < 10; i++) await time('/helm/acme/charts/nosuch-1.0.0.tgz');
    const priv: number[] = [];
    const miss: number[] = [];
    for (let i = 0; i < 80; i++) {
      priv.push(await time('/helm/acme/charts/hidden-1.0.0.tgz'));
      miss.push(await time('/helm/acme/charts/nosuch-1.0.0.tgz'));
    }
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
    const [mp, mm] = [median(priv), median(miss)];
    expect(Math.abs(mp - mm)).toBeLessThan(Math.max(1.5, 0.3 * Math.min(mp, mm)));
  });

  it('keeps every secret out of its logs and out of every answer to an attack', async () => {
    // Secrets in paths, queries and bodies too, where a careless access log would catch them.
    await raw('GET', `/v1/checkout/${sessionId.toUpperCase()}`);
    await raw('GET', `//v1//checkout/${sessionId}`);
    await raw('GET', `/V1/CHECKOUT/${sessionId}`);
    await raw('GET', `/helm/acme/index.yaml?password=${acme.password}&token=${acme.apiToken}`);
    await raw(
      'POST',
      '/v1/sessions',
      { 'content-type': 'application/json' },
      JSON.stringify({ email: acme.email, password: acme.password, junk: license.key }),
    );
    await raw(
      'POST',
      '/v1/licenses/verify',
      { 'content-type': 'application/json' },
      JSON.stringify({ key: license.key, extra: acme.apiToken }),
    );
    await raw(
      'POST',
      '/v1/webhooks/stripe',
      { 'stripe-signature': `t=1,v1=${STRIPE_WEBHOOK_SECRET}` },
      `{"secret":"${STRIPE_TEST_KEY}"}`,
    );
    await raw('GET', '/api/acme/charts', { authorization: `Bearer ${acme.accessToken}x` });
    await raw('GET', '/api/acme/charts', { authorization: `Token ${acme.apiToken}` });
    await raw('GET', '/helm/acme/index.yaml', {
      authorization: `Basic ${Buffer.from(`${license.id}:${license.key}x`).toString('base64')}`,
    });
    await new Promise((r) => setTimeout(r, 300));

    const secrets: Record<string, string> = {
      'license key': license.key,
      "rival's license key": rivalLicense.key,
      'license key signature': license.key.split('.')[2],
      'API token': acme.apiToken,
      "rival's API token": rival.apiToken,
      'access token': acme.accessToken,
      'access token signature': acme.accessToken.split('.')[2],
      password: acme.password,
      'Stripe secret key': STRIPE_TEST_KEY,
      'Stripe webhook secret': STRIPE_WEBHOOK_SECRET,
      'checkout session id': sessionId,
      'license signing secret': SIGNING_SECRET,
      'access token secret': ACCESS_SECRET,
      'Basic credentials': Buffer.from(`${license.id}:${license.key}`).toString('base64'),
    };
    secretKeys.forEach((k, i) => (secrets[`granted key ${i}`] = k));
    const logs = store.output.join('\n');
    expect(logs.split('\n').length).toBeGreaterThan(100);
    for (const [what, secret] of Object.entries(secrets)) {
      const inLogs = logs.toLowerCase().includes(secret.toLowerCase());
      expect({ what, inLogs }).toEqual({ what, inLogs: false });
    }
    // The answers to attacks: only the checkout-state reads legitimately carry the session's own key.
    expect(seen.length).toBeGreaterThan(300);
    for (const r of seen) {
      expect({ what: r.what, status: r.status < 500 ? 'handled' : r.status }).toEqual({
        what: r.what,
        status: 'handled',
      });
      const legit = r.what.includes(sessionId) || r.what.includes('/charts/other-1.0.0.tgz');
      for (const [what, secret] of Object.entries(secrets)) {
        if (
          legit &&
          (what === 'checkout session id' || what.startsWith('license key') || what.startsWith('granted key'))
        )
          continue;
        // A successful login hands out an access token: the one in play if it was minted the same second.
        if (r.what === 'POST /v1/sessions' && r.status === 200 && what.startsWith('access token')) continue;
        const leaked = r.body.includes(secret) || r.headers.includes(secret);
        expect({ request: r.what, what, leaked }).toEqual({ request: r.what, what, leaked: false });
      }
    }
    // Every log line is JSON (nothing free-form that could slip past redaction).
    for (const line of store.output.filter((l) => l.trim())) expect(() => JSON.parse(line)).not.toThrow();
  });
});
