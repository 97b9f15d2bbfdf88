import { PublisherCharts } from './publisher-charts';
import { Module } from '@nestjs/common';
import { CatalogBrowseService } from './catalog-browse.service';
import { CatalogChanges } from './catalog-changes';
import { ChartQueryService } from './chart-query.service';
import { ChartUploadService } from './chart-upload.service';
import { ChartYankService } from './chart-yank.service';
import { ListingService } from './listing.service';
import { OrphanBlobSweeper } from './orphan-blob-sweeper';
import { ProvenanceService } from './provenance.service';
import { PublisherCatalogRemoval } from './publisher-catalog-removal';
import { PublisherQuota } from './stored-bytes';

@Module({
  providers: [
    PublisherCharts,
    CatalogBrowseService,
    CatalogChanges,
    ChartQueryService,
    ChartUploadService,
    ChartYankService,
    ListingService,
    OrphanBlobSweeper,
    ProvenanceService,
    PublisherCatalogRemoval,
    PublisherQuota,
  ],
  exports: [
    PublisherCharts,
    CatalogBrowseService,
    CatalogChanges,
    ChartQueryService,
    ChartUploadService,
    ChartYankService,
    ListingService,
    OrphanBlobSweeper,
    ProvenanceService,
    PublisherCatalogRemoval,
    PublisherQuota,
  ],
})
export class CatalogModule {}
