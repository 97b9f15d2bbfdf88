import { Client } from 'pg';
import { DownloadCounter } from '@berth/analytics';
import { createPublisher, Publisher, publishChart, uploadChart } from '../support/api';
import { simpleChart } from '../support/charts';
import { DatabaseKind, InProcessStore, startInProcess } from '../support/in-process';

describe.each(['postgres', 'embedded'] as DatabaseKind[])('download counts on %s', (kind) => {
  let store: InProcessStore;
  let acme: Publisher;
  const pull = (file: string, init: RequestInit = {}) => fetch(`${store.url}/helm/acme/charts/${file}`, init);
  const page = async (path: string) =>
    (await fetch(`${store.url}${path}`, { headers: { accept: 'text/html' } })).text();

  beforeAll(async () => {
    store = await startInProcess(kind);
    acme = await createPublisher(store.url, 'acme');
    await publishChart(store.url, acme, 'superdb', await simpleChart('superdb', '1.0.0'), 0);
    expect(
      (await uploadChart(store.url, 'acme', acme.apiToken, await simpleChart('superdb', '1.1.0'))).status,
    ).toBe(201);
    await publishChart(store.url, acme, 'tools', await simpleChart('tools', '0.1.0'), 0);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  it('counts archive downloads from both lanes, not HEAD or 304, and the pages show them', async () => {
    // The first pull of a file takes the full path and fills the caches; the rest come from the pull lane.
    for (let i = 0; i < 5; i++) expect((await pull('superdb-1.1.0.tgz')).status).toBe(200);
    expect((await pull('superdb-1.0.0.tgz')).status).toBe(200);
    expect((await pull('tools-0.1.0.tgz')).status).toBe(200);
    const etag = (await pull('tools-0.1.0.tgz')).headers.get('etag')!;
    expect((await pull('tools-0.1.0.tgz', { method: 'HEAD' })).status).toBe(200);
    expect((await pull('tools-0.1.0.tgz', { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await pull('superdb-9.9.9.tgz')).status).toBe(404);
    await store.app.get(DownloadCounter).flush();

    const chart = await page('/charts/acme/superdb');
    expect(chart).toContain('6 downloads');
    const cells = [
      ...chart.matchAll(
        />(1\.[01]\.0)<\/a>[\s\S]*?<td>[^<]*<\/td><td>[\s\S]*?<\/td><td>[^<]*<\/td><td>(\d+)<\/td>/g,
      ),
    ].map((m) => [m[1], m[2]]);
    expect(cells).toEqual([
      ['1.1.0', '5'],
      ['1.0.0', '1'],
    ]);
    const home = await page('/');
    const popular = home.slice(home.indexOf('<h2>Most downloaded</h2>'));
    expect(popular.indexOf('>superdb</a>')).toBeGreaterThan(0);
    expect(popular.indexOf('>superdb</a>')).toBeLessThan(popular.indexOf('>tools</a>'));
    expect(popular).toContain('6 downloads in 30 days');
    expect(popular).toContain('2 downloads in 30 days');
  });
});

describe('download counts at shutdown', () => {
  let store: InProcessStore;
  afterAll(async () => {
    await store?.db?.drop();
  });

  it('writes what it counted when the store shuts down gracefully', async () => {
    store = await startInProcess('postgres');
    const acme = await createPublisher(store.url, 'acme');
    await publishChart(store.url, acme, 'tools', await simpleChart('tools', '0.1.0'), 0);
    const pull = (file: string) => fetch(`${store.url}/helm/acme/charts/${file}`);
    for (let i = 0; i < 3; i++) expect((await pull('tools-0.1.0.tgz')).status).toBe(200);
    await store.app.close();
    const db = new Client({ connectionString: store.db!.url });
    await db.connect();
    try {
      const { rows } = await db.query(
        `SELECT version, sum(pulls)::int AS pulls FROM chart_download_daily GROUP BY version ORDER BY version`,
      );
      // Never flushed before: the interval is 10 s, and nothing asked for a flush.
      expect(rows).toEqual([{ version: '0.1.0', pulls: 3 }]);
    } finally {
      await db.end();
    }
  });
});
