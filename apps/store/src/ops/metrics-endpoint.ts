import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { HttpErrors } from '../http/http-errors';
import { isClusterWorker, MetricsExposition } from './cluster-metrics';

const digest = (s: string) => createHash('sha256').update(s).digest();

/**
 * Who may read /metrics, and where. Request counts by route and status tell sign-ups, checkouts,
 * payments and failed logins apart, so the public port does not serve them to anyone:
 * - METRICS_PORT set: only that port serves /metrics; the public port answers 404.
 * - METRICS_TOKEN set: /metrics (on whichever port) wants `Authorization: Bearer <token>`.
 * - neither: served openly in development and test (a laptop), not at all in production (404).
 */
@Injectable()
export class MetricsAccess {
  private readonly token?: Buffer;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    if (config.metrics.token) this.token = digest(config.metrics.token);
  }

  /** Whether the public port serves /metrics at all. */
  get onPublicPort(): boolean {
    const { port, token } = this.config.metrics;
    return port === undefined && (token !== undefined || this.config.env !== 'production');
  }

  /** Whether `authorization` may read; compared in constant time (digests of equal length). */
  allows(authorization: string | undefined): boolean {
    if (!this.token) return true;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
    return m !== null && timingSafeEqual(digest(m[1]), this.token);
  }

  /** For the public port's route: throws what the caller should answer, or returns. */
  check(authorization: string | undefined, path: string): void {
    // Indistinguishable from a route that does not exist.
    if (!this.onPublicPort) throw HttpErrors.RouteNotFound('GET', path);
    if (!this.allows(authorization)) throw HttpErrors.MetricsTokenRequired();
  }
}

/** The separate metrics listener (METRICS_PORT): GET /metrics and nothing else, on HOST. */
@Injectable()
export class MetricsServer implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger('Metrics');
  private server?: Server;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly exposition: MetricsExposition,
    private readonly access: MetricsAccess,
  ) {}

  /** The bound port, once listening (METRICS_PORT=0 picks a free one). */
  get port(): number | undefined {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { port, token } = this.config.metrics;
    if (port === undefined) {
      if (!this.access.onPublicPort)
        this.logger.warn({
          msg: 'metrics are not served: set METRICS_PORT (a port your scraper reaches) or METRICS_TOKEN',
        });
      return;
    }
    const server = createServer((req, res) => void this.answer(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, this.config.host, () => (server.off('error', reject), resolve()));
    });
    this.server = server;
    // Every cluster worker shares this port; the primary's start line names it once.
    const line = { msg: 'metrics listening', port: this.port, token: token ? 'required' : 'none' };
    if (isClusterWorker(this.config)) this.logger.debug(line);
    else this.logger.log(line);
  }

  async onApplicationShutdown(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }

  private async answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0];
    const send = (status: number, type: string, body: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if ((req.method !== 'GET' && req.method !== 'HEAD') || path.replace(/\/+$/, '') !== '/metrics')
      return send(404, 'text/plain', 'not found\n');
    if (!this.access.allows(req.headers.authorization))
      return send(401, 'text/plain', 'metrics token required\n', {
        'www-authenticate': 'Bearer realm="Berth metrics"',
      });
    try {
      send(200, this.exposition.contentType, await this.exposition.text());
    } catch {
      send(500, 'text/plain', 'metrics unavailable\n');
    }
  }
}
