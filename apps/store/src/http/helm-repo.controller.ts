import { pipeline } from 'node:stream/promises';
import { Controller, Get, Param, Req, Res } from '@nestjs/common';
import { ApiBasicAuth, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { credentialFromAuthorization, PublisherAccessService, PublisherRef } from '@berth/accounts';
import { DownloadCounter } from '@berth/analytics';
import { DomainError, ErrorKind } from '@berth/common';
import { HelmRepositoryService, RepoViewer, HelmRepoErrors } from '@berth/helm-repo';
import { LICENSE_KEY_PREFIX } from '@berth/licensing';
import type { Request, Response } from 'express';
import { ErrorResponseDto } from './common.dto';
import {
  acceptsGzip,
  attachmentName,
  basicUsername,
  etagMatches,
  repoCacheHeaders,
  sendIndex,
} from './helm-http';

/** The Helm repository of one publisher: what `helm repo add <PUBLIC_URL>/helm/<slug>` talks to. */
@ApiTags('helm repository')
@ApiBasicAuth()
@Controller('helm/:slug')
export class HelmRepoController {
  constructor(
    private readonly access: PublisherAccessService,
    private readonly repo: HelmRepositoryService,
    private readonly downloads: DownloadCounter,
  ) {}

  @Get('index.yaml')
  @ApiOperation({
    summary: 'Repository index (GET and HEAD)',
    description:
      'JSON, which is valid YAML; Helm >= 3.13 parses it on its fast path. Without credentials: the published free charts. ' +
      "With the publisher's API token as the Basic password: every live chart, drafts included. Wrong credentials: 401.",
  })
  @ApiProduces('application/json')
  @ApiResponse({ status: 200, description: 'The index; ETag, gzip on request.' })
  @ApiResponse({ status: 304, description: 'If-None-Match matched.' })
  @ApiResponse({
    status: 401,
    type: ErrorResponseDto,
    description: 'repository_credentials_invalid (WWW-Authenticate: Basic)',
  })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'repository_not_found' })
  async index(@Param('slug') slug: string, @Req() req: Request, @Res() res: Response): Promise<void> {
    const { publisher, viewer } = await this.resolve(slug, req);
    const index = await this.repo.index(publisher, viewer);
    sendIndex(req, res, viewer, index, acceptsGzip(req) ? await index.gzip() : undefined);
    if (req.method === 'GET') this.downloads.countIndex(publisher.id, viewer.kind);
  }

  @Get('charts/:file')
  @ApiOperation({
    summary: 'A chart archive or its provenance file (GET and HEAD)',
    description: '`<name>-<version>.tgz` or `<name>-<version>.tgz.prov`, byte for byte as uploaded.',
  })
  @ApiProduces('application/gzip', 'application/pgp-signature')
  @ApiResponse({ status: 200, description: 'The exact bytes; ETag is the SHA-256 digest.' })
  @ApiResponse({
    status: 401,
    type: ErrorResponseDto,
    description: 'license_required, repository_credentials_invalid',
  })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'chart_file_not_found' })
  async chart(
    @Param('slug') slug: string,
    @Param('file') file: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { publisher, viewer } = await this.resolve(slug, req);
    const f = await this.repo.chartFile(publisher.id, file, viewer);
    repoCacheHeaders(res, viewer, f.etag);
    if (etagMatches(req.headers['if-none-match'], f.etag) || req.method === 'HEAD') {
      if (!Buffer.isBuffer(f.body)) f.body.destroy();
      if (f.size !== null) res.setHeader('Content-Length', String(f.size));
      res
        .status(req.method === 'HEAD' ? 200 : 304)
        .type(f.contentType)
        .end();
      return;
    }
    res.status(200).type(f.contentType);
    if (f.size !== null) res.setHeader('Content-Length', String(f.size));
    res.setHeader('Content-Disposition', attachmentName(file));
    if (f.download)
      this.downloads.count(f.download.chartId, f.download.version, {
        licenseId: viewer.kind === 'license' ? viewer.licenseId : undefined,
        address: req.ip ?? req.socket.remoteAddress,
        userAgent: req.headers['user-agent'],
      });
    if (Buffer.isBuffer(f.body)) res.end(f.body);
    else await pipeline(f.body, res).catch(() => res.destroy());
  }

  /**
   * Anonymous → free charts; Basic `<license-id>:<license key>` → free charts plus the covered versions;
   * the publisher's own token → its whole catalog; anything else → 401 (Helm never retries it).
   */
  private async resolve(
    slug: string,
    req: Request,
  ): Promise<{ publisher: PublisherRef; viewer: RepoViewer }> {
    const publisher = await this.access.findBySlug(slug);
    if (!publisher) throw HelmRepoErrors.RepositoryNotFound();
    const authorization = req.headers.authorization;
    if (!authorization) return { publisher, viewer: { kind: 'public' } };
    const credential = credentialFromAuthorization(authorization);
    if (!credential) {
      throw HelmRepoErrors.RepositoryCredentialsInvalid('The repository credentials are invalid.');
    }
    if (credential.startsWith(LICENSE_KEY_PREFIX)) {
      return {
        publisher,
        viewer: await this.repo.licenseViewer(slug, basicUsername(authorization), credential),
      };
    }
    try {
      await this.access.authorize(authorization, slug, 'charts:read');
      return { publisher, viewer: { kind: 'publisher' } };
    } catch (e) {
      if (e instanceof DomainError && e.kind !== ErrorKind.Unavailable) {
        throw HelmRepoErrors.RepositoryCredentialsInvalid(
          'The repository credentials are invalid, revoked or not for this repository.',
        );
      }
      throw e;
    }
  }
}
