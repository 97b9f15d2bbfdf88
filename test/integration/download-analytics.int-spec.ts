import { DownloadCounter } from '@berth/analytics';
import { DataSource } from 'typeorm';
import {
  basicAuth,
  bearer,
  createPublisher,
  Publisher,
  publishChart,
  statusAndCode,
  uploadChart,
} from '../support/api';
import { simpleChart } from '../support/charts';
import { buyerEmail, buyLocally } from '../support/checkout';
import { InProcessStore, startInProcess } from '../support/in-process';

interface LicenseItem {
  id: string;
  downloads: {
    pulls: number;
    firstPullOn: string | null;
    lastPullOn: string | null;
    distinctClients30d: number;
    distinctClientsLastDay: number;
    sharingSuspected: boolean;
  };
}

describe('download analytics per license, version and day', () => {
  let store: InProcessStore;
  let db: DataSource;
  let acme: Publisher;
  let other: Publisher;
  const today = new Date().toISOString().slice(0, 10);

  const pull = (file: string, headers: Record<string, string> = {}) =>
    fetch(`${store.url}/helm/acme/charts/${file}`, { headers }).then(async (r) => {
      await r.arrayBuffer();
      return r.status;
    });
  const get = (path: string, p: Publisher = acme) =>
    fetch(`${store.url}/v1/publishers/${p.slug}${path}`, { headers: bearer(p.apiToken) });
  const flush = () => store.app.get(DownloadCounter).flush();

  beforeAll(async () => {
    store = await startInProcess('postgres', { LICENSE_SHARING_THRESHOLD: '1' });
    db = store.app.get(DataSource);
    acme = await createPublisher(store.url, 'acme', [
      'charts:read',
      'charts:write',
      'listings:write',
      'licenses:read',
    ]);
    other = await createPublisher(store.url, 'other', ['charts:read', 'charts:write', 'listings:write']);
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 4900);
    expect(
      (await uploadChart(store.url, 'acme', acme.apiToken, await simpleChart('superdb', '1.1.0'))).status,
    ).toBe(201);
    await publishChart(store.url, acme, 'tools', await simpleChart('tools', '2.0.0'), 0);
  }, 60_000);
  afterAll(() => store?.close());

  it('counts pulls per license with its distinct clients, anonymous pulls, and index fetches apart', async () => {
    const a = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: buyerEmail('a') });
    const b = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: buyerEmail('b') });
    const asA = (ua: string) => ({ ...basicAuth(a.id, a.key), 'user-agent': ua });
    // Seven pulls with license A from two clients (one address, two user agents); one with B; three anonymous.
    for (let i = 0; i < 5; i++) expect(await pull('superdb-1.0.0.tgz', asA('Helm/3.21.4'))).toBe(200);
    for (let i = 0; i < 2; i++) expect(await pull('superdb-1.1.0.tgz', asA('Helm/4.2.4'))).toBe(200);
    expect(await pull('superdb-1.1.0.tgz', { ...basicAuth(b.id, b.key), 'user-agent': 'Helm/3.21.4' })).toBe(
      200,
    );
    for (let i = 0; i < 3; i++) expect(await pull('tools-2.0.0.tgz')).toBe(200);
    // Neither a HEAD nor a refused pull is a download.
    expect((await fetch(`${store.url}/helm/acme/charts/tools-2.0.0.tgz`, { method: 'HEAD' })).status).toBe(
      200,
    );
    expect(await pull('superdb-1.0.0.tgz')).toBe(401);
    // Index fetches: two anonymous (the second a 304), one with license A.
    const first = await fetch(`${store.url}/helm/acme/index.yaml`);
    await first.arrayBuffer();
    const again = await fetch(`${store.url}/helm/acme/index.yaml`, {
      headers: { 'if-none-match': first.headers.get('etag')! },
    });
    expect([first.status, again.status]).toEqual([200, 304]);
    expect(
      (await fetch(`${store.url}/helm/acme/index.yaml`, { headers: basicAuth(a.id, a.key) })).status,
    ).toBe(200);
    await flush();

    const licenses = (await (await get('/licenses')).json()) as { licenses: LicenseItem[] };
    const byId = new Map(licenses.licenses.map((l) => [l.id, l.downloads]));
    expect(byId.get(a.id)).toEqual({
      pulls: 7,
      firstPullOn: today,
      lastPullOn: today,
      distinctClients30d: 2,
      distinctClientsLastDay: 2,
      sharingSuspected: true, // 2 clients > LICENSE_SHARING_THRESHOLD=1
    });
    expect(byId.get(b.id)).toMatchObject({ pulls: 1, distinctClientsLastDay: 1, sharingSuspected: false });

    const all = (await (await get('/analytics/downloads')).json()) as {
      from: string;
      to: string;
      pulls: unknown[];
      indexFetches: unknown[];
    };
    expect(all.to).toBe(today);
    expect(all.pulls).toEqual([
      { day: today, chart: 'superdb', version: '1.0.0', pulls: 5 },
      { day: today, chart: 'superdb', version: '1.1.0', pulls: 3 },
      { day: today, chart: 'tools', version: '2.0.0', pulls: 3 },
    ]);
    expect(all.indexFetches).toEqual([
      { day: today, audience: 'license', fetches: 1 },
      { day: today, audience: 'public', fetches: 2 },
    ]);
    const onlyA = (await (await get(`/analytics/downloads?license=${a.id}`)).json()) as { pulls: unknown[] };
    expect(onlyA.pulls).toEqual([
      { day: today, chart: 'superdb', version: '1.0.0', pulls: 5 },
      { day: today, chart: 'superdb', version: '1.1.0', pulls: 2 },
    ]);
    const tools = (await (await get('/analytics/downloads?chart=tools')).json()) as DownloadsJson;
    expect([tools.pulls, tools.indexFetches]).toEqual([
      [{ day: today, chart: 'tools', version: '2.0.0', pulls: 3 }],
      [],
    ]);

    // Clients are kept as keyed hashes only: no address and no user agent anywhere in the table.
    const rows = JSON.stringify(await db.query(`SELECT * FROM download_client_daily`));
    expect(rows).not.toMatch(/127\.0\.0\.1|::1|Helm\//);
    expect(await db.query(`SELECT count(*)::int AS n FROM download_client_daily`)).toEqual([{ n: 4 }]);
  });

  it('keeps client hashes for the retention window only', async () => {
    await db.query(
      `INSERT INTO download_client_daily (day, chart_id, license_id, client)
       VALUES (current_date - 91, gen_random_uuid(), gen_random_uuid(), 'old-client-hash-000000'),
              (current_date - 89, gen_random_uuid(), gen_random_uuid(), 'kept-client-hash-00000')`,
    );
    await store.app.get(DownloadCounter).purge();
    const left = (await db.query(
      `SELECT client FROM download_client_daily WHERE client LIKE '%client-hash%'`,
    )) as Array<{
      client: string;
    }>;
    expect(left.map((r) => r.client)).toEqual(['kept-client-hash-00000']);
  });

  it('refuses bad ranges, foreign licenses and tokens without charts:read', async () => {
    expect(await statusAndCode(await get('/analytics/downloads?from=2026-12-02&to=2026-12-01'))).toEqual([
      400,
      'date_range_invalid',
    ]);
    expect(await statusAndCode(await get('/analytics/downloads?from=2025-01-01&to=2026-12-01'))).toEqual([
      400,
      'date_range_invalid',
    ]);
    expect(await statusAndCode(await get('/analytics/downloads?from=yesterday'))).toEqual([
      400,
      'validation_failed',
    ]);
    const theirs = await buyLocally(store.url, {
      publisher: 'acme',
      chart: 'superdb',
      email: buyerEmail('t'),
    });
    expect(await statusAndCode(await get(`/analytics/downloads?license=${theirs.id}`, other))).toEqual([
      404,
      'license_not_found',
    ]);
    const noScope = await createPublisher(store.url, 'noscope', ['charts:write']);
    expect(await statusAndCode(await get('/analytics/downloads', noScope))).toEqual([
      403,
      'token_scope_missing',
    ]);
  });
});

interface DownloadsJson {
  pulls: unknown[];
  indexFetches: unknown[];
}

describe('with DOWNLOAD_COUNTING=off', () => {
  let store: InProcessStore;

  beforeAll(async () => {
    store = await startInProcess('postgres', { DOWNLOAD_COUNTING: 'off' });
  }, 60_000);
  afterAll(() => store?.close());

  it('serves pulls and indexes as ever and counts none of them', async () => {
    const acme = await createPublisher(store.url, 'acme', ['charts:write', 'listings:write']);
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 4900);
    await publishChart(store.url, acme, 'tools', await simpleChart('tools', '2.0.0'), 0);
    const a = await buyLocally(store.url, { publisher: 'acme', chart: 'superdb', email: buyerEmail('off') });
    for (const [file, headers] of [
      ['superdb-1.0.0.tgz', basicAuth(a.id, a.key)],
      ['tools-2.0.0.tgz', {}],
    ] as const) {
      const r = await fetch(`${store.url}/helm/acme/charts/${file}`, { headers });
      expect(r.status).toBe(200);
      await r.arrayBuffer();
    }
    const idx = await fetch(`${store.url}/helm/acme/index.yaml`);
    expect(idx.status).toBe(200);
    await idx.arrayBuffer();
    await store.app.get(DownloadCounter).flush();
    const db = store.app.get(DataSource);
    for (const table of [
      'chart_download_daily',
      'license_download_daily',
      'download_client_daily',
      'index_fetch_daily',
    ])
      expect([table, await db.query(`SELECT 1 FROM ${table}`)]).toEqual([table, []]);
  });
});
