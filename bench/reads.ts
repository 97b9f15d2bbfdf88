import { createHash } from 'node:crypto';
import { CEILINGS, CeilingName, startCeilings } from './ceiling';
import { BenchFailure, http } from './load';
import { Cores, Mode, MODES, placeServer } from './pinning';
import { Measurement, measureWrk, WrkRequest } from './wrk';

/** Every read the bench measures with wrk, in the order they run and are printed. */
export const READS = [
  'index_anonymous',
  'index_publisher',
  'index_licensed',
  'tgz_anonymous',
  'tgz_licensed',
  'verify',
] as const;
export type ReadName = (typeof READS)[number];

export type Side = 'berth' | 'chartmuseum' | CeilingName;
export const SIDES: readonly Side[] = ['berth', 'chartmuseum', ...CEILINGS];

/** One server's side of a read: where, which process, the request wrk sends, and a check of its answer. */
export interface ReadTarget {
  origin: string;
  pid(): number;
  request: WrkRequest;
  /** Fetches an answer once and proves it is the real thing; the facts go into the JSON. */
  check(): Promise<Record<string, unknown>>;
}

export interface ReadScenario {
  name: ReadName;
  berth: ReadTarget;
  /** The same operation on ChartMuseum, when it has one and --vs chartmuseum is given. */
  chartmuseum?: ReadTarget;
}

export interface ReadResult {
  name: ReadName;
  check: Record<string, unknown>;
  chartmuseumCheck?: Record<string, unknown>;
  /** Distinct paths cycled through, and the mean body Berth answered for them (what the ceilings serve). */
  paths: number;
  bodyBytes: number;
  /** Set when the ceilings were measured once for identical bytes under another scenario. */
  ceilingsFrom?: ReadName;
  /** Every wrk run, per mode and side, in the order of the rounds. */
  rounds: Record<Mode, Partial<Record<Side, Measurement[]>>>;
  /** Per mode and side, each number the median over the rounds. */
  median: Record<Mode, Partial<Record<Side, Measurement>>>;
}

export interface ReadOptions {
  connections: number;
  duration: number;
  /** Unrecorded seconds per side before its first round. */
  warmup: number;
  rounds: number;
  cores: Cores;
  log(line: string): void;
}

/** `count` files spread evenly over `files`, so that no server answers from one hot file. */
export function spread<T>(files: readonly T[], count: number): T[] {
  const step = Math.max(1, Math.floor(files.length / count));
  return files.filter((_, i) => i % step === 0).slice(0, count);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : Math.round(((s[mid - 1] + s[mid]) / 2) * 1000) / 1000;
}

/** Each number the median of the rounds' (errors: the largest, which is 0 or the run would have failed). */
export function medianOf(ms: Measurement[]): Measurement {
  const pick = (k: keyof Measurement) => median(ms.map((m) => m[k] as number));
  return {
    generator: 'wrk',
    mode: ms[0].mode,
    requests: pick('requests'),
    seconds: pick('seconds'),
    reqPerSec: pick('reqPerSec'),
    p50Ms: pick('p50Ms'),
    p90Ms: pick('p90Ms'),
    p99Ms: pick('p99Ms'),
    maxMs: pick('maxMs'),
    bytesPerResponse: pick('bytesPerResponse'),
    errors: {
      connect: Math.max(...ms.map((m) => m.errors.connect)),
      read: Math.max(...ms.map((m) => m.errors.read)),
      write: Math.max(...ms.map((m) => m.errors.write)),
      status: Math.max(...ms.map((m) => m.errors.status)),
      timeout: Math.max(...ms.map((m) => m.errors.timeout)),
    },
    serverCpuUsPerRequest: pick('serverCpuUsPerRequest'),
    generatorCpuPct: pick('generatorCpuPct'),
    peakRssMb: Math.max(...ms.map((m) => m.peakRssMb)),
  };
}

/** Every path's body as `t` answers it (200 required): the ceilings serve exactly these bytes. */
async function bodies(what: string, t: ReadTarget): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const path of t.request.paths) {
    const r = await http(t.origin + path, {
      method: t.request.method,
      headers: t.request.headers,
      body: t.request.body,
    });
    if (r.status !== 200)
      throw new BenchFailure(`${what} ${path}: ${r.status} ${r.body.toString('utf8').slice(0, 300)}`);
    out.set(path, r.body);
  }
  return out;
}

function fingerprint(r: WrkRequest, files: Map<string, Buffer>): string {
  const h = createHash('sha256').update(`${r.method ?? 'GET'}\n${r.body ?? ''}\n`);
  for (const [path, bytes] of files) h.update(`${path}\n`).update(bytes);
  return h.digest('hex');
}

interface Runner {
  side: Side;
  origin: string;
  pid: number;
  request: WrkRequest;
  minBodyBytes: number;
}

const minBody = (files: Map<string, Buffer>) => Math.min(...[...files.values()].map((b) => b.length));

/**
 * Each scenario: check Berth's (and ChartMuseum's) answers, fetch Berth's bytes, serve them from the
 * ceilings, warm every side, then `rounds` rounds, each running every side pinned and then unpinned in
 * turn (Berth, ChartMuseum, node, nginx), so that drift on a shared machine spreads over all of them.
 * Berth and ChartMuseum are left pinned afterwards.
 */
export async function runReads(scenarios: ReadScenario[], o: ReadOptions): Promise<ReadResult[]> {
  const results: ReadResult[] = [];
  const ceilingsByBytes = new Map<string, ReadResult>();
  for (const s of scenarios) {
    o.log(`scenario ${s.name}`);
    const check = await s.berth.check();
    const chartmuseumCheck = await s.chartmuseum?.check();
    const files = await bodies(`berth ${s.name}`, s.berth);
    const runners: Runner[] = [
      {
        side: 'berth',
        origin: s.berth.origin,
        pid: s.berth.pid(),
        request: s.berth.request,
        minBodyBytes: minBody(files),
      },
    ];
    if (s.chartmuseum) {
      const cmFiles = await bodies(`chartmuseum ${s.name}`, s.chartmuseum);
      runners.push({
        side: 'chartmuseum',
        origin: s.chartmuseum.origin,
        pid: s.chartmuseum.pid(),
        request: s.chartmuseum.request,
        minBodyBytes: minBody(cmFiles),
      });
    }
    const key = fingerprint(s.berth.request, files);
    const sameBytes = ceilingsByBytes.get(key);
    const ceilings = sameBytes ? null : await startCeilings(files);
    try {
      for (const c of CEILINGS) {
        if (!ceilings) continue;
        const server = ceilings.servers[c];
        runners.push({
          side: c,
          origin: server.url,
          pid: server.pid(),
          request: s.berth.request,
          minBodyBytes: minBody(files),
        });
      }
      const rounds: ReadResult['rounds'] = { pinned: {}, unpinned: {} };
      const run = (r: Runner, mode: Mode, seconds: number) => {
        placeServer(r.pid, mode, o.cores);
        return measureWrk(
          `${r.side} ${s.name}`,
          { ...r, connections: o.connections, duration: o.duration, mode, cores: o.cores },
          seconds,
        );
      };
      if (o.warmup > 0) for (const r of runners) await run(r, 'pinned', o.warmup);
      for (let i = 1; i <= o.rounds; i++) {
        for (const mode of MODES) {
          for (const r of runners) {
            const m = await run(r, mode, o.duration);
            (rounds[mode][r.side] ??= []).push(m);
            o.log(
              `  round ${i}/${o.rounds} ${mode.padEnd(8)} ${r.side.padEnd(11)} ${m.reqPerSec} req/s, ` +
                `p99 ${m.p99Ms} ms, ${m.serverCpuUsPerRequest} µs CPU/req, wrk ${m.generatorCpuPct} % busy`,
            );
          }
        }
      }
      for (const r of runners)
        if (r.side === 'berth' || r.side === 'chartmuseum') placeServer(r.pid, 'pinned', o.cores);
      if (sameBytes) {
        for (const mode of MODES) for (const c of CEILINGS) rounds[mode][c] = sameBytes.rounds[mode][c];
      }
      const med: ReadResult['median'] = { pinned: {}, unpinned: {} };
      for (const mode of MODES)
        for (const side of SIDES) {
          const ms = rounds[mode][side];
          if (ms?.length) med[mode][side] = medianOf(ms);
        }
      const sizes = [...files.values()].map((b) => b.length);
      const result: ReadResult = {
        name: s.name,
        check,
        ...(chartmuseumCheck ? { chartmuseumCheck } : {}),
        paths: files.size,
        bodyBytes: Math.round(sizes.reduce((a, b) => a + b, 0) / sizes.length),
        ...(sameBytes ? { ceilingsFrom: sameBytes.ceilingsFrom ?? sameBytes.name } : {}),
        rounds,
        median: med,
      };
      if (!sameBytes) ceilingsByBytes.set(key, result);
      results.push(result);
    } finally {
      await ceilings?.close();
    }
  }
  return results;
}
