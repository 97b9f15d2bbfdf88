import { createHash } from 'node:crypto';
import { utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { OrphanBlobSweeper } from '@berth/catalog';
import { DataSource } from 'typeorm';
import { createPublisher, json, Publisher, putListing, uploadChart } from '../support/api';
import { provFor, simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';

type Index = {
  apiVersion: string;
  entries: Record<string, Array<{ version: string; digest: string; urls: string[] }>>;
  generated: string;
  serverInfo: { contextPath: string };
};
const basic = (token: string) => ({
  authorization: `Basic ${Buffer.from(`user:${token}`).toString('base64')}`,
});

describe('the Helm repository on postgres', () => {
  let store: InProcessStore;
  let pub: Publisher;
  let other: Publisher;
  const index = async (headers: Record<string, string> = {}) => {
    // fetch asks for gzip by default; Helm never does, so ask for the identity encoding as it would.
    const res = await fetch(`${store.url}/helm/acme/index.yaml`, {
      headers: { 'accept-encoding': 'identity', ...headers },
    });
    return { res, body: res.status === 200 ? ((await res.json()) as Index) : null };
  };

  beforeAll(async () => {
    store = await startInProcess('postgres');
    pub = await createPublisher(store.url, 'acme');
    other = await createPublisher(store.url, 'globex');
    for (const [name, version] of [
      ['free', '1.0.0'],
      ['free', '1.10.0'],
      ['free', '1.2.0'],
      ['paid', '2.0.0'],
      ['draft', '0.1.0'],
    ]) {
      expect(
        (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart(name, version))).status,
      ).toBe(201);
    }
    await putListing(store.url, 'acme', pub.apiToken, 'free');
    await putListing(store.url, 'acme', pub.apiToken, 'paid', {
      price: { amount: 4900, currency: 'usd' },
      updatePolicy: { kind: 'major' },
      published: true,
    });
  }, 60_000);
  afterAll(async () => store?.close());

  it('shows the public only published free charts, newest version first, with relative URLs', async () => {
    const { res, body } = await index();
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('public, no-cache');
    expect(body!.apiVersion).toBe('v1');
    expect(Object.keys(body!.entries)).toEqual(['free']);
    expect(body!.entries.free.map((e) => e.version)).toEqual(['1.10.0', '1.2.0', '1.0.0']);
    expect(body!.entries.free[0].urls).toEqual(['charts/free-1.10.0.tgz']);
    expect(body!.serverInfo).toEqual({ contextPath: '/helm/acme' });
    // Same catalog, same bytes: the ETag only moves when the public catalog does; drafts do not move it.
    expect((await index()).res.headers.get('etag')).toBe(res.headers.get('etag'));
    expect(
      (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart('draft', '0.2.0'))).status,
    ).toBe(201);
    const after = await index();
    expect(after.res.headers.get('etag')).toBe(res.headers.get('etag'));
    expect(after.body!.generated).toBe(body!.generated);
    // gzip is another representation with its own ETag.
    const gz = await fetch(`${store.url}/helm/acme/index.yaml`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('etag')).not.toBe(res.headers.get('etag'));
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    const plainWithGzipTag = await fetch(`${store.url}/helm/acme/index.yaml`, {
      headers: { 'accept-encoding': 'identity', 'if-none-match': gz.headers.get('etag')! },
    });
    expect(plainWithGzipTag.status).toBe(200);
  });

  it('shows the publisher its whole catalog, drafts and paid included, privately', async () => {
    const { res, body } = await index(basic(pub.apiToken));
    expect(Object.keys(body!.entries)).toEqual(['draft', 'free', 'paid']);
    expect(res.headers.get('cache-control')).toBe('private, no-cache');
    expect(res.headers.get('vary')).toMatch(/Authorization/);
  });

  it('answers bad credentials with 401 and a Basic challenge, never with the free view', async () => {
    for (const headers of [
      basic('berth_pat_wrong'),
      basic(other.apiToken),
      basic('garbage'),
      { authorization: 'Basic ' },
      basic('x'.repeat(8192)),
    ]) {
      const { res } = await index(headers);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm=/);
      expect(((await json(res)) as { error: { code: string } }).error.code).toBe(
        'repository_credentials_invalid',
      );
    }
    expect((await index()).res.status).toBe(200);
    const unknown = await fetch(`${store.url}/helm/nobody/index.yaml`);
    expect([unknown.status, ((await json(unknown)) as { error: { code: string } }).error.code]).toEqual([
      404,
      'repository_not_found',
    ]);
  });

  it('serves archives by their exact bytes and refuses paid and draft archives to the public', async () => {
    const free = await fetch(`${store.url}/helm/acme/charts/free-1.2.0.tgz`);
    const bytes = Buffer.from(await free.arrayBuffer());
    const entry = (await index()).body!.entries.free.find((e) => e.version === '1.2.0')!;
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(entry.digest);
    expect(free.headers.get('etag')).toBe(`"${entry.digest}"`);
    expect(
      (
        await fetch(`${store.url}/helm/acme/charts/free-1.2.0.tgz`, {
          headers: { 'if-none-match': `"${entry.digest}"` },
        })
      ).status,
    ).toBe(304);

    const paid = await fetch(`${store.url}/helm/acme/charts/paid-2.0.0.tgz`);
    expect([paid.status, ((await json(paid)) as { error: { code: string } }).error.code]).toEqual([
      401,
      'license_required',
    ]);
    expect(paid.headers.get('www-authenticate')).toMatch(/Basic/);
    const draft = await fetch(`${store.url}/helm/acme/charts/draft-0.1.0.tgz`);
    expect(draft.status).toBe(404);
    const unknown = await fetch(`${store.url}/helm/acme/charts/nothing-1.0.0.tgz`);
    expect(unknown.status).toBe(404);
    for (const path of ['charts/..%2F..%2Fetc%2Fpasswd', 'charts/free-1.2.0.tar', 'charts/free.tgz']) {
      expect((await fetch(`${store.url}/helm/acme/${path}`)).status).toBe(404);
    }
    expect(
      (await fetch(`${store.url}/helm/acme/charts/draft-0.1.0.tgz`, { headers: basic(pub.apiToken) })).status,
    ).toBe(200);
  });

  it('yanks a version out of every index, keeps its bytes, and keeps its number taken', async () => {
    const del = await fetch(`${store.url}/api/acme/charts/free/1.0.0`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect([del.status, await del.json()]).toEqual([200, { deleted: true }]);
    expect((await index()).body!.entries.free.map((e) => e.version)).toEqual(['1.10.0', '1.2.0']);
    expect((await fetch(`${store.url}/helm/acme/charts/free-1.0.0.tgz`)).status).toBe(404);
    const rows = await store.app
      .get(DataSource)
      .query(`SELECT blob_key FROM chart_version WHERE version = '1.0.0'`);
    expect(rows).toHaveLength(1);
    expect(
      (await uploadChart(store.url, 'acme', pub.apiToken, await simpleChart('free', '1.0.0'))).status,
    ).toBe(409);
    const again = await fetch(`${store.url}/api/acme/charts/free/1.0.0`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${pub.apiToken}` },
    });
    expect(again.status).toBe(404);
  });

  it('stores a provenance file with its chart or afterwards, and serves it next to the archive', async () => {
    const archive = await simpleChart('signed', '1.0.0');
    expect((await uploadChart(store.url, 'acme', pub.apiToken, archive)).status).toBe(201);
    await putListing(store.url, 'acme', pub.apiToken, 'signed');
    expect((await fetch(`${store.url}/helm/acme/charts/signed-1.0.0.tgz.prov`)).status).toBe(404);
    const wrong = await fetch(`${store.url}/api/acme/prov`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pub.apiToken}` },
      body: provFor('signed', '1.0.0', Buffer.from('other bytes')),
    });
    expect([wrong.status, ((await json(wrong)) as { code: string }).code]).toEqual([
      400,
      'provenance_invalid',
    ]);
    const prov = provFor('signed', '1.0.0', archive);
    const ok = await fetch(`${store.url}/api/acme/prov`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pub.apiToken}` },
      body: prov,
    });
    expect(ok.status).toBe(201);
    const again = await fetch(`${store.url}/api/acme/prov`, {
      method: 'POST',
      headers: { authorization: `Bearer ${pub.apiToken}` },
      body: prov,
    });
    expect(again.status).toBe(409);
    const served = await fetch(`${store.url}/helm/acme/charts/signed-1.0.0.tgz.prov`);
    expect(Buffer.from(await served.arrayBuffer()).equals(prov)).toBe(true);

    // Two different provenance files racing for one version: the one that got 201 is the one served.
    for (let i = 0; i < 5; i++) {
      const a = await simpleChart('race', `1.0.${i}`);
      expect((await uploadChart(store.url, 'acme', pub.apiToken, a)).status).toBe(201);
      const p1 = Buffer.concat([provFor('race', `1.0.${i}`, a), Buffer.from('\n# one')]);
      const p2 = Buffer.concat([provFor('race', `1.0.${i}`, a), Buffer.from('\n# two')]);
      const [r1, r2] = await Promise.all(
        [p1, p2].map((body) =>
          fetch(`${store.url}/api/acme/prov`, {
            method: 'POST',
            headers: { authorization: `Bearer ${pub.apiToken}` },
            body,
          }),
        ),
      );
      expect([r1.status, r2.status].sort()).toEqual([201, 409]);
      const got = Buffer.from(
        await (
          await fetch(`${store.url}/helm/acme/charts/race-1.0.${i}.tgz.prov`, {
            headers: basic(pub.apiToken),
          })
        ).arrayBuffer(),
      );
      expect(got.equals(r1.status === 201 ? p1 : p2)).toBe(true);
    }

    // Both in one multipart upload, as `helm cm-push --sign`-style tooling does.
    const archive2 = await simpleChart('signed', '1.1.0');
    const form = new FormData();
    form.append('chart', new Blob([archive2]), 'signed-1.1.0.tgz');
    form.append('prov', new Blob([provFor('signed', '1.1.0', archive2)]), 'signed-1.1.0.tgz.prov');
    expect(
      (
        await fetch(`${store.url}/api/acme/charts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${pub.apiToken}` },
          body: form,
        })
      ).status,
    ).toBe(201);
    expect((await fetch(`${store.url}/helm/acme/charts/signed-1.1.0.tgz.prov`)).status).toBe(200);
  });

  it('sweeps blobs that no version references once they are older than the grace period', async () => {
    const root = join(store.config.dataDir, 'blobs');
    const orphan = join(root, 'charts', 'crashed-upload', 'orphan.tgz');
    const fresh = join(root, 'charts', 'crashed-upload', 'in-flight.tgz');
    mkdirSync(dirname(orphan), { recursive: true });
    writeFileSync(orphan, 'left behind by a crash');
    writeFileSync(fresh, 'an upload still in flight');
    const old = new Date(Date.now() - 2 * store.config.uploads.orphanGraceSeconds * 1000);
    utimesSync(orphan, old, old);
    const live = (await store.app.get(DataSource).query('SELECT count(*)::int AS n FROM chart_version'))[0].n;
    const deleted = await store.app.get(OrphanBlobSweeper).sweep();
    expect(deleted).toEqual(['charts/crashed-upload/orphan.tgz']);
    // Every archive a version points to is still served.
    const { body } = await index(basic(pub.apiToken));
    const versions = Object.values(body!.entries).flat();
    expect(versions.length).toBeGreaterThan(0);
    expect(live).toBeGreaterThanOrEqual(versions.length);
    for (const v of versions)
      expect(
        (await fetch(`${store.url}/helm/acme/${v.urls[0]}`, { headers: basic(pub.apiToken) })).status,
      ).toBe(200);
  });
});
