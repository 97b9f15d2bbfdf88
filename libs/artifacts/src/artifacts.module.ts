import { Global, Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, AppConfig } from '@berth/config';
import { BLOB_STORE, BlobStore, FsBlobStore, loadS3BlobStore } from './blob-store';
import { ChartInspector } from './chart-inspector';

class BlobStoreLifecycle implements OnApplicationShutdown {
  constructor(@Inject(BLOB_STORE) private readonly store: BlobStore) {}
  async onApplicationShutdown(): Promise<void> {
    await (this.store as { close?: () => Promise<void> }).close?.();
  }
}

@Global()
@Module({
  providers: [
    {
      provide: BLOB_STORE,
      inject: [APP_CONFIG],
      useFactory: async (config: AppConfig): Promise<BlobStore> => {
        const c = config.blobStore;
        if (c.driver !== 's3') return new FsBlobStore({ root: c.root });
        const S3BlobStore = await loadS3BlobStore();
        return new S3BlobStore({
          bucket: c.bucket,
          region: c.region,
          endpoint: c.endpoint,
          forcePathStyle: c.forcePathStyle,
          accessKeyId: c.accessKeyId,
          secretAccessKey: c.secretAccessKey,
          prefix: c.prefix,
        });
      },
    },
    ChartInspector,
    BlobStoreLifecycle,
  ],
  exports: [BLOB_STORE, ChartInspector],
})
export class ArtifactsModule {}
