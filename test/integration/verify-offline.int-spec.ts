import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import semver from 'semver';
import { createPublisher, json, Publisher, putListing, uploadChart, postJson as post } from '../support/api';
import { simpleChart } from '../support/charts';
import { InProcessStore, startInProcess } from '../support/in-process';

/**
 * The dependency-free offline verifier (examples/verify-offline/verify.mjs), run as buyers run it — a
 * separate `node` process with the saved JWKS — on keys the store really issued, held against what the
 * store itself answers online.
 */

jest.setTimeout(120_000);
const execFileP = promisify(execFile);
const PUBLIC_URL = 'https://berth.example.test';
const VERIFIER = resolve(__dirname, '..', '..', 'examples', 'verify-offline', 'verify.mjs');

type Key = { id: string; key: string; versionRange: string; updatesUntil: string | null };
type Verdict = { code: number; out: Record<string, unknown>; stderr: string };

const claimsOf = (key: string) =>
  JSON.parse(Buffer.from(key.slice('berth_lic_'.length).split('.')[1], 'base64url').toString()) as Record<
    string,
    unknown
  >;

async function run(...args: string[]): Promise<Verdict> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [VERIFIER, ...args], { timeout: 30_000 });
    return { code: 0, out: JSON.parse(stdout) as Record<string, unknown>, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return {
      code: err.code ?? -1,
      out: err.stdout ? (JSON.parse(err.stdout) as Record<string, unknown>) : {},
      stderr: err.stderr ?? '',
    };
  }
}

describe('offline license verification (examples/verify-offline/verify.mjs) against keys the store issued', () => {
  let store: InProcessStore;
  let acme: Publisher;
  let globex: Publisher;
  let jwksFile: string;
  /** acme/superdb, granted with the custom range ">=1 <2 || 3.x". */
  let ranged: Key;
  /** globex/superdb: another publisher's chart of the same name. */
  let foreign: Key;
  /** acme/windowdb under a 12-month update window: the key carries `upd`. */
  let windowed: Key;

  const grant = async (p: Publisher, body: Record<string, unknown>): Promise<Key> => {
    const res = await post(`${store.url}/v1/publishers/${p.slug}/licenses`, body, {
      authorization: `Bearer ${p.accessToken}`,
    });
    const out = (await json(res)) as Key;
    expect([res.status, out]).toEqual([
      201,
      expect.objectContaining({ key: expect.stringMatching(/^berth_lic_/) }),
    ]);
    return out;
  };
  const online = async (body: Record<string, unknown>) => {
    const res = await post(`${store.url}/v1/licenses/verify`, body);
    expect(res.status).toBe(200);
    const r = (await res.json()) as { valid: boolean; reason?: string };
    return r.valid ? 'valid' : r.reason!;
  };
  const offline = async (...args: string[]) => {
    const r = await run(...args);
    expect([args, r.code]).toEqual([args, r.out.valid ? 0 : 1]);
    return r.out.valid ? 'valid' : String(r.out.reason);
  };

  beforeAll(async () => {
    store = await startInProcess('postgres', { PUBLIC_URL });
    [acme, globex] = [await createPublisher(store.url, 'acme'), await createPublisher(store.url, 'globex')];
    for (const [p, name, v] of [
      [acme, 'superdb', '1.0.0'],
      [acme, 'superdb', '1.5.0'],
      [acme, 'superdb', '2.0.0'],
      [acme, 'superdb', '3.1.0'],
      [acme, 'windowdb', '1.0.0'],
      [globex, 'superdb', '1.0.0'],
    ] as const) {
      expect((await uploadChart(store.url, p.slug, p.apiToken, await simpleChart(name, v))).status).toBe(201);
    }
    const paid = (updatePolicy: Record<string, unknown>) => ({
      price: { amount: 4900, currency: 'usd' },
      updatePolicy,
      published: true,
    });
    expect(
      (await putListing(store.url, 'acme', acme.apiToken, 'superdb', paid({ kind: 'major' }))).status,
    ).toBe(200);
    expect(
      (await putListing(store.url, 'acme', acme.apiToken, 'windowdb', paid({ kind: 'window', months: 12 })))
        .status,
    ).toBe(200);
    expect(
      (await putListing(store.url, 'globex', globex.apiToken, 'superdb', paid({ kind: 'all' }))).status,
    ).toBe(200);
    ranged = await grant(acme, {
      chart: 'superdb',
      email: 'ranged@example.com',
      versionRange: '>=1 <2 || 3.x',
    });
    foreign = await grant(globex, { chart: 'superdb', email: 'foreign@example.com' });
    windowed = await grant(acme, { chart: 'windowdb', email: 'window@example.com' });
    const dir = mkdtempSync(join(tmpdir(), 'berth-verify-offline-'));
    jwksFile = join(dir, 'jwks.json');
    writeFileSync(jwksFile, await (await fetch(`${store.url}/.well-known/jwks.json`)).text());
  }, 120_000);
  afterAll(async () => store?.close());

  it('compares --publisher with the pub claim, and refuses --chart without it', async () => {
    expect(claimsOf(foreign.key)).toMatchObject({ pub: 'globex', chart: 'superdb' });
    // globex's key names a chart "superdb" too: asked about acme's superdb, it is not valid.
    expect(
      await run(jwksFile, foreign.key, '--issuer', PUBLIC_URL, '--publisher', 'acme', '--chart', 'superdb'),
    ).toMatchObject({
      code: 1,
      out: { valid: false, reason: 'wrong_publisher' },
    });
    expect(await run(jwksFile, foreign.key, '--publisher', 'acme')).toMatchObject({
      code: 1,
      out: { valid: false, reason: 'wrong_publisher' },
    });
    expect(
      await run(jwksFile, foreign.key, '--publisher', 'globex', '--chart', 'superdb', '--version', '1.0.0'),
    ).toMatchObject({
      code: 0,
      out: { valid: true, license: { id: foreign.id, publisher: 'globex', chart: 'superdb' } },
    });
    expect(await run(jwksFile, ranged.key, '--publisher', 'acme', '--chart', 'windowdb')).toMatchObject({
      code: 1,
      out: { valid: false, reason: 'wrong_chart' },
    });
    // A chart name alone is a usage error (exit 2), never a verdict.
    for (const args of [
      ['--chart', 'superdb'],
      ['--chart', 'superdb', '--version', '1.0.0'],
      ['--publisher'],
      ['--publisher', '--chart', 'superdb'],
      ['--vendor', 'acme'],
    ]) {
      const r = await run(jwksFile, foreign.key, ...args);
      expect([args, r.code, r.out]).toEqual([args, 2, {}]);
      expect(r.stderr).toMatch(/usage: node verify\.mjs/);
    }
    // The store agrees.
    expect(await online({ key: foreign.key, publisher: 'acme', chart: 'superdb' })).toBe('wrong_publisher');
    expect(await online({ key: foreign.key, publisher: 'globex', chart: 'superdb', version: '1.0.0' })).toBe(
      'valid',
    );
  });

  it('evaluates a custom range with || alternatives exactly as the store does', async () => {
    expect(ranged.versionRange).toBe('>=1.0.0 <2.0.0-0||>=3.0.0 <4.0.0-0');
    expect(claimsOf(ranged.key).range).toBe(ranged.versionRange);
    const probes = [
      '0.9.9',
      '1.0.0-rc.1',
      '1.0.0',
      '1.5.0',
      '1.9.9-beta.1',
      '2.0.0-rc.1',
      '2.0.0',
      '2.9.9',
      '3.0.0-rc.1',
      '3.0.0',
      '3.1.0',
      '3.9.9',
      '4.0.0-0',
      '4.0.0',
    ];
    const verdicts: Record<string, [string, string]> = {};
    for (const version of probes) {
      verdicts[version] = [
        await online({ key: ranged.key, publisher: 'acme', chart: 'superdb', version }),
        await offline(
          jwksFile,
          ranged.key,
          '--issuer',
          PUBLIC_URL,
          '--publisher',
          'acme',
          '--chart',
          'superdb',
          '--version',
          version,
        ),
      ];
    }
    const covered = ['1.0.0', '1.5.0', '1.9.9-beta.1', '3.0.0', '3.1.0', '3.9.9'];
    expect(verdicts).toEqual(
      Object.fromEntries(
        probes.map((v) => [
          v,
          covered.includes(v) ? ['valid', 'valid'] : ['version_not_covered', 'version_not_covered'],
        ]),
      ),
    );
  });

  it('agrees with semver (includePrerelease) on every normalised range a grant can store', async () => {
    const ranges = [
      '^1.2.0',
      '1.x',
      '>=1 <3 || 5.x',
      '~1.5.0',
      '1.2.3',
      '<1.0.0',
      '>1.2.3',
      '<=2',
      '*',
      '1.2.3 - 2.3.4',
      '^0.2.3',
      '>=1.0.0-rc.1 <2',
      '^1.2.0-beta.1',
      '>=1.2 <=1.4',
      '1.2.x || >=3.0.0-alpha <3.1.0',
      '0.x || 7.1 || >=9',
      '<=1.2.3-rc.2 || >=9',
    ];
    const cores = [
      '0.0.0',
      '0.2.3',
      '0.2.9',
      '0.3.0',
      '1.0.0',
      '1.2.0',
      '1.2.3',
      '1.4.9',
      '1.5.0',
      '1.6.0',
      '2.0.0',
      '2.3.4',
      '2.3.5',
      '3.0.0',
      '3.0.5',
      '3.1.0',
      '5.0.0',
      '6.0.0',
      '7.1.0',
      '9.0.0',
      '10.0.0',
    ];
    const versions = cores.flatMap((c) =>
      ['', '-0', '-alpha', '-alpha.1', '-beta.2', '-rc.1', '-rc.2', '-rc.10', '-1'].map((p) => c + p),
    );
    versions.push('1.2.3+build.5', '01.2.3', '1.2', 'banana');
    const cases = ranges.flatMap((r) => versions.map((v) => [semver.validRange(r)!, v] as const));
    // One node process imports the verifier's range check (the command does not run when imported).
    const casesFile = join(mkdtempSync(join(tmpdir(), 'berth-ranges-')), 'cases.json');
    writeFileSync(casesFile, JSON.stringify(cases));
    const script = `import { readFileSync } from 'node:fs';
      import { inRange } from ${JSON.stringify(VERIFIER)};
      const cases = JSON.parse(readFileSync(process.argv[1], 'utf8'));
      process.stdout.write(JSON.stringify(cases.map(([r, v]) => inRange(v, r))));`;
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script, casesFile], {
      timeout: 30_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const got = JSON.parse(stdout) as boolean[];
    const disagreements = cases.filter(
      ([r, v], i) => got[i] !== (!!semver.valid(v) && semver.satisfies(v, r, { includePrerelease: true })),
    );
    expect({ cases: cases.length, disagreements }).toEqual({
      cases: ranges.length * versions.length,
      disagreements: [],
    });
  });

  it('fails closed on a key with an update window unless --published is given and before its end', async () => {
    const upd = claimsOf(windowed.key).upd as string;
    expect(upd).toBe(windowed.updatesUntil);
    const until = Date.parse(upd);
    const base = [
      jwksFile,
      windowed.key,
      '--issuer',
      PUBLIC_URL,
      '--publisher',
      'acme',
      '--chart',
      'windowdb',
    ];
    // Without a version there is nothing to date: the key itself is valid.
    expect(await run(...base)).toMatchObject({
      code: 0,
      out: { valid: true, license: { updatesUntil: upd } },
    });
    // With a version but no publication time: the key cannot tell, so no.
    expect(await run(...base, '--version', '1.0.0')).toMatchObject({
      code: 1,
      out: { valid: false, reason: 'published_required' },
    });
    // The publication time as the store publishes it (the index's `created`) → what the store answers online.
    const idx = await fetch(`${store.url}/helm/acme/index.yaml`, {
      headers: {
        'accept-encoding': 'identity',
        authorization: `Basic ${Buffer.from(`${windowed.id}:${windowed.key}`).toString('base64')}`,
      },
    });
    expect(idx.status).toBe(200);
    const created = (
      (await idx.json()) as { entries: Record<string, Array<{ version: string; created: string }>> }
    ).entries.windowdb[0].created;
    expect(await online({ key: windowed.key, publisher: 'acme', chart: 'windowdb', version: '1.0.0' })).toBe(
      'valid',
    );
    expect(await offline(...base, '--version', '1.0.0', '--published', created)).toBe('valid');
    // Like the store's `covers`: published strictly before updates-until.
    const iso = (t: number) => new Date(t).toISOString();
    expect(await offline(...base, '--version', '1.0.1', '--published', iso(until - 1000))).toBe('valid');
    expect(await offline(...base, '--version', '1.0.1', '--published', iso(until))).toBe(
      'version_not_covered',
    );
    expect(await offline(...base, '--version', '1.0.1', '--published', iso(until + 1000))).toBe(
      'version_not_covered',
    );
    expect(await offline(...base, '--version', '1.0.1', '--published', '2999-01-01')).toBe(
      'version_not_covered',
    );
    expect(await offline(...base, '--version', '1.0.1', '--published', '2020-01-01')).toBe('valid');
    expect(await offline(...base, '--version', '1.0.1', '--published', '2020-01-01T00:00:00+02:00')).toBe(
      'valid',
    );
    // The range still applies first.
    expect(await offline(...base, '--version', 'not-a-version', '--published', '2020-01-01')).toBe(
      'version_not_covered',
    );
    // A publication time that is not one, or without a version: usage errors, never a verdict.
    for (const args of [
      ['--version', '1.0.0', '--published', 'yesterday'],
      ['--version', '1.0.0', '--published', '2026-02-30'],
      ['--version', '1.0.0', '--published', '2026-01-31T12:00'],
      ['--published', '2020-01-01'],
    ]) {
      const r = await run(...base, ...args);
      expect([args, r.code, r.out]).toEqual([args, 2, {}]);
    }
    // A key without a window does not need a date.
    expect(
      await offline(jwksFile, ranged.key, '--publisher', 'acme', '--chart', 'superdb', '--version', '1.5.0'),
    ).toBe('valid');
  });
});
