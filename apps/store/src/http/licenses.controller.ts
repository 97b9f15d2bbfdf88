import {
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
} from '@nestjs/common';
import { DownloadStats } from '@berth/analytics';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { ChartQueryService } from '@berth/catalog';
import { LicenseGrantService, LicenseMailResend, OrdersService } from '@berth/commerce';
import { covers, LicenseService, LicenseView, SigningKeysService } from '@berth/licensing';
import semver from 'semver';
import { ErrorResponseDto } from './common.dto';
import { Principal, PublisherRoute } from './publisher-auth.guard';
import {
  GrantedLicenseDto,
  GrantLicenseDto,
  LicenseDto,
  LicenseListQueryDto,
  LicensePageDto,
  LicenseSummaryDto,
  OrderListQueryDto,
  OrderPageDto,
  VerifyLicenseDto,
  RevokeLicenseDto,
  VerifyResultDto,
} from './commerce.dto';
import { listDates } from './list-dates';
import { NoStore } from './no-store';
import { Audited, auditSubject, param } from './audited';
import type { Request } from 'express';

const PAGED_LIST =
  'Newest first, `limit` a page (default 50, max 200); pass `nextCursor` back as `cursor` for the next page (null on the last). `from` is inclusive, `to` exclusive. A bad filter is 400 validation_failed, a cursor the store did not make 400 cursor_invalid.';

const summary = (l: LicenseView): LicenseSummaryDto => ({
  id: l.id,
  publisher: l.publisher,
  chart: l.chart,
  versionRange: l.versionRange,
  updatesUntil: l.updatesUntil?.toISOString() ?? null,
  status: l.status,
});

const full = (l: LicenseView): LicenseDto => ({
  ...summary(l),
  orderId: l.orderId,
  buyerEmail: l.buyerEmail,
  issuedAt: l.issuedAt.toISOString(),
  reason: l.reason,
  publisherNote: l.publisherNote,
});

@ApiTags('licenses')
@Controller()
export class LicensesController {
  constructor(
    private readonly licenses: LicenseService,
    private readonly keys: SigningKeysService,
    private readonly grants: LicenseGrantService,
    private readonly orders: OrdersService,
    private readonly charts: ChartQueryService,
    private readonly downloads: DownloadStats,
    private readonly resends: LicenseMailResend,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Get('.well-known/jwks.json')
  @ApiOperation({ summary: 'Every public key that ever signed a license, by kid (ES256)' })
  @ApiResponse({ status: 200, description: 'RFC 7517 JWK Set.' })
  async jwks(): Promise<{ keys: Array<Record<string, string>> }> {
    return this.keys.jwks();
  }

  @Post('v1/licenses/verify')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Check a license key online, revocation included',
    description:
      'Always 200 for a well-formed request: `valid` says whether it grants access, `reason` why not. `chart` requires `publisher`.',
  })
  @ApiResponse({ status: 200, type: VerifyResultDto })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description: 'validation_failed (e.g. chart without publisher)',
  })
  async verify(@Body() dto: VerifyLicenseDto): Promise<VerifyResultDto> {
    const r = await this.licenses.verify(dto.key);
    if (!r.valid)
      return { valid: false, reason: r.reason, ...(r.license ? { license: summary(r.license) } : {}) };
    // The publisher first: a chart name means nothing without it (another publisher may sell a chart of the same name).
    if (dto.publisher !== undefined && dto.publisher !== r.license.publisher)
      return { valid: false, reason: 'wrong_publisher', license: summary(r.license) };
    if (dto.chart !== undefined && dto.chart !== r.license.chart)
      return { valid: false, reason: 'wrong_chart', license: summary(r.license) };
    if (dto.version !== undefined) {
      const stored = semver.valid(dto.version)
        ? await this.charts.findByFileName(r.license.publisherId, `${r.license.chart}-${dto.version}`)
        : null;
      const ok = stored
        ? covers(r.entitlement, stored)
        : r.entitlement.updatesUntil === null &&
          !!semver.valid(dto.version) &&
          semver.satisfies(dto.version, r.entitlement.versionRange, { includePrerelease: true });
      if (!ok) return { valid: false, reason: 'version_not_covered', license: summary(r.license) };
    }
    return { valid: true, license: summary(r.license) };
  }

  @Get('v1/publishers/:slug/licenses')
  @PublisherRoute('licenses:read')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({
    summary: "The publisher's licenses (never their keys), filtered and cursor-paged",
    description: `Owner, or API token with licenses:read. ${PAGED_LIST}`,
  })
  @ApiResponse({ status: 200, type: LicensePageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed, cursor_invalid' })
  async list(
    @Principal() { publisher }: PublisherPrincipal,
    @Query() q: LicenseListQueryDto,
  ): Promise<LicensePageDto> {
    const page = await this.licenses.list(publisher.id, { ...q, ...listDates(q) });
    const pulls = await this.downloads.forLicenses(page.licenses.map((l) => l.id));
    const threshold = this.config.analytics.sharingThreshold;
    return {
      licenses: page.licenses.map((l) => {
        const d = pulls.get(l.id)!;
        return { ...full(l), downloads: { ...d, sharingSuspected: d.distinctClientsLastDay > threshold } };
      }),
      nextCursor: page.nextCursor,
    };
  }

  @Post('v1/publishers/:slug/licenses')
  @PublisherRoute('licenses:write')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Grant a complimentary license; the key is returned once',
    description: 'Owner, or API token with licenses:write.',
  })
  @ApiResponse({ status: 201, type: GrantedLicenseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'chart_not_for_sale' })
  @Audited('license_granted')
  async grant(
    @Principal() { publisher }: PublisherPrincipal,
    @Body() dto: GrantLicenseDto,
    @Req() req: Request,
  ): Promise<GrantedLicenseDto> {
    const l = await this.grants.grant(publisher, dto.chart, dto.email, dto.versionRange);
    auditSubject(req, `${l.id} (${l.chart} ${l.versionRange} for ${l.buyerEmail})`);
    return { ...full(l), key: l.key };
  }

  @Delete('v1/publishers/:slug/licenses/:id')
  @PublisherRoute('licenses:write')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Revoke a license: every replica refuses it as soon as the revocation commits (change feed; under a second)',
  })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'license_not_found' })
  @Audited('license_revoked', param('id'))
  async revoke(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<void> {
    await this.licenses.requireForPublisher(publisher.id, id);
    await this.licenses.revoke({ id, publisherId: publisher.id }, 'revoked_by_publisher');
  }

  @Post('v1/publishers/:slug/licenses/:id/revoke')
  @PublisherRoute('licenses:write')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Revoke a license with a note its holder reads on "My licenses"',
    description:
      'As DELETE …/licenses/{id}, plus `note` (plain text, at most 300 characters) shown to the holder. ' +
      'Revoking an already revoked license changes nothing, its note included.',
  })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'license_not_found' })
  @Audited('license_revoked', param('id'))
  async revokeWithNote(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() dto: RevokeLicenseDto,
  ): Promise<void> {
    await this.licenses.requireForPublisher(publisher.id, id);
    await this.licenses.revoke(
      { id, publisherId: publisher.id },
      'revoked_by_publisher',
      undefined,
      dto.note,
    );
  }

  @Post('v1/publishers/:slug/licenses/:id/reinstate')
  @PublisherRoute('licenses:write')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Reinstate a complimentary license the publisher revoked',
    description:
      'Owner, or API token with licenses:write. Only a complimentary license (granted, no order) that the ' +
      'publisher revoked: its keys work again on every replica as soon as this commits, and its revocation ' +
      'note is cleared. A bought license (its order decides: refunds, disputes), one revoked for another ' +
      'reason, or one not revoked is 409 license_not_reinstatable.',
  })
  @ApiResponse({ status: 200, type: LicenseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'license_not_found' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'license_not_reinstatable' })
  @Audited('license_reinstated', param('id'))
  async reinstate(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<LicenseDto> {
    return full(await this.licenses.reinstateComplimentary(publisher.id, id));
  }

  @Post('v1/publishers/:slug/licenses/:id/resend')
  @PublisherRoute('licenses:write')
  @HttpCode(202)
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Send the license e-mail again, to the license's own address",
    description:
      'Owner, or API token with licenses:write. Queues the same message as on purchase or grant (with a ' +
      'freshly signed key, written when it is sent; the key is never returned here). At most one license ' +
      'e-mail per license every 10 minutes, the first one included: sooner is 429 license_mail_too_soon with ' +
      'Retry-After. A revoked license has no key to send: 409 license_revoked.',
  })
  @ApiResponse({ status: 202, description: 'Queued.' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'license_not_found' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'license_revoked' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'license_mail_too_soon' })
  @Audited('license_mail_resent', param('id'))
  async resend(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<void> {
    await this.resends.resend(publisher.id, id);
  }

  @Get('v1/publishers/:slug/orders')
  @PublisherRoute('orders:read')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({
    summary: "The publisher's orders, filtered and cursor-paged",
    description: `Owner, or API token with orders:read. ${PAGED_LIST}`,
  })
  @ApiResponse({ status: 200, type: OrderPageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed, cursor_invalid' })
  async listOrders(
    @Principal() { publisher }: PublisherPrincipal,
    @Query() q: OrderListQueryDto,
  ): Promise<OrderPageDto> {
    const page = await this.orders.list(publisher.id, { ...q, ...listDates(q) });
    return {
      orders: page.orders.map((o) => ({
        ...o,
        createdAt: o.createdAt.toISOString(),
        paidAt: o.paidAt?.toISOString() ?? null,
        expiresAt: o.expiresAt?.toISOString() ?? null,
      })),
      nextCursor: page.nextCursor,
    };
  }
}
