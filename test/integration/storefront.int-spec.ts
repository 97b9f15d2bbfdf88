import { createPublisher, Publisher, publishChart, putListing, uploadChart } from '../support/api';
import { fixtureCharts, HOSTILE_README, provFor, simpleChart, tarGz } from '../support/charts';
import { buyerEmail } from '../support/checkout';
import { InProcessStore, startInProcess } from '../support/in-process';

const PAGE_CSP_DIRECTIVES = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
};

const html = (res: Response) => res.text();
const page = (store: InProcessStore, path: string, headers: Record<string, string> = {}) =>
  fetch(`${store.url}${path}`, { headers: { accept: 'text/html', ...headers }, redirect: 'manual' });
/** The chart names a results page links to, in order. */
const resultNames = (body: string) =>
  [...body.matchAll(/<li class="card"><h3>(?:<img[^>]*>)?<a href="\/charts\/[^/]+\/([^"]+)">/g)].map(
    (m) => m[1],
  );

describe('storefront pages', () => {
  let store: InProcessStore;
  let acme: Publisher;
  let prom: Publisher;

  beforeAll(async () => {
    store = await startInProcess('postgres', { PUBLIC_URL: 'http://store.example.test' });
    prom = await createPublisher(store.url, 'promco', ['charts:write', 'listings:write']);
    acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write']);
    // Every fixture chart, free, under one publisher: real READMEs, values and schemas.
    for (const { bytes, file } of fixtureCharts()) {
      const up = await uploadChart(store.url, prom.slug, prom.apiToken, bytes);
      expect([file, up.status]).toEqual([file, 201]);
      const name = file.replace(/-\d+\.\d+\.\d+[^/]*\.tgz$/, '');
      expect((await putListing(store.url, prom.slug, prom.apiToken, name)).status).toBe(200);
    }
    const v1 = await simpleChart('superdb', '1.0.0', {
      'Chart.yaml':
        'apiVersion: v2\nname: superdb\nversion: 1.0.0\ndescription: A database for metrics\nkeywords: [database, storage]\n' +
        'annotations:\n  artifacthub.io/changes: |\n    - kind: added\n      description: First release\n',
    });
    await publishChart(store.url, acme, 'superdb', v1, 4900);
    const v2 = await tarGz([
      {
        name: 'superdb/Chart.yaml',
        content:
          'apiVersion: v2\nname: superdb\nversion: 1.1.0\ndescription: A database for metrics\nkeywords: [database, storage]\n' +
          'annotations:\n  artifacthub.io/changes: |\n    - Faster compaction\n',
      },
      { name: 'superdb/values.yaml', content: 'replicas: 3\nstorage: 10Gi\n' },
      {
        name: 'superdb/values.schema.json',
        content: JSON.stringify({
          type: 'object',
          required: ['replicas'],
          properties: {
            replicas: { type: 'integer', default: 3, description: 'How many <b>pods</b>' },
            storage: { type: 'object', properties: { size: { type: 'string', default: '10Gi' } } },
          },
        }),
      },
      { name: 'superdb/README.md', content: HOSTILE_README },
    ]);
    expect((await uploadChart(store.url, acme.slug, acme.apiToken, v2)).status).toBe(201);
    const prov = await fetch(`${store.url}/api/acme/prov`, {
      method: 'POST',
      headers: { authorization: `Bearer ${acme.apiToken}` },
      body: provFor('superdb', '1.1.0', v2),
    });
    expect(prov.status).toBe(201);
    // A draft (never published) must never show.
    expect(
      (await uploadChart(store.url, acme.slug, acme.apiToken, await simpleChart('secretdb', '1.0.0'))).status,
    ).toBe(201);
  }, 120_000);
  afterAll(() => store?.close());

  it('serves the home page with the newest charts and the publishers, under a strict CSP', async () => {
    const res = await page(store, '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const csp = Object.fromEntries(
      (res.headers.get('content-security-policy') ?? '').split(';').map((d) => {
        const [name, ...values] = d.trim().split(/\s+/);
        return [name, values];
      }),
    );
    expect(csp).toMatchObject(PAGE_CSP_DIRECTIVES);
    const body = await html(res);
    expect(body).toContain('>superdb</a>');
    expect(body).toContain('href="/publishers/promco"');
    expect(body).not.toContain('secretdb');
    expect(body).not.toMatch(/<style|style="/);
    // Cacheable for anyone, and revalidated by ETag.
    expect(res.headers.get('cache-control')).toBe('public, max-age=60');
    const etag = res.headers.get('etag')!;
    expect((await page(store, '/', { 'if-none-match': etag })).status).toBe(304);
  });

  it('serves the stylesheet and script it names, cached for good', async () => {
    const body = await html(await page(store, '/'));
    for (const [, path] of body.matchAll(/(?:href|src)="(\/assets\/berth-[0-9a-f]{12}\.(?:css|js|svg))"/g)) {
      const res = await fetch(`${store.url}${path}`);
      expect([path, res.status]).toEqual([path, 200]);
      expect(res.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    }
    expect((await fetch(`${store.url}/assets/berth-000000000000.css`)).status).toBe(404);
  });

  it('ranks name matches first, finds charts by publisher name, filters by price and pages stably', async () => {
    const byName = resultNames(await html(await page(store, '/charts?q=alertmanager')));
    expect(byName[0]).toBe('alertmanager');
    expect(byName).toContain('alertmanager-snmp-notifier');
    // A prefix finds whole words while the visitor types.
    expect(resultNames(await html(await page(store, '/charts?q=alertman')))[0]).toBe('alertmanager');
    // "metrics" is in superdb's description only; "acme" is its publisher's name.
    expect(resultNames(await html(await page(store, '/charts?q=acme')))).toEqual(['superdb']);
    expect(resultNames(await html(await page(store, '/charts?price=paid')))).toEqual(['superdb']);
    const free = await html(await page(store, '/charts?price=free'));
    expect(resultNames(free)).not.toContain('superdb');
    const all: string[] = [];
    for (let p = 1; ; p++) {
      const names = resultNames(await html(await page(store, `/charts?page=${p}`)));
      if (!names.length) break;
      all.push(...names);
    }
    expect(all).toHaveLength(fixtureCharts().length + 1);
    expect(new Set(all).size).toBe(all.length);
  });

  it('answers any search words with results or an empty page, never an error', async () => {
    const inputs = [
      '%',
      '_',
      '\\',
      `"'`,
      "a' OR 1=1 --",
      '!(&|):*',
      'x'.repeat(10_000),
      '🚀 prometheus',
      '\u0000',
    ];
    for (const q of inputs) {
      const res = await page(store, `/charts?q=${encodeURIComponent(q)}`);
      expect([q.slice(0, 20), res.status]).toEqual([q.slice(0, 20), 200]);
    }
    expect(resultNames(await html(await page(store, '/charts?q=%F0%9F%9A%80%20prometheus')))).toContain(
      'prometheus',
    );
    const api = await fetch(`${store.url}/v1/catalog?q=${encodeURIComponent('!(&|):*')}`);
    expect(api.status).toBe(200);
  });

  it('shows a chart: README, values, schema, versions with changes, signed badge, coverage and Buy', async () => {
    const res = await page(store, '/charts/acme/superdb');
    expect(res.status).toBe(200);
    const body = await html(res);
    expect(body).toContain('<h1>superdb <span class="muted">1.1.0</span></h1>');
    expect(body).toContain('signed');
    expect(body).toContain('49.00 USD');
    expect(body).toContain('Every version, and every future release.');
    expect(body).toContain('replicas: 3');
    expect(body).toContain('<code>storage.size</code>');
    expect(body).toContain('How many &lt;b&gt;pods&lt;/b&gt;');
    expect(body).toContain('Faster compaction');
    expect(body).toContain('First release');
    expect(body).toMatch(/<form class="buy" method="post" action="\/charts\/acme\/superdb\/buy">/);
    // An older version has its own page, and its values compare with the newest.
    const old = await html(await page(store, '/charts/acme/superdb/1.0.0?compare=1.1.0'));
    expect(old).toContain('This is an older version');
    expect(old).toContain('<span class="del">− replicas: 3</span>');
    expect(old).toContain('<span class="add">+ replicas: 1</span>');
    // A free chart gets the commands instead.
    const free = await html(await page(store, '/charts/promco/prometheus'));
    expect(free).toContain('helm repo add promco http://store.example.test/helm/promco');
    expect(free).toContain('helm install prometheus promco/prometheus');
  });

  it("renders a publisher's hostile README as text: no script, no handler, no javascript: or data: link", async () => {
    const body = await html(await page(store, '/charts/acme/superdb'));
    const readme = body.slice(body.indexOf('<div class="readme">'), body.indexOf('id="values-h"'));
    // Inside a tag, not in escaped text (which shows the attempt as text: that is the point).
    expect(readme).not.toMatch(/<script|<svg|<[a-z][^>]*\son\w+\s*=/i);
    expect(readme).not.toMatch(/href="(?!https?:)/i);
    expect(readme).toContain('&lt;script&gt;window.pwned = 1&lt;/script&gt;');
    expect(readme).toContain(
      '<a href="https://example.com/docs" rel="nofollow ugc noopener noreferrer">ok</a>',
    );
    expect(readme).toContain('<img src="https://cdn.example/logo.png"');
    expect(readme).not.toContain('tracker.example');
    // The page's only script is the store's own file.
    expect([...body.matchAll(/<script[^>]*>/g)].map((m) => m[0])).toEqual([
      expect.stringMatching(/^<script src="\/assets\/berth-[0-9a-f]{12}\.js" defer>$/),
    ]);
  });

  it('buys from the chart page: a bad address shows the form again, a good one goes to the pay page', async () => {
    const form = (email: string) =>
      fetch(`${store.url}/charts/acme/superdb/buy`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'text/html' },
        body: new URLSearchParams({ email }).toString(),
        redirect: 'manual',
      });
    const bad = await form('not-an-address');
    expect(bad.status).toBe(400);
    expect(bad.headers.get('cache-control')).toBe('private, no-store');
    const badBody = await html(bad);
    expect(badBody).toContain('role="alert"');
    expect(badBody).toContain('value="not-an-address"');
    const good = await form(buyerEmail('page'));
    expect(good.status).toBe(303);
    const pay = new URL(good.headers.get('location')!);
    expect(pay.pathname).toMatch(/^\/checkout\/local\/local_cs_/);
    const payPage = await page(store, pay.pathname);
    expect(payPage.status).toBe(200);
    expect(await html(payPage)).toContain('Pay 49.00 USD');
    expect(
      (await fetch(`${store.url}/charts/acme/freedb/buy`, { method: 'POST', redirect: 'manual' })).status,
    ).toBe(404);
  });

  it('answers unknown pages with a page for browsers and JSON for programs', async () => {
    const missing = await page(store, '/charts/acme/nothing');
    expect(missing.status).toBe(404);
    expect(await html(missing)).toContain('<h1>Not found</h1>');
    expect((await page(store, '/charts/acme/secretdb')).status).toBe(404);
    expect((await page(store, '/charts/nobody/superdb')).status).toBe(404);
    expect((await page(store, '/charts/acme/superdb/9.9.9')).status).toBe(404);
    const unrouted = await page(store, '/no/such/page');
    expect(unrouted.status).toBe(404);
    expect(unrouted.headers.get('content-type')).toMatch(/^text\/html/);
    const json = await fetch(`${store.url}/no/such/page`);
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    const api = await fetch(`${store.url}/v1/nothing`, { headers: { accept: 'text/html' } });
    expect(api.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('shows a change at once on pages it had served from memory: new version, new chart, unpublished', async () => {
    const pub = await createPublisher(store.url, 'fresh', ['charts:write', 'listings:write']);
    await publishChart(store.url, pub, 'nimbus', await simpleChart('nimbus', '1.0.0'), 0);
    // Served twice each: the second answer comes from the rendered-page cache.
    for (let i = 0; i < 2; i++) {
      expect(await html(await page(store, '/charts/fresh/nimbus'))).toContain(
        '<span class="muted">1.0.0</span>',
      );
      expect(resultNames(await html(await page(store, '/charts?q=nimbus')))).toEqual(['nimbus']);
      expect(await html(await page(store, '/'))).toContain('href="/charts/fresh/nimbus"');
    }
    const cached = await page(store, '/charts/fresh/nimbus');
    const etag = cached.headers.get('etag')!;
    expect((await page(store, '/charts/fresh/nimbus', { 'if-none-match': etag })).status).toBe(304);

    expect(
      (await uploadChart(store.url, pub.slug, pub.apiToken, await simpleChart('nimbus', '1.1.0'))).status,
    ).toBe(201);
    const after = await page(store, '/charts/fresh/nimbus');
    expect(after.headers.get('etag')).not.toBe(etag);
    expect(await html(after)).toContain('<span class="muted">1.1.0</span>');
    await publishChart(store.url, pub, 'stratus', await simpleChart('stratus', '1.0.0'), 0);
    expect(await html(await page(store, '/'))).toContain('href="/charts/fresh/stratus"');
    expect(resultNames(await html(await page(store, '/charts?q=stratus')))).toEqual(['stratus']);

    const unpublished = await putListing(store.url, pub.slug, pub.apiToken, 'nimbus', {
      price: { amount: 0, currency: 'usd' },
      updatePolicy: { kind: 'all' },
      published: false,
    });
    expect(unpublished.status).toBe(200);
    expect((await page(store, '/charts/fresh/nimbus')).status).toBe(404);
    expect(resultNames(await html(await page(store, '/charts?q=nimbus')))).toEqual([]);
    expect(await html(await page(store, '/'))).not.toContain('href="/charts/fresh/nimbus"');
  });
});

describe('storefront search on the embedded database (PGlite)', () => {
  let store: InProcessStore;
  afterAll(() => store?.close());

  it('ranks and filters with the same full-text index', async () => {
    store = await startInProcess('embedded', { PUBLIC_URL: 'http://store.example.test' });
    const pub = await createPublisher(store.url, 'lite', ['charts:write', 'listings:write']);
    for (const [name, description] of [
      ['vault', 'Secrets in a box'],
      ['vault-agent', 'Sidecar for vault'],
      ['ledger', 'Keeps a vault of entries'],
    ]) {
      const chart = await simpleChart(name, '1.0.0', {
        'Chart.yaml': `apiVersion: v2\nname: ${name}\nversion: 1.0.0\ndescription: ${description}\n`,
      });
      await publishChart(store.url, pub, name, chart, name === 'ledger' ? 1500 : 0);
    }
    expect(resultNames(await html(await page(store, '/charts?q=vault')))).toEqual([
      'vault',
      'vault-agent',
      'ledger',
    ]);
    expect(resultNames(await html(await page(store, '/charts?q=vault&price=paid')))).toEqual(['ledger']);
    expect(resultNames(await html(await page(store, '/charts?q=lite')))).toHaveLength(3);
    expect((await page(store, `/charts?q=${encodeURIComponent("'%_\\")}`)).status).toBe(200);
  }, 60_000);
});
