import { Module } from '@nestjs/common';
import { CatalogModule } from '@berth/catalog';
import { HelmRepositoryService } from './helm-repository.service';

@Module({
  imports: [CatalogModule],
  providers: [HelmRepositoryService],
  exports: [HelmRepositoryService],
})
export class HelmRepoModule {}
