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
import { DownloadStats } from '@berth/analytics';
import { ChartQueryService } from '@berth/catalog';
import { LicenseService } from '@berth/licensing';
import { IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { ErrorResponseDto } from './common.dto';
import { HttpErrors } from './http-errors';
import { NoStore } from './no-store';
import { Principal, PublisherRoute } from './publisher-auth.guard';

const DAY_MS = 86_400_000;
/** The longest range one query covers: a year of days. */
const MAX_DAYS = 366;

export class DownloadsQueryDto {
  @ApiPropertyOptional({
    format: 'date',
    description: 'First day (UTC), inclusive; default 29 days before `to`.',
  })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'from must be a date, like 2026-12-01' })
  from?: string;

  @ApiPropertyOptional({ format: 'date', description: 'Last day (UTC), inclusive; default today.' })
  @IsOptional()
  @IsISO8601({ strict: true }, { message: 'to must be a date, like 2026-12-31' })
  to?: string;

  @ApiPropertyOptional({ description: 'Only this chart (name).' })
  @IsOptional()
  @IsString()
  @MaxLength(63)
  chart?: string;

  @ApiPropertyOptional({ format: 'uuid', description: "Only this license's downloads." })
  @IsOptional()
  @IsUUID()
  license?: string;
}

export class DownloadRowDto {
  @ApiProperty({ format: 'date' }) day: string;
  @ApiProperty() chart: string;
  @ApiProperty() version: string;
  @ApiProperty() pulls: number;
}

export class IndexFetchRowDto {
  @ApiProperty({ format: 'date' }) day: string;
  @ApiProperty({ enum: ['public', 'publisher', 'license'] }) audience: string;
  @ApiProperty() fetches: number;
}

export class DownloadsDto {
  @ApiProperty({ format: 'date' }) from: string;
  @ApiProperty({ format: 'date' }) to: string;
  @ApiProperty({ type: [DownloadRowDto], description: '`.tgz` downloads per day, chart and version.' })
  pulls: DownloadRowDto[];
  @ApiProperty({
    type: [IndexFetchRowDto],
    description: 'Index fetches (200 or 304) per day and audience; not with `chart` or `license`.',
  })
  indexFetches: IndexFetchRowDto[];
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

@ApiTags('analytics')
@Controller('v1/publishers/:slug/analytics')
export class AnalyticsController {
  constructor(
    private readonly stats: DownloadStats,
    private readonly charts: ChartQueryService,
    private readonly licenses: LicenseService,
  ) {}

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
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - 29 * DAY_MS);
    const days = Math.floor((to.getTime() - from.getTime()) / DAY_MS) + 1;
    if (days < 1 || days > MAX_DAYS) throw HttpErrors.DateRangeInvalid(MAX_DAYS);
    const range = { from: isoDay(from), to: isoDay(to) };
    const ids = await this.charts.chartIdsByName(publisher.id);
    const names = new Map([...ids].map(([name, id]) => [id, name]));
    let rows;
    if (q.license) {
      await this.licenses.requireForPublisher(publisher.id, q.license);
      rows = await this.stats.licenseSeries(q.license, range.from, range.to);
    } else {
      const wanted = q.chart ? [ids.get(q.chart)].filter((id): id is string => !!id) : [...ids.values()];
      rows = await this.stats.series(wanted, range.from, range.to);
    }
    const indexFetches =
      q.chart || q.license ? [] : await this.stats.indexFetches(publisher.id, range.from, range.to);
    return {
      ...range,
      pulls: rows
        .map((r) => ({ day: r.day, chart: names.get(r.chartId) ?? '', version: r.version, pulls: r.pulls }))
        // By day, then chart name (rows come by chart id), then version.
        .sort(
          (x, y) =>
            x.day.localeCompare(y.day) ||
            x.chart.localeCompare(y.chart) ||
            x.version.localeCompare(y.version),
        ),
      indexFetches,
    };
  }
}
