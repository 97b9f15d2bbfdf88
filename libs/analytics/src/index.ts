export { AnalyticsModule } from './analytics.module';
export { DownloadCounter, DOWNLOAD_FLUSH_MS, NO_LICENSE } from './download-counter';
export type { Downloader, IndexAudience } from './download-counter';
export { DownloadStats } from './download-stats';
export type { ChartDownloads, DownloadSeriesRow, IndexFetchRow, LicenseDownloads } from './download-stats';
export { ANALYTICS_ENTITIES, ChartDownloadDailyEntity } from './entities';
