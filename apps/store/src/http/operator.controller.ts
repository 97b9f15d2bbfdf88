import { Body, Controller, Delete, Get, HttpCode, Param, Put, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { PublisherAccessService } from '@berth/accounts';
import { MarketplaceReport } from '@berth/commerce';
import { PayoutAccounts } from '@berth/payouts';
import { IsInt, IsISO8601, IsObject, IsOptional, IsString, Matches, Max, Min } from 'class-validator';
import { ErrorResponseDto, PageLimitQueryDto } from './common.dto';
import { feePublisherId, fixedFees } from './platform-fee-input';
import { NoStore } from './no-store';
import { OperatorRoute } from './publisher-auth.guard';

export class MarketplaceQueryDto {
  @ApiPropertyOptional({ description: 'Orders paid from this instant (ISO 8601).' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be a date, like 2026-12-01' })
  from?: string;

  @ApiPropertyOptional({ description: 'Orders paid before this instant (ISO 8601).' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be a date, like 2026-12-31' })
  to?: string;
}

class MarketplaceRowDto {
  @ApiProperty() publisher: string;
  @ApiProperty() currency: string;
  @ApiProperty({ description: 'Orders paid in the period.' }) sales: number;
  @ApiProperty({ description: 'Their total, smallest currency unit.' }) gross: number;
  @ApiProperty({ description: 'Platform fees recorded on them.' }) platformFees: number;
  @ApiProperty() refunded: number;
  @ApiProperty() openDisputes: number;
  @ApiProperty() disputedAmount: number;
}

class ExposureDto {
  @ApiProperty() currency: string;
  @ApiProperty() openDisputes: number;
  @ApiProperty({ description: 'Open disputes on destination charges: the platform carries their losses.' })
  amount: number;
}

export class MarketplaceReportDto {
  @ApiProperty({ type: [MarketplaceRowDto] }) rows: MarketplaceRowDto[];
  @ApiProperty({ type: [ExposureDto] }) exposure: ExposureDto[];
}

export class PlatformFeeDto {
  @ApiProperty({ description: 'Basis points of each sale (0-10000).', example: 500 })
  @IsInt()
  @Min(0)
  @Max(10000)
  bps: number;

  @ApiProperty({
    type: 'object',
    additionalProperties: { type: 'integer' },
    description: 'Fixed fee per lowercase currency code, in its smallest unit.',
    example: { usd: 30 },
  })
  @IsObject()
  fixed: Record<string, number>;
}

export class PayoutAccountsQueryDto extends PageLimitQueryDto {
  @ApiPropertyOptional({ description: "The previous page's nextCursor (the last publisher's slug)." })
  @IsOptional()
  @IsString()
  @Matches(/^[a-z0-9-]{1,40}$/, { message: 'cursor must be a publisher slug' })
  cursor?: string;
}

class FeeViewDto {
  @ApiProperty() bps: number;
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' } }) fixed: Record<string, number>;
  @ApiProperty({ description: 'An operator set this fee for this publisher.' }) override: boolean;
}

class PublisherPayoutDto {
  @ApiProperty() publisher: string;
  @ApiProperty() displayName: string;
  @ApiProperty({ enum: ['not_started', 'pending', 'enabled', 'restricted'] }) status: string;
  @ApiProperty({ description: 'How many things Stripe still needs from the publisher.' })
  currentlyDue: number;
  @ApiProperty({ type: FeeViewDto }) fee: FeeViewDto;
}

export class PublisherPayoutPageDto {
  @ApiProperty({ type: [PublisherPayoutDto] }) publishers: PublisherPayoutDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Null on the last page.' })
  nextCursor: string | null;
}

/** The store operator's routes (OPERATOR_EMAILS). */
@ApiTags('operator')
@Controller('v1/operator')
export class OperatorController {
  constructor(
    private readonly report: MarketplaceReport,
    private readonly payouts: PayoutAccounts,
    private readonly publishers: PublisherAccessService,
  ) {}

  @Get('marketplace')
  @OperatorRoute()
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({
    summary:
      'Sales, platform fees, refunds and open disputes per publisher and currency; the dispute exposure',
  })
  @ApiResponse({ status: 200, type: MarketplaceReportDto })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: 'operator_required' })
  async marketplace(@Query() q: MarketplaceQueryDto): Promise<MarketplaceReportDto> {
    return this.report.summary({
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    });
  }

  @Get('publishers')
  @OperatorRoute()
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({ summary: "Every publisher's payout state and platform fee, by slug" })
  @ApiResponse({ status: 200, type: PublisherPayoutPageDto })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: 'operator_required' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'payouts_not_enabled' })
  async publisherPayouts(@Query() q: PayoutAccountsQueryDto): Promise<PublisherPayoutPageDto> {
    const limit = q.limit ?? 50;
    const rows = await this.payouts.overview({ after: q.cursor, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return {
      publishers: page.map((r) => ({
        publisher: r.slug,
        displayName: r.displayName,
        status: r.status,
        currentlyDue: r.currentlyDue,
        fee: { bps: r.fee.bps, fixed: r.fee.fixed, override: r.fee.override },
      })),
      nextCursor: rows.length > limit ? page[page.length - 1].slug : null,
    };
  }

  @Put('publishers/:slug/platform-fee')
  @HttpCode(204)
  @OperatorRoute()
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Set one publisher's platform fee instead of PLATFORM_FEE_BPS / PLATFORM_FEE_FIXED",
  })
  @ApiResponse({ status: 204, description: 'Applies to checkouts opened from now on.' })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed' })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: 'operator_required' })
  @ApiResponse({
    status: 404,
    type: ErrorResponseDto,
    description: 'publisher_not_found, payouts_not_enabled',
  })
  async setFee(@Param('slug') slug: string, @Body() dto: PlatformFeeDto): Promise<void> {
    const fee = { bps: dto.bps, fixed: fixedFees(dto.fixed) };
    await this.payouts.setFeeOverride(await feePublisherId(this.publishers, slug), fee);
  }

  @Delete('publishers/:slug/platform-fee')
  @HttpCode(204)
  @OperatorRoute()
  @ApiBearerAuth()
  @ApiOperation({ summary: "Clear a publisher's platform fee: the store's settings apply again" })
  @ApiResponse({ status: 204 })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: 'operator_required' })
  @ApiResponse({
    status: 404,
    type: ErrorResponseDto,
    description: 'publisher_not_found, payouts_not_enabled',
  })
  async clearFee(@Param('slug') slug: string): Promise<void> {
    await this.payouts.setFeeOverride(await feePublisherId(this.publishers, slug), null);
  }
}
