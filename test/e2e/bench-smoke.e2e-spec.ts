import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ConsoleBenchResult } from '../../bench/console';
import { PAGES, PagesResult } from '../../bench/pages';
import { READS } from '../../bench/reads';
import { SCENARIOS } from '../../bench/report';
import { ROOT } from '../support/store-process';

const execFileP = promisify(execFile);
jest.setTimeout(240_000);

interface Scenario {
  generator: string;
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  peakRssMb: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface Measurement {
  generator: string;
  mode: string;
  requests: number;
  reqPerSec: number;
  p99Ms: number;
  bytesPerResponse: number;
  serverCpuUsPerRequest: number;
  generatorCpuPct: number;
  errors: Record<string, number>;
}

type Sides = Partial<Record<'berth' | 'chartmuseum' | 'node' | 'nginx', Measurement>>;

interface BenchReport {
  schema: number;
  machine: { cpus: number; postgres: string; wrk: string; cores: { generator: number; server: number } };
  params: { smoke: boolean; orders: number; rounds: number };
  runs: Array<{
    scenarios: Record<string, Scenario>;
    reads: Array<{
      name: string;
      bodyBytes: number;
      rounds: Record<'pinned' | 'unpinned', Record<string, Measurement[]>>;
      median: Record<'pinned' | 'unpinned', Sides>;
    }>;
    pages: PagesResult;
    console: ConsoleBenchResult;
    verified: Record<string, number | boolean>;
    comparison: {
      chartmuseumVersion: string;
      operations: Array<{
        operation: string;
        mode: string;
        ratio: number | null;
        berth: Record<string, unknown>;
        chartmuseum: Record<string, unknown>;
      }>;
    };
  }>;
}

/**
 * `npm run bench -- --smoke --vs chartmuseum` end to end (built store, Postgres, stripe-mock, ChartMuseum,
 * wrk pinned with taskset, the node and nginx ceilings): it must keep working as the server changes, and
 * its numbers must come from real 2xx answers of the right size, never from errors.
 */
describe('bench --smoke', () => {
  const out = mkdtempSync(join(tmpdir(), 'berth-bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('measures every read with wrk, pinned and unpinned, beside both ceilings, and writes the results JSON', async () => {
    const { stdout } = await execFileP(
      process.execPath,
      [
        '-r',
        'ts-node/register/transpile-only',
        '-r',
        'tsconfig-paths/register',
        'bench/run.ts',
        '--smoke',
        '--vs',
        'chartmuseum',
        '--out',
        out,
      ],
      { cwd: ROOT, timeout: 220_000, maxBuffer: 16 * 1024 * 1024 },
    ).catch((e: { code?: number; stdout?: string; stderr?: string }) => {
      throw new Error(`bench exited with ${e.code}:\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
    });
    // Both tables, each with the ceiling columns and a row per read.
    expect(stdout).toMatch(/PINNED: wrk on core \d+, each server \(all threads\) on core \d+/);
    expect(stdout).toContain('UNPINNED: no taskset');
    expect(
      stdout.match(
        /\| operation +\| body +\| Berth req\/s \(p99\) +\| ChartMuseum req\/s \(p99\) +\| ratio +\| node ceiling +\| nginx ceiling +\| Berth % of nginx/g,
      ),
    ).toHaveLength(2);
    for (const read of READS)
      expect(stdout.match(new RegExp(`^\\| ${read} `, 'gm'))?.length).toBeGreaterThanOrEqual(2);
    expect(stdout).toMatch(/Targets at \d+ versions/);
    for (const target of [
      /^- index_anonymous ≥ 1\.0× ChartMuseum: [\d.]+× \(Berth [\d,.]+ req\/s, ChartMuseum [\d,.]+ req\/s\) — (met|NOT met)$/m,
      /^- index_anonymous ≥ 85 % of nginx on the same bytes: \d+ % \(Berth [\d,.]+ req\/s, nginx [\d,.]+ req\/s\) — (met|NOT met)$/m,
      /^- index_licensed ≥ 1\.0× ChartMuseum: [\d.]+× .* — (met|NOT met)$/m,
      /^- index_licensed ≥ 85 % of nginx on the same bytes: \d+ % .* — (met|NOT met)$/m,
      /^- tgz_anonymous ≥ 1\.0× ChartMuseum: [\d.]+× .* — (met|NOT met)$/m,
      /^- tgz_licensed ≥ 1\.0× ChartMuseum: [\d.]+× .* — (met|NOT met)$/m,
      /^- upload ≥ 5× ChartMuseum \(target at 2,000\): [\d.]+× .* — (met|NOT met)$/m,
      /^- upload→visible ≤ 1 s: max [\d,]+ ms.* — (met|NOT met)$/m,
      /^- start ≤ 2 s \(target at 20,000\): [\d,]+ ms at .* — (met|NOT met)$/m,
      /^- peak RSS ≤ 300 MB \(target at 100,000\): [\d,]+ MB at .* — (met|NOT met)$/m,
    ])
      expect(stdout).toMatch(target);

    const files = readdirSync(out).filter((f) => /^\d{4}-\d{2}-\d{2}.*\.json$/.test(f));
    expect(files).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(out, files[0]), 'utf8')) as BenchReport;
    expect(report).toMatchObject({ schema: 2, params: { smoke: true, rounds: 1 } });
    expect(report.machine.cpus).toBeGreaterThan(1);
    expect(report.machine.cores.generator).not.toBe(report.machine.cores.server);
    expect(report.machine.wrk).toMatch(/\d+\.\d+/);
    expect(report.machine.postgres).toMatch(/^\d+/);
    expect(report.runs).toHaveLength(1);

    const [run] = report.runs;
    const generators: Record<string, string> = { upload: 'fetch', webhook_fulfil: 'autocannon' };
    for (const name of SCENARIOS) {
      const s = run.scenarios[name];
      expect({
        name,
        generator: s?.generator,
        requests: s?.requests > 0,
        p50: s?.p50Ms > 0,
        rss: s?.peakRssMb > 0,
      }).toEqual({
        name,
        generator: generators[name] ?? 'wrk',
        requests: true,
        p50: true,
        rss: true,
      });
      expect({ name, non2xx: s.non2xx, errors: s.errors, timeouts: s.timeouts }).toEqual({
        name,
        non2xx: 0,
        errors: 0,
        timeouts: 0,
      });
    }

    // Every read: Berth, ChartMuseum (where it has the operation) and both ceilings, pinned and unpinned,
    // each a clean wrk run; the ceilings answered the bytes Berth answered (only the headers differ).
    expect(run.reads.map((r) => r.name)).toEqual([...READS]);
    for (const r of run.reads) {
      const sides =
        r.name === 'verify' ? ['berth', 'node', 'nginx'] : ['berth', 'chartmuseum', 'node', 'nginx'];
      for (const mode of ['pinned', 'unpinned'] as const) {
        expect({ read: r.name, mode, sides: Object.keys(r.median[mode]).sort() }).toEqual({
          read: r.name,
          mode,
          sides: [...sides].sort(),
        });
        for (const side of sides) {
          const m = r.median[mode][side as keyof Sides]!;
          const errors = Object.values(m.errors).reduce((a, b) => a + b, 0);
          expect({
            read: r.name,
            mode,
            side,
            generator: m.generator,
            m: m.mode,
            ok: m.requests > 0 && m.reqPerSec > 0 && m.p99Ms > 0,
            errors,
            rounds: r.rounds[mode][side].length,
          }).toEqual({
            read: r.name,
            mode,
            side,
            generator: 'wrk',
            m: mode,
            ok: true,
            errors: 0,
            rounds: 1,
          });
          if (side !== 'chartmuseum') {
            expect({ read: r.name, side, atLeastBody: m.bytesPerResponse >= r.bodyBytes }).toEqual({
              read: r.name,
              side,
              atLeastBody: true,
            });
            expect({
              read: r.name,
              side,
              headersApart: Math.abs(m.bytesPerResponse - r.median[mode].berth!.bytesPerResponse) < 1024,
            }).toEqual({ read: r.name, side, headersApart: true });
          }
        }
        // wrk's own load is measured too (the nginx ceiling answers fast enough to keep it visibly busy).
        const busy = Object.values(r.median[mode]).map((m) => m.generatorCpuPct);
        expect(busy.every((p) => typeof p === 'number' && p >= 0 && p <= 100)).toBe(true);
        expect({ read: r.name, mode, nginxBusy: r.median[mode].nginx!.generatorCpuPct > 0 }).toEqual({
          read: r.name,
          mode,
          nginxBusy: true,
        });
      }
    }

    const orders = report.params.orders;
    expect(run.verified).toMatchObject({
      licensedIndexCharts: 1,
      licensedIndexVerified: true,
      tgzSha256Matches: true,
      verifyValid: true,
      webhookOrders: orders,
      webhookFulfilled: orders,
      ordersPaid: orders,
      licensesIssued: orders,
    });
    expect(run.scenarios.webhook_fulfil.requests).toBe(orders);

    // The storefront pages were loaded as pages (checked before the load) and weighed with what they link.
    expect(run.pages.pages.map((p) => p.name)).toEqual(PAGES.map((p) => p.name));
    for (const p of run.pages.pages) {
      expect({ page: p.name, requests: p.median.requests > 0, errors: p.median.errors.status }).toEqual({
        page: p.name,
        requests: true,
        errors: 0,
      });
      expect(p.median.bytesPerResponse).toBeGreaterThanOrEqual(p.htmlBytes * 0.5);
    }
    const w = run.pages.chartPageWeight;
    expect(w.totalBytes).toBe(w.htmlBytes + w.cssBytes + w.scriptBytes);
    expect(Math.min(w.htmlBytes, w.cssBytes, w.scriptBytes)).toBeGreaterThan(0);
    expect(stdout).toMatch(/Heaviest chart page \/charts\/bench\/app-\d+: .* = [\d.]+ KB \(budget 60\.0 KB/);

    // Counting measured on and off (a twin store), and the console's reads over seeded counts.
    const c = run.console;
    expect(c.countingCost.on.requests).toBeGreaterThan(0);
    expect(c.countingCost.off.requests).toBeGreaterThan(0);
    expect(c.countingCost.on.errors.status + c.countingCost.off.errors.status).toBe(0);
    expect(c.countingCost.costPct).toBeCloseTo(
      (1 - c.countingCost.on.reqPerSec / c.countingCost.off.reqPerSec) * 100,
      0,
    );
    expect(c.seededPulls).toBeGreaterThan(1000);
    expect(c.reads.map((r) => r.name)).toEqual([
      'console_orders',
      'console_licenses',
      'console_analytics',
      'api_analytics_year',
      'api_analytics_license',
    ]);
    for (const r of c.reads)
      expect([r.name, r.median.requests > 0, r.median.errors.status]).toEqual([r.name, true, 0]);
    expect(stdout).toMatch(/Counting costs -?[\d.]+ % of throughput/);

    // The writes and timings measured on both servers, with a ratio from real numbers.
    expect(run.comparison.chartmuseumVersion).toMatch(/^v0\.16\./);
    expect(run.comparison.operations.map((o) => `${o.operation} ${o.mode}`)).toEqual([
      'upload pinned',
      'upload unpinned',
      'upload_to_visible pinned',
      'startup_to_first_index unpinned',
    ]);
    for (const o of run.comparison.operations) {
      expect({ op: o.operation, ratio: typeof o.ratio === 'number' && o.ratio > 0 }).toEqual({
        op: o.operation,
        ratio: true,
      });
      for (const side of [o.berth, o.chartmuseum]) {
        if ('non2xx' in side)
          expect({ op: o.operation, non2xx: side.non2xx, errors: side.errors }).toEqual({
            op: o.operation,
            non2xx: 0,
            errors: 0,
          });
      }
    }
  });
});
