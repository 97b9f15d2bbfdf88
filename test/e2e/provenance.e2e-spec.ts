import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createPublisher, Publisher, putListing } from '../support/api';
import { Helm } from '../support/helm';
import { startStore, StoreProcess } from '../support/store-process';

const exec = promisify(execFile);
jest.setTimeout(120_000);

/**
 * Signed charts: `helm package --sign` makes the .tgz and its .prov, the publisher uploads both in one
 * multipart request (ChartMuseum's `chart` and `prov` fields), and buyers' `helm pull --verify` and
 * `helm template --verify` check them against the publisher's public key, with Helm v3 and v4.
 */
describe('provenance files with the real Helm and GnuPG', () => {
  let store: StoreProcess;
  let pub: Publisher;
  const dir = mkdtempSync(join(tmpdir(), 'berth-prov-'));
  const gnupg = join(dir, 'gnupg');

  beforeAll(async () => {
    mkdirSync(gnupg, { mode: 0o700 });
    writeFileSync(
      join(dir, 'key'),
      '%no-protection\nKey-Type: RSA\nKey-Length: 2048\nName-Real: Berth Test Publisher\nName-Email: signer@example.test\nExpire-Date: 0\n%commit\n',
    );
    const env = { ...process.env, GNUPGHOME: gnupg };
    await exec('gpg', ['--batch', '--gen-key', join(dir, 'key')], { env });
    const secret = (await exec('gpg', ['--export-secret-keys'], { env, encoding: 'buffer' })).stdout;
    const pubring = (await exec('gpg', ['--export'], { env, encoding: 'buffer' })).stdout;
    writeFileSync(join(dir, 'secring.gpg'), secret);
    writeFileSync(join(dir, 'pubring.gpg'), pubring);
    writeFileSync(join(dir, 'empty.gpg'), Buffer.alloc(0));
    mkdirSync(join(dir, 'signed', 'templates'), { recursive: true });
    writeFileSync(
      join(dir, 'signed', 'Chart.yaml'),
      'apiVersion: v2\nname: signed\nversion: 1.0.0\ndescription: A signed chart\n',
    );
    writeFileSync(
      join(dir, 'signed', 'templates', 'cm.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n',
    );
    await new Helm('helm3').ok(
      'package',
      '--sign',
      '--key',
      'signer@example.test',
      '--keyring',
      join(dir, 'secring.gpg'),
      join(dir, 'signed'),
      '-d',
      join(dir, 'out'),
    );

    store = await startStore({ DATABASE_URL: undefined });
    pub = await createPublisher(store.url, 'signers');
    const { stdout } = await exec('curl', [
      '-sS',
      '-H',
      `Authorization: Bearer ${pub.apiToken}`,
      '-F',
      `chart=@${join(dir, 'out', 'signed-1.0.0.tgz')}`,
      '-F',
      `prov=@${join(dir, 'out', 'signed-1.0.0.tgz.prov')}`,
      `${store.url}/api/signers/charts`,
    ]);
    expect(JSON.parse(stdout)).toEqual({ saved: true });
    expect((await putListing(store.url, 'signers', pub.apiToken, 'signed')).status).toBe(200);
  });
  afterAll(async () => store?.stop());

  it.each(['helm3', 'helm4'] as const)(
    "%s pull --verify and template --verify accept the publisher's signature",
    async (version) => {
      const helm = new Helm(version);
      await helm.ok('repo', 'add', 'signers', `${store.url}/helm/signers`);
      const dest = mkdtempSync(join(tmpdir(), 'berth-verify-'));
      const pulled = await helm.run(
        'pull',
        'signers/signed',
        '--verify',
        '--keyring',
        join(dir, 'pubring.gpg'),
        '--destination',
        dest,
      );
      expect(pulled.code).toBe(0);
      expect(pulled.stdout + pulled.stderr).toMatch(/Signed by: Berth Test Publisher/);
      const rendered = await helm.ok(
        'template',
        'x',
        'signers/signed',
        '--verify',
        '--keyring',
        join(dir, 'pubring.gpg'),
      );
      expect(rendered).toContain('kind: ConfigMap');
      // Verification is real: without the key it fails.
      const unknownKey = await helm.run(
        'pull',
        'signers/signed',
        '--verify',
        '--keyring',
        join(dir, 'empty.gpg'),
        '--destination',
        dest,
      );
      expect(unknownKey.code).not.toBe(0);
    },
  );
});
