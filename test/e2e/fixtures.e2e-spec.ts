import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { createPublisher, Publisher, putListing, uploadChart } from '../support/api';
import { fixtureCharts } from '../support/charts';
import { Helm } from '../support/helm';
import { toolPath } from '../support/tools';
import { startStore, StoreProcess } from '../support/store-process';

jest.setTimeout(300_000);

type Entry = Record<string, unknown> & {
  name: string;
  version: string;
  digest: string;
  urls: string[];
  created: string;
};

/**
 * All 44 real prometheus-community charts through the embedded default (PGlite, files under DATA_DIR),
 * exactly as `npm start` runs: accepted, indexed with the entries `helm repo index` writes for the
 * same files, and served byte for byte to Helm v3 and v4. Restarting keeps everything.
 */
describe('the 44 real charts on the embedded default', () => {
  let store: StoreProcess;
  let pub: Publisher;
  const fixtures = fixtureCharts();

  beforeAll(async () => {
    store = await startStore({ DATABASE_URL: undefined });
    pub = await createPublisher(store.url, 'prometheus-community');
  });
  afterAll(async () => store?.stop());

  it('accepts every fixture and publishes it', async () => {
    expect(fixtures).toHaveLength(44);
    for (const f of fixtures) {
      const res = await uploadChart(store.url, pub.slug, pub.apiToken, f.bytes);
      expect([f.file, res.status, await res.text()]).toEqual([f.file, 201, '{"saved":true}']);
    }
    for (const f of fixtures) {
      const name = f.file.replace(/-\d+\.\d+\.\d+\.tgz$/, '');
      expect((await putListing(store.url, pub.slug, pub.apiToken, name)).status).toBe(200);
    }
  });

  it('indexes each chart exactly as `helm repo index` does, apart from created and urls', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'berth-helm-index-'));
    for (const f of fixtures) writeFileSync(join(dir, f.file), f.bytes);
    execFileSync(toolPath('helm3'), ['repo', 'index', dir], { env: { ...process.env, HOME: dir } });
    const helmIndex = YAML.parse(readFileSync(join(dir, 'index.yaml'), 'utf8')) as {
      entries: Record<string, Entry[]>;
    };
    const ours = (await (await fetch(`${store.url}/helm/${pub.slug}/index.yaml`)).json()) as {
      apiVersion: string;
      entries: Record<string, Entry[]>;
    };
    expect(ours.apiVersion).toBe('v1');
    expect(Object.keys(ours.entries).sort()).toEqual(Object.keys(helmIndex.entries).sort());
    const strip = ({ created: _c, urls: _u, ...rest }: Entry) => rest;
    for (const name of Object.keys(helmIndex.entries)) {
      expect([name, ours.entries[name].map(strip)]).toEqual([name, helmIndex.entries[name].map(strip)]);
      expect(ours.entries[name][0].urls).toEqual([`charts/${name}-${ours.entries[name][0].version}.tgz`]);
    }
  });

  it('serves every fixture over OCI as helm push would have, and takes all 44 from helm push into the index', async () => {
    const helm = new Helm('helm4');
    const host = new URL(store.url).host;
    const dest = mkdtempSync(join(tmpdir(), 'berth-fixtures-oci-'));
    // Uploaded through the ChartMuseum API, pulled over OCI (anonymously: they are published and free).
    for (const f of fixtures) {
      const name = f.file.replace(/-\d+\.\d+\.\d+\.tgz$/, '');
      const version = f.file.slice(name.length + 1, -4);
      await helm.ok(
        'pull',
        `oci://${host}/${pub.slug}/${name}`,
        '--version',
        version,
        '--plain-http',
        '-d',
        dest,
      );
      expect([f.file, readFileSync(join(dest, f.file)).equals(f.bytes)]).toEqual([f.file, true]);
    }
    // Pushed with helm push by another publisher: its index equals what `helm repo index` writes.
    const pusher = await createPublisher(store.url, 'oci-pusher');
    await helm.ok(
      'registry',
      'login',
      host,
      '--username',
      'ci',
      '--password',
      pusher.apiToken,
      '--plain-http',
    );
    const dir = mkdtempSync(join(tmpdir(), 'berth-fixtures-push-'));
    for (const f of fixtures) {
      writeFileSync(join(dir, f.file), f.bytes);
      await helm.ok('push', join(dir, f.file), `oci://${host}/${pusher.slug}`, '--plain-http');
    }
    execFileSync(toolPath('helm3'), ['repo', 'index', dir], { env: { ...process.env, HOME: dir } });
    const helmIndex = YAML.parse(readFileSync(join(dir, 'index.yaml'), 'utf8')) as {
      entries: Record<string, Entry[]>;
    };
    const pushed = (await (
      await fetch(`${store.url}/helm/${pusher.slug}/index.yaml`, {
        headers: { authorization: `Basic ${Buffer.from(`ci:${pusher.apiToken}`).toString('base64')}` },
      })
    ).json()) as { entries: Record<string, Entry[]> };
    const strip = ({ created: _c, urls: _u, ...rest }: Entry) => rest;
    expect(Object.keys(pushed.entries).sort()).toEqual(Object.keys(helmIndex.entries).sort());
    for (const name of Object.keys(helmIndex.entries)) {
      expect([name, pushed.entries[name].map(strip)]).toEqual([name, helmIndex.entries[name].map(strip)]);
    }
  });

  it('serves every archive byte for byte to Helm v3 and v4, and survives a restart', async () => {
    for (const version of ['helm3', 'helm4'] as const) {
      const helm = new Helm(version);
      await helm.ok('repo', 'add', 'pc', `${store.url}/helm/${pub.slug}`);
      const dest = mkdtempSync(join(tmpdir(), `berth-fixtures-${version}-`));
      for (const f of fixtures) {
        const name = f.file.replace(/-\d+\.\d+\.\d+\.tgz$/, '');
        await helm.ok('pull', `pc/${name}`, '--destination', dest);
        expect([f.file, readFileSync(join(dest, f.file)).equals(f.bytes)]).toEqual([f.file, true]);
      }
    }
    const dataDir = store.dataDir;
    const port = store.port;
    expect(await store.stop()).toBe(0);
    store = await startStore({
      DATABASE_URL: undefined,
      DATA_DIR: dataDir,
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
    });
    const index = (await (await fetch(`${store.url}/helm/${pub.slug}/index.yaml`)).json()) as {
      entries: Record<string, unknown[]>;
    };
    expect(Object.keys(index.entries)).toHaveLength(44);
    // The embedded database has no password: it listens only on a socket in a folder only we can enter.
    expect(statSync(join(dataDir, 'pg-socket')).mode & 0o777).toBe(0o700);
    expect(statSync(join(dataDir, 'pg-socket', '.s.PGSQL.5432')).isSocket()).toBe(true);
  });
});
