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
import { Berth, createOrders, readScenarios, Seeded, seedBerth, startBerth, webhookScenario } from './berth';
import { chartMuseumBinary, fillStorage, startChartMuseum } from './chartmuseum';
import { berthTarget, chartMuseumTarget, compare, Comparison } from './compare';
import { cleanup, installSignalHandlers, isInterrupted, onCleanup } from './lifecycle';
import { BenchFailure, measure, ScenarioResult } from './load';
import {
  ceilingTable,
  comparisonTable,
  machineInfo,
  Report,
  RunResult,
  ScenarioName,
  scalingTable,
  scenarioTable,
  targetLines,
  writeReport,
} from './report';
import { generateStore, SyntheticStore, writeCharts } from './synthetic';

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

async function comparison(
  opts: BenchOptions,
  dir: string,
  store: SyntheticStore,
  berth: Berth,
  seeded: Seeded,
): Promise<Comparison> {
  const binary = chartMuseumBinary(log);
  log(
    `vs chartmuseum: copying ${store.bench.length} archives into its storage (an API upload of all would take far too long)`,
  );
  await fillStorage(join(dir, 'chartmuseum'), store.bench);
  const cm = await startChartMuseum(binary, join(dir, 'chartmuseum'));
  try {
    const sample = await writeCharts(
      join(dir, 'sample'),
      Array.from({ length: opts.sample }, (_, i) => ({
        name: `new-${String(i + 1).padStart(4, '0')}`,
        version: '1.0.0',
      })),
    );
    const visibility = await writeCharts(
      join(dir, 'visibility'),
      Array.from({ length: 10 }, (_, i) => ({ name: store.benchCharts[0], version: `9.0.${i}` })),
    );
    return await compare({
      berth: berthTarget(berth, seeded.bench),
      cm: chartMuseumTarget(cm),
      cmVersion: cm.version,
      store,
      sample,
      visibility,
      load: { duration: opts.duration, connections: opts.connections, warmup: opts.warmup },
      uploadConcurrency: opts.uploadConcurrency,
      log,
    });
  } finally {
    await cm.close();
  }
}

/** One full bench at one store size: fresh charts, database, stripe-mock and servers, all gone afterwards. */
async function runOnce(opts: BenchOptions, charts: number, root: string, main: string): Promise<RunResult> {
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
    try {
      log(`berth at ${berth.url} (pid ${berth.pid()}); uploading at concurrency ${opts.uploadConcurrency}`);
      const seeded = await seedBerth(berth, store, opts.uploadConcurrency, log);
      log(`uploaded in ${seeded.upload.seconds} s, listings in ${seeded.listingsSeconds} s`);

      const scenarios: Partial<Record<ScenarioName, ScenarioResult>> = { upload: seeded.upload };
      const load = { duration: opts.duration, connections: opts.connections, warmup: opts.warmup };
      for (const s of readScenarios(berth, store, seeded, opts.versions, load)) {
        log(`scenario ${s.name}`);
        const check = await s.check();
        scenarios[s.name as ScenarioName] = { ...(await measure(s.name, s.spec)), check };
      }

      t = performance.now();
      const orders = await createOrders(berth, seeded.license.chart, opts.orders);
      const ordersSeconds = seconds(t);
      log(`scenario webhook_fulfil (${orders.length} orders created in ${ordersSeconds} s)`);
      scenarios.webhook_fulfil = await webhookScenario(berth, seeded, orders, opts.connections);

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
        },
        scenarios: scenarios as Record<ScenarioName, ScenarioResult>,
        verified: verified(scenarios as Record<ScenarioName, ScenarioResult>, orders.length),
      };
      if (opts.vs) run.comparison = await comparison(opts, dir.path, store, berth, seeded);
      const logged = berth.logTail();
      if (logged.length)
        log(
          `berth logged ${logged.length} line(s) at warn or above, e.g.:\n  ${logged.slice(-3).join('\n  ')}`,
        );
      run.timings.totalSeconds = seconds(started);
      return run;
    } finally {
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
    tgzSha256Matches: c('tgz_licensed').sha256Matches === true,
    verifyValid: c('verify').valid === true,
    webhookOrders: orders,
    webhookFulfilled: Number((c('webhook_fulfil').outcomes as Record<string, number>).fulfilled ?? 0),
    ordersPaid: Number(c('webhook_fulfil').ordersPaid),
    licensesIssued: Number(c('webhook_fulfil').licensesIssued),
  };
}

async function main(opts: BenchOptions): Promise<void> {
  const date = new Date().toISOString();
  const root = await tempDir(tmpdir(), 'berth-bench-');
  // A private copy of dist/: the store is restarted mid-run and may be rebuilt under us meanwhile.
  const build = await snapshotBuild();
  onCleanup('remove build snapshot', () => build.remove());

  const sizes = opts.scale ? SCALE_SIZES : [opts.charts * opts.versions];
  const runs: RunResult[] = [];
  for (const size of sizes) {
    const charts = opts.scale ? Math.max(2, Math.round(size / opts.versions)) : opts.charts;
    const run = await runOnce(opts, charts, root.path, build.main);
    runs.push(run);
    console.log(
      `\nBerth, ${run.totalVersions} versions (${run.benchVersions} free in "bench", ${run.vendorVersions} paid in "vendor"):`,
    );
    console.log(scenarioTable(run));
    if (run.comparison) {
      console.log(
        `\nBerth vs ChartMuseum ${run.comparison.chartmuseumVersion}, ${run.benchVersions} versions:`,
      );
      console.log(comparisonTable(run.comparison));
      console.log(`(${run.comparison.note})`);
      console.log('\nWhat bounds the reads:');
      console.log(ceilingTable(run.comparison));
      console.log(`(${run.comparison.ceiling.note})`);
    }
    console.log(`\nTargets at ${run.totalVersions} versions:`);
    for (const line of targetLines(run)) console.log(`- ${line}`);
  }
  if (runs.length > 1) {
    console.log('\nScaling:');
    console.log(scalingTable(runs));
  }
  const { out, ...params } = opts;
  const report: Report = {
    schema: 1,
    date,
    machine: await machineInfo(),
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
