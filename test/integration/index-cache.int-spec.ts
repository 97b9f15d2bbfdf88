import { get, request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { createPublisher, Publisher, putListing, uploadChart } from '../support/api';
import { provFor, simpleChart } from '../support/charts';
import { DatabaseKind, InProcessStore, startInProcess } from '../support/in-process';

type Index = {
  apiVersion: string;
  entries: Record<string, Array<{ version: string }>>;
  generated: string;
  serverInfo: { contextPath: string };
};
/** fetch() would decompress: the raw bytes and headers as sent. */
const rawGet = (url: string, headers: Record<string, string>) =>
  new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    get(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
/** Any method, raw: status, headers and the bytes as sent. */
const rawCall = (url: string, method: string, headers: Record<string, string>) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
    request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    })
      .on('error', reject)
      .end();
  });
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/**
 * The index is kept as per-chart fragments and license keys as verified digests. These tests pin what
 * that must never change (the bytes, and that every change shows at once) and what it must save (a
 * change re-renders one chart; a repeated pull skips the signature check), read from /metrics.
 */
describe.each<DatabaseKind>(['postgres', 'embedded'])('cached index and license checks on %s', (kind) => {
  let store: InProcessStore;
  let pub: Publisher;
  const CHARTS = 12;

  const raw = async (slug = 'acme', headers: Record<string, string> = {}) => {
    const res = await fetch(`${store.url}/helm/${slug}/index.yaml`, {
      headers: { 'accept-encoding': 'identity', ...headers },
    });
    return { res, text: await res.text() };
  };
  const index = async (headers: Record<string, string> = {}) =>
    JSON.parse((await raw('acme', headers)).text) as Index;
  /** A complimentary license from the publisher, as a buyer would hold it. */
  const grant = (body: { chart: string; email: string; versionRange?: string }) =>
    fetch(`${store.url}/v1/publishers/acme/licenses`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pub.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const metric = async (name: string, labels = '') => {
    const text = await (await fetch(`${store.url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
    return line ? Number(line.split(' ')[1]) : 0;
  };

  beforeAll(async () => {
    store = await startInProcess(kind);
    pub = await createPublisher(store.url, 'acme', [
      'charts:read',
      'charts:write',
      'listings:write',
      'licenses:read',
      'licenses:write',
    ]);
    for (let i = 0; i < CHARTS; i++) {
      const name = `chart-${String(i).padStart(2, '0')}`;
      for (const v of ['1.0.0', '1.1.0'])
        expect((await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart(name, v))).status).toBe(
          201,
        );
      expect((await putListing(store.url, 'acme', pub.apiToken, name)).status).toBe(200);
    }
    expect(
      (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart('paid', '1.0.0'))).status,
    ).toBe(201);
    expect(
      (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart('paid', '2.0.0'))).status,
    ).toBe(201);
    const listed = await putListing(store.url, 'acme', pub.apiToken, 'paid', {
      price: { amount: 900, currency: 'usd' },
      updatePolicy: { kind: 'major' },
      published: true,
    });
    expect(listed.status).toBe(200);
  }, 120_000);
  afterAll(async () => store?.close());

  it('serves the exact bytes one JSON.stringify of the whole index gives, with a stable ETag and gzip of the same bytes', async () => {
    const first = await raw();
    const body = JSON.parse(first.text) as Index;
    expect(Object.keys(body.entries)).toEqual(
      Array.from({ length: CHARTS }, (_, i) => `chart-${String(i).padStart(2, '0')}`),
    );
    expect(JSON.stringify(body)).toBe(first.text);
    expect(Number(first.res.headers.get('content-length'))).toBe(Buffer.byteLength(first.text));
    const again = await raw();
    expect(again.text).toBe(first.text);
    expect(again.res.headers.get('etag')).toBe(first.res.headers.get('etag'));
    const gz = await rawGet(`${store.url}/helm/acme/index.yaml`, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(Number(gz.headers['content-length'])).toBe(gz.body.length);
    expect(gunzipSync(gz.body).toString()).toBe(first.text);
    expect(
      (await rawGet(`${store.url}/helm/acme/index.yaml`, { 'accept-encoding': 'gzip' })).body.equals(gz.body),
    ).toBe(true);
    // The publisher's view holds the paid chart too, in name order.
    const own = await raw('acme', basic('me', pub.apiToken));
    expect(Object.keys((JSON.parse(own.text) as Index).entries)).toEqual([
      ...Object.keys(body.entries),
      'paid',
    ]);
    expect(JSON.stringify(JSON.parse(own.text))).toBe(own.text);
  });

  it('shows an upload, a yank and a listing change in the very next index, re-rendering only that chart', async () => {
    await raw();
    const before = await metric('berth_index_fragments_rendered_total');
    const etag0 = (await raw()).res.headers.get('etag');

    expect(
      (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart('chart-03', '1.2.0'))).status,
    ).toBe(201);
    const afterUpload = await raw();
    expect((JSON.parse(afterUpload.text) as Index).entries['chart-03'].map((v) => v.version)).toEqual([
      '1.2.0',
      '1.1.0',
      '1.0.0',
    ]);
    expect(afterUpload.res.headers.get('etag')).not.toBe(etag0);
    expect(await metric('berth_index_fragments_rendered_total')).toBe(before + 1);

    const yanked = await fetch(`${store.url}/api/acme/charts/chart-05/1.0.0`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(yanked.status).toBe(200);
    expect((await index()).entries['chart-05'].map((v) => v.version)).toEqual(['1.1.0']);

    const priced = await putListing(store.url, 'acme', pub.apiToken, 'chart-07', {
      price: { amount: 500, currency: 'usd' },
      updatePolicy: { kind: 'all' },
      published: true,
    });
    expect(priced.status).toBe(200);
    const anon = await index();
    expect(anon.entries['chart-07']).toBeUndefined();
    // Leaving the public index dates it: `generated` moves even though no public version changed.
    expect(Date.parse(anon.generated)).toBeGreaterThan(
      Date.parse((JSON.parse(afterUpload.text) as Index).generated),
    );
    expect((await putListing(store.url, 'acme', pub.apiToken, 'chart-07')).status).toBe(200);
    expect((await index()).entries['chart-07'].map((v) => v.version)).toEqual(['1.1.0', '1.0.0']);
    // Three more changes, three more charts rendered: never the whole repository.
    expect(await metric('berth_index_fragments_rendered_total')).toBe(before + 4);
  });

  it('serves repeated pulls from memory, byte for byte, and drops what a yank, a price or a provenance changes', async () => {
    const archive = await simpleChart('pulled', '1.0.0');
    expect((await uploadChart(store.url, 'acme', pub.apiToken, archive)).status).toBe(201);
    expect((await putListing(store.url, 'acme', pub.apiToken, 'pulled')).status).toBe(200);
    const url = `${store.url}/helm/acme/charts/pulled-1.0.0.tgz`;
    const pull = async (headers: Record<string, string> = {}) => {
      const res = await fetch(url, { headers });
      return {
        status: res.status,
        body: Buffer.from(await res.arrayBuffer()),
        etag: res.headers.get('etag'),
        length: res.headers.get('content-length'),
      };
    };
    const first = await pull();
    expect([first.status, first.body.equals(archive), first.length]).toEqual([
      200,
      true,
      String(archive.length),
    ]);
    // On Postgres the upload's and the listing's notices come back over LISTEN and may land after the
    // first pull filled the cache (dropping it, as they must): wait until a pull is answered from memory.
    for (let settled = false, tries = 0; !settled; tries++) {
      expect(tries).toBeLessThan(50);
      const before = await metric('berth_chart_file_lookups_total', '{result="queried"}');
      await pull();
      settled = (await metric('berth_chart_file_lookups_total', '{result="queried"}')) === before;
      if (!settled) await new Promise((r) => setTimeout(r, 50));
    }
    const queried = await metric('berth_chart_file_lookups_total', '{result="queried"}');
    const cached = await metric('berth_chart_file_lookups_total', '{result="cached"}');
    for (let i = 0; i < 5; i++) {
      const again = await pull();
      expect([again.status, again.body.equals(archive), again.etag]).toEqual([200, true, first.etag]);
    }
    expect(await metric('berth_chart_file_lookups_total', '{result="queried"}')).toBe(queried);
    expect(await metric('berth_chart_file_lookups_total', '{result="cached"}')).toBe(cached + 5);
    expect((await pull({ 'if-none-match': first.etag! })).status).toBe(304);

    // A price puts the archive behind a license at once; free again, it is served again.
    const priced = await putListing(store.url, 'acme', pub.apiToken, 'pulled', {
      price: { amount: 500, currency: 'usd' },
      updatePolicy: { kind: 'all' },
      published: true,
    });
    expect(priced.status).toBe(200);
    expect((await pull()).status).toBe(401);
    expect((await putListing(store.url, 'acme', pub.apiToken, 'pulled')).status).toBe(200);
    expect((await pull()).status).toBe(200);

    // A provenance attached after pulls is served next to the archive.
    expect((await fetch(`${url}.prov`)).status).toBe(404);
    const prov = provFor('pulled', '1.0.0', archive);
    expect(
      (
        await fetch(`${store.url}/api/acme/prov`, {
          method: 'POST',
          headers: { authorization: `Bearer ${pub.apiToken}` },
          body: prov,
        })
      ).status,
    ).toBe(201);
    expect(Buffer.from(await (await fetch(`${url}.prov`)).arrayBuffer()).equals(prov)).toBe(true);

    // A yank: gone at once (only a buyer whose license covers it keeps it).
    const yanked = await fetch(`${store.url}/api/acme/charts/pulled/1.0.0`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(yanked.status).toBe(200);
    expect((await pull()).status).toBe(404);
  });

  it('answers repeated pulls ahead of the framework exactly as the controller does, and never a refusal', async () => {
    const granted = await grant({ chart: 'paid', email: 'lane@example.test' });
    const lic = (await granted.json()) as { id: string; key: string };
    const auth = basic(lic.id, lic.key);
    const seen = (res: Response, body: Buffer) => {
      const headers = Object.fromEntries(
        [...res.headers].filter(([k]) => k !== 'date' && k !== 'x-request-id'),
      );
      return {
        status: res.status,
        headers,
        body: body.toString('base64'),
        requestId: /^[0-9a-f-]{36}$/.test(res.headers.get('x-request-id') ?? ''),
      };
    };
    const call = async (url: string, init: RequestInit = {}) => {
      const res = await fetch(url, init);
      return seen(res, Buffer.from(await res.arrayBuffer()));
    };
    const lane = () => metric('berth_helm_pulls_from_memory_total');
    const route = () =>
      metric('berth_http_requests_total', '{method="GET",route="/helm/:slug/charts/:file",status="200"}');

    let n = 0;
    for (const [name, headers] of [
      ['lane-free', {}],
      ['paid', auth],
    ] as const) {
      for (const kind of ['GET', 'HEAD', 'GET if-none-match'] as const) {
        // Within the license's range (the paid chart's policy is `major`, bought at 2.0.0).
        const version = `2.9.${n++}`;
        expect(
          (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart(name, version))).status,
        ).toBe(201);
        if (name === 'lane-free')
          expect((await putListing(store.url, 'acme', pub.apiToken, name)).status).toBe(200);
        const url = `${store.url}/helm/acme/charts/${name}-${version}.tgz`;
        // A query string is not the canonical URL: that request goes through Express and the controller,
        // and fills the caches the next one is answered from.
        const full = `${url}?via=controller`;
        const etag = (await fetch(full, { method: 'HEAD', headers })).headers.get('etag')!;
        const init: RequestInit =
          kind === 'HEAD'
            ? { method: 'HEAD', headers }
            : kind === 'GET'
              ? { headers }
              : { headers: { ...headers, 'if-none-match': etag } };
        const before = await lane();
        const controller = await call(full, init);
        expect(await lane()).toBe(before);
        const fromMemory = await call(url, init);
        expect(await lane()).toBe(before + 1);
        expect({ kind, name, ...fromMemory }).toEqual({ kind, name, ...controller });
        expect([controller.status, controller.requestId]).toEqual([
          kind === 'GET if-none-match' ? 304 : 200,
          true,
        ]);
      }
    }
    // Both paths count under the controller's route template.
    expect(await route()).toBeGreaterThan(0);

    // Refusals always take the full path: a wrong key, a revoked license, a yanked version.
    const before = await lane();
    expect(
      (await fetch(`${store.url}/helm/acme/charts/paid-2.9.3.tgz`, { headers: basic(lic.id, `${lic.key}x`) }))
        .status,
    ).toBe(401);
    expect((await fetch(`${store.url}/helm/acme/charts/paid-2.9.3.tgz`)).status).toBe(401);
    const revoked = await fetch(`${store.url}/v1/publishers/acme/licenses/${lic.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(revoked.status).toBeLessThan(300);
    expect((await fetch(`${store.url}/helm/acme/charts/paid-2.9.3.tgz`, { headers: auth })).status).toBe(401);
    const yanked = await fetch(`${store.url}/api/acme/charts/lane-free/2.9.0`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(yanked.status).toBe(200);
    expect((await fetch(`${store.url}/helm/acme/charts/lane-free-2.9.0.tgz`)).status).toBe(404);
    expect(await lane()).toBe(before);
  });

  it('answers index fetches ahead of the framework exactly as the controller does, for anyone and for a buyer', async () => {
    const granted = await grant({ chart: 'paid', email: 'index-lane@example.test' });
    const lic = (await granted.json()) as { id: string; key: string };
    const lane = () => metric('berth_helm_indexes_from_memory_total');
    const url = `${store.url}/helm/acme/index.yaml`;
    const answer = async (target: string, method: string, headers: Record<string, string>) => {
      const res = await rawCall(target, method, headers);
      const { date, 'x-request-id': id, ...rest } = res.headers;
      expect([typeof date, /^[0-9a-f-]{36}$/.test(String(id))]).toEqual(['string', true]);
      return { status: res.status, headers: rest, body: res.body.toString('base64') };
    };
    for (const [who, auth] of [
      ['anyone', {}],
      ['buyer', basic(lic.id, lic.key)],
    ] as const) {
      for (const encoding of ['identity', 'gzip']) {
        const headers: Record<string, string> = { ...auth, 'accept-encoding': encoding };
        // A query string is not the canonical URL: the controller answers it, and builds what the lane sends.
        const viaController = await answer(`${url}?via=controller`, 'GET', headers);
        const etag = String(viaController.headers.etag);
        for (const [kind, method, extra] of [
          ['GET', 'GET', {}],
          ['HEAD', 'HEAD', {}],
          ['GET if-none-match', 'GET', { 'if-none-match': etag }],
        ] as const) {
          const init = { ...headers, ...extra };
          const before = await lane();
          const controller = await answer(`${url}?via=controller`, method, init);
          expect(await lane()).toBe(before);
          const fromMemory = await answer(url, method, init);
          expect(await lane()).toBe(before + 1);
          expect({ who, encoding, kind, ...fromMemory }).toEqual({ who, encoding, kind, ...controller });
          expect(controller.status).toBe(kind === 'GET if-none-match' ? 304 : 200);
        }
        if (encoding === 'gzip') expect(viaController.headers['content-encoding']).toBe('gzip');
        const text = (encoding === 'gzip' ? gunzipSync : (b: Buffer) => b)(
          Buffer.from(viaController.body, 'base64'),
        ).toString();
        expect('paid' in (JSON.parse(text) as Index).entries).toBe(who === 'buyer');
      }
    }
    // Both paths count under the controller's route template.
    expect(
      await metric('berth_http_requests_total', '{method="GET",route="/helm/:slug/index.yaml",status="200"}'),
    ).toBeGreaterThan(0);

    // A wrong key, the publisher's token and a changed repository take the full path.
    const before = await lane();
    expect((await rawCall(url, 'GET', basic(lic.id, `${lic.key}x`))).status).toBe(401);
    expect((await rawCall(url, 'GET', basic('me', pub.apiToken))).status).toBe(200);
    expect(
      (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart('chart-05', '1.3.0'))).status,
    ).toBe(201);
    const after = await rawCall(url, 'GET', { 'accept-encoding': 'identity' });
    expect((JSON.parse(after.body.toString()) as Index).entries['chart-05'][0].version).toBe('1.3.0');
    expect(await lane()).toBe(before);
    // The next fetch of the rebuilt index comes from memory again.
    expect((await rawCall(url, 'GET', { 'accept-encoding': 'identity' })).body.equals(after.body)).toBe(true);
    expect(await lane()).toBe(before + 1);
  });

  it('gives a buyer the free charts plus exactly the covered versions, and skips the signature check on repeated pulls', async () => {
    const granted = await grant({ chart: 'paid', email: 'buyer@example.test', versionRange: '^1.0.0' });
    expect(granted.status).toBe(201);
    const lic = (await granted.json()) as { id: string; key: string };
    const auth = basic(lic.id, lic.key);

    const bought = await raw('acme', auth);
    const entries = (JSON.parse(bought.text) as Index).entries;
    expect(entries.paid.map((v) => v.version)).toEqual(['1.0.0']);
    expect(Object.keys(entries)).toEqual([...Object.keys((await index()).entries), 'paid'].sort());
    expect(JSON.stringify(JSON.parse(bought.text))).toBe(bought.text);
    expect((await raw('acme', auth)).res.headers.get('etag')).toBe(bought.res.headers.get('etag'));

    const verified = await metric('berth_license_key_checks_total', '{result="verified"}');
    const cached = await metric('berth_license_key_checks_total', '{result="cached"}');
    for (let i = 0; i < 10; i++)
      expect((await fetch(`${store.url}/helm/acme/charts/paid-1.0.0.tgz`, { headers: auth })).status).toBe(
        200,
      );
    expect(await metric('berth_license_key_checks_total', '{result="verified"}')).toBe(verified);
    expect(await metric('berth_license_key_checks_total', '{result="cached"}')).toBe(cached + 10);

    // A forged signature on the same claims is not the cached key: it is checked, and refused.
    const [h, p, sig] = lic.key.slice('berth_lic_'.length).split('.');
    const forged = `berth_lic_${h}.${p}.${sig.slice(0, -4)}${sig.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
    expect(
      (await fetch(`${store.url}/helm/acme/charts/paid-1.0.0.tgz`, { headers: basic(lic.id, forged) }))
        .status,
    ).toBe(401);
    expect(await metric('berth_license_key_checks_total', '{result="verified"}')).toBe(verified + 1);

    // Revocation takes effect on the next pull, cached key or not.
    const revoked = await fetch(`${store.url}/v1/publishers/acme/licenses/${lic.id}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(revoked.status).toBeLessThan(300);
    expect((await fetch(`${store.url}/helm/acme/charts/paid-1.0.0.tgz`, { headers: auth })).status).toBe(401);
    expect((await raw('acme', auth)).res.status).toBe(401);
  });
});
