import { resolve } from 'node:path';

export interface BenchOptions {
  charts: number;
  versions: number;
  /** Seconds per measured load run (each side, each round, each mode). */
  duration: number;
  /** wrk connections (and autocannon's for the webhooks). */
  connections: number;
  /** Rounds per read scenario, alternating Berth, ChartMuseum and the ceilings; medians are reported. */
  rounds: number;
  /** Requests in flight during the upload measurement. */
  uploadConcurrency: number;
  /** Pending orders the webhook scenario fulfils, one per request. */
  orders: number;
  /** New charts uploaded to each server in the comparison. */
  sample: number;
  /** Unrecorded seconds of load before each measured read scenario. */
  warmup: number;
  vs: 'chartmuseum' | null;
  scale: boolean;
  smoke: boolean;
  out: string;
}

export const SCALE_SIZES = [2_000, 20_000, 100_000];

/** The orders and licenses listings return at most 500 rows (one is the complimentary license). */
const MAX_ORDERS = 499;

export const USAGE = `Usage: npm run bench -- [options]

  --charts N               charts in the synthetic store (default 1000; 90% free "bench", 10% paid "vendor")
  --versions V             versions per chart (default 20)
  --duration S             seconds per measured wrk run (default 10)
  --connections C          wrk connections, one wrk thread (default 32)
  --rounds R               rounds per read scenario, each running Berth, ChartMuseum and both ceilings
                           pinned and unpinned in turn; medians are reported (default 3)
  --upload-concurrency U   uploads in flight during the load phase (default 8)
  --orders M               orders fulfilled by the webhook scenario (default 300, at most 499)
  --sample K               new charts uploaded to each server by --vs, pinned and again unpinned (default 200)
  --vs chartmuseum         also measure ChartMuseum on the same charts
  --scale                  run at ${SCALE_SIZES.join(', ')} total versions (charts = total / versions)
  --warmup S               unrecorded seconds of load per server before its first round (default 1)
  --out DIR                where the JSON goes (default bench/results)
  --smoke                  tiny run for CI: charts 4, versions 2, duration 1, 1 round, small samples
  --help                   this text

Reads run under wrk pinned to one core (taskset -c), each server with all its threads on another
(taskset -a -pc), then unpinned; ceilings (bare node:http, nginx) serve the same bytes. Needs 2 cores,
taskset (util-linux), wrk and nginx (Debian: wrk, nginx-light; scripts/install-tools.sh installs them).
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

const DEFAULTS: Omit<BenchOptions, 'out'> = {
  charts: 1000,
  versions: 20,
  duration: 10,
  connections: 32,
  rounds: 3,
  uploadConcurrency: 8,
  orders: 300,
  sample: 200,
  warmup: 1,
  vs: null,
  scale: false,
  smoke: false,
};

/** What --smoke implies; flags given explicitly still win. */
const SMOKE: Partial<BenchOptions> = {
  charts: 4,
  versions: 2,
  duration: 1,
  connections: 4,
  rounds: 1,
  orders: 5,
  sample: 4,
  warmup: 0,
};

const NUMERIC: Record<string, keyof BenchOptions> = {
  '--charts': 'charts',
  '--versions': 'versions',
  '--duration': 'duration',
  '--connections': 'connections',
  '--upload-concurrency': 'uploadConcurrency',
  '--orders': 'orders',
  '--sample': 'sample',
  '--rounds': 'rounds',
};

function positiveInt(flag: string, value: string | undefined): number {
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 1)
    throw new UsageError(`${flag} needs a positive integer, got ${value ?? 'nothing'}`);
  return n;
}

/** Parses argv (without node and script); throws UsageError for anything unknown or malformed. */
export function parseArgs(argv: string[], repoRoot: string): BenchOptions | 'help' {
  const given: Partial<BenchOptions> = {};
  const args = argv.flatMap((a) =>
    a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a],
  );
  for (let i = 0; i < args.length; i++) {
    const flag = args[i];
    if (flag === '--help' || flag === '-h') return 'help';
    if (flag in NUMERIC) {
      (given as Record<string, number>)[NUMERIC[flag]] = positiveInt(flag, args[++i]);
    } else if (flag === '--vs') {
      const v = args[++i];
      if (v !== 'chartmuseum') throw new UsageError(`--vs supports only chartmuseum, got ${v ?? 'nothing'}`);
      given.vs = v;
    } else if (flag === '--out') {
      const v = args[++i];
      if (!v) throw new UsageError('--out needs a directory');
      given.out = resolve(v);
    } else if (flag === '--warmup') {
      const v = args[++i];
      const n = Number(v);
      if (v === undefined || !Number.isInteger(n) || n < 0)
        throw new UsageError(`--warmup needs a whole number of seconds, got ${v ?? 'nothing'}`);
      given.warmup = n;
    } else if (flag === '--scale') {
      given.scale = true;
    } else if (flag === '--smoke') {
      given.smoke = true;
    } else {
      throw new UsageError(`unknown argument ${flag}`);
    }
  }
  const opts: BenchOptions = {
    ...DEFAULTS,
    ...(given.smoke ? SMOKE : {}),
    out: resolve(repoRoot, 'bench/results'),
    ...given,
  };
  if (opts.orders > MAX_ORDERS)
    throw new UsageError(
      '--orders is at most 499: the orders and licenses listings that verify them stop at 500',
    );
  if (opts.charts < 2) throw new UsageError('--charts must be at least 2 (one free, one paid)');
  if (opts.scale && opts.smoke) throw new UsageError('--scale and --smoke contradict each other');
  return opts;
}
