import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags, ApiBearerAuth } from '@nestjs/swagger';
import {
  AccountRegistrationService,
  ApiTokenService,
  ApiTokenView,
  PublisherPrincipal,
  SessionService,
} from '@berth/accounts';
import type { Request } from 'express';
import { AccountClosure } from '../account-closure';
import {
  AccountDto,
  ApiTokenDto,
  ChangePasswordDto,
  CloseAccountDto,
  CreateAccountDto,
  CreateApiTokenDto,
  CreatedApiTokenDto,
  CreateSessionDto,
  SessionDto,
} from './accounts.dto';
import { ClientLimits } from './client-limits';
import { clientKey } from './client-key';
import { ErrorResponseDto } from './common.dto';
import { NoStore } from './no-store';
import { AccountRoute, CurrentAccount, Principal, PublisherRoute } from './publisher-auth.guard';
import { Audited, auditSubject, param, rememberAccount } from './audited';

const toTokenDto = (t: ApiTokenView): ApiTokenDto => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes,
  createdAt: t.createdAt.toISOString(),
  lastUsedAt: t.lastUsedAt?.toISOString() ?? null,
  revokedAt: t.revokedAt?.toISOString() ?? null,
});

@ApiTags('accounts')
@Controller('v1')
export class AccountsController {
  constructor(
    private readonly registration: AccountRegistrationService,
    private readonly sessions: SessionService,
    private readonly tokens: ApiTokenService,
    private readonly closure: AccountClosure,
    private readonly limits: ClientLimits,
  ) {}

  @Post('accounts')
  @ApiOperation({ summary: 'Sign up and claim a publisher namespace' })
  @ApiResponse({ status: 201, type: AccountDto })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description: 'validation_failed, email_not_accepted, publisher_slug_reserved',
  })
  @ApiResponse({
    status: 409,
    type: ErrorResponseDto,
    description: 'publisher_slug_taken; email_taken only with SIGNUP_EMAIL_VERIFICATION=off',
  })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'too_many_signups (Retry-After)' })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: 'password_checks_busy (Retry-After)' })
  async register(@Body() dto: CreateAccountDto, @Req() req: Request): Promise<AccountDto> {
    await this.limits.consume('signup', req);
    return this.registration.register(dto);
  }

  @Post('sessions')
  @NoStore()
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in with e-mail and password' })
  @ApiResponse({ status: 200, type: SessionDto })
  @ApiResponse({ status: 401, type: ErrorResponseDto, description: 'invalid_credentials' })
  @ApiResponse({
    status: 403,
    type: ErrorResponseDto,
    description: 'email_not_verified (the right password, an unconfirmed address; a new link is mailed)',
  })
  @ApiResponse({
    status: 429,
    type: ErrorResponseDto,
    description: 'login_throttled, too_many_auth_failures (Retry-After)',
  })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: 'password_checks_busy (Retry-After)' })
  @Audited('signed_in', (req) => String((req.body as { email?: unknown }).email ?? ''))
  async login(@Body() dto: CreateSessionDto, @Req() req: Request): Promise<SessionDto> {
    // The client as the rate limits name it: behind TRUST_PROXY, the forwarded address; IPv6 by /64.
    const session = await this.sessions.login(
      dto.email,
      dto.password,
      clientKey(req.ip ?? req.socket.remoteAddress),
    );
    rememberAccount(req, session.accountId);
    return { accessToken: session.accessToken, expiresIn: session.expiresIn };
  }

  @Post('account/password')
  @NoStore()
  @AccountRoute()
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Change the password',
    description:
      'Needs the current password (throttled like logins). Ends every session of the account, ' +
      'other devices included, and returns a fresh access token for this one. API tokens are not touched.',
  })
  @ApiResponse({ status: 200, type: SessionDto })
  @ApiResponse({ status: 401, type: ErrorResponseDto, description: 'access_token_invalid' })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: 'password_incorrect' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'login_throttled (Retry-After)' })
  @Audited('password_changed', () => 'account')
  async changePassword(
    @CurrentAccount() accountId: string,
    @Body() dto: ChangePasswordDto,
    @Req() req: Request,
  ): Promise<SessionDto> {
    return this.sessions.changePassword(
      accountId,
      dto.currentPassword,
      dto.newPassword,
      clientKey(req.ip ?? req.socket.remoteAddress),
    );
  }

  @Post('sessions/revoke-all')
  @AccountRoute()
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Sign out everywhere',
    description: 'Every access token of the account stops working at once, this one included.',
  })
  @ApiResponse({ status: 204 })
  @Audited('signed_out_everywhere', () => 'account')
  async signOutEverywhere(@CurrentAccount() accountId: string): Promise<void> {
    await this.sessions.signOutEverywhere(accountId);
  }

  @Delete('account')
  @AccountRoute()
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Close the account with its publisher',
    description:
      'Needs the password. Deletes the account, its publisher, API tokens, charts and listings, and ' +
      'revokes its complimentary licenses; the slug and e-mail are free again. Refused while licenses ' +
      'sold by the publisher are in force (not revoked or refunded).',
  })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 401, type: ErrorResponseDto, description: 'access_token_invalid' })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: 'password_incorrect' })
  @ApiResponse({
    status: 409,
    type: ErrorResponseDto,
    description: 'account_has_paid_licenses, account_has_open_checkouts',
  })
  async closeAccount(
    @CurrentAccount() accountId: string,
    @Body() dto: CloseAccountDto,
    @Req() req: Request,
  ): Promise<void> {
    await this.closure.close(accountId, dto.password, clientKey(req.ip ?? req.socket.remoteAddress));
  }

  @Post('publishers/:slug/tokens')
  @NoStore()
  @PublisherRoute('owner')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create an API token (returned once)', description: 'Owner access token only.' })
  @ApiResponse({ status: 201, type: CreatedApiTokenDto })
  @Audited('api_token_created')
  async createToken(
    @Principal() principal: PublisherPrincipal,
    @Body() dto: CreateApiTokenDto,
    @Req() req: Request,
  ): Promise<CreatedApiTokenDto> {
    const created = await this.tokens.create(principal.publisher.id, dto.name, dto.scopes);
    auditSubject(req, `${created.id} (${created.name}: ${created.scopes.join(' ')})`);
    return { ...toTokenDto(created), token: created.token };
  }

  @Get('publishers/:slug/tokens')
  @NoStore()
  @PublisherRoute('owner')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'List API tokens (never their secrets)',
    description: 'lastUsedAt is written at most once a minute per token.',
  })
  @ApiResponse({ status: 200, type: ApiTokenDto, isArray: true })
  async listTokens(@Principal() principal: PublisherPrincipal): Promise<ApiTokenDto[]> {
    return (await this.tokens.list(principal.publisher.id)).map(toTokenDto);
  }

  @Delete('publishers/:slug/tokens/:id')
  @PublisherRoute('owner')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke an API token' })
  @ApiResponse({ status: 204 })
  @Audited('api_token_revoked', param('id'))
  async revokeToken(
    @Principal() principal: PublisherPrincipal,
    @Param('id', new ParseUUIDPipe()) id: string,
  ): Promise<void> {
    // Tokens are minted and revoked by a person, never by another token ('owner').
    await this.tokens.revoke(principal.publisher.id, id);
  }
}
