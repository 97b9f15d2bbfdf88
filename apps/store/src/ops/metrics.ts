import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { PasswordHasher } from '@berth/accounts';
import { ChartFileCache, IndexFragmentCache } from '@berth/helm-repo';
import { VerifiedKeyCache } from '@berth/licensing';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** One registry per app instance, so tests can run several apps in one process. */
@Injectable()
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'berth_http_requests_total',
    help: 'HTTP requests by route template, method and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'HTTP request latency by route template.',
    labelNames: ['method', 'route'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  readonly pullsFromMemory = new Counter({
    name: 'berth_helm_pulls_from_memory_total',
    help: 'Chart archive pulls answered from memory ahead of the framework (HelmPullLane).',
    registers: [this.registry],
  });

  readonly indexesFromMemory = new Counter({
    name: 'berth_helm_indexes_from_memory_total',
    help: 'Repository index answers sent from memory ahead of the framework (HelmPullLane).',
    registers: [this.registry],
  });

  constructor(
    keys: VerifiedKeyCache,
    indexes: IndexFragmentCache,
    files: ChartFileCache,
    hasher: PasswordHasher,
  ) {
    collectDefaultMetrics({ register: this.registry });
    // Read at scrape time from the caches' own counts: what a repeated pull or an upload really costs.
    const fromCounts = (name: string, help: string, read: () => number | Record<string, number>) =>
      new Counter({
        name,
        help,
        labelNames: ['result'] as const,
        registers: [this.registry],
        collect() {
          this.reset();
          const counts = read();
          if (typeof counts === 'number') this.inc(counts);
          else for (const [result, n] of Object.entries(counts)) this.inc({ result }, n);
        },
      });
    fromCounts(
      'berth_license_key_checks_total',
      'License key checks: "cached" skipped the signature verification, "verified" ran it.',
      () => ({
        cached: keys.stats.hits,
        verified: keys.stats.misses,
      }),
    );
    fromCounts(
      'berth_chart_file_lookups_total',
      'Chart file requests by how the file was found: "cached" in memory or "queried" from the database.',
      () => ({
        cached: files.stats.refHits,
        queried: files.stats.refMisses,
      }),
    );
    fromCounts(
      'berth_index_fragments_rendered_total',
      'Charts whose index entries were read and rendered; an upload re-renders one chart, not the repository.',
      () => indexes.stats.fragmentsRendered,
    );
    fromCounts(
      'berth_password_hashes_total',
      'Argon2id work: "hashed" (sign-up), "verified" (login), "refused" (every slot and the queue taken: 503).',
      () => ({ hashed: hasher.stats.hashed, verified: hasher.stats.verified, refused: hasher.stats.refused }),
    );
  }

  /**
   * The labelled series of each method, route template and status, looked up once: prom-client hashes
   * the label set on every call otherwise, a visible share of a pull answered from memory. Bounded:
   * routes are templates and methods and statuses few.
   */
  private readonly series = new Map<
    string,
    {
      count: Counter.Internal;
      latency: Histogram.Internal<'method' | 'route'>;
    }
  >();

  observe(method: string, route: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let s = this.series.get(key);
    if (!s) {
      s = {
        count: this.requests.labels(method, route, String(status)),
        latency: this.duration.labels(method, route),
      };
      this.series.set(key, s);
    }
    s.count.inc();
    s.latency.observe(seconds);
  }

  /** Express middleware; labels by route template (never the raw path, which would be unbounded). */
  middleware() {
    return (req: Request, res: Response, next: NextFunction) => {
      const start = process.hrtime.bigint();
      res.once('finish', () => {
        const route = (req.route?.path as string | undefined) ?? 'unmatched';
        this.observe(req.method, route, res.statusCode, Number(process.hrtime.bigint() - start) / 1e9);
      });
      next();
    };
  }
}
