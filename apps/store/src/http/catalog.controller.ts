import { Controller, Get, Inject, Param, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { PublisherAccessService } from '@berth/accounts';
import { CATALOG_PAGE_SIZE, CatalogBrowseService, CatalogItem, CatalogErrors } from '@berth/catalog';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { ErrorResponseDto } from './common.dto';
import { CatalogDetailDto, CatalogItemDto, CatalogPageDto, CatalogQueryDto } from './commerce.dto';

@ApiTags('catalog')
@Controller('v1/catalog')
export class CatalogController {
  constructor(
    private readonly browse: CatalogBrowseService,
    private readonly publishers: PublisherAccessService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private toDto(item: CatalogItem, slug: string): CatalogItemDto {
    return {
      publisher: slug,
      name: item.name,
      description: item.description,
      icon: item.icon,
      keywords: item.keywords,
      price: item.price,
      updatePolicy: item.updatePolicy,
      latestVersion: item.latestVersion,
      appVersion: item.appVersion,
      repoUrl: `${this.config.publicUrl}/helm/${slug}`,
    };
  }

  @Get()
  @ApiOperation({ summary: 'Published charts, free and paid, 20 a page' })
  @ApiResponse({ status: 200, type: CatalogPageDto })
  async search(@Query() query: CatalogQueryDto): Promise<CatalogPageDto> {
    const page = query.page ?? 1;
    let publisherId: string | undefined;
    if (query.publisher) {
      const p = await this.publishers.findBySlug(query.publisher);
      if (!p) return { items: [], page, pageSize: CATALOG_PAGE_SIZE, total: 0 };
      publisherId = p.id;
    }
    const { items, total } = await this.browse.search({
      q: query.q,
      publisherIds: publisherId ? [publisherId] : undefined,
      page,
    });
    const slugs = await this.publishers.findByIds(items.map((i) => i.publisherId));
    return {
      items: items.map((i) => this.toDto(i, slugs.get(i.publisherId)?.slug ?? '')),
      page,
      pageSize: CATALOG_PAGE_SIZE,
      total,
    };
  }

  @Get(':slug/:chart')
  @ApiOperation({ summary: 'One published chart with its versions and README' })
  @ApiResponse({ status: 200, type: CatalogDetailDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'chart_not_found' })
  async detail(@Param('slug') slug: string, @Param('chart') chart: string): Promise<CatalogDetailDto> {
    const missing = CatalogErrors.ChartNotFound('No such chart in the catalog.');
    const p = await this.publishers.findBySlug(slug);
    if (!p) throw missing;
    const d = await this.browse.detail(p.id, chart);
    if (!d) throw missing;
    return {
      ...this.toDto(d, slug),
      versions: d.versions.map((v) => ({
        version: v.version,
        appVersion: v.appVersion,
        created: v.created.toISOString(),
        digest: v.digest,
      })),
      readme: d.readme,
    };
  }
}
