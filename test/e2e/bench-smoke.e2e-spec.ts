import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SCENARIOS } from '../../bench/report';
import { ROOT } from '../support/store-process';

const execFileP = promisify(execFile);
jest.setTimeout(240_000);

interface Scenario {
  requests: number;
  reqPerSec: number;
  p50Ms: number;
  peakRssMb: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

interface BenchReport {
  schema: number;
  machine: { cpus: number; postgres: string };
  params: { smoke: boolean; orders: number };
  runs: Array<{
    scenarios: Record<string, Scenario>;
    verified: Record<string, number | boolean>;
    comparison: {
      chartmuseumVersion: string;
      operations: Array<{
        operation: string;
        ratio: number | null;
        berth: Record<string, unknown>;
        chartmuseum: Record<string, unknown>;
      }>;
      ceiling: Record<'index_anonymous' | 'tgz_pull', Scenario> & { note: string };
    };
  }>;
}

/**
 * `npm run bench -- --smoke --vs chartmuseum` end to end (built store, Postgres, stripe-mock, ChartMuseum,
 * autocannon): it must keep working as the server changes, and its numbers must come from real 2xx
 * answers, never from errors.
 */
describe('bench --smoke', () => {
  const out = mkdtempSync(join(tmpdir(), 'berth-bench-smoke-'));
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('runs every scenario against real responses and writes the results JSON', async () => {
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
    expect(stdout).toContain('| index_anonymous');
    expect(stdout).toContain('Berth vs ChartMuseum');
    expect(stdout).toMatch(/Targets at \d+ versions:/);

    const files = readdirSync(out).filter((f) => /^\d{4}-\d{2}-\d{2}.*\.json$/.test(f));
    expect(files).toHaveLength(1);
    const report = JSON.parse(readFileSync(join(out, files[0]), 'utf8')) as BenchReport;
    expect(report).toMatchObject({ schema: 1, params: { smoke: true } });
    expect(report.machine.cpus).toBeGreaterThan(0);
    expect(report.machine.postgres).toMatch(/^\d+/);
    expect(report.runs).toHaveLength(1);

    const [run] = report.runs;
    for (const name of SCENARIOS) {
      const s = run.scenarios[name];
      expect({ name, requests: s?.requests > 0, p50: s?.p50Ms > 0, rss: s?.peakRssMb > 0 }).toEqual({
        name,
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

    // Every matching operation measured on both servers, with a ratio from real numbers.
    expect(run.comparison.chartmuseumVersion).toMatch(/^v0\.16\./);
    expect(run.comparison.operations.map((o) => o.operation)).toEqual([
      'index_anonymous',
      'index_authenticated',
      'tgz_pull',
      'upload',
      'upload_to_visible',
      'startup_to_first_index',
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
    const { ceiling } = run.comparison;
    for (const s of [ceiling.index_anonymous, ceiling.tgz_pull])
      expect([s.requests > 0, s.non2xx, s.errors]).toEqual([true, 0, 0]);
  });
});
