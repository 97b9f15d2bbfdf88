import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { BLOB_STORE, BlobStore } from '@berth/artifacts';
import type { Request, Response } from 'express';
import { DataSource } from 'typeorm';
import { MetricsExposition } from './cluster-metrics';
import { MetricsAccess } from './metrics-endpoint';

const withTimeout = <T>(p: Promise<T>, ms: number) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref()),
  ]);

@ApiTags('operations')
@Controller()
export class OpsController {
  constructor(
    private readonly dataSource: DataSource,
    @Inject(BLOB_STORE) private readonly blobs: BlobStore,
    private readonly metrics: MetricsExposition,
    private readonly metricsAccess: MetricsAccess,
  ) {}

  @Get('healthz')
  @ApiOperation({ summary: 'Liveness: the process serves HTTP' })
  @ApiResponse({
    status: 200,
    schema: { type: 'object', properties: { status: { type: 'string', example: 'ok' } } },
  })
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('readyz')
  @ApiOperation({ summary: 'Readiness: the database and the blob store answer' })
  @ApiResponse({ status: 200, description: 'Both dependencies answer.' })
  @ApiResponse({ status: 503, description: 'A dependency is down; which one is named, not why.' })
  async readyz(@Res() res: Response): Promise<void> {
    const check = (p: () => Promise<unknown>) =>
      withTimeout(p(), 2000).then(
        () => 'up' as const,
        () => 'down' as const,
      );
    const [database, blobStore] = await Promise.all([
      check(() => this.dataSource.query('SELECT 1')),
      check(() => this.blobs.ping()),
    ]);
    const ok = database === 'up' && blobStore === 'up';
    res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'unavailable', checks: { database, blobStore } });
  }

  @Get('metrics')
  @ApiExcludeEndpoint()
  async scrape(@Req() req: Request, @Res() res: Response): Promise<void> {
    this.metricsAccess.check(req.headers.authorization, req.path);
    // With several workers, the sum of all of them (see MetricsExposition).
    res.type(this.metrics.contentType).send(await this.metrics.text());
  }
}
