import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Publisher } from '../test/support/api';
import { basic, Berth, berthUploader, LoadParams } from './berth';
import { startCeiling } from './ceiling';
import { ChartMuseum, CM_USER } from './chartmuseum';
import { BenchFailure, http, measure, ScenarioResult, timedPool } from './load';
import type { ChartFile, SyntheticStore } from './synthetic';

/** One server as the comparison drives it: the same operations, each in that server's own dialect. */
interface Target {
  name: 'berth' | 'chartmuseum';
  url: string;
  pid(): number;
  indexPath: string;
  /** Basic credentials that make the index request authenticated. */
  authorization: string;
  tgzPath(f: ChartFile): string;
  tgzHeaders: Record<string, string>;
  upload(f: ChartFile): Promise<number>;
  restart(): Promise<number | null>;
}

export interface TimingResult {
  samples: number;
  p50Ms: number | null;
  maxMs: number | null;
  /** startup only: the server never answered within the timeout. */
  timeout?: boolean;
}

export interface ComparisonRow {
  operation: string;
  /** `req/s`: throughput, ratio = Berth / ChartMuseum. `ms`: a duration, ratio = ChartMuseum / Berth (speed-up). */
  unit: 'req/s' | 'ms';
  berth: ScenarioResult | TimingResult;
  chartmuseum: ScenarioResult | TimingResult;
  /** > 1 always means Berth did better. Null when either side has no number (e.g. a timeout). */
  ratio: number | null;
  ratioMeaning: string;
}

export interface Comparison {
  chartmuseumVersion: string;
  note: string;
  operations: ComparisonRow[];
  /** A bare node:http server sending the same bytes from memory: what bounds the read figures. */
  ceiling: { index_anonymous: ScenarioResult; tgz_pull: ScenarioResult; note: string };
}

export function berthTarget(berth: Berth, bench: Publisher): Target {
  return {
    name: 'berth',
    url: berth.url,
    pid: () => berth.pid(),
    indexPath: '/helm/bench/index.yaml',
    authorization: basic('ci', bench.apiToken),
    tgzPath: (f) => `/helm/bench/charts/${f.name}-${f.version}.tgz`,
    tgzHeaders: {},
    upload: berthUploader(berth.url, bench),
    restart: () => berth.restart(),
  };
}

export function chartMuseumTarget(cm: ChartMuseum): Target {
  const authorization = basic(CM_USER, cm.password);
  return {
    name: 'chartmuseum',
    url: cm.url,
    pid: () => cm.pid(),
    indexPath: '/index.yaml',
    authorization,
    tgzPath: (f) => `/charts/${f.name}-${f.version}.tgz`,
    tgzHeaders: { authorization },
    async upload(f) {
      const bytes = await readFile(f.path);
      const t0 = performance.now();
      // node:http, not fetch: on a large store one upload can wait longer than fetch's 300 s header timeout.
      const res = await http(`${cm.url}/api/charts`, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/octet-stream' },
        body: bytes,
        timeoutMs: UPLOAD_TIMEOUT_MS,
      });
      const ms = performance.now() - t0;
      if (res.status !== 201) {
        throw new BenchFailure(
          `chartmuseum upload ${f.name}-${f.version}: ${res.status} ${res.body.toString()}`,
        );
      }
      return ms;
    },
    restart: () => cm.restart(),
  };
}

const UPLOAD_TIMEOUT_MS = 15 * 60_000;

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function occurrences(haystack: Buffer, needle: string): number {
  let n = 0;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** Both indexes must list every free version: JSON or YAML, each version has exactly one `….tgz` URL. */
async function checkIndex(
  t: Target,
  expected: number,
  authorization?: string,
): Promise<Record<string, unknown>> {
  const r = await http(t.url + t.indexPath, { headers: authorization ? { authorization } : {} });
  const versions = occurrences(r.body, '.tgz');
  if (r.status !== 200 || versions !== expected) {
    throw new BenchFailure(
      `${t.name} index: ${r.status}, ${versions} .tgz URLs where ${expected} were expected`,
    );
  }
  return { versions, bytes: r.body.length, contentType: r.headers['content-type'] };
}

async function checkTgz(t: Target, f: ChartFile): Promise<Record<string, unknown>> {
  const r = await http(t.url + t.tgzPath(f), { headers: t.tgzHeaders });
  const ok = r.status === 200 && sha256(r.body) === sha256(await readFile(f.path));
  if (!ok) throw new BenchFailure(`${t.name} ${t.tgzPath(f)}: ${r.status}, bytes differ from the file`);
  return { file: `${f.name}-${f.version}.tgz`, sha256Matches: true };
}

/** Sequential uploads, each timed from its 201 to the first anonymous index.yaml that lists it. */
async function uploadToVisible(t: Target, files: ChartFile[]): Promise<TimingResult> {
  const samples: number[] = [];
  for (const f of files) {
    await t.upload(f);
    const t0 = performance.now();
    const needle = `charts/${f.name}-${f.version}.tgz`;
    for (;;) {
      const r = await http(t.url + t.indexPath);
      if (r.status !== 200) throw new BenchFailure(`${t.name} index while polling: ${r.status}`);
      if (r.body.includes(needle)) break;
      if (performance.now() - t0 > 120_000)
        throw new BenchFailure(`${t.name}: ${needle} not in the index 2 min after its upload`);
    }
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const r2 = (n: number) => Math.round(n * 100) / 100;
  return {
    samples: samples.length,
    p50Ms: r2(samples[Math.ceil(samples.length / 2) - 1]),
    maxMs: r2(samples[samples.length - 1]),
  };
}

const throughputRow = (operation: string, berth: ScenarioResult, cm: ScenarioResult): ComparisonRow => ({
  operation,
  unit: 'req/s',
  berth,
  chartmuseum: cm,
  ratio: cm.reqPerSec > 0 ? Math.round((berth.reqPerSec / cm.reqPerSec) * 100) / 100 : null,
  ratioMeaning: 'Berth req/s ÷ ChartMuseum req/s (higher: Berth faster)',
});

const timingRow = (
  operation: string,
  berth: TimingResult,
  cm: TimingResult,
  key: 'p50Ms' | 'maxMs',
): ComparisonRow => ({
  operation,
  unit: 'ms',
  berth,
  chartmuseum: cm,
  ratio: berth[key] && cm[key] ? Math.round((cm[key]! / berth[key]!) * 100) / 100 : null,
  ratioMeaning: `ChartMuseum ${key} ÷ Berth ${key}: Berth's speed-up (higher: Berth faster)`,
});

export interface CompareInput {
  berth: Target;
  cm: Target;
  cmVersion: string;
  store: SyntheticStore;
  /** New charts neither server holds. */
  sample: ChartFile[];
  /** New versions of a published free chart, so that Berth shows them at once (a new chart would be a draft). */
  visibility: ChartFile[];
  load: LoadParams;
  uploadConcurrency: number;
  log(line: string): void;
}

/**
 * Each operation runs against Berth, then ChartMuseum, with the other server idle. Reads come first, so
 * both hold exactly the same files while they are measured; the uploads and restarts follow.
 */
export async function compare(c: CompareInput): Promise<Comparison> {
  const rows: ComparisonRow[] = [];
  const both = async <T>(op: string, run: (t: Target) => Promise<T>): Promise<[T, T]> => {
    c.log(`  vs: ${op} berth`);
    const a = await run(c.berth);
    c.log(`  vs: ${op} chartmuseum`);
    const b = await run(c.cm);
    return [a, b];
  };
  const base = (t: Target) => ({
    pid: t.pid(),
    connections: c.load.connections,
    duration: c.load.duration,
    warmup: c.load.warmup,
  });
  const expected = c.store.bench.length;

  const [ia, ib] = await both('index_anonymous', async (t) => {
    const check = await checkIndex(t, expected);
    return {
      ...(await measure(`${t.name} index_anonymous`, { ...base(t), url: t.url + t.indexPath })),
      check,
    };
  });
  rows.push(throughputRow('index_anonymous', ia, ib));

  const [aa, ab] = await both('index_authenticated', async (t) => {
    const check = await checkIndex(t, expected, t.authorization);
    const spec = { ...base(t), url: t.url + t.indexPath, headers: { authorization: t.authorization } };
    return { ...(await measure(`${t.name} index_authenticated`, spec)), check };
  });
  rows.push(throughputRow('index_authenticated', aa, ab));

  // Spread over the store so that neither server answers from one hot file.
  const step = Math.max(1, Math.floor(c.store.bench.length / 50));
  const pulls = c.store.bench.filter((_, i) => i % step === 0).slice(0, 50);
  const [ta, tb] = await both('tgz_pull', async (t) => {
    const check = await checkTgz(t, pulls[0]);
    const spec = {
      ...base(t),
      url: t.url,
      headers: t.tgzHeaders,
      requests: pulls.map((f) => ({ method: 'GET', path: t.tgzPath(f) })),
    };
    return { ...(await measure(`${t.name} tgz_pull`, spec)), check };
  });
  rows.push(throughputRow('tgz_pull', ta, tb));

  c.log('  vs: ceiling (bare node:http, same bytes)');
  const indexBytes = (await http(c.berth.url + c.berth.indexPath)).body;
  const files: Record<string, Buffer> = { '/index.yaml': indexBytes };
  for (const f of pulls) files[`/charts/${f.name}-${f.version}.tgz`] = await readFile(f.path);
  const bare = await startCeiling(files);
  let ceiling: Comparison['ceiling'];
  try {
    const at = {
      pid: bare.pid(),
      connections: c.load.connections,
      duration: c.load.duration,
      warmup: c.load.warmup,
    };
    ceiling = {
      index_anonymous: await measure('ceiling index_anonymous', { ...at, url: `${bare.url}/index.yaml` }),
      tgz_pull: await measure('ceiling tgz_pull', {
        ...at,
        url: bare.url,
        requests: pulls.map((f) => ({ method: 'GET', path: `/charts/${f.name}-${f.version}.tgz` })),
      }),
      note:
        "A bare node:http server sending Berth's anonymous index and the same archives from memory, with no " +
        'routing, auth, logging or database, under the same load: the least a Node server can do per request.',
    };
  } finally {
    await bare.close();
  }

  // ChartMuseum re-reads its whole storage after each upload (seconds per upload at 20k versions), so
  // each side gets the same time budget; whatever was planned but not started is reported as such.
  const budgetMs = Math.max(30, c.load.duration * 6) * 1000;
  const [ua, ub] = await both('upload', (t) =>
    timedPool(c.sample, c.uploadConcurrency, t.pid(), (f) => t.upload(f), { budgetMs }),
  );
  rows.push(throughputRow('upload', ua, ub));

  const [va, vb] = await both('upload_to_visible', (t) => uploadToVisible(t, c.visibility));
  rows.push(timingRow('upload_to_visible', va, vb, 'p50Ms'));

  const [sa, sb] = await both('startup_to_first_index', async (t): Promise<TimingResult> => {
    const ms = await t.restart();
    return ms === null
      ? { samples: 1, p50Ms: null, maxMs: null, timeout: true }
      : { samples: 1, p50Ms: Math.round(ms), maxMs: Math.round(ms) };
  });
  rows.push(timingRow('startup_to_first_index', sa, sb, 'p50Ms'));

  return {
    chartmuseumVersion: c.cmVersion,
    note:
      `ChartMuseum's storage was filled by copying the ${expected} archives of Berth's bench repository ` +
      'into it before it started: uploading them through its API would take far too long. Its tgz_pull ' +
      "requests carry Basic auth, Berth's are anonymous; everything else is like for like.",
    operations: rows,
    ceiling,
  };
}
