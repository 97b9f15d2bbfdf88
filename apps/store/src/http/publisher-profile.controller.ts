import { Body, Controller, Get, Patch } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiProperty,
  ApiPropertyOptional,
  ApiOperation,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { IsEmail, IsOptional, MaxLength, ValidateIf } from 'class-validator';
import { PublisherPrincipal, PublisherProfile, PublisherProfileService } from '@berth/accounts';
import { ErrorResponseDto } from './common.dto';
import { NoStore } from './no-store';
import { Principal, PublisherRoute } from './publisher-auth.guard';
import { Audited } from './audited';

export class PublisherProfileDto {
  @ApiProperty() slug: string;
  @ApiProperty() displayName: string;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    description: "Reply-To of the license mail: where buyers' questions go.",
  })
  supportEmail: string | null;
}

export class UpdatePublisherProfileDto {
  @ApiPropertyOptional({ type: String, nullable: true, example: 'support@acme.example', maxLength: 320 })
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsEmail({}, { message: 'supportEmail must be an e-mail address' })
  @MaxLength(320)
  supportEmail?: string | null;
}

const toDto = (p: PublisherProfile): PublisherProfileDto => ({
  slug: p.slug,
  displayName: p.displayName,
  supportEmail: p.supportEmail,
});

/** The publisher's profile as buyers meet it (the license mail's Reply-To). */
@ApiTags('publishers')
@Controller('v1/publishers/:slug/profile')
export class PublisherProfileController {
  constructor(private readonly profiles: PublisherProfileService) {}

  @Get()
  @NoStore()
  @PublisherRoute('owner')
  @ApiBearerAuth()
  @ApiOperation({ summary: "The publisher's profile" })
  @ApiResponse({ status: 200, type: PublisherProfileDto })
  async get(@Principal() principal: PublisherPrincipal): Promise<PublisherProfileDto> {
    return toDto((await this.profiles.get(principal.publisher.id))!);
  }

  @Patch()
  @NoStore()
  @PublisherRoute('owner')
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Change the publisher's profile",
    description:
      'supportEmail: the Reply-To of license mail from now on; null clears it. Owner access token only.',
  })
  @ApiResponse({ status: 200, type: PublisherProfileDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed, email_not_accepted' })
  @Audited('profile_changed', (req) => Object.keys((req.body as object | undefined) ?? {}).join(', '))
  async update(
    @Principal() principal: PublisherPrincipal,
    @Body() dto: UpdatePublisherProfileDto,
  ): Promise<PublisherProfileDto> {
    if (dto.supportEmail === undefined) return this.get(principal);
    return toDto(await this.profiles.setSupportEmail(principal.publisher.id, dto.supportEmail));
  }
}
