/**
 * `npm run bench:registry`: Berth's OCI registry side by side with the reference registry
 * (distribution v3.1.2, htpasswd, filesystem storage) on the same machine and the same blobs:
 * licensed manifest GETs, blob GETs of 1 MiB and 100 MiB, the time to push a 200 MiB image, and Berth's
 * RSS while a 1 GiB blob goes up and comes back down. Reads run under wrk pinned to one core, each server
 * pinned to the other; medians of alternating rounds. Flags: --duration S (default 5), --rounds R (3),
 * --push-mib N (200), --big-mib N (1024).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createPublisher, publishChart } from '../test/support/api';
import { simpleChart } from '../test/support/charts';
import { buyLocally } from '../test/support/checkout';
import { freePorts } from '../test/support/minio';
import { createTestDatabase } from '../test/support/postgres';
import { startStore } from '../test/support/store-process';
import { toolPath } from '../test/support/tools';
import { cleanup, installSignalHandlers, onCleanup, trackChild } from './lifecycle';
import { http, rssMb, sampleRss } from './load';
import { pinningCores, placeServer } from './pinning';
import { measureWrk, requireWrk } from './wrk';

const log = (line: string) => process.stderr.write(`${line}\n`);
const MIB = 1024 * 1024;
const flag = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`;

interface Target {
  name: 'berth' | 'registry';
  origin: string;
  pid: number;
  /** Who pushes. */
  push: string;
  /** Who reads: a license for Berth, the htpasswd user for the registry. */
  read: string;
  repo: string;
}

/** Streams `size` random bytes to a file and returns its sha256 digest (the same bytes go to both servers). */
async function randomFile(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const out = createWriteStream(path);
  for (let left = size; left > 0;) {
    const chunk = randomBytes(Math.min(left, 4 * MIB));
    hash.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    left -= chunk.length;
  }
  await new Promise<void>((r, j) => out.end((e?: Error | null) => (e ? j(e) : r())));
  return `sha256:${hash.digest('hex')}`;
}

/** One request through the bench's keep-alive client. */
const send = (url: string, method: string, headers: Record<string, string>, body?: Buffer) =>
  http(url, { method, headers, body });

/** POST a session, then PUT the file as its body: the monolithic upload every registry takes. */
async function pushBlob(t: Target, repo: string, file: string, digest: string, size: number): Promise<void> {
  const start = await send(`${t.origin}/v2/${repo}/blobs/uploads/`, 'POST', {
    authorization: t.push,
    'content-length': '0',
  });
  if (start.status !== 202) throw new Error(`${t.name} POST ${start.status} ${start.body.toString()}`);
  const location = new URL(String(start.headers.location), t.origin);
  location.searchParams.set('digest', digest);
  await new Promise<void>((resolve, reject) => {
    const req = request(
      location,
      {
        method: 'PUT',
        headers: {
          authorization: t.push,
          'content-type': 'application/octet-stream',
          'content-length': String(size),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () =>
          res.statusCode === 201 ? resolve() : reject(new Error(`${t.name} PUT ${res.statusCode}`)),
        );
      },
    );
    req.on('error', reject);
    createReadStream(file).pipe(req);
  });
}

async function pushManifest(
  t: Target,
  repo: string,
  tag: string,
  layers: Array<{ digest: string; size: number }>,
  config: Buffer,
) {
  const configDigest = `sha256:${createHash('sha256').update(config).digest('hex')}`;
  const s = await send(
    `${t.origin}/v2/${repo}/blobs/uploads/?digest=${configDigest}`,
    'POST',
    {
      authorization: t.push,
      'content-length': String(config.length),
    },
    config,
  );
  if (s.status !== 201 && s.status !== 202) throw new Error(`${t.name} config ${s.status}`);
  if (s.status === 202) {
    const loc = new URL(String(s.headers.location), t.origin);
    loc.searchParams.set('digest', configDigest);
    const p = await send(
      loc.toString(),
      'PUT',
      { authorization: t.push, 'content-length': String(config.length) },
      config,
    );
    if (p.status !== 201) throw new Error(`${t.name} config PUT ${p.status}`);
  }
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: configDigest,
        size: config.length,
      },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...l })),
    }),
  );
  const m = await send(
    `${t.origin}/v2/${repo}/manifests/${tag}`,
    'PUT',
    {
      authorization: t.push,
      'content-type': 'application/vnd.oci.image.manifest.v1+json',
      'content-length': String(manifest.length),
    },
    manifest,
  );
  if (m.status !== 201) throw new Error(`${t.name} manifest ${m.status} ${m.body.toString()}`);
  return manifest;
}

/** Downloads a blob to nowhere; resolves with the bytes read. */
function drain(url: string, authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    request(url, { headers: { authorization } }, (res) => {
      let n = 0;
      res.on('data', (c: Buffer) => (n += c.length));
      res.on('end', () => resolve(n));
      res.on('error', reject);
    })
      .on('error', reject)
      .end();
  });
}

async function main(): Promise<void> {
  const duration = flag('duration', 5);
  const rounds = flag('rounds', 3);
  const pushMib = flag('push-mib', 200);
  const bigMib = flag('big-mib', 1024);
  const cores = pinningCores();
  requireWrk();
  const dir = mkdtempSync(join(tmpdir(), 'berth-bench-registry-'));
  onCleanup('remove registry bench files', () => rmSync(dir, { recursive: true, force: true }));

  log('registry bench: writing blobs');
  const files: Record<string, { path: string; digest: string; size: number }> = {};
  for (const [name, mib] of [
    ['one', 1],
    ['hundred', 100],
    ['push', pushMib],
    ['big', bigMib],
  ] as const) {
    const path = join(dir, `${name}.bin`);
    files[name] = { path, digest: await randomFile(path, mib * MIB), size: mib * MIB };
  }

  // The reference registry: htpasswd at bcrypt's lowest cost (4: it checks the hash on every request, and
  // at htpasswd's usual 10+ that alone would be its bound), made by Python's crypt; filesystem storage.
  const [regPort] = await freePorts(1);
  const hash = spawnSync(
    'python3',
    [
      '-W',
      'ignore',
      '-c',
      "import crypt;print(crypt.crypt('bench-pw', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))",
    ],
    {
      encoding: 'utf8',
    },
  ).stdout.trim();
  if (!hash.startsWith('$2')) throw new Error('could not make a bcrypt hash for htpasswd (python3 crypt)');
  writeFileSync(join(dir, 'htpasswd'), `bench:${hash}\n`);
  writeFileSync(
    join(dir, 'registry.yml'),
    [
      'version: 0.1',
      'log: {level: error, accesslog: {disabled: true}}',
      `storage: {filesystem: {rootdirectory: ${join(dir, 'registry-data')}}, delete: {enabled: true}}`,
      `http: {addr: "127.0.0.1:${regPort}", secret: bench-secret}`,
      `auth: {htpasswd: {realm: bench, path: ${join(dir, 'htpasswd')}}}`,
      '',
    ].join('\n'),
  );
  const registry = spawn(toolPath('registry'), ['serve', join(dir, 'registry.yml')], { stdio: 'ignore' });
  trackChild(registry);
  onCleanup('stop reference registry', async () => void registry.kill('SIGKILL'));

  const db = await createTestDatabase('bench_registry');
  onCleanup('drop registry bench database', () => db.drop());
  const store = await startStore({
    DATABASE_URL: db.url,
    LOG_LEVEL: 'warn',
    PUBLISHER_QUOTA_BYTES: String(64 * 1024 * MIB),
  });
  onCleanup('stop Berth', async () => void (await store.stop()));
  const acme = await createPublisher(store.url, 'acme');
  const host = new URL(store.url).host;
  await publishChart(
    store.url,
    acme,
    'app',
    await simpleChart('app', '1.0.0', { 'values.yaml': `image: ${host}/acme/app:1.0\n` }),
    4900,
  );
  const license = await buyLocally(store.url, { publisher: 'acme', chart: 'app' });

  const targets: Target[] = [
    {
      name: 'berth',
      origin: store.url,
      pid: store.child.pid!,
      push: basic('ci', acme.apiToken),
      read: basic(license.id, license.key),
      repo: 'acme/app',
    },
    {
      name: 'registry',
      origin: `http://127.0.0.1:${regPort}`,
      pid: registry.pid!,
      push: basic('bench', 'bench-pw'),
      read: basic('bench', 'bench-pw'),
      repo: 'acme/app',
    },
  ];
  for (let i = 0; i < 100; i++) {
    if ((await send(`${targets[1].origin}/v2/`, 'GET', {}).catch(() => ({ status: 0 }))).status === 401)
      break;
    await new Promise((r) => setTimeout(r, 100));
  }

  log('registry bench: pushing the image to both');
  for (const t of targets) {
    for (const f of [files.one, files.hundred]) await pushBlob(t, t.repo, f.path, f.digest, f.size);
    await pushManifest(
      t,
      t.repo,
      '1.0',
      [files.one, files.hundred],
      Buffer.from('{"architecture":"amd64","os":"linux"}'),
    );
  }

  const results: Record<string, Record<string, number[]>> = { berth: {}, registry: {} };
  const add = (t: Target, k: string, v: number) => (results[t.name][k] ??= []).push(v);
  const scenarios = [
    { key: 'manifest req/s', path: '/v2/acme/app/manifests/1.0', connections: 16, min: 300, metric: 'req' },
    {
      key: 'blob 1 MiB MB/s',
      path: `/v2/acme/app/blobs/${files.one.digest}`,
      connections: 4,
      min: MIB,
      metric: 'mb',
    },
    {
      key: 'blob 100 MiB MB/s',
      path: `/v2/acme/app/blobs/${files.hundred.digest}`,
      connections: 2,
      min: 100 * MIB,
      metric: 'mb',
    },
  ] as const;
  for (let round = 0; round < rounds; round++) {
    for (const t of round % 2 ? [...targets].reverse() : targets) {
      placeServer(t.pid, 'pinned', cores);
      for (const s of scenarios) {
        const m = await measureWrk(`${t.name} ${s.key}`, {
          origin: t.origin,
          request: {
            paths: [s.path],
            headers: { authorization: t.read, accept: 'application/vnd.oci.image.manifest.v1+json' },
          },
          pid: t.pid,
          connections: s.connections,
          duration,
          mode: 'pinned',
          cores,
          minBodyBytes: s.min,
        });
        add(t, s.key, s.metric === 'req' ? m.reqPerSec : (m.reqPerSec * m.bytesPerResponse) / MIB);
      }
      // Each push starts with no dirty pages: Berth fsyncs what it stores and the registry does not, so
      // without this Berth's fsync would also wait for the writeback of the registry's previous push.
      spawnSync('sync');
      const t0 = performance.now();
      await pushBlob(t, `acme/push${round}`, files.push.path, files.push.digest, files.push.size);
      await pushManifest(t, `acme/push${round}`, 'v1', [files.push], Buffer.from(`{"round":${round}}`));
      add(t, `push ${pushMib} MiB s`, (performance.now() - t0) / 1000);
      placeServer(t.pid, 'unpinned', cores);
    }
  }

  log(`registry bench: Berth's RSS while a ${bigMib} MiB blob goes up and down`);
  const berth = targets[0];
  const base = rssMb(berth.pid);
  let rss = sampleRss(berth.pid);
  await pushBlob(berth, 'acme/big', files.big.path, files.big.digest, files.big.size);
  const upPeak = rss.stop();
  await pushManifest(berth, 'acme/big', 'v1', [files.big], Buffer.from('{"big":true}'));
  rss = sampleRss(berth.pid);
  const got = await drain(`${berth.origin}/v2/acme/big/blobs/${files.big.digest}`, berth.push);
  const downPeak = rss.stop();
  if (got !== files.big.size) throw new Error(`big blob came back with ${got} bytes`);

  const rows = Object.keys(results.berth).map((k) => {
    const b = median(results.berth[k]);
    const r = median(results.registry[k]);
    const ratio = k.endsWith(' s') ? b / r : b / r;
    return `| ${k} | ${b.toFixed(1)} | ${r.toFixed(1)} | ${ratio.toFixed(2)} |`;
  });
  console.log(
    `\nBerth vs distribution registry v3.1.2, pinned (wrk on core ${cores.generator}, servers on ${cores.server}), medians of ${rounds} rounds, ${duration} s each:\n`,
  );
  console.log('| measure | Berth | registry | Berth ÷ registry |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
  console.log(
    `\nBerth RSS: ${base.toFixed(0)} MB before; peak ${upPeak.toFixed(0)} MB during the ${bigMib} MiB upload ` +
      `(+${(upPeak - base).toFixed(0)}), ${downPeak.toFixed(0)} MB during its download (+${(downPeak - base).toFixed(0)}).`,
  );
  console.log(JSON.stringify({ results, rss: { base, upPeak, downPeak } }));
}

installSignalHandlers();
main()
  .then(() => cleanup())
  .catch(async (e: unknown) => {
    process.stderr.write(`registry bench FAILED: ${e instanceof Error ? e.stack : String(e)}\n`);
    await cleanup();
    process.exit(1);
  });
