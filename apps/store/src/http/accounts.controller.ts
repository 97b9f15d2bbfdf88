import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags, ApiBearerAuth } from '@nestjs/swagger';
import {
  AccountRegistrationService,
  ApiTokenService,
  ApiTokenView,
  PublisherAccessService,
  SessionService,
} from '@berth/accounts';
import { forbidden } from '@berth/common';
import type { Request } from 'express';
import {
  AccountDto,
  ApiTokenDto,
  CreateAccountDto,
  CreateApiTokenDto,
  CreatedApiTokenDto,
  CreateSessionDto,
  SessionDto,
} from './accounts.dto';
import { ErrorResponseDto } from './common.dto';

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
    private readonly access: PublisherAccessService,
  ) {}

  @Post('accounts')
  @ApiOperation({ summary: 'Sign up and claim a publisher namespace' })
  @ApiResponse({ status: 201, type: AccountDto })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'email_taken, publisher_slug_taken' })
  async register(@Body() dto: CreateAccountDto): Promise<AccountDto> {
    return this.registration.register(dto);
  }

  @Post('sessions')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in with e-mail and password' })
  @ApiResponse({ status: 200, type: SessionDto })
  @ApiResponse({ status: 401, type: ErrorResponseDto, description: 'invalid_credentials' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'login_throttled (Retry-After)' })
  async login(@Body() dto: CreateSessionDto, @Req() req: Request): Promise<SessionDto> {
    return this.sessions.login(dto.email, dto.password, req.socket.remoteAddress ?? 'unknown');
  }

  @Post('publishers/:slug/tokens')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Create an API token (returned once)', description: 'Owner access token only.' })
  @ApiResponse({ status: 201, type: CreatedApiTokenDto })
  async createToken(@Param('slug') slug: string, @Body() dto: CreateApiTokenDto, @Req() req: Request): Promise<CreatedApiTokenDto> {
    const publisher = await this.requireOwner(req, slug);
    const created = await this.tokens.create(publisher.id, dto.name, dto.scopes);
    return { ...toTokenDto(created), token: created.token };
  }

  @Get('publishers/:slug/tokens')
  @ApiBearerAuth()
  @ApiOperation({ summary: 'List API tokens (never their secrets)' })
  @ApiResponse({ status: 200, type: ApiTokenDto, isArray: true })
  async listTokens(@Param('slug') slug: string, @Req() req: Request): Promise<ApiTokenDto[]> {
    const publisher = await this.requireOwner(req, slug);
    return (await this.tokens.list(publisher.id)).map(toTokenDto);
  }

  @Delete('publishers/:slug/tokens/:id')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Revoke an API token' })
  @ApiResponse({ status: 204 })
  async revokeToken(@Param('slug') slug: string, @Param('id', new ParseUUIDPipe()) id: string, @Req() req: Request): Promise<void> {
    const publisher = await this.requireOwner(req, slug);
    await this.tokens.revoke(publisher.id, id);
  }

  /** Tokens are minted by a person, never by another token. */
  private async requireOwner(req: Request, slug: string) {
    const principal = await this.access.authorize(req.headers.authorization, slug, 'charts:write');
    if (principal.kind !== 'owner') throw forbidden('owner_required', 'Only the publisher owner, logged in, can manage API tokens.');
    return principal.publisher;
  }
}
