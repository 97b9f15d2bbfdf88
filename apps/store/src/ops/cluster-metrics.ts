import cluster, { Worker } from 'node:cluster';
import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { AggregatorRegistry } from 'prom-client';
import { Metrics } from './metrics';

/**
 * /metrics with several workers (WEB_CONCURRENCY > 1). Each worker counts its own requests in its own
 * registry, and the connection a scrape arrives on lands on any one of them. So the worker that got it
 * asks the primary, the primary collects every serving worker's registry as JSON and sums them with
 * prom-client's AggregatorRegistry, and the answer goes back out through the same route, auth and
 * content type as with one process.
 *
 * Not prom-client's own `clusterMetrics()`: it also asks workers that are still starting, and a worker
 * that dies while it is being asked stalls the scrape for 5 s and fails it. Here only workers that serve
 * are asked, a worker that exits meanwhile is left out (its counts died with it), and one that is alive
 * but silent fails the scrape rather than returning a partial sum that would read as a counter reset.
 */

/** Messages on the cluster IPC channel, tagged so that nothing else on it is taken for one of them. */
type MetricsMessage =
  /** worker → primary: a client asked me for /metrics. */
  | { berth: 'metrics:scrape'; id: number }
  /** primary → each serving worker: your registry, please. */
  | { berth: 'metrics:collect'; id: number }
  /** worker → primary: my registry (`getMetricsAsJSON()`). */
  | { berth: 'metrics:collected'; id: number; metrics?: object[]; error?: string }
  /** primary → the asking worker: the sum, as exposition text. */
  | { berth: 'metrics:scraped'; id: number; text?: string; error?: string };

const isMetricsMessage = (m: unknown): m is MetricsMessage =>
  typeof m === 'object' &&
  m !== null &&
  typeof (m as { berth?: unknown }).berth === 'string' &&
  (m as { berth: string }).berth.startsWith('metrics:') &&
  typeof (m as { id?: unknown }).id === 'number';

/** A worker gives up on the primary after this long (the primary's own collection gives up first). */
const SCRAPE_TIMEOUT_MS = 5000;
const COLLECT_TIMEOUT_MS = 3000;

/** Whether this process is one of several workers forked by Berth's primary (see main.ts). */
export function isClusterWorker(config: AppConfig): boolean {
  return config.workers > 1 && cluster.isWorker && typeof process.send === 'function';
}

/** Sends over IPC without throwing or emitting 'error' when the channel has closed (a dying peer). */
function sendTo(target: Worker | NodeJS.Process, m: MetricsMessage): void {
  const done = () => undefined; // with a callback, a closed channel is reported to it, not thrown
  try {
    if (target === process) process.send?.(m, undefined, undefined, done);
    else (target as Worker).send(m, done);
  } catch {
    // the other side is gone; its timer says so
  }
}

/** The exposition /metrics answers with: this process's registry, or, in a cluster worker, every worker's. */
@Injectable()
export class MetricsExposition implements OnModuleDestroy {
  private readonly worker: boolean;
  private readonly pending = new Map<
    number,
    { resolve: (text: string) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }
  >();
  private nextId = 0;
  private readonly onMessage = (m: unknown) => this.handle(m);

  constructor(
    private readonly metrics: Metrics,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.worker = isClusterWorker(config);
    if (this.worker) process.on('message', this.onMessage);
  }

  get contentType(): string {
    return this.metrics.registry.contentType;
  }

  async text(): Promise<string> {
    if (!this.worker) return this.metrics.registry.metrics();
    return new Promise<string>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error('the cluster primary did not answer a metrics scrape'));
      }, SCRAPE_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      sendTo(process, { berth: 'metrics:scrape', id });
    });
  }

  private handle(m: unknown): void {
    if (!isMetricsMessage(m)) return;
    if (m.berth === 'metrics:collect') {
      this.metrics.registry.getMetricsAsJSON().then(
        (metrics) => sendTo(process, { berth: 'metrics:collected', id: m.id, metrics }),
        (e: Error) => sendTo(process, { berth: 'metrics:collected', id: m.id, error: e.message }),
      );
    } else if (m.berth === 'metrics:scraped') {
      const waiting = this.pending.get(m.id);
      if (!waiting) return;
      this.pending.delete(m.id);
      clearTimeout(waiting.timer);
      if (m.text !== undefined) waiting.resolve(m.text);
      else waiting.reject(new Error(m.error ?? 'metrics unavailable'));
    }
  }

  onModuleDestroy(): void {
    if (!this.worker) return;
    process.off('message', this.onMessage);
    for (const { reject, timer } of this.pending.values()) {
      clearTimeout(timer);
      reject(new Error('shutting down'));
    }
    this.pending.clear();
  }
}

interface Collection {
  waiting: Set<number>;
  parts: object[][];
  timer: NodeJS.Timeout;
  settle(error?: Error): void;
}

/** The primary's half: answers a worker's scrape with the sum of every serving worker's registry. */
export class MetricsAggregator {
  private readonly collections = new Map<number, Collection>();
  private nextId = 0;

  /** `serving()`: the workers that are listening now (a starting worker has counted nothing yet). */
  constructor(private readonly serving: () => Worker[]) {}

  /** Call with every message a worker sends; ignores what is not about metrics. */
  handle(worker: Worker, m: unknown): void {
    if (!isMetricsMessage(m)) return;
    if (m.berth === 'metrics:scrape') {
      this.collect().then(
        (text) => sendTo(worker, { berth: 'metrics:scraped', id: m.id, text }),
        (e: Error) => sendTo(worker, { berth: 'metrics:scraped', id: m.id, error: e.message }),
      );
    } else if (m.berth === 'metrics:collected') {
      const c = this.collections.get(m.id);
      if (!c || !c.waiting.delete(worker.id)) return;
      if (m.error !== undefined || !Array.isArray(m.metrics))
        return c.settle(new Error(`worker ${worker.id}: ${m.error ?? 'no metrics'}`));
      c.parts.push(m.metrics);
      if (c.waiting.size === 0) c.settle();
    }
  }

  /** A worker exited: nothing will come from it, and its counts died with it. */
  forget(worker: Worker): void {
    for (const c of this.collections.values()) if (c.waiting.delete(worker.id) && !c.waiting.size) c.settle();
  }

  private collect(): Promise<string> {
    const workers = this.serving();
    const id = this.nextId++;
    return new Promise<object[][]>((resolve, reject) => {
      const c: Collection = {
        waiting: new Set(workers.map((w) => w.id)),
        parts: [],
        timer: setTimeout(
          () => c.settle(new Error(`workers ${[...c.waiting].join(', ')} did not send their metrics`)),
          COLLECT_TIMEOUT_MS,
        ),
        settle: (error?: Error) => {
          if (!this.collections.delete(id)) return;
          clearTimeout(c.timer);
          if (error) reject(error);
          else resolve(c.parts);
        },
      };
      this.collections.set(id, c);
      for (const w of workers) sendTo(w, { berth: 'metrics:collect', id });
      if (!workers.length) c.settle();
    }).then((parts) => AggregatorRegistry.aggregate(parts).metrics());
  }
}
