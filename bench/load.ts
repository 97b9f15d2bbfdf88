import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon, { type Options, type Request as LoadRequest } from 'autocannon';
import PipelinedRequestsQueue from 'autocannon/lib/pipelinedRequestsQueue';

export type { LoadRequest };

/** One measured operation. Latencies are of 2xx responses only; anything else fails the bench. */
export interface ScenarioResult {
  /**
   * What drove it: wrk (reads, pinned median over the rounds), autocannon (webhooks: each request
   * carries its own signed event), or the bench's own fetch pool (uploads, one file per request).
   */
  generator?: 'wrk' | 'autocannon' | 'fetch';
  requests: number;
  seconds: number;
  reqPerSec: number;
  p50Ms: number;
  /** wrk scenarios only. */
  p90Ms?: number;
  p99Ms: number;
  maxMs: number;
  /** Peak resident set of the server process while it was measured. */
  peakRssMb: number;
  /**
   * CPU the server process spent per answered request (user + system, from /proc; 10 ms ticks over the
   * whole run): far steadier than req/s on a shared machine, so it is what a regression is judged by.
   */
  serverCpuUsPerRequest?: number;
  /** Mean response size, to tell a cheap 401 from a real index at a glance. */
  bytesPerResponse: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** What the scenario's first response was checked to contain. */
  check?: Record<string, unknown>;
  /** Set when a time budget cut an upload sample short: how many were planned, and the budget. */
  planned?: number;
  budgetSeconds?: number;
}

// autocannon keeps every response body as a string (`body += chunk`) for onResponse hooks. For a 10 MB
// index that decoding costs the load generator more CPU than the server spends answering, so the
// numbers would measure autocannon. Only the head of a body is ever read here (webhook outcomes, error
// text): keep 64 KB and drop the rest.
const BODY_KEPT = 64 * 1024;
const keepBody = PipelinedRequestsQueue.prototype.addBody;
PipelinedRequestsQueue.prototype.addBody = function (this: PipelinedRequestsQueue, data: Buffer) {
  const req = this.peek();
  if (req && req.body.length < BODY_KEPT) keepBody.call(this, data);
};

export class BenchFailure extends Error {
  override name = 'BenchFailure';
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** VmRSS of `pid` in MB, or 0 once the process is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) `pid` has used so far, or 0 once the process is gone. */
export function cpuSeconds(pid: number): number {
  try {
    // Fields after the command name (which may hold spaces, hence the last ')'): utime is 14th, stime 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** Samples the server's RSS every 50 ms: short spikes (an index render) are what a limit must allow for. */
export function sampleRss(pid: number): { stop(): number } {
  let peak = rssMb(pid);
  const timer = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
  return {
    stop() {
      clearInterval(timer);
      return round(Math.max(peak, rssMb(pid)), 1);
    },
  };
}

export function summarize(
  latencies: number[],
  seconds: number,
  extra: Partial<ScenarioResult> & { peakRssMb: number },
): ScenarioResult {
  const sorted = Float64Array.from(latencies).sort();
  return {
    requests: latencies.length,
    seconds: round(seconds, 3),
    reqPerSec: round(latencies.length / seconds, 1),
    p50Ms: round(percentile(sorted, 50), 3),
    p99Ms: round(percentile(sorted, 99), 3),
    maxMs: round(sorted.length ? sorted[sorted.length - 1] : 0, 3),
    bytesPerResponse: 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    statusCodes: {},
    ...extra,
  };
}

export interface PoolOptions {
  /** Stop starting new items after this long (in-flight ones still finish and count). */
  budgetMs?: number;
  progress?: (done: number, total: number) => void;
  /**
   * Count a failed item (a dropped connection) and go on, instead of failing the run: for the rival,
   * whose uploads into a large store can outlast its own timeouts.
   */
  countFailures?: boolean;
}

/**
 * Runs `work` over `items` with exactly `concurrency` requests in flight, each returning its own latency
 * (so that reading a file from disk is not counted). The first failure stops every worker.
 */
export async function timedPool<T>(
  items: readonly T[],
  concurrency: number,
  pid: number,
  work: (item: T) => Promise<number>,
  { budgetMs = Infinity, progress, countFailures = false }: PoolOptions = {},
): Promise<ScenarioResult> {
  const latencies: number[] = [];
  let failures = 0;
  const rss = sampleRss(pid);
  const cpuBefore = cpuSeconds(pid);
  let next = 0;
  let failed = false;
  const started = performance.now();
  const worker = async () => {
    while (!failed && next < items.length && performance.now() - started < budgetMs) {
      const item = items[next++];
      try {
        latencies.push(await work(item));
      } catch (e) {
        if (countFailures) {
          failures += 1;
          continue;
        }
        failed = true;
        throw e;
      }
      if (progress && latencies.length % 2000 === 0) progress(latencies.length, items.length);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  } finally {
    rss.stop();
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  return summarize(latencies, seconds, {
    generator: 'fetch',
    peakRssMb: rss.stop(),
    serverCpuUsPerRequest: latencies.length ? round((cpu * 1e6) / latencies.length, 1) : 0,
    statusCodes: { '201': latencies.length, ...(failures ? { failed: failures } : {}) },
    ...(latencies.length < items.length ? { planned: items.length, budgetSeconds: budgetMs / 1000 } : {}),
  });
}

/** Untimed bounded concurrency, for setup work (listings, orders, copies). */
export async function pool<T, R>(
  items: readonly T[],
  concurrency: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return out;
}

export const basic = (user: string, password: string) =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Reused connections, as fetch (Berth's uploads) and Helm clients have. */
const keepAlive = new Agent({ keepAlive: true });

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/**
 * A plain node:http request with no client-side timeout: ChartMuseum may take minutes to answer its
 * first index.yaml on a large store, longer than fetch's built-in header timeout allows.
 */
export function http(
  url: string,
  init: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    timeoutMs?: number;
  } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: init.method ?? 'GET', headers: init.headers, agent: keepAlive },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (init.timeoutMs)
      req.setTimeout(init.timeoutMs, () => req.destroy(new Error(`no answer within ${init.timeoutMs} ms`)));
    req.end(init.body);
  });
}

/** Polls every 20 ms until GET `url` answers 200 with its whole body: ms since `since`, or null past the deadline. */
export async function firstOk(
  url: string,
  since: number,
  timeoutMs: number,
  authorization?: string,
): Promise<number | null> {
  for (;;) {
    const left = timeoutMs - (performance.now() - since);
    if (left <= 0) return null;
    try {
      const r = await http(url, { timeoutMs: left, headers: authorization ? { authorization } : {} });
      if (r.status === 200) return performance.now() - since;
    } catch {
      // not listening yet, or no answer in time
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

export interface LoadSpec {
  /** Absolute URL; with `requests`, only its origin is used. */
  url: string;
  /** The server process whose RSS is sampled. */
  pid: number;
  connections: number;
  /** Seconds; ignored when `amount` is set. */
  duration: number;
  amount?: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  requests?: LoadRequest[];
  /** Seconds of unrecorded load first, so JIT and caches are warm (never with `amount`). */
  warmup?: number;
}

// Generous: a 100k-version index under 16 connections is slow on a 2-core machine, and a timeout is
// reported (and fails the bench) rather than silently shortening the sample.
const REQUEST_TIMEOUT_S = 120;

/** Sends the scenario's first request once more, so that a failure shows what the server said. */
async function reproduce(spec: LoadSpec): Promise<string> {
  const first = spec.requests?.[0];
  const path = first?.path ?? new URL(spec.url).pathname;
  try {
    const r = await http(new URL(path, spec.url).toString(), {
      method: first?.method ?? spec.method,
      headers: { ...spec.headers, ...first?.headers },
      body: first?.body ?? spec.body,
    });
    return `${r.status} ${r.body.toString('utf8').slice(0, 500)}`;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The first non-2xx a request list saw, with its path and body (a reproduction would only show request one). */
function watchRequests(
  requests: LoadRequest[] | undefined,
  firstBad: { text?: string },
): LoadRequest[] | undefined {
  return requests?.map((r) => ({
    ...r,
    onResponse: (status, body, context) => {
      if ((status < 200 || status >= 300) && !firstBad.text)
        firstBad.text = `${r.method ?? 'GET'} ${r.path}: ${status} ${body.slice(0, 500)}`;
      r.onResponse?.(status, body, context);
    },
  }));
}

function options(spec: LoadSpec, seconds: number, firstBad: { text?: string } = {}): Options {
  const o: Options = {
    url: spec.url,
    connections: spec.amount ? Math.min(spec.connections, spec.amount) : spec.connections,
    duration: seconds,
    amount: spec.amount,
    method: spec.method,
    headers: spec.headers,
    body: spec.body,
    requests: watchRequests(spec.requests, firstBad),
    timeout: REQUEST_TIMEOUT_S,
  };
  // autocannon merges options with Object.assign: an explicit undefined would replace its defaults.
  for (const k of Object.keys(o) as Array<keyof Options>) if (o[k] === undefined) delete o[k];
  return o;
}

async function failIfUnclean(
  name: string,
  spec: LoadSpec,
  r: ScenarioResult,
  firstBad: { text?: string },
): Promise<void> {
  if (r.non2xx === 0 && r.errors === 0 && r.timeouts === 0 && r.requests > 0) return;
  throw new BenchFailure(
    `${name}: ${r.requests} 2xx, ${r.non2xx} non-2xx (${JSON.stringify(r.statusCodes)}), ` +
      `${r.errors} errors, ${r.timeouts} timeouts; these numbers would not measure the real path. ` +
      (firstBad.text
        ? `First failure: ${firstBad.text}`
        : `The same request now answers: ${await reproduce(spec)}`),
  );
}

/**
 * autocannon against one scenario; any non-2xx, error or timeout throws. Only for requests that need
 * per-request logic (the webhooks, each with its own signed event): every read goes through wrk (wrk.ts).
 */
export async function measure(name: string, spec: LoadSpec): Promise<ScenarioResult> {
  if (spec.warmup && !spec.amount) {
    const w = await autocannon(options(spec, spec.warmup));
    if (w.non2xx || w.errors || w.timeouts) {
      throw new BenchFailure(
        `${name} (warm-up): ${w.non2xx} non-2xx ${JSON.stringify(w.statusCodeStats)}, ${w.errors} errors; ` +
          `the same request now answers: ${await reproduce(spec)}`,
      );
    }
  }
  const latencies: number[] = [];
  const statusCodes: Record<string, number> = {};
  let non2xx = 0;
  let bytes = 0;
  const rss = sampleRss(spec.pid);
  const cpuBefore = cpuSeconds(spec.pid);
  const started = performance.now();
  // autocannon notices the end on a one-second tick: timing to the last response keeps short runs honest.
  let last = started;
  const firstBad: { text?: string } = {};
  const instance = autocannon(options(spec, spec.duration, firstBad));
  instance.on('response', (_client, status, resBytes, ms) => {
    last = performance.now();
    statusCodes[status] = (statusCodes[status] ?? 0) + 1;
    bytes += resBytes;
    if (status >= 200 && status < 300) latencies.push(ms);
    else non2xx++;
  });
  let result;
  try {
    result = await instance;
  } finally {
    rss.stop();
  }
  const seconds = (last - started) / 1000;
  const answered = latencies.length + non2xx;
  const r = summarize(latencies, seconds, {
    generator: 'autocannon',
    peakRssMb: rss.stop(),
    serverCpuUsPerRequest: answered ? round(((cpuSeconds(spec.pid) - cpuBefore) * 1e6) / answered, 1) : 0,
    bytesPerResponse: Math.round(bytes / Math.max(1, latencies.length + non2xx)),
    non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
  });
  await failIfUnclean(name, spec, r, firstBad);
  return r;
}
