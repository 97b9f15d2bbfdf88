import { Body, Controller, Delete, Get, HttpCode, Inject, Patch, Put, Req } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiProperty,
  ApiPropertyOptional,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { IsEmail, IsOptional, IsString, MaxLength, ValidateIf } from 'class-validator';
import {
  AccountsErrors,
  DISPLAY_NAME_MAX,
  LOGO_CONTENT_TYPES,
  LOGO_MAX_BYTES,
  LOGO_URL_MAX,
  PublisherPrincipal,
  PublisherProfile,
  PublisherProfileService,
} from '@berth/accounts';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { publisherLogoUrl } from '@berth/storefront';
import type { Request } from 'express';
import { PublisherLogos } from '../publisher-logos';
import { ErrorResponseDto } from './common.dto';
import { NoStore } from './no-store';
import { Principal, PublisherRoute } from './publisher-auth.guard';
import { Audited } from './audited';
import { readRawBody } from './upload-body';

export class PublisherLogoDto {
  @ApiProperty({ enum: ['url', 'file'], description: 'An https address given, or an image uploaded.' })
  kind: 'url' | 'file';
  @ApiProperty({
    description:
      "Where the logo is shown from: the https address given, or the store's own (with the image's " +
      'SHA-256 in it, so a new image is a new address).',
  })
  url: string;
  @ApiPropertyOptional({ enum: LOGO_CONTENT_TYPES, description: 'An uploaded image only.' })
  contentType?: string;
}

export class PublisherProfileDto {
  @ApiProperty() slug: string;
  @ApiProperty() displayName: string;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: "Reply-To of the license mail: where buyers' questions go.",
  })
  supportEmail: string | null;
  @ApiPropertyOptional({ type: PublisherLogoDto, nullable: true })
  logo: PublisherLogoDto | null;
}

export class UpdatePublisherProfileDto {
  @ApiPropertyOptional({ example: 'Acme Inc.', minLength: 1, maxLength: DISPLAY_NAME_MAX })
  @IsOptional()
  @IsString()
  @MaxLength(400)
  displayName?: string;

  @ApiPropertyOptional({ type: String, nullable: true, example: 'support@acme.example', maxLength: 320 })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsEmail({}, { message: 'supportEmail must be an e-mail address' })
  @MaxLength(320)
  supportEmail?: string | null;

  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: 'https://acme.example/logo.png',
    maxLength: LOGO_URL_MAX,
    description: 'An https address; it replaces an uploaded logo. null removes the logo.',
  })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsString()
  @MaxLength(LOGO_URL_MAX + 100)
  logoUrl?: string | null;
}

/** The publisher's profile as buyers meet it: its name and logo on the storefront, the license mail's Reply-To. */
@ApiTags('publishers')
@Controller('v1/publishers/:slug')
export class PublisherProfileController {
  constructor(
    private readonly profiles: PublisherProfileService,
    private readonly logos: PublisherLogos,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private toDto(p: PublisherProfile): PublisherProfileDto {
    const url = publisherLogoUrl(this.config.publicUrl.replace(/\/+$/, ''), p.slug, p.logo);
    return {
      slug: p.slug,
      displayName: p.displayName,
      supportEmail: p.supportEmail,
      logo:
        p.logo && url
          ? {
              kind: p.logo.kind,
              url,
              ...(p.logo.kind === 'file' ? { contentType: p.logo.contentType } : {}),
            }
          : null,
    };
  }

  @Get('profile')
  @NoStore()
  @PublisherRoute('owner')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The publisher's profile" })
  @ApiResponse({ status: 200, type: PublisherProfileDto })
  async get(@Principal() principal: PublisherPrincipal): Promise<PublisherProfileDto> {
    return this.toDto((await this.profiles.get(principal.publisher.id))!);
  }

  @Patch('profile')
  @NoStore()
  @PublisherRoute('owner')
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Change the publisher's profile",
    description:
      `displayName: 1 to ${DISPLAY_NAME_MAX} characters, shown on the storefront at once. supportEmail: the ` +
      'Reply-To of license mail from now on; null clears it. logoUrl: an https address (at most ' +
      `${LOGO_URL_MAX} characters) shown as the logo; null removes the logo. Absent fields are kept; ` +
      'a refused field saves nothing. Owner access token only.',
  })
  @ApiResponse({ status: 200, type: PublisherProfileDto })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description: 'validation_failed, email_not_accepted, display_name_invalid, logo_url_invalid',
  })
  @Audited('profile_changed', (req) => Object.keys((req.body as object | undefined) ?? {}).join(', '))
  async update(
    @Principal() principal: PublisherPrincipal,
    @Body() dto: UpdatePublisherProfileDto,
  ): Promise<PublisherProfileDto> {
    return this.toDto(
      await this.logos.update(principal.publisher.id, {
        displayName: dto.displayName,
        supportEmail: dto.supportEmail,
        logoUrl: dto.logoUrl,
      }),
    );
  }

  @Put('logo')
  @NoStore()
  @PublisherRoute('owner')
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Upload the logo (raw image body)',
    description:
      `A PNG, JPEG or WebP image of at most ${LOGO_MAX_BYTES} bytes, told by its bytes (the Content-Type ` +
      'sent is not trusted; SVG is refused). Replaces any logo. Served at /publishers/{slug}/logo/{sha256} ' +
      'with a long cache. Owner access token only.',
  })
  @ApiBody({ schema: { type: 'string', format: 'binary' } })
  @ApiResponse({ status: 200, type: PublisherProfileDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'logo_type_unsupported' })
  @ApiResponse({ status: 413, type: ErrorResponseDto, description: 'logo_too_large' })
  @Audited('profile_changed', () => 'logo')
  async putLogo(
    @Principal() principal: PublisherPrincipal,
    @Req() req: Request,
  ): Promise<PublisherProfileDto> {
    const bytes = await readRawBody(req, LOGO_MAX_BYTES, (max) => AccountsErrors.LogoTooLarge(max));
    return this.toDto(await this.logos.upload(principal.publisher.id, this.logos.check(bytes)));
  }

  @Delete('logo')
  @NoStore()
  @PublisherRoute('owner')
  @HttpCode(200)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Remove the logo (an uploaded image or an address)' })
  @ApiResponse({ status: 200, type: PublisherProfileDto })
  @Audited('profile_changed', () => 'logo removed')
  async deleteLogo(@Principal() principal: PublisherPrincipal): Promise<PublisherProfileDto> {
    return this.toDto(await this.logos.remove(principal.publisher.id));
  }
}
