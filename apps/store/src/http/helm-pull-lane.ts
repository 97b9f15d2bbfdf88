import { randomUUID } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { Inject, Injectable } from '@nestjs/common';
import { credentialFromAuthorization, PublisherAccessService } from '@berth/accounts';
import { DownloadCounter } from '@berth/analytics';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { HelmRepositoryService, RepoViewer } from '@berth/helm-repo';
import { LICENSE_KEY_PREFIX } from '@berth/licensing';
import { PinoLogger } from 'nestjs-pino';
import { Metrics } from '../ops/metrics';
import { AuthFailureLimiter } from './auth-failure-limiter';
import { securityHeaders } from './security-headers';
import {
  acceptsGzip,
  attachmentName,
  basicUsername,
  etagMatches,
  repoCacheHeaderList,
  sendIndex,
} from './helm-http';

/** The canonical archive URL only: any other spelling (case, slashes, escapes, a query) takes the full path. */
const ARCHIVE_PATH = /^\/helm\/([a-z0-9][a-z0-9-]{0,62})\/charts\/([A-Za-z0-9._+-]{1,330}\.tgz)$/;
const INDEX_PATH = /^\/helm\/([a-z0-9][a-z0-9-]{0,62})\/index\.yaml$/;
/** The route templates the full path reports to metrics for the same requests. */
const ARCHIVE_ROUTE = '/helm/:slug/charts/:file';
const INDEX_ROUTE = '/helm/:slug/index.yaml';

/**
 * Repeated `helm pull`s, installs and index fetches answered before Express and Nest, when every fact
 * the answer depends on is already in memory: the publisher, the file and its bytes or the built index
 * (with its gzip when the client takes gzip) and, for a buyer, the verified key and its license's state. Those caches are the ones the full path fills and the change
 * feed invalidates, and the decision is the same function (`fileAccess`); anything not in memory, any
 * refusal, any other credential or URL spelling goes down the full path unchanged. The answer carries
 * the same headers, request id, metrics and request log line as the controller's (a test compares them).
 *
 * Why it exists: through the framework a cached pull costs about 0.2 ms of CPU in routing, pipes and
 * per-request loggers, which kept pulls at a third of what ChartMuseum serves (docs/performance.md).
 * Whatever configureHttp adds to every response must be added here too; the parity test in
 * test/integration/index-cache.int-spec.ts fails when the two answers differ.
 */
@Injectable()
export class HelmPullLane {
  /** What configureHttp sets on every answer, as writeHead takes it. */
  private readonly fixedHead: string[];

  constructor(
    private readonly publishers: PublisherAccessService,
    private readonly repo: HelmRepositoryService,
    private readonly limiter: AuthFailureLimiter,
    private readonly metrics: Metrics,
    private readonly downloads: DownloadCounter,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    this.fixedHead = securityHeaders(config.publicUrl.startsWith('https://')).flat();
  }

  /** Puts the lane in front of `next` (the Express app). */
  wrap(next: RequestListener): RequestListener {
    return (req, res) => {
      if (!this.serve(req, res)) next(req, res);
    };
  }

  private serve(req: IncomingMessage, res: ServerResponse): boolean {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '';
    const m = ARCHIVE_PATH.exec(url) ?? INDEX_PATH.exec(url);
    if (!m) return false;
    // CORS answers are Express's to make.
    if (this.config.http.corsOrigins.length && req.headers.origin) return false;
    const started = process.hrtime.bigint();
    const slug = m[1];
    const viewer = this.viewer(req, slug);
    const publisher = viewer && this.publishers.cachedBySlug(slug);
    if (!publisher) return false;
    if (m.length === 2) return this.index(req, res, publisher.id, viewer!, started);

    const file = m[2];
    const f = this.repo.cachedArchive(publisher.id, file, viewer!);
    if (!f) return false;
    const id = this.begin(req);
    const bodyless = req.method === 'HEAD' || etagMatches(req.headers['if-none-match'], f.etag);
    // One writeHead with the whole list: a dozen setHeader calls cost more than the rest of the answer.
    const head: string[] = [...this.fixedHead, 'X-Request-Id', id, ...repoCacheHeaderList(viewer!, f.etag)];
    head.push('Content-Type', f.contentType, 'Content-Length', String(f.size));
    if (!bodyless) head.push('Content-Disposition', attachmentName(file));
    res.writeHead(req.method === 'HEAD' || !bodyless ? 200 : 304, head);
    res.end(bodyless ? undefined : f.body);
    if (!bodyless)
      this.downloads.count(f.download!.chartId, f.download!.version, {
        licenseId: viewer!.kind === 'license' ? viewer!.licenseId : undefined,
        // Behind a trusted proxy the socket is the proxy's: such clients are counted by the full path only.
        address: this.config.http.trustProxy ? undefined : req.socket.remoteAddress,
        userAgent: req.headers['user-agent'],
      });
    this.finished(req, res, started, ARCHIVE_ROUTE);
    this.metrics.pullsFromMemory.inc();
    this.repo.countCachedPull(viewer!);
    return true;
  }

  /** The built index of the viewer's audience, if nothing changed since it was built. */
  private index(
    req: IncomingMessage,
    res: ServerResponse,
    publisherId: string,
    viewer: RepoViewer,
    started: bigint,
  ): boolean {
    const index = this.repo.cachedIndex(publisherId, viewer);
    if (!index) return false;
    let gz: Buffer | undefined;
    if (acceptsGzip(req)) {
      gz = index.gzipped();
      // Compressing is the full path's job (off the event loop, once); this lane only sends.
      if (!gz) return false;
    }
    sendIndex(req, res, viewer, index, gz, [...this.fixedHead, 'X-Request-Id', this.begin(req)]);
    this.finished(req, res, started, INDEX_ROUTE);
    this.metrics.indexesFromMemory.inc();
    this.repo.countCachedIndex(viewer);
    if (req.method === 'GET') this.downloads.countIndex(publisherId, viewer.kind);
    return true;
  }

  /** The request id pino-http would give, on the request for the log line. */
  private begin(req: IncomingMessage): string {
    const id = randomUUID();
    (req as IncomingMessage & { id?: string }).id = id;
    return id;
  }

  /** Anonymous, or a buyer whose key and license are in memory and not locked out; else undefined. */
  private viewer(req: IncomingMessage, slug: string): RepoViewer | undefined {
    const authorization = req.headers.authorization;
    if (!authorization) return { kind: 'public' };
    // Behind a trusted proxy the limiter's client is Express's req.ip: leave those to the full path.
    if (this.config.http.trustProxy) return undefined;
    const key = credentialFromAuthorization(authorization);
    if (!key?.startsWith(LICENSE_KEY_PREFIX)) return undefined;
    if (this.limiter.blocks(req.socket.remoteAddress ?? '', authorization)) return undefined;
    return this.repo.cachedLicenseViewer(slug, basicUsername(authorization), key);
  }

  /**
   * Metrics and the log line once the answer is handed to the socket (not on 'finish', as the full path
   * does: a listener per request costs more than it tells for an answer sent from memory).
   */
  private finished(req: IncomingMessage, res: ServerResponse, started: bigint, route: string): void {
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    this.metrics.observe(req.method!, route, res.statusCode, ms / 1000);
    // The line pino-http writes for the full path, through the same logger and serializers.
    const log = PinoLogger.root;
    if (log?.isLevelEnabled('info'))
      log.info({ req, res, responseTime: Math.round(ms) }, 'request completed');
  }
}
