import { Controller, Get, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { CustomerTimeline, CustomerTimelineView, TIMELINE_EVENT_TYPES } from '@berth/commerce';
import { IsNotEmpty, IsString, MaxLength } from 'class-validator';
import { ErrorResponseDto } from './common.dto';
import { NoStore } from './no-store';
import { Principal, PublisherRoute } from './publisher-auth.guard';

export class CustomerQueryDto {
  @ApiProperty({
    description: "A buyer's e-mail address, or the id of one of this publisher's orders or licenses.",
    maxLength: 320,
  })
  @IsString()
  @IsNotEmpty()
  @MaxLength(320)
  q: string;
}

export class TimelineEventDto {
  @ApiProperty({
    format: 'date-time',
    description: 'When it happened; for `pulls`, the start of the UTC day counted.',
  })
  at: string;
  @ApiProperty({ enum: TIMELINE_EVENT_TYPES }) type: string;
  @ApiPropertyOptional({ type: String, nullable: true }) chart: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) orderId: string | null;
  @ApiPropertyOptional({ type: String, format: 'uuid', nullable: true }) licenseId: string | null;
  @ApiProperty({ description: 'What happened, as plain text.' }) detail: string;
}

export class CustomerTimelineDto {
  @ApiProperty({ description: "The buyer's e-mail address the lookup resolved to." }) email: string;
  @ApiProperty({ description: "The buyer's orders with this publisher." }) orders: number;
  @ApiProperty({ description: "The buyer's licenses from this publisher." }) licenses: number;
  @ApiProperty({ type: [TimelineEventDto], description: 'Newest first.' }) events: TimelineEventDto[];
  @ApiProperty({ description: 'True when older events were left off (more than 1000).' }) truncated: boolean;
}

export const timelineDto = (t: CustomerTimelineView): CustomerTimelineDto => ({
  email: t.email,
  orders: t.orders,
  licenses: t.licenses,
  events: t.events.map((e) => ({
    at: e.at.toISOString(),
    type: e.type,
    chart: e.chart,
    orderId: e.orderId,
    licenseId: e.licenseId,
    detail: e.detail,
  })),
  truncated: t.truncated,
});

@ApiTags('orders')
@Controller('v1/publishers/:slug/customers')
export class CustomersController {
  constructor(private readonly timeline: CustomerTimeline) {}

  @Get('timeline')
  @PublisherRoute('orders:read')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({
    summary: "One buyer's history with the publisher",
    description:
      "Owner, or API token with orders:read. `q` is a buyer's e-mail address, or the id of one of the " +
      "publisher's orders or licenses (whose buyer is then shown). Newest first: orders created, paid, " +
      'refunded and disputed; licenses issued and revoked; license e-mails (from the outbox: queued, sent, ' +
      "skipped, given up); licensed pulls per UTC day. Only this publisher's data: another publisher's " +
      'order or license id is 404 customer_not_found, exactly as an id that exists nowhere.',
  })
  @ApiResponse({ status: 200, type: CustomerTimelineDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'customer_not_found' })
  async lookup(
    @Principal() { publisher }: PublisherPrincipal,
    @Query() dto: CustomerQueryDto,
  ): Promise<CustomerTimelineDto> {
    return timelineDto(await this.timeline.lookup(publisher.id, dto.q));
  }
}
