/**
 * The results file, bench/results/<YYYY-MM-DD>.json (UTC; `-HHMM`, then `-HHMMSS`, appended when
 * taken). Schema 2 (wrk, pinning, ceilings, rounds); from here on fields are only ever added. Schema 1
 * files (autocannon, unpinned) measured the load generator on large indexes: do not compare with them.
 *
 * {
 *   "schema": 2,
 *   "date": "2026-12-02T21:00:00.000Z",            // start of the run
 *   "machine": { "os", "cpuModel", "cpus", "totalMemMb", "node", "postgres", "wrk", "nginx",
 *                "cores": { "generator", "server", "all" } },   // wrk on `generator`, servers on `server`
 *   "params": { "charts", "versions", "duration", "connections", "rounds", "uploadConcurrency", "orders",
 *               "sample", "warmup", "vs": "chartmuseum" | null, "scale", "smoke", "sizes": [...] },
 *   "runs": [{                                      // one per store size (three with --scale)
 *     "charts", "versions", "totalVersions", "benchVersions", "vendorVersions",
 *     "timings": { "generateSeconds", "uploadSeconds", "listingsSeconds", "ordersSeconds", "chartmuseumIndexMs"?,
 *                  "totalSeconds" },
 *     "scenarios": {                                // Berth, ScenarioResult (bench/load.ts) each; reads: the
 *       "upload", "index_anonymous", "index_publisher", "index_licensed",   //  pinned median over the rounds
 *       "tgz_anonymous", "tgz_licensed", "verify", "webhook_fulfil"
 *     },                                            // { generator, requests, seconds, reqPerSec, p50Ms, p90Ms?, p99Ms,
 *                                                   //   maxMs, peakRssMb, serverCpuUsPerRequest, bytesPerResponse,
 *                                                   //   non2xx, errors, timeouts, statusCodes, check? }
 *     "reads": [{                                   // ReadResult (bench/reads.ts), one per read scenario
 *       "name", "check", "chartmuseumCheck"?, "paths", "bodyBytes", "ceilingsFrom"?,
 *       "rounds": { "pinned" | "unpinned": { "berth" | "chartmuseum" | "node" | "nginx": [Measurement] } },
 *       "median": { "pinned" | "unpinned": { side: Measurement } }
 *     }],                                           // Measurement (bench/wrk.ts): { generator: "wrk", mode, requests,
 *                                                   //   seconds, reqPerSec, p50Ms, p90Ms, p99Ms, maxMs, bytesPerResponse,
 *                                                   //   errors: { connect, read, write, status, timeout },
 *                                                   //   serverCpuUsPerRequest, generatorCpuPct, peakRssMb }
 *     "verified": { "anonymousIndexCharts", "licensedIndexCharts", "licensedIndexVerified", "tgzSha256Matches",
 *                   "verifyValid", "webhookOrders", "webhookFulfilled", "ordersPaid", "licensesIssued" },
 *     "comparison": {                               // only with --vs chartmuseum: the writes and timings
 *       "chartmuseumVersion", "note",
 *       "operations": [{ "operation", "mode", "unit": "req/s" | "ms", "berth", "chartmuseum", "ratio", "ratioMeaning" }]
 *     }                                             // berth/chartmuseum: ScenarioResult (req/s) or
 *   }]                                              //   { samples, p50Ms, maxMs, timeout? } (ms); ratio > 1: Berth better
 * }
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { POSTGRES_ADMIN_URL } from '../test/support/postgres';
import type { BenchOptions } from './args';
import { nginxBinary } from './ceiling';
import type { Comparison, ComparisonRow, TimingResult } from './compare';
import type { ScenarioResult } from './load';
import type { ConsoleBenchResult } from './console';
import type { PagesResult } from './pages';
import type { Cores, Mode } from './pinning';
import { ReadName, ReadResult, READS, Side } from './reads';
import type { Measurement } from './wrk';

export const SCENARIOS = ['upload', ...READS, 'webhook_fulfil'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface RunResult {
  charts: number;
  versions: number;
  totalVersions: number;
  benchVersions: number;
  vendorVersions: number;
  timings: Record<string, number>;
  scenarios: Record<ScenarioName, ScenarioResult>;
  reads: ReadResult[];
  /** The storefront pages under load (home, chart, search) and a chart page's weight. */
  pages: PagesResult;
  /** Download counting's cost on the licensed pull, and the console's reads over a year of counts. */
  console: ConsoleBenchResult;
  verified: Record<string, number | boolean>;
  comparison?: Comparison;
}

export interface Machine {
  os: string;
  cpuModel: string;
  cpus: number;
  totalMemMb: number;
  node: string;
  postgres: string;
  wrk: string;
  nginx: string;
  cores: Cores;
}

export interface Report {
  schema: 2;
  date: string;
  machine: Machine;
  params: Omit<BenchOptions, 'out'> & { sizes: number[] };
  runs: RunResult[];
}

/** A tool's version from its own output (nginx prints it to stderr, wrk exits non-zero after it). */
function versionOf(cmd: string, args: string[], pattern: RegExp): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return pattern.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`)?.[1] ?? 'unknown';
}

export async function machineInfo(cores: Cores): Promise<Machine> {
  const c = new Client({ connectionString: POSTGRES_ADMIN_URL });
  await c.connect();
  try {
    const { rows } = await c.query<{ server_version: string }>('SHOW server_version');
    return {
      os: `${type()} ${release()}`,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      cpus: cpus().length,
      totalMemMb: Math.round(totalmem() / 1024 / 1024),
      node: process.version,
      postgres: rows[0].server_version,
      wrk: versionOf('wrk', ['--version'], /^wrk (\S+)/m),
      nginx: versionOf(nginxBinary(), ['-v'], /nginx\/(\S+)/),
      cores,
    };
  } finally {
    await c.end();
  }
}

/** Berth's figure for a read scenario, in the shape of the other scenarios (its pinned median). */
export function scenarioOf(m: Measurement, check: Record<string, unknown>): ScenarioResult {
  return {
    generator: 'wrk',
    requests: m.requests,
    seconds: m.seconds,
    reqPerSec: m.reqPerSec,
    p50Ms: m.p50Ms,
    p90Ms: m.p90Ms,
    p99Ms: m.p99Ms,
    maxMs: m.maxMs,
    peakRssMb: m.peakRssMb,
    serverCpuUsPerRequest: m.serverCpuUsPerRequest,
    bytesPerResponse: m.bytesPerResponse,
    non2xx: m.errors.status,
    errors: m.errors.connect + m.errors.read + m.errors.write,
    timeouts: m.errors.timeout,
    statusCodes: {},
    check,
  };
}

/** Plain aligned columns: readable in a terminal and pasteable into Markdown. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const num = (n: number, digits = 1) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function bytes(n: number): string {
  if (n >= 1024 * 1024) return `${num(n / 1024 / 1024, 1)} MB`;
  if (n >= 1024) return `${num(n / 1024, 1)} KB`;
  return `${n} B`;
}

/** Berth's own figures, every scenario (reads: pinned medians). */
export function scenarioTable(run: RunResult): string {
  return table(
    ['scenario', 'measured by', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MB', 'server CPU µs/req'],
    SCENARIOS.map((name) => {
      const r = run.scenarios[name];
      return [
        name,
        r.generator ?? '—',
        String(r.requests),
        num(r.reqPerSec),
        num(r.p50Ms, 2),
        num(r.p99Ms, 2),
        num(r.peakRssMb),
        r.serverCpuUsPerRequest === undefined ? '—' : num(r.serverCpuUsPerRequest),
      ];
    }),
  );
}

/** wrk's core at least this busy: the figure may be the generator's bound, and is marked `!`. */
export const GENERATOR_BUSY_PCT = 90;

const rps = (m: { reqPerSec: number; p99Ms: number; generatorCpuPct?: number } | undefined) =>
  m
    ? `${num(m.reqPerSec)}${(m.generatorCpuPct ?? 0) >= GENERATOR_BUSY_PCT ? '!' : ''} (p99 ${num(m.p99Ms, 2)} ms)`
    : '—';
const pct = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b ? `${Math.round((100 * a) / b)} %` : '—';
const ratioOf = (a: number | undefined, b: number | undefined) =>
  a !== undefined && b ? Math.round((a / b) * 100) / 100 : null;
const ratioText = (r: number | null) => (r === null ? '—' : `${num(r, 2)}×`);
const cpuText = (ms: Array<Measurement | ScenarioResult | undefined>) =>
  ms.map((m) => (m?.serverCpuUsPerRequest === undefined ? '—' : num(m.serverCpuUsPerRequest, 0))).join(' / ');

export const TABLE_HEADERS = [
  'operation',
  'body',
  'Berth req/s (p99)',
  'ChartMuseum req/s (p99)',
  'ratio',
  'node ceiling',
  'nginx ceiling',
  'Berth % of nginx',
  'CPU µs/req Berth / CM / nginx',
];

function readRow(r: ReadResult, mode: Mode): string[] {
  const m: Partial<Record<Side, Measurement>> = r.median[mode];
  const same = r.ceilingsFrom ? ` (= ${r.ceilingsFrom})` : '';
  return [
    r.name,
    r.paths > 1 ? `${bytes(r.bodyBytes)} ×${r.paths}` : bytes(r.bodyBytes),
    rps(m.berth),
    rps(m.chartmuseum),
    ratioText(ratioOf(m.berth?.reqPerSec, m.chartmuseum?.reqPerSec)),
    rps(m.node) + same,
    rps(m.nginx) + same,
    pct(m.berth?.reqPerSec, m.nginx?.reqPerSec),
    cpuText([m.berth, m.chartmuseum, m.nginx]),
  ];
}

function timing(t: TimingResult): string {
  if (t.timeout) return 'timeout';
  return t.samples > 1
    ? `p50 ${num(t.p50Ms ?? 0, 1)} ms, max ${num(t.maxMs ?? 0, 1)} ms`
    : `${num(t.p50Ms ?? 0, 0)} ms`;
}

function writeRow(row: ComparisonRow): string[] {
  if (row.unit === 'ms') {
    const label =
      row.operation === 'startup_to_first_index' ? `${row.operation} (new process)` : row.operation;
    return [
      label,
      '—',
      timing(row.berth as TimingResult),
      timing(row.chartmuseum as TimingResult),
      row.ratio === null ? '—' : `${num(row.ratio, 2)}× faster`,
      '—',
      '—',
      '—',
      '—',
    ];
  }
  const b = row.berth as ScenarioResult;
  const c = row.chartmuseum as ScenarioResult;
  const cut = (s: ScenarioResult) =>
    s.planned ? `; ${s.requests} of ${s.planned} in ${s.budgetSeconds} s` : '';
  return [
    row.operation,
    '~3 KB',
    rps(b) + cut(b),
    rps(c) + cut(c),
    ratioText(row.ratio),
    '—',
    '—',
    '—',
    cpuText([b, c]),
  ];
}

/**
 * The main table: every read with both ceilings, then the writes, for one mode. Pinned also carries the
 * Berth-only webhook figure and the timings.
 */
export function modeTable(run: RunResult, mode: Mode): string {
  const rows = READS.map((name) => run.reads.find((r) => r.name === name))
    .filter((r): r is ReadResult => r !== undefined)
    .map((r) => readRow(r, mode));
  const ops = run.comparison?.operations ?? [];
  const upload = ops.find((o) => o.operation === 'upload' && o.mode === mode);
  if (upload) rows.push(writeRow(upload));
  else if (mode === 'pinned') {
    const u = run.scenarios.upload;
    rows.push(['upload (seed, all versions)', '~3 KB', rps(u), '—', '—', '—', '—', '—', cpuText([u])]);
  }
  if (mode === 'pinned') {
    const w = run.scenarios.webhook_fulfil;
    rows.push(['webhook_fulfil (autocannon)', '—', rps(w), '—', '—', '—', '—', '—', cpuText([w])]);
    for (const o of ops) if (o.unit === 'ms') rows.push(writeRow(o));
  }
  return table(TABLE_HEADERS, rows);
}

export function modeTitle(run: RunResult, mode: Mode, rounds: number, cores: Cores): string {
  const med = rounds > 1 ? `medians of ${rounds} rounds` : '1 round';
  return mode === 'pinned'
    ? `PINNED: wrk on core ${cores.generator}, each server (all threads) on core ${cores.server}; ${med}; ` +
        `${run.totalVersions.toLocaleString('en-US')} versions`
    : `UNPINNED: no taskset, servers and wrk share cores ${cores.all}; ${med}; ` +
        `${run.totalVersions.toLocaleString('en-US')} versions`;
}

const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');

/** Berth's peak RSS over the whole run: every scenario and every read round, pinned or not. */
export function peakRss(run: RunResult): number {
  return Math.max(
    ...Object.values(run.scenarios).map((s) => s.peakRssMb),
    ...run.reads.flatMap((r) =>
      Object.values(r.rounds).flatMap((m) => (m.berth ?? []).map((x) => x.peakRssMb)),
    ),
  );
}

/** The issue's targets, each as measured in this run (at this run's store size), pinned medians. */
export function targetLines(run: RunResult): string[] {
  const lines: string[] = [];
  const read = (name: ReadName) => run.reads.find((r) => r.name === name)?.median.pinned;
  const noCm = 'not measured (needs --vs chartmuseum)';
  for (const name of ['index_anonymous', 'index_licensed', 'tgz_anonymous', 'tgz_licensed'] as const) {
    const m = read(name);
    const b = m?.berth?.reqPerSec;
    const c = m?.chartmuseum?.reqPerSec;
    const r = ratioOf(b, c);
    lines.push(
      r === null
        ? `${name} ≥ 1.0× ChartMuseum: ${noCm}`
        : `${name} ≥ 1.0× ChartMuseum: ${num(r, 2)}× (Berth ${num(b!)} req/s, ChartMuseum ${num(c!)} req/s) — ${mark(r >= 1)}`,
    );
    if (name.startsWith('index_')) {
      const n = m?.nginx?.reqPerSec;
      const share = b !== undefined && n ? b / n : null;
      lines.push(
        share === null
          ? `${name} ≥ 85 % of nginx on the same bytes: not measured`
          : `${name} ≥ 85 % of nginx on the same bytes: ${Math.round(share * 100)} % (Berth ${num(b!)} req/s, ` +
              `nginx ${num(n!)} req/s) — ${mark(share >= 0.85)}`,
      );
    }
  }
  const op = (o: ComparisonRow['operation'], mode: Mode = 'pinned') =>
    run.comparison?.operations.find((x) => x.operation === o && x.mode === mode);
  const upload = op('upload');
  const [min, at] = run.totalVersions >= 20_000 ? [10, '20,000'] : [5, '2,000'];
  lines.push(
    upload?.ratio == null
      ? `upload ≥ ${min}× ChartMuseum (target at ${at}): ${noCm}`
      : `upload ≥ ${min}× ChartMuseum (target at ${at}): ${num(upload.ratio, 2)}× at ` +
          `${run.totalVersions.toLocaleString('en-US')} (Berth ${num((upload.berth as ScenarioResult).reqPerSec)} ` +
          `req/s, ChartMuseum ${num((upload.chartmuseum as ScenarioResult).reqPerSec)} req/s) — ${mark(upload.ratio >= min)}`,
  );
  const visible = op('upload_to_visible')?.berth as TimingResult | undefined;
  lines.push(
    visible?.maxMs == null
      ? `upload→visible ≤ 1 s: ${noCm}`
      : `upload→visible ≤ 1 s: max ${num(visible.maxMs, 0)} ms, p50 ${num(visible.p50Ms ?? 0, 0)} ms over ` +
          `${visible.samples} uploads — ${mark(visible.maxMs <= 1000)}`,
  );
  const startup = op('startup_to_first_index', 'unpinned')?.berth as TimingResult | undefined;
  lines.push(
    startup?.p50Ms == null
      ? `start ≤ 2 s (target at 20,000): ${noCm}`
      : `start ≤ 2 s (target at 20,000): ${num(startup.p50Ms, 0)} ms at ` +
          `${run.totalVersions.toLocaleString('en-US')} — ${mark(startup.p50Ms <= 2000)}`,
  );
  const rss = peakRss(run);
  lines.push(
    `peak RSS ≤ 300 MB (target at 100,000): ${num(rss, 0)} MB at ` +
      `${run.totalVersions.toLocaleString('en-US')} — ${mark(rss <= 300)}`,
  );
  return lines;
}

/** Rows: operations; columns: store sizes (Berth pinned req/s, its ratio to ChartMuseum, its share of nginx). */
export function scalingTable(runs: RunResult[]): string {
  const headers = [
    'operation (pinned)',
    ...runs.map((r) => `${r.totalVersions.toLocaleString('en-US')} versions`),
  ];
  const rows = READS.map((name) => [
    name,
    ...runs.map((r) => {
      const m = r.reads.find((x) => x.name === name)?.median.pinned;
      if (!m?.berth) return '—';
      const ratio = ratioOf(m.berth.reqPerSec, m.chartmuseum?.reqPerSec);
      return (
        `${num(m.berth.reqPerSec)} req/s` +
        (ratio === null ? '' : `, ${num(ratio, 2)}× CM`) +
        (m.nginx ? `, ${pct(m.berth.reqPerSec, m.nginx.reqPerSec)} of nginx` : '')
      );
    }),
  ]);
  rows.push([
    'upload',
    ...runs.map((r) => {
      // The comparison's sample when there is one (the ratio's own figures), else the seeding upload.
      const row = r.comparison?.operations.find((o) => o.operation === 'upload' && o.mode === 'pinned');
      const s = (row?.berth as ScenarioResult | undefined) ?? r.scenarios.upload;
      return `${num(s.reqPerSec)} req/s${row?.ratio == null ? '' : `, ${num(row.ratio, 2)}× CM`}`;
    }),
  ]);
  rows.push(['webhook_fulfil', ...runs.map((r) => `${num(r.scenarios.webhook_fulfil.reqPerSec)} req/s`)]);
  rows.push(['peak RSS', ...runs.map((r) => `${num(peakRss(r), 0)} MB`)]);
  return table(headers, rows);
}

/** Never overwrites an earlier result of the same day. */
export async function writeReport(dir: string, report: Report): Promise<string> {
  await mkdir(dir, { recursive: true });
  const d = new Date(report.date);
  const day = d.toISOString().slice(0, 10);
  const hhmm = d.toISOString().slice(11, 16).replace(':', '');
  const ss = d.toISOString().slice(17, 19);
  const candidates = [`${day}.json`, `${day}-${hhmm}.json`, `${day}-${hhmm}${ss}.json`];
  const name = candidates.find((c) => !existsSync(join(dir, c))) ?? `${day}-${hhmm}${ss}-${process.pid}.json`;
  const path = join(dir, name);
  await writeFile(path, `${JSON.stringify(report, null, 2)}\n`);
  return path;
}
