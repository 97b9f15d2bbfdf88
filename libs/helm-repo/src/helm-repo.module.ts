import { Module } from '@nestjs/common';
import { CatalogModule } from '@berth/catalog';
import { LicensingModule } from '@berth/licensing';
import { ChartFileCache } from './chart-file-cache';
import { HelmRepositoryService } from './helm-repository.service';
import { IndexFragmentCache } from './index-cache';

@Module({
  imports: [CatalogModule, LicensingModule],
  providers: [HelmRepositoryService, IndexFragmentCache, ChartFileCache],
  exports: [HelmRepositoryService, IndexFragmentCache, ChartFileCache],
})
export class HelmRepoModule {}
