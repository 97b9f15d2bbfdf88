import { Body, Controller, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { ListingService } from '@berth/catalog';
import { ErrorResponseDto } from './common.dto';
import { ListingDto, PutListingDto } from './listings.dto';
import { Principal, PublisherRoute } from './publisher-auth.guard';
import { Audited, param } from './audited';

@ApiTags('publishing')
@Controller('v1/publishers/:slug/charts/:name/listing')
export class ListingsController {
  constructor(private readonly listings: ListingService) {}

  @Put()
  @PublisherRoute('listings:write')
  @ApiBearerAuth()
  @ApiOperation({
    summary: "Set a chart's price, update policy and visibility",
    description:
      'Owner access token, or an API token with the listings:write scope. A chart without a published listing is a draft.',
  })
  @ApiResponse({ status: 200, type: ListingDto })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description: 'validation_failed, currency_invalid, update_policy_invalid',
  })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'chart_not_found' })
  @Audited('listing_changed', param('name'))
  async put(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('name') name: string,
    @Body() dto: PutListingDto,
  ): Promise<ListingDto> {
    const l = await this.listings.upsert(publisher.id, name, dto);
    return {
      chart: l.chart,
      price: l.price,
      updatePolicy: l.updatePolicy,
      published: l.published,
      updatedAt: l.updatedAt.toISOString(),
    };
  }
}
