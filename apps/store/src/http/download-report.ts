import { Injectable } from '@nestjs/common';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { DownloadStats, type DownloadSeriesRow } from '@berth/analytics';
import { ChartQueryService } from '@berth/catalog';
import { LicenseService } from '@berth/licensing';
import { IsISO8601, IsOptional, IsString, IsUUID, MaxLength } from 'class-validator';
import { HttpErrors } from './http-errors';
import { validateDto } from './validate-dto';

const DAY_MS = 86_400_000;
const ordinal = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The longest range one query covers: a year of days. */
export const MAX_REPORT_DAYS = 366;
/** The range when none is asked for: the last 30 days, today included. */
export const DEFAULT_REPORT_DAYS = 30;

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
  @ApiProperty({
    type: [DownloadRowDto],
    description:
      "Pulls of the chart versions' container images per day, chart and version (a manifest GET of the " +
      "digest the version's release resolved; every node that runs a release pulls it).",
  })
  imagePulls: DownloadRowDto[];
}

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/**
 * A query string's filters (a page's GET form) checked by the very rules the API's ValidationPipe
 * applies to DownloadsQueryDto: a refusal is the same `validation_failed`. Empty fields count as absent.
 */
export function downloadsQuery(raw: Record<string, unknown>): Promise<DownloadsQueryDto> {
  const present = Object.fromEntries(
    ['from', 'to', 'chart', 'license']
      .map((k) => [k, raw[k]] as const)
      .filter(([, v]) => v !== undefined && v !== ''),
  );
  return validateDto(DownloadsQueryDto, present);
}

/**
 * Downloads per day, chart and version, and index fetches apart: the API's report and the console's
 * Analytics page are this one function, with the same range rule (`date_range_invalid`).
 */
@Injectable()
export class DownloadReport {
  constructor(
    private readonly stats: DownloadStats,
    private readonly charts: ChartQueryService,
    private readonly licenses: LicenseService,
  ) {}

  async report(publisherId: string, q: DownloadsQueryDto): Promise<DownloadsDto> {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - (DEFAULT_REPORT_DAYS - 1) * DAY_MS);
    const days = Math.floor((to.getTime() - from.getTime()) / DAY_MS) + 1;
    if (days < 1 || days > MAX_REPORT_DAYS) throw HttpErrors.DateRangeInvalid(MAX_REPORT_DAYS);
    const range = { from: isoDay(from), to: isoDay(to) };
    const ids = await this.charts.chartIdsByName(publisherId);
    const names = new Map([...ids].map(([name, id]) => [id, name]));
    let rows;
    let images;
    if (q.license) {
      await this.licenses.requireForPublisher(publisherId, q.license);
      rows = await this.stats.licenseSeries(q.license, range.from, range.to);
      images = await this.stats.imageSeries({ licenseId: q.license }, range.from, range.to);
    } else {
      const wanted = q.chart ? [ids.get(q.chart)].filter((id): id is string => !!id) : [...ids.values()];
      rows = await this.stats.series(wanted, range.from, range.to);
      images = await this.stats.imageSeries({ chartIds: wanted }, range.from, range.to);
    }
    const indexFetches =
      q.chart || q.license ? [] : await this.stats.indexFetches(publisherId, range.from, range.to);
    const named = (list: DownloadSeriesRow[]) =>
      list
        .map((r) => ({ day: r.day, chart: names.get(r.chartId) ?? '', version: r.version, pulls: r.pulls }))
        // By day, then chart name (rows come by chart id), then version; code-point order (localeCompare
        // took most of a year's report: tens of thousands of calls).
        .sort((x, y) => ordinal(x.day, y.day) || ordinal(x.chart, y.chart) || ordinal(x.version, y.version));
    return { ...range, pulls: named(rows), indexFetches, imagePulls: named(images) };
  }

  /** The chart names of the publisher, for a filter's choices. */
  async chartNames(publisherId: string): Promise<string[]> {
    return [...(await this.charts.chartIdsByName(publisherId)).keys()];
  }
}
