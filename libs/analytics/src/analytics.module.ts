import { Module } from '@nestjs/common';
import { DownloadCounter } from './download-counter';
import { DownloadStats } from './download-stats';

/** Download counting (off the request path) and what the pages read of it. */
@Module({ providers: [DownloadCounter, DownloadStats], exports: [DownloadCounter, DownloadStats] })
export class AnalyticsModule {}
