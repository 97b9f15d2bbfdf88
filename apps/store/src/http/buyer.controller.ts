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
  Req,
  Res,
} from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { LicenseService } from '@berth/licensing';
import { BuyerSignInService } from '@berth/storefront';
import type { Request, Response } from 'express';
import {
  assertSameOrigin,
  BUYER_COOKIE,
  BuyerRoute,
  clearBuyerCookie,
  cookieValue,
  CurrentBuyer,
  setBuyerCookie,
} from './buyer-session';
import {
  BuyerKeyResponseDto,
  BuyerLicenseListDto,
  BuyerSessionDto,
  LoginLinkAcceptedDto,
  LoginLinkRequestDto,
  OpenBuyerSessionDto,
  toBuyerLicenseDto,
} from './buyer.dto';
import { ClientLimits } from './client-limits';
import { ErrorResponseDto } from './common.dto';
import { NoStore } from './no-store';

export const LINK_SENT_MESSAGE =
  'If this address bought a license here, a sign-in link is on its way. It works once, for 15 minutes.';

/** "My licenses" for programs: the same actions as the pages under /my, with the same session cookie. */
@ApiTags('buyers')
@Controller('v1/buyer')
export class BuyerController {
  constructor(
    private readonly signIn: BuyerSignInService,
    private readonly licenses: LicenseService,
    private readonly limits: ClientLimits,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post('login-links')
  @HttpCode(202)
  @ApiOperation({
    summary: 'E-mail a sign-in link for "My licenses"',
    description: 'Always 202: the answer never tells whether the address bought anything.',
  })
  @ApiResponse({ status: 202, type: LoginLinkAcceptedDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'too_many_login_links (Retry-After)' })
  async requestLink(@Body() dto: LoginLinkRequestDto, @Req() req: Request): Promise<LoginLinkAcceptedDto> {
    await this.limits.consumeMailedLink('loginLink', req, dto.email);
    await this.signIn.requestLink(dto.email);
    return { message: LINK_SENT_MESSAGE };
  }

  @Post('sessions')
  @ApiResponse({
    status: 403,
    type: ErrorResponseDto,
    description: 'cross_origin_refused (a foreign Origin)',
  })
  @NoStore()
  @ApiOperation({
    summary: 'Open a buyer session with a sign-in link',
    description: 'Uses the link up and sets the httpOnly session cookie `berth_buyer`.',
  })
  @ApiResponse({ status: 201, type: BuyerSessionDto })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description: 'login_link_invalid (used, expired or forged)',
  })
  async openSession(
    @Body() dto: OpenBuyerSessionDto,
    @Req() req: Request,
    @Res({ passthrough: true }) res: Response,
  ): Promise<BuyerSessionDto> {
    assertSameOrigin(req, this.config);
    const session = await this.signIn.consumeLink(dto.token);
    setBuyerCookie(res, this.config, session);
    return { email: session.email, expiresAt: session.expiresAt.toISOString() };
  }

  @Delete('session')
  @ApiResponse({
    status: 403,
    type: ErrorResponseDto,
    description: 'cross_origin_refused (a foreign Origin)',
  })
  @HttpCode(204)
  @ApiOperation({ summary: 'Sign out: ends this buyer session and clears its cookie' })
  @ApiResponse({ status: 204 })
  async signOut(@Req() req: Request, @Res({ passthrough: true }) res: Response): Promise<void> {
    assertSameOrigin(req, this.config);
    await this.signIn.signOut(cookieValue(req, BUYER_COOKIE));
    clearBuyerCookie(res, this.config);
  }

  @Get('licenses')
  @BuyerRoute()
  @NoStore()
  @ApiOperation({ summary: "The signed-in buyer's licenses, newest first" })
  @ApiResponse({ status: 200, type: BuyerLicenseListDto })
  @ApiResponse({ status: 401, type: ErrorResponseDto, description: 'buyer_session_required' })
  async list(@CurrentBuyer() email: string): Promise<BuyerLicenseListDto> {
    const licenses = await this.licenses.listForBuyer(email);
    return { licenses: licenses.map((l) => toBuyerLicenseDto(l, this.config.publicUrl)) };
  }

  @Post('licenses/:id/key')
  @ApiResponse({
    status: 403,
    type: ErrorResponseDto,
    description: 'cross_origin_refused (a foreign Origin)',
  })
  @HttpCode(200)
  @BuyerRoute()
  @NoStore()
  @ApiOperation({ summary: "Show a license's key (a fresh signature of the current key)" })
  @ApiResponse({ status: 200, type: BuyerKeyResponseDto })
  @ApiResponse({ status: 401, type: ErrorResponseDto, description: 'buyer_session_required' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'license_not_found (or not yours)' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'license_revoked' })
  async key(
    @CurrentBuyer() email: string,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
  ): Promise<BuyerKeyResponseDto> {
    assertSameOrigin(req, this.config);
    return { license: await this.licenses.currentKeyForBuyer(email, id) };
  }

  @Post('licenses/:id/rotate')
  @ApiResponse({
    status: 403,
    type: ErrorResponseDto,
    description: 'cross_origin_refused (a foreign Origin)',
  })
  @HttpCode(200)
  @BuyerRoute()
  @NoStore()
  @ApiOperation({
    summary: 'Rotate a license key',
    description: 'Issues a new key; every earlier key of the license stops working (the revocation bound).',
  })
  @ApiResponse({ status: 200, type: BuyerKeyResponseDto })
  @ApiResponse({ status: 401, type: ErrorResponseDto, description: 'buyer_session_required' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'license_not_found (or not yours)' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'license_revoked' })
  async rotate(
    @CurrentBuyer() email: string,
    @Param('id', new ParseUUIDPipe()) id: string,
    @Req() req: Request,
  ): Promise<BuyerKeyResponseDto> {
    assertSameOrigin(req, this.config);
    const rotated = await this.licenses.rotateKey(email, id);
    return { license: { id: rotated.license.id, key: rotated.key } };
  }
}
