export { HelmRepoModule } from './helm-repo.module';
export { HelmRepositoryService } from './helm-repository.service';
export type { ChartFile, RepoViewer } from './helm-repository.service';
export type { IndexBody } from './index-cache';
export { HelmRepoErrorCode, HelmRepoErrors } from './errors';
export { indexEntry } from './index-renderer';
export { IndexFragmentCache } from './index-cache';
export { ChartFileCache } from './chart-file-cache';
