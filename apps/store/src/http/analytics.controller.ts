import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import type { PublisherPrincipal } from '@berth/accounts';
import { ErrorResponseDto } from './common.dto';
import { DownloadReport, DownloadsDto, DownloadsQueryDto } from './download-report';
import { NoStore } from './no-store';
import { Principal, PublisherRoute } from './publisher-auth.guard';

@ApiTags('analytics')
@Controller('v1/publishers/:slug/analytics')
export class AnalyticsController {
  constructor(private readonly report: DownloadReport) {}

  @Get('downloads')
  @PublisherRoute('charts:read')
  @NoStore()
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Downloads per day, chart and version, and index fetches apart',
    description:
      'Owner, or API token with charts:read. Counted in memory and written every 10 s, so the last ' +
      'seconds may not show yet. `license` narrows to one license of this publisher.',
  })
  @ApiResponse({ status: 200, type: DownloadsDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed, date_range_invalid' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'license_not_found' })
  async downloads(
    @Principal() { publisher }: PublisherPrincipal,
    @Query() q: DownloadsQueryDto,
  ): Promise<DownloadsDto> {
    return this.report.report(publisher.id, q);
  }
}
