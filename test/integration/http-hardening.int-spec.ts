import { InProcessStore, startInProcess } from '../support/in-process';

jest.setTimeout(60_000);

describe('HTTP hardening that depends on configuration', () => {
  let store: InProcessStore;

  beforeAll(async () => {
    store = await startInProcess('postgres', {
      CORS_ORIGINS: 'https://shop.example, https://admin.example/',
      AUTH_FAILURES_PER_CLIENT: '3',
      AUTH_FAILURES_PER_CREDENTIAL: '100',
      AUTH_FAILURE_WINDOW_SECONDS: '30',
    });
  });
  afterAll(async () => store?.close());

  it('answers CORS for the configured origins only', async () => {
    const allowed = await fetch(`${store.url}/v1/catalog`, { headers: { origin: 'https://shop.example' } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://shop.example');
    expect(allowed.headers.get('vary')).toMatch(/Origin/i);
    const trailingSlashConfigured = await fetch(`${store.url}/v1/catalog`, {
      headers: { origin: 'https://admin.example' },
    });
    expect(trailingSlashConfigured.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    const preflight = await fetch(`${store.url}/v1/publishers/acme/tokens`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
    expect(preflight.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    for (const origin of ['https://evil.example', 'https://shop.example.evil.example', 'null']) {
      const refused = await fetch(`${store.url}/v1/catalog`, { headers: { origin } });
      expect({ origin, acao: refused.headers.get('access-control-allow-origin') }).toEqual({
        origin,
        acao: null,
      });
    }
  });

  it('does not let an untrusted X-Forwarded-For dodge the per-client limit', async () => {
    // The counts live in fixed windows aligned to the clock (30 s here): five guesses that straddle a
    // window's end would be counted in two windows. Start well inside one.
    const into = (Date.now() / 1000) % 30;
    if (into > 25) await new Promise((r) => setTimeout(r, (30 - into) * 1000 + 200));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${store.url}/api/acme/charts`, {
        headers: { authorization: `Bearer berth_pat_guess${i}`, 'x-forwarded-for': `203.0.113.${i}` },
      });
      statuses.push(res.status);
    }
    // TRUST_PROXY is off: every guess counts against the one real peer, 127.0.0.1.
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
  });
});
