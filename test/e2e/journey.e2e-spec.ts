import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPublisher, json, Publisher, putListing } from '../support/api';
import { fixtureCharts, simpleChart } from '../support/charts';
import { Helm } from '../support/helm';
import { s3StoreEnv, startMinio, MinioServer } from '../support/minio';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { startStore, StoreProcess } from '../support/store-process';

const exec = promisify(execFile);
jest.setTimeout(180_000);

/**
 * The journey of the foundation issue, against the built app started as a child process on the
 * machine's Postgres and (second block) on S3 in MinIO: sign up, token, upload with curl, publish,
 * then the real Helm v3 and v4 clients add, search, pull and template; and `helm cm-push` uploads.
 */
describe.each([
  ['postgres + fs', 'fs'],
  ['postgres + s3 (MinIO)', 's3'],
] as const)('publisher to helm install on %s', (_label, blobDriver) => {
  let db: TestDatabase;
  let minio: MinioServer | undefined;
  let store: StoreProcess;
  let pub: Publisher;
  const superdb = fixtureCharts().find((c) => c.file.startsWith('prometheus-pushgateway-'))!;
  const chartName = superdb.file.replace(/-\d+\.\d+\.\d+\.tgz$/, '');
  const chartVersion = superdb.file.slice(chartName.length + 1, -'.tgz'.length);

  beforeAll(async () => {
    db = await createTestDatabase();
    const env: Record<string, string> = { DATABASE_URL: db.url };
    if (blobDriver === 's3') {
      minio = await startMinio();
      Object.assign(env, s3StoreEnv(minio));
    }
    store = await startStore(env);
    pub = await createPublisher(store.url, 'acme');
  });
  afterAll(async () => {
    await store?.stop();
    await minio?.stop();
    await db?.drop();
  });

  it('uploads with curl --data-binary, keeps it a draft until published, then serves it to Helm v3 and v4', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-journey-'));
    const file = join(dir, superdb.file);
    writeFileSync(file, superdb.bytes);
    const { stdout } = await exec('curl', [
      '-sS',
      '--data-binary',
      `@${file}`,
      '-H',
      `Authorization: Bearer ${pub.apiToken}`,
      `${store.url}/api/acme/charts`,
    ]);
    expect(JSON.parse(stdout)).toEqual({ saved: true });

    // A draft is in no anonymous index.
    const draft = (await (await fetch(`${store.url}/helm/acme/index.yaml`)).json()) as {
      entries: Record<string, unknown>;
    };
    expect(draft.entries).toEqual({});

    const listing = await putListing(store.url, 'acme', pub.apiToken, chartName);
    expect(listing.status).toBe(200);

    for (const version of ['helm3', 'helm4'] as const) {
      const helm = new Helm(version);
      await helm.ok('repo', 'add', 'acme', `${store.url}/helm/acme`);
      const search = await helm.ok('search', 'repo', 'acme');
      expect(search).toContain(`acme/${chartName}`);
      expect(search).toContain(chartVersion);
      const dest = mkdtempSync(join(tmpdir(), `berth-pull-${version}-`));
      await helm.ok('pull', `acme/${chartName}`, '--destination', dest);
      const pulled = readFileSync(join(dest, superdb.file));
      expect(pulled.equals(superdb.bytes)).toBe(true);
      const rendered = await helm.ok('template', 'x', `acme/${chartName}`);
      expect(rendered).toMatch(/kind: (Deployment|Service)/);
    }
  });

  it.each([
    ['helm3', '0.3.2'],
    ['helm4', '0.4.0'],
  ] as const)(
    'accepts `%s cm-push` with the API token as the repository password',
    async (helmVersion, version) => {
      const chart = await simpleChart('pushed', version);
      const dir = mkdtempSync(join(tmpdir(), 'berth-push-'));
      const file = join(dir, `pushed-${version}.tgz`);
      writeFileSync(file, chart);
      const helm = new Helm(helmVersion);
      await helm.ok(
        'repo',
        'add',
        'acme-push',
        `${store.url}/helm/acme`,
        '--username',
        'ci',
        '--password',
        pub.apiToken,
      );
      const out = await helm.ok('cm-push', file, 'acme-push');
      expect(out).toMatch(/Done/);
      // The publisher's own view shows the new draft; the public index does not.
      const mine = await fetch(`${store.url}/api/acme/charts/pushed`, {
        headers: { authorization: `Bearer ${pub.apiToken}` },
      });
      expect(((await json(mine)) as Array<{ version: string }>).map((v) => v.version)).toContain(version);
      // cm-push repackages the archive before sending it; what is served must be exactly what it sent,
      // so the bytes hash to the digest the store recorded.
      const entry = (await (
        await fetch(`${store.url}/api/acme/charts/pushed/${version}`, {
          headers: { authorization: `Bearer ${pub.apiToken}` },
        })
      ).json()) as { digest: string; version: string };
      expect(entry.version).toBe(version);
      const pulled = await fetch(`${store.url}/helm/acme/charts/pushed-${version}.tgz`, {
        headers: { authorization: `Bearer ${pub.apiToken}` },
      });
      expect(
        createHash('sha256')
          .update(Buffer.from(await pulled.arrayBuffer()))
          .digest('hex'),
      ).toBe(entry.digest);
      // The same version again is refused by cm-push too.
      const again = await helm.run('cm-push', file, 'acme-push');
      expect(again.code).not.toBe(0);
      expect(again.stderr + again.stdout).toMatch(/409|exists/);
      // A wrong password is refused on the repository itself (Helm never retries a 401).
      const wrong = await new Helm(helmVersion).run(
        'repo',
        'add',
        'bad',
        `${store.url}/helm/acme`,
        '--username',
        'x',
        '--password',
        'berth_pat_wrong',
      );
      expect(wrong.code).not.toBe(0);
      expect(wrong.stderr).toMatch(/401/);
    },
  );

  it('answers HEAD, ETag and gzip on the index and the archive', async () => {
    const res = await fetch(`${store.url}/helm/acme/index.yaml`);
    const etag = res.headers.get('etag')!;
    expect(etag).toBeTruthy();
    expect(
      (await fetch(`${store.url}/helm/acme/index.yaml`, { headers: { 'if-none-match': etag } })).status,
    ).toBe(304);
    const gz = await fetch(`${store.url}/helm/acme/index.yaml`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    const head = await fetch(`${store.url}/helm/acme/charts/${superdb.file}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(superdb.bytes.length));
    expect(head.headers.get('etag')).toContain(
      (
        (await (await fetch(`${store.url}/helm/acme/index.yaml`)).json()) as {
          entries: Record<string, Array<{ digest: string }>>;
        }
      ).entries[chartName][0].digest,
    );
    expect(readdirSync(store.dataDir)).toContain('secrets');
  });
});
