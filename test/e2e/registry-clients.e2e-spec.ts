import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPublisher, Publisher, publishChart, putListing } from '../support/api';
import { simpleChart, tarGz } from '../support/charts';
import { buyLocally } from '../support/checkout';
import { FakeKube, startFakeKube } from '../support/fake-kube';
import { Helm, HelmBinary } from '../support/helm';
import { digestOf } from '../support/oci';
import { OciTool, startContainerd } from '../support/oci-tools';
import { createTestDatabase, TestDatabase } from '../support/postgres';
import { startStore, StoreProcess } from '../support/store-process';
import { toolPath } from '../support/tools';

const execFileP = promisify(execFile);
jest.setTimeout(300_000);

const HELMS: HelmBinary[] = ['helm3', 'helm4', 'helm3-next', 'helm4-next'];

/**
 * The registry as real clients use it: Helm v3 and v4 (pinned and newest) push and pull charts; crane,
 * skopeo, regctl and oras push and copy images and artifacts; containerd pulls a release image with a
 * license; and the distribution-spec conformance suite runs against it.
 */
describe('the OCI registry with real clients', () => {
  let db: TestDatabase;
  let store: StoreProcess;
  let acme: Publisher;
  let host: string;
  let kube: FakeKube;

  beforeAll(async () => {
    db = await createTestDatabase('registry');
    store = await startStore({ DATABASE_URL: db.url });
    acme = await createPublisher(store.url, 'acme');
    host = new URL(store.url).host;
    kube = await startFakeKube();
  }, 120_000);
  afterAll(async () => {
    await store?.stop();
    await db?.drop();
    await kube?.close();
  });

  describe.each(HELMS)('%s', (bin) => {
    it('pushes a free and a paid chart, then pulls, templates and dry-run installs them over OCI', async () => {
      const helm = new Helm(bin);
      helm.kubeconfig = kube.kubeconfig;
      const suffix = bin.replace('helm', 'h');
      // Helm 3 learns plain HTTP from --insecure at login; Helm 4 wants --plain-http there too.
      const loginFlag = bin.startsWith('helm3') ? '--insecure' : '--plain-http';
      const dir = mkdtempSync(join(tmpdir(), 'berth-oci-charts-'));
      const free = { name: `free-${suffix}`, version: '1.0.0' };
      const paid = { name: `paid-${suffix}`, version: '2.0.0+build.1' };
      const files: Record<string, Buffer> = {};
      for (const c of [free, paid]) {
        files[c.name] = await simpleChart(c.name, c.version);
        writeFileSync(join(dir, `${c.name}-${c.version}.tgz`), files[c.name]);
      }
      await helm.ok('registry', 'login', host, '--username', 'ci', '--password', acme.apiToken, loginFlag);
      for (const c of [free, paid]) {
        const out = await helm.run(
          'push',
          join(dir, `${c.name}-${c.version}.tgz`),
          `oci://${host}/acme`,
          '--plain-http',
        );
        expect([out.code, `${out.stdout}${out.stderr}`]).toEqual([
          0,
          expect.stringContaining(`Pushed: ${host}/acme/${c.name}:${c.version.replace('+', '_')}`),
        ]);
      }
      // One object, two wire formats: the pushed charts are in the classic index with the same digest.
      const index = (await (
        await fetch(`${store.url}/helm/acme/index.yaml`, {
          headers: { authorization: `Basic ${Buffer.from(`ci:${acme.apiToken}`).toString('base64')}` },
        })
      ).json()) as { entries: Record<string, Array<{ version: string; digest: string }>> };
      for (const c of [free, paid]) {
        expect(index.entries[c.name].map((e) => [e.version, `sha256:${e.digest}`])).toEqual([
          [c.version, digestOf(files[c.name])],
        ]);
      }
      expect((await putListing(store.url, 'acme', acme.apiToken, free.name)).status).toBe(200);
      const listing = await putListing(store.url, 'acme', acme.apiToken, paid.name, {
        price: { amount: 4900, currency: 'usd' },
        updatePolicy: { kind: 'all' },
        published: true,
      });
      expect(listing.status).toBe(200);
      await helm.ok('registry', 'logout', host);

      const out = join(dir, 'pulled');
      mkdirSync(out);
      const ref = (c: { name: string }) => `oci://${host}/acme/${c.name}`;
      await helm.ok('pull', ref(free), '--version', free.version, '--plain-http', '-d', out);
      expect(readFileSync(join(out, `${free.name}-${free.version}.tgz`)).equals(files[free.name])).toBe(true);
      const rendered = await helm.ok(
        'template',
        'demo',
        ref(free),
        '--version',
        free.version,
        '--plain-http',
      );
      expect(rendered).toContain('name: demo-cm');
      const dryRun = await helm.ok(
        'install',
        'demo',
        ref(free),
        '--version',
        free.version,
        '--plain-http',
        '--dry-run=client',
        ...(bin.startsWith('helm3') ? ['--disable-openapi-validation'] : []),
      );
      expect(dryRun).toContain('STATUS: pending-install');
      expect(dryRun).toContain('name: demo-cm');
      // The paid chart: nothing without a license, then exactly the bytes with one.
      const refused = await helm.run('pull', ref(paid), '--version', paid.version, '--plain-http', '-d', out);
      expect(refused.code).not.toBe(0);
      const license = await buyLocally(store.url, { publisher: 'acme', chart: paid.name });
      await helm.ok(
        'registry',
        'login',
        host,
        '--username',
        license.id,
        '--password',
        license.key,
        loginFlag,
      );
      await helm.ok('pull', ref(paid), '--version', paid.version, '--plain-http', '-d', out);
      expect(readFileSync(join(out, `${paid.name}-${paid.version}.tgz`)).equals(files[paid.name])).toBe(true);
      // The license opens its own chart only.
      const other = await helm.run(
        'pull',
        ref(free).replace(free.name, `paid-${suffix === 'h3' ? 'h4' : 'h3'}`),
        '--version',
        '2.0.0+build.1',
        '--plain-http',
        '-d',
        out,
      );
      expect(other.code).not.toBe(0);
    });
  });

  it('takes images from crane, skopeo, regctl (chunked) and oras, and a license pulls its release image through containerd', async () => {
    const crane = new OciTool('crane');
    const skopeo = new OciTool('skopeo');
    const regctl = new OciTool('regctl');
    const oras = new OciTool('oras');
    const creds = `ci:${acme.apiToken}`;
    await crane.ok('auth', 'login', host, '-u', 'ci', '-p', acme.apiToken);
    const layer = await tarGz([
      { name: 'etc/berth/hello.txt', content: 'hello from a licensed image\n' },
      { name: 'opt/blob.bin', content: randomBytes(300_000).toString('base64') },
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'berth-oci-images-'));
    writeFileSync(join(dir, 'layer.tgz'), layer);
    await crane.ok(
      'append',
      '--insecure',
      '--oci-empty-base',
      '-f',
      join(dir, 'layer.tgz'),
      '-t',
      `${host}/acme/app:base`,
    );
    await crane.ok(
      'mutate',
      '--insecure',
      '--set-platform',
      'linux/amd64',
      `${host}/acme/app:base`,
      '-t',
      `${host}/acme/app:1.0`,
    );
    await crane.ok(
      'mutate',
      '--insecure',
      '--set-platform',
      'linux/arm64',
      `${host}/acme/app:base`,
      '-t',
      `${host}/acme/app:1.0-arm64`,
    );
    await crane.ok(
      'index',
      'append',
      '--insecure',
      '-m',
      `${host}/acme/app:1.0`,
      '-m',
      `${host}/acme/app:1.0-arm64`,
      '-t',
      `${host}/acme/app:multi`,
    );
    const multi = (await crane.ok('digest', '--insecure', `${host}/acme/app:multi`)).trim();

    await skopeo.ok(
      '--insecure-policy',
      'copy',
      '--all',
      '--src-tls-verify=false',
      '--dest-tls-verify=false',
      '--src-creds',
      creds,
      '--dest-creds',
      creds,
      `docker://${host}/acme/app:multi`,
      `docker://${host}/acme/app-skopeo:multi`,
    );
    // skopeo writes manifests of its own encoding: the same platforms and layers, other digests.
    const layersOf = async (ref: string, platform: string) =>
      (
        JSON.parse(await crane.ok('manifest', '--insecure', '--platform', platform, ref)) as {
          layers: Array<{ digest: string }>;
        }
      ).layers.map((l) => l.digest);
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      expect(await layersOf(`${host}/acme/app-skopeo:multi`, platform)).toEqual([digestOf(layer)]);
    }

    // regctl into another publisher's namespace (a mount from acme must not work there): every blob is
    // uploaded, in 64 KiB chunks.
    const beta = await createPublisher(store.url, 'beta');
    // Setting plain HTTP pings the registry, which answers 401 before the login: the setting is kept.
    await regctl.run('registry', 'set', host, '--tls', 'disabled');
    await regctl.ok('registry', 'login', host, '-u', 'ci', '-p', acme.apiToken);
    await regctl.ok('registry', 'set', host, '--blob-chunk', '65536', '--blob-max', '1');
    const layout = `ocidir://${join(dir, 'layout')}:multi`;
    await regctl.ok('image', 'copy', `${host}/acme/app:multi`, layout);
    await regctl.ok('registry', 'login', host, '-u', 'ci', '-p', beta.apiToken);
    const before = store.output.length;
    await regctl.ok('image', 'copy', layout, `${host}/beta/app-regctl:multi`);
    const patches = store.output
      .slice(before)
      .filter((l) => l.includes('"method":"PATCH"') && l.includes('/v2/beta/app-regctl/blobs/uploads/'));
    expect(patches.length).toBeGreaterThanOrEqual(5);
    expect((await regctl.ok('image', 'digest', `${host}/beta/app-regctl:multi`)).trim()).toBe(multi);
    // acme's own credentials see nothing of beta's.
    expect((await crane.run('digest', '--insecure', `${host}/beta/app-regctl:multi`)).stderr).toMatch(
      /MANIFEST_UNKNOWN|NAME_UNKNOWN/,
    );

    writeFileSync(join(oras.home, 'notes.txt'), 'release notes\n');
    await oras.ok(
      'push',
      '--plain-http',
      '-u',
      'ci',
      '-p',
      acme.apiToken,
      `${host}/acme/notes:v1`,
      'notes.txt:text/plain',
    );
    const pulled = join(dir, 'oras-out');
    await oras.ok(
      'pull',
      '--plain-http',
      '-u',
      'ci',
      '-p',
      acme.apiToken,
      '-o',
      pulled,
      `${host}/acme/notes:v1`,
    );
    expect(readFileSync(join(pulled, 'notes.txt'), 'utf8')).toBe('release notes\n');

    // Two releases: a license for the first reaches its image, never the second's.
    await crane.ok('copy', '--insecure', `${host}/acme/app:1.0`, `${host}/acme/other:1.0`);
    await publishChart(
      store.url,
      acme,
      'app-chart',
      await simpleChart('app-chart', '1.0.0', { 'values.yaml': `image: ${host}/acme/app:1.0\n` }),
      4900,
    );
    await publishChart(
      store.url,
      acme,
      'other-chart',
      await simpleChart('other-chart', '1.0.0', { 'values.yaml': `image: ${host}/acme/other:1.0\n` }),
      4900,
    );
    const license = await buyLocally(store.url, { publisher: 'acme', chart: 'app-chart' });
    const containerd = await startContainerd();
    try {
      const ctr = (...args: string[]) =>
        execFileP(toolPath('ctr'), ['-a', containerd.socket, ...args], { timeout: 120_000 }).then(
          (r) => ({ code: 0, out: `${r.stdout}${r.stderr}` }),
          (e: { code?: number; stdout?: string; stderr?: string }) => ({
            code: e.code ?? 1,
            out: `${e.stdout}${e.stderr}`,
          }),
        );
      const pull = (ref: string) =>
        ctr(
          'image',
          'pull',
          '--plain-http',
          '--user',
          `${license.id}:${license.key}`,
          '--snapshotter',
          'native',
          `${host}/acme/${ref}`,
        );
      const ok = await pull('app:1.0');
      expect([ok.code, ok.out]).toEqual([0, expect.stringContaining('Completed pull')]);
      expect((await ctr('image', 'ls', '-q')).out).toContain(`${host}/acme/app:1.0`);
      const otherPull = await pull('other:1.0');
      expect(otherPull.code).not.toBe(0);
      expect(otherPull.out).toMatch(/not found/i);
      const revoke = await fetch(`${store.url}/v1/publishers/acme/licenses/${license.id}/revoke`, {
        method: 'POST',
        headers: { authorization: `Bearer ${acme.accessToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ note: 'Chargeback.' }),
      });
      expect(revoke.status).toBe(204);
      await ctr('image', 'rm', `${host}/acme/app:1.0`);
      const afterRevoke = await pull('app:1.0');
      expect(afterRevoke.code).not.toBe(0);
      expect(afterRevoke.out).toMatch(/403|forbidden/i);
    } finally {
      await containerd.stop();
    }
  });

  it('passes the distribution-spec conformance suite (pull, push, content discovery and management)', async () => {
    const results = mkdtempSync(join(tmpdir(), 'berth-conformance-'));
    const run = await execFileP(toolPath('oci-conformance'), [], {
      cwd: results,
      timeout: 240_000,
      maxBuffer: 64 * 1024 * 1024,
      env: {
        PATH: process.env.PATH,
        HOME: results,
        OCI_REGISTRY: host,
        OCI_TLS: 'disabled',
        OCI_REPO1: 'acme/conformance',
        OCI_REPO2: 'acme/conformance-b',
        OCI_USERNAME: 'ci',
        OCI_PASSWORD: acme.apiToken,
        OCI_VERSION: '1.1',
        OCI_RESULTS_DIR: results,
        OCI_API_BLOBS_UPLOAD_CANCEL: 'true',
        // Not implemented: sha512 digests, and foreign (`urls`) layers, which the registry refuses on purpose.
        OCI_DATA_SHA512: 'false',
        OCI_DATA_NONDISTRIBUTABLE: 'false',
      },
    }).catch((e: { stdout?: string; stderr?: string }) => ({
      stdout: e.stdout ?? '',
      stderr: e.stderr ?? String(e),
    }));
    const out = `${run.stdout}${run.stderr}`;
    expect(out).toContain('OCI Conformance Result: Pass');
    expect(out).toMatch(/FAIL\.+:\s+0\b/);
    const passed = Number(/Pass\.+:\s+(\d+)/.exec(out)?.[1] ?? 0);
    expect(passed).toBeGreaterThan(600);
  });
});
