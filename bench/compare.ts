import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import type { Publisher } from '../test/support/api';
import { Berth, berthUploader } from './berth';
import { ChartMuseum, CM_USER, occurrences } from './chartmuseum';
import { basic, BenchFailure, http, ScenarioResult, timedPool } from './load';
import { Cores, Mode, MODES, placeServer } from './pinning';
import type { ReadName, ReadTarget } from './reads';
import type { ChartFile } from './synthetic';

/** One server as the write comparison drives it: the same operations, each in that server's own dialect. */
interface Target {
  name: 'berth' | 'chartmuseum';
  url: string;
  pid(): number;
  indexPath: string;
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
  operation: 'upload' | 'upload_to_visible' | 'startup_to_first_index';
  /** pinned: each server on one core (the client unpinned); unpinned: no taskset at all. */
  mode: Mode;
  /** `req/s`: throughput, ratio = Berth / ChartMuseum. `ms`: a duration, ratio = ChartMuseum / Berth (speed-up). */
  unit: 'req/s' | 'ms';
  berth: ScenarioResult | TimingResult;
  chartmuseum: ScenarioResult | TimingResult;
  /** > 1 always means Berth did better. Null when either side has no number (e.g. a timeout). */
  ratio: number | null;
  ratioMeaning: string;
}

/** The writes and timings compared with ChartMuseum; the reads are in RunResult.reads. */
export interface Comparison {
  chartmuseumVersion: string;
  note: string;
  operations: ComparisonRow[];
}

export function berthTarget(berth: Berth, bench: Publisher): Target {
  return {
    name: 'berth',
    url: berth.url,
    pid: () => berth.pid(),
    indexPath: '/helm/bench/index.yaml',
    upload: berthUploader(berth.url, bench),
    restart: () => berth.restart(),
  };
}

const UPLOAD_TIMEOUT_MS = 15 * 60_000;

export function chartMuseumTarget(cm: ChartMuseum): Target {
  const authorization = basic(CM_USER, cm.password);
  return {
    name: 'chartmuseum',
    url: cm.url,
    pid: () => cm.pid(),
    indexPath: '/index.yaml',
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

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** An index must list every expected version: JSON or YAML, each version has exactly one `….tgz` URL. */
async function checkIndex(
  what: string,
  url: string,
  expected: number,
  authorization?: string,
): Promise<Record<string, unknown>> {
  const r = await http(url, { headers: authorization ? { authorization } : {} });
  const versions = occurrences(r.body, '.tgz');
  if (r.status !== 200 || versions !== expected) {
    throw new BenchFailure(`${what}: ${r.status}, ${versions} .tgz URLs where ${expected} were expected`);
  }
  return { versions, bytes: r.body.length, contentType: r.headers['content-type'] };
}

async function checkTgz(
  what: string,
  url: string,
  f: ChartFile,
  authorization?: string,
): Promise<Record<string, unknown>> {
  const r = await http(url, { headers: authorization ? { authorization } : {} });
  const ok = r.status === 200 && sha256(r.body) === sha256(await readFile(f.path));
  if (!ok) throw new BenchFailure(`${what} ${url}: ${r.status}, bytes differ from the file`);
  return { file: `${f.name}-${f.version}.tgz`, sha256Matches: true };
}

/**
 * ChartMuseum's side of the reads Berth has a like for: `free` holds Berth's free repository (anonymous
 * GET allowed), `licensed` only the archives of the chart Berth's buyer is licensed for (every read needs
 * the Basic credential), so both servers answer the same versions to the same kind of client.
 */
export function chartMuseumReads(
  free: ChartMuseum,
  licensed: ChartMuseum,
  freeVersions: number,
  pulls: ChartFile[],
  licensedFiles: ChartFile[],
): Partial<Record<ReadName, ReadTarget>> {
  const freeAuth = basic(CM_USER, free.password);
  const licensedAuth = basic(CM_USER, licensed.password);
  const tgz = (f: ChartFile) => `/charts/${f.name}-${f.version}.tgz`;
  const on = (cm: ChartMuseum, request: ReadTarget['request'], check: ReadTarget['check']): ReadTarget => ({
    origin: cm.url,
    pid: () => cm.pid(),
    request,
    check,
  });
  return {
    index_anonymous: on(free, { paths: ['/index.yaml'] }, () =>
      checkIndex('chartmuseum index', `${free.url}/index.yaml`, freeVersions),
    ),
    index_publisher: on(free, { paths: ['/index.yaml'], headers: { authorization: freeAuth } }, () =>
      checkIndex('chartmuseum index', `${free.url}/index.yaml`, freeVersions, freeAuth),
    ),
    index_licensed: on(licensed, { paths: ['/index.yaml'], headers: { authorization: licensedAuth } }, () =>
      checkIndex(
        'chartmuseum licensed index',
        `${licensed.url}/index.yaml`,
        licensedFiles.length,
        licensedAuth,
      ),
    ),
    tgz_anonymous: on(free, { paths: pulls.map(tgz) }, () =>
      checkTgz('chartmuseum', free.url + tgz(pulls[0]), pulls[0]),
    ),
    tgz_licensed: on(
      licensed,
      { paths: licensedFiles.map(tgz), headers: { authorization: licensedAuth } },
      () => checkTgz('chartmuseum', licensed.url + tgz(licensedFiles[0]), licensedFiles[0], licensedAuth),
    ),
  };
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

const throughputRow = (mode: Mode, berth: ScenarioResult, cm: ScenarioResult): ComparisonRow => ({
  operation: 'upload',
  mode,
  unit: 'req/s',
  berth,
  chartmuseum: cm,
  ratio: cm.reqPerSec > 0 ? Math.round((berth.reqPerSec / cm.reqPerSec) * 100) / 100 : null,
  ratioMeaning: 'Berth req/s ÷ ChartMuseum req/s (higher: Berth faster)',
});

const timingRow = (
  operation: ComparisonRow['operation'],
  mode: Mode,
  berth: TimingResult,
  cm: TimingResult,
  key: 'p50Ms' | 'maxMs',
): ComparisonRow => ({
  operation,
  mode,
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
  freeVersions: number;
  /** New charts neither server holds, one set per mode. */
  sample: Record<Mode, ChartFile[]>;
  /** New versions of a published free chart, so that Berth shows them at once (a new chart would be a draft). */
  visibility: ChartFile[];
  duration: number;
  uploadConcurrency: number;
  cores: Cores;
  log(line: string): void;
}

/**
 * The writes, after every read (so that both servers held the same files while read): uploads pinned
 * (each server on the server core) and unpinned, each with its own new charts and the same time budget;
 * upload-to-visible (pinned); restart to the first index (a new process, so unpinned). Each operation
 * runs against Berth, then ChartMuseum, the other idle.
 */
export async function compareWrites(c: CompareInput): Promise<Comparison> {
  const rows: ComparisonRow[] = [];
  const both = async <T>(op: string, run: (t: Target) => Promise<T>): Promise<[T, T]> => {
    c.log(`  vs: ${op} berth`);
    const a = await run(c.berth);
    c.log(`  vs: ${op} chartmuseum`);
    const b = await run(c.cm);
    return [a, b];
  };

  // ChartMuseum re-reads its whole storage after each upload (seconds per upload at 20k versions), so
  // each side gets the same time budget; whatever was planned but not started is reported as such.
  const budgetMs = Math.max(30, c.duration * 6) * 1000;
  for (const mode of MODES) {
    const [ua, ub] = await both(`upload (${mode})`, (t) => {
      placeServer(t.pid(), mode, c.cores);
      return timedPool(c.sample[mode], c.uploadConcurrency, t.pid(), (f) => t.upload(f), {
        budgetMs,
        // At 100,000 versions ChartMuseum drops connections mid-upload (a socket hang up): counted, not fatal.
        countFailures: t === c.cm,
      });
    });
    rows.push(throughputRow(mode, ua, ub));
  }
  for (const t of [c.berth, c.cm]) placeServer(t.pid(), 'pinned', c.cores);

  const [va, vb] = await both('upload_to_visible', (t) => uploadToVisible(t, c.visibility));
  rows.push(timingRow('upload_to_visible', 'pinned', va, vb, 'p50Ms'));

  const [sa, sb] = await both('startup_to_first_index', async (t): Promise<TimingResult> => {
    const ms = await t.restart();
    return ms === null
      ? { samples: 1, p50Ms: null, maxMs: null, timeout: true }
      : { samples: 1, p50Ms: Math.round(ms), maxMs: Math.round(ms) };
  });
  rows.push(timingRow('startup_to_first_index', 'unpinned', sa, sb, 'p50Ms'));

  return {
    chartmuseumVersion: c.cmVersion,
    note:
      `ChartMuseum's storage was filled by copying the ${c.freeVersions} archives of Berth's bench repository ` +
      'into it before it started (uploading them through its API would take far too long), and its index ' +
      'was built (its first request) before anything was measured; a second instance holds only the licensed ' +
      "chart's archives and needs Basic auth for every read. Uploads: the server pinned to the server core, " +
      'the uploading client (the bench) and Postgres not. Start-up is a new process, unpinned.',
    operations: rows,
  };
}
