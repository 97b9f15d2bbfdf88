import { execFile, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { BenchFailure, cpuSeconds, http, sampleRss } from './load';
import type { Cores, Mode } from './pinning';

/**
 * Reads are driven by wrk (C, one thread, event loop), not autocannon: autocannon hands every body to
 * JavaScript and tops out near 660 MB/s on this kind of machine, so on any index over a few hundred KB it
 * measured itself. wrk only counts the bytes. Its Lua script supplies the headers, cycles through the
 * scenario's paths (requests formatted once, in init) and prints one JSON line from done().
 */
export interface WrkRequest {
  /** Paths cycled in order, one per request. */
  paths: string[];
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
}

export interface WrkSpec {
  origin: string;
  request: WrkRequest;
  /** The server whose CPU and RSS are read from /proc. */
  pid: number;
  connections: number;
  duration: number;
  mode: Mode;
  cores: Cores;
  /** The smallest body any of the paths answers: a mean response below it means something else came back. */
  minBodyBytes: number;
}

/** One wrk run. Latencies in ms (wrk records µs). */
export interface Measurement {
  generator: 'wrk';
  mode: Mode;
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Mean bytes read per response, headers included. */
  bytesPerResponse: number;
  /** wrk's own counts; `status` is every response ≥ 400. Any non-zero count fails the run. */
  errors: { connect: number; read: number; write: number; status: number; timeout: number };
  /** Server CPU (user + system, all threads, from /proc) per request. */
  serverCpuUsPerRequest: number;
  /**
   * wrk's own CPU over the run, % of one core (sampled from /proc every 100 ms). Near 100 the generator,
   * not the server, may be what bounds the figure: the tables mark it.
   */
  generatorCpuPct: number;
  peakRssMb: number;
}

const MARK = 'BERTH_BENCH_WRK ';
// A 100,000-version index under 32 connections answers in seconds on one core; wrk's default (2 s) would
// count those as timeouts. A request that takes longer than this is reported and fails the bench.
const TIMEOUT_S = 120;

/** A Lua string literal: printable ASCII as is, every other byte (and quote, backslash) as \\ddd. */
export function lua(s: string): string {
  let out = '"';
  for (const b of Buffer.from(s, 'utf8'))
    out +=
      b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c
        ? String.fromCharCode(b)
        : `\\${String(b).padStart(3, '0')}`;
  return `${out}"`;
}

export function wrkScript(r: WrkRequest): string {
  const lines = [`wrk.method = ${lua(r.method ?? 'GET')}`];
  for (const [k, v] of Object.entries(r.headers ?? {})) lines.push(`wrk.headers[${lua(k)}] = ${lua(v)}`);
  if (r.body !== undefined) lines.push(`wrk.body = ${lua(r.body)}`);
  if (r.paths.length === 1) {
    // One path: wrk's static request, formatted once by wrk itself (the fastest path it has).
    lines.push(`wrk.path = ${lua(r.paths[0])}`);
  } else {
    lines.push(
      `local paths = {${r.paths.map(lua).join(', ')}}`,
      'local reqs = {}',
      'local n = 0',
      'function init(args)',
      '  for i, p in ipairs(paths) do reqs[i] = wrk.format(nil, p) end',
      'end',
      'function request()',
      '  n = n % #reqs + 1',
      '  return reqs[n]',
      'end',
    );
  }
  lines.push(
    'function done(s, l, r)',
    '  local e = s.errors',
    `  io.write(string.format('${MARK}{"requests":%d,"durationUs":%d,"bytes":%d,"connect":%d,"read":%d,` +
      `"write":%d,"status":%d,"timeout":%d,"p50":%d,"p90":%d,"p99":%d,"max":%d}\\n',`,
    '    s.requests, s.duration, s.bytes, e.connect, e.read, e.write, e.status, e.timeout,',
    '    l:percentile(50), l:percentile(90), l:percentile(99), l.max))',
    'end',
  );
  return `${lines.join('\n')}\n`;
}

interface WrkJson {
  requests: number;
  durationUs: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  status: number;
  timeout: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export function parseWrkOutput(stdout: string): WrkJson {
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (!line) throw new BenchFailure(`wrk printed no result line:\n${stdout.slice(-2000)}`);
  return JSON.parse(line.slice(MARK.length)) as WrkJson;
}

/** Fails loudly, with the way to get it, when wrk is not installed. */
export function requireWrk(): void {
  const r = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (r.error)
    throw new BenchFailure(
      'wrk is missing: the bench drives every read with it. Install the Debian package `wrk` ' +
        '(scripts/install-tools.sh does, as root with apt-get).',
    );
}

/**
 * Runs wrk (under `taskset -c <core>` when pinned: taskset execs wrk in the same process) and samples its
 * CPU time from /proc every 100 ms, so that a run where the generator itself was the limit can be told.
 */
async function runWrk(
  args: string[],
  pinnedCore: number | null,
): Promise<{ stdout: string; busyPct: number }> {
  const [cmd, argv] =
    pinnedCore === null ? ['wrk', args] : ['taskset', ['-c', String(pinnedCore), 'wrk', ...args]];
  let child: ChildProcess;
  const stdout = new Promise<string>((resolve, reject) => {
    child = execFile(cmd, argv, { maxBuffer: 4 * 1024 * 1024 }, (err, out, stderr) => {
      if (err) reject(new BenchFailure(`${cmd} ${argv.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve(out);
    });
  });
  const t0 = performance.now();
  let busyPct = 0;
  const timer = setInterval(() => {
    const cpu = cpuSeconds(child.pid!);
    const elapsed = (performance.now() - t0) / 1000;
    if (cpu > 0 && elapsed > 0) busyPct = Math.min(100, Math.round((100 * cpu) / elapsed));
  }, 100);
  try {
    return { stdout: await stdout, busyPct };
  } finally {
    clearInterval(timer);
  }
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** The first path once more with the same request, so that a failure shows what the server said. */
async function reproduce(spec: WrkSpec): Promise<string> {
  try {
    const r = await http(spec.origin + spec.request.paths[0], {
      method: spec.request.method,
      headers: spec.request.headers,
      body: spec.request.body,
    });
    return `${r.status} ${r.body.toString('utf8').slice(0, 300)}`;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * wrk against one server for `seconds` (`warmup`: unrecorded, no checks but errors). Pinned: wrk on the
 * generator core (the caller has pinned the server). Any error, any response ≥ 400, or a mean response
 * smaller than the smallest expected body (a redirect or a 304 would be) fails the bench.
 */
export async function measureWrk(name: string, spec: WrkSpec, seconds = spec.duration): Promise<Measurement> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-wrk-'));
  try {
    const script = join(dir, 'scenario.lua');
    await writeFile(script, wrkScript(spec.request));
    const args = [
      '-t1',
      `-c${spec.connections}`,
      `-d${seconds}s`,
      `--timeout`,
      `${TIMEOUT_S}s`,
      '--latency',
      '-s',
      script,
      spec.origin + spec.request.paths[0],
    ];
    const rss = sampleRss(spec.pid);
    const cpuBefore = cpuSeconds(spec.pid);
    let stdout: string;
    let busyPct: number;
    try {
      ({ stdout, busyPct } = await runWrk(args, spec.mode === 'pinned' ? spec.cores.generator : null));
    } finally {
      rss.stop();
    }
    const cpu = cpuSeconds(spec.pid) - cpuBefore;
    const w = parseWrkOutput(stdout);
    const s = w.durationUs / 1e6;
    const m: Measurement = {
      generator: 'wrk',
      mode: spec.mode,
      requests: w.requests,
      seconds: round(s, 3),
      reqPerSec: round(w.requests / s, 1),
      p50Ms: round(w.p50 / 1000, 3),
      p90Ms: round(w.p90 / 1000, 3),
      p99Ms: round(w.p99 / 1000, 3),
      maxMs: round(w.max / 1000, 3),
      bytesPerResponse: w.requests ? Math.round(w.bytes / w.requests) : 0,
      errors: { connect: w.connect, read: w.read, write: w.write, status: w.status, timeout: w.timeout },
      serverCpuUsPerRequest: w.requests ? round((cpu * 1e6) / w.requests, 1) : 0,
      generatorCpuPct: busyPct,
      peakRssMb: rss.stop(),
    };
    const errors = Object.values(m.errors).reduce((a, b) => a + b, 0);
    const tooSmall = m.bytesPerResponse < spec.minBodyBytes;
    if (errors > 0 || m.requests === 0 || tooSmall) {
      throw new BenchFailure(
        `${name} (${spec.mode}): ${m.requests} responses, errors ${JSON.stringify(m.errors)} ` +
          `(status: responses ≥ 400), ${m.bytesPerResponse} bytes per response where every body is at ` +
          `least ${spec.minBodyBytes}; these numbers would not measure the real path. ` +
          `The same request now answers: ${await reproduce(spec)}`,
      );
    }
    return m;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
