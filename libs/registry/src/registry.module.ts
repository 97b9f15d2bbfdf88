import { Module } from '@nestjs/common';
import { AccountsModule } from '@berth/accounts';
import { CatalogModule } from '@berth/catalog';
import { LicensingModule } from '@berth/licensing';
import { BlobUploads } from './blob-uploads';
import { ChartArtifacts } from './chart-artifacts';
import { RegistryAccess } from './registry-access';
import { PublisherRegistryRemoval } from './publisher-registry-removal';
import { RegistryJanitor } from './registry-janitor';
import { RegistryReadCache } from './read-cache';
import { RegistryReads } from './registry-reads';
import { RegistryWrites } from './registry-writes';
import { ReleaseImages } from './release-images';
import { Repositories } from './repositories';

/** The OCI distribution API's domain: repositories, blobs, manifests, tags, uploads and releases' images. */
@Module({
  imports: [AccountsModule, CatalogModule, LicensingModule],
  providers: [
    RegistryReadCache,
    Repositories,
    BlobUploads,
    ChartArtifacts,
    RegistryAccess,
    RegistryReads,
    RegistryWrites,
    ReleaseImages,
    RegistryJanitor,
    PublisherRegistryRemoval,
  ],
  exports: [
    PublisherRegistryRemoval,
    RegistryAccess,
    RegistryReads,
    RegistryWrites,
    ReleaseImages,
    RegistryJanitor,
  ],
})
export class RegistryModule {}
