import { Controller, Delete, Get, HttpCode, Param, Post, Req } from '@nestjs/common';
import { ApiBasicAuth, ApiBearerAuth, ApiBody, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { PublisherAccessService } from '@berth/accounts';
import { ChartQueryService, ChartYankService, CatalogErrors } from '@berth/catalog';
import { indexEntry } from '@berth/helm-repo';
import type { Request } from 'express';
import { ChartMuseumErrorDto } from './common.dto';
import { ChartIntake } from './chart-intake';
import { Audited, auditSubject, param, rememberPrincipal } from './audited';

/**
 * ChartMuseum's API, one tenant per publisher. Mounted twice: `/api/{slug}` as in ChartMuseum's
 * multitenant mode, and `/helm/{slug}/api` where `helm cm-push` looks (the index's serverInfo.contextPath).
 */
@ApiTags('chartmuseum')
@ApiBearerAuth()
@ApiBasicAuth()
@Controller(['api/:slug', 'helm/:slug/api'])
export class ChartMuseumController {
  constructor(
    private readonly access: PublisherAccessService,
    private readonly intake: ChartIntake,
    private readonly query: ChartQueryService,
    private readonly yanks: ChartYankService,
  ) {}

  @Post('charts')
  @HttpCode(201)
  @ApiOperation({
    summary: 'Upload a chart version (ChartMuseum)',
    description:
      'Raw .tgz body, or multipart/form-data with file fields `chart` and optional `prov`. API token with charts:write as Bearer or as the Basic password. ' +
      'Name and version come from the archive. An existing version is 409 whatever `?force` says.',
  })
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiResponse({
    status: 201,
    schema: { type: 'object', properties: { saved: { type: 'boolean', example: true } } },
  })
  @ApiResponse({
    status: 400,
    type: ChartMuseumErrorDto,
    description: 'archive_*, chart_* and values_schema_invalid codes',
  })
  @ApiResponse({ status: 401, type: ChartMuseumErrorDto })
  @ApiResponse({ status: 403, type: ChartMuseumErrorDto })
  @ApiResponse({
    status: 404,
    type: ChartMuseumErrorDto,
    description: 'publisher_closed (the account was closed while the upload ran)',
  })
  @ApiResponse({ status: 408, type: ChartMuseumErrorDto, description: 'upload_too_slow' })
  @ApiResponse({ status: 409, type: ChartMuseumErrorDto, description: 'chart_version_exists' })
  @ApiResponse({
    status: 413,
    type: ChartMuseumErrorDto,
    description: 'upload_too_large, archive_too_large, publisher_quota_exceeded',
  })
  @ApiResponse({ status: 429, type: ChartMuseumErrorDto, description: 'publisher_uploads_busy' })
  @ApiResponse({ status: 503, type: ChartMuseumErrorDto, description: 'uploads_busy' })
  @Audited('chart_uploaded')
  async upload(@Param('slug') slug: string, @Req() req: Request): Promise<{ saved: true }> {
    const principal = await this.access.authorize(req.headers.authorization, slug, 'charts:write');
    rememberPrincipal(req, principal);
    auditSubject(req, await this.intake.receive(principal.publisher.id, req));
    return { saved: true };
  }

  @Post('prov')
  @HttpCode(201)
  @ApiOperation({ summary: 'Upload a provenance file for a stored version (ChartMuseum)' })
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiResponse({
    status: 201,
    schema: { type: 'object', properties: { saved: { type: 'boolean', example: true } } },
  })
  @ApiResponse({ status: 400, type: ChartMuseumErrorDto, description: 'provenance_invalid' })
  @ApiResponse({ status: 404, type: ChartMuseumErrorDto, description: 'publisher_closed' })
  @ApiResponse({ status: 408, type: ChartMuseumErrorDto, description: 'upload_too_slow' })
  @ApiResponse({ status: 409, type: ChartMuseumErrorDto, description: 'provenance_exists' })
  @ApiResponse({ status: 413, type: ChartMuseumErrorDto, description: 'publisher_quota_exceeded' })
  @Audited('provenance_uploaded')
  async uploadProv(@Param('slug') slug: string, @Req() req: Request): Promise<{ saved: true }> {
    const principal = await this.access.authorize(req.headers.authorization, slug, 'charts:write');
    rememberPrincipal(req, principal);
    auditSubject(req, await this.intake.receiveProvenance(principal.publisher.id, req));
    return { saved: true };
  }

  @Get('charts')
  @ApiOperation({ summary: 'All charts and their live versions, drafts included (ChartMuseum)' })
  @ApiResponse({ status: 200, description: 'Map of chart name to index entries, newest first.' })
  async list(@Param('slug') slug: string, @Req() req: Request): Promise<Record<string, unknown[]>> {
    const { publisher } = await this.access.authorize(req.headers.authorization, slug, 'charts:read');
    const charts = await this.query.listVersions(publisher.id, 'publisher');
    const out: Record<string, unknown[]> = {};
    for (const [name, versions] of charts) out[name] = versions.map(indexEntry);
    return out;
  }

  @Get('charts/:name')
  @ApiOperation({ summary: 'Live versions of one chart (ChartMuseum)' })
  @ApiResponse({ status: 404, type: ChartMuseumErrorDto, description: 'chart_not_found' })
  async versions(
    @Param('slug') slug: string,
    @Param('name') name: string,
    @Req() req: Request,
  ): Promise<unknown[]> {
    const { publisher } = await this.access.authorize(req.headers.authorization, slug, 'charts:read');
    const versions = (await this.query.listVersions(publisher.id, 'publisher', name)).get(name);
    if (!versions?.length) throw CatalogErrors.ChartNotFound('chart not found');
    return versions.map(indexEntry);
  }

  @Get('charts/:name/:version')
  @ApiOperation({ summary: 'One version, or `latest` (ChartMuseum)' })
  @ApiResponse({ status: 404, type: ChartMuseumErrorDto, description: 'chart_version_not_found' })
  async version(
    @Param('slug') slug: string,
    @Param('name') name: string,
    @Param('version') version: string,
    @Req() req: Request,
  ): Promise<unknown> {
    const { publisher } = await this.access.authorize(req.headers.authorization, slug, 'charts:read');
    if (version === 'latest') {
      const newest = (await this.query.listVersions(publisher.id, 'publisher', name)).get(name)?.[0];
      if (!newest) throw CatalogErrors.ChartVersionNotFound('chart version not found');
      return indexEntry(newest);
    }
    return indexEntry(await this.query.findVersion(publisher.id, name, version));
  }

  @Delete('charts/:name/:version')
  @ApiOperation({
    summary: 'Yank a version (ChartMuseum delete)',
    description:
      'Removes it from every index; the bytes are kept for buyers who already hold a license for it, and the version stays taken.',
  })
  @ApiResponse({
    status: 200,
    schema: { type: 'object', properties: { deleted: { type: 'boolean', example: true } } },
  })
  @ApiResponse({ status: 404, type: ChartMuseumErrorDto, description: 'chart_version_not_found' })
  @Audited('chart_yanked', param('name', 'version'))
  async yank(
    @Param('slug') slug: string,
    @Param('name') name: string,
    @Param('version') version: string,
    @Req() req: Request,
  ): Promise<{ deleted: true }> {
    const principal = await this.access.authorize(req.headers.authorization, slug, 'charts:write');
    rememberPrincipal(req, principal);
    await this.yanks.yank(principal.publisher.id, name, version);
    return { deleted: true };
  }
}
