/**
 * The results file, bench/results/<YYYY-MM-DD>.json (UTC; `-HHMM`, then `-HHMMSS`, appended when
 * taken). Schema 1, stable: fields are only ever added.
 *
 * {
 *   "schema": 1,
 *   "date": "2026-11-28T21:00:00.000Z",            // start of the run
 *   "machine": { "os", "cpuModel", "cpus", "totalMemMb", "node", "postgres" },  // postgres: SHOW server_version
 *   "params": { "charts", "versions", "duration", "connections", "uploadConcurrency", "orders", "sample",
 *               "warmup", "vs": "chartmuseum" | null, "scale", "smoke", "sizes": [total versions per run] },
 *   "runs": [{                                      // one per store size (three with --scale)
 *     "charts", "versions", "totalVersions", "benchVersions", "vendorVersions",
 *     "timings": { "generateSeconds", "uploadSeconds", "listingsSeconds", "ordersSeconds", "totalSeconds" },
 *     "scenarios": {                                // ScenarioResult (bench/load.ts) each
 *       "upload", "index_anonymous", "index_publisher", "index_licensed", "tgz_licensed", "verify", "webhook_fulfil"
 *     },                                            // { requests, seconds, reqPerSec, p50Ms, p99Ms, maxMs, peakRssMb,
 *                                                   //   bytesPerResponse, non2xx, errors, timeouts, statusCodes, check?,
 *                                                   //   serverCpuUsPerRequest? (autocannon scenarios) }
 *     "verified": { "anonymousIndexCharts", "licensedIndexCharts", "licensedIndexVerified", "tgzSha256Matches",
 *                   "verifyValid", "webhookOrders", "webhookFulfilled", "ordersPaid", "licensesIssued" },
 *     "comparison": {                               // only with --vs chartmuseum
 *       "chartmuseumVersion", "note",
 *       "operations": [{ "operation", "unit": "req/s" | "ms", "berth", "chartmuseum", "ratio", "ratioMeaning" }]
 *     }                                             // berth/chartmuseum: ScenarioResult (req/s) or
 *   }]                                              //   { samples, p50Ms, maxMs, timeout? } (ms); ratio > 1: Berth better
 * }
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release, totalmem, type } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { POSTGRES_ADMIN_URL } from '../test/support/postgres';
import type { BenchOptions } from './args';
import type { Comparison, ComparisonRow, TimingResult } from './compare';
import type { ScenarioResult } from './load';

export const SCENARIOS = [
  'upload',
  'index_anonymous',
  'index_publisher',
  'index_licensed',
  'tgz_licensed',
  'verify',
  'webhook_fulfil',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface RunResult {
  charts: number;
  versions: number;
  totalVersions: number;
  benchVersions: number;
  vendorVersions: number;
  timings: Record<string, number>;
  scenarios: Record<ScenarioName, ScenarioResult>;
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
}

export interface Report {
  schema: 1;
  date: string;
  machine: Machine;
  params: Omit<BenchOptions, 'out'> & { sizes: number[] };
  runs: RunResult[];
}

export async function machineInfo(): Promise<Machine> {
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
    };
  } finally {
    await c.end();
  }
}

/** Plain aligned columns: readable in a terminal and pasteable into Markdown. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(headers), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

const num = (n: number, digits = 1) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function scenarioTable(run: RunResult): string {
  return table(
    ['scenario', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'peak RSS MB', 'server CPU µs/req'],
    SCENARIOS.map((name) => {
      const r = run.scenarios[name];
      return [
        name,
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

function cell(row: ComparisonRow, side: 'berth' | 'chartmuseum'): string {
  const r = row[side];
  if (row.unit === 'req/s') {
    const s = r as ScenarioResult;
    const cut = s.planned ? `; ${s.requests} of ${s.planned} within the ${s.budgetSeconds} s budget` : '';
    return `${num(s.reqPerSec)} req/s (p50 ${num(s.p50Ms, 2)} ms, p99 ${num(s.p99Ms, 2)} ms, ${num(s.peakRssMb, 0)} MB${cut})`;
  }
  const t = r as TimingResult;
  if (t.timeout) return 'timeout';
  return t.samples > 1
    ? `p50 ${num(t.p50Ms ?? 0, 1)} ms, max ${num(t.maxMs ?? 0, 1)} ms`
    : `${num(t.p50Ms ?? 0, 0)} ms`;
}

/** The ratio as a number (it is what the JSON holds) and in words, since > 1 always favours Berth. */
function ratioText(row: ComparisonRow): string {
  if (row.ratio === null) return 'n/a';
  const words =
    row.ratio >= 1 ? `Berth ${num(row.ratio, 1)}× better` : `Berth ${num(1 / row.ratio, 1)}× worse`;
  return `${num(row.ratio, 2)} ${row.unit === 'req/s' ? 'Berth/CM req/s' : 'CM/Berth time'} (${words})`;
}

export function comparisonTable(c: Comparison): string {
  return table(
    ['operation', 'Berth', 'ChartMuseum', 'ratio'],
    c.operations.map((row) => [row.operation, cell(row, 'berth'), cell(row, 'chartmuseum'), ratioText(row)]),
  );
}

/** Berth and ChartMuseum as shares of what a bare node:http server does with the same bytes and load. */
export function ceilingTable(c: Comparison): string {
  const pct = (a: number, b: number) => (b > 0 ? `${Math.round((100 * a) / b)}%` : 'n/a');
  return table(
    ['operation', 'bare node:http', 'Berth', 'ChartMuseum'],
    (['index_anonymous', 'tgz_pull'] as const).map((op) => {
      const bare = c.ceiling[op].reqPerSec;
      const row = c.operations.find((o) => o.operation === op)!;
      const b = (row.berth as ScenarioResult).reqPerSec;
      const m = (row.chartmuseum as ScenarioResult).reqPerSec;
      return [
        op,
        `${num(bare)} req/s`,
        `${num(b)} req/s (${pct(b, bare)})`,
        `${num(m)} req/s (${pct(m, bare)})`,
      ];
    }),
  );
}

/** The targets, each as measured in this run (at this run's store size). */
export function targetLines(run: RunResult): string[] {
  const lines: string[] = [];
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  const ratio = (op: string) => run.comparison?.operations.find((o) => o.operation === op);
  const ratioTarget = (op: string, min: number) => {
    const r = ratio(op)?.ratio;
    if (r != null) lines.push(`${op} ≥ ${min}× ChartMuseum: ${num(r, 2)}× — ${mark(r >= min)}`);
  };
  ratioTarget('index_anonymous', 2);
  ratioTarget('upload', 10);
  ratioTarget('tgz_pull', 1);
  const visible = ratio('upload_to_visible')?.berth as TimingResult | undefined;
  if (visible?.maxMs != null)
    lines.push(`upload visible ≤ 1 s: max ${num(visible.maxMs, 0)} ms — ${mark(visible.maxMs <= 1000)}`);
  const startup = ratio('startup_to_first_index')?.berth as TimingResult | undefined;
  if (startup?.p50Ms != null)
    lines.push(
      `start-up to first index ≤ 2 s (target at 20,000): ${num(startup.p50Ms, 0)} ms at ${run.totalVersions} — ${mark(startup.p50Ms <= 2000)}`,
    );
  const lic = run.scenarios.index_licensed;
  lines.push(
    `licensed index p50 ≤ 5 ms (target at 100,000): ${num(lic.p50Ms, 2)} ms at ${run.totalVersions} — ${mark(lic.p50Ms <= 5)}`,
  );
  const rss = Math.max(...Object.values(run.scenarios).map((s) => s.peakRssMb));
  lines.push(
    `peak RSS ≤ 300 MB (target at 100,000): ${num(rss, 0)} MB at ${run.totalVersions} — ${mark(rss <= 300)}`,
  );
  return lines;
}

/** Rows: scenarios (and comparison ratios); columns: store sizes. */
export function scalingTable(runs: RunResult[]): string {
  const headers = ['scenario', ...runs.map((r) => `${r.totalVersions.toLocaleString('en-US')} versions`)];
  const rows = SCENARIOS.map((name) => [
    name,
    ...runs.map((r) => {
      const s = r.scenarios[name];
      return `${num(s.reqPerSec)} req/s, p50 ${num(s.p50Ms, 2)} ms, ${num(s.peakRssMb, 0)} MB`;
    }),
  ]);
  const ops = runs[0].comparison?.operations.map((o) => o.operation) ?? [];
  for (const op of ops) {
    rows.push([
      `vs CM: ${op}`,
      ...runs.map((r) => {
        const row = r.comparison?.operations.find((o) => o.operation === op);
        return row?.ratio == null ? 'n/a' : `${num(row.ratio, 2)}×`;
      }),
    ]);
  }
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
