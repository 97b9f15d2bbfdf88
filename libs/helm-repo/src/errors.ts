export enum HelmRepoErrorCode {
  RepositoryNotFound = 'repository_not_found',
  ChartFileNotFound = 'chart_file_not_found',
  RepositoryCredentialsInvalid = 'repository_credentials_invalid',
  LicenseRequired = 'license_required',
  LicenseInactive = 'license_inactive',
}
