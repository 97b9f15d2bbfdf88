import { Module } from '@nestjs/common';
import { CatalogModule } from '@berth/catalog';
import { LicensingModule } from '@berth/licensing';
import { HelmRepositoryService } from './helm-repository.service';
import { IndexFragmentCache } from './index-cache';

@Module({
  imports: [CatalogModule, LicensingModule],
  providers: [HelmRepositoryService, IndexFragmentCache],
  exports: [HelmRepositoryService, IndexFragmentCache],
})
export class HelmRepoModule {}
