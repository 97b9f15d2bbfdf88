export { CatalogModule } from './catalog.module';
export { CATALOG_ENTITIES } from './entities';
export { CatalogErrorCode, CatalogErrors } from './errors';
export { chartFileCandidates } from './chart-file-name';
export { ChartQueryService, byVersionDesc } from './chart-query.service';
export type {
  CatalogAudience,
  ChartFileRef,
  ChartIndexState,
  StoredChartVersion,
  RegistryChartVersion,
  VersionAccessRef,
} from './chart-query.service';
export { ChartUploadService } from './chart-upload.service';
export type { UploadedChartVersion } from './chart-upload.service';
export { ChartYankService } from './chart-yank.service';
export { ListingService, SUPPORTED_CURRENCIES, MINIMUM_CHARGE } from './listing.service';
export type { ListingInput, ListingView, UpdatePolicyKind, PurchasableListing } from './listing.service';
export { OrphanBlobSweeper } from './orphan-blob-sweeper';
export { ProvenanceService } from './provenance.service';
export { MAX_PROVENANCE_BYTES } from './provenance-limits';
export {
  CatalogBrowseService,
  CATALOG_PAGE_SIZE,
  MAX_CATALOG_PAGE,
  searchTerms,
  safeWebUrl,
  safeIconUrl,
} from './catalog-browse.service';
export type {
  CatalogItem,
  CatalogDetail,
  CatalogVersion,
  CatalogSearch,
  PriceFilter,
  VersionDocuments,
} from './catalog-browse.service';
export { CatalogChanges } from './catalog-changes';
export type { CatalogChange } from './catalog-changes';
export { PublisherCatalogRemoval } from './publisher-catalog-removal';
export { PublisherCharts } from './publisher-charts';
export type { PublisherChart, PublisherChartVersion } from './publisher-charts';
export { PublisherQuota } from './stored-bytes';
