import { request } from 'node:http';
import { createPublisher, Publisher } from '../support/api';
import { simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';
import { signStripe, stripeEvent } from '../support/stripe';
import { MetricsServer } from '../../apps/store/src/ops/metrics-endpoint';

jest.setTimeout(60_000);

const WEBHOOK_SECRET = 'whsec_edge_hardening_0123456789';

interface RawAnswer {
  status: number | 'no answer';
  body: string;
}

/** One HTTP request with the path sent exactly as written (fetch would normalise it), bounded in time. */
function raw(
  base: string,
  method: string,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
  timeoutMs = 1000,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve) => {
    const req = request(
      {
        hostname,
        port,
        method,
        path,
        headers: { 'content-length': String(Buffer.byteLength(body)), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
      },
    );
    req.setTimeout(timeoutMs, () => {
      req.destroy();
      resolve({ status: 'no answer', body: '' });
    });
    req.on('error', () => resolve({ status: 'no answer', body: '' }));
    req.end(body);
  });
}

const code = (a: RawAnswer) => {
  try {
    const b = JSON.parse(a.body) as { error?: { code?: string } | string; code?: string };
    return typeof b.error === 'object' ? b.error.code : b.code;
  } catch {
    return undefined;
  }
};

describe('HTTP edge hardening', () => {
  let store: InProcessStore;
  let pub: Publisher;

  beforeAll(async () => {
    store = await startInProcess('postgres', {
      STRIPE_SECRET_KEY: 'sk_test_edge',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    });
    pub = await createPublisher(store.url);
  });
  afterAll(async () => store?.close());

  describe('deeply nested JSON', () => {
    const deepArray = (depth: number) => `{"email":${'['.repeat(depth)}${']'.repeat(depth)}}`;
    const deepObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
    const routes = (p: Publisher): Array<[string, string]> => [
      ['POST', '/v1/accounts'],
      ['POST', '/v1/sessions'],
      ['POST', `/v1/publishers/${p.slug}/tokens`],
      ['PUT', `/v1/publishers/${p.slug}/charts/anything/listing`],
      ['POST', '/v1/checkout'],
      ['POST', '/v1/licenses/verify'],
      ['POST', `/v1/publishers/${p.slug}/licenses`],
    ];

    it('answers 400 json_too_deep on every /v1 body route, before authentication or validation', async () => {
      const seen: Record<string, unknown> = {};
      for (const [method, path] of routes(pub)) {
        for (const [shape, body] of [
          ['arrays', deepArray(10_000)],
          ['objects', deepObject(5_000)],
          ['just over the cap', deepArray(32)], // {"email": adds the 33rd level
        ]) {
          const a = await raw(store.url, method, path, body, { 'content-type': 'application/json' }, 5000);
          seen[`${method} ${path} ${shape}`] = `${a.status} ${code(a)}`;
        }
      }
      expect(seen).toEqual(Object.fromEntries(Object.keys(seen).map((k) => [k, '400 json_too_deep'])));
    });

    it('still parses bodies at the cap, and the process keeps serving', async () => {
      const atCap = await raw(store.url, 'POST', '/v1/sessions', deepArray(31), {
        'content-type': 'application/json',
      });
      expect(atCap.status).toBe(400);
      expect(code(atCap)).toBe('validation_failed');
      // Brackets inside strings are text, not nesting.
      const inString = await raw(
        store.url,
        'POST',
        '/v1/sessions',
        JSON.stringify({ email: '['.repeat(1000), password: '{"\\'.repeat(300) }),
      );
      expect(code(inString)).toBe('validation_failed');
      expect((await fetch(`${store.url}/healthz`)).status).toBe(200);
    });
  });

  describe('every spelling of a raw-body route is answered', () => {
    it('routes the Stripe webhook with its raw body under any case and trailing slash, and answers the rest', async () => {
      const payload = stripeEvent('customer.created', { id: 'cus_edge', object: 'customer' });
      const headers = {
        'content-type': 'application/json',
        'stripe-signature': signStripe(payload, WEBHOOK_SECRET),
      };
      const routed = [
        '/v1/webhooks/stripe',
        '/v1/Webhooks/stripe',
        '/v1/WEBHOOKS/STRIPE',
        '/V1/webhooks/Stripe',
        '/v1/webhooks/stripe/',
        '/v1/Webhooks/stripe/?x=1',
      ];
      const notRouted = [
        '/v1//webhooks/stripe',
        '//v1/webhooks/stripe',
        '/v1/webhooks//stripe',
        '/v1/%77ebhooks/stripe',
        '/v1/webhooks/%73tripe',
        '/v1%2Fwebhooks/stripe',
        '/v1/./webhooks/stripe',
        '/v1/x/../Webhooks/stripe',
      ];
      const answers: Record<string, string> = {};
      for (const path of [...routed, ...notRouted]) {
        const a = await raw(store.url, 'POST', path, payload, headers);
        answers[path] = a.status === 200 ? `200 ${JSON.parse(a.body).received}` : `${a.status} ${code(a)}`;
      }
      expect(answers).toEqual({
        ...Object.fromEntries(routed.map((p) => [p, '200 true'])),
        ...Object.fromEntries(notRouted.map((p) => [p, '404 route_not_found'])),
      });
      // A body that is not even JSON, under a spelling the old exclusion missed: the signature check answers.
      const junk = await raw(store.url, 'POST', '/v1/Webhooks/Stripe', 'not json', {
        'stripe-signature': 't=1,v1=00',
      });
      expect([junk.status, code(junk)]).toEqual([400, 'webhook_signature_invalid']);
    });

    it('takes chart uploads and provenance under any case of their paths, in ChartMuseum shape', async () => {
      const auth = { authorization: `Bearer ${pub.apiToken}`, 'content-type': 'application/octet-stream' };
      const one = await raw(
        store.url,
        'POST',
        `/API/${pub.slug}/Charts`,
        await simpleChart('edgeone', '1.0.0'),
        auth,
        5000,
      );
      expect([one.status, one.body]).toEqual([201, '{"saved":true}']);
      const two = await raw(
        store.url,
        'POST',
        `/Helm/${pub.slug}/Api/charts/`,
        await simpleChart('edgetwo', '1.0.0'),
        auth,
        5000,
      );
      expect([two.status, two.body]).toEqual([201, '{"saved":true}']);
      const denied = await raw(store.url, 'POST', `/API/${pub.slug}/prov`, 'x', {});
      expect(denied.status).toBe(401);
      expect(JSON.parse(denied.body)).toEqual({ error: expect.any(String), code: 'auth_required' });
      const pay = await raw(store.url, 'POST', '/Checkout/Local/nope/Pay', 'a=b', {
        'content-type': 'application/x-www-form-urlencoded',
      });
      expect(pay.status).toBe(404);
    });
  });
});

describe('/metrics is not public', () => {
  const TOKEN = 'metrics-token-0123456789abcdef0123456789';
  const production = {
    NODE_ENV: 'production',
    ACCESS_TOKEN_SECRET: 'a'.repeat(40),
    LICENSE_SIGNING_SECRET: 'l'.repeat(40),
    ALLOW_LOCAL_PAYMENTS: 'true',
    TRUST_PROXY: 'false',
  };
  const stores: InProcessStore[] = [];
  const start = async (env: Record<string, string>) => {
    const s = await startInProcess('postgres', env);
    stores.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of stores) await s.close();
  });
  const scrape = async (url: string, authorization?: string) => {
    const res = await fetch(url, { headers: authorization ? { authorization } : {} });
    const text = await res.text();
    return { status: res.status, text };
  };
  const errorCode = (text: string) => (JSON.parse(text) as { error: { code: string } }).error.code;

  it('in production with neither METRICS_PORT nor METRICS_TOKEN: 404 on the public port; health stays public', async () => {
    const store = await start(production);
    const m = await scrape(`${store.url}/metrics`);
    expect([m.status, errorCode(m.text)]).toEqual([404, 'route_not_found']);
    expect(m.text).not.toContain('berth_http_requests_total');
    expect((await fetch(`${store.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${store.url}/readyz`)).status).toBe(200);
  });

  it('with METRICS_TOKEN: the bearer token and nothing else reads them', async () => {
    const store = await start({ ...production, METRICS_TOKEN: TOKEN });
    for (const authorization of [
      undefined,
      `Bearer ${TOKEN.slice(0, -1)}`,
      `Bearer ${TOKEN}x`,
      `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`,
    ]) {
      const denied = await scrape(`${store.url}/metrics`, authorization);
      expect({ authorization, status: denied.status, code: errorCode(denied.text) }).toEqual({
        authorization,
        status: 401,
        code: 'metrics_token_required',
      });
      expect(denied.text).not.toContain(TOKEN);
    }
    const ok = await scrape(`${store.url}/metrics`, `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('berth_http_requests_total');
    expect((await fetch(`${store.url}/healthz`)).status).toBe(200);
  });

  it('with METRICS_PORT: only that port serves them (behind the token when set)', async () => {
    const store = await start({ ...production, METRICS_PORT: '0', METRICS_TOKEN: TOKEN });
    const port = store.app.get(MetricsServer).port;
    expect(port).toEqual(expect.any(Number));
    expect(port).not.toBe(Number(new URL(store.url).port));
    const publicPort = await scrape(`${store.url}/metrics`, `Bearer ${TOKEN}`);
    expect([publicPort.status, errorCode(publicPort.text)]).toEqual([404, 'route_not_found']);
    const own = `http://127.0.0.1:${port}`;
    expect((await scrape(`${own}/metrics`)).status).toBe(401);
    expect((await scrape(`${own}/metrics`, `Bearer ${TOKEN.toUpperCase()}`)).status).toBe(401);
    const ok = await scrape(`${own}/metrics?x=1`, `Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('berth_http_requests_total');
    expect((await scrape(`${own}/healthz`, `Bearer ${TOKEN}`)).status).toBe(404);
    expect((await scrape(`${own}/v1/catalog`, `Bearer ${TOKEN}`)).status).toBe(404);
  });

  it('outside production with neither set: served on the public port as before (a laptop)', async () => {
    const store = await start({});
    const m = await scrape(`${store.url}/metrics`);
    expect(m.status).toBe(200);
    expect(m.text).toContain('process_resident_memory_bytes');
  });
});
