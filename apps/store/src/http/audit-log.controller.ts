import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
  PickType,
} from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { AUDIT_ACTIONS, AuditAction, AuditLog } from '@berth/audit';
import { IsIn, IsOptional } from 'class-validator';
import { PagedListQueryDto } from './commerce.dto';
import { ErrorResponseDto } from './common.dto';
import { listDates } from './list-dates';
import { NoStore } from './no-store';
import { Principal, PublisherRoute } from './publisher-auth.guard';

export class AuditLogQueryDto extends PickType(PagedListQueryDto, [
  'from',
  'to',
  'cursor',
  'limit',
] as const) {
  @ApiPropertyOptional({ enum: AUDIT_ACTIONS })
  @IsOptional()
  @IsIn(AUDIT_ACTIONS)
  action?: AuditAction;
}

export class AuditActorDto {
  @ApiProperty({ enum: ['owner', 'api_token'] }) kind: 'owner' | 'api_token';
  @ApiProperty({ format: 'uuid', description: 'The account (owner) or the API token that acted.' })
  id: string;
}

export class AuditEventDto {
  @ApiProperty({ format: 'uuid' }) id: string;
  @ApiProperty({ format: 'date-time' }) at: string;
  @ApiProperty({ enum: AUDIT_ACTIONS }) action: string;
  @ApiProperty({ description: 'What it was done to: a chart, chart@version, a license or token id.' })
  subject: string;
  @ApiProperty({ type: AuditActorDto }) actor: AuditActorDto;
  @ApiProperty({
    type: String,
    nullable: true,
    description: 'The client address (behind TRUST_PROXY, forwarded).',
  })
  clientAddress: string | null;
  @ApiProperty({ type: String, nullable: true }) userAgent: string | null;
}

export class AuditLogPageDto {
  @ApiProperty({ type: [AuditEventDto] }) events: AuditEventDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Null on the last page.' })
  nextCursor: string | null;
}

@ApiTags('accounts')
@Controller('v1/publishers/:slug/audit-log')
export class AuditLogController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @PublisherRoute('owner')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({
    summary: "What the publisher's owner and API tokens did, and from where",
    description:
      'Owner access token only. Sign-ins, password changes, signing out everywhere, uploads, yanks, ' +
      'listing and profile changes, licenses granted and revoked, API tokens created and revoked; ' +
      'newest first, cursor-paged like the order list. Refused requests are not actions and are not listed.',
  })
  @ApiResponse({ status: 200, type: AuditLogPageDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed, cursor_invalid' })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: 'owner_required' })
  async list(
    @Principal() principal: PublisherPrincipal,
    @Query() q: AuditLogQueryDto,
  ): Promise<AuditLogPageDto> {
    // PublisherRoute('owner') lets only the owner's access token through.
    const ownerAccountId = principal.kind === 'owner' ? principal.accountId : '';
    const page = await this.audit.list(principal.publisher.id, ownerAccountId, { ...q, ...listDates(q) });
    return {
      events: page.events.map((e) => ({
        id: e.id,
        at: e.at.toISOString(),
        action: e.action,
        subject: e.subject,
        actor:
          e.actor.kind === 'owner'
            ? { kind: 'owner', id: e.actor.accountId }
            : { kind: 'api_token', id: e.actor.tokenId },
        clientAddress: e.clientAddress,
        userAgent: e.userAgent,
      })),
      nextCursor: page.nextCursor,
    };
  }
}
