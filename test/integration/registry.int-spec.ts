import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DownloadCounter } from '@berth/analytics';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import { loadConfig } from '@berth/config';
import { RegistryJanitor, ReleaseImages } from '@berth/registry';
import { DataSource } from 'typeorm';
import { createPublisher, Publisher, publishChart, uploadChart } from '../support/api';
import { simpleChart } from '../support/charts';
import { buyLocally } from '../support/checkout';
import { consoleGet, consoleSignIn } from '../support/console';
import { waitFor } from '../support/wait';
import { createApp } from '../../apps/store/src/main';
import { InProcessStore, startInProcess } from '../support/in-process';
import { MinioServer, s3StoreEnv, startMinio } from '../support/minio';
import { createTestDatabase } from '../support/postgres';
import {
  digestOf,
  imageManifest,
  OCI_INDEX,
  OCI_MANIFEST,
  OciClient,
  ociError,
  PushedImage,
} from '../support/oci';

describe('OCI registry (distribution API at /v2)', () => {
  let store: InProcessStore;
  let acme: Publisher;
  let rival: Publisher;
  let push: OciClient;
  let rivalPush: OciClient;
  let anon: OciClient;
  let host: string;

  const countKeys = async (prefix: string) => {
    let n = 0;
    for await (const _ of store.app.get<BlobStore>(BLOB_STORE).list(prefix)) n++;
    return n;
  };

  beforeAll(async () => {
    store = await startInProcess('postgres');
    host = new URL(store.config.publicUrl).host;
    acme = await createPublisher(store.url, 'acme');
    rival = await createPublisher(store.url, 'rival');
    push = new OciClient(store.url, { user: 'ci', pass: acme.apiToken });
    rivalPush = new OciClient(store.url, { user: 'ci', pass: rival.apiToken });
    anon = new OciClient(store.url);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  it('answers the version check with a Basic challenge unless credentials are good', async () => {
    const bare = await anon.fetch('/v2/');
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toBe('Basic realm="berth"');
    expect(bare.headers.get('docker-distribution-api-version')).toBe('registry/2.0');
    expect(await ociError(bare)).toEqual([401, 'UNAUTHORIZED']);
    expect((await push.fetch('/v2/')).status).toBe(200);
    const wrong = new OciClient(store.url, { user: 'ci', pass: `${acme.apiToken}x` });
    expect((await wrong.fetch('/v2/')).status).toBe(401);
    const bearer = await fetch(`${store.url}/v2/`, { headers: { authorization: `Bearer ${acme.apiToken}` } });
    expect(bearer.status).toBe(401);
    // A read-only token may pull but not push.
    const readOnly = await createPublisher(store.url, 'readonly', ['charts:read']);
    const ro = new OciClient(store.url, { user: 'x', pass: readOnly.apiToken });
    expect(await ociError(await ro.upload('readonly/app', Buffer.from('x')))).toEqual([403, 'DENIED']);
  });

  it('stores a monolithic upload, serves it with exact length, digest and byte ranges', async () => {
    const bytes = randomBytes(100_000);
    const res = await push.upload('acme/app', bytes);
    expect(res.status).toBe(201);
    expect(res.headers.get('location')).toBe(`/v2/acme/app/blobs/${digestOf(bytes)}`);
    expect(res.headers.get('docker-content-digest')).toBe(digestOf(bytes));
    const head = await push.fetch(`/v2/acme/app/blobs/${digestOf(bytes)}`, { method: 'HEAD' });
    expect([
      head.status,
      head.headers.get('content-length'),
      head.headers.get('docker-content-digest'),
    ]).toEqual([200, '100000', digestOf(bytes)]);
    const got = await push.fetch(`/v2/acme/app/blobs/${digestOf(bytes)}`);
    expect(got.headers.get('content-encoding')).toBeNull();
    expect(Buffer.from(await got.arrayBuffer()).equals(bytes)).toBe(true);
    const part = await push.fetch(`/v2/acme/app/blobs/${digestOf(bytes)}`, {
      headers: { range: 'bytes=10-19' },
    });
    expect([part.status, part.headers.get('content-range'), part.headers.get('content-length')]).toEqual([
      206,
      'bytes 10-19/100000',
      '10',
    ]);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
    const tail = await push.fetch(`/v2/acme/app/blobs/${digestOf(bytes)}`, {
      headers: { range: 'bytes=-5' },
    });
    expect(Buffer.from(await tail.arrayBuffer()).equals(bytes.subarray(-5))).toBe(true);
    const beyond = await push.fetch(`/v2/acme/app/blobs/${digestOf(bytes)}`, {
      headers: { range: 'bytes=100000-' },
    });
    expect(beyond.status).toBe(416);
  });

  it('takes chunked and streamed uploads, refuses chunks out of order, and keeps nothing on a digest mismatch', async () => {
    const bytes = randomBytes(30_000);
    const start = await push.fetch('/v2/acme/app/blobs/uploads/', { method: 'POST' });
    expect(start.status).toBe(202);
    const location = start.headers.get('location')!;
    expect(location).toMatch(/^\/v2\/acme\/app\/blobs\/uploads\/[0-9a-f-]{36}$/);
    expect(start.headers.get('range')).toBe('0-0');
    const chunk = (from: number, to: number) =>
      push.fetch(location, {
        method: 'PATCH',
        headers: { 'content-type': 'application/octet-stream', 'content-range': `${from}-${to - 1}` },
        body: bytes.subarray(from, to),
      });
    expect((await chunk(0, 10_000)).headers.get('range')).toBe('0-9999');
    expect(await ociError(await chunk(15_000, 20_000))).toEqual([416, 'BLOB_UPLOAD_INVALID']);
    expect((await chunk(10_000, 20_000)).headers.get('range')).toBe('0-19999');
    // A streamed chunk (no Content-Range) goes at the end.
    const streamed = await push.fetch(location, { method: 'PATCH', body: bytes.subarray(20_000, 25_000) });
    expect([streamed.status, streamed.headers.get('range')]).toEqual([202, '0-24999']);
    const status = await push.fetch(location);
    expect([status.status, status.headers.get('range')]).toEqual([204, '0-24999']);
    const done = await push.fetch(`${location}?digest=${digestOf(bytes)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes.subarray(25_000),
    });
    expect(done.status).toBe(201);
    const back = await push.fetch(`/v2/acme/app/blobs/${digestOf(bytes)}`);
    expect(Buffer.from(await back.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await push.fetch(location)).status).toBe(404);

    const other = randomBytes(5000);
    const before = await countKeys('oci/');
    const bad = await push.upload('acme/app', other, digestOf(randomBytes(10)));
    expect(await ociError(bad)).toEqual([400, 'DIGEST_INVALID']);
    expect((await push.fetch(`/v2/acme/app/blobs/${digestOf(other)}`, { method: 'HEAD' })).status).toBe(404);
    expect(await countKeys('oci/')).toBe(before);
  });

  it('keeps nothing of a chunk whose client went away mid-stream', async () => {
    const start = await push.fetch('/v2/acme/app/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location')!;
    const before = await countKeys('oci/');
    const { port } = new URL(store.url);
    await new Promise<void>((resolve) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(
          `PATCH ${location} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${push.headers().authorization}\r\n` +
            'Content-Type: application/octet-stream\r\nContent-Length: 100000\r\n\r\n',
        );
        socket.write(randomBytes(30_000), () => setTimeout(() => socket.destroy(), 200));
      });
      socket.on('close', () => resolve());
      socket.on('error', () => undefined);
    });
    // The server notices the aborted body; give it a moment to drop its partial object.
    await new Promise((r) => setTimeout(r, 300));
    const status = await push.fetch(location);
    expect([status.status, status.headers.get('range')]).toEqual([204, '0-0']);
    expect(await countKeys('oci/')).toBe(before);
  });

  it('keeps publishers apart: no blob of another by digest, mounts from another are plain sessions', async () => {
    const secret = randomBytes(4096);
    await rivalPush.pushBlob('rival/private', secret);
    const d = digestOf(secret);
    for (const method of ['HEAD', 'GET']) {
      expect((await push.fetch(`/v2/rival/private/blobs/${d}`, { method })).status).toBe(404);
      expect((await push.fetch(`/v2/acme/app/blobs/${d}`, { method })).status).toBe(404);
    }
    const mount = await push.fetch(`/v2/acme/app/blobs/uploads/?mount=${d}&from=rival/private`, {
      method: 'POST',
    });
    expect(mount.status).toBe(202);
    expect((await push.fetch(`/v2/acme/app/blobs/${d}`, { method: 'HEAD' })).status).toBe(404);
    // Within one publisher a mount links at once.
    const own = randomBytes(2048);
    await push.pushBlob('acme/base', own);
    const ok = await push.fetch(`/v2/acme/app/blobs/uploads/?mount=${digestOf(own)}&from=acme/base`, {
      method: 'POST',
    });
    expect([ok.status, ok.headers.get('location')]).toEqual([201, `/v2/acme/app/blobs/${digestOf(own)}`]);
    // A manifest naming a blob linked elsewhere only, or another publisher's, is refused.
    const elsewhere = randomBytes(1000);
    await push.pushBlob('acme/base', elsewhere);
    const cfg = { digest: await push.pushBlob('acme/app', Buffer.from('{}')), bytes: Buffer.from('{}') };
    for (const layer of [elsewhere, secret]) {
      const res = await push.putManifest(
        'acme/app',
        'bad',
        imageManifest(cfg, [{ digest: digestOf(layer), bytes: layer }]),
      );
      expect(await ociError(res)).toEqual([400, 'MANIFEST_BLOB_UNKNOWN']);
    }
    // Pushing into another publisher's namespace is denied before any byte is read.
    expect(await ociError(await push.upload('rival/private', Buffer.from('x')))).toEqual([403, 'DENIED']);
  });

  it('validates manifests: type confusion, mismatched types, schema 1, foreign urls, size, names and tags', async () => {
    const cfg = {
      digest: await push.pushBlob('acme/app', Buffer.from('{"a":1}')),
      bytes: Buffer.from('{"a":1}'),
    };
    const both = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [],
        config: { mediaType: 'x', digest: cfg.digest, size: cfg.bytes.length },
        layers: [],
      }),
    );
    expect(await ociError(await push.putManifest('acme/app', 'x', both, OCI_INDEX))).toEqual([
      400,
      'MANIFEST_INVALID',
    ]);
    const image = imageManifest(cfg, []);
    expect(await ociError(await push.putManifest('acme/app', 'x', image, OCI_INDEX))).toEqual([
      400,
      'MANIFEST_INVALID',
    ]);
    const v1 = Buffer.from(JSON.stringify({ schemaVersion: 1, name: 'acme/app', tag: 'x', fsLayers: [] }));
    expect(
      (
        await push.putManifest(
          'acme/app',
          'x',
          v1,
          'application/vnd.docker.distribution.manifest.v1+prettyjws',
        )
      ).status,
    ).toBe(415);
    const foreign = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: 'x', digest: cfg.digest, size: cfg.bytes.length },
        layers: [
          { mediaType: 'x', digest: cfg.digest, size: cfg.bytes.length, urls: ['https://evil.example/l'] },
        ],
      }),
    );
    expect(await ociError(await push.putManifest('acme/app', 'x', foreign))).toEqual([
      400,
      'MANIFEST_INVALID',
    ]);
    const huge = imageManifest(cfg, [], { annotations: { pad: 'x'.repeat(5 * 1024 * 1024) } });
    expect((await push.putManifest('acme/app', 'x', huge)).status).toBe(413);
    expect(await ociError(await push.putManifest('acme/app', `sha256:${'0'.repeat(64)}`, image))).toEqual([
      400,
      'DIGEST_INVALID',
    ]);
    // An index naming a manifest this repository does not hold.
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: digestOf(image), size: image.length }],
      }),
    );
    expect(await ociError(await push.putManifest('acme/app', 'idx', index, OCI_INDEX))).toEqual([
      400,
      'MANIFEST_BLOB_UNKNOWN',
    ]);
    for (const name of ['acme/App', 'acme/blobs/x', 'acme/x/manifests', 'acme', 'acme/a..b', 'acme/-a']) {
      expect([name, ...(await ociError(await push.putManifest(name, 'x', image)))]).toEqual([
        name,
        400,
        'NAME_INVALID',
      ]);
    }
    expect((await push.fetch('/v2/acme/%2e%2e/rival/private/tags/list')).status).toBeGreaterThanOrEqual(400);
    expect(await ociError(await push.putManifest('acme/app', '-bad', image))).toEqual([
      400,
      'MANIFEST_INVALID',
    ]);
    // Nothing of the refused pushes became visible.
    const tags = (await (await push.fetch('/v2/acme/app/tags/list')).json()) as { tags: string[] };
    expect(tags.tags).toEqual([]);
  });

  it('lists tags in pages, caps n, and serves manifests by tag and digest with their exact bytes', async () => {
    const img = await push.pushImage('acme/many', 'v0', 1, 64);
    const names = Array.from({ length: 1004 }, (_, i) => `t${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((t) => push.putManifest('acme/many', t, img.manifest)));
    }
    const all = await push.fetch('/v2/acme/many/tags/list?n=10000');
    const body = (await all.json()) as { tags: string[] };
    expect(body.tags).toHaveLength(1000);
    expect(all.headers.get('link')).toBe(`</v2/acme/many/tags/list?n=1000&last=t0999>; rel="next"`);
    const next = (await (await push.fetch('/v2/acme/many/tags/list?n=1000&last=t0999')).json()) as {
      tags: string[];
    };
    expect(next.tags).toEqual(['t1000', 't1001', 't1002', 't1003', 'v0']);
    const two = await push.fetch('/v2/acme/many/tags/list?n=2&last=t0500');
    expect(((await two.json()) as { tags: string[] }).tags).toEqual(['t0501', 't0502']);
    for (const ref of ['t0007', img.digest]) {
      const m = await push.fetch(`/v2/acme/many/manifests/${ref}`);
      expect([m.status, m.headers.get('content-type'), m.headers.get('docker-content-digest')]).toEqual([
        200,
        OCI_MANIFEST,
        img.digest,
      ]);
      expect(Buffer.from(await m.arrayBuffer()).equals(img.manifest)).toBe(true);
    }
  }, 120_000);

  describe('what a license reaches', () => {
    let appImage: PushedImage;
    let otherImage: PushedImage;
    let stray: PushedImage;
    let license: { id: string; key: string };
    let buyer: OciClient;

    beforeAll(async () => {
      appImage = await push.pushImage('acme/app-server', '1.0');
      stray = await push.pushImage('acme/app-server', '2.0-unreleased');
      await publishChart(
        store.url,
        acme,
        'alpha',
        await simpleChart('alpha', '1.0.0', { 'values.yaml': `image: ${host}/acme/app-server:1.0\n` }),
        4900,
      );
      await publishChart(
        store.url,
        acme,
        'beta',
        await simpleChart('beta', '1.0.0', {
          'values.yaml': `image:\n  repository: x\n  full: "${host}/acme/other:3.1"\n`,
        }),
        4900,
      );
      await store.app.get(ReleaseImages).settled();
      // Pushed after its chart: resolved when the tag arrives.
      otherImage = await push.pushImage('acme/other', '3.1');
      license = await buyLocally(store.url, { publisher: 'acme', chart: 'alpha' });
      buyer = new OciClient(store.url, { user: license.id, pass: license.key });
    }, 60_000);

    it('pulls the covered chart and its release image, and nothing else of the publisher', async () => {
      expect((await buyer.fetch('/v2/')).status).toBe(200);
      const chart = await buyer.fetch('/v2/acme/alpha/manifests/1.0.0');
      expect(chart.status).toBe(200);
      const image = await buyer.fetch('/v2/acme/app-server/manifests/1.0');
      expect([image.status, image.headers.get('docker-content-digest')]).toEqual([200, appImage.digest]);
      for (const layer of [appImage.config, ...appImage.layers]) {
        const blob = await buyer.fetch(`/v2/acme/app-server/blobs/${layer.digest}`);
        expect(Buffer.from(await blob.arrayBuffer()).equals(layer.bytes)).toBe(true);
      }
      const tags = (await (await buyer.fetch('/v2/acme/app-server/tags/list')).json()) as { tags: string[] };
      expect(tags.tags).toEqual(['1.0']);
      // Chart B and its image, and an unreleased tag of the same repository: absent, as if they did not exist.
      expect(await ociError(await buyer.fetch('/v2/acme/beta/manifests/1.0.0'))).toEqual([
        404,
        'MANIFEST_UNKNOWN',
      ]);
      expect(await ociError(await buyer.fetch('/v2/acme/other/manifests/3.1'))).toEqual([
        404,
        'MANIFEST_UNKNOWN',
      ]);
      expect((await buyer.fetch(`/v2/acme/other/blobs/${otherImage.layers[0].digest}`)).status).toBe(404);
      expect((await buyer.fetch('/v2/acme/app-server/manifests/2.0-unreleased')).status).toBe(404);
      expect((await buyer.fetch(`/v2/acme/app-server/blobs/${stray.layers[0].digest}`)).status).toBe(404);
      expect((await buyer.fetch('/v2/rival/private/tags/list')).status).toBe(404);
      // Another publisher's free chart: what anyone may pull, this login included.
      await publishChart(store.url, rival, 'gratis', await simpleChart('gratis', '1.0.0'), 0);
      expect((await buyer.fetch('/v2/rival/gratis/manifests/1.0.0')).status).toBe(200);
      expect((await push.fetch('/v2/rival/gratis/manifests/1.0.0')).status).toBe(200);
      expect((await push.fetch('/v2/rival/private/tags/list')).status).toBe(404);
      // Anonymous callers are challenged for paid content; pushing with a license is denied.
      expect((await anon.fetch('/v2/acme/app-server/manifests/1.0')).status).toBe(401);
      expect((await buyer.upload('acme/app-server', Buffer.from('x'))).status).toBe(403);
      // The publisher sees the tag that resolved late.
      const other = await push.fetch('/v2/acme/other/manifests/3.1');
      expect(other.headers.get('docker-content-digest')).toBe(otherImage.digest);
    });

    it("pins a release's tags: they cannot be moved or deleted", async () => {
      const other = await push.pushImage('acme/app-server', 'scratch');
      const res = await push.putManifest('acme/app-server', '1.0', other.manifest);
      expect(await ociError(res)).toEqual([409, 'DENIED']);
      expect((await push.fetch('/v2/acme/app-server/manifests/1.0', { method: 'DELETE' })).status).toBe(409);
      expect(
        (await push.fetch(`/v2/acme/app-server/manifests/${appImage.digest}`, { method: 'DELETE' })).status,
      ).toBe(409);
      // A tag of no release moves freely.
      expect((await push.putManifest('acme/app-server', '2.0-unreleased', other.manifest)).status).toBe(201);
    });

    it('attaches an image to a chart version through /v1: the license reaches it from then on', async () => {
      const extra = await push.pushImage('acme/sidecar', 'v9');
      expect((await buyer.fetch(`/v2/acme/sidecar/manifests/${extra.digest}`)).status).toBe(404);
      const url = `${store.url}/v1/publishers/acme/charts/alpha/versions/1.0.0/images`;
      const auth = { authorization: `Bearer ${acme.apiToken}`, 'content-type': 'application/json' };
      const post = (body: unknown) =>
        fetch(url, { method: 'POST', headers: auth, body: JSON.stringify(body) });
      expect((await post({ repository: 'rival/private', digest: extra.digest })).status).toBe(404);
      expect((await post({ repository: 'acme/sidecar', digest: `sha256:${'1'.repeat(64)}` })).status).toBe(
        404,
      );
      expect((await post({ repository: 'acme/sidecar', digest: 'sha256:nope' })).status).toBe(400);
      const attached = await post({ repository: 'acme/sidecar', digest: extra.digest });
      expect(attached.status).toBe(201);
      expect(await attached.json()).toEqual({
        repository: 'acme/sidecar',
        reference: `@${extra.digest}`,
        digest: extra.digest,
        source: 'api',
      });
      const listed = (await (await fetch(url, { headers: auth })).json()) as {
        images: Array<{ repository: string; source: string }>;
      };
      expect(listed.images.map((i) => [i.repository, i.source])).toEqual([
        ['acme/app-server', 'values'],
        ['acme/sidecar', 'api'],
      ]);
      const pulled = await buyer.fetch(`/v2/acme/sidecar/manifests/v9`);
      expect([pulled.status, pulled.headers.get('docker-content-digest')]).toEqual([200, extra.digest]);
    });

    it('ties an image the templates name in full to the release', async () => {
      await publishChart(
        store.url,
        acme,
        'gamma',
        await simpleChart('gamma', '2.0.0', {
          'templates/job.yaml': `spec:\n  containers:\n    - image: "${host}/acme/from-template:4"\n`,
        }),
        4900,
      );
      await store.app.get(ReleaseImages).settled();
      const image = await push.pushImage('acme/from-template', '4');
      const holder = await buyLocally(store.url, { publisher: 'acme', chart: 'gamma' });
      const gammaBuyer = new OciClient(store.url, { user: holder.id, pass: holder.key });
      const pulled = await gammaBuyer.fetch('/v2/acme/from-template/manifests/4');
      expect([pulled.status, pulled.headers.get('docker-content-digest')]).toEqual([200, image.digest]);
      // The license for alpha does not reach it.
      expect((await buyer.fetch('/v2/acme/from-template/manifests/4')).status).toBe(404);
      const listed = (await (
        await fetch(`${store.url}/v1/publishers/acme/charts/gamma/versions/2.0.0/images`, {
          headers: { authorization: `Bearer ${acme.apiToken}` },
        })
      ).json()) as { images: Array<{ repository: string; source: string; digest: string | null }> };
      expect(listed.images).toEqual([
        expect.objectContaining({
          repository: 'acme/from-template',
          source: 'template',
          digest: image.digest,
        }),
      ]);
    });

    it("counts each GET of a release's image manifest as an image pull of its chart version and license", async () => {
      const counter = store.app.get(DownloadCounter);
      const db = store.app.get(DataSource);
      const pulls = async () => {
        await counter.flush();
        const [row] = (await db.query(
          `SELECT coalesce(sum(pulls), 0)::int AS n FROM image_pull_daily i JOIN chart c ON c.id = i.chart_id
            WHERE c.name = 'alpha' AND i.version = '1.0.0' AND i.license_id = $1`,
          [license.id],
        )) as Array<{ n: number }>;
        return row.n;
      };
      const everything = async () =>
        (
          (await db.query(`SELECT coalesce(sum(pulls), 0)::int AS n FROM image_pull_daily`)) as Array<{
            n: number;
          }>
        )[0].n;
      const before = await pulls();
      const everythingBefore = await everything();
      expect(before).toBeGreaterThan(0); // the pulls of the tests above
      expect((await buyer.fetch('/v2/acme/app-server/manifests/1.0', { method: 'HEAD' })).status).toBe(200);
      expect((await buyer.fetch('/v2/acme/app-server/manifests/1.0')).status).toBe(200);
      expect((await buyer.fetch(`/v2/acme/app-server/manifests/${appImage.digest}`)).status).toBe(200);
      // A tag no release names is not an image pull, nor is a chart's own manifest.
      expect((await push.fetch('/v2/acme/app-server/manifests/2.0-unreleased')).status).toBe(200);
      expect((await buyer.fetch('/v2/acme/alpha/manifests/1.0.0')).status).toBe(200);
      // Counted just after each answer is sent.
      await waitFor(async () => (await pulls()) >= before + 2, 'two image pulls counted');
      expect(await pulls()).toBe(before + 2);
      expect(await everything()).toBe(everythingBefore + 2);

      const report = (await (
        await fetch(`${store.url}/v1/publishers/acme/analytics/downloads?license=${license.id}`, {
          headers: { authorization: `Bearer ${acme.accessToken}` },
        })
      ).json()) as { imagePulls: Array<{ chart: string; version: string; pulls: number }> };
      expect(report.imagePulls).toEqual([
        { day: new Date().toISOString().slice(0, 10), chart: 'alpha', version: '1.0.0', pulls: before + 2 },
      ]);
      const page = await consoleGet(
        store,
        `/console/acme/analytics?license=${license.id}`,
        await consoleSignIn(store, acme),
      );
      expect(await page.text()).toMatch(
        new RegExp(`<table id="image-pulls">.*<td>alpha</td><td>1\\.0\\.0</td><td>${before + 2} <meter`),
      );
    });

    it('refuses a revoked license with 403 and a readable message', async () => {
      const revoke = await fetch(`${store.url}/v1/publishers/acme/licenses/${license.id}/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${acme.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'Refunded by agreement.' }),
      });
      expect(revoke.status).toBe(204);
      const res = await buyer.fetch('/v2/acme/app-server/manifests/1.0');
      expect(res.status).toBe(403);
      const body = (await res.json()) as { errors: Array<{ code: string; message: string }> };
      expect(body.errors[0]).toMatchObject({
        code: 'DENIED',
        message: 'This license is revoked; contact the publisher.',
      });
    });
  });

  it('serves a free chart uploaded through the ChartMuseum API to anyone over OCI, layer digest = index digest', async () => {
    const archive = await simpleChart('freebie', '0.1.0+build.7');
    await publishChart(store.url, acme, 'freebie', archive, 0);
    const m = await anon.fetch('/v2/acme/freebie/manifests/0.1.0_build.7');
    expect(m.status).toBe(200);
    const doc = (await m.json()) as {
      config: { mediaType: string; digest: string };
      layers: Array<{ digest: string; mediaType: string }>;
    };
    expect(doc.layers[0]).toMatchObject({
      digest: digestOf(archive),
      mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
    });
    const config = JSON.parse(
      Buffer.from(
        await (await anon.fetch(`/v2/acme/freebie/blobs/${doc.config.digest}`)).arrayBuffer(),
      ).toString(),
    );
    expect(config).toMatchObject({ name: 'freebie', version: '0.1.0+build.7', apiVersion: 'v2' });
    const layer = await anon.fetch(`/v2/acme/freebie/blobs/${digestOf(archive)}`);
    expect(Buffer.from(await layer.arrayBuffer()).equals(archive)).toBe(true);
    // An OCI pull of the chart layer is a download like a .tgz from the classic repository.
    await store.app.get(DownloadCounter).flush();
    const counted = (await store.app
      .get(DataSource)
      .query(
        `SELECT d.version, d.pulls::int AS pulls FROM chart_download_daily d JOIN chart c ON c.id = d.chart_id WHERE c.name = 'freebie'`,
      )) as Array<{ version: string; pulls: number }>;
    expect(counted).toEqual([{ version: '0.1.0+build.7', pulls: 1 }]);
    const index = (await (await fetch(`${store.url}/helm/acme/index.yaml`)).json()) as {
      entries: Record<string, Array<{ digest: string }>>;
    };
    expect(`sha256:${index.entries.freebie[0].digest}`).toBe(digestOf(archive));
    const tags = (await (await anon.fetch('/v2/acme/freebie/tags/list')).json()) as { tags: string[] };
    expect(tags.tags).toEqual(['0.1.0_build.7']);
    // A version uploaded later through the ChartMuseum API is on OCI at once, for the same audience.
    expect(
      (await uploadChart(store.url, 'acme', acme.apiToken, await simpleChart('freebie', '0.2.0'))).status,
    ).toBe(201);
    expect((await anon.fetch('/v2/acme/freebie/manifests/0.2.0')).status).toBe(200);
  });

  it("removes a closed account's registry content; its bytes go with the next orphan sweep", async () => {
    const leaving = await createPublisher(store.url, 'leaving');
    const client = new OciClient(store.url, { user: 'ci', pass: leaving.apiToken });
    await client.pushImage('leaving/app', '1.0');
    const db = store.app.get(DataSource);
    const [{ id }] = (await db.query(`SELECT id FROM publisher WHERE slug = 'leaving'`)) as Array<{
      id: string;
    }>;
    expect(await countKeys(`oci/${id}/`)).toBeGreaterThan(0);
    const closed = await fetch(`${store.url}/v1/account`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${leaving.accessToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ password: leaving.password }),
    });
    expect(closed.status).toBe(204);
    const left = (await db.query(
      `SELECT (SELECT count(*) FROM oci_repository WHERE publisher_id = $1)::int AS repos,
              (SELECT count(*) FROM oci_blob WHERE publisher_id = $1)::int AS blobs`,
      [id],
    )) as Array<{ repos: number; blobs: number }>;
    expect(left).toEqual([{ repos: 0, blobs: 0 }]);
    await store.app.get(RegistryJanitor).run(Date.now() + 3 * 3600_000);
    expect(await countKeys(`oci/${id}/`)).toBe(0);
  });

  it('purges abandoned uploads and collects blobs nothing uses, after the grace period', async () => {
    const start = await push.fetch('/v2/acme/gc/blobs/uploads/', { method: 'POST' });
    const location = start.headers.get('location')!;
    await push.fetch(location, { method: 'PATCH', body: randomBytes(4000) });
    const loose = randomBytes(3000);
    await push.pushBlob('acme/gc', loose);
    const kept = await push.pushImage('acme/gc', 'keep', 1, 500);
    const db = store.app.get(DataSource);
    const janitor = store.app.get(RegistryJanitor);
    // Nothing is old enough yet.
    expect(await janitor.run()).toMatchObject({ uploads: 0, blobs: 0 });
    await db.query(`UPDATE oci_upload SET updated_at = now() - interval '2 days'`);
    await db.query(`UPDATE oci_repository_blob SET created_at = now() - interval '2 hours'`);
    const report = await janitor.run(Date.now() + 3 * 3600_000);
    expect(report.uploads).toBeGreaterThanOrEqual(1);
    expect(report.blobs).toBeGreaterThanOrEqual(1);
    expect((await push.fetch(location)).status).toBe(404);
    expect((await push.fetch(`/v2/acme/gc/blobs/${digestOf(loose)}`, { method: 'HEAD' })).status).toBe(404);
    const keep = await push.fetch(`/v2/acme/gc/blobs/${kept.layers[0].digest}`);
    expect(Buffer.from(await keep.arrayBuffer()).equals(kept.layers[0].bytes)).toBe(true);
    expect(
      await countKeys(
        `oci/${(await db.query(`SELECT id FROM publisher WHERE slug = 'acme'`))[0].id}/uploads/`,
      ),
    ).toBeGreaterThan(0);
  });
});

describe('an upload session across replicas', () => {
  it('takes the chunks of one upload from two replicas sharing the database and the blob store', async () => {
    const db = await createTestDatabase('registry_replicas');
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-replicas-'));
    const config = loadConfig({
      DATA_DIR: dataDir,
      DATABASE_URL: db.url,
      LOG_LEVEL: 'silent',
      NODE_ENV: 'test',
      SIGNUP_EMAIL_VERIFICATION: 'off',
    });
    const apps = [await createApp(config), await createApp(config)];
    try {
      const urls: string[] = [];
      for (const app of apps) {
        await app.listen(0, '127.0.0.1');
        urls.push(`http://127.0.0.1:${(app.getHttpServer().address() as { port: number }).port}`);
      }
      const pub = await createPublisher(urls[0], 'replicas');
      const [a, b] = urls.map((u) => new OciClient(u, { user: 'ci', pass: pub.apiToken }));
      const bytes = randomBytes(90_000);
      const location = (await a.fetch('/v2/replicas/app/blobs/uploads/', { method: 'POST' })).headers.get(
        'location',
      )!;
      const patch = (c: OciClient, from: number, to: number) =>
        c.fetch(location, {
          method: 'PATCH',
          headers: { 'content-range': `${from}-${to - 1}` },
          body: bytes.subarray(from, to),
        });
      expect((await patch(b, 0, 30_000)).status).toBe(202);
      expect((await patch(a, 30_000, 60_000)).headers.get('range')).toBe('0-59999');
      // The same chunk again, on the other replica: out of order now.
      expect((await patch(b, 30_000, 60_000)).status).toBe(416);
      const done = await b.fetch(`${location}?digest=${digestOf(bytes)}`, {
        method: 'PUT',
        body: bytes.subarray(60_000),
      });
      expect(done.status).toBe(201);
      const back = await a.fetch(`/v2/replicas/app/blobs/${digestOf(bytes)}`);
      expect(Buffer.from(await back.arrayBuffer()).equals(bytes)).toBe(true);
    } finally {
      for (const app of apps) await app.close();
      await db.drop();
    }
  });
});

describe('the registry on the S3 blob store (MinIO)', () => {
  let minio: MinioServer;
  let store: InProcessStore;

  beforeAll(async () => {
    minio = await startMinio();
    store = await startInProcess('postgres', s3StoreEnv(minio));
  }, 60_000);
  afterAll(async () => {
    await store?.close();
    await minio?.stop();
  });

  it('takes a chunked upload and an image, serves ranges and collects an abandoned session', async () => {
    const pub = await createPublisher(store.url, 'acme');
    const push = new OciClient(store.url, { user: 'ci', pass: pub.apiToken });
    const bytes = randomBytes(200_000);
    const location = (await push.fetch('/v2/acme/app/blobs/uploads/', { method: 'POST' })).headers.get(
      'location',
    )!;
    for (const [from, to] of [
      [0, 70_000],
      [70_000, 140_000],
    ]) {
      const res = await push.fetch(location, {
        method: 'PATCH',
        headers: { 'content-range': `${from}-${to - 1}` },
        body: bytes.subarray(from, to),
      });
      expect(res.headers.get('range')).toBe(`0-${to - 1}`);
    }
    const done = await push.fetch(`${location}?digest=${digestOf(bytes)}`, {
      method: 'PUT',
      body: bytes.subarray(140_000),
    });
    expect(done.status).toBe(201);
    const part = await push.fetch(`/v2/acme/app/blobs/${digestOf(bytes)}`, {
      headers: { range: 'bytes=69990-70009' },
    });
    expect([part.status, part.headers.get('content-range')]).toEqual([206, 'bytes 69990-70009/200000']);
    expect(Buffer.from(await part.arrayBuffer()).equals(bytes.subarray(69_990, 70_010))).toBe(true);
    const image = await push.pushImage('acme/app', '1.0');
    const m = await push.fetch('/v2/acme/app/manifests/1.0');
    expect(Buffer.from(await m.arrayBuffer()).equals(image.manifest)).toBe(true);
    const left = (await push.fetch('/v2/acme/app/blobs/uploads/', { method: 'POST' })).headers.get(
      'location',
    )!;
    await push.fetch(left, { method: 'PATCH', body: randomBytes(5000) });
    await store.app.get(DataSource).query(`UPDATE oci_upload SET updated_at = now() - interval '2 days'`);
    expect((await store.app.get(RegistryJanitor).run()).uploads).toBe(1);
    expect((await push.fetch(left)).status).toBe(404);
  });

  it('asks chunked clients for whole parts, and stores a blob of several parts streamed, not buffered', async () => {
    const pub = await createPublisher(store.url, 'bigpub');
    const push = new OciClient(store.url, { user: 'ci', pass: pub.apiToken });
    const session = await push.fetch('/v2/bigpub/big/blobs/uploads/', { method: 'POST' });
    expect(session.status).toBe(202);
    expect(session.headers.get('oci-chunk-min-length')).toBe(String(8 * 1024 * 1024));
    // 20 MiB in one monolithic PUT: three multipart parts in the bucket, the digest checked on the way.
    const bytes = randomBytes(20 * 1024 * 1024);
    const digest = digestOf(bytes);
    const put = await push.fetch(`${session.headers.get('location')!}?digest=${digest}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/octet-stream' },
      body: bytes,
    });
    expect(put.status).toBe(201);
    const back = await push.fetch(`/v2/bigpub/big/blobs/${digest}`);
    expect(back.headers.get('content-length')).toBe(String(bytes.length));
    expect(digestOf(Buffer.from(await back.arrayBuffer()))).toBe(digest);

    // A session holds at most 10,000 chunks (each one is an object): the next is refused, nothing kept.
    const tiny = (await push.fetch('/v2/bigpub/big/blobs/uploads/', { method: 'POST' })).headers.get(
      'location',
    )!;
    const id = tiny.split('/').at(-1);
    const db = store.app.get(DataSource);
    await db.query(
      `UPDATE oci_upload SET parts = (SELECT jsonb_agg(jsonb_build_object('key', 'oci/none/' || i, 'size', 1, 'sha256', ''))
         FROM generate_series(1, 10000) AS i), size = 10000 WHERE id = $1`,
      [id],
    );
    const refused = await push.fetch(tiny, {
      method: 'PATCH',
      headers: { 'content-range': '10000-10000' },
      body: Buffer.from('x'),
    });
    expect(refused.status).toBe(400);
    expect(
      ((await refused.json()) as { errors: Array<{ detail: { code: string } }> }).errors[0].detail.code,
    ).toBe('blob_upload_invalid');
    const [row] = await db.query(
      `SELECT size, jsonb_array_length(parts) AS n FROM oci_upload WHERE id = $1`,
      [id],
    );
    expect([Number(row.size), row.n]).toEqual([10000, 10000]);
  });
});
