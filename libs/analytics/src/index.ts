export { AnalyticsModule } from './analytics.module';
export { DownloadCounter, DOWNLOAD_FLUSH_MS } from './download-counter';
export { DownloadStats } from './download-stats';
export type { ChartDownloads } from './download-stats';
export { ANALYTICS_ENTITIES, ChartDownloadDailyEntity } from './entities';
