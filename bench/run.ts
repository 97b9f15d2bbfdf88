/**
 * `npm run bench`: Berth's performance on a synthetic store of realistic charts, optionally side by side
 * with ChartMuseum (`--vs chartmuseum`) and at three store sizes (`--scale`). See USAGE in args.ts for the
 * flags and report.ts for the results file. Everything runs against the built store (dist/) as a child
 * process, a fresh Postgres database and stripe-mock; all of it is removed again at the end or on Ctrl-C.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, snapshotBuild } from '../test/support/store-process';
import { BenchOptions, parseArgs, SCALE_SIZES, USAGE, UsageError } from './args';
import { Berth, berthReads, createOrders, Seeded, seedBerth, startBerth, webhookScenario } from './berth';
import { nginxBinary } from './ceiling';
import {
  ChartMuseum,
  chartMuseumBinary,
  CM_USER,
  fillStorage,
  startChartMuseum,
  warmIndex,
} from './chartmuseum';
import { berthTarget, chartMuseumReads, chartMuseumTarget, compareWrites, Comparison } from './compare';
import { cleanup, installSignalHandlers, isInterrupted, onCleanup } from './lifecycle';
import { basic, BenchFailure, ScenarioResult } from './load';
import { consoleReport, measureConsoleReads, measureCountingCost, seedPulls } from './console';
import { measurePages, PAGE_CONNECTIONS, pagesReport } from './pages';
import { Cores, Mode, MODES, pinningCores, placeServer } from './pinning';
import { ReadScenario, READS, runReads, spread } from './reads';
import {
  GENERATOR_BUSY_PCT,
  machineInfo,
  modeTable,
  modeTitle,
  Report,
  RunResult,
  ScenarioName,
  scalingTable,
  scenarioOf,
  scenarioTable,
  targetLines,
  writeReport,
} from './report';
import { ChartFile, generateStore, SyntheticStore, writeCharts } from './synthetic';
import { requireWrk } from './wrk';

const log = (line: string) => process.stderr.write(`${line}\n`);
const seconds = (since: number) => Math.round((performance.now() - since) / 10) / 100;

/** Creates a directory that is removed at the end whatever happens; the returned function removes it early. */
async function tempDir(
  parent: string,
  prefix: string,
): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(parent, prefix));
  return { path, remove: onCleanup(`remove ${path}`, () => rm(path, { recursive: true, force: true })) };
}

/** How many anonymous .tgz pulls cycle through: spread over the store, so no server answers one hot file. */
const PULL_FILES = 50;

interface ChartMuseums {
  version: string;
  /** Berth's free repository, anonymous GET allowed. */
  free: ChartMuseum;
  /** Only the licensed chart's archives; every read needs Basic auth. */
  licensed: ChartMuseum;
  indexMs: number;
  close(): Promise<void>;
}

/**
 * Two ChartMuseums on copies of the same archives, both pinned to the server core, and their indexes built
 * (ChartMuseum reads every archive on its first index request) before anything is measured.
 */
async function startChartMuseums(
  dir: string,
  store: SyntheticStore,
  licensedFiles: ChartFile[],
  cores: Cores,
): Promise<ChartMuseums> {
  const binary = chartMuseumBinary(log);
  log(
    `vs chartmuseum: copying ${store.bench.length} + ${licensedFiles.length} archives into its storage ` +
      '(an API upload of all would take far too long)',
  );
  await fillStorage(join(dir, 'chartmuseum-free'), store.bench);
  await fillStorage(join(dir, 'chartmuseum-licensed'), licensedFiles);
  const started: ChartMuseum[] = [];
  const close = async () => {
    while (started.length) await started.pop()!.close();
  };
  try {
    const free = await startChartMuseum(binary, join(dir, 'chartmuseum-free'), { anonymousGet: true });
    started.push(free);
    const licensed = await startChartMuseum(binary, join(dir, 'chartmuseum-licensed'), {
      anonymousGet: false,
    });
    started.push(licensed);
    for (const cm of started) placeServer(cm.pid(), 'pinned', cores);
    const t = performance.now();
    const freeMs = await warmIndex(free, store.bench.length);
    const licensedMs = await warmIndex(licensed, licensedFiles.length, basic(CM_USER, licensed.password));
    log(
      `chartmuseum ${free.version}: index of ${store.bench.length} versions built in ${freeMs} ms, ` +
        `licensed chart's ${licensedFiles.length} in ${licensedMs} ms`,
    );
    return { version: free.version, free, licensed, indexMs: Math.round(performance.now() - t), close };
  } catch (e) {
    await close();
    throw e;
  }
}

async function writes(
  opts: BenchOptions,
  dir: string,
  store: SyntheticStore,
  berth: Berth,
  seeded: Seeded,
  cm: ChartMuseums,
  cores: Cores,
): Promise<Comparison> {
  const sample = {} as Record<Mode, ChartFile[]>;
  for (const mode of MODES)
    sample[mode] = await writeCharts(
      join(dir, `sample-${mode}`),
      Array.from({ length: opts.sample }, (_, i) => ({
        name: `new-${mode[0]}-${String(i + 1).padStart(4, '0')}`,
        version: '1.0.0',
      })),
    );
  const visibility = await writeCharts(
    join(dir, 'visibility'),
    Array.from({ length: 10 }, (_, i) => ({ name: store.benchCharts[0], version: `9.0.${i}` })),
  );
  return compareWrites({
    berth: berthTarget(berth, seeded.bench),
    cm: chartMuseumTarget(cm.free),
    cmVersion: cm.version,
    freeVersions: store.bench.length,
    sample,
    visibility,
    duration: opts.duration,
    uploadConcurrency: opts.uploadConcurrency,
    cores,
    log,
  });
}

/** One full bench at one store size: fresh charts, database, stripe-mock and servers, all gone afterwards. */
async function runOnce(
  opts: BenchOptions,
  charts: number,
  root: string,
  main: string,
  cores: Cores,
): Promise<RunResult> {
  const started = performance.now();
  const dir = await tempDir(root, `size-${charts * opts.versions}-`);
  try {
    log(`\n== ${charts} charts × ${opts.versions} versions = ${charts * opts.versions} versions`);
    let t = performance.now();
    const store = await generateStore(join(dir.path, 'charts'), charts, opts.versions, (n) =>
      n % 10_000 === 0 ? log(`  generated ${n}`) : undefined,
    );
    const generateSeconds = seconds(t);
    log(`generated ${store.totalVersions} archives in ${generateSeconds} s`);

    const berth = await startBerth(join(dir.path, 'berth-data'), opts.uploadConcurrency, main);
    let cm: ChartMuseums | null = null;
    try {
      placeServer(berth.pid(), 'pinned', cores);
      log(
        `berth at ${berth.url} (pid ${berth.pid()}, pinned to core ${cores.server}); uploading at ` +
          `concurrency ${opts.uploadConcurrency}`,
      );
      const seeded = await seedBerth(berth, store, opts.uploadConcurrency, log);
      log(`uploaded in ${seeded.upload.seconds} s, listings in ${seeded.listingsSeconds} s`);

      const pulls = spread(store.bench, PULL_FILES);
      const licensedFiles = store.vendor.filter((f) => f.name === seeded.license.chart);
      if (opts.vs) cm = await startChartMuseums(dir.path, store, licensedFiles, cores);
      const ours = berthReads(berth, store, seeded, opts.versions, pulls);
      const theirs = cm
        ? chartMuseumReads(cm.free, cm.licensed, store.bench.length, pulls, licensedFiles)
        : {};
      const plan: ReadScenario[] = READS.map((name) => ({
        name,
        berth: ours[name],
        ...(theirs[name] ? { chartmuseum: theirs[name] } : {}),
      }));
      const reads = await runReads(plan, {
        connections: opts.connections,
        duration: opts.duration,
        warmup: opts.warmup,
        rounds: opts.rounds,
        cores,
        log,
      });

      const scenarios: Partial<Record<ScenarioName, ScenarioResult>> = { upload: seeded.upload };
      for (const r of reads) {
        const m = r.median.pinned.berth;
        if (!m) throw new BenchFailure(`${r.name}: no pinned Berth figure`);
        scenarios[r.name] = scenarioOf(m, r.check);
      }

      log(`storefront pages, ${PAGE_CONNECTIONS} connections`);
      const pages = await measurePages(berth, store.benchCharts, {
        duration: opts.duration,
        warmup: opts.warmup,
        rounds: opts.rounds,
        cores,
        log,
      });

      t = performance.now();
      const orders = await createOrders(berth, seeded.license.chart, opts.orders);
      const ordersSeconds = seconds(t);
      log(`scenario webhook_fulfil (${orders.length} orders created in ${ordersSeconds} s)`);
      scenarios.webhook_fulfil = await webhookScenario(berth, seeded, orders, opts.connections);

      log('download counting: licensed .tgz with counting on and off (a twin store), alternating rounds');
      const countingCost = await measureCountingCost(berth, ours.tgz_licensed, {
        duration: opts.duration,
        warmup: opts.warmup,
        rounds: opts.rounds,
        cores,
        log,
      });
      const seed = await seedPulls(berth, 'vendor', seeded.license.chart);
      log(`console reads over ${seed.pulls} recorded pulls (seeded in ${seed.seconds} s)`);
      const consoleReads = await measureConsoleReads(berth, seeded.vendor, {
        duration: opts.duration,
        warmup: opts.warmup,
        rounds: opts.rounds,
        cores,
        log,
      });

      const run: RunResult = {
        charts,
        versions: opts.versions,
        totalVersions: store.totalVersions,
        benchVersions: store.bench.length,
        vendorVersions: store.vendor.length,
        timings: {
          generateSeconds,
          uploadSeconds: seeded.upload.seconds,
          listingsSeconds: seeded.listingsSeconds,
          ordersSeconds,
          ...(cm ? { chartmuseumIndexMs: cm.indexMs } : {}),
        },
        scenarios: scenarios as Record<ScenarioName, ScenarioResult>,
        reads,
        pages,
        console: {
          countingCost,
          seededPulls: seed.pulls,
          seedSeconds: seed.seconds,
          reads: consoleReads,
        },
        verified: verified(scenarios as Record<ScenarioName, ScenarioResult>, orders.length),
      };
      if (cm) run.comparison = await writes(opts, dir.path, store, berth, seeded, cm, cores);
      const logged = berth.logTail();
      if (logged.length)
        log(
          `berth logged ${logged.length} line(s) at warn or above, e.g.:\n  ${logged.slice(-3).join('\n  ')}`,
        );
      run.timings.totalSeconds = seconds(started);
      return run;
    } finally {
      await cm?.close();
      await berth.close();
    }
  } finally {
    await dir.remove();
  }
}

/** The facts the checks established, in one place for the smoke test and for readers of the JSON. */
function verified(s: Record<ScenarioName, ScenarioResult>, orders: number): Record<string, number | boolean> {
  const c = (name: ScenarioName) => s[name].check ?? {};
  const licensedIndexCharts = Number(c('index_licensed').licensedIndexCharts);
  return {
    anonymousIndexCharts: Number(c('index_anonymous').charts),
    licensedIndexCharts,
    licensedIndexVerified: licensedIndexCharts === 1,
    tgzSha256Matches: c('tgz_licensed').sha256Matches === true && c('tgz_anonymous').sha256Matches === true,
    verifyValid: c('verify').valid === true,
    webhookOrders: orders,
    webhookFulfilled: Number((c('webhook_fulfil').outcomes as Record<string, number>).fulfilled ?? 0),
    ordersPaid: Number(c('webhook_fulfil').ordersPaid),
    licensesIssued: Number(c('webhook_fulfil').licensesIssued),
  };
}

async function main(opts: BenchOptions): Promise<void> {
  // Everything the method needs, checked before minutes of setup: two cores and taskset, wrk, nginx.
  const cores = pinningCores();
  requireWrk();
  nginxBinary();
  const date = new Date().toISOString();
  const root = await tempDir(tmpdir(), 'berth-bench-');
  // A private copy of dist/: the store is restarted mid-run and may be rebuilt under us meanwhile.
  const build = await snapshotBuild();
  onCleanup('remove build snapshot', () => build.remove());

  const sizes = opts.scale ? SCALE_SIZES : [opts.charts * opts.versions];
  const runs: RunResult[] = [];
  for (const size of sizes) {
    const charts = opts.scale ? Math.max(2, Math.round(size / opts.versions)) : opts.charts;
    const run = await runOnce(opts, charts, root.path, build.main, cores);
    runs.push(run);
    const vs = run.comparison ? ` vs ChartMuseum ${run.comparison.chartmuseumVersion}` : '';
    console.log(
      `\nBerth${vs}, ${run.totalVersions} versions (${run.benchVersions} free in "bench", ` +
        `${run.vendorVersions} paid in "vendor"), wrk -t1 -c${opts.connections} -d${opts.duration}s:`,
    );
    for (const mode of MODES) {
      console.log(`\n${modeTitle(run, mode, opts.rounds, cores)}`);
      console.log(modeTable(run, mode));
    }
    console.log(
      '\n(ratio: Berth ÷ ChartMuseum, > 1 is Berth faster. Ceilings: a bare node:http server and nginx ' +
        '(1 worker, sendfile) serving exactly the bytes Berth answered, same paths, same load, same core. ' +
        'CPU: server user + system time per request, from /proc. ' +
        `!: wrk's own core was ≥ ${GENERATOR_BUSY_PCT} % busy, so that figure may be the generator's bound.)`,
    );
    if (run.comparison) console.log(`(${run.comparison.note})`);
    console.log(`\nBerth alone, ${run.totalVersions} versions (reads: pinned medians):`);
    console.log(scenarioTable(run));
    console.log(
      `\nStorefront pages at ${run.totalVersions} versions, wrk -t1 -c${run.pages.connections} ` +
        `-d${opts.duration}s, pinned, medians of ${opts.rounds} rounds:`,
    );
    for (const line of pagesReport(run.pages)) console.log(line);
    console.log(
      `\nThe console: download counting's cost and the console's reads, pinned, medians of ${opts.rounds} rounds:`,
    );
    for (const line of consoleReport(run.console)) console.log(line);
    console.log(`\nTargets at ${run.totalVersions} versions (pinned):`);
    for (const line of targetLines(run)) console.log(`- ${line}`);
  }
  if (runs.length > 1) {
    console.log('\nScaling:');
    console.log(scalingTable(runs));
  }
  const { out, ...params } = opts;
  const report: Report = {
    schema: 2,
    date,
    machine: await machineInfo(cores),
    params: { ...params, sizes: runs.map((r) => r.totalVersions) },
    runs,
  };
  console.log(`\nresults: ${await writeReport(out, report)}`);
}

function start(): void {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2), ROOT);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`bench: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  installSignalHandlers();
  const t0 = performance.now();
  // Node exits with 0 when nothing is left to wait for, even with the run unfinished (a promise that can
  // never settle): that must not pass for a clean run.
  process.once('beforeExit', () => {
    process.stderr.write('\nbench FAILED: the run stopped before its end with nothing left to wait for\n');
    process.exitCode = 1;
  });
  main(opts).then(
    async () => {
      await cleanup();
      log(`bench: done in ${seconds(t0)} s`);
      process.exit(0);
    },
    async (e: unknown) => {
      if (isInterrupted()) return; // the signal handler cleans up and exits 130
      // fetch hides the reason (refused, reset, timeout) in `cause`.
      const cause = (e as { cause?: unknown }).cause;
      const detail = e instanceof BenchFailure ? e.message : ((e as Error).stack ?? String(e));
      process.stderr.write(`\nbench FAILED: ${detail}${cause ? `\ncaused by: ${String(cause)}` : ''}\n`);
      await cleanup();
      process.exit(1);
    },
  );
}

start();
