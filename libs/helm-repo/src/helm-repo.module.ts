import { Module } from '@nestjs/common';
import { CatalogModule } from '@berth/catalog';
import { LicensingModule } from '@berth/licensing';
import { HelmRepositoryService } from './helm-repository.service';

@Module({
  imports: [CatalogModule, LicensingModule],
  providers: [HelmRepositoryService],
  exports: [HelmRepositoryService],
})
export class HelmRepoModule {}
