export { HelmRepoModule } from './helm-repo.module';
export { HelmRepositoryService } from './helm-repository.service';
export type { RenderedIndex, ChartFile, RepoViewer } from './helm-repository.service';
export { HelmRepoErrorCode } from './errors';
export { renderIndex, indexEntry } from './index-renderer';
