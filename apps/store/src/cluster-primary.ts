import cluster, { Worker } from 'node:cluster';
import { pino } from 'pino';
import { DataSource } from 'typeorm';
import { AppConfig } from '@berth/config';
import { appliedMigrationsLine, dataSourceOptions, runMigrationsLocked } from '@berth/database';
import { MIGRATIONS } from '../../../migrations';
import { ENTITIES } from './entities';
import { MetricsAggregator } from './ops/cluster-metrics';
import { prettyLogStream, wantsPrettyLogs } from './logging';
import { startFields, writeListeningEvent } from './start-line';

/** A worker that dies is forked again after this long, doubling for each quick death up to the cap. */
const FIRST_RESTART_DELAY_MS = 100;
const MAX_RESTART_DELAY_MS = 10_000;
/** A worker that lived this long was healthy: its successor starts again from the first delay. */
const HEALTHY_AFTER_MS = 30_000;
/** Workers bound their own drain by SHUTDOWN_TIMEOUT_MS; the primary waits this much longer, then kills. */
const SHUTDOWN_GRACE_MS = 2000;

/** Between the last worker listening and the start line. */
const ANNOUNCE_DELAY_MS = 100;

/** worker → primary, once its app listens. */
interface ListeningMessage {
  berth: 'listening';
  port: number;
  metricsPort?: number;
}

const isListening = (m: unknown): m is ListeningMessage =>
  typeof m === 'object' && m !== null && (m as { berth?: unknown }).berth === 'listening';

/** In a worker: tells the primary this worker serves (the primary then counts it and asks it for metrics). */
export function reportListening(port: number, metricsPort: number | undefined): void {
  const m: ListeningMessage = { berth: 'listening', port, metricsPort };
  process.send?.(m, () => undefined);
}

/** One of the WEB_CONCURRENCY places; its worker may be replaced, the place stays. */
interface Slot {
  index: number;
  worker?: Worker;
  startedAt: number;
  serving: boolean;
  restartDelayMs: number;
  restartTimer?: NodeJS.Timeout;
}

/**
 * The cluster primary (WEB_CONCURRENCY > 1, Postgres only): applies migrations once under the advisory
 * lock, forks the workers with MIGRATIONS=skip, restarts one that dies (with backoff), answers their
 * metrics scrapes with the sum of all of them, and on SIGTERM/SIGINT stops them gracefully and exits.
 * It serves no HTTP of the app itself: the workers share the listening socket through node:cluster.
 */
export async function runPrimary(config: AppConfig): Promise<void> {
  // Synchronous: the primary writes a handful of lines, and its start line must precede the listening event.
  const logger = pino(
    { level: config.logLevel },
    wantsPrettyLogs(config.logFormat) ? prettyLogStream() : pino.destination({ dest: 1, sync: true }),
  );
  const log = logger.child({ context: 'Cluster' });
  await migrate(config, logger.child({ context: 'Database' }));

  const slots: Slot[] = Array.from({ length: config.workers }, (_, i) => ({
    index: i + 1,
    startedAt: 0,
    serving: false,
    restartDelayMs: FIRST_RESTART_DELAY_MS,
  }));
  const slotOf = new Map<number, Slot>();
  const metrics = new MetricsAggregator(() =>
    slots.flatMap((s) => (s.serving && s.worker?.isConnected() ? [s.worker] : [])),
  );
  let started = false;
  let stopping = false;
  let failed = false;

  const fork = (slot: Slot) => {
    slot.restartTimer = undefined;
    // The primary has applied the migrations; every worker would otherwise queue on the lock to find none.
    const worker = cluster.fork({ MIGRATIONS: 'skip' });
    Object.assign(slot, { worker, startedAt: Date.now(), serving: false });
    slotOf.set(worker.id, slot);
  };

  const alive = () => slots.flatMap((s) => (s.worker ? [s.worker] : []));

  const finish = () => process.exit(failed ? 1 : 0);

  const stop = (reason: { signal?: NodeJS.Signals; failed?: boolean }) => {
    if (reason.failed) failed = true;
    if (stopping) return;
    stopping = true;
    for (const s of slots) if (s.restartTimer) clearTimeout(s.restartTimer);
    const workers = alive();
    if (reason.signal) log.info({ msg: 'shutting down', signal: reason.signal, workers: workers.length });
    // Each worker drains its requests and closes its database pool itself (the app's shutdown hooks).
    for (const w of workers) w.process.kill('SIGTERM');
    setTimeout(() => {
      const left = alive();
      log.error({ msg: 'workers did not stop in time; killing them', pids: left.map((w) => w.process.pid) });
      for (const w of left) w.process.kill('SIGKILL');
      process.exit(1);
    }, config.shutdownTimeoutMs + SHUTDOWN_GRACE_MS).unref();
    if (!workers.length) finish();
  };

  cluster.on('message', (worker, m: unknown) => {
    metrics.handle(worker, m);
    const slot = slotOf.get(worker.id);
    if (!slot || !isListening(m) || stopping) return;
    slot.serving = true;
    if (started) {
      log.info({ msg: 'worker serving again', worker: slot.index, pid: worker.process.pid });
      return;
    }
    if (!slots.every((s) => s.serving)) return;
    started = true;
    // A moment later, so that the workers' own last bootstrap lines (pino writes them asynchronously) are out
    // before the line people look for.
    setTimeout(() => {
      if (stopping) return;
      log.info({
        msg: `Berth is serving on http://${config.host}:${m.port} (${slots.length} workers)`,
        ...startFields(config, m.port),
        ...(m.metricsPort !== undefined ? { metricsPort: m.metricsPort } : {}),
        workers: slots.length,
        workerPids: slots.map((s) => s.worker?.process.pid),
      });
      writeListeningEvent(m.port);
    }, ANNOUNCE_DELAY_MS);
  });

  cluster.on('exit', (worker, code, signal) => {
    metrics.forget(worker);
    const slot = slotOf.get(worker.id);
    slotOf.delete(worker.id);
    if (!slot) return;
    Object.assign(slot, { worker: undefined, serving: false });
    const how = { worker: slot.index, pid: worker.process.pid, code, signal };
    if (stopping) {
      // A worker that had not installed its handlers yet dies of the SIGTERM itself: still a clean stop.
      if (code !== 0 && signal !== 'SIGTERM') failed = true;
      if (!alive().length) finish();
      return;
    }
    if (!started) {
      // As with one process: a store that cannot start says so and exits, rather than looping.
      log.error({ msg: 'a worker exited before the store was serving; stopping', ...how });
      return stop({ failed: true });
    }
    const livedMs = Date.now() - slot.startedAt;
    if (livedMs >= HEALTHY_AFTER_MS) slot.restartDelayMs = FIRST_RESTART_DELAY_MS;
    log.warn({
      msg: 'worker exited unexpectedly; restarting it',
      ...how,
      livedMs,
      restartInMs: slot.restartDelayMs,
    });
    slot.restartTimer = setTimeout(() => fork(slot), slot.restartDelayMs);
    slot.restartDelayMs = Math.min(slot.restartDelayMs * 2, MAX_RESTART_DELAY_MS);
  });

  process.on('SIGTERM', () => stop({ signal: 'SIGTERM' }));
  process.on('SIGINT', () => stop({ signal: 'SIGINT' }));
  for (const slot of slots) fork(slot);
}

/** Once for the whole cluster, on a connection of its own with no statement timeout, as with one process. */
async function migrate(config: AppConfig, log: pino.Logger): Promise<void> {
  if (config.database.migrations === 'skip') {
    log.warn('MIGRATIONS=skip: not applying migrations at start');
    return;
  }
  const url = config.database.url as string; // several workers need Postgres: config refuses otherwise
  const dataSource = new DataSource(
    dataSourceOptions(url, 1, { entities: ENTITIES, migrations: MIGRATIONS }),
  );
  await dataSource.initialize();
  try {
    const applied = await runMigrationsLocked(dataSource);
    if (applied.length) log.info(appliedMigrationsLine(applied));
  } finally {
    await dataSource.destroy();
  }
}
